"""Pull presets: TOML data files, validated on load (pure Python, ``tomllib``).

A preset says *how* a pull moves, never *what* it looks at: the order of roles (``first``,
``second`` as the artist listed the subjects; ``near``, ``far`` by depth at the pull's start;
``soft``, a focus in front of the next subject that leaves it unreadably soft), the timing (holds
and transition in frames or seconds), the easing, the interpolation space and the optional realism
(f-stop ramp, focus breathing, overshoot and settle, hysteresis). A file looks like::

    [preset]
    name = "Foreground to Background"
    description = "Start on the near subject, rack to the far one."
    sequence = ["near", "far"]

    [timing]
    unit = "seconds"        # or "frames"
    hold_start = 0.5
    transition = 1.0
    hold_end = 0.5

    [easing]
    kind = "sine"
    mode = "in-out"
    space = "diopter"

Loading never raises for a bad file: :func:`parse_preset` returns ``(preset, errors)`` and each
error names the file, the key and the fix, the way Blender's extension validator reports.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from .easing import KINDS, MODES, Easing
from .errors import RackFocusError
from .plan import SPACES
from .request import (
    BREATHING_RANGE,
    CLOSE_FOCUS_M,
    CLOSE_FOCUS_RANGE,
    FSTOP_RANGE,
    HYSTERESIS_RANGE,
    MIN_BLUR_PX,
    MIN_BLUR_RANGE,
    OVERSHOOT_RANGE,
    SOFT_BLUR,
    SOFT_BLUR_RANGE,
    PullRequest,
    Realism,
)
from .suggest import close_names

ROLES = ("first", "second", "near", "far", "soft")
UNITS = ("frames", "seconds")

#: Folder of the presets shipped with the extension (``presets/`` at the extension root).
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets")

#: Longest hold or transition a preset may ask for (seconds): 10 minutes is no longer a pull.
MAX_SECONDS = 600.0
#: The same in frames (10 minutes at 120 fps).
MAX_FRAMES = 72000.0


@dataclass(frozen=True)
class Timing:
    """Holds and transition lengths, in ``unit`` ('frames' or 'seconds')."""

    unit: str = "frames"
    hold_start: float = 12.0
    transition: float = 24.0
    hold_middle: float = 12.0
    hold_end: float = 12.0

    def frames(self, value: float, fps: float) -> int:
        """``value`` of this timing's unit in whole frames (seconds are rounded)."""
        if self.unit == "seconds":
            return int(round(value * fps))
        return int(round(value))


@dataclass(frozen=True)
class Preset:
    """A validated pull preset (see the module docstring)."""

    name: str
    key: str
    sequence: tuple[str, ...]
    description: str = ""
    return_to_start: bool = False
    timing: Timing = field(default_factory=Timing)
    easing_kind: str = "sine"
    easing_mode: str = "in-out"
    space: str = "diopter"
    realism: Realism = field(default_factory=Realism)
    min_blur_px: float = MIN_BLUR_PX
    path: str = ""
    user: bool = False

    @property
    def roles(self) -> tuple[str, ...]:
        """The full role order, with the return to the first role when ``return_to_start``."""
        if self.return_to_start and self.sequence[-1] != self.sequence[0]:
            return self.sequence + (self.sequence[0],)
        return self.sequence

    def easing(self) -> Easing:
        """The transition easing; an overshoot turns it into BACK with the solved overshoot."""
        return self.configure(PullRequest(())).easing

    def configure(self, request: PullRequest) -> PullRequest:
        """``request`` with this preset's easing, space, realism and readable blur.

        The marks are left alone: turning subjects into timed marks needs their depths (see
        ``bl.presets.preset_marks``).
        """
        return replace(
            request, easing=Easing(self.easing_kind, self.easing_mode), space=self.space,
            realism=self.realism,
            readability=replace(request.readability, min_blur_px=self.min_blur_px),
        ).with_overshoot()

    def needs_two_subjects(self) -> bool:
        named = {r for r in self.roles if r != "soft"}
        return len(named) > 1

    def schedule(self, fps: float) -> list[tuple[str, int]]:
        """Marks as (role, frame offset from the pull's start): holds and transitions in order."""
        t = self.timing
        hold_start = t.frames(t.hold_start, fps)
        hold_middle = t.frames(t.hold_middle, fps)
        hold_end = t.frames(t.hold_end, fps)
        transition = max(1, t.frames(t.transition, fps))
        roles = self.roles
        out = [(roles[0], 0)]
        frame = 0
        if hold_start > 0:
            frame += hold_start
            out.append((roles[0], frame))
        for i, role in enumerate(roles[1:], start=1):
            frame += transition
            out.append((role, frame))
            hold = hold_end if i == len(roles) - 1 else hold_middle
            if hold > 0:
                frame += hold
                out.append((role, frame))
        return out

    def to_toml(self) -> str:
        """The preset as a TOML file that :func:`parse_preset` reads back unchanged."""
        return dump_preset(self)


