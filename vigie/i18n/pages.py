"""The HTML pages' text, translated as a page is served, and extracted for the catalogues.

The pages under vigie/web/static/pages stay plain HTML in English, readable and testable as they
are. Each text between two tags, and each placeholder, title, aria-label and alt attribute, is one
message of the ``vigie`` catalogue: `translate_page` swaps in its translation (escaped again) and
sets ``<html lang>``; `extract_html` is the Babel extraction method that finds the same messages
(babel.cfg), so what is served and what is extracted cannot drift apart. Text without a letter
(numbers, arrows, a lone dot) is no message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import IO, Any

from vigie.i18n import catalogue, known_language

_TEXT = re.compile(r">([^<>]+)<")
_ATTR = re.compile(r'\b(placeholder|title|aria-label|alt|data-confirm)="([^"]*)"')
_HTML_LANG = re.compile(r'<html lang="[a-z]{2}"')
_SKIPPED_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S)


def message_of(raw: str) -> str | None:
    """The message a raw HTML text stands for: unescaped, blanks collapsed; None without a letter."""
    text = " ".join(html.unescape(raw).split())
    return text if any(ch.isalpha() for ch in text) else None


def _blank_blocks(page: str) -> str:
    """Inline scripts and styles hold no messages: blank them (same length, so offsets stay)."""
    return _SKIPPED_BLOCKS.sub(lambda m: " " * len(m.group(0)), page)


def translate_page(page: str, lang: str, scripts: str = "") -> str:
    """The page in `lang`, with `scripts` (the catalogue's <script> tags) placed before </head>."""
    lang = known_language(lang) or "en"
    messages = catalogue(lang) if lang != "en" else {}

    def text(m: re.Match) -> str:
        raw = m.group(1)
        msg = message_of(raw)
        if msg is None or msg not in messages:
            return m.group(0)
        lead = raw[: len(raw) - len(raw.lstrip())]
        trail = raw[len(raw.rstrip()) :]
        return f">{lead}{html.escape(messages[msg], quote=False)}{trail}<"

    def attr(m: re.Match) -> str:
        msg = message_of(m.group(2))
        if msg is None or msg not in messages:
            return m.group(0)
        return f'{m.group(1)}="{html.escape(messages[msg], quote=True)}"'

    out, last = [], 0
    # translate outside inline <script>/<style> blocks only
    for block in _SKIPPED_BLOCKS.finditer(page):
        out.append(_ATTR.sub(attr, _TEXT.sub(text, page[last : block.start()])))
        out.append(block.group(0))
        last = block.end()
    out.append(_ATTR.sub(attr, _TEXT.sub(text, page[last:])))
    result = _HTML_LANG.sub(f'<html lang="{lang}"', "".join(out), count=1)
    if scripts:
        result = result.replace("</head>", scripts + "</head>", 1)
    return result


def page_messages(page: str) -> Iterator[tuple[int, str]]:
    """(line number, message) for every message of a page, in order."""
    blanked = _blank_blocks(page)
    for pattern, group in ((_TEXT, 1), (_ATTR, 2)):
        for m in pattern.finditer(blanked):
            msg = message_of(m.group(group))
            if msg is not None:
                yield blanked.count("\n", 0, m.start(group)) + 1, msg


def extract_html(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel extraction method for the pages (babel.cfg: ``[vigie.i18n.pages:extract_html: ...]``)."""
    page = fileobj.read().decode("utf-8")
    for lineno, msg in sorted(page_messages(page)):
        yield lineno, None, msg, []
