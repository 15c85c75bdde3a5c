// The seat-picking screen of one round: live map or list, legend, your seats, the way to payment.
// A round with a waiting room sends those it has not let in to the waiting room (views/queue.js), and
// tells those it has how long their turn lasts; before the sale opens, the map can be watched.
import { get } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { SaleBanner } from "../onsale/sale-banner.js";
import { Turn } from "../onsale/turn.js";
import { go, redirect } from "../router.js";
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
import { showHead } from "./show-head.js";

const STATUS_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Connection lost — reconnecting…",
  gone: "This show time has been removed: its seats are no longer on sale." };

export async function roundView(main, { id }) {
  const roundId = Number(id);
  const [settings, round, seatData, place] = await Promise.all([
    config(), get(`/api/rounds/${roundId}`), get(`/api/rounds/${roundId}/seats`), placeOf(roundId)]);
  if (place && place.status !== "admitted") {
    redirect(`/rounds/${roundId}/queue`);
    return undefined;
  }
  const performance = await get(`/api/performances/${round.performance_id}`);
  const store = new SeatStore(seatData.seats);
  const grades = store.grades();
  const colours = gradeColours(grades);
  const releasing = new Set();          // seats we asked to release: their turning available is no surprise
  const message = h("div", { class: "seat-message", role: "alert" });
  const status = h("p", { class: "live-status", role: "status", "data-status": "connecting" }, STATUS_TEXT.connecting);
  const sale = new SaleBanner();
  const turn = place?.admitted_until ? new Turn(roundId, () => store.inState("mine").length > 0) : null;

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
    } else if (result.error.code === "sale_not_open") {
      sale.opensAt(result.error.details.opens_at);
      say(`The sale opens at ${dateTime(result.error.details.opens_at)}: you can hold seats from then.`);
    } else if (result.error.code === "not_admitted") {
      say("Seats of this show are sold through a waiting room: you can hold them when it is your turn. ",
        h("a", { href: `#/rounds/${roundId}/queue` }, "Go to the waiting room"));
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

  const say = (...parts) => replace(message, h("p", { class: "alert" }, ...parts));

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
  replace(main, showHead(performance, round, status), sale.element, turn?.element,
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
  sale.opensAt(round.sale_opens_at);
  turn?.start(place.admitted_until);

  return {
    leave() {
      live.close();
      sale.stop();
      turn?.stop();
      basket.stop();
      announcer.stop();
      session.removeEventListener("change", onSession);
    },
  };
}

/** Your place in the round's waiting room (GET /api/rounds/{id}/queue); null when signed out. A round
 * without a waiting room answers `admitted`. */
async function placeOf(roundId) {
  if (!session.signedIn) return null;
  try {
    return await get(`/api/rounds/${roundId}/queue`);
  } catch {
    return null;           // the holds are refused in words if it matters
  }
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
