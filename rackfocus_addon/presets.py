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
error names the file, the key and the fix, in the one style shot lists share (:mod:`.validate`:
the same converters, the same ranges as :mod:`.request`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from . import validate as v
from .easing import KINDS, MODES, Easing
from .errors import RackFocusError
from .plan import SPACES
from .request import CLOSE_FOCUS_M, MIN_BLUR_PX, SOFT_BLUR, PullRequest, Realism
from .suggest import did_you_mean

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


# --- the schema: section -> key -> kind (a converter and a hint, as in validate.py) ---------

_SCHEMA: dict[str, dict[str, str]] = {
    "preset": {"name": "text", "description": "text", "sequence": "roles",
               "return_to_start": "bool"},
    "timing": {"unit": "unit", "hold_start": "length", "transition": "length",
               "hold_middle": "length", "hold_end": "length"},
    "easing": {"kind": "kind", "mode": "mode", "space": "space", "overshoot": "overshoot"},
    "lens": {"fstop": "fstop", "fstop_ramp": "fstop_pair", "breathing": "breathing",
             "close_focus_m": "close_focus", "min_blur_px": "min_blur"},
    "tracking": {"hysteresis_diopters": "hysteresis"},
    "reveal": {"soft_blur": "soft_blur"},
}

_REQUIRED = (("preset", "name"), ("preset", "sequence"), ("timing", "transition"))


def _roles(value) -> tuple[str, ...]:
    """A sequence of at least two roles, none repeated twice in a row."""
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise v.Invalid("must be a list of role names")
    bad = [r for r in value if r not in ROLES]
    if bad:
        raise v.Invalid(f"has unknown role '{bad[0]}'", near=did_you_mean(bad[0], ROLES))
    if len(value) < 2:
        raise v.Invalid("needs at least two roles (from where, to where)")
    for a, b in zip(value, value[1:]):
        if a == b:
            raise v.Invalid(f"repeats '{a}' twice in a row (a hold is set by timing, not the "
                            "sequence)")
    return tuple(value)


#: Every kind of value a preset holds. The lens kinds (and their ranges) are the shot list's,
#: so a preset that loads is a request that validates.
_KINDS: dict[str, v.Kind] = {
    **v.LENS_KINDS,
    # Empty text is allowed: a preset without a name takes its file's.
    "text": v.Kind(lambda value: v.text(value, empty=True),
                   "a quoted string, e.g. \"Foreground to Background\""),
    "roles": v.Kind(_roles, f"a list of roles from {', '.join(ROLES)}, e.g. [\"near\", "
                            "\"far\"]"),
    "unit": v.choice_kind(UNITS), "kind": v.choice_kind(KINDS),
    "mode": v.choice_kind(MODES), "space": v.choice_kind(SPACES),
    "length": v.Kind(v.number((0.0, MAX_FRAMES)),
                     f"a number of frames or seconds (0 to {MAX_FRAMES:g} frames or "
                     f"{MAX_SECONDS:g} seconds; the transition more than 0)"),
}


def _read_sections(data: dict, source: str, errors: list[str]) -> dict[str, object]:
    """Every known key of ``data`` converted ('section.key' -> value); problems to ``errors``."""
    values: dict[str, object] = {}
    for section, body in data.items():
        if section not in _SCHEMA:
            errors.append(f"{source}: unknown section [{section}]: use one of "
                          f"{', '.join('[' + s + ']' for s in _SCHEMA)}"
                          f"{did_you_mean(section, _SCHEMA)}")
            continue
        if not isinstance(body, dict):
            errors.append(f"{source}: '{section}' must be a section: write [{section}] on its "
                          "own line with its keys below")
            continue
        allowed = _SCHEMA[section]
        for name, value in body.items():
            key = f"{section}.{name}"
            if name not in allowed:
                errors.append(v.unknown_key(source, key, allowed,
                                            f"[{section}] takes {', '.join(allowed)}"))
                continue
            ok, converted = v.check(_KINDS[allowed[name]], value, source, key, errors)
            if ok:
                values[key] = converted
    return values


def _cross_rules(data: dict, values: dict[str, object], source: str, errors: list[str]) -> None:
    """Rules between keys: required keys, a transition that takes time, holds in seconds no
    longer than :data:`MAX_SECONDS`, overshoot only with BACK easing."""
    hint = _KINDS["length"].hint
    if values.get("timing.transition") == 0.0:
        errors.append(v.problem_line(source, "timing.transition",
                                     v.Invalid("is 0: a pull needs time"), hint))
    if values.get("timing.unit") == "seconds":
        for key in ("timing.hold_start", "timing.transition", "timing.hold_middle",
                    "timing.hold_end"):
            if values.get(key, 0.0) > MAX_SECONDS:
                errors.append(v.problem_line(source, key, v.Invalid(
                    f"is {values[key]:g} seconds, longer than {MAX_SECONDS:g}"), hint))
    for section, name in _REQUIRED:
        body = data.get(section)
        if not isinstance(body, dict) or name not in body:
            errors.append(f"{source}: missing key '{section}.{name}': add it under [{section}] "
                          f"({_KINDS[_SCHEMA[section][name]].hint})")
    if values.get("easing.overshoot", 0.0) > 0.0 and values.get("easing.kind", "back") != "back":
        errors.append(f"{source}: key 'easing.overshoot' needs kind = \"back\" (the overshoot "
                      "is Blender's BACK easing): remove 'easing.kind' or set it to \"back\"")


def parse_preset(text: str, source: str = "<preset>", key: str | None = None,
                 user: bool = False) -> tuple[Preset | None, list[str]]:
    """Read preset TOML ``text``: (preset, []) or (None, errors). Never raises.

    Each error reads ``SOURCE: key 'section.name' PROBLEM: use FIX`` (:mod:`.validate`).
    """
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as err:
        return None, [f"{source}: not valid TOML ({err}): fix the syntax at that line"]
    errors: list[str] = []
    values = _read_sections(data, source, errors)
    _cross_rules(data, values, source, errors)
    if errors:
        return None, errors
    return _build_preset(values, source, key, user), []


def _build_preset(values: dict[str, object], source: str, key: str | None,
                  user: bool) -> Preset:
    """The :class:`Preset` of checked ``values`` ('section.key' -> value), defaults filled."""
    get = values.get
    realism = Realism(
        fstop=get("lens.fstop"), fstop_ramp=get("lens.fstop_ramp"),
        breathing=get("lens.breathing", 0.0),
        close_focus_m=get("lens.close_focus_m", CLOSE_FOCUS_M),
        overshoot=get("easing.overshoot", 0.0),
        hysteresis_diopters=get("tracking.hysteresis_diopters", 0.0),
        soft_blur=get("reveal.soft_blur", SOFT_BLUR),
    )
    unit = get("timing.unit", "frames")
    # A hold left out is half a second: 12 frames, or 0.5 in seconds.
    default_hold = 0.5 if unit == "seconds" else 12.0
    timing = Timing(unit=unit, transition=values["timing.transition"], **{
        name: get(f"timing.{name}", default_hold)
        for name in ("hold_start", "hold_middle", "hold_end")})
    stem = key or os.path.splitext(os.path.basename(source))[0]
    name = values["preset.name"]
    return Preset(
        name=name if name.strip() else stem, key=stem, sequence=values["preset.sequence"],
        description=get("preset.description", ""),
        return_to_start=get("preset.return_to_start", False), timing=timing,
        easing_kind=get("easing.kind", "back" if realism.overshoot else "sine"),
        easing_mode=get("easing.mode", "in-out"), space=get("easing.space", "diopter"),
        realism=realism, min_blur_px=get("lens.min_blur_px", MIN_BLUR_PX),
        path="" if source.startswith("<") else source, user=user,
    )


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
        raise RackFocusError(f"No preset named '{name}': presets are "
                             f"{', '.join(known) or 'none'}{did_you_mean(wanted, known)}")
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
