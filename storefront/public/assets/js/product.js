// One product: /products/{id}.
import { api } from "./api.js";
import { UUID_RE, h, fill } from "./dom.js";
import { catalogLang, t } from "./i18n.js";
import { pageTitle, start } from "./layout.js";
import { addButton, priceOf, stockOf } from "./products.js";

start(async (main) => {
  const id = location.pathname.split("/").pop();
  if (!UUID_RE.test(id)) throw Object.assign(new Error("no such product"), { status: 404 });
  const product = await api(`/api/catalog/products/${id}?lang=${catalogLang()}`);
  pageTitle(product.name);
  const status = h("p", { id: "cart-status", class: "status", role: "status" });
  const max = Math.max(1, Math.min(99, product.available ?? 99));
  const quantity = h("input", { id: "quantity", name: "quantity", type: "number", min: 1, max, value: 1, inputmode: "numeric" });
  const units = () => Math.max(1, Math.min(max, Number.parseInt(quantity.value, 10) || 1));
  fill(
    main,
    h("p", { class: "crumbs" }, h("a", { href: `/?category=${encodeURIComponent(product.category || "")}` }, t("product.back"))),
    h(
      "article",
      { class: "product" },
      h("h1", {}, product.name),
      h("p", { class: "muted" }, t("product.sku", { sku: product.sku })),
      product.description ? h("p", { class: "description" }, product.description) : null,
      priceOf(product),
      stockOf(product),
      h("p", { class: "buy" }, h("label", { for: "quantity" }, t("product.quantity")), " ", quantity, " ", addButton(product, status, units)),
      status,
      h("p", {}, h("a", { href: "/cart" }, t("cart.go"))),
    ),
  );
});
