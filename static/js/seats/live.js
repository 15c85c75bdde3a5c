// The live seat map over the WebSocket (docs/websocket.md): a snapshot first, then deltas whose seq grows by
// exactly one. A gap asks for a snapshot; a dropped connection comes back by itself (backoff with
// jitter) and sends `resume` with the last seq it applied, so the page catches up without a reload.
// A deleted round says so (`round_deleted`, then close 4404): the page stops for good.
//
// Events: "status" (detail: "connecting" | "live" | "reconnecting" | "gone"), "snapshot", "delta".
import { t } from "../i18n.js";
import { retryDelay, socketUrl } from "../sockets.js";

const COMMAND_WAIT_MS = 5000;     // a hold asked for while (re)connecting waits this long for the socket

export class LiveRound extends EventTarget {
  constructor(roundId, store, { token = null } = {}) {
    super();
    this.roundId = roundId;
    this.store = store;
    this.token = token;
    this.seq = null;              // the last seq applied; null before the first snapshot
    this.awaitingSnapshot = false;
    this.status = "connecting";
    this.nextReq = 1;
    this.pending = new Map();     // req → {resolve}
    this.retries = 0;
    this.closed = false;
    this.onOnline = () => this.#reconnectNow();
    window.addEventListener("online", this.onOnline);
  }

  connect() {
    const socket = new WebSocket(socketUrl(`/ws/rounds/${this.roundId}`, this.token));
    this.socket = socket;
    socket.onopen = () => {
      this.retries = 0;
      // Where we left off: deltas after it if the server still has them (else it sends a snapshot).
      if (this.seq !== null) this.#send({ type: "resume", seq: this.seq });
    };
    socket.onmessage = (e) => this.#receive(JSON.parse(e.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.#failPending();
      if (!this.closed) this.#scheduleReconnect();
    };
  }

  /** Sign in or out: the server tells each socket its own holds, so open a new one. */
  setToken(token) {
    if (token === this.token) return;
    this.token = token;
    this.#reconnectNow();
  }

  hold(seatIds) { return this.#command("hold", seatIds); }
  release(seatIds) { return this.#command("release", seatIds); }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.onOnline);
    this.socket?.close(1000);
    this.#failPending();
  }

  async #command(type, seatIds) {
    if (!(await this.#whenLive(COMMAND_WAIT_MS))) {
      return { ok: false, error: { code: "offline", message: t("map.error.reconnecting") } };
    }
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.pending.set(req, { resolve });
      this.#send({ type, req, seat_ids: seatIds });
    });
  }

  /** True once the socket is open and has its snapshot (at once if it is); false after `ms`. */
  #whenLive(ms) {
    if (this.status === "live" && this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok) => { clearTimeout(timer); this.removeEventListener("status", onStatus); resolve(ok); };
      const onStatus = (e) => { if (e.detail === "live") done(true); };
      const timer = setTimeout(() => done(false), ms);
      this.addEventListener("status", onStatus);
    });
  }

  #receive(frame) {
    switch (frame.type) {
      case "snapshot":
        this.store.applySnapshot(frame.seats);
        this.seq = frame.seq;
        this.awaitingSnapshot = false;
        this.#setStatus("live");
        this.dispatchEvent(new CustomEvent("snapshot", { detail: frame }));
        break;
      case "delta":
        if (this.seq === null || this.awaitingSnapshot || frame.seq <= this.seq) return;   // old news
        if (frame.seq !== this.seq + 1) {           // we missed some: start again from a snapshot
          this.awaitingSnapshot = true;
          this.#send({ type: "snapshot" });
          return;
        }
        this.seq = frame.seq;
        this.dispatchEvent(new CustomEvent("delta", { detail: this.store.apply(frame.changes) }));
        break;
      case "hold_result": {
        const waiting = this.pending.get(frame.req);
        this.pending.delete(frame.req);
        waiting?.resolve(frame);
        break;
      }
      case "round_deleted":
        this.close();
        this.#setStatus("gone");
        break;
      case "error":
        console.warn("seat map:", frame.error);
        break;
      default:
    }
  }

  #send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  #failPending() {
    for (const { resolve } of this.pending.values()) {
      resolve({ ok: false, error: { code: "offline", message: t("map.error.dropped") } });
    }
    this.pending.clear();
  }

  #scheduleReconnect() {
    this.#setStatus("reconnecting");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), retryDelay(this.retries++));
  }

  #reconnectNow() {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    const old = this.socket;
    this.socket = null;
    old?.close(1000);
    this.#failPending();
    this.retries = 0;
    this.#setStatus("connecting");
    this.connect();
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }
}
