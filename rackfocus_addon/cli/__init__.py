"""The one command line, two doors: ``python -m rackfocus_addon VERB ...`` and
``blender -b FILE -c rackfocus VERB ...``.

Verbs live in small modules (``cli_*.py``) that each add their sub-parsers; this module only
dispatches. Exit status: 0 success, 2 bad arguments or bad input (one line on stderr), 1 a failure
that is not the user's (a render that failed, a bug: with a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from .errors import RackFocusError

#: Modules that contribute verbs; each ``add_verbs(subparsers)`` sets ``func`` on its parsers.
VERB_MODULES = ("cli_pull", "cli_render", "cli_check", "cli_plate", "cli_workflow")

PROG = "rackfocus"


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
    for name in VERB_MODULES:
        importlib.import_module(f".{name}", __package__).add_verbs(sub)
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
    try:
        return int(args.func(args) or 0)
    except RackFocusError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence must say what broke
        traceback.print_exc()
        print(f"{PROG}: failed: {err}", file=sys.stderr)
        return 1


def blender_command(argv: list[str]) -> int:
    """Entry point for ``bpy.utils.register_cli_command('rackfocus', ...)``."""
    return main(argv)
