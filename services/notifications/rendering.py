"""Jinja2 templates per locale: a subject block and a text body; HTML wraps the text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from services.notifications.domain import Locale, RenderedMail, text_paragraphs

TEMPLATES_DIR = Path(__file__).parent / "templates"


class Renderer:
    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        # HTML templates escape every value; the text ones are plain text by nature.
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, template: str, locale: Locale, context: Mapping[str, object]) -> RenderedMail:
        text_template = self._env.get_template(f"{locale}/{template}.txt")
        subject = " ".join(_render_block(text_template, "subject", context).split())
        text = text_template.render(context).strip() + "\n"
        html = self._env.get_template("layout.html").render(
            locale=locale, subject=subject, paragraphs=text_paragraphs(text)
        )
        return RenderedMail(subject=subject, text=text, html=html)


def _render_block(template: Template, block: str, context: Mapping[str, object]) -> str:
    render = template.blocks[block]
    return "".join(render(template.new_context(dict(context))))
