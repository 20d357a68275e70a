"""The pull request: everything a door (panel, CLI, preset, shot list) asks of a pull (pure).

Every door builds one :class:`PullRequest` and hands it to the one engine entry,
``bl.pull.write_pull(scene, camera, request)``, which writes the pull, its realism keys and the
readability report. Defaults live here and nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .easing import Easing
from .errors import RackFocusError
from .marks import Mark
from .plan import MODES, SPACES
from .realism import back_for_overshoot

#: A typical cine prime's closest focus (metres): breathing reaches its full amount there.
CLOSE_FOCUS_M = 0.45
#: Blur of a reveal's 'soft' opening, as a fraction of the frame width.
SOFT_BLUR = 0.04
#: Blur (pixels at render resolution) below which a soft subject does not read as soft.
MIN_BLUR_PX = 4.0
#: Widest and narrowest f-numbers accepted (Blender's own soft range is wider, lenses are not).
FSTOP_RANGE = (0.5, 128.0)
#: Focal-length change at close focus, as a fraction (real lenses breathe a few percent).
BREATHING_RANGE = (-0.2, 0.2)
OVERSHOOT_RANGE = (0.0, 0.5)
HYSTERESIS_RANGE = (0.0, 2.0)
CLOSE_FOCUS_RANGE = (0.01, 100.0)
SOFT_BLUR_RANGE = (0.0, 0.5)
MIN_BLUR_RANGE = (0.5, 500.0)


@dataclass(frozen=True)
class Realism:
    """Optional lens realism, written as plain keys so a farm renders it.

    ``fstop`` sets the camera's f-number; ``fstop_ramp`` (from, to) keys it from the first
    transition's start to the last one's end; ``breathing`` is the fractional focal-length change
    at ``close_focus_m`` (0.02 = 2 % longer); ``overshoot`` is the fraction of the move the focus
    passes its target by before settling (BACK easing); ``hysteresis_diopters`` is a dead band
    that keeps a baked focus from hunting after a moving subject; ``soft_blur`` is the blur of a
    preset's 'soft' role as a fraction of the frame width.
    """

    fstop: float | None = None
    fstop_ramp: tuple[float, float] | None = None
    breathing: float = 0.0
    close_focus_m: float = CLOSE_FOCUS_M
    overshoot: float = 0.0
    hysteresis_diopters: float = 0.0
    soft_blur: float = SOFT_BLUR

    def problems(self) -> list[str]:
        """What is out of range, one line each naming the setting and its range."""
        out = []
        for name, value, (lo, hi) in (
            ("breathing", self.breathing, BREATHING_RANGE),
            ("close focus (m)", self.close_focus_m, CLOSE_FOCUS_RANGE),
            ("overshoot", self.overshoot, OVERSHOOT_RANGE),
            ("hysteresis (diopters)", self.hysteresis_diopters, HYSTERESIS_RANGE),
            ("soft blur", self.soft_blur, SOFT_BLUR_RANGE),
        ):
            out.extend(_range_problem(name, value, lo, hi))
        if self.fstop is not None:
            out.extend(_range_problem("f-stop", self.fstop, *FSTOP_RANGE))
        for value in self.fstop_ramp or ():
            out.extend(_range_problem("f-stop ramp", value, *FSTOP_RANGE))
        return out


@dataclass(frozen=True)
class Readability:
    """How the pull is checked: the blur a soft subject needs, and whether to open the iris."""

    min_blur_px: float = MIN_BLUR_PX
    solve_fstop: bool = False

    def problems(self) -> list[str]:
        return _range_problem("minimum blur (px)", self.min_blur_px, *MIN_BLUR_RANGE)


@dataclass(frozen=True)
class PullRequest:
    """A pull as asked for: marks in time order, easing, space, mode and options.

    ``replace`` allows replacing user keys on focus distance (they are saved for clear).
    """

    marks: tuple[Mark, ...]
    easing: Easing = field(default_factory=Easing)
    space: str = "distance"
    mode: str = "rig"
    replace: bool = False
    realism: Realism = field(default_factory=Realism)
    readability: Readability = field(default_factory=Readability)

    def __post_init__(self) -> None:
        object.__setattr__(self, "marks", tuple(self.marks))

    def validate(self) -> PullRequest:
        """Raise :class:`RackFocusError` naming every bad setting; returns ``self``."""
        problems = []
        if self.space not in SPACES:
            problems.append(f"unknown interpolation space '{self.space}': use distance or diopter")
        if self.mode not in MODES:
            problems.append(f"unknown mode '{self.mode}': use rig or bake")
        if not self.marks:
            problems.append("a pull needs at least one focus mark (SUBJECT@FRAME)")
        problems += self.realism.problems() + self.readability.problems()
        if problems:
            raise RackFocusError("; ".join(p[0].upper() + p[1:] for p in problems))
        return self

    def with_overshoot(self) -> PullRequest:
        """The request whose easing carries the realism's overshoot (BACK easing), if any."""
        if self.realism.overshoot <= 0.0:
            return self
        back = back_for_overshoot(self.realism.overshoot, self.easing.mode)
        return replace(self, easing=Easing("back", self.easing.mode, back=back))


def _range_problem(name: str, value: float, lo: float, hi: float) -> list[str]:
    if not isinstance(value, int | float) or not math.isfinite(value) or not lo <= value <= hi:
        return [f"{name} {value} is out of range: use {lo:g} to {hi:g}"]
    return []
