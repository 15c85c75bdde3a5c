// Zoom and pan of an SVG by its viewBox: Ctrl + wheel, drag, pinch, buttons and keys. A drag never counts
// as a click on a seat (see `dragged`).
const DRAG_THRESHOLD_PX = 6;

export class Viewport {
  /** bounds: {x, y, w, h} of the content in SVG units; minWidth: the closest zoom, in SVG units. */
  constructor(svg, bounds, { minWidth }) {
    this.svg = svg;
    this.bounds = bounds;
    this.minWidth = minWidth;
    this.view = { ...bounds };
    this.dragged = false;
    this.pointers = new Map();
    this.#listen();
    this.#apply();
  }

  fit() {
    this.view = { ...this.bounds };
    this.#apply();
  }

  get zoomed() { return this.view.w < this.bounds.w * 0.98; }

  /** Zoom by `factor` (>1 closer) keeping the SVG point (cx, cy) where it is on screen. */
  zoom(factor, cx = this.view.x + this.view.w / 2, cy = this.view.y + this.view.h / 2) {
    const maxWidth = this.bounds.w * 1.15;
    const w = Math.min(maxWidth, Math.max(this.minWidth, this.view.w / factor));
    const k = w / this.view.w;
    this.view = { x: cx - (cx - this.view.x) * k, y: cy - (cy - this.view.y) * k, w, h: this.view.h * k };
    this.#apply();
  }

  /** Show `w` SVG units across the screen, centred on (cx, cy): a section zoomed into. */
  show(cx, cy, w) {
    const r = this.svg.getBoundingClientRect();
    const width = Math.max(this.minWidth, w);
    const height = r.width && r.height ? width * (r.height / r.width) : width * (this.bounds.h / this.bounds.w);
    this.view = { x: cx - width / 2, y: cy - height / 2, w: width, h: height };
    this.#apply();
  }

  pan(dx, dy) {
    this.view.x += dx;
    this.view.y += dy;
    this.#apply();
  }

  /** Pan (not zoom) so that the box around (x, y) is on screen, e.g. a seat that took focus. */
  ensureVisible(x, y, margin) {
    const visible = this.#visibleBox();
    let dx = 0;
    let dy = 0;
    if (x - margin < visible.x) dx = x - margin - visible.x;
    else if (x + margin > visible.x + visible.w) dx = x + margin - (visible.x + visible.w);
    if (y - margin < visible.y) dy = y - margin - visible.y;
    else if (y + margin > visible.y + visible.h) dy = y + margin - (visible.y + visible.h);
    if (dx || dy) this.pan(dx, dy);
  }

  /** SVG units per screen pixel (the viewBox is fitted with "meet": the larger ratio wins). */
  unitsPerPixel() {
    const r = this.svg.getBoundingClientRect();
    if (!r.width || !r.height) return 1;
    return Math.max(this.view.w / r.width, this.view.h / r.height);
  }

  /** The part of the SVG plane actually on screen (wider or taller than the viewBox with "meet"). */
  #visibleBox() {
    const r = this.svg.getBoundingClientRect();
    const u = this.unitsPerPixel();
    const w = r.width * u || this.view.w;
    const h = r.height * u || this.view.h;
    return { x: this.view.x + (this.view.w - w) / 2, y: this.view.y + (this.view.h - h) / 2, w, h };
  }

  /** The SVG point under a point of the screen (client coordinates). */
  toSvg(clientX, clientY) {
    const r = this.svg.getBoundingClientRect();
    const box = this.#visibleBox();
    const u = this.unitsPerPixel();
    return { x: box.x + (clientX - r.left) * u, y: box.y + (clientY - r.top) * u };
  }

  #apply() {
    // Keep at least part of the content on screen however far it is dragged.
    const b = this.bounds;
    const v = this.view;
    v.x = Math.min(b.x + b.w - v.w * 0.2, Math.max(b.x - v.w * 0.8, v.x));
    v.y = Math.min(b.y + b.h - v.h * 0.2, Math.max(b.y - v.h * 0.8, v.y));
    this.svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
    this.svg.dispatchEvent(new Event("viewchange"));
  }

  #listen() {
    const svg = this.svg;
    // Ctrl/⌘ + wheel (and a trackpad pinch, which arrives as one) zooms; a plain wheel pans a
    // zoomed map and otherwise scrolls the page as usual.
    svg.addEventListener("wheel", (e) => {
      const lines = e.deltaMode === 1 ? 16 : 1;
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        const p = this.toSvg(e.clientX, e.clientY);
        this.zoom(Math.exp(-e.deltaY * lines * 0.002), p.x, p.y);
      } else if (this.zoomed) {
        e.preventDefault();
        const u = this.unitsPerPixel();
        this.pan(e.deltaX * lines * u, e.deltaY * lines * u);
      }
    }, { passive: false });

    svg.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, startX: e.clientX, startY: e.clientY });
      if (this.pointers.size === 1) this.dragged = false;
    });
    svg.addEventListener("pointermove", (e) => {
      const p = this.pointers.get(e.pointerId);
      if (!p) return;
      if (!this.dragged && Math.hypot(e.clientX - p.startX, e.clientY - p.startY) > DRAG_THRESHOLD_PX) {
        this.dragged = true;
        svg.setPointerCapture(e.pointerId);   // only now: a plain click must still reach its seat
      }
      if (!this.dragged) return;
      if (this.pointers.size >= 2) {
        const [a, b] = [...this.pointers.values()];
        const before = Math.hypot(a.x - b.x, a.y - b.y);
        p.x = e.clientX; p.y = e.clientY;
        const after = Math.hypot(a.x - b.x, a.y - b.y);
        const mid = this.toSvg((a.x + b.x) / 2, (a.y + b.y) / 2);
        if (before > 0) this.zoom(after / before, mid.x, mid.y);
        return;
      }
      const u = this.unitsPerPixel();
      this.pan(-(e.clientX - p.x) * u, -(e.clientY - p.y) * u);
      p.x = e.clientX; p.y = e.clientY;
    });
    const end = (e) => { this.pointers.delete(e.pointerId); };
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    // A click that ends a drag is not a seat choice.
    svg.addEventListener("click", (e) => {
      if (this.dragged) { e.stopPropagation(); e.preventDefault(); this.dragged = false; }
    }, true);
  }
}
