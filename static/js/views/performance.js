// One performance: poster, details, cast, prices, and its rounds with seats left.
import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, day, won } from "../format.js";
import { poster } from "./catalogue.js";

const AVAILABILITY_FOR = 20;        // rounds whose seats-left we ask for (one request each)

export async function performanceView(main, { id }) {
  const [p, rounds] = await Promise.all([get(`/api/performances/${id}`),
    get(`/api/performances/${id}/rounds?size=100`)]);
  const upcoming = rounds.items.filter((r) => Date.parse(r.starts_at) > Date.now());
  const list = h("ul", { class: "rounds" }, upcoming.map((r, i) => roundItem(r, i < AVAILABILITY_FOR)));
  replace(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Performances")),
    h("article", { class: "performance" },
      poster(p, "poster large"),
      h("div", { class: "stack" },
        h("h1", {}, p.title),
        h("p", { class: "muted" }, `${day(p.starts_on)} – ${day(p.ends_on)} · ${p.duration_minutes} minutes`),
        p.performers.length ? h("p", {}, `With ${p.performers.map((x) => x.name).join(", ")}`) : null,
        h("p", { class: "description" }, p.description),
        h("table", { class: "prices" }, h("caption", { class: "visually-hidden" }, "Prices"),
          Object.entries(p.prices).sort((a, b) => b[1] - a[1]).map(([grade, price]) =>
            h("tr", {}, h("th", { scope: "row" }, `${grade} grade`), h("td", {}, won(price))))))),
    h("section", { class: "panel", "aria-labelledby": "rounds-title" },
      h("h2", { id: "rounds-title" }, "Dates"),
      upcoming.length ? list : h("p", { class: "muted" }, "No upcoming dates.")));
}

function roundItem(round, withAvailability) {
  const left = h("span", { class: "muted" });
  if (withAvailability) {
    get(`/api/rounds/${round.id}/availability`).then((a) => {
      left.textContent = a.available ? `${a.available} of ${a.total} seats left` : "Sold out";
    }).catch(() => {});
  }
  return h("li", {},
    h("a", { class: "button", href: `#/rounds/${round.id}` }, `Pick seats · ${dateTime(round.starts_at)}`), " ", left);
}
