"""Blender-style frame lists such as ``1,12,40-48`` (pure Python, no bpy).

Units are frames: whole numbers on the scene's timeline, as Blender numbers them (not seconds,
not counts from the scene start). A list is comma-separated items, each a frame ``N`` or an
inclusive range ``A-B`` with ``A <= B``; whitespace around items and around a range's ``-`` is
allowed, and frames may be negative (``-3--1`` is -3, -2, -1; ``-5-3`` is -5 to 3).

Every frame must lie in Blender's frame range, ``MIN_FRAME``..``MAX_FRAME`` (-1048574..1048574,
Blender's ``MINAFRAME``/``MAXFRAME``). :func:`parse_frame_list` returns the frames sorted and
without repeats; :func:`format_frame_list` writes such a list back, collapsing runs of
consecutive frames into ranges.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import RackFocusError

#: Blender's frame limits (``MINAFRAME`` and ``MAXFRAME``), inclusive.
MIN_FRAME = -1048574
MAX_FRAME = 1048574

_FIX = "use A-B or N, separated by commas, e.g. 1,12,40-48"
_ITEM = re.compile(r"(-?[0-9]+)(?:\s*-\s*(-?[0-9]+))?")


def _bad(item: str, why: str) -> RackFocusError:
    return RackFocusError(f"Frame list item '{item}' {why}: {_FIX}")


def _frame(digits: str, item: str) -> int:
    # Long digit strings are out of range anyway (and int() refuses very long ones).
    value = int(digits) if len(digits) <= 16 else None
    if value is None or not MIN_FRAME <= value <= MAX_FRAME:
        raise _bad(item, f"has a frame outside Blender's frame range {MIN_FRAME}..{MAX_FRAME}")
    return value


def frame_range_problem(frame: int) -> str | None:
    """None if ``frame`` is a frame Blender can hold, else why not (naming the limits).

    The one rule for every frame the engine accepts: marks, timeline-marker frames, lists.
    """
    if MIN_FRAME <= frame <= MAX_FRAME:
        return None
    return (f"is outside Blender's frame range {MIN_FRAME}..{MAX_FRAME}: "
            f"use a frame in that range")


def parse_frame_list(text: str) -> list[int]:
    """Frames of a list like ``'1,12,40-48'``: sorted, unique; raises RackFocusError if bad."""
    frames: set[int] = set()
    for part in (text or "").split(","):
        item = part.strip()
        if not item:
            raise RackFocusError(f"Frame list '{(text or '').strip()}' has an empty item: {_FIX}")
        match = _ITEM.fullmatch(item)
        if match is None:
            raise _bad(item, "is not a frame or a range of whole frames")
        start = _frame(match.group(1), item)
        end = start if match.group(2) is None else _frame(match.group(2), item)
        if end < start:
            raise _bad(item, f"ends before it starts (write {end}-{start})")
        frames.update(range(start, end + 1))
    return sorted(frames)


def format_frame_list(frames: Iterable[int]) -> str:
    """``frames`` as a list :func:`parse_frame_list` reads back: ``[1, 2, 3, 7]`` -> ``'1-3,7'``.

    Sorts and drops repeats; an empty input gives ``''``.
    """
    items: list[str] = []
    ordered = sorted({int(f) for f in frames})
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        items.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(items)
