// Rounds (show times) of a performance: the list (each can be moved, given a sale opening, or
// deleted while nobody has booked it) and a form to add one.
import { del, get, getAll, patch, post } from "../api.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime, zonedToIso } from "../format.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { bookedRefusal, deleteDialog, editDialog } from "./dialogs.js";
import { choice, errorBox, field, localInput, onSubmit, rowActions, table } from "./forms.js";

export async function roundsView(main, { performance } = {}) {
  const shows = await getAll("/api/performances");
  const picker = choice(t("admin.rounds.performance"), "performance", [["", t("admin.choose")], ...shows.map((p) => [String(p.id), p.title])]);
  const select = picker.querySelector("select");
  select.value = performance || "";
  select.addEventListener("change", () => go(select.value ? `/rounds/${select.value}` : "/rounds"));
  const parts = [h("h1", {}, t("admin.nav.rounds")), h("div", { class: "panel" }, picker)];
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
      const when = dateTime(r.starts_at);
      return [when, r.sale_opens_at ? dateTime(r.sale_opens_at) : t("admin.rounds.onSaleNow"),
        t("admin.rounds.counts", a),
        h("div", { class: "row" },
          h("a", { href: `#/seats/${r.id}`, "aria-label": t("admin.rounds.seatsOf", { when }) }, t("admin.rounds.seats")),
          h("a", { href: `#/sales/${r.id}`, "aria-label": t("admin.rounds.salesOf", { when }) }, t("admin.rounds.sales"))),
        rowActions(when, () => editRound(r, timezone, refresh), () => deleteDialog({
          name: when,
          dependents: a.sold ? [t("admin.rounds.soldSeats", { count: a.sold })] : [],
          remove: async () => { await del(`/api/rounds/${r.id}`); await refresh(); },
          refusal: bookedRefusal,
        }))];
    }));
    replace(list, table(t("admin.rounds.title"), [t("admin.rounds.starts"), t("admin.rounds.saleOpens"), t("admin.rounds.seatCounts"), "", ""], rows));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-round" },
    h("h2", { id: "new-round" }, t("admin.rounds.new")),
    roundFields(timezone),
    errorBox(), h("button", { type: "submit" }, t("admin.rounds.add"))), async (data) => {
    await post(`/api/performances/${performanceId}/rounds`, roundBody(data, timezone));
    await refresh();
  });
  await refresh();
  return h("div", { class: "admin-grid" }, form, h("section", { class: "panel", "aria-label": t("admin.rounds.title") }, list));
}

/** When it starts and when its sale opens (empty: on sale now), to add a round and to change one. */
const roundFields = (timezone, r = {}) => [
  field(t("admin.rounds.startsAt", { zone: timezone }), { name: "starts_at", type: "datetime-local", required: true,
    value: localInput(r.starts_at) }),
  field(t("admin.rounds.saleOpensAt", { zone: timezone }), { name: "sale_opens_at", type: "datetime-local",
    value: localInput(r.sale_opens_at) }),
];

const roundBody = (data, timezone) => ({ starts_at: zonedToIso(data.get("starts_at"), timezone),
  sale_opens_at: data.get("sale_opens_at") ? zonedToIso(data.get("sale_opens_at"), timezone) : null });

function editRound(r, timezone, refresh) {
  editDialog(t("admin.editNamed", { name: dateTime(r.starts_at) }), roundFields(timezone, r), async (data) => {
    const body = roundBody(data, timezone);
    // A booked round cannot move but its sale opening may change: send only what changed.
    if (localInput(r.starts_at) === data.get("starts_at")) delete body.starts_at;
    await patch(`/api/rounds/${r.id}`, body);
    await refresh();
  });
}
