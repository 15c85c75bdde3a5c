// Checkout: the seats held for you, a coupon, the total; "Reserve" turns the holds into a
// reservation (pending payment) and moves on to paying for it.
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { describeCoupon, discountOf, issueCoupon, issuableCoupons, myCoupons } from "../coupons.js";
import { h, replace } from "../dom.js";
import { dateTime, won } from "../format.js";
import { go } from "../router.js";
import { seatPlace } from "../seats/names.js";

export async function checkoutView(main, { id }) {
  const roundId = Number(id);
  if (!(await askToSignIn("Log in to book your seats."))) { go(`/rounds/${roundId}`); return; }
  const [round, seatData] = await Promise.all([get(`/api/rounds/${roundId}`), get(`/api/rounds/${roundId}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const seats = seatData.seats.filter((s) => s.status === "mine");
  const back = h("a", { href: `#/rounds/${roundId}` }, "Back to the seat map");
  if (!seats.length) {
    replace(main, h("h1", {}, "Checkout"), h("p", { class: "notice" }, "No seats are held for you any more."), back);
    return;
  }
  const subtotal = seats.reduce((sum, s) => sum + s.price, 0);
  const summary = h("dl", { class: "summary" });
  const couponBox = h("fieldset", { class: "coupons" });
  const error = h("p", { class: "form-error", role: "alert" });
  let coupons = [];

  const chosen = () => coupons.find((c) => String(c.coupon_id) === couponBox.querySelector("input:checked")?.value);
  const showTotal = () => {
    const discount = discountOf(chosen(), subtotal);
    replace(summary,
      h("dt", {}, "Seats"), h("dd", {}, won(subtotal)),
      h("dt", {}, "Coupon"), h("dd", {}, discount ? `− ${won(discount)}` : "none"),
      h("dt", {}, "Total"), h("dd", { class: "total" }, won(subtotal - discount)));
  };
  const showCoupons = async () => {
    const [mine, open] = await Promise.all([myCoupons(), issuableCoupons()]);
    coupons = mine;
    const owned = new Set(mine.map((c) => String(c.coupon_id)));
    const radio = (value, text, checked) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "coupon", value, checked, onchange: showTotal }), text);
    replace(couponBox, h("legend", {}, "Coupon"),
      radio("", "No coupon", true),
      mine.map((c) => radio(String(c.coupon_id), describeCoupon(c), false)),
      open.filter((c) => !owned.has(String(c.coupon_id))).map((c) => h("p", { class: "row" },
        h("span", {}, describeCoupon(c)),
        h("button", { type: "button", class: "secondary", "aria-label": `Get coupon ${c.name}`,
          onclick: async (e) => {
            e.target.disabled = true;
            try { await issueCoupon(c.coupon_id); } catch (err) { error.textContent = couponError(err); }
            await showCoupons();
          } }, "Get coupon"))));
    showTotal();
  };

  const reserve = h("button", { type: "submit" }, "Reserve and pay");
  const form = h("form", { class: "panel stack checkout", onsubmit: async (e) => {
    e.preventDefault();
    reserve.disabled = true;
    error.textContent = "";
    try {
      const coupon = chosen();
      const reservation = await post("/api/reservations", { round_id: roundId, seat_ids: seats.map((s) => s.id),
        ...(coupon ? { coupon_id: coupon.coupon_id } : {}) });
      go(`/reservations/${reservation.id}`);
    } catch (err) {
      error.textContent = err.code === "seat_unavailable"
        ? "Some of these seats are no longer held for you. Go back to the map and choose again."
        : err.message;
      reserve.disabled = false;
    }
  } },
  h("h2", {}, "Your seats"),
  h("ul", {}, seats.map((s) => h("li", {}, `${seatPlace(s)} · ${s.grade} grade · ${won(s.price)}`))),
  couponBox, summary, error, h("div", { class: "row" }, reserve, back));

  replace(main, h("h1", {}, "Checkout"),
    h("p", { class: "muted" }, `${performance.title} · ${dateTime(round.starts_at)}`), form);
  await showCoupons();
}

function couponError(err) {
  if (err.code === "sold_out") return "Sorry, that coupon has run out.";
  if (err.code === "already_issued") return "You already have that coupon.";
  return err.message;
}
