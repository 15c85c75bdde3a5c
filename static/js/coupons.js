// Coupons as the pages use them: the ones issued to me, the ones I can still get, and what one
// takes off a price (an estimate: the server computes the amount that is charged).
import { get, post } from "./api.js";
import { won } from "./format.js";
import { t } from "./i18n.js";

const items = (data) => (Array.isArray(data) ? data : data?.items || []);

/** My coupons that can still be used: [{coupon_id, name, discount_type, discount, ...}]. */
export async function myCoupons() {
  try {
    const now = Date.now();
    return items(await get("/api/users/me/coupons?size=100")).map(normalise)
      .filter((c) => !c.used && (!c.ends_at || Date.parse(c.ends_at) > now));
  } catch {
    return [];                        // no coupons yet on this server: checkout works without
  }
}

/** Coupons open for issuing right now. */
export async function issuableCoupons() {
  try {
    return items(await get("/api/coupons?size=100")).map(normalise);
  } catch {
    return [];
  }
}

export const issueCoupon = (couponId) => post(`/api/coupons/${couponId}/issue`, {});

/** An issued coupon may come as the coupon itself or wrapped ({coupon: {...}}, coupon_id). */
function normalise(c) {
  const inner = c.coupon || {};
  return {
    ...inner,
    ...c,
    coupon_id: c.coupon_id ?? inner.id ?? c.id,
    name: c.name ?? inner.name,
    discount_type: c.discount_type ?? inner.discount_type,
    discount: c.discount ?? inner.discount,
    ends_at: c.ends_at ?? inner.ends_at,
    used: Boolean(c.used_at || c.used || c.status === "used"),
  };
}

export function discountOf(coupon, subtotal) {
  if (!coupon) return 0;
  if (coupon.discount_type === "percent") return Math.floor((subtotal * coupon.discount) / 100);
  return Math.min(subtotal, coupon.discount);
}

/** "가을 할인 (10% 할인)", "Autumn (5,000 won off)" */
export const describeCoupon = (c) => t("booking.couponOff", {
  name: c.name, off: c.discount_type === "percent" ? `${c.discount}%` : won(c.discount) });
