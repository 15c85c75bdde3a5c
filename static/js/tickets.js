// A booking's tickets on the page: one card per seat with what the door needs (show, date, venue, seat,
// price, booking number) and its QR code. The server draws the QR (GET qr_url, the holder only), so the
// page fetches it with the account's token and shows it as an image.
import { h } from "./dom.js";
import { dateTime, won } from "./format.js";
import { t } from "./i18n.js";
import { seatPlace } from "./seats/names.js";
import { session } from "./session.js";

/** "R구역 2열 8번 · R석 · 120,000원": a booked or held seat on the booking screens. */
export const seatLine = (seat) => `${seatPlace(seat)} · ${t("booking.grade", { grade: seat.grade })} · ${won(seat.price)}`;

/** `show`: {title, startsAt, hallName, hallAddress}; `seats`: the reservation's seats by id. */
export function ticketList(reservation, seats, show) {
  return h("ul", { class: "tickets", "aria-label": t("booking.tickets") }, reservation.tickets.map((ticket) => {
    const seat = seats.get(ticket.seat_id);
    const qr = h("div", { class: "ticket-qr" });
    drawQr(qr, ticket, seat);
    return h("li", { class: "ticket" },
      qr,
      h("div", { class: "ticket-body" },
        h("p", { class: "ticket-title" }, show.title),
        h("p", {}, dateTime(show.startsAt)),
        h("p", {}, [show.hallName, show.hallAddress].filter(Boolean).join(" · ")),
        seat ? h("p", { class: "ticket-seat" }, seatLine(seat)) : null,
        h("p", { class: "muted" }, t("booking.number", { number: reservation.booking_number })),
        ticket.checked_in_at ? h("p", { class: "notice" }, t("booking.checkedIn", { at: dateTime(ticket.checked_in_at) })) : null,
        h("p", { class: "ticket-code" }, h("code", {}, ticket.code))));
  }));
}

async function drawQr(box, ticket, seat) {
  try {
    const reply = await fetch(ticket.qr_url, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!reply.ok) throw new Error(String(reply.status));
    const svg = await reply.text();
    box.append(h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, width: 160, height: 160,
      alt: t("booking.qr", { seat: seat ? seatPlace(seat) : ticket.code }) }));
  } catch {
    box.append(h("p", { class: "muted" }, t("booking.qrMissing")));
  }
}
