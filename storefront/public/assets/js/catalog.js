// The catalog: categories (a flat list or a tree, whichever the API gives), search (q),
// the products page by page (next_cursor).
import { api } from "./api.js";
import { h, fill } from "./dom.js";
import { catalogLang, nameOf, t } from "./i18n.js";
import { pageTitle, start } from "./layout.js";
import { productCard } from "./products.js";

const PAGE = 24;

/** Categories as a tree: ``children`` when the API nests them, else by a parent field. */
export function categoryTree(items) {
  if (items.some((c) => Array.isArray(c.children))) return items;
  const parentOf = (c) => c.parent ?? c.parent_slug ?? c.parent_id ?? null;
  const byKey = new Map();
  for (const c of items) {
    const node = { ...c, children: [] };
    byKey.set(c.slug, node);
    if (c.id !== undefined) byKey.set(c.id, node);
  }
  const roots = [];
  for (const c of items) {
    const node = byKey.get(c.slug);
    const parent = parentOf(c) === null ? null : byKey.get(parentOf(c));
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

function findCategory(tree, slug) {
  for (const c of tree) {
    if (c.slug === slug) return c;
    const below = findCategory(c.children || [], slug);
    if (below) return below;
  }
  return null;
}

function categoryList(tree, chosen) {
  return h(
    "ul",
    {},
    tree.map((c) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `/?category=${encodeURIComponent(c.slug)}`, "aria-current": c.slug === chosen ? "page" : null },
          nameOf(c),
          typeof c.products === "number" ? h("span", { class: "muted" }, ` (${c.products})`) : null,
        ),
        c.children && c.children.length ? categoryList(c.children, chosen) : null,
      ),
    ),
  );
}

start(async (main) => {
  const params = new URLSearchParams(location.search);
  const q = (params.get("q") || "").trim().slice(0, 100);
  const category = params.get("category") || "";
  const categories = await api(`/api/catalog/categories?lang=${catalogLang()}`).catch(() => ({ items: [] }));
  const tree = categoryTree(categories.items || []);
  const chosen = category ? findCategory(tree, category) : null;
  const heading = q ? t("search.results", { q }) : chosen ? nameOf(chosen) : t("catalog.title");
  pageTitle(heading);

  const status = h("p", { id: "cart-status", class: "status", role: "status" });
  const list = h("ul", { class: "products" });
  const more = h("button", { type: "button", class: "more", hidden: true }, t("catalog.more"));
  const aside = h(
    "nav",
    { class: "categories", "aria-label": t("catalog.categories") },
    h("h2", {}, t("catalog.categories")),
    h("ul", {}, h("li", {}, h("a", { href: "/", "aria-current": !category && !q ? "page" : null }, t("catalog.all")))),
    categoryList(tree, category),
  );
  const results = h("section", { class: "results", "aria-labelledby": "results-title" },
    h("h1", { id: "results-title" }, heading), status, list, more);
  fill(main, h("div", { class: "catalog" }, aside, results));

  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams({ limit: String(PAGE), lang: catalogLang() });
    if (q) query.set("q", q);
    if (category) query.set("category", category);
    if (cursor) query.set("cursor", cursor);
    const page = await api(`/api/catalog/products?${query}`);
    for (const product of page.items) list.append(productCard(product, status));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) fill(status, t(q ? "search.nothing" : "catalog.empty"));
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    await load().finally(() => (more.disabled = false));
  });
  await load();
});
