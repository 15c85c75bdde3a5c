// The admin's two dialogs: change a thing (its fields, filled in) and delete it (first what depends
// on it, then, if the server still refuses, why, in words made from its 409 details).
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { toast } from "../toast.js";
import { errorBox, onSubmit } from "./forms.js";

let opened = 0;

function openDialog(id, ...children) {
  const dialog = h("dialog", { class: "stack admin-dialog", "aria-labelledby": id }, ...children);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A dialog with `fields` (labelled inputs, already filled in); Save calls `save(formData)`, which
 * throws the API's error to show it on the form, else the dialog closes. */
export function editDialog(title, fields, save) {
  const id = `edit-${++opened}`;
  let dialog;
  const form = onSubmit(h("form", { class: "stack" }, fields, errorBox(),
    h("div", { class: "row" },
      h("button", { type: "submit" }, t("admin.save")),
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("admin.cancel")))),
  async (data) => {
    await save(data);
    dialog.close();
    toast(t("admin.saved"), { kind: "ok" });
  }, { keep: true });
  dialog = openDialog(id, h("h2", { id }, title), form);
  return dialog;
}

/** Ask before deleting `name`: `dependents` are sentences saying what goes with it (or what keeps it
 * from going); `remove()` deletes; `refusal(err)` turns the server's 409 into a sentence. */
export function deleteDialog({ name, dependents = [], remove, refusal = (err) => err.message }) {
  const id = `delete-${++opened}`;
  const error = h("p", { class: "alert", role: "alert", hidden: true });
  const confirm = h("button", { type: "button", class: "danger" }, t("admin.deleteConfirm"));
  const dialog = openDialog(id,
    h("h2", { id }, t("admin.deleteTitle", { name })),
    dependents.length ? h("ul", { class: "dependents" }, dependents.map((line) => h("li", {}, line)))
      : h("p", {}, t("admin.nothingDepends")),
    h("p", {}, t("admin.cannotUndo")),
    error,
    h("div", { class: "row" }, confirm,
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("admin.cancel"))));
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    try {
      await remove();
      dialog.close();
      toast(t("admin.deleted", { name }), { kind: "ok" });
    } catch (err) {
      error.textContent = err.status === 409 ? refusal(err) : err.message;
      error.hidden = false;
      confirm.disabled = err.status === 409;        // still refused until what depends on it goes
    }
  });
  return dialog;
}

/** The server's refusal to delete (or move) something with bookings, from its 409 details. */
export function bookedRefusal(err) {
  const { live_reservations: live, past_reservations: past } = err.details;
  if (live) return t("admin.refused.live", { count: live });
  if (past) return t("admin.refused.past", { count: past });
  return err.message;
}
