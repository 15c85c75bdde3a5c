// "좋은 자리 찾기" / "Find best seats": how many seats, of which grade (any by default); the server
// chooses and holds them at once (POST /api/rounds/{id}/holds/best, docs/API.md "Seats of a round").
import { post } from "../api.js";
import { h } from "../dom.js";
import { won } from "../format.js";
import { t } from "../i18n.js";

export class BestSeats {
  /** grades: [{grade, price}] dearest first; onFind({count, grade}) does the asking (and the answering). */
  constructor({ grades, maxSeats, onFind }) {
    this.count = h("select", { name: "count", id: "best-count" },
      Array.from({ length: maxSeats }, (_, i) => h("option", { value: i + 1, selected: i + 1 === Math.min(2, maxSeats) },
        t("map.best.count", { count: i + 1 }))));
    this.grade = h("select", { name: "grade", id: "best-grade" },
      h("option", { value: "" }, t("map.best.anyGrade")),
      grades.map(({ grade, price }) => h("option", { value: grade },
        price !== undefined ? t("map.legend.gradePrice", { grade, price: won(price) }) : grade)));
    this.button = h("button", { type: "submit" }, t("map.best.find"));
    this.element = h("form", { class: "best-seats", "aria-labelledby": "best-title" },
      h("h3", { id: "best-title" }, t("map.best.title")),
      h("div", { class: "best-fields" },
        h("label", { for: "best-count" }, h("span", { class: "visually-hidden" }, t("map.best.countLabel")), this.count),
        h("label", { for: "best-grade" }, h("span", { class: "visually-hidden" }, t("map.best.gradeLabel")), this.grade),
        this.button));
    this.element.addEventListener("submit", async (e) => {
      e.preventDefault();
      this.button.disabled = true;
      try {
        await onFind({ count: Number(this.count.value), grade: this.grade.value || null });
      } finally {
        this.button.disabled = false;
      }
    });
  }
}

/** Hold the best `count` seats (of `grade`): {seat_ids, expires_at}; refusals throw an ApiError. */
export function holdBest(roundId, { count, grade }) {
  return post(`/api/rounds/${roundId}/holds/best`, grade ? { count, grade } : { count });
}
