// "Your seats": the seats held for you, their total, the time left on the hold, and the way on. On a
// wide screen a panel beside the map; on a phone a compact bar at the bottom ("2석 · 300,000원 · 다음")
// that opens into the full list (seatmap.css chooses which by the screen's width).
import { h, replace } from "../dom.js";
import { won } from "../format.js";
import { t } from "../i18n.js";
import { Countdown } from "../countdown.js";
import { seatPlace } from "./names.js";

// Where a round's hold deadlines survive a reload (the socket does not repeat them), and checkout
// finds them: [[seat id, ms], ...] in sessionStorage.
const holdsKey = (roundId) => `ticketblue.holds.${roundId}`;

/** seat id → the ms its hold ends, as the round page last saw it (a damaged entry is the same as none). */
export function savedHoldDeadlines(roundId) {
  try {
    return new Map(JSON.parse(sessionStorage.getItem(holdsKey(roundId)) || "[]"));
  } catch {
    return new Map();
  }
}

/** When the first of `seats`' holds ends (ms), from `deadlines` (seat id → ms); null when none is known. */
export function firstHoldEnd(deadlines, seats) {
  const known = seats.map((s) => deadlines.get(s.id)).filter(Boolean);
  return known.length ? Math.min(...known) : null;
}

export class Basket {
  constructor({ onRelease, onContinue, maxSeats, roundId }) {
    this.onRelease = onRelease;
    this.storageKey = holdsKey(roundId);
    this.expiries = savedHoldDeadlines(roundId);
    this.items = h("ul", { class: "basket-items", id: "basket-items" });
    this.total = h("p", { class: "basket-total" });
    this.countdown = new Countdown({ prefix: t("map.basket.heldFor"), onExpire: () => {} });
    this.next = h("button", { type: "button", class: "continue", onclick: onContinue, disabled: true },
      t("map.basket.continue"));
    this.toggle = h("button", { type: "button", class: "secondary basket-toggle", "aria-expanded": "false",
      "aria-controls": "basket-items", onclick: () => this.#open(this.toggle.getAttribute("aria-expanded") !== "true") },
    t("map.basket.showSeats"));
    this.barNext = h("button", { type: "button", class: "basket-next", onclick: onContinue });
    this.element = h("section", { class: "panel basket", "aria-labelledby": "basket-title" },
      h("h2", { id: "basket-title" }, t("map.basket.title")),
      h("p", { class: "muted basket-empty" }, t("map.basket.empty", { max: maxSeats })),
      this.items, this.total, this.countdown.element, this.next,
      h("div", { class: "basket-bar" }, this.toggle, this.barNext));
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
      h("span", {}, t("map.basket.item", { place: seatPlace(seat), grade: seat.grade, price: won(seat.price) })),
      h("button", { type: "button", class: "link", "aria-label": t("map.basket.releaseSeat", { place: seatPlace(seat) }),
        onclick: () => this.onRelease(seat) }, t("map.basket.release")))));
    const sum = seats.reduce((acc, s) => acc + s.price, 0);
    this.total.textContent = seats.length ? t("map.basket.total", { count: seats.length, price: won(sum) }) : "";
    this.barNext.textContent = t("map.basket.bar", { count: seats.length, price: won(sum) });
    this.element.querySelector(".basket-empty").hidden = seats.length > 0;
    this.element.classList.toggle("has-seats", seats.length > 0);
    if (!seats.length) this.#open(false);
    this.next.disabled = seats.length === 0;
    this.countdown.set(firstHoldEnd(this.expiries, seats));
  }

  stop() { this.countdown.stop(); }

  /** On a phone: the bar opened into the list of seats, or closed again. */
  #open(open) {
    this.element.classList.toggle("open", open);
    this.toggle.setAttribute("aria-expanded", String(open));
    this.toggle.textContent = t(open ? "map.basket.hideSeats" : "map.basket.showSeats");
  }

  #save() { sessionStorage.setItem(this.storageKey, JSON.stringify([...this.expiries])); }
}
