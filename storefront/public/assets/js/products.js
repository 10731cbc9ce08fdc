// A product as the lists and its page show it: price (the regular one struck through while
// a promotion runs), availability, the add-to-cart button.
import { addToCart } from "./basket.js";
import { h, fill } from "./dom.js";
import { money, t } from "./i18n.js";

export function priceOf(product) {
  const regular = product.regular_price;
  const promoted = regular && regular.amount > product.price.amount;
  return h(
    "p",
    { class: "price" },
    promoted
      ? [
          h("span", { class: "visually-hidden" }, t("price.now"), " "),
          h("strong", { class: "promo" }, money(product.price)),
          " ",
          h("span", { class: "visually-hidden" }, t("price.was"), " "),
          h("del", {}, money(regular)),
        ]
      : h("strong", {}, money(product.price)),
  );
}

export function stockOf(product) {
  return h(
    "p",
    { class: product.in_stock ? "stock" : "stock out" },
    t(product.in_stock ? "stock.in" : "stock.out"),
  );
}

/** The add-to-cart button; ``quantity()`` says how many; ``status`` announces the result. */
export function addButton(product, status, quantity = () => 1) {
  const button = h(
    "button",
    {
      type: "button",
      class: "add",
      disabled: !product.in_stock,
      "aria-describedby": status.id,
      onclick: async () => {
        button.disabled = true;
        try {
          const cart = await addToCart(product.id, quantity());
          if (cart) fill(status, t("cart.added", { name: product.name }));
        } catch (error) {
          fill(status, t(error.status === 404 ? "error.not_found" : "cart.add_failed"));
        } finally {
          button.disabled = !product.in_stock;
        }
      },
    },
    t("cart.add"),
  );
  return button;
}

export function productCard(product, status) {
  return h(
    "li",
    { class: "card" },
    h("h3", {}, h("a", { href: `/products/${product.id}` }, product.name)),
    priceOf(product),
    stockOf(product),
    addButton(product, status),
  );
}
