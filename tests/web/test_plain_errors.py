"""A malformed request is refused in plain words that the page can put beside the field (issue 20, point 5):
the body still names the field; the message is a sentence, not the API's field name and pydantic's text."""

from __future__ import annotations

import pytest
from test_web_api import JUST, PW, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.i18n import use_language
from vigie.web.plain_errors import plain_message


def test_an_empty_reason_is_asked_for_in_plain_words(env):
    c = client(env, "investigator")
    r = c.post("/api/holds", json={"case_ref": JUST["case_ref"], "reason": "", "track_ids": [env["recent"]]})
    assert r.status_code == 422, r.text
    assert r.json() == {"error": "Give a reason.", "field": "reason"}


def test_a_missing_password_is_asked_for_and_named(env):
    r = client(env).post("/api/login", json={"username": "operator"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    assert r.json()["error"] == "Give your password."


@pytest.mark.parametrize(
    "error, words",
    [
        (
            {"type": "greater_than_equal", "loc": ("query", "limit"), "ctx": {"ge": 1}},
            "The field limit must be at least 1.",
        ),
        ({"type": "less_than_equal", "loc": ("body", "length_s"), "ctx": {"le": 3600}}, "at most 3600"),
        ({"type": "string_too_long", "loc": ("body", "note"), "ctx": {"max_length": 500}}, "at most 500 characters"),
        ({"type": "int_parsing", "loc": ("query", "offset")}, "The field offset must be a number."),
        ({"type": "extra_forbidden", "loc": ("body", "colour")}, "The field colour is not one"),
        ({"type": "missing", "loc": ("body", "max_collision")}, "The field max_collision is required."),
        (
            {"type": "value_error", "loc": ("body", "filters", "upper"), "msg": "Value error, unknown colour 'plaid'"},
            "The field filters.upper: unknown colour 'plaid'",
        ),
    ],
)
def test_every_kind_of_problem_is_a_sentence_naming_the_field(error, words):
    with use_language("en"):
        text = plain_message(error)
    assert words in text
    assert "should" not in text and "Value error" not in text


def test_a_field_the_pages_show_is_asked_for_by_its_meaning():
    with use_language("en"):
        assert plain_message({"type": "string_too_short", "loc": ("body", "reason"), "ctx": {"min_length": 1}}) == (
            "Give a reason."
        )
        # a minimum above one character is a length to respect, not an empty field
        assert "at least 12 characters" in plain_message(
            {"type": "string_too_short", "loc": ("body", "password"), "ctx": {"min_length": 12}}
        )
