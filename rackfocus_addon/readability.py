"""Will the pull read? Each subject's blur in pixels at every pull's start and end (pure).

A rack focus only reads when the subject that is meant to be soft is visibly soft: with too deep a
depth of field nothing changes on screen. From the thin-lens model this reports the blur-circle
diameter of every subject, in pixels at render resolution, where each transition starts and ends,
warns when a subject that should be soft is blurred by less than ``min_blur_px``, and solves the
f-stop that makes the pull read (blur is inversely proportional to the f-number).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .optics import coc_px
from .plan import PullPlan

#: Blur (pixels at render resolution) below which a soft subject does not read as soft.
DEFAULT_MIN_BLUR_PX = 4.0
#: Widest f-number a real cine lens offers; a suggestion below it also says how else to fix it.
WIDEST_REAL_FSTOP = 0.95
#: The f-numbers engraved on a lens ring, in third stops (what a focus puller can set).
THIRD_STOPS = (1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.5, 2.8, 3.2, 3.5, 4.0, 4.5, 5.0, 5.6,
               6.3, 7.1, 8.0, 9.0, 10.0, 11.0, 13.0, 14.0, 16.0, 18.0, 20.0, 22.0, 25.0, 29.0,
               32.0, 36.0, 40.0, 45.0, 51.0, 57.0, 64.0)


def real_stop_at_most(fstop: float) -> float:
    """The narrowest marked third stop no narrower than ``fstop`` (f/11 for f/11.1: a stop at
    least as wide as needed). Below f/1 (no ring marks it) it rounds down to 0.1."""
    if fstop < THIRD_STOPS[0]:
        return max(math.floor(fstop * 10.0) / 10.0, 0.1)
    return max(n for n in THIRD_STOPS if n <= fstop + 1e-9)


@dataclass(frozen=True)
class LensSetup:
    """What the blur depends on: focal length, f-stop, fitted sensor width and image width."""

    focal_mm: float
    fstop: float
    sensor_width_mm: float
    width_px: int

    def blur_px(self, subject_m: float, focus_m: float, fstop: float | None = None) -> float:
        return coc_px(subject_m, focus_m, self.focal_mm, fstop or self.fstop,
                      self.sensor_width_mm, self.width_px)


@dataclass(frozen=True)
class Moment:
    """One end of a transition: the frame, the focus and each subject's blur (pixels)."""

    frame: int
    focus_m: float
    sharp: int
    distances_m: tuple[float, ...]
    blur_px: tuple[float, ...]
    #: Subject indices that must read as soft here (the one about to be, or just, racked away).
    must_be_soft: tuple[int, ...] = ()


