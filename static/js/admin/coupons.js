// Coupons: create one (first come, first served, a fixed quantity) and see those open now.
import { getAll, post } from "../api.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime, zonedToIso } from "../format.js";
import { describeCoupon } from "../coupons.js";
import { choice, errorBox, field, onSubmit, table } from "./forms.js";

export async function couponsView(main) {
  const { timezone } = await config();
  const list = h("div");
  const refresh = async () => {
    let coupons = [];
    try { coupons = await getAll("/api/coupons"); } catch (err) { replace(list, h("p", { class: "alert" }, err.message)); return; }
    replace(list, table("Coupons open now", ["Coupon", "Left", "Valid"], coupons.map((c) =>
      [describeCoupon(c), `${c.remaining} of ${c.quantity}`, `${dateTime(c.starts_at)} – ${dateTime(c.ends_at)}`])));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-coupon" },
    h("h2", { id: "new-coupon" }, "New coupon"),
    field("Name", { name: "name", required: true }),
    h("div", { class: "form-grid" },
      choice("Discount type", "discount_type", [["amount", "Amount (won)"], ["percent", "Percent"]]),
      field("Discount", { name: "discount", type: "number", min: 1, required: true }),
      field("Quantity", { name: "quantity", type: "number", min: 1, required: true })),
    h("div", { class: "form-grid" },
      field(`Valid from (${timezone})`, { name: "starts_at", type: "datetime-local", required: true }),
      field(`Valid until (${timezone})`, { name: "ends_at", type: "datetime-local", required: true })),
    errorBox(), h("button", { type: "submit" }, "Create coupon")), async (data) => {
    await post("/api/coupons", { name: data.get("name"), discount_type: data.get("discount_type"),
      discount: Number(data.get("discount")), quantity: Number(data.get("quantity")),
      starts_at: zonedToIso(data.get("starts_at"), timezone), ends_at: zonedToIso(data.get("ends_at"), timezone) });
    await refresh();
  });
  replace(main, h("h1", {}, "Coupons"), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": "Coupons open now" }, list)));
  await refresh();
}
