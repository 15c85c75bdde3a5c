// The log-in / sign-up dialog, and the account area of the header.
import { $, $$, h, replace } from "./dom.js";
import { isLanguage, language, setLanguage, t, textIn } from "./i18n.js";
import { session } from "./session.js";
import { toast } from "./toast.js";

let mode = "login";
let settle = null;

/** Open the dialog; resolves true once signed in, false if closed without. */
export function askToSignIn(reason = "") {
  if (session.signedIn) return Promise.resolve(true);
  const dialog = $("#auth-dialog");
  const note = $("#auth-reason");
  note.textContent = reason;
  note.hidden = !reason;
  setMode("login");
  $("#auth-error").textContent = "";
  dialog.showModal();
  $("input[name=email]", dialog).focus();
  return new Promise((resolve) => { settle = resolve; });
}

function setMode(next) {
  mode = next;
  const dialog = $("#auth-dialog");
  const title = t(next === "login" ? "shell.auth.logIn" : "shell.auth.signUp");
  $("#auth-title").textContent = title;
  $("#auth-submit").textContent = title;
  for (const b of $$("[data-mode]", dialog)) b.setAttribute("aria-pressed", String(b.dataset.mode === next));
  for (const el of $$("[data-signup-only]", dialog)) el.hidden = next !== "signup";
  $("input[name=password]", dialog).autocomplete = next === "login" ? "current-password" : "new-password";
  showProblems({});
}

function close(result) {
  $("#auth-dialog").close();
  settle?.(result);
  settle = null;
}

// The dialog's markup, shared by both pages; the admin page adds the admin sign-up key. Each field has
// its own message under it (the rules are shown before submitting, and the server's 400 lands there too).
const DIALOG = (adminKey) => `
  <form method="dialog" id="auth-form" class="stack" novalidate>
    <h2 id="auth-title">${t("shell.auth.logIn")}</h2>
    <p class="muted" id="auth-reason" hidden></p>
    <div class="row" role="group" aria-label="${t("shell.auth.account")}">
      <button type="button" class="secondary" data-mode="login" aria-pressed="true">${t("shell.auth.logIn")}</button>
      <button type="button" class="secondary" data-mode="signup" aria-pressed="false">${t("shell.auth.signUp")}</button>
    </div>
    <label data-signup-only hidden>${t("shell.auth.name")} <input name="name" autocomplete="name"></label>
    <label>${t("shell.auth.email")} <input name="email" type="email" autocomplete="email" required aria-describedby="auth-email-error"></label>
    <p class="field-error" id="auth-email-error"></p>
    <label>${t("shell.auth.password")} <input name="password" type="password" autocomplete="current-password" minlength="8" maxlength="128" required aria-describedby="auth-password-hint auth-password-error"></label>
    <p class="muted field-hint" id="auth-password-hint" data-signup-only hidden>${t("shell.auth.passwordRule")}</p>
    <p class="field-error" id="auth-password-error"></p>
    ${adminKey ? `<label data-signup-only hidden>${t("shell.auth.adminKey")} <input name="admin_key" type="password" autocomplete="off"></label>` : ""}
    <p class="form-error" id="auth-error" role="alert"></p>
    <div class="row">
      <button type="submit" id="auth-submit">${t("shell.auth.logIn")}</button>
      <button type="button" class="secondary" id="auth-cancel">${t("common.close")}</button>
    </div>
  </form>`;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** What is wrong with the form's fields, in words: {email?, password?} (empty when nothing is). */
function fieldProblems(form) {
  const problems = {};
  if (!EMAIL.test(String(form.get("email") || "").trim())) problems.email = t("shell.auth.badEmail");
  const password = String(form.get("password") || "");
  if (mode === "signup" && (password.length < 8 || password.length > 128)) problems.password = t("shell.auth.passwordLength");
  else if (!password) problems.password = t("shell.auth.noPassword");
  return problems;
}

function showProblems(problems) {
  for (const field of ["email", "password"]) {
    $(`#auth-${field}-error`).textContent = problems[field] || "";
    $(`#auth-form input[name=${field}]`).setAttribute("aria-invalid", String(Boolean(problems[field])));
  }
}

/** The server's refusal in words: never its raw validation text. */
function refusal(err) {
  if (err.code === "unauthorized") return t("shell.auth.wrong");
  if (err.code === "email_taken") return t("shell.auth.emailTaken");
  if (err.code === "rate_limited") return t("shell.auth.tooMany");
  if (err.status === 400) {
    const fields = err.details?.fields || [];
    showProblems({ email: fields.includes("email") ? t("shell.auth.badEmail") : "",
      password: fields.includes("password") ? t("shell.auth.passwordLength") : "" });
    return t("shell.auth.checkFields");
  }
  if (err.status === 403) return t("shell.auth.badAdminKey");
  return t("shell.error.generic");
}

/** Add the dialog to the page and wire it up; `adminKey` asks for the admin sign-up key too. */
export function setUpAuthDialog({ adminKey = false } = {}) {
  const dialog = h("dialog", { id: "auth-dialog", "aria-labelledby": "auth-title" });
  dialog.innerHTML = DIALOG(adminKey);
  document.body.append(dialog);
  for (const b of $$("[data-mode]", dialog)) b.addEventListener("click", () => setMode(b.dataset.mode));
  $("#auth-cancel").addEventListener("click", () => close(false));
  dialog.addEventListener("cancel", () => { settle?.(false); settle = null; });
  $("#auth-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const error = $("#auth-error");
    error.textContent = "";
    const problems = fieldProblems(form);
    showProblems(problems);
    if (Object.keys(problems).length) return;
    const submit = $("#auth-submit");
    submit.disabled = true;
    try {
      if (mode === "login") {
        await session.login(form.get("email"), form.get("password"));
        offerAccountLanguage(session.user?.language);
      }
      else {
        await session.signup(form.get("name") || form.get("email").split("@")[0], form.get("email"),
          form.get("password"), { adminKey: form.get("admin_key"), language });
      }
      e.target.reset();
      close(true);
    } catch (err) {
      error.textContent = refusal(err);
    } finally {
      submit.disabled = false;
    }
  });
}

/** After a login on a page in another language than the account's: the account's is offered, in its
 * own words. The page is not switched by itself: a login often comes in the middle of a booking. */
function offerAccountLanguage(account) {
  if (!isLanguage(account) || account === language) return;
  const button = h("button", { type: "button", class: "toast-action", onclick: () => setLanguage(account) },
    textIn(account, "shell.offerLanguage.switch"));
  toast(h("span", { lang: account }, textIn(account, "shell.offerLanguage"), button), { key: "account-language", seconds: 30 });
}

/** The header's account area: "Log in", or "name · Log out" (with the door's check-in for staff and admins;
 * an address from the site's root, as the admin page shows this area too). */
export function renderAccount() {
  const box = $("#account");
  for (const el of $$("[data-signed-in]")) el.hidden = !session.signedIn;
  if (!session.signedIn) {
    replace(box, h("button", { type: "button", class: "secondary", onclick: () => askToSignIn() }, t("shell.signIn")));
    return;
  }
  replace(box, session.canCheckIn ? h("a", { class: "check-in-link", href: "/#/check-in" }, t("checkin.menu")) : null,
    h("span", { class: "who" }, session.user?.name || session.user?.email || t("shell.signedIn")),
    h("button", { type: "button", class: "secondary", onclick: () => session.logout() }, t("shell.signOut")));
}