@dataclass
class Report:
    """Readability of a pull; ``readable`` is False when any ``warnings`` were raised."""

    labels: tuple[str, ...]
    lens: LensSetup
    min_blur_px: float
    moments: list[Moment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggested_fstop: float | None = None
    #: The subjects' names as an artist says them ('Anna'), and which are subjects at all (a
    #: 'soft' point is only a place to focus).
    names: tuple[str, ...] = ()
    shown: tuple[bool, ...] = ()
    #: Warnings about the whole pull rather than one moment (also in :attr:`warnings`).
    advice: list[str] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not self.warnings

    def advise(self, text: str) -> None:
        """A warning about the whole pull (how to fix it), not about one moment."""
        self.advice.append(text)
        self.warnings.append(text)

    def visible(self, index: int) -> bool:
        return self.shown[index] if index < len(self.shown) else True

    def artist_lines(self) -> list[tuple[str, bool]]:
        """One line per moment as a focus puller would say it, with whether it reads:
        'Frame 13, focus on Near (1.6 m): Far is soft, 16 px - the rack will read'."""
        out = []
        for m in self.moments:
            soft = [i for i in range(len(m.blur_px)) if i != m.sharp and self.visible(i)]
            ok = all(m.blur_px[i] >= self.min_blur_px for i in m.must_be_soft)
            parts = ", ".join(
                f"{self.names[i]} is "
                f"{'soft' if m.blur_px[i] >= self.min_blur_px else 'nearly sharp'}, "
                f"{m.blur_px[i]:.0f}\u00a0px" for i in soft)
            verdict = "the rack will read" if ok else "too little blur to read"
            focus = f"{m.focus_m:.1f}\u00a0m"
            out.append((f"Frame {m.frame}, focus on {self.names[m.sharp]} ({focus}): "
                        f"{parts or 'nothing else in frame'} - {verdict}", ok))
        return out

    def lines(self) -> list[str]:
        """Human-readable lines: one per moment, then the warnings and the suggestion."""
        out = []
        for m in self.moments:
            parts = ", ".join(f"{self.labels[i]} {b:.1f} px" for i, b in enumerate(m.blur_px))
            out.append(f"frame {m.frame}: focus {m.focus_m:.2f} m on {self.labels[m.sharp]}; "
                       f"blur {parts}")
        out.extend(self.warnings)
        if self.suggested_fstop is not None:
            out.append(f"Suggested f-stop: f/{self.suggested_fstop:g} "
                       f"(now f/{self.lens.fstop:g})")
        return out


def assess(plan: PullPlan, distance_m: Callable[[int, int], float], lens: LensSetup,
           min_blur_px: float = DEFAULT_MIN_BLUR_PX,
           visible: Sequence[bool] | None = None,
           fstop_at: Callable[[int], float] | None = None) -> Report:
    """Blur of every subject at the start and end of every transition of ``plan``.

    ``distance_m(subject index, frame)`` is the subject's focus distance (metres along the view
    axis); ``visible[i]`` is False for subjects that are only a place to focus (a 'soft' point),
    which need no blur. The subject racked *to* must be soft where the transition starts and the
    one racked *from* soft where it ends. ``fstop_at(frame)`` is the f-stop of an f-stop ramp
    (default: ``lens.fstop`` throughout); the suggestion then scales the whole ramp and is given
    for its first f-stop, ``lens.fstop``.
    """
    n = len(plan.subjects)
    visible = list(visible) if visible is not None else [True] * n
    labels = tuple(s.label() for s in plan.subjects)
    report = Report(labels, lens, float(min_blur_px),
                    names=tuple(s.short_name() for s in plan.subjects), shown=tuple(visible))
    #: For each soft subject: the factor the f-stop may be scaled by and still read.
    needed: list[float] = []
    for span in plan.spans():
        if not span.is_pull:
            continue
        for frame, sharp, soft in ((span.start, span.source, span.target),
                                   (span.end, span.target, span.source)):
            dists = tuple(float(distance_m(i, frame)) for i in range(n))
            focus = dists[sharp]
            fstop = fstop_at(frame) if fstop_at is not None else lens.fstop
            blurs = tuple(lens.blur_px(d, focus, fstop) for d in dists)
            must = (soft,) if visible[soft] else ()
            report.moments.append(Moment(frame, focus, sharp, dists, blurs, must))
            for i in must:
                if blurs[i] < min_blur_px:
                    report.warnings.append(
                        f"At frame {frame} {labels[i]} is blurred by only {blurs[i]:.1f} px "
                        f"(focus on {labels[sharp]}); a pull reads from about "
                        f"{min_blur_px:g} px"
                    )
                # Blur is proportional to 1/N: the widest f-number that still gives min_blur_px.
                needed.append(blurs[i] / min_blur_px)
    if report.warnings:
        best = min(needed) * lens.fstop if needed else 0.0
        if best <= 0.0:
            report.advise(
                "Two subjects are at the same distance: no f-stop separates them; move one of "
                "them in depth"
            )
        else:
            # A real stop at least as wide as needed (f/11, not f/11.1).
            report.suggested_fstop = real_stop_at_most(best)
            if report.suggested_fstop < WIDEST_REAL_FSTOP:
                report.advise(
                    f"Reading needs f/{report.suggested_fstop:g}, wider than real lenses: "
                    "use a longer lens, a higher resolution or subjects further apart in depth"
                )
    return report
