// One performance: poster, details, venue, cast, prices, and its rounds with the seats left per grade.
import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { count, dateTime, day, won } from "../format.js";
import { t } from "../i18n.js";
import { poster } from "./catalogue.js";

const AVAILABILITY_FOR = 20;        // rounds whose seats-left we ask for (one request each)

export async function performanceView(main, { id }) {
  const [p, rounds] = await Promise.all([get(`/api/performances/${id}`),
    get(`/api/performances/${id}/rounds?size=100`)]);
  const hall = await get(`/api/halls/${p.hall_id}`).catch(() => null);
  const upcoming = rounds.items.filter((r) => Date.parse(r.starts_at) > Date.now());
  const list = h("ul", { class: "rounds" }, upcoming.map((r, i) => roundItem(r, i < AVAILABILITY_FOR)));
  replace(main,
    h("nav", { class: "crumbs", "aria-label": t("catalogue.crumbs") }, h("a", { href: "#/" }, t("catalogue.title"))),
    h("article", { class: "performance" },
      poster(p, "poster large"),
      h("div", { class: "stack" },
        h("h1", {}, p.title),
        h("p", { class: "muted" },
          `${day(p.starts_on)} – ${day(p.ends_on)} · ${t("catalogue.minutes", { minutes: p.duration_minutes })}`),
        hall ? h("p", { class: "venue" }, t("catalogue.venue", { venue: [hall.name, hall.address].filter(Boolean).join(" · ") })) : null,
        p.performers.length ? h("p", {}, t("catalogue.cast", { names: p.performers.map((x) => x.name).join(", ") })) : null,
        h("p", { class: "description" }, p.description),
        h("table", { class: "prices" }, h("caption", { class: "visually-hidden" }, t("catalogue.prices")),
          Object.entries(p.prices).sort((a, b) => b[1] - a[1]).map(([grade, price]) =>
            h("tr", {}, h("th", { scope: "row" }, t("catalogue.grade", { grade })), h("td", {}, won(price))))))),
    h("section", { class: "panel", "aria-labelledby": "rounds-title" },
      h("h2", { id: "rounds-title" }, t("catalogue.dates")),
      upcoming.length ? list : h("p", { class: "muted" }, t("catalogue.noDates"))));
}

function roundItem(round, withAvailability) {
  const left = h("span", { class: "muted seats-left" });
  if (withAvailability) {
    get(`/api/rounds/${round.id}/availability`).then((a) => { left.textContent = seatsLeft(a); }).catch(() => {});
  }
  return h("li", {},
    h("a", { class: "button", href: `#/rounds/${round.id}` }, t("catalogue.pickSeats", { date: dateTime(round.starts_at) })),
    " ", left);
}

/** "VIP석 12 · R석 40 · S석 매진" from GET /api/rounds/{id}/availability. */
function seatsLeft(availability) {
  if (!availability.available) return t("catalogue.soldOut");
  return Object.entries(availability.by_grade || {}).map(([grade, { available }]) => (available
    ? t("catalogue.gradeLeft", { grade, count: count(available) }) : t("catalogue.gradeSoldOut", { grade }))).join(" · ");
}
