// The header's part that depends on being signed in.
import { accessToken, accountLink, expectSignIn, signOut } from "./auth.js";
import { h } from "./dom.js";
import { lang, t } from "./i18n.js";

export async function signedInLinks(current) {
  if (await accessToken()) {
    const out = h(
      "button",
      {
        type: "button", class: "link",
        onclick: async () => {
          await signOut();
          location.assign("/");
        },
      },
      t("nav.signout"),
    );
    return [
      h("li", {}, h("a", { href: "/orders", "aria-current": current("/orders") }, t("nav.orders"))),
      h("li", {}, h("a", { href: `/account/profile?lang=${lang()}` }, t("nav.account"))),
      h("li", {}, out),
    ];
  }
  return [
    h("li", {}, h("a", { href: accountLink("/account/signin"), "data-signin": "" }, t("nav.signin"))),
    h("li", {}, h("a", { href: accountLink("/account/signup"), "data-signin": "" }, t("nav.signup"))),
  ];
}

/** A click on a sign-in or sign-up link anywhere: look for a session when back. */
export function accessLinkClick(event) {
  if (event.target instanceof Element && event.target.closest("[data-signin]")) expectSignIn();
}

/** A sign-in and a sign-up link that come back to ``back``. */
export function signInLinks(back) {
  return [
    h("a", { href: accountLink("/account/signin", back), "data-signin": "" }, t("nav.signin")),
    " ",
    t("or"),
    " ",
    h("a", { href: accountLink("/account/signup", back), "data-signin": "" }, t("nav.signup")),
  ];
}
