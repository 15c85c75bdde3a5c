// One reservation: pay for it while pending (sandbox or Toss widget), the confirmation with its tickets
// once paid, cancel either way (an in-page dialog that says what happens to the money).
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { Countdown } from "../countdown.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { mountTossWidget, paySandbox } from "../payments.js";
import { seatLine, ticketList } from "../tickets.js";
import { toast } from "../toast.js";

export async function reservationView(main, { id }) {
  if (!(await askToSignIn(t("booking.signInToSee")))) { go("/"); return undefined; }
  const reservation = await get(`/api/reservations/${id}`);
  const [settings, round, seatData] = await Promise.all([config(), get(`/api/rounds/${reservation.round_id}`),
    get(`/api/rounds/${reservation.round_id}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const hall = await get(`/api/halls/${performance.hall_id}`).catch(() => null);
  const byId = new Map(seatData.seats.map((s) => [s.id, s]));
  const seats = reservation.seat_ids.map((sid) => byId.get(sid)).filter(Boolean);
  const rerender = () => go(`/reservations/${id}`);      // through the router: the old view leaves
  const countdown = new Countdown({ prefix: t("booking.timeToPay"), onExpire: rerender });
  const venue = hall ? [hall.name, hall.address].filter(Boolean).join(" · ") : "";

  const details = h("dl", { class: "summary" },
    h("dt", {}, t("booking.bookingNumber")), h("dd", { class: "booking-number" }, reservation.booking_number),
    h("dt", {}, t("booking.show")), h("dd", {}, `${performance.title} · ${dateTime(round.starts_at)}`),
    venue ? [h("dt", {}, t("booking.venue")), h("dd", {}, venue)] : null,
    h("dt", {}, t("booking.seats")), h("dd", {}, h("ul", {}, seats.map((s) =>
      h("li", {}, seatLine(s))))),
    reservation.discount ? [h("dt", {}, t("booking.discount")), h("dd", {}, `− ${won(reservation.discount)}`)] : null,
    h("dt", {}, t("booking.total")), h("dd", { class: "total" }, won(reservation.amount)));
  const error = h("p", { class: "form-error", role: "alert" });
  const status = reservation.status;
  const cancel = cancelButton(reservation, error, rerender);

  const heading = h("h1", { tabindex: "-1", class: `status-${status}` }, t(`booking.status.${status}`));
  const body = [details, error];
  if (status === "pending") {
    countdown.set(Date.parse(reservation.expires_at));
    body.unshift(countdown.element);
    body.push(await paymentPanel(settings, reservation, performance.title, error, rerender), cancel);
  } else if (status === "confirmed" || status === "attended") {
    body.unshift(h("p", { class: "success" }, t("booking.booked", { number: reservation.booking_number })));
    body.push(h("section", { class: "stack", "aria-labelledby": "tickets-title" },
      h("h2", { id: "tickets-title" }, t("booking.tickets")),
      ticketList(reservation, byId, { title: performance.title, startsAt: round.starts_at,
        hallName: hall?.name, hallAddress: hall?.address })));
    body.push(h("div", { class: "row" }, h("a", { class: "button secondary", href: "#/me" }, t("booking.myBookings")),
      status === "confirmed" ? cancel : null));
  } else {
    body.push(h("a", { href: `#/rounds/${round.id}` }, t("booking.chooseAgain")));
  }
  replace(main, h("article", { class: "panel stack reservation" }, heading, ...body));
  heading.focus();
  return { leave: () => countdown.stop() };
}

/** "Cancel": asks in an in-page dialog that says what happens (a refund of how much), then cancels. */
function cancelButton(reservation, error, done) {
  const paid = reservation.status === "confirmed";
  const dialog = h("dialog", { class: "stack", "aria-labelledby": "cancel-title" },
    h("h2", { id: "cancel-title" }, t(paid ? "booking.cancel.paidTitle" : "booking.cancel.title")),
    h("p", {}, paid ? t("booking.cancel.refund", { amount: won(reservation.amount) }) : t("booking.cancel.pending")),
    h("div", { class: "row" },
      h("button", { type: "button", class: "danger", onclick: async () => {
        dialog.close();
        try {
          const canceled = await post(`/api/reservations/${reservation.id}/cancel`, {});
          toast(paid ? t("booking.canceled.refunded", { amount: won(canceled.amount) }) : t("booking.canceled"),
            { key: `reservation:${reservation.id}` });
          done();
        } catch (err) { error.textContent = err.message; }
      } }, t("booking.cancel.confirm")),
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("booking.cancel.keep"))));
  const open = h("button", { type: "button", class: "danger", onclick: () => dialog.showModal() },
    t(paid ? "booking.cancel.paidTitle" : "booking.cancel.title"));
  return h("div", {}, open, dialog);
}

async function paymentPanel(settings, reservation, title, error, done) {
  const panel = h("section", { class: "payment stack", "aria-labelledby": "pay-title" },
    h("h2", { id: "pay-title" }, t("booking.payment")));
  const pay = h("button", { type: "button", class: "pay" }, t("booking.pay", { amount: won(reservation.amount) }));
  let start;
  if (settings.payments === "toss") {
    try {
      start = await mountTossWidget(panel, settings.toss_client_key, reservation, title);
    } catch (err) {
      error.textContent = err.message;
      return panel;
    }
  } else if (settings.payments === "sandbox") {
    panel.append(h("p", { class: "notice" }, t("booking.sandbox")));
    start = async () => { await paySandbox(reservation); done(); };
  } else {
    panel.append(h("p", { class: "alert" }, t("booking.noPayments")));
    return panel;
  }
  pay.addEventListener("click", async () => {
    pay.disabled = true;
    error.textContent = "";
    try { await start(); } catch (err) {
      error.textContent = err.code === "amount_mismatch" ? t("booking.amountChanged") : err.message;
      pay.disabled = false;
    }
  });
  panel.append(pay);
  return panel;
}
