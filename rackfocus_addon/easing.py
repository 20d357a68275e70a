"""Easing curves, the same family Blender offers on keyframes (pure Python, no bpy).

Each curve maps normalised time ``u`` in [0, 1] to a blend weight (0 at ``u = 0``, 1 at ``u = 1``;
back and elastic overshoot in between). The formulas follow Robert Penner's easing equations as
Blender applies them between two keyframes, so a pull evaluated here matches the native keyframe
interpolation that the keyframe writer puts in the file (the bpy tests compare the two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import RackFocusError

#: Blender keyframe interpolation ids that ease between two keys (CONSTANT is not a pull).
KINDS = (
    "linear", "sine", "quad", "cubic", "quart", "quint", "expo", "circ",
    "back", "bounce", "elastic", "bezier",
)
MODES = ("in", "out", "in-out")

#: Blender's ``Keyframe.easing`` enum for each mode.
BLENDER_EASING = {"in": "EASE_IN", "out": "EASE_OUT", "in-out": "EASE_IN_OUT"}

#: Blender's defaults for the keyframe's ``back`` and ``elastic`` parameters.
DEFAULT_BACK = 1.70158
DEFAULT_AMPLITUDE = 0.8
DEFAULT_PERIOD = 4.1


@dataclass(frozen=True)
class Easing:
    """An easing curve: ``kind`` (one of :data:`KINDS`) and ``mode`` (one of :data:`MODES`).

    ``back`` is the overshoot of BACK; ``amplitude`` and ``period`` shape ELASTIC; both use
    Blender's keyframe defaults. ``bezier`` is the Graph Editor's auto-clamped curve between two
    keys with flat handles, which is a smoothstep whatever the mode.
    """

    kind: str = "sine"
    mode: str = "in-out"
    back: float = DEFAULT_BACK
    amplitude: float = DEFAULT_AMPLITUDE
    period: float = DEFAULT_PERIOD

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RackFocusError(
                f"Unknown easing '{self.kind}': use one of {', '.join(KINDS)}"
            )
        if self.mode not in MODES:
            raise RackFocusError(
                f"Unknown easing mode '{self.mode}': use one of {', '.join(MODES)}"
            )

    @property
    def blender_interpolation(self) -> str:
        """The ``Keyframe.interpolation`` enum value, e.g. ``'SINE'``."""
        return self.kind.upper()

    @property
    def blender_easing(self) -> str:
        """The ``Keyframe.easing`` enum value, e.g. ``'EASE_IN_OUT'``."""
        return BLENDER_EASING[self.mode]

    def spec(self) -> str:
        """The text form that :func:`parse_easing` reads back, e.g. ``'sine:in-out'``."""
        return f"{self.kind}:{self.mode}"

    def __call__(self, u: float, duration: float = 1.0) -> float:
        """Blend weight at normalised time ``u`` (clamped to [0, 1]) of a ``duration``-frame move.

        Only ELASTIC depends on ``duration`` (its period is in frames); a weight is the curve of a
        change from 0 to 1, exactly what a keyed constraint influence does.
        """
        u = min(max(float(u), 0.0), 1.0)
        return self.value(u * duration, 0.0, 1.0, duration)

    def value(self, time: float, begin: float, change: float, duration: float) -> float:
        """What Blender's F-curve gives ``time`` frames after a key with this interpolation.

        ``begin`` is the key's value, ``change`` the difference to the next key, ``duration`` the
        frames between the keys. ELASTIC depends on ``change`` itself (amplitude is absolute), the
        other curves are ``begin + change * weight``.
        """
        if duration <= 0.0:
            return begin + change
        u = min(max(time / duration, 0.0), 1.0)
        if self.kind == "elastic":
            return begin + _elastic(u * duration, change, duration, self.amplitude,
                                    self.period, self.mode)
        return begin + change * self._weight(u)

    def _weight(self, u: float) -> float:
        if self.kind == "linear":
            return u
        if self.kind == "bezier":
            return u * u * (3.0 - 2.0 * u)
        if self.kind == "back":
            return _back(u, self.mode, self.back)
        ease_in = _EASE_IN[self.kind]
        if self.mode == "in":
            return ease_in(u)
        if self.mode == "out":
            return 1.0 - ease_in(1.0 - u)
        if u < 0.5:
            return 0.5 * ease_in(2.0 * u)
        return 1.0 - 0.5 * ease_in(2.0 - 2.0 * u)


def _back(u: float, mode: str, overshoot: float) -> float:
    def ease_in(t: float, s: float) -> float:
        return t * t * ((s + 1.0) * t - s)

    if mode == "in":
        return ease_in(u, overshoot)
    if mode == "out":
        return 1.0 - ease_in(1.0 - u, overshoot)
    # Penner widens the overshoot by 1.525 for the in-out variant.
    s = overshoot * 1.525
    if u < 0.5:
        return 0.5 * ease_in(2.0 * u, s)
    return 1.0 - 0.5 * ease_in(2.0 - 2.0 * u, s)


def _bounce_out(t: float) -> float:
    if t < 1.0 / 2.75:
        return 7.5625 * t * t
    if t < 2.0 / 2.75:
        t -= 1.5 / 2.75
        return 7.5625 * t * t + 0.75
    if t < 2.5 / 2.75:
        t -= 2.25 / 2.75
        return 7.5625 * t * t + 0.9375
    t -= 2.625 / 2.75
    return 7.5625 * t * t + 0.984375


# Blender's exponential ease is rescaled so that it starts exactly at 0 (2^-10 is subtracted).
_EXPO_MIN = 2.0 ** -10
_EXPO_SCALE = 1.0 / (1.0 - _EXPO_MIN)

_EASE_IN = {
    "sine": lambda t: 1.0 - math.cos(t * math.pi / 2.0),
    "quad": lambda t: t * t,
    "cubic": lambda t: t ** 3,
    "quart": lambda t: t ** 4,
    "quint": lambda t: t ** 5,
    "expo": lambda t: 0.0 if t <= 0.0 else (2.0 ** (10.0 * (t - 1.0)) - _EXPO_MIN) * _EXPO_SCALE,
    "circ": lambda t: 1.0 - math.sqrt(max(0.0, 1.0 - t * t)),
    "bounce": lambda t: 1.0 - _bounce_out(1.0 - t),
}


def _elastic(time: float, change: float, duration: float, amplitude: float, period: float,
             mode: str) -> float:
    """Offset from the start value of an elastic ease, as Blender's keyframe ELASTIC computes it.

    ``time``, ``duration`` and ``period`` are in frames; ``amplitude`` is in value units and, when
    it is smaller than the change, the oscillation is damped near the key (Blender's blend).
    """
    if time <= 0.0:
        return 0.0
    if time >= duration:
        return change
    in_out = mode == "in-out"
    half = duration / 2.0 if in_out else duration
    if in_out:
        x = time / half - 1.0
    else:
        x = time / duration - 1.0 if mode == "in" else -time / duration
    if not period:
        period = duration * (0.45 if in_out else 0.3)
    damp = 1.0
    amp = amplitude
    if not amp or amp < abs(change):
        s = period / 4.0
        if change:
            damp = amp / abs(change) if amp else 0.0
            near = abs(x * duration)
            if near < abs(s):
                lerp = near / abs(s)
                damp = damp * lerp + (1.0 - lerp)
        amp = change
    else:
        s = period / (2.0 * math.pi) * math.asin(change / amp)

    def wave(t: float) -> float:
        return amp * 2.0 ** (10.0 * t) * math.sin((t * duration - s) * 2.0 * math.pi / period)

    if mode == "in":
        return -damp * wave(x)
    if mode == "out":
        return damp * wave(x) + change
    if x < 0.0:
        return -0.5 * damp * wave(x)
    return 0.5 * damp * wave(-x) + change


def parse_easing(text: str) -> Easing:
    """Read ``'kind'`` or ``'kind:mode'`` (``'sine:in-out'``, ``'expo:out'``, ``'bezier'``).

    The mode defaults to ``in-out``; ``inout``, ``in_out`` and Blender's ``EASE_IN_OUT`` spellings
    are accepted too.
    """
    raw = (text or "").strip()
    if not raw:
        raise RackFocusError("Empty easing: use e.g. 'sine:in-out'")
    kind, _, mode = raw.partition(":")
    kind = kind.strip().lower()
    mode = mode.strip().lower().replace("_", "-") or "in-out"
    mode = {"ease-in": "in", "ease-out": "out", "ease-in-out": "in-out", "inout": "in-out"}.get(
        mode, mode
    )
    return Easing(kind=kind, mode=mode)
