// The seat page's banner before the sale opens, counting down by the server's clock: the seats can be
// watched, not held, until then.
import { serverNow } from "../clock.js";
import { countdownIn } from "../countdown.js";
import { h } from "../dom.js";
import { dateTime } from "../format.js";

export class SaleBanner {
  constructor() {
    this.text = h("span", {});
    this.countdown = countdownIn("The sale opens in", () => { this.element.hidden = true; });
    this.element = h("div", { class: "notice round-banner sale-banner", hidden: true }, this.text, this.countdown.element);
  }

  /** opensAt: RFC 3339, or null (on sale); shown only while it is ahead. */
  opensAt(opensAt) {
    const ms = opensAt ? Date.parse(opensAt) : null;
    this.element.hidden = !ms || ms <= serverNow();
    this.countdown.set(this.element.hidden ? null : ms);
    if (ms) this.text.textContent = `The sale opens at ${dateTime(opensAt)}. Until then you can look at the seats.`;
  }

  stop() { this.countdown.stop(); }
}
