"""The `vigie audit` verb: verify the hash chain, list entries, export them.

`verify` exits 0 when the chain is intact and 1 when it is broken (naming the
first broken entry), so a cron job or monitoring probe can alarm on it; bad
flags are VigieErrors (exit 2) like everywhere else in the CLI. The audit
modules are imported when a verb runs, so `vigie --help` stays quick.
"""

from __future__ import annotations

import argparse
import json
import sys

from vigie.audit.log import export_csv, export_jsonl, query, verify
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
    else:
        print(
            f"audit log BROKEN at entry {result.first_bad_seq}: {result.reason} "
            f"({result.entries} entries intact before it)",
            file=sys.stderr,
        )
    return 0 if result.ok else EXIT_BROKEN


def cmd_list(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        entries = query(store, **_filters(args), limit=args.limit, offset=args.offset)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2, ensure_ascii=False))
        return 0
    if not entries:
        print("No audit entries match.")
        return 0
    print(f"{'seq':>8} {'at (UTC)':<23} {'user':<16} {'role':<10} {'action':<14} {'case':<14} {'purpose':<20} details")
    for e in entries:
        print(
            f"{e.seq:>8} {e.at[:23]:<23} {e.user:<16.16} {e.role:<10.10} {e.action:<14} {e.case_ref or '-':<14.14} "
            f"{e.purpose or '-':<20.20} {e.details or '-'}"
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

    v = asub.add_parser("verify", help="recompute the hash chain; exit 1 naming the first broken entry")
    v.add_argument("--expect-hash", metavar="HEX", help="a last hash recorded earlier, that must still be in the chain")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.set_defaults(fn=cmd_verify)

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
