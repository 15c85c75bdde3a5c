// The door's check-in (#/check-in), for staff and admins on a phone: a ticket's code typed (a hand-held
// scanner types it too, Enter included) or read with the camera where the browser can, and the answer
// large, in colour, words and an icon, and read out: admitted, already in (since when), or refused.
// Signed-out visitors and plain accounts are told what the page is and what they need.
import { post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { serverNow } from "../clock.js";
import { h, replace } from "../dom.js";
import { clockTime, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { canScanQr, startQrScan } from "../qr-scanner.js";
import { recentCheckIns, rememberCheckIn } from "../recent-check-ins.js";
import { go } from "../router.js";
import { seatPlace } from "../seats/names.js";
import { session } from "../session.js";

/** Each outcome's look: `kind` is its colour (ok green, warn amber, bad red, none grey). */
const OUTCOMES = {
  ok: { kind: "ok", icon: "✓", title: "checkin.ok" },
  already: { kind: "warn", icon: "!", title: "checkin.already" },
  canceled: { kind: "bad", icon: "✕", title: "checkin.canceled" },
  invalid: { kind: "bad", icon: "✕", title: "checkin.invalid" },
  failed: { kind: "none", icon: "?", title: "checkin.failed" },
};

export async function checkInView(main) {
  // Signing in or out (here or in the header) shows the page again, for the new account.
  const again = () => go("/check-in");
  session.addEventListener("change", again);
  const stops = [() => session.removeEventListener("change", again)];
  const view = { leave: () => stops.forEach((stop) => stop()) };
  if (!session.signedIn) {
    replace(main, gate(t("checkin.signIn"), h("button", { type: "button", onclick: () => askToSignIn() },
      t("shell.auth.logIn"))));
  } else if (!session.canCheckIn) {
    replace(main, gate(t("checkin.notStaff"), h("button", { type: "button", class: "secondary",
      onclick: () => { session.logout(); askToSignIn(); } }, t("checkin.otherAccount"))));
  } else {
    stops.push(await desk(main));
  }
  return view;
}

function gate(text, button) {
  return h("section", { class: "panel stack check-in" }, h("h1", {}, t("checkin.title")), h("p", {}, text), button);
}

/** The staff's screen; returns what stops it (the camera). */
async function desk(main) {
  const field = h("input", { id: "check-in-code", name: "code", autocomplete: "off", autocapitalize: "characters",
    autocorrect: "off", spellcheck: "false", inputmode: "text", enterkeyhint: "go", autofocus: true,
    "aria-describedby": "check-in-hint check-in-problem" });
  const submit = h("button", { type: "submit" }, t("checkin.submit"));
  const problem = h("p", { class: "field-error", id: "check-in-problem", role: "alert" });
  const answer = h("div", { class: "check-in-answer", "aria-live": "assertive", "aria-atomic": "true" });
  const recent = h("section", { class: "check-in-recent", "aria-labelledby": "check-in-recent-title" });
  let busy = false;

  const check = async (typed, { scanned = false } = {}) => {
    const code = typed.trim().toUpperCase();                // (as printed on the ticket; either case is the same code)
    problem.textContent = "";
    if (busy) return;
    if (!code) { problem.textContent = t("checkin.empty"); field.focus(); return; }
    busy = true;
    submit.disabled = true;
    const verdict = await askTheDoor(code);
    busy = false;
    submit.disabled = false;
    if (verdict === null) return;                   // signed out meanwhile: the page is shown again
    replace(answer, answerCard(verdict));
    // Not an answer about the ticket (no connection, say): the code stays in the field (a scanned one
    // too), so that 확인 tries it again.
    if (verdict.outcome === "failed") field.value = code;
    else {
      rememberCheckIn(verdict);
      showRecent(recent);
      field.value = "";
    }
    // Ready for the next ticket: after a scan the camera's button (a keyboard would cover the answer).
    (scanned && camera.button ? camera.button : field).focus();
  };

  const camera = await cameraControls((code) => check(code, { scanned: true }));
  const form = h("form", { class: "check-in-form", novalidate: true,
    onsubmit: (e) => { e.preventDefault(); check(field.value); } },
    h("label", { for: "check-in-code" }, t("checkin.code")),
    h("div", { class: "check-in-entry" }, field, submit),
    h("p", { class: "muted field-hint", id: "check-in-hint" }, t("checkin.hint")),
    problem);
  showRecent(recent);
  replace(main, h("section", { class: "check-in" }, h("h1", {}, t("checkin.title")), form, camera.element,
    answer, recent));
  field.focus();
  return camera.stop;
}

/** POST the code; the outcome with what the server said, at the server's time. null: signed out. */
async function askTheDoor(code) {
  const at = serverNow();
  try {
    const ticket = await post("/api/tickets/check-in", { code });
    return { outcome: "ok", at, code, holder: ticket.holder_name, title: ticket.performance_title,
      startsAt: ticket.starts_at, section: ticket.section, row: ticket.row, number: ticket.number,
      grade: ticket.grade, bookingNumber: ticket.booking_number };
  } catch (err) {
    if (err.code === "already_checked_in") return { outcome: "already", at, code, firstAt: err.details.checked_in_at };
    if (err.code === "ticket_canceled") return { outcome: "canceled", at, code };
    if (err.status === 404 || err.status === 400) return { outcome: "invalid", at, code };   // forged, mistyped
    if (err.status === 401) return null;
    return { outcome: "failed", at, code, reason: err.status === 403 ? t("checkin.notStaff") : t("checkin.failedText") };
  }
}

function answerCard(verdict) {
  const look = OUTCOMES[verdict.outcome];
  return h("article", { class: `verdict verdict-${look.kind}`, dataset: { outcome: verdict.outcome } },
    h("p", { class: "verdict-title" }, h("span", { class: "verdict-icon", "aria-hidden": "true" }, look.icon),
      h("span", { class: "verdict-word" }, t(look.title))),
    verdict.outcome === "ok" ? admitted(verdict) : h("p", { class: "verdict-text" }, refusal(verdict)),
    h("p", { class: "verdict-foot" }, footnote(verdict)));
}

/** When the door answered, and the code of a refusal (a typo shows there). */
function footnote(verdict) {
  const when = t("checkin.answeredAt", { time: clockTime(verdict.at) });
  const code = h("code", {}, verdict.code);
  if (verdict.outcome === "ok") return when;
  if (verdict.outcome === "failed") return code;          // no answer came
  return [when, " · ", code];
}

function admitted(ticket) {
  return [
    h("p", { class: "verdict-holder" }, ticket.holder),
    h("p", { class: "verdict-seat" }, `${seatPlace(ticket)} · ${t("booking.grade", { grade: ticket.grade })}`),
    h("dl", { class: "verdict-details" },
      h("dt", {}, t("booking.show")), h("dd", {}, ticket.title),
      h("dt", {}, t("checkin.when")), h("dd", {}, dateTime(ticket.startsAt)),
      h("dt", {}, t("booking.bookingNumber")), h("dd", {}, ticket.bookingNumber)),
  ];
}

function refusal(verdict) {
  if (verdict.outcome === "already") {
    return verdict.firstAt ? t("checkin.alreadyAt", { at: dateTime(verdict.firstAt) }) : t("checkin.alreadyText");
  }
  if (verdict.outcome === "canceled") return t("checkin.canceledText");
  if (verdict.outcome === "invalid") return t("checkin.invalidText");
  return verdict.reason;
}

/** The last few answers on this device, newest first. */
function showRecent(box) {
  const list = recentCheckIns();
  replace(box, h("h2", { id: "check-in-recent-title" }, t("checkin.recent")), list.length
    ? h("ol", { class: "recent-check-ins" }, list.map((entry) => {
      const look = OUTCOMES[entry.outcome] || OUTCOMES.failed;
      return h("li", { class: `recent-${look.kind}` },
        h("span", { class: "recent-time" }, clockTime(entry.at)),
        h("span", { class: "recent-outcome" }, t(look.title)),
        h("span", { class: "recent-who" }, entry.outcome === "ok"
          ? `${entry.holder} · ${seatPlace(entry)}` : entry.code));
    }))
    : h("p", { class: "muted" }, t("checkin.recentEmpty")));
}

/** "카메라로 스캔" where the browser can read QR codes, else a plain note that typing works.
 * `onCode(code)`: the first code read; the camera is off by then. */
async function cameraControls(onCode) {
  if (!(await canScanQr())) {
    return { element: h("p", { class: "muted check-in-camera-note" }, t("checkin.noCamera")), button: null, stop: () => {} };
  }
  const video = h("video", { class: "check-in-video", hidden: true, "aria-label": t("checkin.cameraView") });
  const note = h("p", { class: "check-in-camera-note", role: "status" });
  const button = h("button", { type: "button", class: "secondary check-in-scan" }, t("checkin.scan"));
  let scan = null;
  let gone = false;                                 // the page was left (the camera must not stay on)
  const idle = (message = "") => {
    scan = null;
    video.hidden = true;
    button.textContent = t("checkin.scan");
    note.textContent = message;
  };
  const stop = () => { scan?.stop(); };
  button.addEventListener("click", async () => {
    if (scan) { stop(); return; }                 // the same button stops a scan
    note.textContent = "";
    scan = { stop: () => {} };                      // (a second tap while the camera opens: nothing)
    try {
      const started = await startQrScan(video);
      if (gone) { started.stop(); return; }
      scan = started;
      video.hidden = false;
      button.textContent = t("checkin.stopScan");
      note.textContent = t("checkin.scanning");
      const code = await started.code;
      idle();
      if (code) onCode(code);
    } catch (err) {
      idle(cameraProblem(err));
    }
  });
  // A phone put away (screen off, other app) gives the camera back.
  const hidden = () => { if (document.hidden) stop(); };
  document.addEventListener("visibilitychange", hidden);
  return { element: h("div", { class: "check-in-camera stack" }, button, video, note), button,
    stop: () => { gone = true; stop(); document.removeEventListener("visibilitychange", hidden); } };
}

function cameraProblem(err) {
  if (err?.name === "NotAllowedError" || err?.name === "SecurityError") return t("checkin.cameraDenied");
  if (err?.name === "NotFoundError" || err?.name === "OverconstrainedError") return t("checkin.cameraMissing");
  return t("checkin.cameraFailed");
}
