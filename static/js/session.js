// Who is signed in: the access token (kept in localStorage) and the profile it belongs to.
import { api } from "./api.js";
const KEY = "ticketblue.session";

class Session extends EventTarget {
  constructor() {
    super();
    this.token = null;
    this.user = null;
    this.expiresAt = 0;
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "null");
      if (saved && saved.expiresAt > Date.now()) Object.assign(this, saved);
    } catch { /* a damaged entry is the same as none */ }
  }

  get signedIn() { return Boolean(this.token); }
  get isAdmin() { return this.user?.role === "admin"; }
  /** Staff and admins check tickets in at the door (POST /api/tickets/check-in). */
  get canCheckIn() { return ["staff", "admin"].includes(this.user?.role); }

  async login(email, password) {
    const token = await api("POST", "/api/auth/login", { email, password });
    this.token = token.access_token;
    this.expiresAt = Date.now() + token.expires_in * 1000;
    this.user = await api("GET", "/api/users/me");
    this.#save();
  }

  /** In `language` (what the server's mail and notifications speak); with `adminKey` (the admin
   * page), an admin account. */
  async signup(name, email, password, { adminKey = null, language } = {}) {
    if (adminKey) await api("POST", "/api/auth/signup/admin", { name, email, password, language, admin_key: adminKey });
    else await api("POST", "/api/auth/signup", { name, email, password, language });
    await this.login(email, password);
  }

  logout() {
    this.token = null;
    this.user = null;
    this.expiresAt = 0;
    this.#save();
  }

  /** The server said 401 to our token: it expired or was revoked. */
  expired() {
    if (this.token) this.logout();
  }

  #save() {
    if (this.token) localStorage.setItem(KEY, JSON.stringify({ token: this.token, user: this.user, expiresAt: this.expiresAt }));
    else localStorage.removeItem(KEY);
    this.dispatchEvent(new Event("change"));
  }
}

export const session = new Session();
