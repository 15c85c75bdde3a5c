// Small helpers the admin screens share: labelled fields, tables, a row's edit and delete buttons,
// the warning about a name already in use, and showing an API error on a form.
import { $$, h } from "../dom.js";
import { t } from "../i18n.js";

/** <label>Text <input name=…></label>; attrs go to the input. */
export const field = (text, attrs) => h("label", {}, text, " ", h("input", attrs));

/** <label>Text <select name=…>…</select></label>; options: [[value, text], ...]. */
export const choice = (text, name, options, attrs = {}) => h("label", {}, text, " ",
  h("select", { name, ...attrs }, options.map(([value, label]) => h("option", { value }, label))));

/** A list as a table; on a phone (`cards`, the default) each row is a card of its own, every cell
 * under its column's name (admin.css), since the page must never scroll sideways and a table that
 * scrolls in its box hides a row's buttons off the screen. Each cell's content is one box, so that the
 * name and the content are the card's two columns. */
export function table(caption, headers, rows, { cards = true } = {}) {
  return h("div", { class: "table-wrap" }, h("table", { class: cards && "cards" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.length
      ? rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", headers[i] ? { "data-label": headers[i] } : {},
        h("div", { class: "cell" }, c)))))
      : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, t("admin.none"))))));
}

/** A list row's "Edit" and "Delete" buttons, named after the thing for screen readers. */
export const rowActions = (name, onEdit, onDelete) => h("div", { class: "row row-actions" },
  onEdit && h("button", { type: "button", class: "secondary", "aria-label": t("admin.editNamed", { name }), onclick: onEdit },
    t("admin.edit")),
  h("button", { type: "button", class: "danger", "aria-label": t("admin.deleteNamed", { name }), onclick: onDelete },
    t("admin.delete")));

/** A name field that warns, as it is typed, when another thing already has that name (the server
 * allows it, but two halls or coupons with one name confuse everyone who picks from a list).
 * `taken()` gives the names in use now; `own` is the edited thing's own name, which is no clash. */
export function nameField(text, attrs, taken, own = "") {
  const input = h("input", attrs);
  const warning = h("p", { class: "warning", role: "status" });
  const key = (name) => name.trim().toLocaleLowerCase();
  const check = () => {
    const name = key(input.value);
    const clash = name && name !== key(own) && taken().some((other) => key(other) === name);
    warning.textContent = clash ? t("admin.duplicateName", { name: input.value.trim() }) : "";
    warning.hidden = !clash;
  };
  input.addEventListener("input", check);
  queueMicrotask(() => {              // once the field is in its form: a reset (after saving) clears it
    input.form?.addEventListener("reset", () => setTimeout(check));
    check();
  });
  return h("div", { class: "name-field" }, h("label", {}, text, " ", input), warning);
}

/** The API's error on the form: the message, and the fields it names marked invalid. */
export function showError(form, err) {
  for (const el of $$(".field-error", form)) el.classList.remove("field-error");
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  const box = form.querySelector(".form-error");
  if (box) box.textContent = err ? err.message : "";
  for (const name of err?.details?.fields || []) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`) || form.querySelector(`[name="${CSS.escape(name.split(".")[0])}"]`);
    if (!input) continue;
    input.setAttribute("aria-invalid", "true");
    input.closest("label")?.classList.add("field-error");
  }
}

/** Run `action` for a form's submit with the button disabled and errors shown; resets on success
 * unless `keep` (an edit dialog keeps what it shows). */
export function onSubmit(form, action, { keep = false } = {}) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    showError(form, null);
    try {
      await action(new FormData(form));
      if (!keep) {
        form.reset();
        form.dispatchEvent(new Event("input"));
      }
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export const errorBox = () => h("p", { class: "form-error", role: "alert" });

/** The value of a datetime-local field for a time the API sent: its answers are in the server's
 * time zone, the one the forms are in, so the wall time is the text before the offset. */
export const localInput = (iso) => (iso ? iso.slice(0, 16) : "");
