/**
 * Minting and revoking read tokens the way the dashboard does: log in, open
 * `/settings/tokens`, post its form with the CSRF token.
 *
 * @module
 */

import { fetchWhole } from "./client.ts";
import { ADMIN, login } from "./login.ts";
import type { ReadTokenScope } from "../../lib/auth/read_tokens.ts";

/** A minted token and its id (for revoking). */
export interface Minted {
  token: string;
  id: string;
  cookie: string;
}

/** The CSRF token of the tokens page for `cookie`. */
export async function tokensCsrf(url: string, cookie: string): Promise<string> {
  const page = await fetchWhole(`${url}/settings/tokens`, { headers: { cookie } });
  if (page.status !== 200) throw new Error(`tokens page: ${page.status}`);
  return (await page.text()).match(/name="csrf" value="([^"]+)"/)![1];
}

/** Logs in with the admin token and mints a token. */
export async function mintToken(
  url: string,
  options: { name?: string; scope?: ReadTokenScope; days?: number } = {},
): Promise<Minted> {
  const { cookie } = await login(url, ADMIN);
  const csrf = await tokensCsrf(url, cookie!);
  const res = await fetchWhole(`${url}/settings/tokens`, {
    method: "POST",
    headers: { cookie: cookie! },
    body: new URLSearchParams({
      csrf,
      name: options.name ?? "test",
      scope: options.scope ?? "read",
      days: String(options.days ?? 30),
    }),
  });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`mint: ${res.status} ${html.slice(0, 300)}`);
  const token = html.match(/<code class="key">(rpt_[^<]+)<\/code>/)![1];
  const id = html.match(/data-token-id="([a-z0-9]+)"/)![1]; // newest first: this one
  return { token, id, cookie: cookie! };
}

/** Revokes a token through the page. */
export async function revokeToken(url: string, minted: Minted): Promise<Response> {
  const csrf = await tokensCsrf(url, minted.cookie);
  return await fetchWhole(`${url}/settings/tokens/${minted.id}/revoke`, {
    method: "POST",
    headers: { cookie: minted.cookie },
    body: new URLSearchParams({ csrf }),
    redirect: "manual",
  });
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Polls `check` until it holds (another process applies what it follows within one delivery). */
export async function eventually(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
