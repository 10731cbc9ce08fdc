// Signing in happens on the account pages (/account/signin?next=...): they hand the browser
// the API's refresh cookie (HttpOnly, Path=/api/customers). Here we only exchange it for a
// short-lived access token (POST /api/customers/token/refresh), kept in this tab's
// sessionStorage until it expires. A refresh token is good once: tabs take turns (Web Locks).
import { store } from "./dom.js";
import { lang } from "./i18n.js";

const TOKEN = "shop.token";
const SIGNED_OUT = "shop.signedOut"; // spares anonymous visitors a refresh call per page

function cached() {
  try {
    const saved = JSON.parse(store.get("sessionStorage", TOKEN) || "null");
    if (saved && saved.expires > Date.now() + 30_000) return saved.token;
  } catch {
    /* a damaged entry is no token */
  }
  return null;
}

async function refresh() {
  const again = cached(); // another tab or call may have refreshed while we waited
  if (again) return again;
  if (store.get("localStorage", SIGNED_OUT) === "1") return null;
  const response = await fetch("/api/customers/token/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) {
    store.set("localStorage", SIGNED_OUT, "1");
    return null;
  }
  const body = await response.json();
  const expires = Date.now() + body.expires_in * 1000;
  store.set("sessionStorage", TOKEN, JSON.stringify({ token: body.access_token, expires }));
  store.set("localStorage", SIGNED_OUT, null);
  return body.access_token;
}

/** The access token, or null when the visitor is not signed in. */
export async function accessToken() {
  const token = cached();
  if (token) return token;
  if (store.get("localStorage", SIGNED_OUT) === "1") return null;
  if (navigator.locks) return navigator.locks.request("shop.token", refresh);
  return refresh();
}

export function forgetToken() {
  store.set("sessionStorage", TOKEN, null);
}

/** Where a link to the account pages goes, coming back to ``back`` on this site. */
export function accountLink(path, back = location.pathname + location.search) {
  const query = new URLSearchParams({ next: back, lang: lang() });
  return `${path}?${query}`;
}

/** Called when the visitor follows a sign-in or sign-up link: look for a session again. */
export function expectSignIn() {
  store.set("localStorage", SIGNED_OUT, null);
}

/** Sign out: the API session and the account pages' session of this browser end. */
export async function signOut() {
  const token = cached();
  await fetch("/api/customers/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  forgetToken();
  store.set("localStorage", SIGNED_OUT, "1");
}
