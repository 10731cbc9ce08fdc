// One order: /orders/{id} (and /account/orders/{id}, where the bank sends a payer back):
// its status, lines, payment and history, refreshed until it is final.
import { api } from "./api.js";
import { accessToken } from "./auth.js";
import { CANCELLABLE, FINAL_STATUSES } from "./config.js";
import { UUID_RE, h, fill } from "./dom.js";
import { money, t, tOr, when } from "./i18n.js";
import { pageTitle, start } from "./layout.js";
import { signInLinks } from "./session.js";

import { statusText } from "./order_status.js";

function details(order, redraw) {
  const payment = order.payment || {};
  const actions = [];
  if (order.payment_url) actions.push(h("a", { class: "button", href: order.payment_url }, t("order.pay")));
  if (CANCELLABLE.includes(order.status)) {
    actions.push(
      h("button", {
        type: "button", class: "secondary",
        onclick: async (event) => {
          event.target.disabled = true;
          await api(`/api/orders/${order.id}/cancel`, { method: "POST", auth: true }).catch(() => null);
          await redraw();
        },
      }, t("order.cancel")),
    );
  }
  return [
    h("p", { class: "state" }, t("order.status"), " ", h("strong", { id: "order-status", "data-status": order.status }, statusText(order.status))),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, t("order.placed_at")), h("dd", {}, when(order.created_at)),
      h("dt", {}, t("order.payment")), h("dd", {}, tOr(`payment.${payment.method}`, payment.method || ""),
        payment.status ? ` — ${tOr(`payment_status.${payment.status}`, payment.status)}` : ""),
      h("dt", {}, t("checkout.courier")), h("dd", {}, tOr(`courier.${(order.delivery || {}).courier}`, (order.delivery || {}).courier || "")),
    ),
    actions.length ? h("p", { class: "actions" }, actions) : null,
    h("h2", {}, t("order.items")),
    h("ul", { class: "items" }, (order.items || []).map((item) =>
      h("li", {}, `${item.name} × ${item.quantity}`, " — ", money(item.line_total || item.total || item.unit_price)))),
    h("p", { class: "total" }, t("cart.total"), " ", h("strong", {}, money(order.total))),
    h("h2", {}, t("order.history")),
    h("ol", { class: "history" }, (order.history || []).map((step) =>
      h("li", {}, h("strong", {}, statusText(step.status)), " — ", h("time", { datetime: step.at }, when(step.at)),
        step.cause ? h("span", { class: "muted" }, ` (${tOr(`cause.${step.cause}`, step.cause)})`) : null))),
  ];
}

start(async (main) => {
  const id = location.pathname.split("/").pop();
  pageTitle(t("order.title_plain"));
  if (!UUID_RE.test(id)) throw Object.assign(new Error("no such order"), { status: 404 });
  if (!(await accessToken())) {
    fill(main, h("h1", {}, t("order.title_plain")), h("p", {}, t("order.signin_first"), " ", signInLinks(`/orders/${id}`)));
    return;
  }
  const live = h("div", { "aria-live": "polite" });
  const heading = h("h1", {}, t("order.title_plain"));
  fill(main, heading, live, h("p", {}, h("a", { href: "/orders" }, t("orders.all"))));
  const redraw = async () => {
    const order = await api(`/api/orders/${id}`, { auth: true });
    fill(heading, t("order.title", { ref: order.order_ref }));
    pageTitle(t("order.title", { ref: order.order_ref }));
    fill(live, ...details(order, redraw));
    return order;
  };
  let order = await redraw();
  for (let wait = 1000; !FINAL_STATUSES.includes(order.status); wait = Math.min(wait * 1.5, 10_000)) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    order = await redraw();
  }
});
