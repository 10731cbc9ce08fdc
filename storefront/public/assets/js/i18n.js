// The texts live in /assets/i18n/<lang>.json; this picks the language and formats.
import { store } from "./dom.js";

export const LANGS = { ru: "Русский", kk: "Қазақша", en: "English" };
// A browser without Kazakh formats (some Chromium builds) writes money and dates as ru-KZ.
const LOCALES = { ru: ["ru-KZ", "ru"], kk: ["kk-KZ", "ru-KZ"], en: ["en-GB", "en"] };
const KEY = "shop.lang";
let texts = {};
let current = "ru";

/** The visitor's choice, else the first of the browser's languages we have, else ru. */
export function chooseLang() {
  const saved = store.get("localStorage", KEY);
  if (saved in LANGS) return saved;
  for (const tag of navigator.languages || []) {
    const code = tag.slice(0, 2).toLowerCase();
    if (code in LANGS) return code;
  }
  return "ru";
}

export async function loadTexts() {
  current = chooseLang();
  const response = await fetch(`/assets/i18n/${current}.json`);
  texts = await response.json();
  document.documentElement.lang = current;
}

export function lang() {
  return current;
}

/** The catalogue's language for ?lang= (it has ru and kk texts; English pages show ru). */
export function catalogLang() {
  return current === "kk" ? "kk" : "ru";
}

export function setLang(code) {
  store.set("localStorage", KEY, code);
  location.reload();
}

/** The text of ``key`` with {name} placeholders filled; the key itself when missing. */
export function t(key, values = {}) {
  let text = texts[key] ?? key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** t() for a key that may be unknown (a status or cause the API added): its own words then. */
export function tOr(key, fallback) {
  return key in texts ? texts[key] : fallback;
}

/** A name in the visitor's language when the API gives one (names: {kk: ...}), else its own. */
export function nameOf(item) {
  return (item.names && item.names[current]) || item.name;
}

export function translatePage(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
}

/** Money of the API ({amount: tiyn, currency}) as the visitor's language writes it. */
export function money(value) {
  if (!value || typeof value.amount !== "number") return "";
  const whole = value.amount % 100 === 0;
  // Kazakh writes sums as Russian does (2 650 ₸); some Chromium builds lack kk number data
  // and would write "₸ 2,650".
  const locales = current === "kk" ? ["ru-KZ", "ru"] : LOCALES[current];
  return new Intl.NumberFormat(locales, {
    style: "currency",
    currency: value.currency || "KZT",
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: whole ? 0 : 2,
    maximumFractionDigits: 2,
  }).format(value.amount / 100);
}

export function when(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(LOCALES[current], {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "Asia/Almaty",
  }).format(new Date(iso));
}
