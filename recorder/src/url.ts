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

/** A node of an rrweb snapshot, as far as attribute scrubbing needs. */
interface SnapshotNode {
  attributes?: Record<string, unknown>;
  childNodes?: SnapshotNode[];
}

/**
 * rrweb writes links as absolute URLs, so a relative `href="#"` or `href=""`
 * on a page opened with `?token=…` would carry the page's own query into the
 * recording. This rewrites every attribute value that starts with the page's
 * URL-with-query (snapshots and mutations), leaving other links alone.
 * Returns the event unchanged when there is nothing to strip.
 */
export function scrubPageUrl<E extends { type: number; data?: unknown }>(
  event: E,
  pageUrl: string,
  policy: UrlPolicy,
): E {
  const hashAt = pageUrl.indexOf("#");
  const withQuery = hashAt >= 0 ? pageUrl.slice(0, hashAt) : pageUrl;
  const queryAt = withQuery.indexOf("?");
  const prefix = !policy.query && queryAt >= 0 ? withQuery : !policy.hash && hashAt >= 0 ? withQuery + "#" : undefined;
  if (prefix === undefined) return event;
  const fix = (attributes: Record<string, unknown> | undefined) => {
    if (!attributes) return;
    for (const [name, value] of Object.entries(attributes)) {
      if (typeof value === "string" && value.startsWith(prefix)) attributes[name] = stripUrl(value, policy);
    }
  };
  const walk = (node: SnapshotNode | undefined) => {
    if (!node) return;
    fix(node.attributes);
    node.childNodes?.forEach(walk);
  };
  const data = event.data as {
    node?: SnapshotNode;
    source?: number;
    adds?: Array<{ node?: SnapshotNode }>;
    attributes?: Array<{ attributes?: Record<string, unknown> }>;
  } | undefined;
  if (event.type === 2) walk(data?.node); // full snapshot
  if (event.type === 3 && data?.source === 0) { // mutation
    data.adds?.forEach((add) => walk(add.node));
    data.attributes?.forEach((change) => fix(change.attributes));
  }
  return event;
}
