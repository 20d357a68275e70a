"""Focus marks as text: which subject, at which frame (pure Python).

Grammar of one mark, used by the CLI and stored in the pull record::

    NAME@FRAME              an object
    ARMATURE:BONE@FRAME     a bone's head
    point:X,Y,Z@FRAME       a fixed point in world space (metres)
    px:X,Y@FRAME            the footage on a depth plate at pixel (X, Y), origin top-left
    ...@marker:NAME         the frame of a timeline marker instead of a number (also ``@NAME``)
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RackFocusError


@dataclass(frozen=True)
class SubjectRef:
    """What a mark focuses on. ``kind`` is 'object', 'bone', 'point' or 'pixel'."""

    kind: str
    name: str = ""
    bone: str = ""
    coords: tuple[float, ...] = ()

    def spec(self) -> str:
        """Canonical text form; equal subjects have equal specs."""
        if self.kind == "object":
            return self.name
        if self.kind == "bone":
            return f"{self.name}:{self.bone}"
        prefix = "point" if self.kind == "point" else "px"
        return prefix + ":" + ",".join(_fmt(c) for c in self.coords)

    def label(self) -> str:
        """A short human name for messages and descriptions."""
        if self.kind == "object":
            return f"'{self.name}'"
        if self.kind == "bone":
            return f"bone '{self.bone}' of '{self.name}'"
        if self.kind == "point":
            return "point (" + ", ".join(_fmt(c) for c in self.coords) + ")"
        return "pixel (" + ", ".join(_fmt(c) for c in self.coords) + ")"


@dataclass(frozen=True)
class Mark:
    """A focus mark: ``subject`` is in focus at ``frame`` (or at the timeline marker ``marker``)."""

    subject: SubjectRef
    frame: int | None = None
    marker: str | None = None

    def spec(self) -> str:
        when = str(self.frame) if self.marker is None else f"marker:{self.marker}"
        return f"{self.subject.spec()}@{when}"


def _fmt(value: float) -> str:
    return f"{value:g}"


def _floats(text: str, count: int, what: str, mark: str) -> tuple[float, ...]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != count or any(v != v for v in values):
        raise RackFocusError(f"Mark '{mark}': {what} needs {count} numbers separated by commas")
    return values


def parse_subject(text: str, mark: str | None = None) -> SubjectRef:
    """Read a subject spec (the part of a mark before ``@``)."""
    mark = mark if mark is not None else text
    text = text.strip()
    if not text:
        raise RackFocusError(f"Mark '{mark}' names no subject: use NAME@FRAME")
    low = text.lower()
    if low.startswith("point:"):
        return SubjectRef("point", coords=_floats(text[6:], 3, "a point", mark))
    if low.startswith("px:"):
        return SubjectRef("pixel", coords=_floats(text[3:], 2, "a pixel", mark))
    name, sep, bone = text.partition(":")
    if sep:
        if not name or not bone:
            raise RackFocusError(f"Mark '{mark}': a bone is written ARMATURE:BONE@FRAME")
        return SubjectRef("bone", name=name, bone=bone)
    return SubjectRef("object", name=text)


def parse_mark(text: str) -> Mark:
    """Read one mark, e.g. ``'Cube@12'``, ``'Rig:head@marker:line2'``, ``'px:640,360@1'``."""
    raw = (text or "").strip()
    subject, sep, when = raw.rpartition("@")
    if not sep:
        raise RackFocusError(f"Mark '{raw}' has no frame: write SUBJECT@FRAME, e.g. 'Cube@12'")
    when = when.strip()
    ref = parse_subject(subject, raw)
    if when.lower().startswith("marker:"):
        name = when[7:].strip()
        if not name:
            raise RackFocusError(f"Mark '{raw}': 'marker:' needs a timeline marker name")
        return Mark(ref, marker=name)
    try:
        number = float(when)
    except ValueError:
        if not when:
            raise RackFocusError(f"Mark '{raw}' has no frame after '@'") from None
        return Mark(ref, marker=when)
    if number != int(number):
        raise RackFocusError(f"Mark '{raw}': frames are whole numbers")
    return Mark(ref, frame=int(number))
