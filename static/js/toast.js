// Toasts (visible, polite) and announcements (screen readers only, polite).
import { h } from "./dom.js";

const TOAST_SECONDS = 8;

export function toast(message, { kind = "", seconds = TOAST_SECONDS } = {}) {
  const box = document.getElementById("toasts");
  const close = h("button", { type: "button", "aria-label": "Dismiss", onclick: () => item.remove() }, "×");
  const item = h("div", { class: `toast ${kind}` }, h("span", {}, message), close);
  box.append(item);
  setTimeout(() => item.remove(), seconds * 1000);
  return item;
}

let pending = null;

/** Say something to screen-reader users without moving focus; rapid calls keep the latest. */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  clearTimeout(pending);
  // Emptying first makes the same sentence twice in a row be read twice.
  region.textContent = "";
  pending = setTimeout(() => { region.textContent = message; }, 50);
}
