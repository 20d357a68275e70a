"""What every CLI verb shares: output (progress, notes, ``--quiet``, ``--json``), opening and
saving files, frame lists and resolutions."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ..errors import RackFocusError
from ..frames import parse_frame_list

PROG = "rackfocus"

#: Seconds between two progress lines of one stage (the first and last are always printed).
PROGRESS_INTERVAL_S = 1.0


def output_options() -> argparse.ArgumentParser:
    """The options every verb takes: a parent parser for ``add_parser(parents=[...])``."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("output")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="no progress or notes on stderr (errors are still printed)")
    g.add_argument("--json", action="store_true",
                   help="print one JSON object with the result on stdout, nothing else")
    return p


class Output:
    """Where a verb's words go: results on stdout, progress and notes on stderr.

    With ``json_mode`` stdout carries exactly one JSON object (:meth:`result`); with ``quiet``
    stderr carries only errors.
    """

    def __init__(self, quiet: bool = False, json_mode: bool = False) -> None:
        self.quiet = quiet
        self.json_mode = json_mode
        self._last: dict[str, float] = {}

    def progress(self, label: str, done: int, total: int) -> None:
        """A ``(label, done, total)`` callback: 'rackfocus: sampling subject distances 120/2000'.

        Throttled to one line a second per label, so long stages stay readable in a farm log.
        """
        if self.quiet:
            return
        now = time.monotonic()
        first = label not in self._last
        if not first and done < total and now - self._last[label] < PROGRESS_INTERVAL_S:
            return
        self._last[label] = now
        print(f"{PROG}: {label} {done}/{total}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            print(f"{PROG}: {text}", file=sys.stderr, flush=True)

    def warn(self, text: str) -> None:
        if not self.quiet:
            print(f"{PROG}: warning: {text}", file=sys.stderr, flush=True)

    def problem(self, text: str) -> None:
        """A finding the exit status is about (shown even with ``--quiet``)."""
        print(f"{PROG}: {text}", file=sys.stderr, flush=True)

    def error(self, text: str) -> None:
        print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)

    def result(self, data: dict, lines: list[str]) -> None:
        """The verb's result: ``data`` as JSON with ``--json``, else the human ``lines``."""
        if self.json_mode:
            print(json.dumps(data, indent=1, default=str), flush=True)
            return
        for line in lines:
            print(line, flush=True)


def file_argument(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("file", nargs=None if required else "?",
                   help=".blend to open" + ("" if required else
                                            " (default: the file Blender opened)"))


def camera_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--camera", help="camera object (default: the scene camera)")
    p.add_argument("--scene", help="scene name (default: the active scene)")


def open_blend(path: str | None):
    """Open ``path`` (unless it is the file already loaded) and return the active scene."""
    import bpy

    from ..bl.files import blender_stdout_silenced

    if path:
        full = os.path.abspath(path)
        if not os.path.isfile(full):
            raise RackFocusError(f"No such .blend file: {path}")
        if os.path.abspath(bpy.data.filepath or "") != full:
            try:
                with blender_stdout_silenced():
                    bpy.ops.wm.open_mainfile(filepath=full, load_ui=False)
            except RuntimeError as err:
                raise RackFocusError(f"Cannot open {path}: {str(err).strip()}") from None
    return bpy.context.scene


def pick_scene(name: str | None):
    """The scene called ``name``, or the active scene when no name is given."""
    import bpy

    if not name:
        return bpy.context.scene
    scene = bpy.data.scenes.get(name)
    if scene is None:
        raise RackFocusError(f"No scene named '{name}'")
    return scene


def open_shot(args):
    """Open ``args.file`` and resolve ``--scene`` and ``--camera``: (scene, camera)."""
    from ..bl.subjects import resolve_camera

    open_blend(args.file)
    scene = pick_scene(args.scene)
    return scene, resolve_camera(scene, args.camera)


def save_blend(path: str) -> str:
    """Save the open file to ``path`` with relative paths (farm-safe); returns the absolute path."""
    from ..bl.files import save_blend as save

    return save(path)


def parse_frames(text: str | None, default: tuple[int, int]) -> list[int]:
    """Blender-style frame list (``1,12,40-48``) or the inclusive ``default`` range."""
    if not text:
        return list(range(default[0], default[1] + 1))
    return parse_frame_list(text)


def parse_resolution(text: str | None) -> tuple[int, int] | None:
    """``'WxH'`` to (width, height) pixels."""
    if not text:
        return None
    w, sep, h = text.lower().partition("x")
    try:
        size = (int(w), int(h))
    except ValueError:
        size = (0, 0)
    if not sep or min(size) < 4:
        raise RackFocusError(f"Bad resolution '{text}': use WxH, e.g. 640x360")
    return size
