// Your turn on the seat page, once the waiting room let you in: how long it lasts (and that it goes on
// while you hold seats). The queue socket tells when it ends; the page then goes back to the waiting
// room, which says so.
import { countdownIn } from "../countdown.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { redirect } from "../router.js";
import { session } from "../session.js";
import { LivePlace } from "./live.js";

export class Turn {
  /** holdsSeats(): whether you hold seats of the round now. */
  constructor(roundId, holdsSeats) {
    this.roundId = roundId;
    this.holdsSeats = holdsSeats;
    this.ranOut = false;
    this.note = h("span", { class: "muted" }, t("onsale.turn.goesOn"));
    this.countdown = countdownIn(t("onsale.turn.endsIn"), () => this.#ranOut());
    this.element = h("div", { class: "notice round-banner turn-banner" }, this.countdown.element, this.note);
  }

  /** admittedUntil: RFC 3339, from the place. */
  start(admittedUntil) {
    this.countdown.set(Date.parse(admittedUntil));
    this.live = new LivePlace(this.roundId, session.token);
    this.live.addEventListener("place", (e) => {
      if (e.detail.status !== "admitted") redirect(`/rounds/${this.roundId}/queue`);
      else if (!this.ranOut) this.countdown.set(Date.parse(e.detail.admitted_until));
    });
    this.live.start();
  }

  stop() {
    this.countdown.stop();
    this.live?.stop();
  }

  #ranOut() {
    // Past its time the turn lasts only while you hold seats; without any, the socket is about to say it ended.
    this.ranOut = true;
    this.countdown.set(null);
    this.note.textContent = this.holdsSeats() ? t("onsale.turn.goesOnHolding") : t("onsale.turn.ending");
  }
}
