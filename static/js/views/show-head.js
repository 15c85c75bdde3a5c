// The top of a round's screens (seat map, waiting room): where you are, the show, its date, and
// the connection's state.
import { h } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";

/** `status`: the element saying whether the page is live. */
export function showHead(performance, round, status) {
  return [
    h("nav", { class: "crumbs", "aria-label": t("catalogue.crumbs") },
      h("a", { href: "#/" }, t("catalogue.title")), " › ",
      h("a", { href: `#/performances/${performance.id}` }, performance.title)),
    h("div", { class: "round-head" },
      h("h1", {}, performance.title),
      h("p", { class: "round-time" }, dateTime(round.starts_at)), status),
  ];
}
