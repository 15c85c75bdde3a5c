// The legend: what each colour (grade, with its price) and each mark (state) means, each swatch drawn
// as the map draws that seat. An available seat has its grade's colour, so "available" shows the
// dearest grade's; the other states look the same whatever the grade.
import { h } from "../dom.js";
import { won } from "../format.js";
import { t } from "../i18n.js";
import { swatch } from "./marks.js";
import { stateWord } from "./names.js";

/** grades: [{grade, price?}] dearest first; states: the states to explain; watched: explain the bell. */
export function legend(grades, colours, states = ["available", "mine", "held", "sold", "blocked"], { watched = false } = {}) {
  const item = (svg, text) => h("li", {}, svg, h("span", {}, text));
  const availableColour = colours[grades[0]?.grade];
  return h("div", { class: "legend" },
    h("h3", { class: "visually-hidden" }, t("map.legend.title")),
    h("ul", { "aria-label": t("map.legend.grades") }, grades.map(({ grade, price }) =>
      item(swatch("available", colours[grade]), price !== undefined
        ? t("map.legend.gradePrice", { grade, price: won(price) }) : t("map.seat.grade", { grade })))),
    h("ul", { "aria-label": t("map.legend.states") },
      states.map((state) => item(swatch(state, state === "available" ? availableColour : null), capitalise(stateWord(state)))),
      watched ? item(swatch("held", null, { watched: true }), t("map.legend.watched")) : null));
}

const capitalise = (text) => text[0].toUpperCase() + text.slice(1);
