/**
 * The dashboard's login form and logout, as a browser posts them, for tests
 * of read-side access control.
 *
 * @module
 */

/** The admin token test servers with a login are started with. */
export const ADMIN = "admin-token-0123456789";

/** What a login attempt answered. */
export interface LoginResult {
  status: number;
  /** `name=value` of the session cookie, when one was set. */
  cookie?: string;
  /** The whole Set-Cookie header. */
  setCookie?: string;
  location?: string;
  retryAfter?: string;
}

/** Posts the login form. */
export async function login(url: string, token = ADMIN, next = "/sessions/x"): Promise<LoginResult> {
  const res = await fetch(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ token, next }),
    redirect: "manual",
  });
  await res.body?.cancel();
  const setCookie = res.headers.get("set-cookie") ?? undefined;
  return {
    status: res.status,
    cookie: setCookie?.split(";")[0],
    setCookie,
    location: res.headers.get("location") ?? undefined,
    retryAfter: res.headers.get("retry-after") ?? undefined,
  };
}

/** Posts the logout form with a cookie and its CSRF token. */
export async function logout(url: string, cookie: string, csrf: string): Promise<Response> {
  const res = await fetch(`${url}/logout`, {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams({ csrf }),
    redirect: "manual",
  });
  await res.body?.cancel();
  return res;
}
