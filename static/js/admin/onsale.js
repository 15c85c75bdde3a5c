// The box office's live view of a round on sale: its seats by grade (sold, held, off sale, available)
// with bars, sales per minute over the last hour, revenue and refunds, and its waiting room's figures.
// Asked again every few seconds while the page is in view; not at all while it is hidden, nor once
// the admin has moved on to another screen.
import { get, getAll } from "../api.js";
import { h, replace } from "../dom.js";
import { clockTime, count, dateTime, time, won } from "../format.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { table } from "./forms.js";
import { roundPicker } from "./roundpicker.js";

const REFRESH_MS = 3000;
const PARTS = ["sold", "held", "blocked", "available"];      // the order of a grade's bar, left to right

export async function onSaleView(main, { round } = {}) {
  const shows = await getAll("/api/performances");
  const picker = roundPicker(shows, { noPerformance: t("admin.choose"), noRound: t("admin.choose") });
  picker.roundSelect.addEventListener("change", () => {
    if (picker.roundSelect.value) go(`/sales/${picker.roundSelect.value}`);
  });
  const heading = h("h1", {}, t("admin.nav.sales"));
  const pickers = h("div", { class: "panel form-grid" }, picker.performancePicker, picker.datePicker);
  if (!round) {
    replace(main, heading, pickers, h("p", { class: "muted" }, t("admin.sales.pick")));
    return null;
  }
  const shown = await get(`/api/rounds/${Number(round)}`);        // (an unknown round: the page says it is gone)
  await picker.pick(shown.performance_id, shown.id);
  const title = shows.find((p) => p.id === shown.performance_id)?.title || "";
  const figures = h("div", { class: "onsale stack" }, h("p", { class: "muted" }, t("common.loading")));
  replace(main, heading, pickers, h("h2", {}, t("admin.sales.of", { title, when: dateTime(shown.starts_at) })), figures);
  return followLive(figures, shown.id);
}

/** Show the round's figures now, then every REFRESH_MS while the page is visible; `leave()` stops it.
 * One request at a time: the next is planned once the last has answered. */
function followLive(box, roundId) {
  let timer = null;
  let asking = false;
  let left = false;
  let last = null;
  const visible = () => document.visibilityState === "visible";
  const refresh = async () => {
    timer = null;
    asking = true;
    try {
      const [sales, room] = await Promise.all([get(`/api/admin/rounds/${roundId}/sales`),
        get(`/api/rounds/${roundId}/waiting-room`)]);
      last = { sales, room };
      if (!left) render(box, sales, room, null);
    } catch (err) {
      if (!left) render(box, last?.sales, last?.room, err);
    } finally {
      asking = false;
    }
    if (!left && visible()) timer = setTimeout(refresh, REFRESH_MS);
  };
  const onVisibility = () => {
    if (!visible()) {
      clearTimeout(timer);
      timer = null;
    } else if (!asking && timer === null && !left) {
      refresh();                     // back in view: today's figures at once, not 3 s later
    }
  };
  document.addEventListener("visibilitychange", onVisibility);
  refresh();
  return {
    leave() {
      left = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    },
  };
}

function render(box, sales, room, err) {
  const problem = err && h("p", { class: "alert", role: "alert" }, t("admin.sales.stale", { message: err.message }));
  if (!sales) { replace(box, problem); return; }
  const total = sales.by_grade.reduce((sum, g) => sum + g.seats, 0);
  const thisMinute = sales.per_minute[sales.per_minute.length - 1];
  replace(box, problem,
    h("p", { class: "muted onsale-updated" }, t("admin.sales.updated", { at: clockTime(Date.parse(sales.updated_at)) })),
    h("dl", { class: "onsale-cards" },
      card(t("admin.sales.soldSeats"), t("admin.sales.ofSeats", { sold: count(sales.sold_seats), total: count(total) })),
      card(t("admin.sales.revenue"), won(sales.revenue)),
      card(t("admin.sales.refunds"), won(sales.refunds)),
      card(t("admin.sales.thisMinute"), t("admin.sales.seats", { count: count(thisMinute?.seats || 0) }))),
    h("section", { class: "panel", "aria-labelledby": "onsale-grades" },
      h("h3", { id: "onsale-grades" }, t("admin.sales.byGrade")),
      gradesTable(sales.by_grade), legend()),
    h("section", { class: "panel", "aria-labelledby": "onsale-minutes" },
      h("h3", { id: "onsale-minutes" }, t("admin.sales.perMinute")),
      minutesChart(sales.per_minute)),
    h("section", { class: "panel", "aria-labelledby": "onsale-room" },
      h("h3", { id: "onsale-room" }, t("admin.sales.room")),
      roomFigures(room)));
}

