// The seat page's banner before the sale opens, counting down by the server's clock: the seats can be
// watched, not held, until then.
import { serverNow } from "../clock.js";
import { countdownIn } from "../countdown.js";
import { h } from "../dom.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";

export class SaleBanner {
  constructor() {
    this.text = h("span", {});
    this.countdown = countdownIn(t("onsale.saleIn"), () => { this.element.hidden = true; });
    this.element = h("div", { class: "notice round-banner sale-banner", hidden: true }, this.text, this.countdown.element);
  }

  /** opensAt: RFC 3339, or null (on sale); shown only while it is ahead. */
  opensAt(opensAt) {
    const ms = opensAt ? Date.parse(opensAt) : null;
    this.element.hidden = !ms || ms <= serverNow();
    this.countdown.set(this.element.hidden ? null : ms);
    if (ms) this.text.textContent = t("onsale.sale.at", { when: dateTime(opensAt) });
  }

  stop() { this.countdown.stop(); }
}
