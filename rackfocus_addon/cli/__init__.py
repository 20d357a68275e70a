"""The one command line, two doors: ``python -m rackfocus_addon VERB ...`` and
``blender -b FILE -c rackfocus VERB ...``.

Each verb module adds its sub-parsers (``add_verbs``) and runs them (``run(args, out)``); this
module only dispatches. Exit status: 0 success, 2 bad arguments or bad input (one line on
stderr), 3 ``check`` found the file not farm-safe, 1 a failure that is not the user's (a render
that failed, a bug: with a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from ..errors import RackFocusError
from . import check, data, plate, pull, render
from .common import PROG, Output, output_options

#: Verb modules in the order ``--help`` lists them.
VERB_MODULES = (pull, data, plate, render, check)


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of exiting, so Blender's process is ours to end."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Rack Focus: cinematic focus pulls for Blender.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.required = True
    common = output_options()
    for module in VERB_MODULES:
        module.add_verbs(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns the process exit status instead of exiting."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return int(done.code or 0)
    out = Output(quiet=args.quiet, json_mode=args.json)
    try:
        return int(args.run(args, out) or 0)
    except RackFocusError as err:
        out.error(str(err))
        return 2
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence must say what broke
        traceback.print_exc()
        print(f"{PROG}: failed: {err}", file=sys.stderr)
        return 1


def blender_command(argv: list[str]) -> int:
    """Entry point for ``bpy.utils.register_cli_command('rackfocus', ...)``."""
    return main(argv)
