// The first screen: performances with poster, dates and prices, and a search box.
import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { day, won } from "../format.js";
import { t } from "../i18n.js";

export async function catalogueView(main) {
  const results = h("div", { class: "cards" });
  const search = h("input", { type: "search", name: "q", placeholder: t("catalogue.searchPlaceholder"),
    "aria-label": t("catalogue.search") });
  const load = async () => {
    const q = search.value.trim();
    const data = await get(`/api/performances?size=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    replace(results, data.items.length ? data.items.map(card) : h("p", { class: "muted" }, t("catalogue.none")));
  };
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  replace(main,
    h("div", { class: "catalogue-head" },
      h("h1", {}, t("catalogue.title")),
      h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); load(); } }, search)),
    results);
  await load();
}

export function priceRange(prices) {
  const values = Object.values(prices);
  if (!values.length) return "";
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? won(low) : `${won(low)} – ${won(high)}`;
}

function card(p) {
  const link = `#/performances/${p.id}`;
  return h("article", { class: "card" },
    poster(p),
    h("div", { class: "card-body" },
      h("h2", {}, h("a", { href: link }, p.title)),
      h("p", { class: "muted" }, `${t(`catalogue.category.${p.category}`)} · ${day(p.starts_on)} – ${day(p.ends_on)}`),
      h("p", {}, priceRange(p.prices)),
      h("a", { class: "button", href: link, "aria-label": t("catalogue.chooseDateFor", { title: p.title }) },
        t("catalogue.chooseDate"))));
}

export function poster(p, className = "poster") {
  if (p.poster_url) return h("img", { class: className, src: p.poster_url, alt: t("catalogue.poster", { title: p.title }), loading: "lazy" });
  return h("div", { class: `${className} poster-none`, "aria-hidden": "true" }, p.title.slice(0, 1));
}

