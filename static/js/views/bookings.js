// My bookings: every reservation of the signed-in user, newest first.
import { get } from "../api.js";
import { askToSignIn } from "../auth.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { go } from "../router.js";

export async function bookingsView(main) {
  if (!(await askToSignIn("Log in to see your bookings."))) { go("/"); return; }
  const data = await get("/api/reservations?size=100");
  replace(main, h("h1", {}, "My bookings"), data.items.length
    ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Booked", "Status", "Seats", "Amount", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, data.items.map((r) => h("tr", {},
        h("td", {}, dateTime(r.created_at)), h("td", {}, r.status), h("td", {}, String(r.seat_ids.length)),
        h("td", {}, won(r.amount)), h("td", {}, h("a", { href: `#/reservations/${r.id}` }, "Details")))))))
    : h("p", { class: "muted" }, "No bookings yet."));
}
