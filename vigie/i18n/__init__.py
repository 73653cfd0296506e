"""French and English: message catalogues, the language of the moment, and the pages' text.

Two gettext domains, both kept as Babel .po catalogues under vigie/i18n/locale/<lang>/LC_MESSAGES/:
- ``vigie``: the Python side (API errors, e-mails, webhooks, reports, the CLI) and the HTML pages'
  text, which the server translates as it serves a page (vigie.i18n.pages);
- ``vigie-js``: the scripts' text (``t("...")`` calls), written out as one JSON catalogue per
  language in vigie/web/static/i18n/<lang>.json, which the scripts read.

The source language is English: a msgid is the English text itself, so a missing translation
shows English, never a key. ``python -m vigie.i18n.catalogues`` extracts every message with
Babel's extractors (Python, JavaScript and ours for HTML, see babel.cfg) and updates the
catalogues; tests/core/test_catalogues.py fails while any message lacks its French.

The language of a request or a command is a context variable (``use_language``); the site file's
``language`` is the default, and each user may switch (a cookie, ``?lang=``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from pathlib import Path

LANGUAGES = ("fr", "en")
SOURCE_LANGUAGE = "en"  # msgids are English
DEFAULT_LANGUAGE = "fr"  # Vigie is built for French cities; a site file may say `language: en`
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "vigie"
JS_DOMAIN = "vigie-js"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("vigie_language", default=DEFAULT_LANGUAGE)


def known_language(code: str | None) -> str | None:
    """'fr', 'fr-FR', 'FR_fr' -> 'fr'; anything else -> None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else None


def current_language() -> str:
    return _language.get()


def set_default_language(code: str) -> None:
    """The process's language (a CLI run reads the site file's): later contexts start from it."""
    _language.set(known_language(code) or DEFAULT_LANGUAGE)


@contextlib.contextmanager
def use_language(code: str | None) -> Iterator[str]:
    """Within the block, messages are in `code` (unknown codes keep the current language)."""
    lang = known_language(code) or current_language()
    token = _language.set(lang)
    try:
        yield lang
    finally:
        _language.reset(token)


@functools.cache
def catalogue(lang: str, domain: str = DOMAIN) -> dict[str, str]:
    """msgid -> translation for one language and domain; fuzzy and empty entries are left out."""
    from babel.messages.pofile import read_po  # Babel is only needed once a message is translated

    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def gettext(message: str, lang: str | None = None, /, **params: object) -> str:
    """The translation of an English message in `lang` (default: the current language).

    Named placeholders ``{name}`` are filled after translation, so a translator may move them.
    """
    lang = known_language(lang) or current_language()
    text = message if lang == SOURCE_LANGUAGE else catalogue(lang).get(message, message)
    return text.format(**params) if params else text


_ = gettext


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined (a table, a constant); translate it when shown."""
    return message
