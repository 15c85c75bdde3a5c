// Small helpers the admin screens share: labelled fields, tables, and showing an API error on a form.
import { $$, h } from "../dom.js";

/** <label>Text <input name=…></label>; attrs go to the input. */
export const field = (text, attrs) => h("label", {}, text, " ", h("input", attrs));

/** <label>Text <select name=…>…</select></label>; options: [[value, text], ...]. */
export const choice = (text, name, options, attrs = {}) => h("label", {}, text, " ",
  h("select", { name, ...attrs }, options.map(([value, label]) => h("option", { value }, label))));

export function table(caption, headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.length ? rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))
      : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "None yet.")))));
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

/** Run `action` for a form's submit with the button disabled and errors shown; resets on success. */
export function onSubmit(form, action) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    showError(form, null);
    try {
      await action(new FormData(form));
      form.reset();
      form.dispatchEvent(new Event("input"));
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export const errorBox = () => h("p", { class: "form-error", role: "alert" });
