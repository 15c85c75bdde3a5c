// Seat watch ("빈자리 알림" / "Notify me"): be told when a seat that is taken now becomes free
// (docs/API.md "Seat watch"). The server keeps the watches and sends `seat.available` over SSE, which
// notifications.js shows as a toast and passes on as the document's "ticketblue:event"; this keeps the
// page's idea of what is watched in step, so the map can show its bells.
import { del, get, post } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { session } from "../session.js";

export class SeatWatches extends EventTarget {
  constructor(roundId) {
    super();
    this.roundId = roundId;
    this.watches = [];
    this.stopButton = h("button", { type: "button", class: "link", onclick: () => this.stopAll() }, t("map.watch.stopAll"));
    this.summary = h("span");
    this.element = h("p", { class: "watch-bar", hidden: true }, this.summary, " ", this.stopButton);
    this.onEvent = (e) => {
      if (e.detail?.event === "seat.available" && e.detail.data?.round_id === roundId) this.load();
    };
    document.addEventListener("ticketblue:event", this.onEvent);
  }

  /** The seats watched (seat ids; watches of a whole grade have none). */
  get seatIds() { return this.watches.map((w) => w.seat_id).filter((id) => id !== null); }

  has(seatId) { return this.watches.some((w) => w.seat_id === seatId); }

  /** Your watches in this round, as the server has them (none when signed out). */
  async load() {
    if (!session.signedIn) return this.#set([]);
    try {
      this.#set(await get(`/api/rounds/${this.roundId}/watches`));
    } catch {
      /* the bells stay as they were; the next load tries again */
    }
    return undefined;
  }

  /** Watch this seat; refusals (the cap, ...) throw an ApiError. */
  async watch(seatId) {
    this.#set(await post(`/api/rounds/${this.roundId}/watches`, { seat_ids: [seatId] }));
  }

  /** End every watch of this round (the API ends them all at once). */
  async stopAll() {
    await del(`/api/rounds/${this.roundId}/watches`);
    this.#set([]);
  }

  stop() { document.removeEventListener("ticketblue:event", this.onEvent); }

  #set(watches) {
    this.watches = watches;
    this.element.hidden = watches.length === 0;
    this.summary.textContent = t("map.watch.summary", { count: watches.length });
    this.dispatchEvent(new Event("change"));
  }
}
