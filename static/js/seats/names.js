// What a seat is called, for screen readers and for people: the state always in words.
import { won } from "../format.js";

export const STATE_WORDS = {
  available: "available",
  mine: "held for you",
  held: "held by someone else",
  sold: "sold",
  blocked: "not for sale",
  selected: "selected",
};

/** "Section A, row 3, seat 14, R grade, 120,000 won, available" */
export function seatName(seat, state = seat.state) {
  const parts = [`Section ${seat.section}`, `row ${seat.row}`, `seat ${seat.number}`, `${seat.grade} grade`];
  if (seat.price !== undefined) parts.push(won(seat.price));
  parts.push(state === "selected" ? `${STATE_WORDS[seat.state] || seat.state}, selected` : STATE_WORDS[state] || state);
  return parts.join(", ");
}

/** "Section A, row 3, seat 14" */
export const seatPlace = (seat) => `Section ${seat.section}, row ${seat.row}, seat ${seat.number}`;

/** "A 3-14" for tight spaces. */
export const seatShort = (seat) => `${seat.section} ${seat.row}-${seat.number}`;
