// The server's clock (GET /api/time). A sale opens by the server's clock, not the device's, so the
// pages measure the difference once and then tick locally: the clock in the header, the countdowns.
import { get } from "./api.js";
import { h } from "./dom.js";
import { clockTime } from "./format.js";
import { t } from "./i18n.js";

let offset = 0;              // server − device, in ms

/** Measure the offset; if the server does not answer, the device's clock it is. */
async function syncClock() {
  const sent = Date.now();
  try {
    const { epoch_ms: serverMs } = await get("/api/time");
    // The server read its clock somewhere between sending and receiving: halfway is the best guess.
    offset = serverMs - (sent + Date.now()) / 2;
  } catch { /* keep the device's clock */ }
}

/** Now by the server's clock, in ms since the epoch. */
export const serverNow = () => Date.now() + offset;

/** Measure the offset, then keep the server's clock in the page's header (every page shows it). */
export async function showServerClock() {
  await syncClock();
  document.querySelector(".topbar").append(new ServerClock().element);
}

// One timer for every clock on the page, so that they never disagree.
const faces = new Set();
let timer = null;

function tick() {
  clearTimeout(timer);
  const now = serverNow();
  for (const face of faces) show(face, now);
  if (faces.size) timer = setTimeout(tick, 1000 - (now % 1000) + 5);   // just after the next second
}

function show(face, now) {
  face.textContent = clockTime(now);
  face.dateTime = new Date(now).toISOString();
}

/** "Server time 19:58:07", ticking on the second; stop() when its view leaves. */
export class ServerClock {
  constructor() {
    this.face = h("time", {});
    this.element = h("p", { class: "server-clock" }, `${t("onsale.serverTime")} `, this.face);
    faces.add(this.face);
    show(this.face, serverNow());
    if (faces.size === 1) tick();
  }

  stop() { faces.delete(this.face); }
}
