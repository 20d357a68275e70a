"""One way to check TOML data (presets, shot lists): a schema maps each key to a :class:`Kind`, a
kind holds one converter and one hint (pure Python).

A converter returns the value converted or raises :class:`Invalid` saying what is wrong; the
parser collects every problem of a file (:func:`check`) and reports each as
``SOURCE: key 'KEY' PROBLEM: use HINT``, so nothing runs until the whole file is right. Numeric
ranges are the request's (:mod:`.request`) and the plate's (:mod:`.depth`) and the hints are
written from them: a value that loads is a value the engine accepts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from . import depth as depth_maths
from .errors import RackFocusError
from .request import (
    BREATHING_RANGE,
    CLOSE_FOCUS_RANGE,
    FSTOP_RANGE,
    HYSTERESIS_RANGE,
    MIN_BLUR_RANGE,
    OVERSHOOT_RANGE,
    SOFT_BLUR_RANGE,
)
from .suggest import did_you_mean

#: The numeric kinds both schemas use, with the engine's own ranges (units in the hints).
RANGES: dict[str, tuple[float, float]] = {
    "fstop": FSTOP_RANGE, "breathing": BREATHING_RANGE, "close_focus": CLOSE_FOCUS_RANGE,
    "overshoot": OVERSHOOT_RANGE, "hysteresis": HYSTERESIS_RANGE, "soft_blur": SOFT_BLUR_RANGE,
    "min_blur": MIN_BLUR_RANGE, "depth_m": depth_maths.DEPTH_RANGE_M,
    "sensor": depth_maths.SENSOR_RANGE_MM, "focal": depth_maths.FOCAL_RANGE_MM,
    "density": depth_maths.DENSITY_RANGE, "tear": depth_maths.TEAR_RANGE,
    "fps": depth_maths.FPS_RANGE, "fill_px": depth_maths.FILL_PX_RANGE,
}


class Invalid(Exception):
    """What is wrong with one value.

    ``fix`` False: the text already says what to write (the hint is left out). ``item`` the
    1-based list item at fault (reported as ``key[item]``). ``near`` a "did you mean" ending.
    """

    def __init__(self, text: str, fix: bool = True, item: int | None = None,
                 near: str = "") -> None:
        super().__init__(text)
        self.text, self.fix, self.item, self.near = text, fix, item, near


class InvalidItems(Exception):
    """Several problems with one value, one per list item."""

    def __init__(self, problems: list[Invalid]) -> None:
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Kind:
    """How one kind of value is read: ``convert`` (raises :class:`Invalid`) and ``hint``, what
    to write instead ("an f-number from 0.5 to 128, e.g. 2.8")."""

    convert: Callable[[object], object]
    hint: str


def problem_line(where: str, key: str, bad: Invalid, hint: str) -> str:
    """``WHERE: key 'KEY' PROBLEM: use HINT`` (or ``WHERE: key 'KEY': PROBLEM`` when the problem
    says its own fix), ending with the suggestion if any."""
    if bad.item is not None:
        key = f"{key}[{bad.item}]"
    if bad.fix:
        return f"{where}: key '{key}' {bad.text}: use {hint}{bad.near}"
    return f"{where}: key '{key}': {bad.text}{bad.near}"


def check(kind: Kind, value, where: str, key: str, errors: list[str]) -> tuple[bool, object]:
    """``(True, converted value)``, or ``(False, None)`` with every problem of ``value``
    appended to ``errors`` (one line each)."""
    try:
        return True, kind.convert(value)
    except Invalid as bad:
        errors.append(problem_line(where, key, bad, kind.hint))
    except InvalidItems as many:
        errors.extend(problem_line(where, key, bad, kind.hint) for bad in many.problems)
    return False, None


def unknown_key(where: str, key: str, allowed: Iterable[str], takes: str,
                what: str = "key") -> str:
    """``WHERE: unknown key 'KEY': TAKES; did you mean 'X'?`` (the one wording of every
    schema). A dotted ``key`` ('render.sampels') is matched by its last part."""
    word = key.rpartition(".")[2]
    return f"{where}: unknown {what} '{key}': {takes}{did_you_mean(word, allowed)}"


# --- converters ------------------------------------------------------------------------------

def is_number(v) -> bool:
    """A finite int or float (TOML's true/false are not numbers here)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def type_name(v) -> str:
    """How TOML calls ``v``'s type, for 'must be X, not Y'."""
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a table"}.get(type(v), type(v).__name__)


def span(bounds: tuple[float, float]) -> str:
    """'from LO to HI' for a range."""
    lo, hi = bounds
    return f"from {lo:g} to {hi:g}"


def text(v, empty: bool = False) -> str:
    """A string (an empty one only when ``empty``)."""
    if not isinstance(v, str):
        raise Invalid(f"must be text, not {type_name(v)}")
    if not empty and not v.strip():
        raise Invalid("is empty")
    return v


def boolean(v) -> bool:
    if not isinstance(v, bool):
        raise Invalid(f"must be true or false, not {type_name(v)}")
    return v


def string_list(v) -> list[str]:
    """A non-empty list of strings."""
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise Invalid("must be a list of quoted strings")
    if not v:
        raise Invalid("is an empty list")
    return v


def choice(options: Sequence[str]) -> Callable[[object], str]:
    """A converter accepting one of ``options``, suggesting the closest on a typo."""
    def convert(v) -> str:
        word = text(v)
        if word not in options:
            raise Invalid(f"is '{word}'", near=did_you_mean(word, options))
        return word
    return convert


def number(bounds: tuple[float, float]) -> Callable[[object], float]:
    """A converter accepting a finite number within ``bounds`` (inclusive), as a float."""
    lo, hi = bounds

    def convert(v) -> float:
        if not is_number(v):
            raise Invalid(f"must be a number, not {type_name(v)}")
        if not lo <= v <= hi:
            raise Invalid(f"is {v:g}, out of range")
        return float(v)
    return convert


def whole(bounds: tuple[float, float]) -> Callable[[object], int]:
    """A converter accepting a whole number within ``bounds`` (inclusive)."""
    lo, hi = bounds

    def convert(v) -> int:
        if not isinstance(v, int) or isinstance(v, bool):
            raise Invalid(f"must be a whole number, not {type_name(v)}")
        if not lo <= v <= hi:
            raise Invalid(f"is {v}, out of range")
        return v
    return convert


def number_pair(bounds: tuple[float, float]) -> Callable[[object], tuple[float, float]]:
    """A converter accepting [a, b], both within ``bounds``, as a tuple of floats."""
    lo, hi = bounds

    def convert(v) -> tuple[float, float]:
        if not (isinstance(v, list) and len(v) == 2 and all(map(is_number, v))):
            raise Invalid("must be a list of two numbers")
        if not all(lo <= x <= hi for x in v):
            raise Invalid(f"is {v}, out of range")
        return (float(v[0]), float(v[1]))
    return convert


def each(parse: Callable[[str], object]) -> Callable[[object], tuple]:
    """A converter of a list of strings, each read by ``parse`` (which raises
    :class:`RackFocusError`); every bad item is reported, naming its place."""
    def convert(v) -> tuple:
        out, bad = [], []
        for i, item in enumerate(string_list(v), start=1):
            try:
                out.append(parse(item))
            except RackFocusError as err:
                bad.append(Invalid(str(err), fix=False, item=i))
        if bad:
            raise InvalidItems(bad)
        return tuple(out)
    return convert


def parsed(parse: Callable[[str], object]) -> Callable[[object], object]:
    """A converter of one string read by ``parse`` (whose error says its own fix)."""
    def convert(v):
        try:
            return parse(text(v))
        except RackFocusError as err:
            raise Invalid(str(err), fix=False) from None
    return convert


def ranged(kind: str, what: str, example: str) -> Kind:
    """The numeric kind ``kind`` of :data:`RANGES`: its hint reads 'WHAT from LO to HI, e.g.
    EXAMPLE'."""
    return Kind(number(RANGES[kind]), f"{what} {span(RANGES[kind])}, e.g. {example}")


#: The lens keys presets and shot lists share (``[lens]``, ``[easing]``, ``[tracking]``,
#: ``[reveal]`` in a preset; ``[shot.lens]`` in a shot list).
LENS_KINDS: dict[str, Kind] = {
    "fstop": ranged("fstop", "an f-number", "2.8"),
    "fstop_pair": Kind(number_pair(FSTOP_RANGE),
                       f"two f-numbers [from, to], each {span(FSTOP_RANGE)}, e.g. [2.8, 1.4]"),
    "breathing": ranged("breathing", "a fraction",
                        "0.02 for 2 % longer at close focus"),
    "close_focus": ranged("close_focus", "metres", "0.45"),
    "overshoot": ranged("overshoot", "a fraction of the move", "0.06"),
    "hysteresis": ranged("hysteresis", "diopters", "0.02"),
    "soft_blur": ranged("soft_blur", "a fraction of the frame width", "0.04"),
    "min_blur": ranged("min_blur", "pixels", "4"),
    "bool": Kind(boolean, "true or false"),
}


def choice_kind(options: Sequence[str]) -> Kind:
    """A kind accepting one of ``options`` (the hint lists them)."""
    return Kind(choice(options), "one of " + ", ".join(f'"{v}"' for v in options))
