"""Extract every message with Babel and bring the catalogues up to date.

    python -m vigie.i18n.catalogues           # update the .po files and the scripts' JSON catalogues
    python -m vigie.i18n.catalogues --check   # exit 1, naming them, while any message lacks a translation
                                              # or a script catalogue (static/i18n/<lang>.json) is stale

Messages come from the code by tooling, never by hand (babel.cfg and babel-js.cfg at the repo root
say which files and which extraction method): Python ``_()`` / ``gettext()`` / ``N_()`` calls, the
pages' text (vigie.i18n.pages.extract_html) and the scripts' ``t()`` calls. A message no longer in
the code is dropped from the catalogues; a new one is added with an empty translation, for a
translator to fill (the French is written as a French city's staff would read it, not word for word).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from vigie.i18n import DOMAIN, JS_DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
STATIC_I18N = ROOT / "vigie" / "web" / "static" / "i18n"
MAPPINGS = {DOMAIN: ROOT / "babel.cfg", JS_DOMAIN: ROOT / "babel-js.cfg"}
KEYWORDS = {DOMAIN: {"_": None, "gettext": None, "N_": None}, JS_DOMAIN: {"t": None}}


def extract(domain: str) -> Catalog:
    """Every message of one domain, as Babel finds it in the code."""
    with MAPPINGS[domain].open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    template = Catalog(project="Vigie", domain=domain)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS[domain],
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def updated(lang: str, domain: str, template: Catalog) -> Catalog:
    """The language's catalogue with the template's messages: kept translations, new ones empty."""
    path = po_path(lang, domain)
    if path.exists():
        with path.open("rb") as f:
            cat = read_po(f, locale=lang, domain=domain)
    else:
        cat = Catalog(locale=lang, domain=domain, project="Vigie")
    cat.update(template, no_fuzzy_matching=True)
    cat.obsolete.clear()  # messages gone from the code go from the catalogue
    if lang == SOURCE_LANGUAGE:  # English: the message is its own translation
        for m in cat:
            if m.id and not m.string:
                m.string = m.id
    return cat


def missing(cat: Catalog) -> list[str]:
    return [m.id for m in cat if m.id and (not m.string or m.fuzzy)]


def write(cat: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, cat, width=100, omit_header=False, sort_output=False, include_previous=False)


def js_catalogue(cat: Catalog) -> dict[str, str]:
    return {m.id: m.string for m in cat if m.id and m.string and not m.fuzzy}


def js_text(cat: Catalog) -> str:
    """The scripts' JSON catalogue of one language, as written to vigie/web/static/i18n/<lang>.json."""
    return json.dumps(js_catalogue(cat), ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def figures() -> list[dict]:
    """Per domain and language: messages, translated ones, and the share (docs/I18N.md's table)."""
    rows = []
    for domain in (DOMAIN, JS_DOMAIN):
        template = extract(domain)
        for lang in LANGUAGES:
            cat = updated(lang, domain, template)
            done = len(template) - len(missing(cat))
            rows.append({"domain": domain, "lang": lang, "messages": len(template), "translated": done})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if a message lacks a translation")
    args = parser.parse_args(argv)
    problems = 0
    for domain in (DOMAIN, JS_DOMAIN):
        template = extract(domain)
        for lang in LANGUAGES:
            cat = updated(lang, domain, template)
            lacking = missing(cat)
            if lacking:
                problems += len(lacking)
                print(f"{lang}/{domain}: {len(lacking)} message(s) without a translation:", file=sys.stderr)
                for msg in lacking[:50]:
                    print(f"  {msg!r}", file=sys.stderr)
            if not args.check:
                write(cat, po_path(lang, domain))
                if domain == JS_DOMAIN:
                    out = STATIC_I18N / f"{lang}.json"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(js_text(cat))
            elif domain == JS_DOMAIN:
                out = STATIC_I18N / f"{lang}.json"
                if not out.exists() or out.read_text("utf-8") != js_text(cat):
                    problems += 1
                    print(f"{out.relative_to(ROOT)} is stale: run python -m vigie.i18n.catalogues", file=sys.stderr)
            print(f"{lang}/{domain}: {len(template)} messages, {len(template) - len(lacking)} translated")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
