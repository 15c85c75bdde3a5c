// Coupons: create one (first come, first served, a fixed quantity) and see every coupon with its state
// (scheduled, live, sold out, ended) and how many were issued; change or delete one from the list.
import { del, getAll, patch, post } from "../api.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime, zonedToIso } from "../format.js";
import { describeCoupon } from "../coupons.js";
import { t } from "../i18n.js";
import { deleteDialog, editDialog } from "./dialogs.js";
import { choice, errorBox, field, localInput, nameField, onSubmit, rowActions, table } from "./forms.js";

export async function couponsView(main) {
  const { timezone } = await config();
  const list = h("div");
  let coupons = [];
  const names = () => coupons.map((c) => c.name);
  const refresh = async () => {
    coupons = await getAll("/api/admin/coupons");
    replace(list, table(t("admin.coupons.title"), [t("admin.coupons.coupon"), t("admin.coupons.state"),
      t("admin.coupons.issued"), t("admin.coupons.valid"), ""], coupons.map((c) => [
      describeCoupon(c), h("span", { class: `state state-${c.state}` }, t(`admin.coupons.state.${c.state}`)),
      t("admin.coupons.issuedOf", c), `${dateTime(c.starts_at)} – ${dateTime(c.ends_at)}`,
      rowActions(c.name, () => editCoupon(c, names, timezone, refresh), () => deleteDialog({
        name: c.name,
        dependents: c.issued ? [t("admin.coupons.taken", { count: c.issued })] : [],
        remove: async () => { await del(`/api/coupons/${c.id}`); await refresh(); },
        refusal: (err) => t("admin.coupons.taken", { count: err.details.issued ?? c.issued }),
      }))])));
  };
  const form = onSubmit(h("form", { class: "panel stack", "aria-labelledby": "new-coupon" },
    h("h2", { id: "new-coupon" }, t("admin.coupons.new")),
    nameField(t("admin.name"), { name: "name", required: true }, names),
    h("div", { class: "form-grid" },
      choice(t("admin.coupons.discountType"), "discount_type", [["amount", t("admin.coupons.amount")], ["percent", t("admin.coupons.percent")]]),
      field(t("admin.coupons.discount"), { name: "discount", type: "number", min: 1, required: true }),
      field(t("admin.coupons.quantity"), { name: "quantity", type: "number", min: 1, required: true })),
    windowFields(timezone),
    errorBox(), h("button", { type: "submit" }, t("admin.coupons.create"))), async (data) => {
    await post("/api/coupons", { name: data.get("name"), discount_type: data.get("discount_type"),
      discount: Number(data.get("discount")), quantity: Number(data.get("quantity")), ...windowOf(data, timezone) });
    await refresh();
  });
  replace(main, h("h1", {}, t("admin.nav.coupons")), h("div", { class: "admin-grid" }, form,
    h("section", { class: "panel", "aria-label": t("admin.coupons.title") }, list)));
  await refresh();
}

/** When a coupon can be taken: the same two fields to create and to change one. */
const windowFields = (timezone, c = {}) => h("div", { class: "form-grid" },
  field(t("admin.coupons.from", { zone: timezone }), { name: "starts_at", type: "datetime-local", required: true, value: localInput(c.starts_at) }),
  field(t("admin.coupons.until", { zone: timezone }), { name: "ends_at", type: "datetime-local", required: true, value: localInput(c.ends_at) }));

const windowOf = (data, timezone) => ({ starts_at: zonedToIso(data.get("starts_at"), timezone),
  ends_at: zonedToIso(data.get("ends_at"), timezone) });

function editCoupon(c, names, timezone, refresh) {
  editDialog(t("admin.editNamed", { name: c.name }), [
    nameField(t("admin.name"), { name: "name", required: true, value: c.name }, names, c.name),
    field(t("admin.coupons.quantityMin", { issued: c.issued }), { name: "quantity", type: "number", min: Math.max(1, c.issued), required: true, value: c.quantity }),
    windowFields(timezone, c),
  ], async (data) => {
    await patch(`/api/coupons/${c.id}`, { name: data.get("name"), quantity: Number(data.get("quantity")), ...windowOf(data, timezone) });
    await refresh();
  });
}
