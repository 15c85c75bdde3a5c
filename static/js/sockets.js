// What the page's WebSockets share: where they connect, and how long to wait before trying again.
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10000;

/** ws(s)://this-host/path, with the token in the query (browsers cannot set headers on a WebSocket). */
export function socketUrl(path, token) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}

/** The wait before reconnect number `retries` (0, 1, ...): doubling up to a ceiling, with jitter, so that
 * after a server restart thousands of pages do not all come back at once. */
export function retryDelay(retries) {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retries);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
