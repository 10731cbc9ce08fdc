// The customer's orders, newest first.
import { api } from "./api.js";
import { accessToken } from "./auth.js";
import { h, fill } from "./dom.js";
import { money, t, when } from "./i18n.js";
import { pageTitle, start } from "./layout.js";
import { statusText } from "./order_status.js";
import { signInLinks } from "./session.js";

start(async (main) => {
  pageTitle(t("orders.title"));
  if (!(await accessToken())) {
    fill(main, h("h1", {}, t("orders.title")), h("p", {}, t("order.signin_first"), " ", signInLinks("/orders")));
    return;
  }
  const page = await api("/api/orders?limit=50", { auth: true });
  const rows = page.items.map((o) =>
    h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `/orders/${o.id}` }, o.order_ref)),
      h("td", {}, when(o.created_at)),
      h("td", {}, statusText(o.status)),
      h("td", {}, money(o.total))));
  fill(
    main,
    h("h1", {}, t("orders.title")),
    rows.length
      ? h("table", { class: "lines" },
          h("thead", {}, h("tr", {}, ["orders.ref", "order.placed_at", "order.status", "cart.total"].map((k) => h("th", { scope: "col" }, t(k))))),
          h("tbody", {}, rows))
      : h("p", {}, t("orders.none"), " ", h("a", { href: "/" }, t("cart.to_catalog"))),
  );
});
