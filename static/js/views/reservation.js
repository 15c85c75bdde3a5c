// One reservation: pay for it while pending (sandbox or Toss widget), the confirmation once paid,
// cancel either way.
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { Countdown } from "../countdown.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { go } from "../router.js";
import { mountTossWidget, paySandbox } from "../payments.js";
import { seatPlace } from "../seats/names.js";
import { toast } from "../toast.js";

const STATUS_TEXT = { pending: "Waiting for payment", confirmed: "Booking confirmed", canceled: "Canceled",
  expired: "Expired: the time to pay ran out", attended: "Attended" };

export async function reservationView(main, { id }) {
  if (!(await askToSignIn("Log in to see your booking."))) { go("/"); return undefined; }
  const reservation = await get(`/api/reservations/${id}`);
  const [settings, round, seatData] = await Promise.all([config(), get(`/api/rounds/${reservation.round_id}`),
    get(`/api/rounds/${reservation.round_id}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const byId = new Map(seatData.seats.map((s) => [s.id, s]));
  const seats = reservation.seat_ids.map((sid) => byId.get(sid)).filter(Boolean);
  const rerender = () => go(`/reservations/${id}`);      // through the router: the old view leaves
  const countdown = new Countdown({ prefix: "Time left to pay:", onExpire: rerender });

  const details = h("dl", { class: "summary" },
    h("dt", {}, "Show"), h("dd", {}, `${performance.title} · ${dateTime(round.starts_at)}`),
    h("dt", {}, "Seats"), h("dd", {}, h("ul", {}, seats.map((s) => h("li", {}, `${seatPlace(s)} · ${s.grade} grade`)))),
    reservation.discount ? [h("dt", {}, "Discount"), h("dd", {}, `− ${won(reservation.discount)}`)] : null,
    h("dt", {}, "Total"), h("dd", { class: "total" }, won(reservation.amount)),
    h("dt", {}, "Order number"), h("dd", {}, h("code", {}, reservation.order_id)));
  const error = h("p", { class: "form-error", role: "alert" });
  const cancel = h("button", { type: "button", class: "danger", onclick: async () => {
    const refund = reservation.status === "confirmed";
    if (!window.confirm(refund ? "Cancel this booking? The payment is refunded." : "Cancel this reservation?")) return;
    try {
      await post(`/api/reservations/${reservation.id}/cancel`, {});
      toast(refund ? "Booking canceled; the payment is refunded." : "Reservation canceled.");
      rerender();
    } catch (err) { error.textContent = err.message; }
  } }, reservation.status === "confirmed" ? "Cancel booking" : "Cancel reservation");

  const status = reservation.status;
  const heading = h("h1", { tabindex: "-1", class: `status-${status}` }, STATUS_TEXT[status] || status);
  const body = [details, error];
  if (status === "pending") {
    countdown.set(Date.parse(reservation.expires_at));
    body.unshift(countdown.element);
    body.push(await paymentPanel(settings, reservation, performance.title, error, rerender), cancel);
  } else if (status === "confirmed") {
    body.unshift(h("p", { class: "success" }, `Your seats are booked. Order ${reservation.order_id}.`));
    body.push(h("div", { class: "row" }, h("a", { class: "button secondary", href: "#/me" }, "My bookings"), cancel));
  } else {
    body.push(h("a", { href: `#/rounds/${round.id}` }, "Choose seats again"));
  }
  replace(main, h("article", { class: "panel stack reservation" }, heading, ...body));
  heading.focus();
  return { leave: () => countdown.stop() };
}

async function paymentPanel(settings, reservation, title, error, done) {
  const panel = h("section", { class: "payment stack", "aria-labelledby": "pay-title" },
    h("h2", { id: "pay-title" }, "Payment"));
  const pay = h("button", { type: "button", class: "pay" }, `Pay ${won(reservation.amount)}`);
  let start;
  if (settings.payments === "toss") {
    try {
      start = await mountTossWidget(panel, settings.toss_client_key, reservation, title);
    } catch (err) {
      error.textContent = err.message;
      return panel;
    }
  } else if (settings.payments === "sandbox") {
    panel.append(h("p", { class: "notice" }, "Sandbox payments: no card is charged on this server."));
    start = async () => { await paySandbox(reservation); done(); };
  } else {
    panel.append(h("p", { class: "alert" }, "This server takes no payments in the browser."));
    return panel;
  }
  pay.addEventListener("click", async () => {
    pay.disabled = true;
    error.textContent = "";
    try { await start(); } catch (err) {
      error.textContent = err.code === "amount_mismatch" ? "The amount changed; please reload." : err.message;
      pay.disabled = false;
    }
  });
  panel.append(pay);
  return panel;
}
