// A visible countdown to a deadline on the server's clock. Screen readers are told at a few
// moments, not every second.
import { serverNow } from "./clock.js";
import { h } from "./dom.js";
import { minutesSeconds } from "./format.js";
import { t } from "./i18n.js";
import { announce } from "./toast.js";

const ANNOUNCE_AT = [60, 10];

/** A countdown to a moment ("판매 시작까지 4:32", "The sale opens in 4:32"), heard as "판매 시작까지 1분." */
export function countdownIn(prefix, onExpire = () => {}) {
  return new Countdown({ prefix, onExpire, say: (at) => t("common.countdown.until", { prefix, at }) });
}

export class Countdown {
  /** prefix: "남은 시간"; onExpire(): called once when the deadline passes; say(seconds): what screen
   * readers hear with one minute and ten seconds left ("남은 시간 1분.", "Held for one more minute."). */
  constructor({ prefix, onExpire = () => {}, say = (at) => t("common.countdown.left", { prefix, at }) }) {
    this.prefix = prefix;
    this.onExpire = onExpire;
    this.say = say;
    this.deadline = null;
    this.timer = null;
    this.value = h("span", { class: "countdown-value" });
    this.element = h("p", { class: "countdown", role: "timer", "aria-live": "off", hidden: true },
      `${prefix} `, this.value);
  }

  /** deadline: ms since the epoch (server clock), or null to hide. */
  set(deadline) {
    if (deadline && deadline === this.deadline && this.timer !== null) return;     // the same: it runs on
    clearInterval(this.timer);
    this.timer = null;
    this.deadline = deadline;
    this.announced = new Set(ANNOUNCE_AT.filter((s) => deadline && deadline - serverNow() < s * 1000));
    this.element.hidden = !deadline;
    if (!deadline) return;
    this.timer = setInterval(() => this.#tick(), 1000);
    this.#tick();                  // (after: a deadline already past ends the interval, and expires once)
  }

  stop() { this.set(null); }

  #tick() {
    const left = (this.deadline - serverNow()) / 1000;
    this.value.textContent = minutesSeconds(left);
    this.element.classList.toggle("urgent", left < 60);
    for (const at of ANNOUNCE_AT) {
      if (left <= at && !this.announced.has(at)) {
        this.announced.add(at);
        announce(this.say(at));
      }
    }
    if (left <= 0) {
      clearInterval(this.timer);
      this.timer = null;
      this.onExpire();
    }
  }
}
