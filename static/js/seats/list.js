// The seat list: the alternative to the map. Per section, the seats one can choose now (available,
// and one's own to release), as ordinary buttons in reading order.
import { h } from "../dom.js";
import { won } from "../format.js";
import { t } from "../i18n.js";
import { seatName } from "./names.js";

const SHOWN = new Set(["available", "mine"]);

export class SeatList {
  constructor(store, { onActivate }) {
    this.store = store;
    this.onActivate = onActivate;
    this.items = new Map();
    this.counts = new Map();
    this.element = h("div", { class: "seatlist" });
    for (const [section, seats] of store.sections()) this.element.append(this.#section(section, seats));
    this.refresh();
  }

  refresh(seats = this.store.list) {
    const sections = new Set();
    for (const seat of seats) {
      this.#paint(seat);
      sections.add(seat.section);
    }
    for (const section of sections) this.#count(section);
  }

  #section(name, seats) {
    const count = h("span", { class: "muted" });
    this.counts.set(name, { element: count, seats });
    const list = h("ul", { class: "seatlist-items" });
    for (const seat of seats) {
      const button = h("button", { type: "button", class: "secondary seat-button", "data-id": seat.id,
        onclick: () => this.onActivate(this.store.get(seat.id)) },
      h("span", { "aria-hidden": "true" }, t("map.list.seat", { row: seat.row, number: seat.number })),
      h("span", { class: "muted", "aria-hidden": "true" },
        ` · ${t("map.seat.grade", { grade: seat.grade })}${seat.price !== undefined ? ` · ${won(seat.price)}` : ""}`));
      const item = h("li", {}, button);
      this.items.set(seat.id, item);
      list.append(item);
    }
    const title = t("map.list.section", { section: name });
    return h("section", { class: "seatlist-section", "aria-label": title }, h("h3", {}, `${title} `, count), list);
  }

  #paint(seat) {
    const item = this.items.get(seat.id);
    if (!item) return;
    item.hidden = !SHOWN.has(seat.state);
    const button = item.firstChild;
    button.setAttribute("aria-label", seatName(seat));
    button.setAttribute("aria-pressed", String(seat.state === "mine"));
    button.dataset.state = seat.state;
  }

  #count(section) {
    const { element, seats } = this.counts.get(section);
    const available = seats.filter((s) => s.state === "available").length;
    element.textContent = t("map.list.count", { available, total: seats.length });
  }
}
