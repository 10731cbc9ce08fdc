// What every page has: header (brand, search, sections, sign-in, languages), footer, the
// statistics hit; then the page's own part in <main>.
import { accessLinkClick, signedInLinks } from "./session.js";
import { readCart, unitCount } from "./basket.js";
import { h, fill } from "./dom.js";
import { LANGS, lang, loadTexts, setLang, t, translatePage } from "./i18n.js";
import { sendHit } from "./stats.js";

function searchForm() {
  const query = new URLSearchParams(location.search).get("q") || "";
  return h(
    "form",
    { class: "search", role: "search", action: "/", method: "get" },
    h("label", { for: "q", class: "visually-hidden" }, t("search.label")),
    h("input", {
      id: "q", name: "q", type: "search", value: query, maxlength: 100,
      placeholder: t("search.placeholder"), autocomplete: "off",
    }),
    h("button", { type: "submit" }, t("search.submit")),
  );
}

function languages() {
  return h(
    "nav",
    { class: "langs", "aria-label": t("language") },
    h(
      "ul",
      {},
      Object.entries(LANGS).map(([code, name]) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button", lang: code, class: "link",
              "aria-pressed": code === lang() ? "true" : "false",
              onclick: () => setLang(code),
            },
            name,
          ),
        ),
      ),
    ),
  );
}

function cartLink() {
  const count = h("span", { class: "count", id: "cart-count" }, "");
  document.addEventListener("shop:cart", (event) => showCount(count, event.detail));
  readCart()
    .then((cart) => showCount(count, cart))
    .catch(() => {});
  return h("a", { href: "/cart", id: "cart-link" }, t("nav.cart"), " ", count);
}

function showCount(element, cart) {
  const units = unitCount(cart);
  fill(element, units ? t("cart.count", { n: units }) : "");
}

async function header() {
  const here = location.pathname;
  const current = (path) => (here === path ? "page" : null);
  const links = h(
    "ul",
    {},
    h("li", {}, h("a", { href: "/", "aria-current": current("/") }, t("nav.catalog"))),
    h("li", {}, cartLink()),
    ...(await signedInLinks(current)),
  );
  fill(
    document.getElementById("top"),
    h("a", { class: "brand", href: "/" }, t("shop")),
    searchForm(),
    h("nav", { class: "sections", "aria-label": t("nav.label") }, links),
    languages(),
  );
}

function footer() {
  fill(
    document.getElementById("bottom"),
    h(
      "p",
      {},
      h("a", { href: `/account/policy?lang=${lang()}` }, t("footer.policy")),
      " · ",
      t("footer.stats"),
    ),
    h("p", {}, t("footer.operator")),
  );
}

export function pageTitle(text) {
  document.title = `${text} · ${t("shop")}`;
}

export function problemText(error) {
  if (error && error.status === 503) return t("error.unavailable");
  if (error && error.status === 404) return t("error.not_found");
  return t("error.generic");
}

/** Run a page: ``render(main)`` fills <main>; its failure shows a message, not a blank. */
export async function start(render) {
  await loadTexts();
  translatePage();
  document.addEventListener("click", accessLinkClick);
  sendHit();
  await header();
  footer();
  const main = document.getElementById("main");
  try {
    await render(main);
  } catch (error) {
    fill(main, h("h1", {}, t("error.title")), h("p", { role: "alert" }, problemText(error)));
    pageTitle(t("error.title"));
  }
}