# --- the schema: section -> key -> (type check, description of the fix) ---------------------

def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


_SCHEMA: dict[str, dict[str, str]] = {
    "preset": {"name": "text", "description": "text", "sequence": "roles",
               "return_to_start": "bool"},
    "timing": {"unit": "unit", "hold_start": "length", "transition": "length",
               "hold_middle": "length", "hold_end": "length"},
    "easing": {"kind": "kind", "mode": "mode", "space": "space", "overshoot": "fraction"},
    "lens": {"fstop": "fstop", "fstop_ramp": "fstop_pair", "breathing": "breathing",
             "close_focus_m": "distance", "min_blur_px": "blur"},
    "tracking": {"hysteresis_diopters": "diopters"},
    "reveal": {"soft_blur": "fraction"},
}

#: Accepted values of each numeric kind: the request's own ranges, so a preset that loads is a
#: request that validates.
RANGES: dict[str, tuple[float, float]] = {
    "length": (0.0, MAX_FRAMES),
    "fraction": (max(OVERSHOOT_RANGE[0], SOFT_BLUR_RANGE[0]),
                 min(OVERSHOOT_RANGE[1], SOFT_BLUR_RANGE[1])),
    "fstop": FSTOP_RANGE, "breathing": BREATHING_RANGE, "distance": CLOSE_FOCUS_RANGE,
    "blur": MIN_BLUR_RANGE, "diopters": HYSTERESIS_RANGE,
}

_REQUIRED = (("preset", "name"), ("preset", "sequence"), ("timing", "transition"))

_HINT = {
    "text": "a quoted string, e.g. \"Foreground to Background\"",
    "roles": f"a list of roles from {', '.join(ROLES)}, e.g. [\"near\", \"far\"]",
    "bool": "true or false",
    "unit": "\"frames\" or \"seconds\"",
    "length": "a number of frames or seconds (0 or more; the transition more than 0)",
    "kind": f"one of {', '.join(KINDS)}",
    "mode": f"one of {', '.join(MODES)}",
    "space": f"one of {', '.join(SPACES)}",
    "fraction": "a number from 0 to 0.5, e.g. 0.05",
    "fstop": "an f-number from 0.5 to 128, e.g. 2.8",
    "fstop_pair": "two f-numbers [from, to], each 0.5 to 128, e.g. [2.8, 1.4]",
    "breathing": "a fraction from -0.2 to 0.2, e.g. 0.02 for 2 % longer at close focus",
    "distance": "a distance in metres from 0.01 to 100, e.g. 0.45",
    "blur": "a blur in pixels from 0.5 to 500, e.g. 4",
    "diopters": "a dead band in diopters from 0 to 2, e.g. 0.02",
}


def _check(kind: str, value) -> str | None:
    """None if ``value`` is valid for ``kind``, else what is wrong (without the fix)."""
    if kind == "text":
        return None if isinstance(value, str) else "must be text"
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "roles":
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            return "must be a list of role names"
        bad = [r for r in value if r not in ROLES]
        if bad:
            return f"has unknown role '{bad[0]}'"
        if len(value) < 2:
            return "needs at least two roles (from where, to where)"
        for a, b in zip(value, value[1:]):
            if a == b:
                return f"repeats '{a}' twice in a row (a hold is set by timing, not the sequence)"
        return None
    if kind in ("unit", "kind", "mode", "space"):
        allowed = {"unit": UNITS, "kind": KINDS, "mode": MODES, "space": SPACES}[kind]
        if not isinstance(value, str):
            return "must be text"
        return None if value in allowed else f"is '{value}', which is not allowed"
    if kind == "fstop_pair":
        if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
            return "must be a list of two numbers"
        lo, hi = FSTOP_RANGE
        return None if all(lo <= v <= hi for v in value) else f"is {value}, out of range"
    if not _is_number(value):
        return f"must be a number, not {type(value).__name__}"
    lo, hi = RANGES[kind]
    return None if lo <= value <= hi else f"is {value}, out of range"


