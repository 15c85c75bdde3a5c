// The seat-picking screen of one round: live map or list, legend, your seats, the way to payment.
// A round with a waiting room sends those it has not let in to the waiting room (views/queue.js), and
// tells those it has how long their turn lasts; before the sale opens, the map can be watched.
import { get } from "../api.js";
import { askToSignIn } from "../auth.js";
import { config } from "../config.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { SaleBanner } from "../onsale/sale-banner.js";
import { Turn } from "../onsale/turn.js";
import { go, redirect } from "../router.js";
import { session } from "../session.js";
import { announce, toast } from "../toast.js";
import { ChangeAnnouncer } from "../seats/announcer.js";
import { Basket } from "../seats/basket.js";
import { BestSeats, holdBest } from "../seats/best.js";
import { legend } from "../seats/legend.js";
import { SeatList } from "../seats/list.js";
import { LiveRound } from "../seats/live.js";
import { SeatMap } from "../seats/map.js";
import { seatPlace, seatPlaces } from "../seats/names.js";
import { gradeColours } from "../seats/palette.js";
import { SeatStore } from "../seats/store.js";
import { SeatWatches } from "../seats/watch.js";
import { showHead } from "./show-head.js";

const statusText = (status) => t(`map.status.${status}`);

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
  const status = h("p", { class: "live-status", role: "status", "data-status": "connecting" }, statusText("connecting"));
  const sale = new SaleBanner();
  const turn = place?.admitted_until ? new Turn(roundId, () => store.inState("mine").length > 0) : null;

  const choose = async (seat) => {
    message.replaceChildren();
    if (!(await askToSignIn(t("map.signInToHold")))) return;
    if (seat.state === "mine") return release(seat);
    if (seat.state !== "available") {
      offerWatch(seat);
      return undefined;
    }
    const result = await live.hold([seat.id]);
    if (result.ok) {
      basket.held(result.seat_ids, result.expires_at);
      basket.show(store.inState("mine"));     // the delta may come first or after: show the deadline now
      announce(t("map.say.held", { place: seatPlace(seat), minutes: Math.round(settings.hold_seconds / 60) }));
    } else if (result.error.code === "seat_unavailable") {
      say(t("map.error.justTaken", { place: seatPlace(seat) }));
    } else {
      refused(result.error);
    }
    return undefined;
  };

  /** A refusal that a hold and a best-seats hold share, in words. */
  const refused = (error) => {
    if (error.code === "hold_limit_exceeded") say(t("map.error.holdLimit", { max: settings.max_seats_per_user }));
    else if (error.code === "not_enough_seats") say(t("map.error.notEnough", { count: error.details.count }));
    else if (error.code === "sale_not_open") {
      sale.opensAt(error.details.opens_at);
      say(t("map.error.saleNotOpen", { opens: dateTime(error.details.opens_at) }));
    } else if (error.code === "not_admitted") {
      say(t("map.error.notAdmitted"), " ", h("a", { href: `#/rounds/${roundId}/queue` }, t("map.error.toQueue")));
    } else {
      say(error.message || t("map.error.generic"));
    }
  };

  /** A seat that is taken: say so, and offer to tell the user when it is free. */
  const offerWatch = (seat) => {
    if (watches.has(seat.id)) {
      say(t("map.error.notAvailable", { place: seatPlace(seat) }), " ", t("map.watch.already"));
      return;
    }
    const button = h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await watches.watch(seat.id);
        message.replaceChildren();
        toast(t("map.watch.started", { place: seatPlace(seat) }), { kind: "ok", key: `watch-${roundId}` });
      } catch (err) {
        say(err.code === "watch_limit_exceeded" ? t("map.watch.limit", { limit: err.details.limit }) : err.message);
      }
    } }, t("map.watch.notify"));
    say(t("map.error.notAvailable", { place: seatPlace(seat) }), " ", button);
  };

  const findBest = async ({ count, grade }) => {
    message.replaceChildren();
    if (!(await askToSignIn(t("map.signInToHold")))) return;
    try {
      const result = await holdBest(roundId, { count, grade });
      const seats = result.seat_ids.map((id) => store.get(id)).filter(Boolean);
      store.apply(result.seat_ids.map((id) => [id, "mine"]));     // at once; the delta says the same
      basket.held(result.seat_ids, result.expires_at);
      basket.show(store.inState("mine"));
      map.showSeats(seats);
      toast(t("map.best.held", { count: seats.length, places: seatPlaces(seats) }), { kind: "ok", key: `best-${roundId}` });
    } catch (err) {
      refused({ code: err.code, message: err.message, details: err.details });
    }
  };

  const release = async (seat) => {
    releasing.add(seat.id);
    const result = await live.release([seat.id]);
    if (result.ok) announce(t("map.say.released", { place: seatPlace(seat) }));
    else { releasing.delete(seat.id); say(result.error.message); }
  };

  const say = (...parts) => replace(message, h("p", { class: "alert" }, ...parts));

  const map = new SeatMap(store, { colours, onActivate: choose,
    label: t("map.labelOf", { title: performance.title, count: store.list.length }), help: "seatmap-help" });
  const list = new SeatList(store, { onActivate: choose });
  const basket = new Basket({ onRelease: release, maxSeats: settings.max_seats_per_user,
    roundId, onContinue: () => go(`/rounds/${roundId}/checkout`) });
  const announcer = new ChangeAnnouncer(store);
  const watches = new SeatWatches(roundId);
  watches.addEventListener("change", () => map.setWatched(watches.seatIds));
  const best = new BestSeats({ grades, maxSeats: settings.max_seats_per_user, onFind: findBest });
  const live = new LiveRound(roundId, store, { token: session.token });

  store.addEventListener("change", (e) => {
    const { changes } = e.detail;
    map.refresh(changes.map((c) => c.seat));
    list.refresh(changes.map((c) => c.seat));
    for (const { seat, from, to } of changes) {
      if (from !== "mine") continue;
      basket.forget(seat.id);
      if (releasing.delete(seat.id)) continue;
      if (to === "available") say(t("map.error.expired", { place: seatPlace(seat) }));
      else if (to !== "sold") say(t("map.error.lost", { place: seatPlace(seat) }));
    }
    basket.show(store.inState("mine"));
  });
  live.addEventListener("delta", (e) => announcer.changed(e.detail, map.focusedId));
  live.addEventListener("status", (e) => {
    status.dataset.status = e.detail;
    status.textContent = statusText(e.detail);
  });
  const onSession = () => { live.setToken(session.token); watches.load(); };
  session.addEventListener("change", onSession);

  const views = viewSwitch(map.element, list.element);
  const touch = matchMedia("(pointer: coarse)").matches;
  replace(main, h("div", { class: "round-screen" }, showHead(performance, round, status), sale.element, turn?.element,
    h("div", { class: "picker" },
      h("section", { class: "panel picker-main", "aria-labelledby": "pick-title" },
        h("div", { class: "pick-head" }, h("h2", { id: "pick-title" }, t("map.title")), views.switcher),
        h("p", { id: "seatmap-help", class: "muted help" }, t(touch ? "map.help.touch" : "map.help.keys")),
        best.element,
        watches.element,
        message,
        legend(grades, colours, undefined, { watched: true }),
        views.element),
      basket.element)));
  basket.show(store.inState("mine"));
  live.connect();
  sale.opensAt(round.sale_opens_at);
  turn?.start(place.admitted_until);
  watches.load();

  return {
    leave() {
      live.close();
      sale.stop();
      turn?.stop();
      basket.stop();
      announcer.stop();
      watches.stop();
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
  buttons.map = h("button", { type: "button", class: "secondary", onclick: () => show("map") }, t("map.view.map"));
  buttons.list = h("button", { type: "button", class: "secondary", onclick: () => show("list") }, t("map.view.list"));
  const switcher = h("div", { class: "row view-switch", role: "group", "aria-label": t("map.view.group") },
    buttons.map, buttons.list);
  show(saved);
  return { switcher, element: h("div", { class: "seat-views" }, panes.map, panes.list) };
}
