// A visible countdown to a deadline. Screen readers are told at a few moments, not every second.
import { h } from "./dom.js";
import { minutesSeconds } from "./format.js";
import { announce } from "./toast.js";

const ANNOUNCE_AT = [60, 10];

export class Countdown {
  /** prefix: "Held for"; onExpire(): called once when the deadline passes. */
  constructor({ prefix, onExpire = () => {} }) {
    this.prefix = prefix;
    this.onExpire = onExpire;
    this.deadline = null;
    this.value = h("span", { class: "countdown-value" });
    this.element = h("p", { class: "countdown", role: "timer", "aria-live": "off", hidden: true },
      `${prefix} `, this.value);
  }

  /** deadline: ms since the epoch, or null to hide. */
  set(deadline) {
    clearInterval(this.timer);
    this.deadline = deadline;
    this.announced = new Set(ANNOUNCE_AT.filter((s) => deadline && deadline - Date.now() < s * 1000));
    this.element.hidden = !deadline;
    if (!deadline) return;
    this.#tick();
    this.timer = setInterval(() => this.#tick(), 1000);
  }

  stop() { this.set(null); }

  #tick() {
    const left = (this.deadline - Date.now()) / 1000;
    this.value.textContent = minutesSeconds(left);
    this.element.classList.toggle("urgent", left < 60);
    for (const at of ANNOUNCE_AT) {
      if (left <= at && !this.announced.has(at)) {
        this.announced.add(at);
        announce(`${this.prefix} ${at === 60 ? "one more minute" : `${at} more seconds`}.`);
      }
    }
    if (left <= 0) {
      clearInterval(this.timer);
      this.onExpire();
    }
  }
}
