// The shape of a hall from its seats' x/y: seat spacing, bounds, lines of seats for arrow keys.

/** The usual distance between neighbouring seats (generated halls: 1; explicit maps: anything). */
export function seatPitch(seats) {
  const byLine = linesOf(seats);
  const gaps = [];
  for (const line of byLine) for (let i = 1; i < line.length; i += 1) gaps.push(line[i].x - line[i - 1].x);
  if (!gaps.length) return 1;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)] || 1;
}

/** Seats grouped by their y (rows across sections), top to bottom, each left to right. */
export function linesOf(seats) {
  const lines = new Map();
  for (const seat of seats) {
    const key = Math.round(seat.y * 1000);
    if (!lines.has(key)) lines.set(key, []);
    lines.get(key).push(seat);
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([, line]) => line.sort((a, b) => a.x - b.x));
}

export function boundsOf(seats, pitch) {
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  for (const s of seats) {
    minX = Math.min(minX, s.x); maxX = Math.max(maxX, s.x);
    minY = Math.min(minY, s.y); maxY = Math.max(maxY, s.y);
  }
  if (!seats.length) { minX = 0; minY = 0; maxX = 1; maxY = 1; }
  return { minX, minY, maxX, maxY, pitch };
}

/** For arrow keys: the neighbour of `seat` in a direction, or null at the edge. */
export class Neighbours {
  constructor(seats) {
    this.lines = linesOf(seats);
    this.where = new Map();
    this.lines.forEach((line, li) => line.forEach((seat, si) => this.where.set(seat.id, [li, si])));
  }

  move(seat, key) {
    const [li, si] = this.where.get(seat.id);
    const line = this.lines[li];
    switch (key) {
      case "ArrowLeft": return line[si - 1] || null;
      case "ArrowRight": return line[si + 1] || null;
      case "Home": return line[0];
      case "End": return line[line.length - 1];
      case "ArrowUp": return this.#nearest(this.lines[li - 1], seat.x);
      case "ArrowDown": return this.#nearest(this.lines[li + 1], seat.x);
      default: return null;
    }
  }

  #nearest(line, x) {
    if (!line) return null;
    let best = line[0];
    for (const s of line) if (Math.abs(s.x - x) < Math.abs(best.x - x)) best = s;
    return best;
  }
}

/** Where the stage is: in front of the first row, at the hall's horizontal centre (the rule the server's
 * best-seat choice measures from, server/best_seats.py). */
export function stageOf(seats) {
  const b = boundsOf(seats, 1);
  return { x: (b.minX + b.maxX) / 2, y: b.minY - 1 };
}

/** The seats of each row of a section ({row: [seats left to right]}), for row labels at the row ends. */
export function rowsOf(seats) {
  const rows = new Map();
  for (const seat of seats) {
    if (!rows.has(seat.row)) rows.set(seat.row, []);
    rows.get(seat.row).push(seat);
  }
  for (const row of rows.values()) row.sort((a, b) => a.x - b.x);
  return rows;
}

/** About how wide `text` is in a font of `size` (Hangul and other wide letters a full em, the rest ~0.62). */
export function textWidth(text, size) {
  let ems = 0;
  for (const ch of text) ems += /[\u1100-\u11ff\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/.test(ch) ? 1 : 0.62;
  return ems * size;
}

/** The smallest box holding all these boxes ({x, y, w, h}). */
export function unionOf(boxes) {
  const minX = Math.min(...boxes.map((b) => b.x));
  const minY = Math.min(...boxes.map((b) => b.y));
  const maxX = Math.max(...boxes.map((b) => b.x + b.w));
  const maxY = Math.max(...boxes.map((b) => b.y + b.h));
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY };
}
