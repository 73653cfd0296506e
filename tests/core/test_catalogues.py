"""The catalogues are complete: every user-visible message has its French, the scripts' JSON catalogues are
up to date, and no script puts a literal English text on the page without t().

`python -m vigie.i18n.catalogues --check` runs in-process: Babel extracts every message from the code (Python
_() / gettext() / N_(), the pages' text, the scripts' t() calls) and the check fails, naming them, while one lacks
its translation. What extraction cannot see (a literal given to textContent, a placeholder or a title without t())
is caught by the scan below; what a page shows in the end is checked in the browser (tests/web/test_ui.py,
test_every_page_in_french / in_english).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from vigie.i18n import catalogues, gettext, use_language

STATIC = Path(catalogues.ROOT) / "vigie" / "web" / "static"


def test_every_message_has_its_french_and_the_script_catalogues_are_current(capsys):
    status = catalogues.main(["--check"])
    out = capsys.readouterr()
    assert status == 0, f"run `python -m vigie.i18n.catalogues` and translate:\n{out.err}"
    assert "fr/vigie: " in out.out and "fr/vigie-js: " in out.out


def test_the_figures_count_every_message_of_both_domains_and_french_is_complete():
    rows = {(r["domain"], r["lang"]): r for r in catalogues.figures()}
    for domain in ("vigie", "vigie-js"):
        fr = rows[domain, "fr"]
        assert fr["messages"] > 300  # pages + server messages; scripts (a drop would mean extraction broke)
        assert fr["translated"] == fr["messages"]


def test_a_message_without_french_is_reported():
    cat = Catalog(locale="fr")
    cat.add("Camera {name} is offline", "")
    cat.add("Search", "Rechercher")
    cat.add("Fuzzy one", "Approximatif", flags=["fuzzy"])
    assert catalogues.missing(cat) == ["Camera {name} is offline", "Fuzzy one"]


def test_server_messages_follow_the_language_of_the_moment():
    with use_language("fr"):
        assert gettext("Log out") == "Se déconnecter"
        assert gettext("Case reference") == "Référence de l'affaire"
        assert gettext("no user named {username}", username="'zoe'") == "aucun utilisateur ne s'appelle 'zoe'"
    with use_language("en"):
        assert gettext("Log out") == "Log out"


def test_french_keeps_every_placeholder_it_uses_from_the_english():
    """A translation may drop or move {name} fields but never invent one (str.format would raise)."""
    import string

    from babel.messages.pofile import read_po

    for domain in ("vigie", "vigie-js"):
        with (catalogues.po_path("fr", domain)).open("rb") as f:
            cat = read_po(f, locale="fr")
        for m in cat:
            if not m.id or not m.string:
                continue
            names = {n for _, n, _, _ in string.Formatter().parse(m.id) if n is not None}
            used = {n for _, n, _, _ in string.Formatter().parse(m.string) if n is not None}
            assert used <= names, (m.id, m.string)


def test_the_french_json_catalogue_is_what_the_scripts_read():
    fr = json.loads((STATIC / "i18n" / "fr.json").read_text("utf-8"))
    assert fr["Searching…"] == "Recherche en cours…"
    assert len(fr) == len(json.loads((STATIC / "i18n" / "en.json").read_text("utf-8")))


# --- scripts: user-visible literals go through t() ------------------------------------------------------------
# A literal with letters given to what the page shows: .textContent / .placeholder / .title / .alt = "…",
# setAttribute("alt"|"title"|"placeholder"|"aria-label", "…"), el(..., {text|placeholder|title|alt|aria-label: "…"}),
# showError("…"), say("…"), secret("…"), new ApiFailure("…").
VISIBLE_LITERAL = re.compile(
    r"""(?:\.(?:textContent|innerText|placeholder|title|alt)\s*\+?=\s*"""
    r"""|setAttribute\("(?:alt|title|placeholder|aria-label)",\s*"""
    r"""|[{,]\s*(?:text|placeholder|title|alt|"aria-label"|label)\s*:\s*"""
    r"""|\b(?:showError|say|secret|ApiFailure)\(\s*)"((?:[^"\\]|\\.)*)\""""
)
# Literals that are not words for a person to read. Each entry: (file, literal, why).
ALLOWED = {
    ("crimemap.js", "UTC", "a time zone's name, the same in every language"),
}


def visible_literals() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(STATIC.glob("*.js")):
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.lstrip().startswith(("//", "/*", "*")):
                continue
            for m in VISIBLE_LITERAL.finditer(line):
                text = m.group(1)
                if re.search(r"[A-Za-z]{2}", text) and (path.name, text) not in ALLOWED:
                    found.append((path.name, lineno, text))
    return found


def test_scripts_put_no_literal_text_on_the_page_without_t():
    assert visible_literals() == []


@pytest.mark.parametrize(
    "line",
    [
        '$("summary").textContent = "Searching…";',
        'el("p", { class: "muted", text: "No tracks." })',
        'img.setAttribute("alt", "the photo");',
        'showError("Choose a photo first.");',
    ],
)
def test_the_scan_catches_a_literal_without_t(line):
    assert VISIBLE_LITERAL.search(line)


def test_the_scan_leaves_t_calls_and_class_names_alone():
    for line in (
        '$("summary").textContent = t("Searching…");',
        'el("span", { class: "line muted", text: fmtTime(x) })',
    ):
        assert not VISIBLE_LITERAL.search(line)
