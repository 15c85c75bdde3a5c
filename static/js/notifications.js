// The signed-in user's notifications (SSE, GET /api/events?token=) shown as toasts. The browser's
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed across a drop.
import { get } from "./api.js";
import { t } from "./i18n.js";
import { seatPlace } from "./seats/names.js";
import { session } from "./session.js";
import { toast } from "./toast.js";

// event → [catalogue key, toast kind]; the text gets the show's title.
const MESSAGES = {
  "reservation.created": ["booking.notice.created", ""],
  "reservation.confirmed": ["booking.notice.confirmed", "ok"],
  "reservation.canceled": ["booking.notice.canceled", ""],
  "reservation.expired": ["booking.notice.expired", "bad"],
  "payment.canceled": ["booking.notice.refunded", ""],
  "hold.expired": ["booking.notice.holdExpired", "bad"],
  "coupon.issued": ["booking.notice.coupon", "ok"],
  "reminder.upcoming": ["booking.notice.upcoming", ""],
  "reminder.review": ["booking.notice.review", ""],
  "seat.available": ["booking.notice.seatAvailable", "ok"],
};

let source = null;

function connect() {
  source?.close();
  source = null;
  if (!session.signedIn) return;
  source = new EventSource(`/api/events?token=${encodeURIComponent(session.token)}`);
  for (const [event, [key, kind]] of Object.entries(MESSAGES)) {
    source.addEventListener(event, async (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch { /* a toast without details */ }
      document.dispatchEvent(new CustomEvent("ticketblue:event", { detail: { event, data } }));
      const id = data.reservation_id ?? data.id;
      const params = { title: data.title || data.performance_title || "", name: data.name || "",
        seats: event === "seat.available" ? await seatNames(data) : "" };
      // One toast per booking: its newer state (confirmed after created, refunded after canceled)
      // replaces the stale one.
      const toastKey = /^(reservation|payment)\./.test(event) && id ? `reservation:${id}`
        : event === "seat.available" ? `watch:${data.round_id}` : event;
      toast(t(key, params), { kind, key: toastKey });
    });
  }
}

/** "R구역 2열 8번, R구역 2열 9번" for the seats of a seat.available event. */
async function seatNames({ round_id: roundId, seat_ids: seatIds = [] }) {
  try {
    const { seats } = await get(`/api/rounds/${roundId}/seats`);
    const wanted = new Set(seatIds);
    return seats.filter((s) => wanted.has(s.id)).map(seatPlace).join(", ");
  } catch {
    return "";
  }
}

export function startNotifications() {
  session.addEventListener("change", connect);
  connect();
}
