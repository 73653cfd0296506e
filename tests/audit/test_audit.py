"""The audit log: hash chain round trip, concurrency, tamper detection, filters, export, CLI."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import threading

import pytest

from vigie.audit import log
from vigie.audit.log import GENESIS, AuditError, append, chain_key, entry_hash, export_csv, export_jsonl, query, verify
from vigie.cli.audit import register
from vigie.store.sqlite import SQLiteStore


def fill(store: SQLiteStore, n: int = 6) -> list[log.AuditEntry]:
    users = ["alice", "bob"]
    actions = ["login", "search", "view_track"]
    return [
        append(
            store,
            users[i % 2],
            "investigator",
            actions[i % 3],
            case_ref=f"case-{i % 2}",
            purpose="burglary rue X",
            details={"i": i, "query": {"upper": ["red"]}},
        )
        for i in range(n)
    ]


def raw(tmp_path) -> sqlite3.Connection:
    """A plain connection to the store's file, as someone tampering with it would use."""
    return sqlite3.connect(tmp_path / "vigie.db", isolation_level=None)


def tamper(tmp_path, *sql: tuple) -> None:
    """Drop the append-only triggers, then run the statements."""
    conn = raw(tmp_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    for statement in sql:
        conn.execute(*statement)
    conn.close()


# --- append and verify -----------------------------------------------------------------------
def test_append_then_verify_round_trip(store):
    assert verify(store).ok and verify(store).entries == 0
    entries = fill(store, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    assert entries[0].details == '{"i":0,"query":{"upper":["red"]}}'  # canonical JSON
    assert entries[2].hash == entry_hash(
        3,
        entries[2].at,
        "alice",
        "investigator",
        "view_track",
        "case-0",
        "burglary rue X",
        entries[2].details,
        entries[1].hash,
        chain_key(store),  # issue 19 (finding 6): keyed with HMAC, the key outside the database
    )
    result = verify(store)
    assert result.ok and result.entries == 5 and result.first_bad_seq is None
    assert result.reason == (
        f"audit log intact: 5 entries, last hash {entries[-1].hash}; 1 anchor checked, the newest at entry 0"
    )
    assert query(store, limit=10) == entries  # what was returned is what was stored


def test_concurrent_appends_keep_one_unbroken_chain(store):
    def worker(k: int) -> None:
        for i in range(25):
            append(store, f"user{k}", "operator", "search", details={"k": k, "i": i})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify(store)
    assert result.ok and result.entries == 150
    assert [e.seq for e in query(store, limit=1000)] == list(range(1, 151))


def test_append_inside_a_larger_write_commits_with_it_or_not_at_all(store):
    def fail(conn):
        log.append_in(conn, "alice", "admin", "settings", details={"retention_days": 30})
        raise RuntimeError("the settings change failed")

    with pytest.raises(RuntimeError):
        store.write(fail).result()
    assert verify(store).entries == 0
    store.write(lambda conn: log.append_in(conn, "alice", "admin", "settings")).result()
    assert verify(store).ok and verify(store).entries == 1


def test_verify_streams_in_chunks(store, monkeypatch):
    monkeypatch.setattr(log, "CHUNK", 2)
    fill(store, 7)
    assert verify(store).ok and verify(store).entries == 7


# --- validation ------------------------------------------------------------------------------------
def test_bad_action_user_role_or_details_are_refused(store):
    with pytest.raises(AuditError, match="'peek'"):
        append(store, "alice", "investigator", "peek")
    with pytest.raises(ValueError, match="user"):
        append(store, " ", "investigator", "login")
    with pytest.raises(AuditError, match="role"):
        append(store, "alice", "", "login")
    with pytest.raises(AuditError, match="details"):
        append(store, "alice", "investigator", "login", details={"x": object()})
    with pytest.raises(AuditError, match="'peek'"):
        query(store, action="peek")
    with pytest.raises(AuditError, match="start"):
        query(store, start="yesterday")
    assert verify(store).entries == 0


# --- append-only and tamper detection ---------------------------------------------------------------
def test_update_and_delete_are_refused_by_the_triggers(store, tmp_path):
    fill(store, 3)
    conn = raw(tmp_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET user='mallory' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq=2")
    conn.close()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.write(lambda c: c.execute("DELETE FROM audit_log")).result()
    assert verify(store).ok and verify(store).entries == 3


def test_edited_details_are_detected_at_that_entry(store, tmp_path):
    fill(store, 6)
    tamper(tmp_path, ("UPDATE audit_log SET details='{\"i\":3}' WHERE seq=4",))
    result = verify(store)
    assert not result.ok and result.first_bad_seq == 4 and result.entries == 3
    assert result.reason == "entry 4: hash does not match its contents"


def test_rewritten_entry_with_recomputed_hash_breaks_the_next_link(store, tmp_path):
    entries = fill(store, 6)
    e = entries[3]
    # Issue 19 (finding 6): without the key, a recomputed hash no longer matches at all ...
    forged = entry_hash(e.seq, e.at, "mallory", e.role, e.action, e.case_ref, e.purpose, e.details, e.prev_hash)
    tamper(tmp_path, ("UPDATE audit_log SET user='mallory', hash=? WHERE seq=4", (forged,)))
    result = verify(store)
    assert not result.ok and result.first_bad_seq == 4
    assert result.reason == (
        "entry 4: hash is not keyed, but the chain is keyed from entry 1: "
        "it was rewritten by someone without the audit key"
    )
    # ... and even with the key, the next link breaks
    key = chain_key(store)
    forged = entry_hash(e.seq, e.at, "mallory", e.role, e.action, e.case_ref, e.purpose, e.details, e.prev_hash, key)
    conn = raw(tmp_path)
    conn.execute("UPDATE audit_log SET hash=? WHERE seq=4", (forged,))
    conn.close()
    result = verify(store)
    assert not result.ok and result.first_bad_seq == 5
    assert result.reason == "entry 5: prev_hash is not entry 4's hash"


def test_changed_prev_hash_is_detected(store, tmp_path):
    entries = fill(store, 4)
    tamper(tmp_path, ("UPDATE audit_log SET prev_hash=? WHERE seq=3", ("f" * 64,)))
    assert verify(store).first_bad_seq == 3
    assert verify(store).reason == "entry 3: hash does not match its contents"
    # ... and with the hash recomputed to match, the link itself is named
    e = entries[2]
    forged = entry_hash(
        e.seq, e.at, e.user, e.role, e.action, e.case_ref, e.purpose, e.details, "f" * 64, chain_key(store)
    )
    conn = raw(tmp_path)
    conn.execute("UPDATE audit_log SET hash=? WHERE seq=3", (forged,))
    conn.close()
    result = verify(store)
    assert result.first_bad_seq == 3 and result.reason == "entry 3: prev_hash is not entry 2's hash"


def test_deleted_middle_and_first_entries_are_detected(store, tmp_path):
    fill(store, 6)
    tamper(tmp_path, ("DELETE FROM audit_log WHERE seq=5",))
    result = verify(store)
    assert not result.ok and result.first_bad_seq == 5 and result.entries == 4
    assert result.reason == "entry 5 is missing (sequence jumps from 4 to 6)"
    conn = raw(tmp_path)
    conn.execute("DELETE FROM audit_log WHERE seq=1")
    conn.close()
    result = verify(store)
    assert result.first_bad_seq == 1 and result.reason == "entry 1 is missing (sequence starts at 2)"


def test_entries_cut_off_the_end_are_caught_by_a_recorded_hash(store, tmp_path):
    entries = fill(store, 5)
    recorded = entries[-1].hash
    assert verify(store, expect_hash=recorded).ok
    tamper(tmp_path, ("DELETE FROM audit_log WHERE seq>=4",))
    assert verify(store).ok  # a shorter chain is still a chain
    result = verify(store, expect_hash=recorded)
    assert not result.ok and result.first_bad_seq == 4 and "removed" in result.reason


# --- query and export ------------------------------------------------------------------------------
def test_filters_select_and_page(store):
    entries = fill(store, 6)
    assert [e.seq for e in query(store, user="alice")] == [1, 3, 5]
    assert [e.seq for e in query(store, action="search")] == [2, 5]
    assert [e.seq for e in query(store, case_ref="case-1", user="bob")] == [2, 4, 6]
    assert [e.seq for e in query(store, start=entries[2].at, end=entries[4].at)] == [3, 4]
    assert [e.seq for e in query(store, limit=2, offset=3)] == [4, 5]
    assert query(store, end="2000-01-01") == []
    assert query(store, start="2000-01-01T00:00:00+02:00", limit=1)[0].seq == 1


def test_csv_export_contents(store, tmp_path):
    fill(store, 4)
    append(store, "=cmd|' /C calc'!A0", "investigator", "login")  # a user name a spreadsheet would run
    out = tmp_path / "audit.csv"
    assert export_csv(store, out, user="alice") == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["seq"] for r in rows] == ["1", "3"]
    assert list(rows[0]) == list(log.FIELDS)
    stored = query(store, user="alice")
    assert rows[1]["details"] == stored[1].details and rows[1]["hash"] == stored[1].hash
    assert rows[1]["action"] == "view_track" and rows[1]["case_ref"] == "case-0"
    buf = io.StringIO()
    export_csv(store, buf, action="login")
    assert "'=cmd" in buf.getvalue()


def test_jsonl_export_keeps_exact_values_that_rehash(store, tmp_path):
    fill(store, 3)
    out = tmp_path / "audit.jsonl"
    assert export_jsonl(store, out) == 3
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["seq"] for d in lines] == [1, 2, 3]
    for d in lines:  # with the audit key (issue 19, finding 6): an export alone cannot be re-chained
        assert entry_hash(*(d[f] for f in log.FIELDS[:-1]), chain_key(store)) == d["hash"]


# --- CLI -----------------------------------------------------------------------------------------------
def run_cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="vigie")
    register(p.add_subparsers(dest="verb", required=True))
    args = p.parse_args(argv)
    return args.fn(args)


def test_cli_verify_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    with SQLiteStore(tmp_path) as s:
        fill(s, 4)
    assert run_cli(["audit", "verify"]) == 0
    assert "audit log intact: 4 entries, last hash" in capsys.readouterr().out
    tamper(tmp_path, ("UPDATE audit_log SET action='login' WHERE seq=2",))
    assert run_cli(["audit", "verify"]) == 1
    assert "entry 2: hash does not match its contents" in capsys.readouterr().err
    assert run_cli(["audit", "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_seq"] == 2


def test_cli_list_and_export(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    with SQLiteStore(tmp_path) as s:
        fill(s, 4)
    assert run_cli(["audit", "list", "--user", "bob", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["seq"] for d in listed] == [2, 4] and listed[0]["details"]["query"] == {"upper": ["red"]}
    assert run_cli(["audit", "list", "--action", "login"]) == 0
    assert "alice" in capsys.readouterr().out
    out = tmp_path / "x.jsonl"
    assert run_cli(["audit", "export", "--format", "jsonl", "--out", str(out), "--case", "case-0"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    with pytest.raises(AuditError):
        run_cli(["audit", "list", "--action", "nope"])
