// The waiting room of one round (docs/API.md "Waiting room"): join (or find the place you have), then
// wait with it live: position, people ahead, progress, the expected wait, and before the opening a
// countdown by the server's clock. Once you are let in, the page moves on to the seat map by itself.
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { serverNow, ServerClock } from "../clock.js";
import { countdownIn } from "../countdown.js";
import { h, replace } from "../dom.js";
import { count, dateTime, waitInWords } from "../format.js";
import { t } from "../i18n.js";
import { LivePlace } from "../onsale/live.js";
import { LineProgress } from "../onsale/progress.js";
import { go, redirect } from "../router.js";
import { session } from "../session.js";
import { announce } from "../toast.js";
import { showHead } from "./show-head.js";

const JOIN_RETRY_MS = 1000;      // the least wait before asking again whether joining has opened

export async function queueView(main, { id }) {
  const roundId = Number(id);
  const path = `/rounds/${roundId}/queue`;
  const round = await get(`/api/rounds/${roundId}`);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const status = h("p", { class: "live-status", role: "status", "data-status": "connecting" }, t("onsale.status.connecting"));
  const head = showHead(performance, round, status);
  if (!(await askToSignIn(t("onsale.signIn.reason")))) {
    replace(main, head, h("section", { class: "panel stack waiting-room" },
      h("h2", {}, t("onsale.signIn.title")),
      h("p", {}, t("onsale.signIn.text")),
      h("button", { type: "button", onclick: () => go(path) }, t("onsale.signIn.button"))));
    return undefined;
  }

  const heading = h("h2", { id: "queue-title" });
  const lead = h("div", { class: "queue-lead" });
  const joinsOpen = countdownIn(t("onsale.joinsIn"), () => join());
  const saleOpens = countdownIn(t("onsale.saleIn"));
  const figure = (label) => {
    const value = h("dd", {});
    return { value, element: h("div", { class: "queue-figure" }, h("dt", {}, label), value) };
  };
  const position = figure(t("onsale.position"));
  const ahead = figure(t("onsale.ahead"));
  const wait = figure(t("onsale.wait"));
  const figures = h("dl", { class: "queue-figures" }, position.element, ahead.element, wait.element);
  const bar = h("progress", { max: 100, value: 0, "aria-labelledby": "queue-progress-label" });
  const barNote = h("p", { class: "muted queue-progress-note" });
  const progressBox = h("div", { class: "queue-progress" },
    h("p", { id: "queue-progress-label", class: "queue-progress-label" }, t("onsale.progressLabel")), bar, barNote);
  const keepTab = h("p", { class: "notice keep-tab" }, t("onsale.keepTab"));
  const problem = h("div", { class: "seat-message", role: "alert" });
  const actions = h("div", { class: "row" });
  const clock = new ServerClock();
  const progress = new LineProgress(`ticketblue.queue.${roundId}.${session.user?.id}`);
  let live = null;

  const listen = () => {
    if (live) return;
    live = new LivePlace(roundId, session.token);
    live.addEventListener("place", (e) => show(e.detail));
    live.addEventListener("status", (e) => {
      status.dataset.status = e.detail;
      status.textContent = t(`onsale.status.${e.detail}`);
      if (e.detail === "gone") showGone();
    });
    live.start();
  };

  const join = async () => {
    problem.replaceChildren();
    try {
      const place = await post(`/api/rounds/${roundId}/queue`);
      // A socket opened before this place was taken may go on telling the old one: listen afresh.
      live?.stop();
      live = null;
      show(place);
    } catch (err) {
      if (err.code === "queue_not_open") showNotOpen(Date.parse(err.details.opens_at));
      else if (err.status === 404) showGone();
      else replace(problem, h("p", { class: "alert" }, err.message));
    }
  };

  const joinAgain = (label) => h("button", { type: "button", onclick: join }, label);

  /** One of the screen's states, from the heading down; `parts` lists what is shown. */
  const screen = (title, text, parts = []) => {
    if (heading.textContent !== title) announce(title);        // a new state is told; the numbers are read on demand
    heading.textContent = title;
    heading.className = "";
    replace(lead, [text].flat().map((p) => h("p", {}, p)));
    for (const [element, shown] of [[figures, "figures"], [progressBox, "progress"], [keepTab, "keep"]]) {
      element.hidden = !parts.includes(shown);
    }
    if (!parts.includes("joins")) joinsOpen.set(null);
    if (!parts.includes("sale")) saleOpens.set(null);
    if (!parts.includes("actions")) actions.replaceChildren();
  };

  const showNotOpen = (opensAt) => {
    screen(t("onsale.notOpen.title"), t("onsale.notOpen.text", {
      opens: dateTime(opensAt), sale: round.sale_opens_at && dateTime(round.sale_opens_at) }), ["joins"]);
    joinsOpen.set(Math.max(opensAt, serverNow() + JOIN_RETRY_MS));
  };

  const show = (place) => {
    if (place.status === "admitted") { redirect(`/rounds/${roundId}`); return; }
    listen();
    if (place.status === "waiting" && place.position === null) showBeforeOpening(place);
    else if (place.status === "waiting") showWaiting(place);
    else if (place.status === "closed" && place.reason === "sold_out") {
      screen(t("onsale.soldOut.title"), [t("onsale.soldOut.text"), t("onsale.soldOut.keep")], ["keep"]);
      heading.className = "sold-out";
    } else if (place.status === "closed" && place.reason === "finished") {
      screen(t("onsale.finished.title"), t("onsale.finished.text"), ["actions"]);
      replace(actions, h("a", { class: "button secondary", href: "#/me" }, t("onsale.myBookings")),
        joinAgain(t("onsale.joinAgain")));
    } else if (place.status === "closed") {
      screen(t("onsale.ended.title"), [t("onsale.ended.text"), t("onsale.ended.again")], ["actions"]);
      replace(actions, joinAgain(t("onsale.joinAgain")));
    } else {
      screen(t("onsale.none.title"), t("onsale.none.text"), ["actions"]);
      replace(actions, joinAgain(t("onsale.join")));
    }
  };

  const showBeforeOpening = (place) => {
    screen(t("onsale.waiting.title"), [t("onsale.before.opens", { when: dateTime(place.opens_at) }),
      t("onsale.before.fair")], ["figures", "progress", "keep", "sale"]);
    saleOpens.set(Date.parse(place.opens_at));
    position.value.textContent = t("onsale.before.position");
    ahead.value.textContent = "—";
    wait.value.textContent = "—";
    bar.value = 0;
    barNote.textContent = t("onsale.before.note");
  };

  const showWaiting = (place) => {
    screen(t("onsale.waiting.title"), t("onsale.waiting.text"), ["figures", "progress", "keep"]);
    position.value.textContent = count(place.position);
    ahead.value.textContent = place.ahead ? count(place.ahead) : t("onsale.nobodyAhead");
    wait.value.textContent = place.eta_seconds === null ? t("onsale.working") : waitInWords(place.eta_seconds);
    const done = progress.update(place.position);
    bar.value = Math.round(done * 100);
    const first = count(progress.first);
    bar.setAttribute("aria-valuetext", t("onsale.progressText", { percent: Math.round(done * 100), first }));
    barNote.textContent = t("onsale.started", { first });
  };

  const showGone = () => {
    live?.stop();
    screen(t("onsale.gone.title"), t("onsale.gone.text"));
    replace(actions, h("a", { href: "#/" }, t("onsale.back")));
  };

  const onSession = () => go(path);          // signed out, or as someone else: start again
  session.addEventListener("change", onSession);

  replace(main, head,
    h("section", { class: "panel waiting-room", "aria-labelledby": "queue-title" },
      heading, lead, joinsOpen.element, saleOpens.element, figures, progressBox, problem, actions, keepTab,
      clock.element));
  const place = await get(`/api/rounds/${roundId}/queue`);
  if (place.status === "none") await join();
  else show(place);

  return {
    leave() {
      live?.stop();
      joinsOpen.stop();
      saleOpens.stop();
      clock.stop();
      session.removeEventListener("change", onSession);
    },
  };
}
