// Booking search across every user: by performance, then one of its rounds (picked by date, never
// typed as an id), email, status and booking date; the results name the show and the date.
import { get, getAll } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { t } from "../i18n.js";
import { choice, errorBox, field, showError, table } from "./forms.js";
import { roundPicker } from "./roundpicker.js";

const STATUSES = ["pending", "confirmed", "canceled", "expired", "attended"];

export async function bookingsView(main) {
  const shows = await getAll("/api/performances");
  const titles = new Map(shows.map((p) => [p.id, p.title]));
  const { performancePicker, datePicker, rounds } = roundPicker(shows,
    { noPerformance: t("admin.bookings.any"), noRound: t("admin.bookings.anyRound") });
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel stack", role: "search", "aria-labelledby": "search-bookings" },
    h("h2", { id: "search-bookings" }, t("admin.bookings.search")),
    h("div", { class: "form-grid" },
      performancePicker, datePicker,
      field(t("admin.bookings.email"), { name: "user_email", type: "search" }),
      choice(t("admin.bookings.status"), "status", [["", t("admin.bookings.any")], ...STATUSES.map((s) => [s, t(`admin.bookings.status.${s}`)])]),
      field(t("admin.bookings.from"), { name: "from", type: "date" }),
      field(t("admin.bookings.to"), { name: "to", type: "date" })),
    errorBox(), h("button", { type: "submit" }, t("admin.bookings.submit")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(form, null);
    const query = new URLSearchParams([...new FormData(form)].filter(([, v]) => v));
    query.set("size", "100");
    try {
      const page = await get(`/api/admin/reservations/search?${query}`);
      const when = new Map();
      for (const id of new Set(page.items.map((r) => r.performance_id))) {
        for (const r of await rounds(id)) when.set(r.id, dateTime(r.starts_at));
      }
      replace(results, h("p", {}, t("admin.bookings.count", { count: page.total })),
        table(t("admin.nav.bookings"), ["#", t("admin.bookings.booked"), t("admin.bookings.user"), t("admin.bookings.performance"),
          t("admin.bookings.round"), t("admin.bookings.seats"), t("admin.bookings.amount"), t("admin.bookings.status")], page.items.map((r) => [
          String(r.id), r.created_at ? dateTime(r.created_at) : "—",
          r.user_email ? `${r.user_name} <${r.user_email}>` : r.user_name || String(r.user_id),
          titles.get(r.performance_id) || "—", when.get(r.round_id) || "—", String(r.seat_ids?.length ?? "—"), won(r.amount),
          t(`admin.bookings.status.${r.status}`)])));
    } catch (err) { showError(form, err); }
  });
  replace(main, h("h1", {}, t("admin.nav.bookings")), form, h("section", { class: "panel", "aria-label": t("admin.bookings.results") }, results));
}
