"""The checked-in storefront pages are what ``python -m deploy.storefront_pages`` writes
from ``storefront/templates/page.html``: a change to the head goes in the template."""

from __future__ import annotations

from deploy.storefront_pages import STOREFRONT, render_pages


def test_the_checked_in_pages_equal_the_build_output() -> None:
    built = render_pages()
    public = STOREFRONT / "public"
    assert sorted(path.name for path in public.glob("*.html")) == sorted(built)
    for name, text in built.items():
        assert (public / name).read_text(encoding="utf-8") == text, (
            f"{name} differs from the template: run python -m deploy.storefront_pages"
        )


def test_each_page_loads_its_own_module_and_nothing_inline() -> None:
    for name, text in render_pages().items():
        assert text.count("<script") == 1 and 'type="module" src="/assets/js/' in text
        module = text.split('src="/assets/js/')[1].split('"')[0]
        assert (STOREFRONT / "public" / "assets" / "js" / module).is_file(), name
