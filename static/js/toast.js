// Toasts (visible, polite) and announcements (screen readers only, polite).
import { h } from "./dom.js";
import { t } from "./i18n.js";

const TOAST_SECONDS = 8;

/** Show `message`. A toast with the same `key` as one still showing takes its place, so one event told
 * by several paths (the page, the SSE stream, a second tab) is one toast, and a newer state of the same
 * thing replaces the stale one. */
export function toast(message, { kind = "", seconds = TOAST_SECONDS, key = null } = {}) {
  const box = document.getElementById("toasts");
  const close = h("button", { type: "button", "aria-label": t("common.dismiss"), onclick: () => item.remove() }, "×");
  const item = h("div", { class: `toast ${kind}`, dataset: key ? { key } : undefined }, h("span", {}, message), close);
  const same = key ? [...box.children].find((el) => el.dataset.key === key) : null;
  if (same) same.replaceWith(item);
  else box.append(item);
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