const card = (term, value) => h("div", { class: "onsale-card" }, h("dt", {}, term), h("dd", {}, value));

function gradesTable(grades) {
  return table(t("admin.sales.byGrade"),
    [t("admin.sales.grade"), ...PARTS.map((part) => t(`admin.sales.${part}`))],
    grades.map((g) => [
      h("div", { class: "onsale-grade" }, h("strong", {}, g.grade), " ",
        h("span", { class: "muted" }, t("admin.sales.seats", { count: count(g.seats) }), " · ", won(g.price)), bar(g)),
      ...PARTS.map((part) => count(g[part]))]), { cards: false });    // (five short figures a row: a table fits a phone)
}

/** A grade's seats as one bar in four parts (the numbers beside it say the same in words). Widths are
 * set through the style object: the page's CSP refuses style attributes. */
function bar(grade) {
  return h("div", { class: "onsale-bar", "aria-hidden": "true" },
    PARTS.filter((part) => grade[part]).map((part) => {
      const piece = h("span", { class: `onsale-part onsale-${part}` });
      piece.style.width = `${(100 * grade[part]) / grade.seats}%`;
      return piece;
    }));
}

const legend = () => h("ul", { class: "onsale-legend", "aria-hidden": "true" },
  PARTS.map((part) => h("li", {}, h("span", { class: `onsale-swatch onsale-${part}` }), t(`admin.sales.${part}`))));

/** Seats sold in each of the last 60 minutes as bars, the empty minutes too; each bar's tooltip says
 * its minute, seats and revenue, and the chart's name sums the hour up for screen readers. */
function minutesChart(minutes) {
  const width = 600;
  const height = 120;
  const step = width / minutes.length;
  const most = Math.max(0, ...minutes.map((m) => m.seats));
  const seats = minutes.reduce((sum, m) => sum + m.seats, 0);
  const revenue = minutes.reduce((sum, m) => sum + m.revenue, 0);
  const summary = t("admin.sales.hour", { seats: count(seats), revenue: won(revenue), most: count(most) });
  const svg = h("svg", { class: "onsale-chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
    role: "img", "aria-label": summary },
    minutes.map((m, i) => {
      const tall = (height * m.seats) / Math.max(1, most);
      return h("rect", { class: "onsale-minute", x: i * step + 1, y: height - tall, width: step - 2, height: tall },
        h("title", {}, t("admin.sales.minute", { at: time(m.minute), seats: count(m.seats), revenue: won(m.revenue) })));
    }));
  return h("figure", { class: "onsale-figure" },
    h("div", { class: "onsale-scale muted" }, t("admin.sales.seats", { count: count(most) })),
    svg,
    h("div", { class: "onsale-axis muted" }, h("span", {}, time(minutes[0].minute)), h("span", {}, t("admin.sales.now"))),
    h("figcaption", {}, summary));
}

function roomFigures(room) {
  if (!room?.enabled) return h("p", { class: "muted" }, t("admin.sales.noRoom"));
  return h("dl", { class: "onsale-cards" },
    card(t("admin.sales.waiting"), t("admin.sales.people", { count: count(room.waiting) })),
    card(t("admin.sales.active"), t("admin.sales.ofMax", { active: count(room.active), max: count(room.max_active) })),
    card(t("admin.sales.admittedLastMinute"), t("admin.sales.people", { count: count(room.admitted_last_minute) })),
    card(t("admin.sales.admittedTotal"), t("admin.sales.people", { count: count(room.admitted_total) })),
    card(t("admin.sales.pace"), t("admin.sales.perMinuteOf", { now: count(room.effective_admit_per_minute),
      set: count(room.admit_per_minute) })));
}
