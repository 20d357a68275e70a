"""Helpers that several CLI verbs share: opening and saving files, progress, frame ranges."""

from __future__ import annotations

import os
import sys

from .errors import RackFocusError


def progress_printer(prefix: str = "rackfocus"):
    """A ``(label, done, total)`` callback that prints progress lines on stderr."""
    def report(label: str, done: int, total: int) -> None:
        print(f"{prefix}: {label} {done}/{total}", file=sys.stderr, flush=True)
    return report


def open_blend(path: str | None):
    """Open ``path`` (unless it is the file already loaded) and return the scene."""
    import bpy

    if path:
        full = os.path.abspath(path)
        if not os.path.isfile(full):
            raise RackFocusError(f"No such .blend file: {path}")
        if os.path.abspath(bpy.data.filepath or "") != full:
            try:
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


def save_blend(path: str) -> str:
    """Save the open file to ``path`` with relative paths (farm-safe); returns the absolute path."""
    from .bl.files import save_blend as save

    return save(path)


def parse_frames(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """``'A-B'`` or ``'N'`` to an inclusive frame range."""
    if not text:
        return default
    a, sep, b = text.partition("-")
    try:
        lo = int(a)
        hi = int(b) if sep else lo
    except ValueError:
        raise RackFocusError(f"Bad frame range '{text}': use A-B, e.g. 1-48") from None
    if hi < lo:
        raise RackFocusError(f"Bad frame range '{text}': the end comes before the start")
    return lo, hi


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
