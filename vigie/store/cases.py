"""The store's SQL for cases (issue 20): the case a session has open, and the marks put on tracks per case.

The writes take a connection inside the caller's write job (`store.write(fn)`), so that the audit
entry that says what changed commits with the change (vigie.cases); the reads open their own.
"""

from __future__ import annotations

MARKS = ("same", "different")


def session_case(store, token_hash: str) -> dict | None:
    """The case the session has open ({case_ref, purpose, opened_at}), or None."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT case_ref, purpose, opened_at FROM session_cases WHERE token_hash = ?", (token_hash,)
        ).fetchone()
    return dict(row) if row is not None else None


def session_case_in(conn, token_hash: str) -> dict | None:
    """As session_case, inside a write job (to say what a switch replaced)."""
    row = conn.execute(
        "SELECT case_ref, purpose, opened_at FROM session_cases WHERE token_hash = ?", (token_hash,)
    ).fetchone()
    return dict(row) if row is not None else None


def set_session_case(conn, token_hash: str, case_ref: str, purpose: str, opened_at: str) -> bool:
    """Open (or replace) the session's case; False when the session no longer exists."""
    if conn.execute("SELECT 1 FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone() is None:
        return False
    conn.execute("DELETE FROM session_cases WHERE token_hash = ?", (token_hash,))
    conn.execute(
        "INSERT INTO session_cases (token_hash, case_ref, purpose, opened_at) VALUES (?,?,?,?)",
        (token_hash, case_ref, purpose, opened_at),
    )
    return True


def clear_session_case(conn, token_hash: str) -> None:
    conn.execute("DELETE FROM session_cases WHERE token_hash = ?", (token_hash,))


def set_mark(conn, case_ref: str, track_id: int, mark: str | None, username: str, at: str) -> None:
    """Mark a track for a case ('same' or 'different'), replacing an earlier mark; None removes it."""
    conn.execute("DELETE FROM case_marks WHERE case_ref = ? AND track_id = ?", (case_ref, track_id))
    if mark is not None:
        conn.execute(
            "INSERT INTO case_marks (case_ref, track_id, mark, marked_by, marked_at) VALUES (?,?,?,?,?)",
            (case_ref, track_id, mark, username, at),
        )


def case_marks(store, case_ref: str) -> list[dict]:
    """The case's marks with each track's camera and times, in the order the tracks were seen."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT m.track_id, m.mark, m.marked_by, m.marked_at, t.camera_id, t.class, t.first_seen, t.last_seen"
            " FROM case_marks m JOIN tracks t ON t.id = m.track_id WHERE m.case_ref = ?"
            " ORDER BY t.first_seen, m.track_id",
            (case_ref,),
        )
        return [dict(r) for r in rows]


def track_marks(store, track_id: int) -> list[dict]:
    """Every case's mark on one track."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT case_ref, mark, marked_by, marked_at FROM case_marks WHERE track_id = ? ORDER BY case_ref",
            (track_id,),
        )
        return [dict(r) for r in rows]


def case_exports(store, case_ref: str, username: str | None = None) -> list[dict]:
    """The case's exports (one user's, when named), newest first."""
    sql, args = "SELECT * FROM exports WHERE case_ref = ?", [case_ref]
    if username is not None:
        sql, args = sql + " AND username = ?", [*args, username]
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sql + " ORDER BY id DESC", args)]
