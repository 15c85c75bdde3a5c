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
  "map.label": "Seat map",
  "map.labelOf": "Seat map of {title}, {count} seats",
  "map.stage": "STAGE",
  "map.seat.place": "Section {section}, row {row}, seat {number}",
  "map.seat.grade": "{grade} grade",
  "map.seat.selected": "{state}, selected",
  "map.seat.andMore": ({ names, more }) => `${names} and ${plural(more, "more seat", "more seats")}`,
  "map.state.available": "available",
  "map.state.mine": "held for you",
  "map.state.held": "held by someone else",
  "map.state.sold": "sold",
  "map.state.blocked": "not for sale",
  "map.state.selected": "selected",
  "map.status.connecting": "Connecting…",
  "map.status.live": "Live",
  "map.status.reconnecting": "Connection lost — reconnecting…",
  "map.status.gone": "This show time has been removed: its seats are no longer on sale.",
  "map.view.group": "Show seats as",
  "map.view.map": "Seat map",
  "map.view.list": "Seat list",
  "map.help.keys": "Arrow keys move between seats, Enter or Space holds or releases one; + and − zoom. Ctrl + scroll to zoom, drag to move. The seat list shows every seat you can choose.",
  "map.help.touch": "Tap a section to zoom in, then tap a seat to choose it. Pinch to zoom, drag to move; 'Whole hall' goes back.",
  "map.zoom.group": "Zoom",
  "map.zoom.in": "Zoom in",
  "map.zoom.out": "Zoom out",
  "map.zoom.whole": "Whole hall",
  "map.legend.title": "Legend",
  "map.legend.grades": "Grades",
  "map.legend.states": "Seat states",
  "map.legend.gradePrice": "{grade} · {price}",
  "map.legend.watched": "Watched: you'll be told when it's free",
  "map.list.seat": "Row {row}, seat {number}",
  "map.list.section": "Section {section}",
  "map.list.count": "({available} of {total} available)",
  "map.basket.title": "Your seats",
  "map.basket.empty": "Choose up to {max} seats on the map or in the list.",
  "map.basket.item": "{place} · {grade} · {price}",
  "map.basket.release": "Release",
  "map.basket.releaseSeat": "Release {place}",
  "map.basket.total": ({ count, price }) => `${plural(count, "seat", "seats")} · ${price}`,
  "map.basket.bar": ({ count, price }) => `${plural(count, "seat", "seats")} · ${price} · Next`,
  "map.basket.heldFor": "Held for",
  "map.basket.continue": "Continue to payment",
  "map.basket.showSeats": "Your seats",
  "map.basket.hideSeats": "Hide",
  "map.best.title": "Find best seats",
  "map.best.count": ({ count }) => plural(count, "seat", "seats"),
  "map.best.countLabel": "Number of seats",
  "map.best.gradeLabel": "Grade",
  "map.best.anyGrade": "Any grade",
  "map.best.find": "Find",
  "map.best.held": ({ count, places }) => `${plural(count, "seat", "seats")} held for you: ${places}`,
  "map.watch.notify": "Notify me",
  "map.watch.on": "watched",
  "map.watch.already": "You'll be told when it is free.",
  "map.watch.started": "We'll tell you when {place} is free.",
  "map.watch.limit": "You can watch at most {limit} seats of a show.",
  "map.watch.summary": ({ count }) => `Watching ${plural(count, "seat", "seats")}`,
  "map.watch.stopAll": "Stop all",
  "map.signInToHold": "Log in or sign up to hold seats.",
  "map.say.held": "{place} is held for you for {minutes} minutes.",
  "map.say.released": "{place} released.",
  "map.say.nowAvailable": "{place} is now available.",
  "map.say.nowTaken": "{place} is now taken.",
  "map.say.taken": ({ count }) => `${plural(count, "seat", "seats")} taken`,
  "map.say.freed": ({ count }) => `${plural(count, "seat", "seats")} freed`,
  "map.say.summary": "{changes}. {available} available now.",
  "map.error.notAvailable": "{place} is not available. Please choose another seat.",
  "map.error.justTaken": "Sorry — {place} was just taken by someone else. Please choose another seat.",
  "map.error.holdLimit": "You can hold at most {max} seats for one show.",
  "map.error.notEnough": "Fewer than {count} seats are left. Try fewer seats or another grade.",
  "map.error.saleNotOpen": "The sale opens at {opens}: you can hold seats from then.",
  "map.error.notAdmitted": "Seats of this show are sold through a waiting room: you can hold them when it is your turn.",
  "map.error.toQueue": "Go to the waiting room",
  "map.error.expired": "Your hold on {place} expired. Choose it again if it is still free.",
  "map.error.lost": "{place} is no longer held for you.",
  "map.error.generic": "That did not work; please try again.",
  "map.error.reconnecting": "Reconnecting to the seat map; try again in a moment.",
  "map.error.dropped": "The connection dropped; try again in a moment.",
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
