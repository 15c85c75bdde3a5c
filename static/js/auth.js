// The log-in / sign-up dialog, and the account area of the header.
import { $, $$, h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { session } from "./session.js";

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
  const title = next === "login" ? "Log in" : "Sign up";
  $("#auth-title").textContent = title;
  $("#auth-submit").textContent = title;
  for (const b of $$("[data-mode]", dialog)) b.setAttribute("aria-pressed", String(b.dataset.mode === next));
  for (const el of $$("[data-signup-only]", dialog)) el.hidden = next !== "signup";
  $("input[name=password]", dialog).autocomplete = next === "login" ? "current-password" : "new-password";
}

function close(result) {
  $("#auth-dialog").close();
  settle?.(result);
  settle = null;
}

// The dialog's markup, shared by both pages; the admin page adds the admin sign-up key.
const DIALOG = (adminKey) => `
  <form method="dialog" id="auth-form" class="stack" novalidate>
    <h2 id="auth-title">Log in</h2>
    <p class="muted" id="auth-reason" hidden></p>
    <div class="row" role="group" aria-label="Account">
      <button type="button" class="secondary" data-mode="login" aria-pressed="true">Log in</button>
      <button type="button" class="secondary" data-mode="signup" aria-pressed="false">Sign up</button>
    </div>
    <label data-signup-only hidden>Name <input name="name" autocomplete="name"></label>
    <label>Email <input name="email" type="email" autocomplete="email" required></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" minlength="8" required></label>
    ${adminKey ? `<label data-signup-only hidden>Admin sign-up key <input name="admin_key" type="password" autocomplete="off"></label>` : ""}
    <p class="form-error" id="auth-error" role="alert"></p>
    <div class="row">
      <button type="submit" id="auth-submit">Log in</button>
      <button type="button" class="secondary" id="auth-cancel">Cancel</button>
    </div>
  </form>`;

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
    const submit = $("#auth-submit");
    submit.disabled = true;
    try {
      if (mode === "login") await session.login(form.get("email"), form.get("password"));
      else {
        await session.signup(form.get("name") || form.get("email").split("@")[0], form.get("email"),
          form.get("password"), form.get("admin_key"));
      }
      e.target.reset();
      close(true);
    } catch (err) {
      error.textContent = err.code === "unauthorized" ? "Wrong email or password." : err.message;
    } finally {
      submit.disabled = false;
    }
  });
}

/** The header's account area: "Log in" or "name · Log out". */
export function renderAccount() {
  const box = $("#account");
  for (const el of $$("[data-signed-in]")) el.hidden = !session.signedIn;
  if (!session.signedIn) {
    replace(box, h("button", { type: "button", class: "secondary", onclick: () => askToSignIn() }, t("shell.signIn")));
    return;
  }
  replace(box, h("span", { class: "who" }, session.user?.name || session.user?.email || t("shell.signedIn")),
    h("button", { type: "button", class: "secondary", onclick: () => session.logout() }, t("shell.signOut")));
}
