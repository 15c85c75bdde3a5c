// English: the switch's second language. Every key of ko.js has its English here (tests compare the keys).
// One object per part of the pages, so changes to different parts never touch the same lines.
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

// ---- shared: money, counts, times, generic words --------------------------------------------------
const common = {
  "common.won": "{amount} won",
  "common.loading": "Loading…",
  "common.close": "Close",
  "common.dismiss": "Dismiss",
  "common.wait.underMinute": "under a minute",
  "common.wait.minutes": ({ minutes }) => `about ${plural(minutes, "minute", "minutes")}`,
  "common.wait.hours": ({ hours }) => `about ${plural(hours, "hour", "hours")}`,
  "common.wait.hoursMinutes": ({ hours, minutes }) =>
    `about ${plural(hours, "hour", "hours")} ${plural(minutes, "minute", "minutes")}`,
};

// ---- the shell: header, language switch, sign-in dialog, errors, not-found ------------------------
const shell = {
  "shell.brand": "Ticket Blue",
  "shell.skip": "Skip to content",
  "shell.nav": "Main",
  "shell.performances": "Performances",
  "shell.myBookings": "My bookings",
  "shell.switchLanguage": "Show the pages in {name}",
  "shell.signIn": "Log in / Sign up",
  "shell.signOut": "Log out",
  "shell.signedIn": "Signed in",
  "shell.home": "Back to the performances",
  "shell.error.title": "Something went wrong",
  "shell.error.gone": "That page does not exist (any more).",
  "shell.error.generic": "Please try again in a moment.",
  "shell.notFound.title": "Page not found",
  "shell.notFound.text": "The address may be mistyped, or the page is gone.",
};

// ---- the catalogue: performances, dates, venue, availability --------------------------------------
const catalogue = {
  "catalogue.title": "Performances",
  "catalogue.search": "Search performances",
  "catalogue.searchPlaceholder": "Title",
  "catalogue.none": "No performances found.",
  "catalogue.chooseDate": "Choose a date",
  "catalogue.chooseDateFor": "Choose a date for {title}",
  "catalogue.poster": "Poster of {title}",
  "catalogue.category.concert": "Concert",
  "catalogue.category.musical": "Musical",
  "catalogue.category.play": "Play",
  "catalogue.category.classical": "Classical",
  "catalogue.category.dance": "Dance",
  "catalogue.category.etc": "Other",
};

// ---- the seat map: map, list, legend, basket, best seats, seat watch ------------------------------
const map = {
  "map.title": "Choose your seats",
};

// ---- booking: checkout, payment, reservation, my bookings, tickets, check-in -----------------------
const booking = {
  "booking.checkout": "Checkout",
};

// ---- the on-sale: waiting room, sale banner, turn, server clock ------------------------------------
const onsale = {
  "onsale.queue": "Waiting room",
  "onsale.serverTime": "Server time",
};

export default { ...common, ...shell, ...catalogue, ...map, ...booking, ...onsale };
