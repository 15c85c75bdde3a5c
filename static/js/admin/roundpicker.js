// Picking a round as people think of one: a performance first, then one of its rounds by its date
// (never typed as an id). The booking search and the on-sale view both pick rounds so.
import { getAll } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { choice } from "./forms.js";

/** Two labelled selects, `performance_id` (`performancePicker`) and `round_id` (`datePicker`), the second
 * filled once a performance is chosen; `noPerformance` and `noRound` name their empty choice ("Any",
 * "Choose one"). Also gives `roundSelect`, `rounds(performanceId)` (each fetched once) and
 * `pick(performanceId, roundId)`, which shows a round already chosen. */
export function roundPicker(shows, { noPerformance, noRound }) {
  const roundsOf = new Map();
  const rounds = (performanceId) => {
    if (!roundsOf.has(performanceId)) roundsOf.set(performanceId, getAll(`/api/performances/${performanceId}/rounds`));
    return roundsOf.get(performanceId);
  };
  const performancePicker = choice(t("admin.bookings.performance"), "performance_id",
    [["", noPerformance], ...shows.map((p) => [String(p.id), p.title])]);
  const performanceSelect = performancePicker.querySelector("select");
  const datePicker = choice(t("admin.bookings.round"), "round_id", [["", noRound]], { disabled: true });
  const roundSelect = datePicker.querySelector("select");
  const showRoundsOf = async (performanceId) => {
    const chosen = performanceId ? await rounds(Number(performanceId)) : [];
    replace(roundSelect, h("option", { value: "" }, noRound),
      chosen.map((r) => h("option", { value: r.id }, dateTime(r.starts_at))));
    roundSelect.disabled = !chosen.length;
  };
  performanceSelect.addEventListener("change", (e) => showRoundsOf(e.target.value));
  const pick = async (performanceId, roundId) => {
    performanceSelect.value = String(performanceId);
    await showRoundsOf(performanceSelect.value);
    roundSelect.value = String(roundId);
  };
  return { performancePicker, datePicker, roundSelect, rounds, pick };
}
