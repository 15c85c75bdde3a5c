// Tells screen-reader users, politely and in few words, how the map changes while they look at it:
// what happened to their own seats at once, everyone else's changes summed up every few seconds.
import { t } from "../i18n.js";
import { announce } from "../toast.js";
import { seatPlace } from "./names.js";

const SUMMARY_EVERY_MS = 4000;

export class ChangeAnnouncer {
  constructor(store) {
    this.store = store;
    this.taken = 0;
    this.freed = 0;
    this.timer = null;
  }

  /** changes: [{seat, from, to}] from a delta. focusedId: the seat the user is on, if any. */
  changed(changes, focusedId) {
    for (const { seat, from, to } of changes) {
      if (seat.id === focusedId && from !== "mine" && to !== "mine") {
        announce(t(to === "available" ? "map.say.nowAvailable" : "map.say.nowTaken", { place: seatPlace(seat) }));
        continue;
      }
      if (from === "available" && to !== "mine") this.taken += 1;
      else if (to === "available" && from !== "mine") this.freed += 1;
    }
    if ((this.taken || this.freed) && !this.timer) this.timer = setTimeout(() => this.#summary(), SUMMARY_EVERY_MS);
  }

  stop() { clearTimeout(this.timer); }

  #summary() {
    this.timer = null;
    const parts = [];
    if (this.taken) parts.push(t("map.say.taken", { count: this.taken }));
    if (this.freed) parts.push(t("map.say.freed", { count: this.freed }));
    this.taken = 0;
    this.freed = 0;
    if (parts.length) announce(t("map.say.summary", { changes: parts.join(", "), available: this.store.count("available") }));
  }
}
