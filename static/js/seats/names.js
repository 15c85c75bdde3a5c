// What a seat is called, for screen readers and for people: the state always in words, in the page's
// language ("R구역 2열 8번, R석, 120,000원, 예매 가능" / "Section R, row 2, seat 8, R grade, 120,000 won, available").
import { won } from "../format.js";
import { t } from "../i18n.js";

/** The state in words: "예매 가능", "내가 선택", ... */
export const stateWord = (state) => t(`map.state.${state}`);

/** "R구역 2열 8번, R석, 120,000원, 예매 가능"; `watched`: the user asked to be told when it is free. */
export function seatName(seat, state = seat.state, { watched = false } = {}) {
  const parts = [seatPlace(seat), t("map.seat.grade", { grade: seat.grade })];
  if (seat.price !== undefined) parts.push(won(seat.price));
  parts.push(state === "selected" ? t("map.seat.selected", { state: stateWord(seat.state) }) : stateWord(state));
  if (watched) parts.push(t("map.watch.on"));
  return parts.join(", ");
}

/** "R구역 2열 8번" / "Section R, row 2, seat 8" */
export const seatPlace = (seat) => t("map.seat.place", { section: seat.section, row: seat.row, number: seat.number });

/** Several seats in one phrase: "R구역 2열 8번, R구역 2열 9번" (a long list is cut with "외 n석"). */
export function seatPlaces(seats, shown = 4) {
  const names = seats.slice(0, shown).map(seatPlace).join(", ");
  return seats.length > shown ? t("map.seat.andMore", { names, more: seats.length - shown }) : names;
}
