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
  styles?: string[];
  /** Shows the logout button (with its CSRF token) when login is on. */
  logout?: { csrf: string };
  active?: "sessions" | "live" | "setup";
  children: ComponentChildren;
}

/** Wraps a page. */
export function Layout({ title, scripts = [], styles = [], logout, active, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · RePlaya`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        {styles.map((href) => <link key={href} rel="stylesheet" href={href} />)}
        {scripts.map((src) => <script key={src} type="module" src={src} />)}
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
          </nav>
          {logout && (
            <form method="post" action="/logout" class="logout">
              <input type="hidden" name="csrf" value={logout.csrf} />
              <button type="submit" class="link">Log out</button>
            </form>
          )}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