def _suggest(word: str, options: Iterable[str]) -> str:
    close = close_names(word, options, most=1)
    return f"did you mean '{close[0]}'? " if close else ""


def parse_preset(text: str, source: str = "<preset>", key: str | None = None,
                 user: bool = False) -> tuple[Preset | None, list[str]]:
    """Read preset TOML ``text``: (preset, []) or (None, errors). Never raises.

    Each error reads ``SOURCE: key 'section.name' PROBLEM: FIX``.
    """
    errors: list[str] = []
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as err:
        return None, [f"{source}: not valid TOML ({err}): fix the syntax at that line"]
    for section, body in data.items():
        if section not in _SCHEMA:
            errors.append(
                f"{source}: unknown section [{section}]: {_suggest(section, _SCHEMA)}"
                f"use one of {', '.join('[' + s + ']' for s in _SCHEMA)}"
            )
            continue
        if not isinstance(body, dict):
            errors.append(f"{source}: '{section}' must be a section: write [{section}] on its "
                          "own line with its keys below")
            continue
        allowed = _SCHEMA[section]
        for name, value in body.items():
            if name not in allowed:
                errors.append(
                    f"{source}: unknown key '{section}.{name}': {_suggest(name, allowed)}"
                    f"[{section}] takes {', '.join(allowed)}"
                )
                continue
            kind = allowed[name]
            problem = _check(kind, value)
            if problem is None and section == "timing" and name == "transition" and value <= 0:
                problem = "is 0: a pull needs time"
            if problem is None and section == "timing" and name != "unit":
                unit = body.get("unit", "frames")
                if unit == "seconds" and value > MAX_SECONDS:
                    problem = f"is {value} seconds, longer than {MAX_SECONDS:g}"
            if problem is not None:
                errors.append(f"{source}: key '{section}.{name}' {problem}: use {_HINT[kind]}")
    for section, name in _REQUIRED:
        body = data.get(section)
        if not isinstance(body, dict) or name not in body:
            errors.append(f"{source}: missing key '{section}.{name}': add it under [{section}] "
                          f"({_HINT[_SCHEMA[section][name]]})")
    if errors:
        return None, errors

    p, t, e = data["preset"], data.get("timing", {}), data.get("easing", {})
    lens, track, reveal = data.get("lens", {}), data.get("tracking", {}), data.get("reveal", {})
    ramp = lens.get("fstop_ramp")
    realism = Realism(
        fstop=float(lens["fstop"]) if "fstop" in lens else None,
        fstop_ramp=(float(ramp[0]), float(ramp[1])) if ramp else None,
        breathing=float(lens.get("breathing", 0.0)),
        close_focus_m=float(lens.get("close_focus_m", CLOSE_FOCUS_M)),
        overshoot=float(e.get("overshoot", 0.0)),
        hysteresis_diopters=float(track.get("hysteresis_diopters", 0.0)),
        soft_blur=float(reveal.get("soft_blur", SOFT_BLUR)),
    )
    unit = t.get("unit", "frames")
    # A hold left out is half a second: 12 frames, or 0.5 in seconds.
    default_hold = 0.5 if unit == "seconds" else 12.0
    timing = Timing(
        unit=unit,
        hold_start=float(t.get("hold_start", default_hold)),
        transition=float(t["transition"]),
        hold_middle=float(t.get("hold_middle", default_hold)),
        hold_end=float(t.get("hold_end", default_hold)),
    )
    if realism.overshoot > 0.0 and e.get("kind", "back") != "back":
        return None, [f"{source}: key 'easing.overshoot' needs kind = \"back\" (the overshoot is "
                      f"Blender's BACK easing): remove 'easing.kind' or set it to \"back\""]
    stem = key or os.path.splitext(os.path.basename(source))[0]
    return Preset(
        name=p["name"] if p["name"].strip() else stem, key=stem, sequence=tuple(p["sequence"]),
        description=p.get("description", ""), return_to_start=p.get("return_to_start", False),
        timing=timing, easing_kind=e.get("kind", "back" if realism.overshoot else "sine"),
        easing_mode=e.get("mode", "in-out"), space=e.get("space", "diopter"),
        realism=realism, min_blur_px=float(lens.get("min_blur_px", MIN_BLUR_PX)),
        path="" if source.startswith("<") else source, user=user,
    ), []


