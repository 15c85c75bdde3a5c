// Checkout: the seats held for you with the time left on the hold, a coupon, the total, and one step,
// "결제하기", that turns the holds into a reservation and pays for it (sandbox at once; with Toss the
// reservation page shows the widget). When the hold runs out the page says so and cannot pay.
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { Countdown } from "../countdown.js";
import { describeCoupon, discountOf, issueCoupon, issuableCoupons, myCoupons } from "../coupons.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { t } from "../i18n.js";
import { paySandbox } from "../payments.js";
import { go } from "../router.js";
import { firstHoldEnd, savedHoldDeadlines } from "../seats/basket.js";
import { seatLine } from "../tickets.js";

export async function checkoutView(main, { id }) {
  const roundId = Number(id);
  if (!(await askToSignIn(t("booking.signInToBook")))) { go(`/rounds/${roundId}`); return undefined; }
  const [settings, round, seatData] = await Promise.all([config(), get(`/api/rounds/${roundId}`),
    get(`/api/rounds/${roundId}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const seats = seatData.seats.filter((s) => s.status === "mine");
  const back = h("a", { href: `#/rounds/${roundId}` }, t("booking.backToMap"));
  const title = h("h1", {}, t("booking.checkout"));
  if (!seats.length) {
    replace(main, title, h("p", { class: "notice" }, t("booking.noHolds")), back);
    return undefined;
  }
  const subtotal = seats.reduce((sum, s) => sum + s.price, 0);
  const summary = h("dl", { class: "summary" });
  const couponBox = h("fieldset", { class: "coupons" });
  const error = h("p", { class: "form-error", role: "alert" });
  const reserve = h("button", { type: "submit", class: "pay" });
  let coupons = [];

  const holdOver = () => {
    reserve.disabled = true;
    error.textContent = t("booking.holdOver");
  };
  const countdown = new Countdown({ prefix: t("booking.holdLeft"), onExpire: holdOver });
  countdown.set(firstHoldEnd(savedHoldDeadlines(roundId), seats));   // as the round page saved them

  const chosen = () => coupons.find((c) => String(c.coupon_id) === couponBox.querySelector("input:checked")?.value);
  const showTotal = () => {
    const discount = discountOf(chosen(), subtotal);
    replace(summary,
      h("dt", {}, t("booking.seatsSubtotal")), h("dd", {}, won(subtotal)),
      h("dt", {}, t("booking.coupon")), h("dd", {}, discount ? `− ${won(discount)}` : t("booking.none")),
      h("dt", {}, t("booking.total")), h("dd", { class: "total" }, won(subtotal - discount)));
    reserve.textContent = t("booking.pay", { amount: won(subtotal - discount) });
  };
  const showCoupons = async () => {
    const [mine, open] = await Promise.all([myCoupons(), issuableCoupons()]);
    coupons = mine;
    const owned = new Set(mine.map((c) => String(c.coupon_id)));
    const radio = (value, text, checked) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "coupon", value, checked, onchange: showTotal }), text);
    replace(couponBox, h("legend", {}, t("booking.coupon")),
      radio("", t("booking.noCoupon"), true),
      mine.map((c) => radio(String(c.coupon_id), describeCoupon(c), false)),
      open.filter((c) => !owned.has(String(c.coupon_id))).map((c) => h("p", { class: "row" },
        h("span", {}, describeCoupon(c)),
        h("button", { type: "button", class: "secondary", "aria-label": t("booking.getCouponNamed", { name: c.name }),
          onclick: async (e) => {
            e.target.disabled = true;
            try { await issueCoupon(c.coupon_id); } catch (err) { error.textContent = couponError(err); }
            await showCoupons();
          } }, t("booking.getCoupon")))));
    showTotal();
  };

  const form = h("form", { class: "panel stack checkout", onsubmit: async (e) => {
    e.preventDefault();
    reserve.disabled = true;
    error.textContent = "";
    let reservation;
    try {
      const coupon = chosen();
      reservation = await post("/api/reservations", { round_id: roundId, seat_ids: seats.map((s) => s.id),
        ...(coupon ? { coupon_id: coupon.coupon_id } : {}) });
    } catch (err) {
      error.textContent = err.code === "seat_unavailable" ? t("booking.seatsGone") : err.message;
      reserve.disabled = false;
      return;
    }
    countdown.stop();
    // The reservation exists: whatever the payment says, its page is where it is paid or retried.
    try {
      if (settings.payments === "sandbox") await paySandbox(reservation);
    } finally {
      go(`/reservations/${reservation.id}`);
    }
  } },
  h("h2", {}, t("booking.yourSeats")),
  h("ul", {}, seats.map((s) => h("li", {}, seatLine(s)))),
  countdown.element, couponBox, summary, error, h("div", { class: "row" }, reserve, back));

  replace(main, title, h("p", { class: "muted" }, `${performance.title} · ${dateTime(round.starts_at)}`), form);
  await showCoupons();
  return { leave: () => countdown.stop() };
}

function couponError(err) {
  if (err.code === "sold_out") return t("booking.couponSoldOut");
  if (err.code === "already_issued") return t("booking.couponTaken");
  return err.message;
}
