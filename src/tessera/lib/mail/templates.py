"""Mail (and SMS text) rendering from Jinja2 templates, per locale with a fallback.

A template `name` in locale `L` is three files under `<root>/<L>/`: `<name>.subject.txt`,
`<name>.txt` (plain text) and, optionally, `<name>.html`. HTML is autoescaped; text is not.
Unknown locales fall back to the base language (`zh-TW` → `zh-CN` is not guessed) and then to
the default locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None
    locale: str


class TemplateRenderer:
    def __init__(self, root: Path, *, default_locale: str = "en") -> None:
        self.root = root
        self.default_locale = default_locale
        self.locales = sorted(path.name for path in root.iterdir() if path.is_dir())
        self.env = Environment(
            loader=FileSystemLoader(str(root)),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            # A missing variable is a bug to see in tests, not an empty hole in a mail.
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )

    def resolve_locale(self, locale: str | None) -> str:
        if locale:
            if locale in self.locales:
                return locale
            language = locale.split("-", 1)[0].lower()
            for candidate in self.locales:
                if candidate.split("-", 1)[0].lower() == language:
                    return candidate
        return self.default_locale

    def has(self, name: str, locale: str, suffix: str) -> bool:
        return (self.root / locale / f"{name}.{suffix}").is_file()

    def render_text(self, name: str, suffix: str, locale: str, context: dict[str, Any]) -> str:
        return self.env.get_template(f"{locale}/{name}.{suffix}").render(**context).strip()

    def render_mail(
        self, name: str, *, locale: str | None, context: dict[str, Any]
    ) -> RenderedMail:
        chosen = self.resolve_locale(locale)
        if not self.has(name, chosen, "subject.txt"):
            chosen = self.default_locale
        subject = " ".join(self.render_text(name, "subject.txt", chosen, context).split())
        text = self.render_text(name, "txt", chosen, context) + "\n"
        html: str | None
        try:
            html = self.env.get_template(f"{chosen}/{name}.html").render(**context)
        except TemplateNotFound:
            html = None
        return RenderedMail(subject=subject, text=text, html=html, locale=chosen)
