// The seats of one round and their live states; tells listeners what changed.
//
// States (docs/websocket.md): available, held, sold, blocked, and mine (held by the signed-in user).
// A "change" event carries {changes: [{seat, from, to}]}.

export const STATES = ["available", "mine", "held", "sold", "blocked"];

export class SeatStore extends EventTarget {
  /** @param seats [{id, section, row, number, x, y, grade, price?, status?}] */
  constructor(seats) {
    super();
    this.seats = new Map(seats.map((s) => [s.id, { ...s, state: s.status || "available" }]));
    this.list = [...this.seats.values()];
  }

  get(id) { return this.seats.get(id); }

  /** [[seat_id, state], ...] as in a delta. */
  apply(pairs) {
    const changes = [];
    for (const [id, state] of pairs) {
      const seat = this.seats.get(id);
      if (!seat || seat.state === state) continue;
      changes.push({ seat, from: seat.state, to: state });
      seat.state = state;
    }
    if (changes.length) this.dispatchEvent(new CustomEvent("change", { detail: { changes } }));
    return changes;
  }

  /** A snapshot's {available: [ids], held: [...], ...}; seats it does not name keep their state. */
  applySnapshot(groups) {
    const pairs = [];
    for (const [state, ids] of Object.entries(groups)) for (const id of ids) pairs.push([id, state]);
    return this.apply(pairs);
  }

  inState(state) { return this.list.filter((s) => s.state === state); }

  count(state) {
    let n = 0;
    for (const s of this.list) if (s.state === state) n += 1;
    return n;
  }

  /** Sections in first-seen order, each with its seats sorted by row then number. */
  sections() {
    const bySection = new Map();
    for (const seat of this.list) {
      if (!bySection.has(seat.section)) bySection.set(seat.section, []);
      bySection.get(seat.section).push(seat);
    }
    for (const seats of bySection.values()) seats.sort((a, b) => a.row - b.row || a.number - b.number);
    return bySection;
  }

  /** Grades, dearest first: [{grade, price}] (price undefined where the seats carry none). */
  grades() {
    const prices = new Map();
    for (const s of this.list) if (!prices.has(s.grade)) prices.set(s.grade, s.price);
    return [...prices].map(([grade, price]) => ({ grade, price }))
      .sort((a, b) => (b.price ?? 0) - (a.price ?? 0) || a.grade.localeCompare(b.grade));
  }
}
