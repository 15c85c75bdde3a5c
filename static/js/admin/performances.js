// Performances: create one on a hall with a price per grade, upload its poster, add its cast; change
// or delete one from the list.
import { api, del, getAll, patch, post } from "../api.js";
import { h, replace } from "../dom.js";
import { day, won } from "../format.js";
import { t } from "../i18n.js";
import { toast } from "../toast.js";
import { bookedRefusal, deleteDialog, editDialog } from "./dialogs.js";
import { choice, errorBox, field, nameField, onSubmit, rowActions, showError, table } from "./forms.js";
import { hallGrades, hallOptions } from "./halls.js";

const CATEGORIES = ["concert", "musical", "play", "classical", "dance", "etc"];

export async function performancesView(main) {
  const [halls, performers] = await Promise.all([hallOptions(), getAll("/api/performers")]);
  const list = h("div");
  let shows = [];
  const titles = () => shows.map((p) => p.title);
  const refresh = async () => {
    shows = await getAll("/api/performances");
    replace(list, table(t("admin.performances.title"), [t("admin.performances.poster"), t("admin.performances.name"),
      t("admin.performances.dates"), t("admin.performances.prices"), t("admin.performances.cast"), ""], shows.map((p) => [
      posterCell(p, refresh), p.title, `${day(p.starts_on)} – ${day(p.ends_on)}`,
      Object.entries(p.prices).map(([g, v]) => `${g} ${won(v)}`).join(", "), castCell(p, performers, refresh),
      rowActions(p.title, () => editPerformance(p, titles, refresh), () => deletePerformance(p, refresh))])));
  };

  const prices = h("fieldset", {}, h("legend", {}, t("admin.performances.prices")),
    h("p", { class: "muted" }, t("admin.performances.hallFirst")));
  const hallSelect = choice(t("admin.performances.hall"), "hall_id", [["", t("admin.choose")], ...halls], { required: true });
  const showPrices = async () => {          // one price field per grade of the hall chosen now
    const hall = hallSelect.querySelector("select").value;
    if (!hall) replace(prices, h("legend", {}, t("admin.performances.prices")), h("p", { class: "muted" }, t("admin.performances.hallFirst")));
    else replace(prices, h("legend", {}, t("admin.performances.pricesWon")), priceFields(await hallGrades(hall)));
  };
  hallSelect.querySelector("select").addEventListener("change", showPrices);
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-performance" },
    h("h2", { id: "new-performance" }, t("admin.performances.new")),
    performanceFields(titles),
    hallSelect,
    prices,
    field(t("admin.performances.posterFile"), { name: "poster", type: "file", accept: "image/png,image/jpeg,image/webp" }),
    errorBox(), h("button", { type: "submit" }, t("admin.performances.create"))), async (data) => {
    const created = await post("/api/performances", {
      ...performanceBody(data), hall_id: Number(data.get("hall_id")), prices: pricesOf(data) });
    const poster = data.get("poster");
    if (poster && poster.size) await uploadPoster(created.id, poster);
    toast(t("admin.performances.created", { title: created.title }), { kind: "ok" });
    await refresh();
  });
  // After creating, the form starts again: no hall, so no price fields of the last one; the duration
  // (a reset would blank it, as the field's value is set by script) back to its default.
  form.addEventListener("reset", () => setTimeout(() => { form.duration_minutes.value = 120; showPrices(); }));
  replace(main, h("h1", {}, t("admin.nav.performances")), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": t("admin.performances.all") }, list)));
  await refresh();
}

/** Title, description, category, dates and duration: the same fields to create and to change. */
const performanceFields = (titles, p = {}) => [
  nameField(t("admin.performances.name"), { name: "title", required: true, value: p.title || "" }, titles, p.title),
  h("label", {}, t("admin.performances.description"), " ", h("textarea", { name: "description", rows: 3 }, p.description || "")),
  choice(t("admin.performances.category"), "category", CATEGORIES.map((c) => [c, t(`catalogue.category.${c}`)])),
  h("div", { class: "form-grid" },
    field(t("admin.performances.firstDay"), { name: "starts_on", type: "date", required: true, value: p.starts_on || "" }),
    field(t("admin.performances.lastDay"), { name: "ends_on", type: "date", required: true, value: p.ends_on || "" }),
    field(t("admin.performances.duration"), { name: "duration_minutes", type: "number", min: 1, value: p.duration_minutes ?? 120 })),
];

const performanceBody = (data) => ({ title: data.get("title"), description: data.get("description") || "",
  category: data.get("category"), starts_on: data.get("starts_on"), ends_on: data.get("ends_on"),
  duration_minutes: Number(data.get("duration_minutes")) });

const priceFields = (grades, prices = {}) => grades.map((g) => field(t("admin.performances.grade", { grade: g }),
  { name: `prices.${g}`, type: "number", min: 0, step: 1000, required: true, value: prices[g] ?? "" }));

function pricesOf(data) {
  const prices = {};
  for (const [key, value] of data) if (key.startsWith("prices.")) prices[key.slice(7)] = Number(value);
  return prices;
}

function editPerformance(p, titles, refresh) {
  const dialog = editDialog(t("admin.editNamed", { name: p.title }), [
    performanceFields(titles, p),
    h("fieldset", {}, h("legend", {}, t("admin.performances.pricesWon")), priceFields(Object.keys(p.prices), p.prices)),
  ], async (data) => {
    await patch(`/api/performances/${p.id}`, { ...performanceBody(data), prices: pricesOf(data) });
    await refresh();
  });
  dialog.querySelector("select[name=category]").value = p.category;
}

async function deletePerformance(p, refresh) {
  const rounds = await getAll(`/api/performances/${p.id}/rounds`);
  deleteDialog({
    name: p.title,
    dependents: rounds.length ? [t("admin.performances.roundsGo", { count: rounds.length })] : [],
    remove: async () => { await del(`/api/performances/${p.id}`); await refresh(); },
    refusal: bookedRefusal,
  });
}

function uploadPoster(id, file) {
  const form = new FormData();
  form.append("file", file);
  return api("PUT", `/api/performances/${id}/poster`, undefined, { form });
}

function posterCell(p, refresh) {
  const input = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp", class: "visually-hidden",
    "aria-label": t("admin.performances.newPoster", { title: p.title }) });
  input.addEventListener("change", async () => {
    try { await uploadPoster(p.id, input.files[0]); await refresh(); } catch (err) { toast(err.message, { kind: "bad" }); }
  });
  return h("label", { class: "poster-cell" },
    p.poster_url ? h("img", { class: "thumb", src: p.poster_url, alt: t("catalogue.poster", { title: p.title }) })
      : h("span", { class: "muted" }, t("admin.performances.noPoster")),
    input, h("span", { class: "button secondary" }, t("admin.performances.upload")));
}

function castCell(p, performers, refresh) {
  const form = h("form", { class: "row" },
    h("select", { name: "performer_id", "aria-label": t("admin.performances.addPerformer", { title: p.title }) },
      performers.filter((x) => !p.performers.some((c) => c.id === x.id)).map((x) => h("option", { value: x.id }, x.name))),
    h("button", { type: "submit", class: "secondary" }, t("admin.performances.addCast")), errorBox());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post(`/api/performances/${p.id}/performers`, { performer_id: Number(form.performer_id.value) });
      await refresh();
    } catch (err) { showError(form, err); }
  });
  return h("div", {}, h("p", {}, p.performers.map((c) => c.name).join(", ") || "—"), performers.length ? form : null);
}
