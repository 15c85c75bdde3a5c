// Booking search across every user: by performance, round, email, status and booking date.
import { get, getAll } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { t } from "../i18n.js";
import { choice, errorBox, field, showError, table } from "./forms.js";

const STATUSES = ["pending", "confirmed", "canceled", "expired", "attended"];

export async function bookingsView(main) {
  const shows = await getAll("/api/performances");
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel stack", role: "search", "aria-labelledby": "search-bookings" },
    h("h2", { id: "search-bookings" }, "Search bookings"),
    h("div", { class: "form-grid" },
      choice("Performance", "performance_id", [["", "Any"], ...shows.map((p) => [String(p.id), p.title])]),
      field("Round id", { name: "round_id", type: "number", min: 1 }),
      field("User email", { name: "user_email", type: "search" }),
      choice("Status", "status", [["", "Any"], ...STATUSES.map((s) => [s, s])]),
      field("Booked from", { name: "from", type: "date" }),
      field("Booked until", { name: "to", type: "date" })),
    errorBox(), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError(form, null);
    const query = new URLSearchParams([...new FormData(form)].filter(([, v]) => v));
    query.set("size", "100");
    try {
      const page = await get(`/api/admin/reservations/search?${query}`);
      replace(results, h("p", {}, `${page.total} booking${page.total === 1 ? "" : "s"}`),
        table("Bookings", ["#", "Booked", "User", "Round", "Seats", "Amount", "Status"], page.items.map((r) => [
          String(r.id), r.created_at ? dateTime(r.created_at) : "—", r.user_email ? `${r.user_name} <${r.user_email}>` : r.user_name || String(r.user_id),
          String(r.round_id), String(r.seat_ids?.length ?? "—"), won(r.amount), r.status])));
    } catch (err) { showError(form, err); }
  });
  replace(main, h("h1", {}, "Bookings"), form, h("section", { class: "panel", "aria-label": "Results" }, results));
}
