/**
 * The setup page's interactive parts: the snippet builder (the common `init`
 * options; the snippet updates as they change), a copy button (the Clipboard
 * API, or a selection to copy by hand where it is not available), and a check
 * that waits for the first session over the index feed
 * (`/api/sessions/feed`, SSE) and says when one arrives.
 *
 * @module
 */

import { useEffect, useRef, useState } from "preact/hooks";
import { scriptTagSnippet, snippet, type SnippetInitOptions } from "@replaya/recorder/snippet";
import { relativeTime, shortUrl } from "../components/format.ts";

/** A session, as the check shows it. */
export interface SessionSeen {
  id: string;
  createdAt: number;
  url: string;
}

/** Props of {@link Setup}. */
export interface SetupProps {
  /** This server's URL, as the browser reached it. */
  endpoint: string;
  projectKey: string;
  /** The newest session when the page was rendered, if any. */
  latest?: SessionSeen;
  /** Offer the development server's test page (`/setup/test`). */
  testPage?: boolean;
}

/** The builder's choices. */
export interface SnippetChoices {
  captureConsole: boolean;
  captureNetwork: boolean;
  requireConsent: boolean;
  /** Percent of visitors' tabs recorded, 1–100. */
  samplePercent: number;
  /** The loader with an inline `init` call, or the script tag alone with data attributes (for a strict CSP). */
  form: "inline" | "tag";
}

/** The defaults: what a snippet without options does. */
export const DEFAULT_CHOICES: SnippetChoices = {
  captureConsole: false,
  captureNetwork: false,
  requireConsent: false,
  samplePercent: 100,
  form: "inline",
};

/** The `init` options for the choices: only those that differ from the recorder's defaults. */
export function initOptions(choices: SnippetChoices): SnippetInitOptions {
  // Empty (0, NaN) means every visit; anything above 0 records at least 1 %.
  const asked = choices.samplePercent > 0 ? choices.samplePercent : 100;
  const percent = Math.min(100, Math.max(1, Math.round(asked)));
  return {
    captureConsole: choices.captureConsole || undefined,
    captureNetwork: choices.captureNetwork || undefined,
    requireConsent: choices.requireConsent || undefined,
    sampleRate: percent < 100 ? percent / 100 : undefined,
  };
}

/** The snippet builder, the copy button and the first-session check. */
export default function Setup({ endpoint, projectKey, latest, testPage = false }: SetupProps) {
  const [choices, setChoices] = useState<SnippetChoices>(DEFAULT_CHOICES);
  const [copied, setCopied] = useState<"no" | "yes" | "select">("no");
  const [received, setReceived] = useState<SessionSeen | undefined>(latest);
  const [listening, setListening] = useState(false);
  const [now, setNow] = useState<number | undefined>(undefined);
  const code = useRef<HTMLElement>(null);
  const text = choices.form === "tag"
    ? scriptTagSnippet({ endpoint, projectKey, init: initOptions(choices) })
    : snippet({ endpoint, projectKey, init: initOptions(choices), multiline: true });

  useEffect(() => {
    const source = new EventSource("/api/sessions/feed");
    source.onopen = () => setListening(true);
    source.onerror = () => setListening(false);
    source.addEventListener("session", (event) => {
      try {
        const start = JSON.parse((event as MessageEvent).data) as SessionSeen;
        if (typeof start.id === "string") setReceived({ id: start.id, createdAt: start.createdAt, url: start.url });
      } catch {
        // a malformed entry is skipped
      }
    });
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, 30_000);
    return () => (source.close(), clearInterval(timer));
  }, []);

  const choose = (patch: Partial<SnippetChoices>) => {
    setChoices({ ...choices, ...patch });
    setCopied("no");
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied("yes");
    } catch {
      // No Clipboard API (a page served over plain HTTP to another host is not a secure context): select it instead.
      if (code.current) getSelection()?.selectAllChildren(code.current);
      setCopied("select");
    }
  };

  return (
    <>
      <section class="setup-step" data-testid="snippet-builder">
        <h2>1. Add the snippet to your site</h2>
        <p>
          Paste it into every page you want to record, just before{" "}
          <code>&lt;/head&gt;</code>. It loads the recorder from this server, asynchronously.
        </p>
        <fieldset class="snippet-options">
          <legend>Options</legend>
          <label>
            <input
              type="checkbox"
              name="captureConsole"
              checked={choices.captureConsole}
              onChange={(e) => choose({ captureConsole: e.currentTarget.checked })}
            />{" "}
            Console messages
          </label>
          <label>
            <input
              type="checkbox"
              name="captureNetwork"
              checked={choices.captureNetwork}
              onChange={(e) => choose({ captureNetwork: e.currentTarget.checked })}
            />{" "}
            Network requests <span class="muted">(method, URL without query, status, duration)</span>
          </label>
          <label>
            <input
              type="checkbox"
              name="requireConsent"
              checked={choices.requireConsent}
              onChange={(e) => choose({ requireConsent: e.currentTarget.checked })}
            />{" "}
            Wait for consent
          </label>
          <label class="sample">
            Record{" "}
            <input
              type="number"
              name="samplePercent"
              min={1}
              max={100}
              step={1}
              value={choices.samplePercent}
              onInput={(e) => choose({ samplePercent: Number(e.currentTarget.value) })}
            />{" "}
            % of visits
          </label>
          <label title="For sites whose Content-Security-Policy allows no inline script">
            <input
              type="checkbox"
              name="scriptTagOnly"
              checked={choices.form === "tag"}
              onChange={(e) => choose({ form: e.currentTarget.checked ? "tag" : "inline" })}
            />{" "}
            Script tag only <span class="muted">(strict CSP: options as data attributes, no inline script)</span>
          </label>
        </fieldset>
        <div class="snippet-box">
          <pre class="snippet" data-testid="snippet"><code ref={code}>{text}</code></pre>
          <button
            type="button"
            class="copy"
            data-testid="copy-snippet"
            data-copied={copied}
            onClick={copy}
          >
            {copied === "yes" ? "Copied ✓" : "Copy"}
          </button>
        </div>
        {copied === "select" && (
          <p class="muted" role="status">
            The browser does not allow copying here: the snippet is selected, press Ctrl+C.
          </p>
        )}
        {choices.requireConsent && (
          <p class="hint">
            Nothing is recorded until your consent banner calls <code>replaya("consent", true)</code>.
          </p>
        )}
      </section>
      <section class="setup-step" data-testid="first-session" data-state={received ? "received" : "waiting"}>
        <h2>2. Open your site</h2>
        {received
          ? (
            <p class="received" role="status">
              <span class="check" aria-hidden="true">✓</span> Received a session from{" "}
              <span class="url" title={received.url}>{shortUrl(received.url)}</span>, started{" "}
              <time title={new Date(received.createdAt).toISOString()}>
                {now === undefined ? new Date(received.createdAt).toISOString() : relativeTime(received.createdAt, now)}
              </time>. <a href={`/sessions/${received.id}`} data-testid="received-session">Watch it</a> or{" "}
              <a href="/">see every session</a>.
            </p>
          )
          : (
            <p class="waiting" role="status" data-listening={String(listening)}>
              <span class="spinner" aria-hidden="true" />{" "}
              Waiting for your first session… it appears here as soon as a page with the snippet is opened.
            </p>
          )}
        {testPage && (
          <p>
            No site at hand? <a href="/setup/test" target="_blank" data-testid="test-page-link">Open a test page</a>
            {" "}
            that records a session into this server.
          </p>
        )}
      </section>
    </>
  );
}
