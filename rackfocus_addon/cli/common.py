"""What every CLI verb shares: output (progress, notes, ``--quiet``, ``--json``), opening and
saving files, frame lists and resolutions."""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from ..errors import RackFocusError
from ..frames import parse_frame_list
from ..limits import folder_problem

PROG = "rackfocus"
#: Blender's largest render width or height in pixels.
MAX_RESOLUTION = 65536

#: Seconds between two progress lines of one stage (the first and last are always printed).
PROGRESS_INTERVAL_S = 1.0
_BLEND_NAME = re.compile(r"\.blend\d*$")
#: Longest silence (seconds) on stderr while a long verb runs: a render farm fails a task that
#: prints nothing for a while (Flamenco's Manager: 10 minutes by default), and one step of a
#: stage (a model loading, a frame of a 4K plate) may take longer than that.
HEARTBEAT_S = 60.0


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
        self._said_at = time.monotonic()
        self._stage = ""
        self._lock = threading.Lock()
        self.steps: FarmSteps | None = None

    def say(self, line: str) -> None:
        """One line on stderr, now (even with ``--quiet``)."""
        with self._lock:
            print(line, file=sys.stderr, flush=True)
            self._said_at = time.monotonic()

    @contextmanager
    def heartbeat(self, interval_s: float | None = None) -> Iterator[None]:
        """While the block runs, a line at least every ``interval_s`` seconds (default
        :data:`HEARTBEAT_S`): when nothing else was printed for that long, 'rackfocus: still
        working: STAGE (N s without news)'. So a farm that fails silent tasks never fails a
        long stage that is still working."""
        interval_s = HEARTBEAT_S if interval_s is None else interval_s
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(max(0.01, interval_s - (time.monotonic() - self._said_at))):
                quiet_for = time.monotonic() - self._said_at
                if quiet_for >= interval_s and not self.quiet:
                    stage = self._stage or "starting"
                    self.say(f"{PROG}: still working: {stage} ({quiet_for:.0f} s without news)")

        thread = threading.Thread(target=beat, name="rackfocus-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def progress(self, label: str, done: int, total: int) -> None:
        """A ``(label, done, total)`` callback: 'rackfocus: sampling subject distances 120/2000'.

        Throttled to one line a second per label, so long stages stay readable in a farm log.
        """
        self._stage = f"{label} {done}/{total}"
        if self.steps is not None:
            self.steps.advance(done / total if total else 1.0, self._stage)
        if self.quiet:
            return
        now = time.monotonic()
        first = label not in self._last
        if not first and done < total and now - self._last[label] < PROGRESS_INTERVAL_S:
            return
        self._last[label] = now
        self.say(f"{PROG}: {label} {done}/{total}")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.say(f"{PROG}: {text}")

    def warn(self, text: str) -> None:
        if not self.quiet:
            self.say(f"{PROG}: warning: {text}")

    def problem(self, text: str) -> None:
        """A finding the exit status is about (shown even with ``--quiet``)."""
        self.say(f"{PROG}: {text}")

    def error(self, text: str) -> None:
        self.say(f"{PROG}: error: {text}")

    def result(self, data: dict, lines: list[str]) -> None:
        """The verb's result: ``data`` as JSON with ``--json``, else the human ``lines``."""
        if self.json_mode:
            print(json.dumps(data, indent=1, default=str), flush=True)
            return
        for line in lines:
            print(line, flush=True)


class FarmSteps:
    """Step lines for a render farm's progress bar: ``total`` lines in all, in step with the
    run's progress.

    Flamenco's Worker counts one task step for each output line that matches ``^Time: [0-9:.]+``
    (``regexpFrameRendered`` in ``internal/worker/command_blender.go``; the line Blender prints
    after each rendered frame), against the step count the job type gave the command. The bar
    follows the stage furthest along (steps never go back); the last step is printed by
    :meth:`finish`, when the run ends well.
    """

    def __init__(self, total: int, write: Callable[[str], None]) -> None:
        self.total = max(0, int(total))
        self.done = 0
        self._write = write
        self._start = time.monotonic()

    def advance(self, fraction: float, stage: str) -> None:
        """A stage reached ``fraction`` (0-1) of its work."""
        target = min(self.total - 1, math.floor(max(0.0, min(1.0, fraction)) * self.total))
        while self.done < target:
            self._step(stage)

    def finish(self, stage: str = "done") -> None:
        while self.done < self.total:
            self._step(stage)

    def _step(self, stage: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self._start
        hours, rest = divmod(elapsed, 3600.0)
        minutes, seconds = divmod(rest, 60.0)
        self._write(f"Time: {int(hours):02d}:{int(minutes):02d}:{seconds:05.2f} "
                    f"({PROG} step {self.done}/{self.total}: {stage})")


def number(lo: float, hi: float, name: str, whole: bool = False) -> Callable[[str], float]:
    """An argparse ``type=`` that reads a finite number from ``lo`` to ``hi`` for option ``name``.

    Out-of-range or non-numeric values fail at parse time (exit 2, before any file is opened)
    with one line naming the flag and its range: ``--fstop -2 is out of range: use 0.5 to 128``.
    ``whole`` reads integers.
    """
    what = "a whole number" if whole else "a number"
    span = f"{_plain(lo)} to {_plain(hi)}"

    def read(text: str):
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} {text!r} is not {what}: use {what} from {span}") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"{name} {text} is out of range: use {span}")
        return value

    read.__name__ = "integer" if whole else "number"  # argparse names the type in some errors
    return read


def _plain(value: float) -> str:
    """A limit as people write it: 16777216, 0.5, -0.2 (never 1.67772e+07)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- outputs: checked before any work, so a long pull never fails at the save ---------------

def _writable_folder(folder: str, shown: str) -> None:
    """Raise unless files can be created in ``folder`` (or in the folders made on the way)."""
    problem = folder_problem(folder)
    if problem:
        raise RackFocusError(f"Cannot write {shown}: {problem}")


def check_output_file(path: str, suffix: str | None = None,
                      inputs: Iterable[str | None] = ()) -> str:
    """Check that ``path`` can be written (a new file, or a writable file, in a writable folder;
    with ``suffix``, a name ending in it); returns the absolute path. Nothing is created.

    What the verb writes never lands on what it reads or on a .blend it does not save: ``path``
    may not be one of ``inputs`` (the files the verb reads, other than a .blend it saves with a
    backup), and an output that is not a .blend (text, CSV, JSON) may not replace a .blend file.
    """
    full = os.path.abspath(path)
    if suffix and not full.endswith(suffix):
        raise RackFocusError(f"Output must be a {suffix} file: {path}")
    if os.path.isdir(full):
        raise RackFocusError(f"Cannot write {path}: it is a folder")
    if os.path.exists(full) and not os.access(full, os.W_OK):
        raise RackFocusError(f"Cannot write {path}: the file is read-only")
    refuse_inputs([path], inputs)
    if suffix != ".blend" and is_blend_file(full):
        raise RackFocusError(f"Cannot write {path}: it is a .blend file and this output is "
                             "text, which would replace it: choose another --out, e.g. "
                             f"{os.path.splitext(os.path.basename(full))[0]}.txt")
    _writable_folder(os.path.dirname(full), path)
    return full


def refuse_inputs(outputs: Iterable[str], inputs: Iterable[str | None]) -> None:
    """Raise when one of ``outputs`` (files the verb writes) is one of ``inputs`` (files it
    reads: the .blend's footage, a plate's depth...): the one check every verb's --out uses.
    Symbolic links are followed; case-insensitive disks compare names without case."""
    given = {os.path.normcase(os.path.realpath(p)): p for p in inputs if p}
    for path in outputs:
        hit = given.get(os.path.normcase(os.path.realpath(path)))
        if hit:
            raise RackFocusError(f"Cannot write {path}: it is this command's input {hit}, "
                                 "which would be lost: choose another --out")


def is_blend_file(path: str) -> bool:
    """Whether ``path`` is an existing .blend (or backup ``.blend1``...), by name or by content:
    a .blend starts with ``BLENDER``, plain or as the first bytes of a zstd frame (Blender 5
    compresses by default; zstd keeps them literal) or of a gzip stream (before 3.0)."""
    if not os.path.isfile(path):
        return False
    if _BLEND_NAME.search(path.lower()):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(64)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                head = f.read(7)
    except (OSError, EOFError):
        return False
    return head.startswith(b"BLENDER") or (head.startswith(b"\x28\xb5\x2f\xfd")
                                           and b"BLENDER" in head)


def check_output_folder(path: str) -> str:
    """Check that ``path`` is (or can be made) a writable folder; returns the absolute path."""
    full = os.path.abspath(path)
    if os.path.exists(full) and not os.path.isdir(full):
        raise RackFocusError(f"Cannot write frames into {path}: it is a file, not a folder")
    _writable_folder(full, path)
    return full


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
    if not sep or min(size) < 4 or max(size) > MAX_RESOLUTION:
        raise RackFocusError(f"Bad resolution '{text}': use WxH, each 4 to {MAX_RESOLUTION} "
                             "pixels, e.g. 640x360")
    return size
