// How far along the line you have come: from the position you first had to the front. The first position
// is kept in the browser's storage, so a refresh (which keeps your place) keeps your progress too; a
// place further back than it (you joined again at the end) starts afresh.
export class LineProgress {
  constructor(key) {
    this.key = key;
    this.first = Number(localStorage.getItem(key)) || null;
  }

  /** Your position now → the share of the way done, from 0 (where you started) towards 1 (let in). */
  update(position) {
    if (!this.first || position > this.first) {
      this.first = position;
      localStorage.setItem(this.key, String(position));
    }
    return (this.first - position) / this.first;
  }
}
