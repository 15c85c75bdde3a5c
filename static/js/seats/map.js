// The seat map: one SVG, a seat per element, drawn from the hall's x/y. Colour says the grade,
// the mark and the words say the state. Arrow keys move between seats (one tab stop for the whole
// map), Enter or Space chooses; a click does the same; wheel, drag, pinch and buttons zoom and pan.
import { h } from "../dom.js";
import { Neighbours, boundsOf, seatPitch } from "./geometry.js";
import { MARKS } from "./marks.js";
import { seatName } from "./names.js";
import { Viewport } from "./viewport.js";

const SEAT_SIZE = 0.84;          // of the pitch
const PRESSED = new Set(["mine", "selected"]);

export class SeatMap {
  /**
   * store: a SeatStore. colours: {grade: colour}. onActivate(seat): a seat was chosen.
   * stateOf(seat): the state to show (default seat.state). selectable(seat): may it be chosen.
   * help: the id of the element that explains the keys.
   */
  constructor(store, { colours, onActivate = () => {}, stateOf = (s) => s.state,
    selectable = (s) => ["available", "mine"].includes(s.state), label = "Seat map", help = null }) {
    this.store = store;
    this.colours = colours;
    this.onActivate = onActivate;
    this.stateOf = stateOf;
    this.selectable = selectable;
    this.elements = new Map();
    this.neighbours = new Neighbours(store.list);
    this.pitch = seatPitch(store.list);
    this.focusedId = null;

    this.svg = h("svg", { class: "seatmap", role: "group", "aria-label": label, "aria-describedby": help,
      preserveAspectRatio: "xMidYMid meet" });
    this.#draw();
    const b = boundsOf(store.list, this.pitch);
    const p = this.pitch;
    const bounds = { x: b.minX - 3 * p, y: b.minY - 3.4 * p, w: b.maxX - b.minX + 4.5 * p, h: b.maxY - b.minY + 4.6 * p };
    this.svg.style.aspectRatio = `${bounds.w} / ${bounds.h}`;     // as tall as the hall needs, up to a limit
    this.viewport = new Viewport(this.svg, bounds, { minWidth: 8 * p });
    this.element = h("div", { class: "seatmap-wrap" }, this.#toolbar(), this.svg);
    this.#listen();
  }

  /** Redraw these seats (all when none are given), e.g. after their state changed. */
  refresh(seats = this.store.list) {
    for (const seat of seats) this.#paint(seat);
  }

  focusSeat(id) {
    const seat = this.store.get(id);
    const el = this.elements.get(id);
    if (!seat || !el) return;
    this.#setTabStop(id);
    el.focus();
    this.viewport.ensureVisible(seat.x, seat.y, this.pitch * 1.5);
  }

  #draw() {
    const p = this.pitch;
    const size = SEAT_SIZE * p;
    const b = boundsOf(this.store.list, p);
    const stage = h("g", { class: "stage", "aria-hidden": "true" },
      h("rect", { x: b.minX - size / 2, y: b.minY - 3 * p, width: b.maxX - b.minX + size, height: 1.3 * p, rx: 0.3 * p }),
      h("text", { x: (b.minX + b.maxX) / 2, y: b.minY - 2.35 * p, "font-size": 0.8 * p, "dominant-baseline": "middle",
        "text-anchor": "middle" }, "STAGE"));
    const labels = h("g", { class: "section-labels", "aria-hidden": "true" });
    for (const [name, seats] of this.store.sections()) {
      const xs = seats.map((s) => s.x);
      const ys = seats.map((s) => s.y);
      labels.append(h("text", { x: Math.min(...xs) - 0.9 * p, y: (Math.min(...ys) + Math.max(...ys)) / 2,
        "font-size": 0.75 * p, "text-anchor": "end", "dominant-baseline": "middle" }, name));
    }
    const seatsGroup = h("g", { class: "seats" });
    let first = null;
    for (const seat of this.store.list) {
      const shape = h("rect", { class: "seat-shape", width: 1, height: 1, rx: 0.2 });
      shape.style.setProperty("--grade", this.colours[seat.grade]);   // not a style attribute: the CSP refuses those
      const el = h("g", { class: "seat", role: "button", tabindex: "-1", "data-id": seat.id,
        transform: `translate(${seat.x - size / 2} ${seat.y - size / 2}) scale(${size})` },
      shape, h("path", { class: "mark", d: "" }));
      this.elements.set(seat.id, el);
      seatsGroup.append(el);
      this.#paint(seat);
      if (!first || (this.selectable(seat) && !this.selectable(first))) first = seat;
    }
    this.svg.append(stage, labels, seatsGroup);
    if (first) this.#setTabStop(first.id);
  }

  #paint(seat) {
    const el = this.elements.get(seat.id);
    if (!el) return;
    const state = this.stateOf(seat);
    el.dataset.state = state;
    el.setAttribute("aria-label", seatName(seat, state));
    el.setAttribute("aria-pressed", String(PRESSED.has(state)));
    if (this.selectable(seat)) el.removeAttribute("aria-disabled");
    else el.setAttribute("aria-disabled", "true");
    el.lastChild.setAttribute("d", MARKS[state] || "");
  }

  #setTabStop(id) {
    if (this.focusedId !== null) this.elements.get(this.focusedId)?.setAttribute("tabindex", "-1");
    this.focusedId = id;
    this.elements.get(id)?.setAttribute("tabindex", "0");
  }

  #seatOf(target) {
    const el = target.closest?.(".seat");
    return el ? this.store.get(Number(el.dataset.id)) : null;
  }

  #activate(seat) {
    this.#setTabStop(seat.id);
    this.onActivate(seat);
  }

  #listen() {
    this.svg.addEventListener("click", (e) => {
      const seat = this.#seatOf(e.target);
      if (seat) this.#activate(seat);
    });
    this.svg.addEventListener("focusin", (e) => {
      const seat = this.#seatOf(e.target);
      if (seat && seat.id !== this.focusedId) this.#setTabStop(seat.id);
    });
    this.svg.addEventListener("keydown", (e) => {
      const seat = this.#seatOf(e.target);
      if (!seat) return;
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        this.#activate(seat);
        return;
      }
      const next = this.neighbours.move(seat, e.key);
      if (next) {
        e.preventDefault();
        this.focusSeat(next.id);
      } else if (this.#zoomKey(e.key)) {
        e.preventDefault();
      }
    });
  }

  #zoomKey(key) {
    if (key === "+" || key === "=") this.viewport.zoom(1.4);
    else if (key === "-" || key === "_") this.viewport.zoom(1 / 1.4);
    else if (key === "0") this.viewport.fit();
    else return false;
    const seat = this.store.get(this.focusedId);
    if (seat && key !== "0") this.viewport.ensureVisible(seat.x, seat.y, this.pitch * 1.5);
    return true;
  }

  #toolbar() {
    const button = (text, label, action) => h("button", { type: "button", class: "secondary", "aria-label": label,
      title: label, onclick: action }, text);
    return h("div", { class: "seatmap-tools", role: "group", "aria-label": "Zoom" },
      button("+", "Zoom in", () => this.viewport.zoom(1.5)),
      button("−", "Zoom out", () => this.viewport.zoom(1 / 1.5)),
      button("Fit", "Show the whole hall", () => this.viewport.fit()));
  }
}
