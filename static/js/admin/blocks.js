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
      map.element,
      h("div", { class: "row selection-bar" }, count,
        h("button", { type: "button", onclick: () => apply(true) }, t("admin.blocks.block")),
        h("button", { type: "button", class: "secondary", onclick: () => apply(false) }, t("admin.blocks.unblock")),
        h("button", { type: "button", class: "link", onclick: () => {
          const ids = [...selected]; selected.clear(); map.refresh(ids.map((i) => store.get(i))); showCount();
        } }, t("admin.blocks.clear")))));
  return { leave: () => live.close() };
}
