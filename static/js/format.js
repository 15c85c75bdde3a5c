// How money, dates and times read on the pages, in the page's language (i18n.js).
import { locale, t } from "./i18n.js";

const number = new Intl.NumberFormat(locale);

/** 120000 → "120,000원" ("120,000 won" in English; also how screen readers hear it). */
export const won = (amount) => t("common.won", { amount: number.format(amount) });

/** 1841 → "1,841" */
export const count = (n) => number.format(n);

let zone = "Asia/Seoul";
export function setTimeZone(name) { zone = name; }

const formatters = new Map();
function formatter(options) {
  const key = JSON.stringify(options) + zone;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat(locale, { hourCycle: "h23", ...options, timeZone: zone }));
  }
  return formatters.get(key);
}

/** "2026년 12월 24일 (목) 19:30" ("Thu 24 Dec 2026, 19:30") in the venue's time zone. */
export const dateTime = (iso) => formatter({ weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

/** "2026년 12월 24일" ("24 Dec 2026") for a date ("2026-12-24"). */
export const day = (isoDate) => new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric",
  timeZone: "UTC" }).format(new Date(`${isoDate}T00:00:00Z`));

export const time = (iso) => formatter({ hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

/** ms since the epoch → "19:58:07", a clock's face in the venue's time zone. */
export const clockTime = (ms) => formatter({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
  .format(new Date(ms));

/** 272 → "4:32"; 4000 → "1:06:40" */
export function minutesSeconds(totalSeconds) {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const two = (n) => String(n).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/** A wait in words: 40 → "1분 이내", 150 → "약 3분", 5400 → "약 1시간 30분" (English: "about 3 minutes"). */
export function waitInWords(seconds) {
  if (seconds < 60) return t("common.wait.underMinute");
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("common.wait.minutes", { minutes });
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? t("common.wait.hoursMinutes", { hours, minutes: rest }) : t("common.wait.hours", { hours });
}

/** The wall time "2026-12-24T19:30" in `zoneName`, as RFC 3339 with that zone's offset then. */
export function zonedToIso(local, zoneName = zone) {
  const asUtc = new Date(`${local}:00Z`);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zoneName, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(asUtc).map((p) => [p.type, p.value]));
  const seen = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  const offsetMinutes = Math.round((seen - asUtc.getTime()) / 60000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${local}:00${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}
