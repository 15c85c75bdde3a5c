// The admin page: an admin signs in, then manages halls, performers, performances, rounds and
// their seats, coupons, searches bookings, and watches a round's sales live. Everything goes
// through the public API.
import { askToSignIn, renderAccount, setUpAuthDialog } from "../auth.js";
import { showServerClock } from "../clock.js";
import { config } from "../config.js";
import { $, $$, h, replace } from "../dom.js";
import { setTimeZone } from "../format.js";
import { showLanguageSwitch, t, translatePage } from "../i18n.js";
import { route, start } from "../router.js";
import { session } from "../session.js";
import { blocksView } from "./blocks.js";
import { bookingsView } from "./bookings.js";
import { couponsView } from "./coupons.js";
import { hallsView } from "./halls.js";
import { onSaleView } from "./onsale.js";
import { performancesView } from "./performances.js";
import { performersView } from "./performers.js";
import { roundsView } from "./rounds.js";

const adminOnly = (view) => async (main, params) => {
  if (!session.isAdmin) return gate(main);
  return view(main, params);
};

route("/halls", adminOnly(hallsView));
route("/performers", adminOnly(performersView));
route("/performances", adminOnly(performancesView));
route("/rounds", adminOnly(roundsView));
route("/rounds/:performance", adminOnly(roundsView));
route("/seats/:id", adminOnly(blocksView));
route("/coupons", adminOnly(couponsView));
route("/bookings", adminOnly(bookingsView));
route("/sales", adminOnly(onSaleView));
route("/sales/:round", adminOnly(onSaleView));
route("/", adminOnly(hallsView));

function gate(main) {
  replace(main, h("section", { class: "panel stack" },
    h("h1", {}, t("admin.gate.title")),
    h("p", {}, t(session.signedIn ? "admin.gate.notAdmin" : "admin.gate.signIn")),
    h("p", { class: "muted gate-how-to" }, t("admin.gate.howTo")),
    h("button", { type: "button", onclick: async () => { session.logout(); await askToSignIn(); } }, t("shell.auth.logIn"))));
}

function showNav() {
  $("#admin-nav").hidden = !session.isAdmin;
  const here = location.hash.split("/")[1] || "halls";
  for (const a of $$("#admin-nav a")) {
    if (a.getAttribute("href") === `#/${here}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function main() {
  translatePage();
  showLanguageSwitch(document.getElementById("language-switch"));
  setTimeZone((await config()).timezone);
  await showServerClock();
  setUpAuthDialog({ adminKey: true });
  renderAccount();
  showNav();
  session.addEventListener("change", () => {
    renderAccount();
    showNav();
    window.dispatchEvent(new HashChangeEvent("hashchange"));   // re-render the current screen
  });
  window.addEventListener("hashchange", showNav);
  start();
}

main();
