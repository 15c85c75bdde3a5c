// The seat map: one SVG, a seat per element, drawn from the hall's x/y, with the stage in front of the
// first row, each section's name above it and row numbers at both ends of every row. Colour says the
// grade, the mark and the words say the state; a tooltip names the seat under the pointer or the focus.
// Arrow keys move between seats (one tab stop for the whole map), Enter or Space chooses; a click does
// the same; wheel, drag, pinch and buttons zoom and pan. Where seats are too small to tap (a phone
// showing the whole hall), a tap zooms into the section tapped instead of choosing.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { Neighbours, boundsOf, rowsOf, seatPitch, stageOf, textWidth, unionOf } from "./geometry.js";
import { MARKS, bell } from "./marks.js";
import { seatName } from "./names.js";
import { Viewport } from "./viewport.js";

const SEAT_SIZE = 0.84;          // of the pitch
const PRESSED = new Set(["mine", "selected"]);
const MIN_TARGET_PX = 24;        // a seat smaller than this on screen is zoomed into before it is chosen
const ZOOMED_PITCH_PX = 32;      // the pitch a tap zooms to: seats of ~27 px
const SECTION_FONT = 0.75;       // of the pitch
const ROW_FONT = 0.5;
const BELL_STATES = new Set(["held", "sold", "blocked"]);   // a watched seat shows its bell until it is free

