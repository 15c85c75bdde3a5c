// The door's last few answers on this device, newest first: staff look back at who just went in (or
// who was turned away) after the answer on the screen has been replaced by the next ticket's. Kept as
// the server said it (not in words), so the list reads in whatever language the page is in.
const KEY = "ticketblue.check-ins";
const KEEP = 5;

/** [{outcome, at (ms), code, holder?, section?, row?, number?, grade?}], newest first. */
export function recentCheckIns() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];                                   // a damaged entry is the same as none
  }
}

export function rememberCheckIn(entry) {
  localStorage.setItem(KEY, JSON.stringify([entry, ...recentCheckIns()].slice(0, KEEP)));
}
