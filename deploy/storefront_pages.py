"""The storefront's page shells, written from one template: ``python -m deploy.storefront_pages``.

Every page is the same ``<head>``, header, ``<main>`` and footer around its own ES module
(the CSP allows no inline script, so a page cannot pick its module itself). The pages are
checked in under ``storefront/public`` (nginx serves that folder as it is);
``tests/deploy/test_storefront_pages.py`` fails when one differs from what this writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

import jinja2

STOREFRONT: Final = Path(__file__).resolve().parent.parent / "storefront"
# page -> its module under public/assets/js
PAGES: Final = {
    "index": "catalog",
    "product": "product",
    "cart": "cart",
    "order": "order",
    "orders": "orders",
    "cookies": "cookies",
}


def render_pages(storefront: Path = STOREFRONT) -> dict[str, str]:
    """Each page's file name and its text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(storefront / "templates"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("page.html")
    return {f"{page}.html": template.render(module=module) for page, module in PAGES.items()}


def write_pages(storefront: Path = STOREFRONT) -> list[Path]:
    written = []
    for name, text in render_pages(storefront).items():
        path = storefront / "public" / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    for path in write_pages():
        print(path.relative_to(STOREFRONT.parent))


if __name__ == "__main__":
    main()
