"""The one command line, two doors: ``python -m rackfocus_addon VERB ...`` and
``blender -b FILE -c rackfocus VERB ...``.

Each verb module adds its sub-parsers (``add_verbs``) and runs them (``run(args, out)``); this
module only dispatches. Exit status: 0 success, 2 bad arguments or bad input (one line on
stderr), 3 ``check`` found the file not farm-safe, 1 a failure that is not the user's (a render
that failed, a bug: with a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback

from ..errors import RackFocusError
from ..limits import disk_full_error, is_disk_full
from . import batch, check, data, estimate, plate, pull, render
from .common import PROG, Output, output_options

#: Verb modules in the order ``--help`` lists them.
VERB_MODULES = (pull, data, plate, estimate, render, batch, check)


#: What a Python without Blender's module hears (the README's set-up makes ``.venv``).
NO_BPY = ("this Python has no 'bpy' module (Blender as a Python module): run "
          "scripts/setup_venvs.sh and use .venv/bin/python -m rackfocus_addon, or run "
          "blender -b FILE -c rackfocus")


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of exiting, so Blender's process is ours to end."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # A value check (``common.number``) already names its flag: drop argparse's prefix.
        named = re.fullmatch(r"argument (\S+?)(?:/\S+)?: (\1 .*)", message, re.DOTALL)
        raise _ArgumentError(named.group(2) if named else message)

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


def _verb_parser(parser: argparse.ArgumentParser, verb: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(verb)
    return None


def _is_option(token: str, options: dict[str, argparse.Action]) -> bool:
    """Whether argparse would read ``token`` as one of ``options`` (or their prefixes)."""
    if token in options or token == "--":
        return True
    if token.startswith("--"):
        name = token.split("=", 1)[0]
        return any(o.startswith(name) for o in options if o.startswith("--"))
    return token[:2] in options


def join_dash_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` with values that start with '-' glued to their option: ``--opt=VALUE``.

    argparse reads ``--frames -3--1`` or ``--anchor -1,5=2`` as an option without its value
    ("expected one argument"). For every option of the verb that takes exactly one value, the
    next token becomes its value unless it is itself one of the verb's options.
    """
    out = list(argv)
    verb_at = next((i for i, a in enumerate(out) if not a.startswith("-")), None)
    if verb_at is None:
        return out
    sub = _verb_parser(parser, out[verb_at])
    if sub is None:
        return out
    options = {o: a for a in sub._actions for o in a.option_strings}
    i = verb_at + 1
    while i < len(out):
        token = out[i]
        if token == "--":
            break
        action = options.get(token)
        if (action is not None and action.nargs is None and i + 1 < len(out)
                and out[i + 1].startswith("-") and not _is_option(out[i + 1], options)):
            out[i:i + 2] = [f"{token}={out[i + 1]}"]
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns the process exit status instead of exiting."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(join_dash_values(parser, argv))
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
        if isinstance(err, ModuleNotFoundError) and err.name == "bpy":
            out.error(NO_BPY)
            return 2
        if is_disk_full(err):  # a write that no check foresaw: its folder, or --out's
            out.error(str(disk_full_error(1, _written_folder(err, getattr(args, "out", None)))))
            return 2
        traceback.print_exc()
        print(f"{PROG}: failed: {err}", file=sys.stderr)
        return 1


def _written_folder(err: OSError, out: str | None) -> str:
    """The folder a failed write was writing in: the file the error names, else ``--out``."""
    path = os.path.abspath(err.filename or out or ".")
    return path if os.path.isdir(path) else os.path.dirname(path)


def blender_command(argv: list[str]) -> int:
    """Entry point for ``bpy.utils.register_cli_command('rackfocus', ...)``."""
    return main(argv)
