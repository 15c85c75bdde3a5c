// Rounds (show times) of a performance: the list and a form to add one.
import { get, getAll, post } from "../api.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime, zonedToIso } from "../format.js";
import { go } from "../router.js";
import { choice, errorBox, field, onSubmit, table } from "./forms.js";

export async function roundsView(main, { performance } = {}) {
  const shows = await getAll("/api/performances");
  const picker = choice("Performance", "performance", [["", "Choose…"], ...shows.map((p) => [String(p.id), p.title])]);
  const select = picker.querySelector("select");
  select.value = performance || "";
  select.addEventListener("change", () => go(select.value ? `/rounds/${select.value}` : "/rounds"));
  const parts = [h("h1", {}, "Rounds & seats"), h("div", { class: "panel" }, picker)];
  if (performance) parts.push(await roundsOf(Number(performance)));
  replace(main, ...parts);
}

async function roundsOf(performanceId) {
  const { timezone } = await config();
  const list = h("div");
  const refresh = async () => {
    const rounds = await getAll(`/api/performances/${performanceId}/rounds`);
    const rows = await Promise.all(rounds.map(async (r) => {
      const a = await get(`/api/rounds/${r.id}/availability`);
      return [dateTime(r.starts_at), `${a.available} available · ${a.held} held · ${a.sold} sold · ${a.blocked} blocked`,
        h("a", { href: `#/seats/${r.id}`, "aria-label": `Seats of ${dateTime(r.starts_at)}` }, "Seats")];
    }));
    replace(list, table("Rounds", ["Starts", "Seats", ""], rows));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-round" },
    h("h2", { id: "new-round" }, "New round"),
    field(`Starts at (${timezone})`, { name: "starts_at", type: "datetime-local", required: true }),
    errorBox(), h("button", { type: "submit" }, "Add round")), async (data) => {
    await post(`/api/performances/${performanceId}/rounds`, { starts_at: zonedToIso(data.get("starts_at"), timezone) });
    await refresh();
  });
  await refresh();
  return h("div", { class: "admin-grid" }, form, h("section", { class: "panel", "aria-label": "Rounds" }, list));
}
