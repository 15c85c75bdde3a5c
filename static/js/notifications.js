// The signed-in user's notifications (SSE, GET /api/events?token=) shown as toasts. The browser's
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed across a drop.
import { session } from "./session.js";
import { toast } from "./toast.js";

const MESSAGES = {
  "reservation.created": (d) => [`Reservation made${ref(d)}: pay before it expires.`],
  "reservation.confirmed": (d) => [`Booking confirmed${ref(d)}.`, "ok"],
  "reservation.canceled": (d) => [`Booking canceled${ref(d)}.`],
  "reservation.expired": (d) => [`Reservation expired${ref(d)}: the time to pay ran out.`, "bad"],
  "payment.canceled": () => ["Payment refunded."],
  "hold.expired": () => ["Your seat hold expired.", "bad"],
  "coupon.issued": (d) => [`Coupon issued${d.name ? `: ${d.name}` : ""}.`, "ok"],
  "reminder.upcoming": (d) => [`Reminder: ${d.performance_title || "your show"} is coming up soon.`],
  "reminder.review": (d) => [`How was ${d.performance_title || "the show"}? Leave a review.`],
};

function ref(data) {
  const title = data.title || data.performance_title;
  const id = data.reservation_id ?? data.id;
  return title ? ` — ${title}` : id ? ` (#${id})` : "";
}

let source = null;

function connect() {
  source?.close();
  source = null;
  if (!session.signedIn) return;
  source = new EventSource(`/api/events?token=${encodeURIComponent(session.token)}`);
  for (const [event, message] of Object.entries(MESSAGES)) {
    source.addEventListener(event, (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch { /* a toast without details */ }
      const [text, kind] = message(data);
      // One toast per booking: its newer state (confirmed after created) replaces the stale one.
      const id = data.reservation_id ?? data.id;
      toast(text, { kind, key: event.startsWith("reservation.") && id ? `reservation:${id}` : event });
      document.dispatchEvent(new CustomEvent("ticketblue:event", { detail: { event, data } }));
    });
  }
}

export function startNotifications() {
  session.addEventListener("change", connect);
  connect();
}
