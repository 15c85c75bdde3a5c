// A user's live place in a round's waiting room (docs/websocket.md "The waiting room"). The queue socket
// pushes it; while the socket is down the page asks for it every few seconds instead (a look is a sign of
// life too, so the place is kept), and the socket comes back by itself. A deleted round stops it for good.
//
// Events: "place" (detail: the place as GET /api/rounds/{id}/queue answers it),
//         "status" (detail: "connecting" | "live" | "reconnecting" | "gone").
import { get } from "../api.js";
import { retryDelay, socketUrl } from "../sockets.js";

const POLL_MS = 2000;
const ROUND_DELETED = 4404;

export class LivePlace extends EventTarget {
  constructor(roundId, token) {
    super();
    this.roundId = roundId;
    this.token = token;
    this.status = "connecting";
    this.retries = 0;
    this.closed = false;
    this.onOnline = () => { clearTimeout(this.retryTimer); this.#connect(); };
  }

  start() {
    window.addEventListener("online", this.onOnline);
    this.#connect();
  }

  stop() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.#stopPolling();
    window.removeEventListener("online", this.onOnline);
    this.socket?.close(1000);
  }

  #connect() {
    if (this.closed) return;
    this.socket?.close(1000);
    const socket = new WebSocket(socketUrl(`/ws/rounds/${this.roundId}/queue`, this.token));
    this.socket = socket;
    socket.onopen = () => {
      this.retries = 0;
      this.#stopPolling();
      this.#setStatus("live");
    };
    socket.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      if (frame.type === "queue") this.#tell(frame);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket || this.closed) return;
      if (e.code === ROUND_DELETED) { this.#gone(); return; }
      this.#setStatus("reconnecting");
      this.#startPolling();
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.#connect(), retryDelay(this.retries++));
    };
  }

  #startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => this.#poll(), POLL_MS);
    this.#poll();
  }

  #stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async #poll() {
    try {
      const place = await get(`/api/rounds/${this.roundId}/queue`);
      if (this.status !== "live" && !this.closed) this.#tell(place);    // the socket's frames are newer
    } catch (err) {
      if (err.status === 404) this.#gone();
    }
  }

  #gone() {
    this.stop();
    this.#setStatus("gone");
  }

  #tell(place) { this.dispatchEvent(new CustomEvent("place", { detail: place })); }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }
}
