// Hash routes: "#/rounds/7" → the handler registered for "/rounds/:id" with {id: "7"}.
// A handler renders into <main> and may return {leave()} to stop what it started.
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";

const routes = [];
let current = null;
let navigation = 0;

export function route(pattern, handler) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return "([^/]+)"; })}$`);
  routes.push({ regex, names, handler });
}

/** Show `path`; showing the current one again re-renders it. */
export function go(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

/** Show `path` in place of the current one: Back does not return to a page that sends you on again. */
export function redirect(path) {
  location.replace(`#${path}`);
}

export function start() {
  window.addEventListener("hashchange", render);
  render();
}

async function render() {
  const path = location.hash.replace(/^#/, "") || "/";
  const mine = ++navigation;
  current?.leave?.();
  current = null;
  const found = routes.map((r) => ({ ...r, match: path.match(r.regex) })).find((r) => r.match);
  if (!found) { showNotFound(); return; }
  const params = Object.fromEntries(found.names.map((n, i) => [n, decodeURIComponent(found.match[i + 1])]));
  // Each navigation renders into its own box: one still loading after the user moved on
  // fills a box that is no longer on the page.
  const box = h("div", { class: "view" }, h("p", { class: "muted" }, t("common.loading")));
  replace(document.getElementById("main"), box);
  try {
    const view = await found.handler(box, params);
    if (mine === navigation) current = view || null;
    else view?.leave?.();               // the user moved on while this one was loading
  } catch (err) {
    if (mine !== navigation) return;
    replace(box, h("h1", {}, t("shell.error.title")),
      h("p", { class: "alert" }, err.status === 404 ? t("shell.error.gone") : t("shell.error.generic")),
      h("a", { href: "#/" }, t("shell.home")));
  }
}

/** An address of the page that no route knows: said so, with the way home (not a silent redirect). */
function showNotFound() {
  replace(document.getElementById("main"), h("div", { class: "view not-found" },
    h("h1", {}, t("shell.notFound.title")), h("p", {}, t("shell.notFound.text")),
    h("a", { class: "button", href: "#/" }, t("shell.home"))));
}
