"""The `vigie` command: one entry point, one verb per job, each verb group a module of this package.

Errors the user can fix (bad site file, unreadable video) are printed as one
line naming the problem, with exit status 2; a video that stopped early is
analysed as far as it could be read, stored, and reported with status 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from vigie.cli import (
    accounts,
    analysis,
    audit,
    crimemap,
    drone,
    evaluate,
    live,
    recordings,
    retention,
    rules,
    search,
    serve,
    stats,
    synopsis,
    trail,
)
from vigie.cli.common import EXIT_PARTIAL, EXIT_USAGE
from vigie.errors import VigieError
from vigie.i18n import _, use_language

__all__ = ["EXIT_PARTIAL", "EXIT_USAGE", "build_parser", "main"]

# In the order `vigie --help` lists them.
VERB_GROUPS = (
    analysis,
    evaluate,
    search,
    audit,
    retention,
    accounts,
    serve,
    rules,
    live,
    recordings,
    stats,
    drone,
    synopsis,
    crimemap,
    trail,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigie", description="Open forensic video analytics for a city's cameras.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    sub = p.add_subparsers(dest="verb", required=True)
    for group in VERB_GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    # The command's language: $VIGIE_LANG, else the site file's once a command reads it (common.site_or_default),
    # else French; the block undoes the change when the command ends.
    with use_language(os.environ.get("VIGIE_LANG")):
        try:
            return args.fn(args)
        except VigieError as exc:
            print(_("vigie: error: {error}", error=exc), file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(_("vigie: interrupted"), file=sys.stderr)
            return 130
        except BrokenPipeError:  # `vigie tracks | head`: the reader has all it wanted
            sys.stderr.close()
            return 0


if __name__ == "__main__":
    sys.exit(main())
