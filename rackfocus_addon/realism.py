"""Lens realism as keyframes (pure): f-stop ramp, focus breathing, overshoot, hysteresis.

Everything here returns :class:`~rackfocus_addon.plan.Key` lists or per-frame values that the one
keyframe writer puts into the file as plain keys, so a render farm without the add-on renders them.
"""

from __future__ import annotations

from collections.abc import Sequence

from .easing import Easing
from .errors import RackFocusError
from .optics import from_diopters, to_diopters
from .plan import Key, PullPlan, Span, fit_keys

#: Penner's in-out BACK widens the overshoot by this factor (see ``easing._back``).
_IN_OUT_WIDEN = 1.525


def back_peak(back: float, mode: str) -> float:
    """Largest overshoot (fraction of the move) of BACK easing with parameter ``back``.

    For ease-in t^2((s+1)t - s) dips to -4 s^3 / (27 (s+1)^2) at t = 2s / (3(s+1)); ease-out
    mirrors it past the target; in-out halves the curve and widens ``s`` by 1.525.
    """
    s = back * (_IN_OUT_WIDEN if mode == "in-out" else 1.0)
    peak = 4.0 * s ** 3 / (27.0 * (s + 1.0) ** 2)
    return peak / 2.0 if mode == "in-out" else peak


def back_for_overshoot(overshoot: float, mode: str = "out") -> float:
    """BACK easing parameter whose overshoot is ``overshoot`` (fraction of the move, 0..0.5)."""
    if not 0.0 < overshoot <= 0.5:
        raise RackFocusError(f"Overshoot {overshoot:g} is out of range: use 0 to 0.5 "
                             "(a fraction of the move, e.g. 0.05)")
    lo, hi = 0.0, 50.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if back_peak(mid, mode) < overshoot:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def pull_window(plan: PullPlan) -> tuple[int, int] | None:
    """(first transition's start, last transition's end) frames, or None for a plan with no pull."""
    pulls = [s for s in plan.spans() if s.is_pull]
    if not pulls:
        return None
    return pulls[0].start, pulls[-1].end


def fstop_ramp_keys(plan: PullPlan, fstop_from: float, fstop_to: float) -> list[Key]:
    """Keys on the f-stop: ``fstop_from`` until the first pull starts, eased with the plan's
    easing (no overshoot: an iris does not bounce) to ``fstop_to`` when the last pull ends."""
    for value in (fstop_from, fstop_to):
        if not 0.5 <= value <= 128.0:
            raise RackFocusError(f"f-stop {value:g} is out of range: use 0.5 to 128")
    window = pull_window(plan)
    if window is None:
        raise RackFocusError("An f-stop ramp needs a pull between two subjects")
    start, end = window
    easing = plan.easing
    if easing.kind in ("back", "elastic", "bounce"):
        easing = Easing("sine", easing.mode)
    if easing.kind == "linear":
        return [Key(start, fstop_from), Key(end, fstop_to)]
    return [Key(start, fstop_from, easing.blender_interpolation, easing.blender_easing),
            Key(end, fstop_to)]


def fstop_at(plan: PullPlan, fstop_from: float, fstop_to: float, frame: float) -> float:
    """The f-stop that :func:`fstop_ramp_keys` gives at ``frame`` (what Blender evaluates)."""
    window = pull_window(plan)
    if window is None:
        return fstop_from
    start, end = window
    easing = plan.easing
    if easing.kind in ("back", "elastic", "bounce"):
        easing = Easing("sine", easing.mode)
    if frame <= start:
        return fstop_from
    if frame >= end:
        return fstop_to
    return easing.value(frame - start, fstop_from, fstop_to - fstop_from, float(end - start))


def breathing_lens_mm(lens_mm: float, focus_m: float, amount: float,
                      close_focus_m: float) -> float:
    """Focal length (mm) of a breathing lens focused at ``focus_m``.

    ``amount`` is the fractional focal-length change at the lens's close focus ``close_focus_m``
    (0.02: 2 % longer, the image tightens as focus comes closer; negative widens), growing linearly
    in diopters from infinity (none) to close focus (all of it), as cine lens charts show it.
    """
    fraction = min(max(to_diopters(focus_m) / to_diopters(close_focus_m), 0.0), 1.0)
    return lens_mm * (1.0 + amount * fraction)


def breathing_keys(frames: Sequence[int], focus_m: Sequence[float], spans: Sequence[Span],
                   easing: Easing, lens_mm: float, amount: float,
                   close_focus_m: float) -> list[Key]:
    """Keys on the focal length that follow per-frame ``focus_m`` through the breathing model.

    Diopter-space pulls with native easing give two native keys per span (breathing is linear in
    diopters); anything else gets a key per frame where it moves.
    """
    values = [breathing_lens_mm(lens_mm, f, amount, close_focus_m) for f in focus_m]
    return fit_keys(list(frames), values, spans, easing, tolerance=1e-4)


def hysteresis(focus_m: Sequence[float], band_diopters: float) -> list[float]:
    """A dead band on a tracked focus (metres per frame) so it does not hunt.

    The output keeps its focus while the subject stays within ``band_diopters`` of it and follows
    only by what the subject leaves the band by, so jitter smaller than the band never moves the
    focus and a steady move lags by at most the band. Worked in diopters, where depth of field is
    symmetric about the focus.
    """
    if band_diopters < 0.0:
        raise RackFocusError("Hysteresis band must be 0 or more diopters")
    if not focus_m:
        return []
    out = []
    held = to_diopters(focus_m[0])
    for value in focus_m:
        d = to_diopters(value)
        held = min(max(held, d - band_diopters), d + band_diopters)
        out.append(from_diopters(held))
    return out


def sparse_keys(frames: Sequence[int], values: Sequence[float],
                tolerance: float = 1e-6) -> list[Key]:
    """Linear keys at only the frames where per-frame ``values`` bend (holds become two keys)."""
    frames = list(frames)
    if not frames:
        return []
    keep = [0]
    for i in range(1, len(frames) - 1):
        a, b, c = values[keep[-1]], values[i], values[i + 1]
        fa, fb, fc = frames[keep[-1]], frames[i], frames[i + 1]
        line = a + (c - a) * (fb - fa) / (fc - fa)
        if abs(line - b) > tolerance:
            keep.append(i)
        else:
            # Every dropped point between the last kept key and i+1 must still lie on the line.
            ok = all(abs(a + (c - a) * (frames[j] - fa) / (fc - fa) - values[j]) <= tolerance
                     for j in range(keep[-1] + 1, i + 1))
            if not ok:
                keep.append(i)
    if len(frames) > 1:
        keep.append(len(frames) - 1)
    return [Key(frames[i], float(values[i])) for i in keep]
