// The pages' words: one catalogue per language (i18n/ko.js, i18n/en.js), Korean first.
// `t("map.title")` is the text of a key in the page's language; `{name}` placeholders are filled from
// `params`, and an entry may be a function of them (English plurals). A key missing from a catalogue
// falls back to Korean, then to the key itself, so a gap shows up plainly instead of as an error.
import en from "./i18n/en.js";
import ko from "./i18n/ko.js";
import { session } from "./session.js";

/** Each language in its own words, in the order the switch offers them. */
export const LANGUAGES = { ko: "한국어", en: "English" };
const CATALOGUES = { ko, en };
const STORAGE_KEY = "ticketblue.lang";

/** The page's language: `?lang=` (a shared link), else the saved choice, else Korean. */
export const language = chosenLanguage();

/** The BCP 47 locale that dates and numbers are written in. */
export const locale = language === "ko" ? "ko-KR" : "en-GB";

export function t(key, params = {}) {
  return textIn(language, key, params);
}

/** `t` in another of the languages: what is said to someone in their own, whatever the page's is. */
export function textIn(lang, key, params = {}) {
  const entry = (CATALOGUES[lang] ?? ko)[key] ?? ko[key];
  if (entry === undefined) return key;
  if (typeof entry === "function") return entry(params);
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether `code` is one of the pages' languages. */
export function isLanguage(code) {
  return code in CATALOGUES;
}

/** Save `next` and show the page again in it (every view renders its words once). Signed in, the
 * server is told too: its mail and notifications follow the switch. */
export function setLanguage(next) {
  if (!isLanguage(next) || next === language) return;
  localStorage.setItem(STORAGE_KEY, next);
  if (session.signedIn) tellServer(next);
  const url = new URL(location.href);
  url.searchParams.delete("lang");
  location.replace(url);
}

/** Fill the static markup's words: `data-i18n` (text), `data-i18n-label` (aria-label),
 * `data-i18n-placeholder`, and the document's own language and title. */
export function translatePage(root = document) {
  document.documentElement.lang = language;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** The header's switch: a button naming the other language in its own words, which switches to it. */
export function showLanguageSwitch(button) {
  if (!button) return;
  const other = Object.keys(LANGUAGES).find((code) => code !== language);
  button.textContent = LANGUAGES[other];
  button.lang = other;
  button.setAttribute("aria-label", t("shell.switchLanguage", { name: LANGUAGES[other] }));
  button.addEventListener("click", () => setLanguage(other));
}

/** Fire and forget: `keepalive` lets the request outlive the reload that follows at once, and a
 * failure (offline, an ended session) leaves the switch working; the next switch tells it again. */
function tellServer(next) {
  fetch("/api/users/me", {
    method: "PATCH", keepalive: true, body: JSON.stringify({ language: next }),
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${session.token}` },
  }).catch(() => {});
}

function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (isLanguage(asked)) {
    localStorage.setItem(STORAGE_KEY, asked);
    return asked;
  }
  const saved = localStorage.getItem(STORAGE_KEY);
  return isLanguage(saved) ? saved : "ko";
}
