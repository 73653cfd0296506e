"""The `vigie audit` verb: verify the keyed hash chain against its anchors, anchor it, list entries, export them.

`verify` exits 0 when the chain is intact and 1 when it is broken (naming the
first broken entry), so a cron job or monitoring probe can alarm on it; bad
flags are VigieErrors (exit 2) like everywhere else in the CLI. `list` writes
every stored text through `printable`: a failed login's name is anyone's text,
and its control characters are shown as escapes, never sent to the terminal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from vigie.audit.anchoring import anchor
from vigie.audit.log import export_csv, export_jsonl, printable, query, verify
from vigie.services import Services

EXIT_BROKEN = 1


def _filters(args: argparse.Namespace) -> dict:
    return {"user": args.user, "action": args.action, "case_ref": args.case, "start": args.start, "end": args.end}


def cmd_verify(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        result = verify(store, expect_hash=args.expect_hash)
    if args.json:
        print(json.dumps(result.__dict__))
    elif result.ok:
        print(result.reason)
    elif result.first_bad_seq is None:
        print(f"audit log cannot be trusted: {result.reason}", file=sys.stderr)
    else:
        print(
            f"audit log BROKEN at entry {result.first_bad_seq}: {result.reason} "
            f"({result.entries} entries intact before it)",
            file=sys.stderr,
        )
    return 0 if result.ok else EXIT_BROKEN


def cmd_anchor(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        record = anchor(services.store, "manual")
    print(f"Anchored the audit chain at entry {record['seq']} (hash {record['hash']})")
    return 0


# JSON escapes C0 controls itself; C1 controls and invisible format characters are escaped too.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def safe_json(value) -> str:
    """JSON text a terminal only displays: non-ASCII letters kept, control characters as \\u escapes."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def cmd_list(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        entries = query(store, **_filters(args), limit=args.limit, offset=args.offset)
    if args.json:
        print(safe_json([e.as_dict() for e in entries]))
        return 0
    if not entries:
        print("No audit entries match.")
        return 0
    print(f"{'seq':>8} {'at (UTC)':<23} {'user':<16} {'role':<10} {'action':<14} {'case':<14} {'purpose':<20} details")
    for e in entries:
        user, role, case, purpose, details = (
            printable(v or "-") for v in (e.user, e.role, e.case_ref, e.purpose, e.details)
        )
        print(
            f"{e.seq:>8} {e.at[:23]:<23} {user:<16.16} {role:<10.10} {e.action:<14} {case:<14.14} "
            f"{purpose:<20.20} {details}"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    writer = export_csv if args.format == "csv" else export_jsonl
    with Services.from_env() as services:
        store = services.store
        n = writer(store, args.out, **_filters(args))
    print(f"Exported {n} audit entries to {args.out} ({args.format})")
    return 0


def _add_filter_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="only this user")
    p.add_argument("--action", help="only this action (login, search, view_track, export, ...)")
    p.add_argument("--case", help="only this case reference")
    p.add_argument("--start", metavar="TIME", help="at or after this time (ISO 8601; UTC unless an offset is given)")
    p.add_argument("--end", metavar="TIME", help="before this time")


def register(sub) -> None:
    """Add `audit verify|list|export` to the `vigie` command's subparsers."""
    a = sub.add_parser("audit", help="the tamper-evident audit log: verify its hash chain, list and export it")
    asub = a.add_subparsers(dest="audit_verb", required=True)

    v = asub.add_parser(
        "verify", help="recompute the keyed hash chain and check it against its anchors; exit 1 naming what broke"
    )
    v.add_argument("--expect-hash", metavar="HEX", help="a last hash recorded earlier, that must still be in the chain")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(fn=cmd_verify)

    an = asub.add_parser(
        "anchor",
        help="record the chain's head in the anchor file (and syslog, webhook): for cron, besides the daily one",
    )
    an.set_defaults(fn=cmd_anchor)

    ls = asub.add_parser("list", help="list audit entries, oldest first")
    _add_filter_flags(ls)
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--offset", type=int, default=0)
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(fn=cmd_list)

    ex = asub.add_parser("export", help="write matching audit entries to a file (CSV or JSON lines)")
    ex.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    ex.add_argument("--out", required=True, metavar="FILE")
    _add_filter_flags(ex)
    ex.set_defaults(fn=cmd_export)
