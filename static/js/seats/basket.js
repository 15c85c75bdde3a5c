// "Your seats": the seats held for you, their total, the time left on the hold, and the way on.
import { h, replace } from "../dom.js";
import { won } from "../format.js";
import { Countdown } from "../countdown.js";
import { seatPlace } from "./names.js";

export class Basket {
  /** storageKey: where the hold deadlines survive a reload (the socket does not repeat them). */
  constructor({ onRelease, onContinue, maxSeats, storageKey }) {
    this.onRelease = onRelease;
    this.storageKey = storageKey;
    this.expiries = new Map(JSON.parse(sessionStorage.getItem(storageKey) || "[]"));   // seat id → ms
    this.items = h("ul", { class: "basket-items" });
    this.total = h("p", { class: "basket-total" });
    this.countdown = new Countdown({ prefix: "Held for", onExpire: () => {} });
    this.next = h("button", { type: "button", class: "continue", onclick: onContinue, disabled: true },
      "Continue to payment");
    this.element = h("section", { class: "panel basket", "aria-labelledby": "basket-title" },
      h("h2", { id: "basket-title" }, "Your seats"),
      h("p", { class: "muted basket-empty" }, `Choose up to ${maxSeats} seats on the map or in the list.`),
      this.items, this.total, this.countdown.element, this.next);
  }

  /** Remember when these seats' hold ends (holding again extends it). */
  held(seatIds, expiresAt) {
    const ms = Date.parse(expiresAt);
    for (const id of seatIds) this.expiries.set(id, ms);
    this.#save();
  }

  /** This seat is no longer held for you. */
  forget(seatId) {
    if (this.expiries.delete(seatId)) this.#save();
  }

  /** Show `seats` (the ones in state mine). */
  show(seats) {
    replace(this.items, seats.map((seat) => h("li", {},
      h("span", {}, `${seatPlace(seat)} · ${seat.grade} · ${won(seat.price)}`),
      h("button", { type: "button", class: "link", "aria-label": `Release ${seatPlace(seat)}`,
        onclick: () => this.onRelease(seat) }, "Release"))));
    const sum = seats.reduce((acc, s) => acc + s.price, 0);
    this.total.textContent = seats.length ? `${seats.length} seat${seats.length > 1 ? "s" : ""} · ${won(sum)}` : "";
    this.element.querySelector(".basket-empty").hidden = seats.length > 0;
    this.element.classList.toggle("has-seats", seats.length > 0);
    this.next.disabled = seats.length === 0;
    const known = seats.map((s) => this.expiries.get(s.id)).filter(Boolean);
    this.countdown.set(known.length ? Math.min(...known) : null);
  }

  stop() { this.countdown.stop(); }

  #save() { sessionStorage.setItem(this.storageKey, JSON.stringify([...this.expiries])); }
}
