// Performances: create one on a hall with a price per grade, upload its poster, add its cast.
import { api, getAll, post } from "../api.js";
import { h, replace } from "../dom.js";
import { day, won } from "../format.js";
import { toast } from "../toast.js";
import { choice, errorBox, field, onSubmit, showError, table } from "./forms.js";
import { hallGrades, hallOptions } from "./halls.js";

const CATEGORIES = ["concert", "musical", "play", "classical", "dance", "etc"];

export async function performancesView(main) {
  const [halls, performers] = await Promise.all([hallOptions(), getAll("/api/performers")]);
  const list = h("div");
  const refresh = async () => {
    const shows = await getAll("/api/performances");
    replace(list, table("Performances", ["Poster", "Title", "Dates", "Prices", "Cast"], shows.map((p) => [
      posterCell(p, refresh), p.title, `${day(p.starts_on)} – ${day(p.ends_on)}`,
      Object.entries(p.prices).map(([g, v]) => `${g} ${won(v)}`).join(", "), castCell(p, performers, refresh)])));
  };

  const prices = h("fieldset", {}, h("legend", {}, "Prices"), h("p", { class: "muted" }, "Choose a hall first."));
  const hallSelect = choice("Hall", "hall_id", [["", "Choose…"], ...halls], { required: true });
  hallSelect.querySelector("select").addEventListener("change", async (e) => {
    const grades = e.target.value ? await hallGrades(e.target.value) : [];
    replace(prices, h("legend", {}, "Prices (won)"), grades.map((g) =>
      field(`${g} grade`, { name: `prices.${g}`, type: "number", min: 0, step: 1000, required: true })));
  });
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-performance" },
    h("h2", { id: "new-performance" }, "New performance"),
    field("Title", { name: "title", required: true }),
    h("label", {}, "Description ", h("textarea", { name: "description", rows: 3 })),
    choice("Category", "category", CATEGORIES.map((c) => [c, c])),
    hallSelect,
    h("div", { class: "form-grid" },
      field("First day", { name: "starts_on", type: "date", required: true }),
      field("Last day", { name: "ends_on", type: "date", required: true }),
      field("Duration (minutes)", { name: "duration_minutes", type: "number", min: 1, value: 120 })),
    prices,
    field("Poster (PNG, JPEG or WebP, up to 5 MiB)", { name: "poster", type: "file", accept: "image/png,image/jpeg,image/webp" }),
    errorBox(), h("button", { type: "submit" }, "Create performance")), async (data) => {
    const priceList = {};
    for (const [key, value] of data) if (key.startsWith("prices.")) priceList[key.slice(7)] = Number(value);
    const created = await post("/api/performances", {
      title: data.get("title"), description: data.get("description") || "", category: data.get("category"),
      hall_id: Number(data.get("hall_id")), starts_on: data.get("starts_on"), ends_on: data.get("ends_on"),
      duration_minutes: Number(data.get("duration_minutes")), prices: priceList });
    const poster = data.get("poster");
    if (poster && poster.size) await uploadPoster(created.id, poster);
    toast(`Created "${created.title}".`, { kind: "ok" });
    await refresh();
  });
  replace(main, h("h1", {}, "Performances"), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": "All performances" }, list)));
  await refresh();
}

function uploadPoster(id, file) {
  const form = new FormData();
  form.append("file", file);
  return api("PUT", `/api/performances/${id}/poster`, undefined, { form });
}

function posterCell(p, refresh) {
  const input = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp", class: "visually-hidden",
    "aria-label": `New poster for ${p.title}` });
  input.addEventListener("change", async () => {
    try { await uploadPoster(p.id, input.files[0]); await refresh(); } catch (err) { toast(err.message, { kind: "bad" }); }
  });
  return h("label", { class: "poster-cell" },
    p.poster_url ? h("img", { class: "thumb", src: p.poster_url, alt: `Poster of ${p.title}` }) : h("span", { class: "muted" }, "No poster"),
    input, h("span", { class: "button secondary" }, "Upload"));
}

function castCell(p, performers, refresh) {
  const form = h("form", { class: "row" },
    h("select", { name: "performer_id", "aria-label": `Add a performer to ${p.title}` },
      performers.filter((x) => !p.performers.some((c) => c.id === x.id)).map((x) => h("option", { value: x.id }, x.name))),
    h("button", { type: "submit", class: "secondary" }, "Add"), errorBox());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await post(`/api/performances/${p.id}/performers`, { performer_id: Number(form.performer_id.value) });
      await refresh();
    } catch (err) { showError(form, err); }
  });
  return h("div", {}, h("p", {}, p.performers.map((c) => c.name).join(", ") || "—"), performers.length ? form : null);
}