export class SeatMap {
  /**
   * store: a SeatStore. colours: {grade: colour}. onActivate(seat): a seat was chosen.
   * stateOf(seat): the state to show (default seat.state). selectable(seat): may it be chosen.
   * help: the id of the element that explains the keys.
   */
  constructor(store, { colours, onActivate = () => {}, stateOf = (s) => s.state,
    selectable = (s) => ["available", "mine"].includes(s.state), label = t("map.label"), help = null }) {
    this.store = store;
    this.colours = colours;
    this.onActivate = onActivate;
    this.stateOf = stateOf;
    this.selectable = selectable;
    this.elements = new Map();
    this.watched = new Set();
    this.neighbours = new Neighbours(store.list);
    this.pitch = seatPitch(store.list);
    this.focusedId = null;
    this.tipSeat = null;
    this.sectionBoxes = new Map();

    this.svg = h("svg", { class: "seatmap", role: "group", "aria-label": label, "aria-describedby": help,
      preserveAspectRatio: "xMidYMid meet" });
    const bounds = this.#draw();
    this.svg.style.aspectRatio = `${bounds.w} / ${bounds.h}`;     // as tall as the hall needs, up to a limit
    this.viewport = new Viewport(this.svg, bounds, { minWidth: 8 * this.pitch });
    this.tip = h("div", { class: "seat-tip", "aria-hidden": "true", hidden: true });
    this.wholeHall = h("button", { type: "button", class: "secondary whole-hall", onclick: () => this.viewport.fit() },
      t("map.zoom.whole"));
    this.element = h("div", { class: "seatmap-wrap" }, this.#toolbar(), h("div", { class: "seatmap-frame" }, this.svg, this.tip));
    this.#listen();
  }

  /** Redraw these seats (all when none are given), e.g. after their state changed. */
  refresh(seats = this.store.list) {
    for (const seat of seats) this.#paint(seat);
  }

  /** The seats the user watches (ids): they carry a bell while they are not free. */
  setWatched(ids) {
    const before = this.watched;
    this.watched = new Set(ids);
    for (const id of new Set([...before, ...this.watched])) {
      const seat = this.store.get(id);
      if (seat) this.#paint(seat);
    }
  }

  focusSeat(id) {
    const seat = this.store.get(id);
    const el = this.elements.get(id);
    if (!seat || !el) return;
    this.#setTabStop(id);
    el.focus();
    this.viewport.ensureVisible(seat.x, seat.y, this.pitch * 1.5);
  }

  /** Bring these seats into view, zooming into their section first where seats are too small to tap. */
  showSeats(seats) {
    if (!seats.length) return;
    const x = seats.reduce((sum, s) => sum + s.x, 0) / seats.length;
    const y = seats.reduce((sum, s) => sum + s.y, 0) / seats.length;
    if (this.#seatPixels() < MIN_TARGET_PX) this.zoomToSection(seats[0].section, { x, y });
    else this.viewport.ensureVisible(x, y, this.pitch * 1.5);
  }

  /** Zoom so the seats of `section` are big enough to tap, around `at` (the point tapped) within it. */
  zoomToSection(section, at) {
    const box = this.sectionBoxes.get(section);
    if (!box) return;
    const widthPx = this.svg.getBoundingClientRect().width || 1;
    const w = Math.min(box.w, (widthPx / ZOOMED_PITCH_PX) * this.pitch);
    const within = (v, lo, size, span) => (span >= size ? lo + size / 2 : Math.min(lo + size - span / 2, Math.max(lo + span / 2, v)));
    const heightPx = this.svg.getBoundingClientRect().height || widthPx;
    const hUnits = w * (heightPx / widthPx);
    this.viewport.show(within(at?.x ?? box.x + box.w / 2, box.x, box.w, w), within(at?.y ?? box.y + box.h / 2, box.y, box.h, hUnits), w);
  }

  /** How big a seat is on screen now, in CSS pixels. */
  #seatPixels() {
    return (SEAT_SIZE * this.pitch) / this.viewport.unitsPerPixel();
  }

  /** Draws everything and answers the box it takes (SVG units), labels and stage included. */
  #draw() {
    const p = this.pitch;
    const size = SEAT_SIZE * p;
    const half = size / 2;
    const b = boundsOf(this.store.list, p);
    const boxes = [{ x: b.minX - half, y: b.minY - half, w: b.maxX - b.minX + size, h: b.maxY - b.minY + size }];

    const stageAt = stageOf(this.store.list);
    const stageWidth = Math.max(6 * p, (b.maxX - b.minX + size) * 0.6);
    const stageBox = { x: stageAt.x - stageWidth / 2, y: b.minY - 3.1 * p, w: stageWidth, h: 1.3 * p };
    boxes.push(stageBox);
    const stage = h("g", { class: "stage", "aria-hidden": "true" },
      h("rect", { x: stageBox.x, y: stageBox.y, width: stageBox.w, height: stageBox.h, rx: 0.3 * p }),
      h("text", { x: stageAt.x, y: stageBox.y + stageBox.h / 2, "font-size": 0.8 * p, "dominant-baseline": "central",
        "text-anchor": "middle" }, t("map.stage")));

    const labels = h("g", { class: "section-labels", "aria-hidden": "true" });
    const rowLabels = h("g", { class: "row-labels", "aria-hidden": "true" });
    for (const [name, seats] of this.store.sections()) {
      const sb = boundsOf(seats, p);
      const cx = (sb.minX + sb.maxX) / 2;
      const top = sb.minY - 0.95 * p;
      const labelWidth = textWidth(String(name), SECTION_FONT * p);
      boxes.push({ x: cx - labelWidth / 2, y: top - SECTION_FONT * p, w: labelWidth, h: SECTION_FONT * p });
      labels.append(h("text", { x: cx, y: top, "font-size": SECTION_FONT * p, "text-anchor": "middle" }, String(name)));
      for (const [row, line] of rowsOf(seats)) {
        const y = line[0].y;
        const first = line[0].x - half - 0.35 * p;
        const last = line[line.length - 1].x + half + 0.35 * p;
        const width = textWidth(String(row), ROW_FONT * p);
        boxes.push({ x: first - width, y: y - ROW_FONT * p, w: last - first + 2 * width, h: 2 * ROW_FONT * p });
        const label = (x, anchor) => h("text", { x, y, "font-size": ROW_FONT * p, "text-anchor": anchor,
          "dominant-baseline": "central" }, String(row));
        rowLabels.append(label(first, "end"), label(last, "start"));
      }
      this.sectionBoxes.set(name, { x: sb.minX - half - p, y: sb.minY - half - p, w: sb.maxX - sb.minX + size + 2 * p,
        h: sb.maxY - sb.minY + size + 2 * p });
    }

    const seatsGroup = h("g", { class: "seats" });
    let first = null;
    for (const seat of this.store.list) {
      const shape = h("rect", { class: "seat-shape", width: 1, height: 1, rx: 0.2 });
      shape.style.setProperty("--grade", this.colours[seat.grade]);   // not a style attribute: the CSP refuses those
      const el = h("g", { class: "seat", role: "button", tabindex: "-1", "data-id": seat.id,
        transform: `translate(${seat.x - half} ${seat.y - half}) scale(${size})` },
      shape, h("path", { class: "mark", d: "" }));
      this.elements.set(seat.id, el);
      seatsGroup.append(el);
      this.#paint(seat);
      if (!first || (this.selectable(seat) && !this.selectable(first))) first = seat;
    }
    // One ring for the keyboard's seat, drawn over its neighbours, in a colour no seat state uses.
    this.ring = h("rect", { class: "focus-ring", width: size + 0.36 * p, height: size + 0.36 * p, rx: 0.3 * p,
      "aria-hidden": "true", visibility: "hidden" });
    this.svg.append(stage, labels, rowLabels, seatsGroup, this.ring);
    if (first) this.#setTabStop(first.id);

    const all = unionOf(boxes);
    const margin = 0.4 * p;
    return { x: all.x - margin, y: all.y - margin, w: all.w + 2 * margin, h: all.h + 2 * margin };
  }

