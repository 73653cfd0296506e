"""A malformed request's first problem in plain words, for the page to show beside its field.

FastAPI's validation errors read like "field reason: String should have at least 1 character": the
API's field names and pydantic's wording. The API still names the field (the body's "field", which the
pages use to put the message beside the input), but the message is a sentence a member of staff or a
citizen reads: "Give a reason." A field the pages show has its own sentences; any other field is named
as the API spells it, so that a programmer calling the API still knows which one is at fault."""

from __future__ import annotations

from typing import Any

from vigie.i18n import N_, _

# What to say when a field the pages show is left empty (missing, or shorter than its minimum of 1).
GIVE = {
    "reason": N_("Give a reason."),
    "case_ref": N_("Give the case reference."),
    "purpose": N_("Give the purpose of the search."),
    "username": N_("Give your user name."),
    "password": N_("Give your password."),
    "current_password": N_("Give your current password."),
    "new_password": N_("Choose a new password."),
    "token": N_("Give your follow-up code."),
    "description": N_("Describe the problem."),
    "service_code": N_("Choose the kind of problem."),
    "lat": N_("Give the place's latitude, or click on the map."),
    "long": N_("Give the place's longitude, or click on the map."),
    "camera": N_("Choose a camera."),
    "from": N_("Give the start of the period."),
    "to": N_("Give the end of the period."),
    "note": N_("Write a note."),
    "text": N_("Type a description."),
    "name": N_("Give a name."),
    "role": N_("Choose a role."),
}
EMPTY = {"missing", "string_too_short"}  # too short only when its minimum is one character: see plain_message
BOUNDS = {  # pydantic's comparison errors: the sentence and the context key holding the bound
    "greater_than_equal": (N_("The field {field} must be at least {limit}."), "ge"),
    "greater_than": (N_("The field {field} must be more than {limit}."), "gt"),
    "less_than_equal": (N_("The field {field} must be at most {limit}."), "le"),
    "less_than": (N_("The field {field} must be less than {limit}."), "lt"),
}
NUMBER = {"int_parsing", "float_parsing", "int_type", "float_type", "int_from_float", "finite_number"}
WHEN = {"datetime_parsing", "datetime_from_date_parsing", "datetime_type", "date_parsing", "timezone_aware"}


def field_name(error: dict[str, Any]) -> str:
    """The request field at fault as the API spells it (`filters.upper`), without where it was sent."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "cookie", "header")]
    return ".".join(loc) or "request"


def plain_message(error: dict[str, Any]) -> str:
    """One validation error (pydantic's dict) as a sentence in the request's language."""
    name = field_name(error)
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    last = name.rsplit(".", 1)[-1]
    if kind in EMPTY and (kind == "missing" or ctx.get("min_length") == 1) and last in GIVE:
        return _(GIVE[last])
    if kind == "missing":
        return _("The field {field} is required.", field=name)
    if kind == "string_too_short":
        return _("The field {field} must be at least {count} characters long.", field=name, count=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("The field {field} must be at most {count} characters long.", field=name, count=ctx.get("max_length"))
    if kind in BOUNDS:
        sentence, key = BOUNDS[kind]
        return _(sentence, field=name, limit=ctx.get(key))
    if kind in NUMBER:
        return _("The field {field} must be a number.", field=name)
    if kind in WHEN:
        return _("The field {field} must be a date and time, such as 2026-12-07T14:00.", field=name)
    if kind in ("literal_error", "enum"):
        return _("The field {field} must be one of: {choices}.", field=name, choices=ctx.get("expected", ""))
    if kind == "extra_forbidden":
        return _("The field {field} is not one this request accepts.", field=name)
    if kind == "bool_parsing":
        return _("The field {field} must be true or false.", field=name)
    # Vigie's own validators already speak in sentences ("unknown colour 'plaid'"); pydantic's other
    # wordings are rare enough to show as they are, beside the field's name.
    problem = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return _("The field {field}: {problem}", field=name, problem=problem)
