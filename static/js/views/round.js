// The seat-picking screen of one round: live map or list, legend, your seats, the way to payment.
import { get } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { go } from "../router.js";
import { session } from "../session.js";
import { announce } from "../toast.js";
import { ChangeAnnouncer } from "../seats/announcer.js";
import { Basket } from "../seats/basket.js";
import { legend } from "../seats/legend.js";
import { SeatList } from "../seats/list.js";
import { LiveRound } from "../seats/live.js";
import { SeatMap } from "../seats/map.js";
import { seatPlace } from "../seats/names.js";
import { gradeColours } from "../seats/palette.js";
import { SeatStore } from "../seats/store.js";

const STATUS_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Connection lost — reconnecting…",
  gone: "This show time has been removed: its seats are no longer on sale." };

export async function roundView(main, { id }) {
  const roundId = Number(id);
  const [settings, round, seatData] = await Promise.all([
    config(), get(`/api/rounds/${roundId}`), get(`/api/rounds/${roundId}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const store = new SeatStore(seatData.seats);
  const grades = store.grades();
  const colours = gradeColours(grades);
  const releasing = new Set();          // seats we asked to release: their turning available is no surprise
  const message = h("div", { class: "seat-message", role: "alert" });
  const status = h("p", { class: "live-status", role: "status", "data-status": "connecting" }, STATUS_TEXT.connecting);

  const choose = async (seat) => {
    message.replaceChildren();
    if (!(await askToSignIn("Log in or sign up to hold seats."))) return;
    if (seat.state === "mine") return release(seat);
    if (seat.state !== "available") {
      say(`${seatPlace(seat)} is not available. Please choose another seat.`);
      return undefined;
    }
    const result = await live.hold([seat.id]);
    if (result.ok) {
      basket.held(result.seat_ids, result.expires_at);
      basket.show(store.inState("mine"));     // the delta may come first or after: show the deadline now
      announce(`${seatPlace(seat)} is held for you for ${Math.round(settings.hold_seconds / 60)} minutes.`);
    } else if (result.error.code === "seat_unavailable") {
      say(`Sorry — ${seatPlace(seat)} was just taken by someone else. Please choose another seat.`);
    } else if (result.error.code === "hold_limit_exceeded") {
      say(`You can hold at most ${settings.max_seats_per_user} seats for one show.`);
    } else {
      say(result.error.message || "That did not work; please try again.");
    }
    return undefined;
  };

  const release = async (seat) => {
    releasing.add(seat.id);
    const result = await live.release([seat.id]);
    if (result.ok) announce(`${seatPlace(seat)} released.`);
    else { releasing.delete(seat.id); say(result.error.message); }
  };

  const say = (text) => replace(message, h("p", { class: "alert" }, text));

  const map = new SeatMap(store, { colours, onActivate: choose,
    label: `Seat map of ${performance.title}, ${store.list.length} seats`, help: "seatmap-help" });
  const list = new SeatList(store, { onActivate: choose });
  const basket = new Basket({ onRelease: release, maxSeats: settings.max_seats_per_user,
    storageKey: `ticketblue.holds.${roundId}`, onContinue: () => go(`/rounds/${roundId}/checkout`) });
  const announcer = new ChangeAnnouncer(store);
  const live = new LiveRound(roundId, store, { token: session.token });

  store.addEventListener("change", (e) => {
    const { changes } = e.detail;
    map.refresh(changes.map((c) => c.seat));
    list.refresh(changes.map((c) => c.seat));
    for (const { seat, from, to } of changes) {
      if (from !== "mine") continue;
      basket.forget(seat.id);
      if (releasing.delete(seat.id)) continue;
      if (to === "available") say(`Your hold on ${seatPlace(seat)} expired. Choose it again if it is still free.`);
      else if (to !== "sold") say(`${seatPlace(seat)} is no longer held for you.`);
    }
    basket.show(store.inState("mine"));
  });
  live.addEventListener("delta", (e) => announcer.changed(e.detail, map.focusedId));
  live.addEventListener("status", (e) => {
    status.dataset.status = e.detail;
    status.textContent = STATUS_TEXT[e.detail];
  });
  const onSession = () => live.setToken(session.token);
  session.addEventListener("change", onSession);

  const views = viewSwitch(map.element, list.element);
  replace(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "#/" }, "Performances"), " › ",
      h("a", { href: `#/performances/${performance.id}` }, performance.title)),
    h("div", { class: "round-head" },
      h("h1", {}, performance.title),
      h("p", { class: "round-time" }, dateTime(round.starts_at)), status),
    h("div", { class: "picker" },
      h("section", { class: "panel picker-main", "aria-labelledby": "pick-title" },
        h("h2", { id: "pick-title" }, "Choose your seats"),
        views.switcher,
        h("p", { id: "seatmap-help", class: "muted help" },
          "Arrow keys move between seats, Enter or Space holds or releases one; + and − zoom. ",
          "Pinch or Ctrl + scroll to zoom, drag to move. The seat list shows every seat you can choose."),
        message,
        legend(grades, colours),
        views.element),
      basket.element));
  basket.show(store.inState("mine"));
  live.connect();

  return {
    leave() {
      live.close();
      basket.stop();
      announcer.stop();
      session.removeEventListener("change", onSession);
    },
  };
}

/** The "Map | List" switch; both views stay mounted, one is hidden. */
function viewSwitch(mapElement, listElement) {
  const saved = localStorage.getItem("ticketblue.view") === "list" ? "list" : "map";
  const panes = { map: h("div", { class: "pane" }, mapElement), list: h("div", { class: "pane" }, listElement) };
  const buttons = {};
  const show = (which) => {
    for (const key of Object.keys(panes)) {
      panes[key].hidden = key !== which;
      buttons[key].setAttribute("aria-pressed", String(key === which));
    }
    localStorage.setItem("ticketblue.view", which);
  };
  buttons.map = h("button", { type: "button", class: "secondary", onclick: () => show("map") }, "Seat map");
  buttons.list = h("button", { type: "button", class: "secondary", onclick: () => show("list") }, "Seat list");
  const switcher = h("div", { class: "row view-switch", role: "group", "aria-label": "Show seats as" },
    buttons.map, buttons.list);
  show(saved);
  return { switcher, element: h("div", {}, panes.map, panes.list) };
}
