// Paying for a reservation: the built-in sandbox (no keys configured) or the Toss Payments widget
// (a client key configured). Either way the server confirms with the amount it computed.
import { post } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const TOSS_SDK = "https://js.tosspayments.com/v2/standard";

export const confirmPayment = (paymentKey, orderId, amount) =>
  post("/api/payments/confirm", { payment_key: paymentKey, order_id: orderId, amount });

/** Sandbox: the server's stand-in for the widget hands out a payment key; then confirm it. */
export async function paySandbox(reservation) {
  const { payment_key: key } = await post("/sandbox/toss/checkout",
    { order_id: reservation.order_id, amount: reservation.amount });
  return confirmPayment(key, reservation.order_id, reservation.amount);
}

/** Toss: render the payment widget into `container`; returns pay(), which leaves for Toss and
 * comes back to /?toss=success|fail&reservation=<id> (see completeTossReturn). */
export async function mountTossWidget(container, clientKey, reservation, orderName) {
  const TossPayments = await loadSdk();
  const widgets = TossPayments(clientKey).widgets({ customerKey: TossPayments.ANONYMOUS });
  await widgets.setAmount({ currency: "KRW", value: reservation.amount });
  const methods = h("div", { id: "toss-methods" });
  const agreement = h("div", { id: "toss-agreement" });
  container.append(methods, agreement);
  await Promise.all([widgets.renderPaymentMethods({ selector: "#toss-methods", variantKey: "DEFAULT" }),
    widgets.renderAgreement({ selector: "#toss-agreement", variantKey: "AGREEMENT" })]);
  const back = (result) => `${location.origin}/?toss=${result}&reservation=${reservation.id}`;
  return () => widgets.requestPayment({ orderId: reservation.order_id, orderName,
    successUrl: back("success"), failUrl: back("fail") });
}

/** Back from Toss: confirm (success) or say why not (fail). Returns the reservation id to show. */
export async function completeTossReturn(params) {
  const reservationId = params.get("reservation");
  if (params.get("toss") === "success") {
    await confirmPayment(params.get("paymentKey"), params.get("orderId"), Number(params.get("amount")));
    return { reservationId };
  }
  return { reservationId, failure: params.get("message") || t("booking.paymentNotDone") };
}

let sdk;
function loadSdk() {
  sdk ??= new Promise((resolve, reject) => {
    const script = h("script", { src: TOSS_SDK, async: true });
    script.addEventListener("load", () => resolve(window.TossPayments));
    script.addEventListener("error", () => { sdk = null; reject(new Error("The Toss payment widget could not be loaded.")); });
    document.head.append(script);
  });
  return sdk;
}
