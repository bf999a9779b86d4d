/**
 * The page shell: head (styles, island bundles), navigation, main content.
 *
 * @module
 */

import type { ComponentChildren } from "preact";

/** Props of {@link Layout}. */
export interface LayoutProps {
  title: string;
  /** Entry bundles of the islands on this page (from the build manifest). */
  scripts?: string[];
  /** The chunks those bundles import (from the build manifest), fetched together with them. */
  preload?: string[];
  /** Scripts the page runs early (an island's companion, placed in the body): fetched first of all. */
  early?: string[];
  styles?: string[];
  /** Shows the logout button (with its CSRF token) when login is on. */
  logout?: { csrf: string };
  active?: "sessions" | "live" | "setup" | "tokens";
  /**
   * The island bundles are still being built (a development server's first
   * start) or failed to build: the page works without its islands, says so,
   * and while building reloads itself every 2 s (a meta refresh, not a script).
   */
  bundles?: "building" | "failed";
  children: ComponentChildren;
}

/** Wraps a page. */
export function Layout(
  { title, scripts = [], preload = [], early = [], styles = [], logout, active, bundles, children }: LayoutProps,
) {
  const waiting = bundles && scripts.length > 0 ? bundles : undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · RePlaya`}</title>
        {early.map((href) => <link key={href} rel="preload" as="script" href={href} />)}
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        {styles.map((href) => <link key={href} rel="stylesheet" href={href} />)}
        {scripts.filter((src) => src).map((src) => <script key={src} type="module" src={src} />)}
        {preload.map((href) => <link key={href} rel="modulepreload" href={href} />)}
        {waiting === "building" && <meta http-equiv="refresh" content="2" />}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            <span class="logo" aria-hidden="true">▶</span> RePlaya
          </a>
          <nav>
            <a href="/" aria-current={active === "sessions" ? "page" : undefined}>Sessions</a>
            <a href="/live" aria-current={active === "live" ? "page" : undefined}>Live</a>
            <a href="/setup" aria-current={active === "setup" ? "page" : undefined}>Setup</a>
            <a href="/settings/tokens" aria-current={active === "tokens" ? "page" : undefined}>Tokens</a>
          </nav>
          {logout && (
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="csrf" value={logout.csrf} />
              <button type="submit" class="link">Log out</button>
            </form>
          )}
        </header>
        <main>
          {waiting && (
            <p class="notice" data-testid="bundles-pending" data-state={waiting}>
              {waiting === "building"
                ? "Building the browser bundles (first start)… live updates and the player appear when they are " +
                  "ready; this page reloads by itself."
                : "The browser bundles failed to build (see the server log): live updates and the player are off."}
            </p>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
