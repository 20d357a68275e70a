"""CLI verb ``check``: is a .blend farm-safe? Exit 0 if so, 3 with one line per problem if not."""

from __future__ import annotations

import sys

from .cli_common import open_blend

NOT_FARM_SAFE = 3


def add_verbs(sub) -> None:
    c = sub.add_parser("check", help="check that a .blend renders on a farm without the add-on",
                       description="Exit 0 if farm-safe; 3 and one line per problem otherwise.")
    c.add_argument("file", nargs="?", help=".blend to open (default: the file Blender opened)")
    c.set_defaults(func=run_check)


def run_check(args) -> int:
    from .bl import farm

    open_blend(args.file)
    found = farm.problems()
    for problem in found:
        print(f"rackfocus: not farm-safe: {problem}", file=sys.stderr)
    if found:
        return NOT_FARM_SAFE
    print("farm-safe: keyframes and native constraints only, relative paths")
    return 0