  #paint(seat) {
    const el = this.elements.get(seat.id);
    if (!el) return;
    const state = this.stateOf(seat);
    const watched = this.watched.has(seat.id);
    el.dataset.state = state;
    el.setAttribute("aria-label", seatName(seat, state, { watched }));
    el.setAttribute("aria-pressed", String(PRESSED.has(state)));
    if (this.selectable(seat)) el.removeAttribute("aria-disabled");
    else el.setAttribute("aria-disabled", "true");
    el.querySelector(".mark").setAttribute("d", MARKS[state] || "");
    const showBell = watched && BELL_STATES.has(state);
    const badge = el.querySelector(".bell");
    if (showBell && !badge) el.append(bell());
    else if (!showBell && badge) badge.remove();
    el.classList.toggle("watched", watched);
    if (seat.id === this.tipSeat) this.#showTip(seat);
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

  /** The section whose box holds this SVG point, or null (a tap between sections). */
  #sectionAt(point) {
    for (const [name, box] of this.sectionBoxes) {
      if (point.x >= box.x && point.x <= box.x + box.w && point.y >= box.y && point.y <= box.y + box.h) return name;
    }
    return null;
  }

  #showTip(seat) {
    const el = this.elements.get(seat.id);
    if (!el) return;
    this.tipSeat = seat.id;
    this.tip.textContent = seatName(seat, this.stateOf(seat), { watched: this.watched.has(seat.id) });
    this.tip.dataset.state = this.stateOf(seat);
    this.tip.hidden = false;
    const frame = this.tip.parentElement.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const tipWidth = this.tip.offsetWidth;
    const left = Math.min(frame.width - tipWidth - 4, Math.max(4, r.left + r.width / 2 - frame.left - tipWidth / 2));
    const above = r.top - frame.top - this.tip.offsetHeight - 6;
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${above >= 0 ? above : r.bottom - frame.top + 6}px`;
  }

  #hideTip() {
    this.tipSeat = null;
    this.tip.hidden = true;
  }

  #placeRing(seat) {
    const p = this.pitch;
    const size = SEAT_SIZE * p;
    this.ring.setAttribute("x", seat.x - size / 2 - 0.18 * p);
    this.ring.setAttribute("y", seat.y - size / 2 - 0.18 * p);
    this.ring.setAttribute("visibility", "visible");
  }

  #listen() {
    this.svg.addEventListener("click", (e) => {
      const seat = this.#seatOf(e.target);
      // Too small to hit reliably: the first tap brings the section tapped close enough.
      if (this.#seatPixels() < MIN_TARGET_PX) {
        const at = this.viewport.toSvg(e.clientX, e.clientY);
        const section = seat?.section ?? this.#sectionAt(at);
        if (section !== null) {
          this.#hideTip();
          this.zoomToSection(section, at);
          return;
        }
      }
      if (seat) this.#activate(seat);
    });
    this.svg.addEventListener("pointerover", (e) => {
      const seat = this.#seatOf(e.target);
      if (seat && e.pointerType === "mouse") this.#showTip(seat);
    });
    this.svg.addEventListener("pointerout", (e) => {
      if (this.#seatOf(e.target) && !this.#seatOf(e.relatedTarget ?? document.body)) this.#hideTip();
    });
    this.svg.addEventListener("focusin", (e) => {
      const seat = this.#seatOf(e.target);
      if (!seat) return;
      if (seat.id !== this.focusedId) this.#setTabStop(seat.id);
      if (e.target.matches(":focus-visible")) {
        this.#placeRing(seat);
        this.#showTip(seat);
      }
    });
    this.svg.addEventListener("focusout", () => {
      this.ring.setAttribute("visibility", "hidden");
      this.#hideTip();
    });
    this.svg.addEventListener("viewchange", () => {
      this.element?.classList.toggle("zoomed", this.viewport.zoomed);
      const focused = this.store.get(this.tipSeat);
      if (focused && document.activeElement === this.elements.get(focused.id)) this.#showTip(focused);
      else this.#hideTip();
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
    return h("div", { class: "seatmap-tools", role: "group", "aria-label": t("map.zoom.group") },
      button("+", t("map.zoom.in"), () => this.viewport.zoom(1.5)),
      button("−", t("map.zoom.out"), () => this.viewport.zoom(1 / 1.5)),
      this.wholeHall);
  }
}
