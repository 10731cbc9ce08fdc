// The cart and the checkout: cash on delivery, or card on the bank's page (payment_url).
import { api } from "./api.js";
import { accessToken } from "./auth.js";
import { readCart, removeFromCart } from "./basket.js";
import { COURIERS, PAYMENT_METHODS } from "./config.js";
import { h, fill, store, uuid } from "./dom.js";
import { money, t } from "./i18n.js";
import { pageTitle, start } from "./layout.js";
import { priceOf } from "./products.js";
import { signInLinks } from "./session.js";

const KEY = "shop.checkoutKey"; // one Idempotency-Key per checkout, kept until it is answered

function lines(cart, status, redraw) {
  return h(
    "table",
    { class: "lines" },
    h("caption", { class: "visually-hidden" }, t("cart.title")),
    h("thead", {}, h("tr", {}, ["cart.product", "cart.quantity", "cart.price", "cart.sum", "cart.actions"].map((k) => h("th", { scope: "col" }, t(k))))),
    h(
      "tbody",
      {},
      cart.items.map((item) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: `/products/${item.product_id}` }, item.name)),
          h("td", { "data-label": t("cart.quantity") }, String(item.quantity)),
          h("td", { "data-label": t("cart.price") }, priceOf(item)),
          h("td", { "data-label": t("cart.sum") }, money(item.line_total)),
          h(
            "td",
            {},
            h(
              "button",
              {
                type: "button", class: "link",
                "aria-label": t("cart.remove_named", { name: item.name }),
                onclick: async () => {
                  await removeFromCart(item.product_id);
                  fill(status, t("cart.removed", { name: item.name }));
                  await redraw();
                },
              },
              t("cart.remove"),
            ),
          ),
        ),
      ),
    ),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, t("cart.total")), h("td", { colspan: 2 }, h("strong", {}, money(cart.total))))),
  );
}

function addressOf(me) {
  const a = (me && me.delivery_address) || null;
  if (!a) return null;
  return [a.city, a.street, a.house, a.apartment ? t("checkout.apartment", { n: a.apartment }) : null].filter(Boolean).join(", ");
}

function radio(name, value, key, checked) {
  const id = `${name}-${value}`;
  return h("p", { class: "choice" }, h("input", { type: "radio", name, id, value, checked, required: true }), " ", h("label", { for: id }, t(key)));
}

function failure(error) {
  const type = (error.problem && error.problem.type) || "";
  if (type.endsWith("/customer-blocked")) return t("checkout.blocked");
  if (error.status === 401) return t("checkout.signin_again");
  if (error.status === 409) return t("checkout.changed");
  if (error.status === 429) return t("checkout.throttled");
  if (error.status === 503) return t("error.unavailable");
  return t("checkout.failed");
}

/** After a card checkout: the bank's page as soon as the order asks for payment. */
async function toBank(orderId, status) {
  fill(status, t("checkout.to_bank"));
  for (let i = 0; i < 60; i += 1) {
    const order = await api(`/api/orders/${orderId}`, { auth: true });
    if (order.payment_url) return location.assign(order.payment_url);
    if (order.status !== "placed") break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  location.assign(`/orders/${orderId}`);
}

async function checkoutForm(status) {
  const me = await api("/api/customers/me", { auth: true }).catch(() => null);
  const where = addressOf(me);
  const courier = h("select", { id: "courier", name: "courier" }, COURIERS.map((c) => h("option", { value: c }, t(`courier.${c}`))));
  const message = h("p", { id: "checkout-status", class: "status", role: "status" });
  const submit = h("button", { type: "submit" }, t("checkout.submit"));
  const form = h(
    "form",
    { class: "checkout", novalidate: true, "aria-labelledby": "checkout-title" },
    h("h2", { id: "checkout-title" }, t("checkout.title")),
    h("p", {}, where ? t("checkout.address", { address: where }) : t("checkout.address_unknown"), " ",
      h("a", { href: "/account/profile/edit" }, t("checkout.address_change"))),
    h("fieldset", {}, h("legend", {}, t("checkout.payment")), PAYMENT_METHODS.map((m, i) => radio("payment", m, `payment.${m}`, i === 0))),
    h("p", {}, h("label", { for: "courier" }, t("checkout.courier")), " ", courier),
    submit,
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const method = form.elements.payment.value;
    const key = store.get("sessionStorage", KEY) || uuid();
    store.set("sessionStorage", KEY, key);
    submit.disabled = true;
    fill(message, t("checkout.sending"));
    try {
      const order = await api("/api/orders/checkout", {
        method: "POST",
        auth: true,
        headers: { "Idempotency-Key": key },
        body: { delivery: { courier: courier.value }, payment: { method } },
      });
      store.set("sessionStorage", KEY, null);
      if (method === "card") await toBank(order.id, message);
      else location.assign(`/orders/${order.id}`);
    } catch (error) {
      if (error.status) store.set("sessionStorage", KEY, null); // answered: a new try is new
      fill(message, failure(error));
      submit.disabled = false;
    }
  });
  return form;
}

start(async (main) => {
  pageTitle(t("cart.title"));
  const status = h("p", { id: "cart-status", class: "status", role: "status" });
  const body = h("div", {});
  fill(main, h("h1", {}, t("cart.title")), status, body);
  const redraw = async () => {
    const cart = await readCart();
    if (!cart.items.length) {
      fill(body, h("p", {}, t("cart.empty"), " ", h("a", { href: "/" }, t("cart.to_catalog"))));
      return;
    }
    const missing = (cart.unavailable || []).length ? h("p", { class: "warning" }, t("cart.unavailable")) : null;
    const signedIn = Boolean(await accessToken());
    fill(
      body,
      lines(cart, status, redraw),
      missing,
      signedIn ? await checkoutForm(status) : h("p", { class: "signin" }, t("checkout.signin_first"), " ", signInLinks("/cart")),
    );
  };
  if (!navigator.cookieEnabled && !(await accessToken())) {
    location.assign("/cookies");
    return;
  }
  await redraw();
});
