// The seats of one round, live: choose seats on the map and take them off sale, or put them back.
import { del, get, post } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { session } from "../session.js";
import { toast } from "../toast.js";
import { legend } from "../seats/legend.js";
import { LiveRound } from "../seats/live.js";
import { SeatMap } from "../seats/map.js";
import { gradeColours } from "../seats/palette.js";
import { SeatStore } from "../seats/store.js";

export async function blocksView(main, { id }) {
  const roundId = Number(id);
  const [round, data] = await Promise.all([get(`/api/rounds/${roundId}`), get(`/api/rounds/${roundId}/seats`)]);
  const performance = await get(`/api/performances/${round.performance_id}`);
  const store = new SeatStore(data.seats);
  const colours = gradeColours(store.grades());
  const selected = new Set();
  const count = h("span", { "aria-live": "polite" });
  const map = new SeatMap(store, {
    colours, label: t("admin.blocks.mapLabel", { title: performance.title, when: dateTime(round.starts_at) }), help: "blocks-help",
    stateOf: (seat) => (selected.has(seat.id) ? "selected" : seat.state),
    selectable: (seat) => seat.state !== "sold",
    onActivate: (seat) => {
      if (seat.state === "sold") return;
      if (!selected.delete(seat.id)) selected.add(seat.id);
      map.refresh([seat]);
      showCount();
    },
  });
  const showCount = () => { count.textContent = t("admin.blocks.selected", { count: selected.size }); };
  const apply = async (block) => {
    const ids = [...selected];
    if (!ids.length) return;
    try {
      if (block) await post(`/api/rounds/${roundId}/blocks`, { seat_ids: ids });
      else await del(`/api/rounds/${roundId}/blocks`, { seat_ids: ids });
      selected.clear();
      map.refresh(ids.map((i) => store.get(i)));
      showCount();
      toast(t(block ? "admin.blocks.blocked" : "admin.blocks.unblocked", { count: ids.length }), { kind: "ok" });
    } catch (err) { toast(err.message, { kind: "bad" }); }
  };
  /** Add these seats to the selection (sold ones cannot be blocked, so they are left out). */
  const selectMany = (seats) => {
    const chosen = seats.filter((seat) => seat.state !== "sold");
    for (const seat of chosen) selected.add(seat.id);
    map.refresh(chosen);
    showCount();
  };
  const sections = store.sections();
  const sectionSelect = h("select", { name: "section" }, [...sections.keys()].map((name) => h("option", { value: name }, name)));
  const rowSelect = h("select", { name: "row" });
  const showRows = () => replace(rowSelect, [...new Set(sections.get(sectionSelect.value).map((seat) => seat.row))]
    .map((row) => h("option", { value: row }, t("admin.blocks.rowN", { row }))));
  sectionSelect.addEventListener("change", showRows);
  showRows();
  const drag = h("button", { type: "button", class: "secondary", "aria-pressed": "false" }, t("admin.blocks.drag"));
  drag.addEventListener("click", () => drag.setAttribute("aria-pressed", String(drag.getAttribute("aria-pressed") !== "true")));
  rectangleSelection(map.element, () => drag.getAttribute("aria-pressed") === "true", (inside) =>
    selectMany(store.list.filter((seat) => inside(map.elements.get(seat.id)))));
  const pickers = h("div", { class: "row block-pickers" },
    h("label", {}, t("admin.blocks.section"), " ", sectionSelect),
    h("button", { type: "button", class: "secondary", onclick: () => selectMany(sections.get(sectionSelect.value)) },
      t("admin.blocks.selectSection")),
    h("label", {}, t("admin.blocks.row"), " ", rowSelect),
    h("button", { type: "button", class: "secondary", onclick: () =>
      selectMany(sections.get(sectionSelect.value).filter((seat) => seat.row === Number(rowSelect.value))) },
    t("admin.blocks.selectRow")),
    drag);
  const live = new LiveRound(roundId, store, { token: session.token });
  store.addEventListener("change", (e) => map.refresh(e.detail.changes.map((c) => c.seat)));
  live.connect();
  showCount();
  replace(main, h("p", {}, h("a", { href: `#/rounds/${performance.id}` }, t("admin.blocks.back"))),
    h("h1", {}, `${performance.title} · ${dateTime(round.starts_at)}`),
    h("section", { class: "panel" },
      h("p", { id: "blocks-help", class: "muted" },
        t("admin.blocks.help")),
      legend(store.grades(), colours, ["available", "held", "sold", "blocked", "selected"]),
      pickers,
      map.element,
      h("div", { class: "row selection-bar" }, count,
        h("button", { type: "button", onclick: () => apply(true) }, t("admin.blocks.block")),
        h("button", { type: "button", class: "secondary", onclick: () => apply(false) }, t("admin.blocks.unblock")),
        h("button", { type: "button", class: "link", onclick: () => {
          const ids = [...selected]; selected.clear(); map.refresh(ids.map((i) => store.get(i))); showCount();
        } }, t("admin.blocks.clear")))));
  return { leave: () => live.close() };
}

/** While `active()`, a drag over `area` draws a rectangle instead of panning the map; on release,
 * `done(inside)` gets a test of whether a seat's element has its centre in the rectangle. */
function rectangleSelection(area, active, done) {
  let start = null;
  const box = h("div", { class: "drag-box", hidden: true });
  area.style.position = "relative";
  area.append(box);
  const rect = (e) => ({ left: Math.min(start.x, e.clientX), right: Math.max(start.x, e.clientX),
    top: Math.min(start.y, e.clientY), bottom: Math.max(start.y, e.clientY) });
  area.addEventListener("pointerdown", (e) => {
    if (!active() || e.button !== 0) return;
    e.stopPropagation();                       // (capture: the map's own pan never sees it)
    e.preventDefault();
    start = { x: e.clientX, y: e.clientY };
    area.setPointerCapture(e.pointerId);
  }, true);
  area.addEventListener("pointermove", (e) => {
    if (!start) return;
    e.stopPropagation();
    const r = rect(e);
    const at = area.getBoundingClientRect();
    Object.assign(box.style, { left: `${r.left - at.left}px`, top: `${r.top - at.top}px`,
      width: `${r.right - r.left}px`, height: `${r.bottom - r.top}px` });
    box.hidden = false;
  }, true);
  area.addEventListener("pointerup", (e) => {
    if (!start) return;
    e.stopPropagation();
    const r = rect(e);
    start = null;
    box.hidden = true;
    done((el) => {
      const b = el?.getBoundingClientRect();
      if (!b) return false;
      const x = b.left + b.width / 2;
      const y = b.top + b.height / 2;
      return x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
    });
  }, true);
}
