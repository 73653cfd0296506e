"""The case a session has open, and the marks on a case's tracks; each change commits with its audit entry.

A case is kept with the session (not in a browser tab), so every tab of the session works for it and
it ends when the session ends. Opening, switching and closing are audited under the case they concern;
a switch names the case it replaced.
"""

from __future__ import annotations

from vigie.audit.log import append_in
from vigie.errors import VigieError
from vigie.store import cases as rows
from vigie.times import now_iso

MARKS = rows.MARKS
TEXT = 256  # longest reference or purpose, as every other justification field


class CaseError(VigieError, ValueError):
    """A case reference, purpose or mark that cannot be used (the message names it)."""


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise CaseError(f"field {what}: give a {what.replace('_', ' ')} (it may not be blank)")
    if len(text) > TEXT:
        raise CaseError(f"field {what}: at most {TEXT} characters")
    return text


def current(store, token_hash: str) -> dict | None:
    """The session's open case ({case_ref, purpose, opened_at}), or None."""
    return rows.session_case(store, token_hash)


def open_case(store, token_hash: str, username: str, role: str, case_ref: str, purpose: str) -> dict:
    """Open the case for the session, replacing the open one (a switch); audited. Returns the case."""
    case_ref, purpose = _text(case_ref, "case_ref"), _text(purpose, "purpose")
    at = now_iso()

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        before = rows.session_case_in(conn, token_hash)
        if not rows.set_session_case(conn, token_hash, case_ref, purpose, at):
            raise CaseError("the session has ended: log in again to open a case")
        details = {"switched_from": before["case_ref"]} if before else {}
        if before and before["case_ref"] == case_ref:
            details = {"purpose_was": before["purpose"]}
        append_in(conn, username, role, "case_open", case_ref=case_ref, purpose=purpose, details=details)

    store.write(fn).result()
    return {"case_ref": case_ref, "purpose": purpose, "opened_at": at}


def close_case(store, token_hash: str, username: str, role: str) -> dict | None:
    """Close the session's case (audited under it); the case that was open, or None."""

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        before = rows.session_case_in(conn, token_hash)
        if before is None:
            return None
        rows.clear_session_case(conn, token_hash)
        append_in(conn, username, role, "case_close", case_ref=before["case_ref"], purpose=before["purpose"])
        return before

    return store.write(fn).result()


def mark_track(store, username: str, role: str, case_ref: str, purpose: str, track_id: int, mark: str | None) -> None:
    """Mark a track 'same' (the person the case is about) or 'different' for the case; None removes the
    mark. The track must exist. Audited with the case."""
    if mark is not None and mark not in MARKS:
        raise CaseError(f"field mark: {mark!r} is not one of {', '.join(MARKS)} (or null to remove the mark)")

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        rows.set_mark(conn, case_ref, track_id, mark, username, now_iso())
        append_in(
            conn,
            username,
            role,
            "case_mark",
            case_ref=case_ref,
            purpose=purpose,
            details={"track_id": track_id, "mark": mark},
        )

    store.write(fn).result()


def marks(store, case_ref: str) -> list[dict]:
    return rows.case_marks(store, case_ref)


def marks_of_track(store, track_id: int) -> list[dict]:
    return rows.track_marks(store, track_id)
