// The legend: what each colour (grade, with its price) and each mark (state) means.
import { h } from "../dom.js";
import { won } from "../format.js";
import { swatch } from "./marks.js";
import { STATE_WORDS } from "./names.js";

export function legend(grades, colours, states = ["available", "mine", "held", "sold", "blocked"]) {
  const item = (svg, text) => h("li", {}, svg, h("span", {}, text));
  return h("div", { class: "legend" },
    h("h3", { class: "visually-hidden" }, "Legend"),
    h("ul", { "aria-label": "Grades" }, grades.map(({ grade, price }) =>
      item(swatch("available", colours[grade]), price !== undefined ? `${grade} · ${won(price)}` : grade))),
    h("ul", { "aria-label": "Seat states" }, states.map((state) =>
      item(swatch(state, "#8d93a3"), capitalise(STATE_WORDS[state])))));
}

const capitalise = (text) => text[0].toUpperCase() + text.slice(1);
