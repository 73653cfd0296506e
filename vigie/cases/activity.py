"""What was done for a case, read from the audit log and the case's own tables: its searches, the tracks
marked for it, its trails, holds, exports and synopses.

Who sees what (the case page's rule): an investigator sees their own audit entries for the case (the
audit log is not theirs to read) and the case's shared record, its marks and its legal holds; an
auditor or a supervisor sees every user's entries for the case.
"""

from __future__ import annotations

import json

from vigie.audit import log as audit
from vigie.cases import session
from vigie.retention import holds as legal_holds
from vigie.store import cases as rows

# audit action -> the case page's list it belongs to
LISTS = {
    "search": "searches",
    "similar": "searches",
    "trail": "trails",
    "synopsis": "synopses",
    "case_open": "openings",
    "case_close": "openings",
}
MAX_PER_LIST = 200  # newest first; the audit page has the rest


def summary(store, case_ref: str, username: str | None = None) -> dict:
    """The case's lists; `username` limits the audit-derived lists and exports to that user's."""
    lists: dict[str, list] = {name: [] for name in set(LISTS.values())}
    for e in audit.iter_entries(store, case_ref=case_ref, user=username):
        name = LISTS.get(e.action)
        if name is not None:
            lists[name].append(
                {
                    "seq": e.seq,
                    "at": e.at,
                    "user": e.user,
                    "action": e.action,
                    "purpose": e.purpose,
                    "details": e.details_dict(),
                }
            )
    for name in lists:
        lists[name] = lists[name][::-1][:MAX_PER_LIST]
    exports = rows.case_exports(store, case_ref, username)
    for x in exports:
        x["track_ids"] = json.loads(x["track_ids"])
        x["blurred"] = bool(x["blurred"])
    return {
        "case_ref": case_ref,
        **lists,
        "marks": session.marks(store, case_ref),
        "holds": [h for h in legal_holds.list_holds(store, active_only=False) if h["case_ref"] == case_ref],
        "exports": exports,
        "scope": "mine" if username is not None else "everyone",
    }


def track_holds(store, track_id: int) -> list[dict]:
    """The active holds that keep a track."""
    return [h for h in legal_holds.list_holds(store) if track_id in h["track_ids"]]
