"""Focus marks as text: which subject, at which frame (pure Python).

Grammar of one mark, used by the CLI and stored in the pull record::

    NAME@FRAME              an object
    ARMATURE:BONE@FRAME     a bone's head
    point:X,Y,Z@FRAME       a fixed point in world space (metres)
    px:X,Y@FRAME            the footage on a depth plate at pixel (X, Y), origin top-left
    ...@marker:NAME         the frame of a timeline marker instead of a number (also ``@NAME``)

A mark splits at its last ``@`` outside quotes. A bare (unquoted) name runs up to the next ``:``
or ``@`` and loses surrounding whitespace; for backward compatibility a bare object name may hold
``@`` (``my@obj@4``), and a bare bone or marker name, being last, may hold ``:``.

Names with special characters
-----------------------------
Any name (object, armature, bone, timeline marker) may be written in double quotes, and must be
when it contains ``:``, ``@``, ``"`` or ``\\``, starts or ends with whitespace, or, for an object
or armature, is ``point`` or ``px`` (any case)::

    "Fox:Rig"@40                  the object named Fox:Rig
    "Fox:Rig":"b_Head"@12         bone b_Head of the armature Fox:Rig (``"Fox:Rig":b_Head`` too)
    Cube@marker:"shot 1: start"   at the timeline marker named shot 1: start
    Cube@"line@2"                 at the timeline marker named line@2
    "say \\"hi\\""@3                the object named say "hi"

Inside quotes ``\\"`` is a quote and ``\\\\`` a backslash; every other character, backslashes
before anything else included, stands for itself. A quote opens a quoted name only at the start
of a name (after whitespace); after the closing quote only whitespace, ``:``, ``@`` or the end
may follow. A quoted marker name is a marker even when it looks like a number (``Cube@"12"``).
:func:`quote_name` writes a name this way when it needs it; ``spec()`` uses it, so a spec always
reads back as an equal mark.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RackFocusError
from .frames import frame_range_problem

#: Characters that make a name need quotes anywhere in a mark.
SPECIAL = ':@"\\'
#: Bare object/armature names that would read as a subject prefix (compared case-insensitively).
_PREFIXES = ("point", "px")


def _needs_quotes(name: str, role: str) -> bool:
    """Whether ``name`` must be quoted as an 'object' (or armature), 'bone' or 'marker' name."""
    if not name or name != name.strip() or any(c in SPECIAL for c in name):
        return True
    if role == "object":
        return name.lower() in _PREFIXES
    if role == "marker":
        try:
            float(name)
        except ValueError:
            return False
        return True
    return False


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_name(name: str, role: str = "object") -> str:
    """``name`` as a mark writes it: bare when it reads back unchanged, else in double quotes.

    ``role`` is 'object' (also for an armature), 'bone' or 'marker': a bare ``point`` or ``px``
    is misread only as an object or armature, a bare number only as a marker.
    """
    return _quoted(name) if _needs_quotes(name, role) else name


@dataclass(frozen=True)
class SubjectRef:
    """What a mark focuses on. ``kind`` is 'object', 'bone', 'point' or 'pixel'."""

    kind: str
    name: str = ""
    bone: str = ""
    coords: tuple[float, ...] = ()

    def spec(self) -> str:
        """Canonical text form; equal subjects have equal specs, and it parses back equal."""
        if self.kind == "object":
            return quote_name(self.name)
        if self.kind == "bone":
            return f"{quote_name(self.name)}:{quote_name(self.bone, 'bone')}"
        prefix = "point" if self.kind == "point" else "px"
        return prefix + ":" + ",".join(_exact(c) for c in self.coords)

    def short_name(self) -> str:
        """The name an artist calls the subject by, unquoted: 'Anna', 'b_Head', 'footage 640,360'.
        """
        if self.kind == "object":
            return self.name
        if self.kind == "bone":
            return self.bone
        if self.kind == "point":
            return "a point"
        return "footage " + ",".join(_fmt(c) for c in self.coords)

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
        """Canonical text form, e.g. ``Cube@12`` or ``"Fox:Rig"@marker:"shot 1"``."""
        if self.marker is None:
            when = str(self.frame)
        else:
            when = "marker:" + quote_name(self.marker, "marker")
        return f"{self.subject.spec()}@{when}"


def _fmt(value: float) -> str:
    return f"{value:g}"


def _exact(value: float) -> str:
    """Short like ``_fmt`` when that reads back the same float, else Python's exact repr."""
    short = _fmt(value)
    return short if float(short) == value else repr(float(value))


def _floats(text: str, count: int, what: str, mark: str) -> tuple[float, ...]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != count or any(v != v for v in values):
        raise RackFocusError(f"Mark '{mark}': {what} needs {count} numbers separated by commas")
    return values


# --- scanner ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Field:
    """One name slot between separators: its value (unescaped or stripped) and whether quoted."""

    value: str
    quoted: bool


def _read_quoted(text: str, start: int, mark: str) -> tuple[str, int]:
    """The quoted name opening at ``text[start] == '"'``: its value and the index past it."""
    out = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    raise RackFocusError(f"Mark '{mark}' has an unterminated quote: close the name with '\"' "
                         f"(write \\\" for a quote inside it), e.g. '\"Fox:Rig\"@40'")


