"""CLI verb ``check``: is a .blend farm-safe? Exit 0 if so, 3 with one line per problem if not."""

from __future__ import annotations

import argparse

from .common import file_argument, open_blend

NOT_FARM_SAFE = 3


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    c = sub.add_parser("check", parents=[common],
                       help="check that a .blend renders on a farm without the add-on",
                       description="Exit 0 if farm-safe; 3 and one line per problem otherwise.")
    file_argument(c)
    c.set_defaults(run=run_check)


def run_check(args, out) -> int:
    from ..bl import farm

    open_blend(args.file)
    found = farm.problems()
    for problem in found:
        out.problem(f"not farm-safe: {problem}")
    out.result({"farm_safe": not found, "problems": found},
               [] if found else ["farm-safe: keyframes and native constraints only, "
                                 "relative paths"])
    return NOT_FARM_SAFE if found else 0
