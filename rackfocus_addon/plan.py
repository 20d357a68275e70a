"""Pull planning: from focus marks to the focus distance at any frame, and to keyframes (pure).

A pull is an ordered list of marks (subject, frame). Between two marks that name the same subject,
focus holds on it (following it if it moves); between marks on different subjects, focus moves with
the plan's easing, blended in metres (``distance``) or in diopters (``diopter``). Before the first
mark and after the last, focus holds on the first and last subject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .easing import Easing
from .errors import RackFocusError
from .frames import frame_range_problem
from .marks import SubjectRef
from .optics import blend_focus

SPACES = ("distance", "diopter")
MODES = ("rig", "bake")

#: Largest error (metres, or influence units) for which two native keys replace per-frame keys.
FIT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Key:
    """One keyframe to write: ``interpolation`` and ``easing`` govern the curve *after* this key."""

    frame: int
    value: float
    interpolation: str = "LINEAR"
    easing: str = "AUTO"
    back: float | None = None
    amplitude: float | None = None
    period: float | None = None


@dataclass(frozen=True)
class Span:
    """Frames ``start``..``end`` from subject index ``source`` to ``target`` (equal: a hold)."""

    start: int
    end: int
    source: int
    target: int

    @property
    def is_pull(self) -> bool:
        return self.source != self.target


@dataclass(frozen=True)
class PullPlan:
    """A validated pull: unique ``subjects``, ``marks`` (subject index, frame), easing, space."""

    subjects: tuple[SubjectRef, ...]
    marks: tuple[tuple[int, int], ...]
    easing: Easing = field(default_factory=Easing)
    space: str = "distance"

    @property
    def first_frame(self) -> int:
        return self.marks[0][1]

    @property
    def last_frame(self) -> int:
        return self.marks[-1][1]

    def spans(self, lo: int | None = None, hi: int | None = None) -> list[Span]:
        """Spans between consecutive marks, plus holds out to frames ``lo`` and ``hi``."""
        out: list[Span] = []
        first_subject, first = self.marks[0]
        if lo is not None and lo < first:
            out.append(Span(lo, first, first_subject, first_subject))
        for (s0, f0), (s1, f1) in zip(self.marks, self.marks[1:]):
            out.append(Span(f0, f1, s0, s1))
        last_subject, last = self.marks[-1]
        if hi is not None and hi > last:
            out.append(Span(last, hi, last_subject, last_subject))
        return out

    def runs(self) -> list[tuple[int, int, int]]:
        """Consecutive marks on one subject merged: (subject index, first frame, last frame)."""
        runs: list[tuple[int, int, int]] = []
        for subject, frame in self.marks:
            if runs and runs[-1][0] == subject:
                runs[-1] = (subject, runs[-1][1], frame)
            else:
                runs.append((subject, frame, frame))
        return runs

    def weight(self, frame: float) -> tuple[int, int, float]:
        """(source subject, target subject, eased weight 0..1) at ``frame``."""
        if frame <= self.first_frame:
            s = self.marks[0][0]
            return s, s, 0.0
        for (s0, f0), (s1, f1) in zip(self.marks, self.marks[1:]):
            if f0 <= frame <= f1:
                if s0 == s1:
                    return s0, s0, 0.0
                return s0, s1, self.easing((frame - f0) / (f1 - f0), float(f1 - f0))
        s = self.marks[-1][0]
        return s, s, 0.0

    def focus_m(self, frame: float, distance_m: Callable[[int], float]) -> float:
        """Focus distance (metres) at ``frame``, given each subject's distance at that frame."""
        source, target, w = self.weight(frame)
        if source == target:
            return distance_m(source)
        return blend_focus(distance_m(source), distance_m(target), w, self.space)


def make_plan(marks: Sequence[tuple[SubjectRef, int]], easing: Easing | None = None,
              space: str = "distance") -> PullPlan:
    """Validate resolved marks (subject, frame) and build a :class:`PullPlan`.

    Raises :class:`RackFocusError` for no marks, a frame outside Blender's frame range (a frame
    number or a timeline marker's frame), two marks on one frame or marks out of order.
    """
    if space not in SPACES:
        raise RackFocusError(f"Unknown interpolation space '{space}': use distance or diopter")
    if not marks:
        raise RackFocusError("A pull needs at least one focus mark (SUBJECT@FRAME)")
    for ref, frame in marks:
        problem = frame_range_problem(frame)
        if problem:
            raise RackFocusError(f"The mark on {ref.label()} at frame {frame} {problem}")
    for (ref0, f0), (ref1, f1) in zip(marks, marks[1:]):
        if f1 == f0:
            raise RackFocusError(
                f"Two marks on frame {f0} ({ref0.label()} and {ref1.label()}): "
                "each focus mark needs its own frame"
            )
        if f1 < f0:
            raise RackFocusError(
                f"Marks out of order: {ref1.label()} at frame {f1} comes after "
                f"{ref0.label()} at frame {f0}; list marks in time order"
            )
    subjects: list[SubjectRef] = []
    indexed: list[tuple[int, int]] = []
    for ref, frame in marks:
        if ref not in subjects:
            subjects.append(ref)
        indexed.append((subjects.index(ref), int(frame)))
    return PullPlan(tuple(subjects), tuple(indexed), easing or Easing(), space)


def influence_for(source_m: float, target_m: float, focus_m: float, fallback: float) -> float:
    """Blend weight that puts a position blend of two subjects at focus ``focus_m``.

    Constraint influence blends positions, so focus along the view axis is linear in it; this
    inverts that line. ``fallback`` is used when the two subjects are at the same distance.
    """
    span = target_m - source_m
    if abs(span) < 1e-9:
        return fallback
    return (focus_m - source_m) / span


def fit_keys(frames: Sequence[int], values: Sequence[float], spans: Sequence[Span],
             easing: Easing, tolerance: float = FIT_TOLERANCE) -> list[Key]:
    """The fewest keys that reproduce per-frame ``values`` span by span.

    A span whose samples the native curve between its end keys reproduces within ``tolerance``
    (the plan's easing for pulls, linear for holds) gets two keys with native interpolation that an
    artist can edit in the Graph Editor; any other span (a moving subject, a diopter pull) gets a
    linear key on every frame. ``frames`` must be consecutive integers covering every span.
    """
    if not frames:
        return []
    base = frames[0]
    keys: dict[int, Key] = {}

    def at(frame: int) -> float:
        return float(values[frame - base])

    for span in spans:
        a, b = span.start, span.end
        va, vb = at(a), at(b)
        curve = easing if span.is_pull else Easing("linear")
        native = all(
            abs(curve.value(f - a, va, vb - va, b - a) - at(f)) <= tolerance
            for f in range(a, b + 1)
        )
        if native:
            keys[a] = _key(a, va, curve)
            keys.setdefault(b, Key(b, vb))
        else:
            for f in range(a, b + 1):
                if f not in keys or f == a:
                    keys[f] = Key(f, at(f))
    if not keys:
        # No span covers the frames (a one-frame shot, e.g. a still plate): key them as they are.
        keys = {f: Key(f, at(f)) for f in frames}
    if len(keys) == 1:
        return list(keys.values())
    return [keys[f] for f in sorted(keys)]


def _key(frame: int, value: float, curve: Easing) -> Key:
    if curve.kind == "linear":
        return Key(frame, value)
    extra = {}
    if curve.kind == "back":
        extra["back"] = curve.back
    if curve.kind == "elastic":
        extra["amplitude"] = curve.amplitude
        extra["period"] = curve.period
    return Key(frame, value, curve.blender_interpolation, curve.blender_easing, **extra)
