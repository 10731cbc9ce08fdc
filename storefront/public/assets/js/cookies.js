// The page a visitor lands on when the browser keeps no cookies (policy 5.5).
import { h, fill } from "./dom.js";
import { t } from "./i18n.js";
import { pageTitle, start } from "./layout.js";

start(async (main) => {
  pageTitle(t("cookies.title"));
  fill(
    main,
    h("h1", {}, t("cookies.title")),
    h("p", {}, t("cookies.why")),
    h("p", {}, t("cookies.what")),
    h("h2", {}, t("cookies.how_title")),
    h("p", {}, t("cookies.how")),
    h("p", { role: "status" }, t(navigator.cookieEnabled ? "cookies.on_now" : "cookies.off_now")),
    h("p", {}, h("a", { href: "/" }, t("cart.to_catalog")), " · ", h("a", { href: `/account/policy` }, t("footer.policy"))),
  );
});
