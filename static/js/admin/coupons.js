// Coupons: create one (first come, first served, a fixed quantity) and see those open now.
import { getAll, post } from "../api.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime, zonedToIso } from "../format.js";
import { describeCoupon } from "../coupons.js";
import { t } from "../i18n.js";
import { choice, errorBox, field, onSubmit, table } from "./forms.js";

export async function couponsView(main) {
  const { timezone } = await config();
  const list = h("div");
  const refresh = async () => {
    let coupons = [];
    try { coupons = await getAll("/api/coupons"); } catch (err) { replace(list, h("p", { class: "alert" }, err.message)); return; }
    replace(list, table(t("admin.coupons.title"), [t("admin.coupons.coupon"), t("admin.coupons.left"), t("admin.coupons.valid")], coupons.map((c) =>
      [describeCoupon(c), t("admin.coupons.remaining", c), `${dateTime(c.starts_at)} – ${dateTime(c.ends_at)}`])));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-coupon" },
    h("h2", { id: "new-coupon" }, t("admin.coupons.new")),
    field(t("admin.name"), { name: "name", required: true }),
    h("div", { class: "form-grid" },
      choice(t("admin.coupons.discountType"), "discount_type", [["amount", t("admin.coupons.amount")], ["percent", t("admin.coupons.percent")]]),
      field(t("admin.coupons.discount"), { name: "discount", type: "number", min: 1, required: true }),
      field(t("admin.coupons.quantity"), { name: "quantity", type: "number", min: 1, required: true })),
    h("div", { class: "form-grid" },
      field(t("admin.coupons.from", { zone: timezone }), { name: "starts_at", type: "datetime-local", required: true }),
      field(t("admin.coupons.until", { zone: timezone }), { name: "ends_at", type: "datetime-local", required: true })),
    errorBox(), h("button", { type: "submit" }, t("admin.coupons.create"))), async (data) => {
    await post("/api/coupons", { name: data.get("name"), discount_type: data.get("discount_type"),
      discount: Number(data.get("discount")), quantity: Number(data.get("quantity")),
      starts_at: zonedToIso(data.get("starts_at"), timezone), ends_at: zonedToIso(data.get("ends_at"), timezone) });
    await refresh();
  });
  replace(main, h("h1", {}, t("admin.nav.coupons")), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": t("admin.coupons.title") }, list)));
  await refresh();
}