def load_preset(path: str, user: bool = False) -> Preset:
    """Read and validate one preset file; raises :class:`RackFocusError` with every problem."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        raise RackFocusError(f"{path}: cannot read the preset ({err})") from None
    preset, errors = parse_preset(text, path, user=user)
    if errors:
        raise RackFocusError("; ".join(errors))
    return preset


def discover(folders: Iterable[tuple[str, bool]]) -> tuple[list[Preset], list[str]]:
    """Every ``*.toml`` preset in ``folders`` ((path, is_user) pairs): (presets, errors).

    A user preset with the same key as a shipped one is listed after it (both are kept; the user's
    wins in :func:`find`). Bad files are reported in ``errors`` and skipped.
    """
    presets: list[Preset] = []
    errors: list[str] = []
    for folder, user in folders:
        if not folder or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".toml"):
                continue
            try:
                presets.append(load_preset(os.path.join(folder, name), user=user))
            except RackFocusError as err:
                errors.append(str(err))
    return presets, errors


def shipped_presets() -> list[Preset]:
    """The presets in the extension's ``presets/`` folder (raises if one of them is bad)."""
    presets, errors = discover([(SHIPPED_DIR, False)])
    if errors:
        raise RackFocusError("; ".join(errors))
    return presets


def find(presets: Iterable[Preset], name: str) -> Preset:
    """The preset whose key or name is ``name`` (case-insensitive); user presets win."""
    wanted = name.strip().lower()
    hits = [p for p in presets if wanted in (p.key.lower(), p.name.lower())]
    if not hits:
        known = sorted({p.key for p in presets})
        raise RackFocusError(f"No preset named '{name}': {_suggest(wanted, known)}"
                             f"presets are {', '.join(known) or 'none'}")
    hits.sort(key=lambda p: p.user)
    return hits[-1]


def slug(name: str) -> str:
    """A file-name-safe key for a preset name ('My Pull!' -> 'my_pull')."""
    out = "".join(c if c.isalnum() else "_" for c in name.strip().lower())
    out = "_".join(part for part in out.split("_") if part)
    return out or "preset"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A TOML basic string: escape the backslash, the quote and every control character.
        return '"' + "".join(
            "\\\\" if c == "\\" else '\\"' if c == '"'
            else f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c
            for c in value) + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(float(value)) if isinstance(value, float) else str(value)


def dump_preset(preset: Preset) -> str:
    """TOML text for ``preset`` (the form user presets are saved in)."""
    r = preset.realism
    t = asdict(preset.timing)
    sections = [
        ("preset", {"name": preset.name, "description": preset.description,
                    "sequence": list(preset.sequence),
                    "return_to_start": preset.return_to_start}),
        ("timing", t),
        ("easing", {"kind": preset.easing_kind, "mode": preset.easing_mode,
                    "space": preset.space, "overshoot": r.overshoot}),
        ("lens", {k: v for k, v in (("fstop", r.fstop),
                                    ("fstop_ramp", list(r.fstop_ramp) if r.fstop_ramp else None),
                                    ("breathing", r.breathing),
                                    ("close_focus_m", r.close_focus_m),
                                    ("min_blur_px", preset.min_blur_px)) if v is not None}),
        ("tracking", {"hysteresis_diopters": r.hysteresis_diopters}),
        ("reveal", {"soft_blur": r.soft_blur}),
    ]
    lines = []
    for section, body in sections:
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in body.items())
        lines.append("")
    return "\n".join(lines)
