/**
 * The console's API token. `anneal demo` and `anneal serve` print a console link that carries the
 * token in the URL's fragment (#/pipelines/…?token=anl_…), which the browser never sends to a
 * server; it is moved to localStorage and taken out of the address. Otherwise the login form asks.
 */
const KEY = "anneal.token";
const IN_HASH = /([?&])token=(anl_[0-9A-Za-z]{38})&?/;

export function takeTokenFromUrl(): void {
  const m = window.location.hash.match(IN_HASH);
  if (!m) return;
  localStorage.setItem(KEY, m[2]);
  const rest = window.location.hash.replace(IN_HASH, "$1").replace(/[?&]$/, "");
  window.history.replaceState(null, "", window.location.pathname + (rest || "#/"));
}

export function token(): string | null {
  return localStorage.getItem(KEY);
}

export function setToken(t: string): void {
  localStorage.setItem(KEY, t.trim());
}

export function logout(): void {
  localStorage.removeItem(KEY);
}

/** The same shape check as the server's (prefix and length); the server checks the rest. */
export function looksLikeToken(t: string): boolean {
  return /^anl_[0-9A-Za-z]{38}$/.test(t.trim());
}
