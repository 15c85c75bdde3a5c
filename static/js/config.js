// The server's public settings (GET /api/config), fetched once.
let loaded;

export function config() {
  loaded ??= fetch("/api/config").then((r) => r.json()).catch(() => ({
    payments: "sandbox", toss_client_key: null, hold_seconds: 300, max_seats_per_user: 8,
    payment_window_seconds: 600, timezone: "Asia/Seoul",
  }));
  return loaded;
}
