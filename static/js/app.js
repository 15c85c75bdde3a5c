// The seat-picking page: wires the routes, the account area, notifications and the Toss return.
import { renderAccount, setUpAuthDialog } from "./auth.js";
import { showServerClock } from "./clock.js";
import { config } from "./config.js";
import { setTimeZone } from "./format.js";
import { showLanguageSwitch, translatePage } from "./i18n.js";
import { startNotifications } from "./notifications.js";
import { completeTossReturn } from "./payments.js";
import { route, start } from "./router.js";
import { session } from "./session.js";
import { toast } from "./toast.js";
import { bookingsView } from "./views/bookings.js";
import { catalogueView } from "./views/catalogue.js";
import { checkInView } from "./views/check-in.js";
import { checkoutView } from "./views/checkout.js";
import { performanceView } from "./views/performance.js";
import { queueView } from "./views/queue.js";
import { reservationView } from "./views/reservation.js";
import { roundView } from "./views/round.js";

route("/", catalogueView);
route("/performances/:id", performanceView);
route("/rounds/:id", roundView);
route("/rounds/:id/checkout", checkoutView);
route("/rounds/:id/queue", queueView);
route("/reservations/:id", reservationView);
route("/me", bookingsView);
route("/check-in", checkInView);

async function main() {
  translatePage();
  showLanguageSwitch(document.getElementById("language-switch"));
  setTimeZone((await config()).timezone);
  await showServerClock();
  setUpAuthDialog();
  renderAccount();
  session.addEventListener("change", renderAccount);
  startNotifications();
  await returnFromToss();
  start();
}

/** Toss sends the buyer back to /?toss=success|fail&reservation=…&paymentKey=…&orderId=…&amount=… */
async function returnFromToss() {
  const params = new URLSearchParams(location.search);
  if (!params.has("toss")) return;
  let reservationId = params.get("reservation");
  try {
    const result = await completeTossReturn(params);
    reservationId = result.reservationId;
    if (result.failure) toast(result.failure, { kind: "bad" });
  } catch (err) {
    toast(err.message, { kind: "bad" });
  }
  history.replaceState(null, "", `/#/reservations/${reservationId}`);
}

main();
