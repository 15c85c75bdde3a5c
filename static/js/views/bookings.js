// My bookings: every reservation of the signed-in user, newest first, each with its show, date, seats,
// status in words and amount (one card each, so the list fits a phone).
import { get } from "../api.js";
import { askToSignIn } from "../auth.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { seatPlace } from "../seats/names.js";

export async function bookingsView(main) {
  if (!(await askToSignIn(t("booking.signInToSee")))) { go("/"); return; }
  const data = await get("/api/reservations?size=100");
  const shows = await showsOf([...new Set(data.items.map((r) => r.round_id))]);
  replace(main, h("h1", {}, t("booking.myBookings")), data.items.length
    ? h("ul", { class: "bookings" }, data.items.map((r) => bookingCard(r, shows.get(r.round_id))))
    : h("p", { class: "muted" }, t("booking.bookings.empty")));
}

function bookingCard(reservation, show) {
  const seats = show ? reservation.seat_ids.map((id) => show.seats.get(id)).filter(Boolean) : [];
  return h("li", { class: "panel booking" },
    h("h2", {}, h("a", { href: `#/reservations/${reservation.id}` }, show?.title || reservation.booking_number)),
    h("p", {}, show ? dateTime(show.startsAt) : ""),
    h("p", { class: `status status-${reservation.status}` }, t(`booking.status.${reservation.status}`)),
    h("p", {}, seats.map(seatPlace).join(", ")),
    h("p", { class: "muted" }, `${t("booking.number", { number: reservation.booking_number })} · ${won(reservation.amount)}`),
    h("a", { href: `#/reservations/${reservation.id}` }, t("booking.bookings.details")));
}

/** round id → {title, startsAt, seats: Map(seat id → seat)}; a round that is gone is left out. */
async function showsOf(roundIds) {
  const shows = new Map();
  await Promise.all(roundIds.map(async (roundId) => {
    try {
      const [round, seatData] = await Promise.all([get(`/api/rounds/${roundId}`), get(`/api/rounds/${roundId}/seats`)]);
      const performance = await get(`/api/performances/${round.performance_id}`);
      shows.set(roundId, { title: performance.title, startsAt: round.starts_at,
        seats: new Map(seatData.seats.map((s) => [s.id, s])) });
    } catch { /* shown by its booking number alone */ }
  }));
  return shows;
}
