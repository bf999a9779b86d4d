/**
 * URL privacy: query strings and fragments often carry tokens, e-mails or
 * reset links, so they are removed unless the site opts in.
 * @module
 */

/** Which URL parts may be kept. */
export interface UrlPolicy {
  /** Keep `?query`. */
  query: boolean;
  /** Keep `#fragment`. */
  hash: boolean;
}

/**
 * Removes the query and/or fragment of `url` according to `policy`.
 * String-based on purpose: works on relative URLs and never throws.
 */
export function stripUrl(url: string, policy: UrlPolicy): string {
  if (typeof url !== "string") return "";
  let out = url;
  const hashAt = out.indexOf("#");
  let hash = "";
  if (hashAt >= 0) {
    hash = out.slice(hashAt);
    out = out.slice(0, hashAt);
  }
  if (!policy.query) {
    const queryAt = out.indexOf("?");
    if (queryAt >= 0) out = out.slice(0, queryAt);
  }
  return policy.hash ? out + hash : out;
}

// An absolute URL, then an optional query/fragment that stops before a
// stack-frame ":line:col" suffix, whitespace, quotes or brackets.
const URL_IN_TEXT = /\b(https?:\/\/[^\s?#()'"<>]+)([?#][^\s()'"<>]*?)?(?=:\d+(?::\d+)?(?:[\s)'"<>]|$)|[\s()'"<>]|$)/g;

/**
 * Strips queries/fragments from every http(s) URL inside free text such as
 * error messages and stack traces (`https://x/app.js?v=1:10:5` keeps `:10:5`).
 */
export function stripUrlsInText(text: string, policy: UrlPolicy): string {
  if (policy.query && policy.hash) return text;
  return text.replace(
    URL_IN_TEXT,
    (_m, base: string, rest: string | undefined) => rest ? stripUrl(base + rest, policy) : base,
  );
}
