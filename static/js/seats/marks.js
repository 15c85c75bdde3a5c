// The marks that say a seat's state without colour: stripes (held), a cross (sold), a bar (not for
// sale), a tick (yours), and a bell badge (you asked to be told when it is free). Drawn in a 1×1 box,
// used by the map and by the legend, so that the legend shows seats exactly as the map draws them.
import { h } from "../dom.js";

export const MARKS = {
  available: null,
  held: "M0.2 0.8 L0.8 0.2 M0.2 0.45 L0.45 0.2 M0.55 0.8 L0.8 0.55",
  sold: "M0.25 0.25 L0.75 0.75 M0.75 0.25 L0.25 0.75",
  blocked: "M0.22 0.5 L0.78 0.5",
  mine: "M0.22 0.52 L0.42 0.72 L0.78 0.3",
  selected: "M0.22 0.52 L0.42 0.72 L0.78 0.3",
};

/** A bell on a white badge at the seat's top right corner (over the seat's edge, so it reads at any size). */
export function bell() {
  return h("g", { class: "bell", "aria-hidden": "true" },
    h("circle", { cx: "0.86", cy: "0.14", r: "0.3" }),
    h("path", { d: "M0.7 0.27 L1.02 0.27 L0.96 0.2 L0.96 0.1 A0.1 0.1 0 0 0 0.76 0.1 L0.76 0.2 Z M0.82 0.3 A0.04 0.04 0 0 0 0.9 0.3 Z" }));
}

/** A small standalone swatch: a seat in that state, for the legend (`watched`: with its bell). */
export function swatch(state, colour, { watched = false } = {}) {
  const svg = h("svg", { viewBox: watched ? "0 -0.2 1.2 1.2" : "0 0 1 1", width: "22", height: "22", "aria-hidden": "true",
    class: "swatch", "data-state": state });
  const rect = h("rect", { x: "0.06", y: "0.06", width: "0.88", height: "0.88", rx: "0.18", class: "seat-shape" });
  if (colour) rect.style.setProperty("--grade", colour);
  svg.append(rect);
  if (MARKS[state]) svg.append(h("path", { d: MARKS[state], class: "mark-path" }));
  if (watched) svg.append(bell());
  return svg;
}