def _scan(text: str, mark: str) -> tuple[list[_Field], list[tuple[str, int]]]:
    """Split ``text`` into name fields and the ``:``/``@`` separators between them (outside quotes).

    Returns ``(fields, seps)`` with ``len(fields) == len(seps) + 1``; each separator comes with
    its index in ``text``.
    """
    fields: list[_Field] = []
    seps: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while True:
        j = i
        while j < n and text[j].isspace():
            j += 1
        if j < n and text[j] == '"':
            value, k = _read_quoted(text, j, mark)
            while k < n and text[k].isspace():
                k += 1
            if k < n and text[k] not in ":@":
                raise RackFocusError(
                    f"Mark '{mark}' has text after a closing quote: put the whole name inside "
                    f"the quotes (\\\" for a quote in it), e.g. '\"Fox:Rig\"@40'")
            fields.append(_Field(value, True))
        else:
            k = i
            while k < n and text[k] not in ":@":
                k += 1
            fields.append(_Field(text[i:k].strip(), False))
        if k >= n:
            return fields, seps
        seps.append((text[k], k))
        i = k + 1


# --- parsing ---------------------------------------------------------------------------------

def parse_subject(text: str, mark: str | None = None) -> SubjectRef:
    """Read a subject spec (the part of a mark before ``@``); names may be quoted."""
    mark = mark if mark is not None else text
    fields, seps = _scan(text, mark)
    text = text.strip()
    if not text:
        raise RackFocusError(f"Mark '{mark}' names no subject: use NAME@FRAME")
    low = text.lower()
    if not fields[0].quoted and len(fields) > 1 and seps[0][0] == ":":
        if low.startswith("point:"):
            return SubjectRef("point", coords=_floats(text[6:], 3, "a point", mark))
        if low.startswith("px:"):
            return SubjectRef("pixel", coords=_floats(text[3:], 2, "a pixel", mark))
    if not any(f.quoted for f in fields):
        # All bare: the object name may hold '@' and the bone name ':' (as before quoting).
        name, sep, bone = text.partition(":")
        if sep:
            name, bone = name.strip(), bone.strip()
            if not name or not bone:
                raise RackFocusError(f"Mark '{mark}': a bone is written ARMATURE:BONE@FRAME")
            return SubjectRef("bone", name=name, bone=bone)
        return SubjectRef("object", name=text)
    if any(sep == "@" for sep, _ in seps):
        raise RackFocusError(f"Mark '{mark}': a name with '@' goes inside quotes, "
                             f"e.g. '\"my@obj\"@4'")
    if len(fields) > 2:
        raise RackFocusError(f"Mark '{mark}': a name with ':' goes inside quotes, "
                             f"e.g. '\"Fox:Rig\":\"b:Head\"@12'")
    if any(f.quoted and not f.value for f in fields):
        raise RackFocusError(f"Mark '{mark}' has empty quotes: write the name between them, "
                             f"e.g. '\"Cube\"@12'")
    if len(fields) == 1:
        return SubjectRef("object", name=fields[0].value)
    name, bone = fields
    if not name.value or not bone.value:
        raise RackFocusError(f"Mark '{mark}': a bone is written ARMATURE:BONE@FRAME")
    return SubjectRef("bone", name=name.value, bone=bone.value)


def _parse_when(text: str, ref: SubjectRef, raw: str) -> Mark:
    """The part of a mark after its ``@``: a frame number or a timeline marker."""
    fields, _seps = _scan(text, raw)
    if any(f.quoted for f in fields):
        if len(fields) == 1:
            name = fields[0].value
        elif len(fields) == 2 and not fields[0].quoted and fields[0].value.lower() == "marker":
            name = fields[1].value
        else:
            raise RackFocusError(f"Mark '{raw}': a quoted timeline marker is written "
                                 f"@marker:\"NAME\" or @\"NAME\"")
        if not name:
            raise RackFocusError(f"Mark '{raw}' has empty quotes: write the timeline marker's "
                                 f"name between them, e.g. 'Cube@marker:\"shot 1\"'")
        return Mark(ref, marker=name)
    when = text.strip()
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
    if not number.is_integer():
        raise RackFocusError(f"Mark '{raw}': frames are whole numbers "
                             f"(quote a timeline marker named like a number: @\"{when}\")")
    problem = frame_range_problem(int(number))
    if problem:
        raise RackFocusError(f"Mark '{raw}': frame {int(number)} {problem}")
    return Mark(ref, frame=int(number))


def parse_mark(text: str) -> Mark:
    """Read one mark, e.g. ``'Cube@12'``, ``'Rig:head@marker:line2'``, ``'"Fox:Rig"@40'``."""
    raw = (text or "").strip()
    _fields, seps = _scan(raw, raw)
    ats = [pos for sep, pos in seps if sep == "@"]
    if not ats:
        raise RackFocusError(f"Mark '{raw}' has no frame: write SUBJECT@FRAME, e.g. 'Cube@12'")
    at = ats[-1]
    ref = parse_subject(raw[:at], raw)
    return _parse_when(raw[at + 1:], ref, raw)
