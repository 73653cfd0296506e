"""The pages' messages: what extraction finds is what serving translates (vigie.i18n.pages)."""

from vigie.i18n import gettext, known_language, use_language
from vigie.i18n.pages import page_messages, translate_page

PAGE = (
    '<!doctype html><html lang="en"><head><title>Vigie - search</title></head><body>\n'
    '<label>Case reference <input placeholder="cam-a, cam-b"></label>\n'
    "<p>Rock &amp; roll</p><span>42</span><script>var x = '<b>not a message</b>';</script></body></html>"
)


def test_extraction_finds_text_and_attributes_but_not_numbers_or_scripts():
    found = [m for _, m in page_messages(PAGE)]
    assert "Vigie - search" in found and "Case reference" in found and "cam-a, cam-b" in found
    assert "Rock & roll" in found  # unescaped: a translator never sees entities
    assert "42" not in found and "not a message" not in found


def test_translate_page_sets_language_and_places_the_catalogue_scripts():
    out = translate_page(PAGE, "fr", scripts='<script src="/i18n/fr.js" defer></script>')
    assert out.startswith('<!doctype html><html lang="fr">')
    assert '<script src="/i18n/fr.js" defer></script></head>' in out
    assert "<p>Rock &amp; roll</p>" in out  # no translation: the English stays, still escaped


def test_languages_are_recognised_and_unknown_ones_ignored():
    assert known_language("fr-FR") == "fr" and known_language("EN_gb") == "en"
    assert known_language("de") is None and known_language(None) is None


def test_english_source_is_its_own_translation_and_placeholders_are_filled():
    with use_language("en"):
        assert gettext("Camera {name} is offline", name="esplanade") == "Camera esplanade is offline"
