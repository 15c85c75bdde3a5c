// The waiting room of one round (docs/API.md "Waiting room"): join (or find the place you have), then
// wait with it live: position, people ahead, progress, the expected wait, and before the opening a
// countdown by the server's clock. Once you are let in, the page moves on to the seat map by itself.
import { get, post } from "../api.js";
import { askToSignIn } from "../auth.js";
import { serverNow, ServerClock } from "../clock.js";
import { countdownIn } from "../countdown.js";
import { h, replace } from "../dom.js";
import { count, dateTime, waitInWords } from "../format.js";
import { LivePlace } from "../onsale/live.js";
import { LineProgress } from "../onsale/progress.js";
import { go, redirect } from "../router.js";
import { session } from "../session.js";
import { announce } from "../toast.js";
import { showHead } from "./show-head.js";

const STATUS_TEXT = { connecting: "Connecting…", live: "Live",
  reconnecting: "Connection lost — reconnecting (your place is kept)…", gone: "This show time has been removed." };
const JOIN_RETRY_MS = 1000;      // the least wait before asking again whether joining has opened

export async function queueView(main, { id }) {
  const roundId = Number(id);
  const path = `/rounds/${roundId}/queue`;
  const round = await get(`/api/rounds/${roundId}`);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const status = h("p", { class: "live-status", role: "status", "data-status": "connecting" }, STATUS_TEXT.connecting);
  const head = showHead(performance, round, status);
  if (!(await askToSignIn("Log in or sign up to join the waiting room."))) {
    replace(main, head, h("section", { class: "panel stack waiting-room" },
      h("h2", {}, "Log in to join the waiting room"),
      h("p", {}, "Seats of this show are sold through a waiting room: everyone gets a place in line, one per account."),
      h("button", { type: "button", onclick: () => go(path) }, "Log in or sign up")));
    return undefined;
  }

  const heading = h("h2", { id: "queue-title" });
  const lead = h("div", { class: "queue-lead" });
  const joinsOpen = countdownIn("The waiting room opens in", () => join());
  const saleOpens = countdownIn("The sale opens in");
  const figure = (label) => {
    const value = h("dd", {});
    return { value, element: h("div", { class: "queue-figure" }, h("dt", {}, label), value) };
  };
  const position = figure("Your position");
  const ahead = figure("People ahead of you");
  const wait = figure("Expected wait");
  const figures = h("dl", { class: "queue-figures" }, position.element, ahead.element, wait.element);
  const bar = h("progress", { max: 100, value: 0, "aria-labelledby": "queue-progress-label" });
  const barNote = h("p", { class: "muted queue-progress-note" });
  const progressBox = h("div", { class: "queue-progress" },
    h("p", { id: "queue-progress-label", class: "queue-progress-label" }, "Your way to the front"), bar, barNote);
  const keepTab = h("p", { class: "notice keep-tab" }, "Don't close this tab — a refresh keeps your place.");
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
      status.textContent = STATUS_TEXT[e.detail];
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
    const sale = round.sale_opens_at ? ` The sale itself opens at ${dateTime(round.sale_opens_at)}.` : "";
    screen("The waiting room opens soon",
      `It opens at ${dateTime(opensAt)}.${sale} Leave this tab open: it takes your place in line by itself then.`,
      ["joins"]);
    joinsOpen.set(Math.max(opensAt, serverNow() + JOIN_RETRY_MS));
  };

  const show = (place) => {
    if (place.status === "admitted") { redirect(`/rounds/${roundId}`); return; }
    listen();
    if (place.status === "waiting" && place.position === null) showBeforeOpening(place);
    else if (place.status === "waiting") showWaiting(place);
    else if (place.status === "closed" && place.reason === "sold_out") {
      screen("Sold out", ["All the seats of this show time are sold or being paid for.",
        "You keep your place: if seats come back (a payment that is not made, a canceled booking), the line goes on "
        + "in order and this page takes you to the seat map when it is your turn."], ["keep"]);
      heading.className = "sold-out";
    } else if (place.status === "closed" && place.reason === "finished") {
      screen("You have booked this show", "Your payment went through: your booking is in My bookings.", ["actions"]);
      replace(actions, h("a", { class: "button secondary", href: "#/me" }, "My bookings"),
        joinAgain("Join the line again"));
    } else if (place.status === "closed") {
      screen("Your turn has ended", ["Your place in line, or your time to choose seats, ran out.",
        "You can join the line again; the new place is at its end."], ["actions"]);
      replace(actions, joinAgain("Join the line again"));
    } else {
      screen("You are not in the line", "You left the waiting room, perhaps in another tab.", ["actions"]);
      replace(actions, joinAgain("Join the line"));
    }
  };

  const showBeforeOpening = (place) => {
    screen("You're in the waiting room", [
      `The sale opens at ${dateTime(place.opens_at)}.`,
      "Everyone who joins before the opening gets a place in a random order at the opening: joining early or "
      + "late before it gives the same chance."], ["figures", "progress", "keep", "sale"]);
    saleOpens.set(Date.parse(place.opens_at));
    position.value.textContent = "After the opening";
    ahead.value.textContent = "—";
    wait.value.textContent = "—";
    bar.value = 0;
    barNote.textContent = "The line starts moving at the opening.";
  };

  const showWaiting = (place) => {
    screen("You're in the waiting room", "When it is your turn, this page takes you to the seat map by itself.",
      ["figures", "progress", "keep"]);
    position.value.textContent = count(place.position);
    ahead.value.textContent = place.ahead ? count(place.ahead) : "Nobody — you're next";
    wait.value.textContent = place.eta_seconds === null ? "Working it out…" : waitInWords(place.eta_seconds);
    const done = progress.update(place.position);
    bar.value = Math.round(done * 100);
    bar.setAttribute("aria-valuetext", `${Math.round(done * 100)}% of the way from number ${count(progress.first)} to the front`);
    barNote.textContent = `You started at number ${count(progress.first)}.`;
  };

  const showGone = () => {
    live?.stop();
    screen("This show time has been removed", "Its seats are no longer on sale.");
    replace(actions, h("a", { href: "#/" }, "Back to the performances"));
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
