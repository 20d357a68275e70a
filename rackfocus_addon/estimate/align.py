"""Relative depth to metres, stable over time (pure, numpy only).

A relative network (Depth Anything V2) gives each frame an inverse depth up to its own unknown
scale and shift, and the two drift from frame to frame. Three steps make a clip metric without
flicker:

1. **Stabilise**: each frame is mapped into the units of the first frame of its shot segment by
   a robust scale and shift against the previous (already mapped) frame, on the pixels the
   picture's motion matches (:func:`.motion.chain`). :func:`stabilise` pairs the same pixel
   positions instead: exact only for a locked-off camera (on a moving one it drifts, 0.04-0.2 %
   a frame on a pan), kept as the baseline the tests and the bench compare against.
2. **Align**: one scale and shift per shot segment maps those units to metric inverse depth,
   ``1/z = scale * v + shift`` (:func:`fit_alignment`), fitted against anchors (pixels of known
   distance, on any frame of the segment), or near and far distances, or an object of known size.
   Residuals are reported per anchor; anchors that cannot all hold (nearer ones farther, or one
   off by more than :data:`ANCHOR_TOLERANCE` after the best fit) are refused with a clear error.
3. **Cuts** start new segments (:func:`detect_cuts`): a new shot gets its own stabilisation and
   alignment, and needs its own anchors (or near/far).

Depth is planar (distance along the camera's view axis), like Blender's Z pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..depth import Anchor
from ..errors import RackFocusError
from .preprocess import resize_bicubic

#: An anchor off by more than this share of its distance after the best fit contradicts the
#: others (25 %: well above the few percent a relative network errs by inside one frame).
ANCHOR_TOLERANCE = 0.25
#: Smallest residual scale of the robust anchor fit (relative depth): anchors a few percent
#: apart are noise, not outliers.
ANCHOR_NOISE = 0.02
#: Pixels used per frame-to-frame fit (a regular subsample): 40 000 fit a scale and shift to
#: 1e-4 and cost a few milliseconds.
MAX_FIT_SAMPLES = 40_000
#: Percentiles of a segment's inverse depth that stand for its nearest and farthest pixels when
#: near and far distances are given (robust to a few stray pixels).
NEAR_FAR_PERCENTILES = (0.5, 99.5)
#: A stretch of frames without anchors whose chain may wander by more than this (relative
#: scale) is warned about (1 %: the accuracy a moving shot is held to).
CHAIN_WARNING = 0.01
#: Tukey biweight tuning constant (95 % efficiency on Gaussian noise).
TUKEY_C = 4.685
HUBER_C = 1.345
#: Smallest residual scale of a robust fit, as a share of the data's 5-95 % range (0.5 %: a
#: pixel more than about 2 % of the range off is an outlier).
RESIDUAL_FLOOR = 0.005
#: Scene cuts: mean absolute luminance difference of 64-pixel thumbnails (sRGB 0..1) above
#: ``CUT_MIN_DIFF`` and ``CUT_FACTOR`` times the recent frame-to-frame differences.
CUT_MIN_DIFF = 0.1
CUT_FACTOR = 4.0
CUT_HISTORY = 8
#: With fewer than three earlier differences, a cut must exceed this many times CUT_MIN_DIFF.
CUT_UNKNOWN_FACTOR = 3.0
THUMB_PX = 64
#: A shift explains the change between two frames (a pan, not a cut) when the frames then
#: differ by less than this share of the picture's contrast (mean absolute deviation).
CUT_MATCH = 0.25


@dataclass(frozen=True)
class Transform:
    """``value -> scale * value + shift`` (a frame's units to its segment's units)."""

    scale: float = 1.0
    shift: float = 0.0

    def apply(self, values):
        return values * self.scale + self.shift

    def then(self, other: Transform) -> Transform:
        """This transform followed by ``other``."""
        return Transform(self.scale * other.scale, self.shift * other.scale + other.shift)


def mad_sigma(r: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x the median absolute deviation)."""
    return 1.4826 * float(np.median(np.abs(r - np.median(r))))


def robust_affine(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                  iterations: int = 8) -> tuple[float, float, np.ndarray]:
    """Robust least squares ``y ~ scale * x + shift``: Huber steps, then Tukey's biweight.

    Returns (scale, shift, final weights). With no spread in ``x`` only the shift is fitted.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    base = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if x.size == 0:
        raise RackFocusError("Nothing to fit: no valid pixel")
    if np.ptp(x) <= 1e-12 * max(float(np.abs(x).max()), 1e-30):
        return 1.0, float(np.median(y - x)), base
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = base.copy()
    sol = np.array([1.0, 0.0])
    # Residual scale floor: a share of the data's range, so that near-noiseless data (one
    # large flat surface fitting exactly) does not reject every other surface as an outlier
    # and leave the scale undetermined.
    lo, hi = np.percentile(y, (5.0, 95.0))
    floor = max(RESIDUAL_FLOOR * float(hi - lo), 1e-12 * max(float(np.abs(y).max()), 1e-30))
    for step in range(iterations):
        sw = np.sqrt(w)
        sol, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
        r = y - design @ sol
        sigma = max(mad_sigma(r[base > 0]), floor)
        u = np.abs(r) / sigma
        if step < 2:
            w = base * np.where(u <= HUBER_C, 1.0, HUBER_C / np.maximum(u, 1e-30))
        else:
            t = u / TUKEY_C
            w = base * np.where(t < 1.0, (1.0 - t * t) ** 2, 0.0)
        if not (w > 0).sum() >= 2:
            break
    return float(sol[0]), float(sol[1]), w


def sample_grid(shape: tuple[int, ...], max_samples: int) -> tuple[slice, slice]:
    """Row and column slices of a regular subsample of at most about ``max_samples`` pixels."""
    h, w = shape[:2]
    step = max(1, int(math.ceil(math.sqrt(h * w / max_samples))))
    return slice(step // 2, None, step), slice(step // 2, None, step)


def frame_to_reference(reference: np.ndarray, frame: np.ndarray,
                       max_samples: int = MAX_FIT_SAMPLES) -> Transform:
    """The transform that maps ``frame`` onto ``reference`` (same shape), robustly.

    Both are relative inverse depth of consecutive frames; pixels that are not finite in either
    are ignored.
    """
    ref = np.asarray(reference)
    cur = np.asarray(frame)
    if ref.shape != cur.shape:
        raise RackFocusError(f"Frames of different sizes cannot be aligned ({ref.shape} and "
                             f"{cur.shape})")
    rows, cols = sample_grid(ref.shape, max_samples)
    a = cur[rows, cols].astype(np.float64).ravel()
    b = ref[rows, cols].astype(np.float64).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return Transform()
    scale, shift, _w = robust_affine(a[ok], b[ok])
    if not (math.isfinite(scale) and math.isfinite(shift)) or scale <= 0.0:
        return Transform()
    return Transform(scale, shift)


def stabilise(frames) -> list[Transform]:
    """Transforms mapping each frame of one shot segment into the first frame's units: each
    frame is fitted to the previous one after that one's own transform (a chain), at the same
    pixel positions (a locked-off camera; see :func:`.motion.chain` for a moving one). ``frames`` is
    an iterable of same-shaped relative inverse depth maps (read lazily, one at a time)."""
    out: list[Transform] = []
    prev = None
    for frame in frames:
        cur = np.asarray(frame)
        t = Transform() if prev is None else frame_to_reference(prev, cur)
        out.append(t)
        prev = t.apply(cur.astype(np.float64))
    return out


# --- anchors ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnchorSample:
    """An anchor's estimate: ``value`` (segment units) at a pixel of ``frame`` said to be
    ``metres`` away."""

    label: str
    value: float
    metres: float
    frame: int = 0
    clip_wide: bool = False  # near/far: a percentile of the whole segment, not one frame


@dataclass
class AnchorFit:
    """An anchor after the fit: the distance the alignment gives it and the relative residual."""

    label: str
    metres: float
    fitted_m: float
    residual: float  # fitted / stated - 1

    def to_dict(self) -> dict:
        return {"anchor": self.label, "metres": self.metres, "fitted_m": self.fitted_m,
                "residual": self.residual}


@dataclass
class Stretch:
    """Frames ``first`` .. ``last`` (0-based, inclusive) with no anchor inside: between two
    anchored frames, or before the first or after the last. ``wander``: how far the chain's
    scale had wandered from one anchored end to the other, as their anchors show (relative;
    None at an open end); ``uncertainty``: the largest relative uncertainty of the chain's scale
    inside, from the links' own uncertainties (a random walk tied at its anchored ends)."""

    first: int
    last: int
    wander: float | None
    uncertainty: float
    worst_frame: int

    def describe(self) -> str:
        wandered = ("" if self.wander is None else
                    f"the chain wandered {100 * self.wander:+.2f} % between the anchors; ")
        return (f"frames {self.first}-{self.last} (no anchor): {wandered}uncertain by up to "
                f"{100 * self.uncertainty:.2f} % (frame {self.worst_frame})")

    def to_dict(self) -> dict:
        return {"frames": [self.first, self.last], "wander": self.wander,
                "uncertainty": self.uncertainty, "worst_frame": self.worst_frame}


@dataclass
class Alignment:
    """One shot segment's map to metric inverse depth, frames ``start`` .. ``end - 1``:

    ``1/z = c(t) * ((scale + scale_rate * t) * v + (shift + shift_rate * t)) + d(t)``,
    ``t = frame - start``.

    The rates are 0 (one alignment for the whole segment) unless anchors on several frames ask
    for a smoothly varying one (a dolly move changes every depth in a way a relative network
    cannot tell from its own drift). ``knots`` ``(frame, c, d)`` tie the chain at each anchored
    frame (c = 1, d = 0 without them); between knots c and d are interpolated linearly (the
    expected path of a random walk tied at both ends), before the first and after the last they
    hold. ``stretches`` say how far the chain wandered between anchors and how uncertain it is
    where none holds it. ``source`` says what fixed it: 'anchors', 'near/far', 'anchors +
    near/far', or 'model' (metric output used as is).
    """

    start: int
    end: int
    scale: float = 1.0
    shift: float = 0.0
    source: str = "model"
    anchors: list[AnchorFit] = field(default_factory=list)
    scale_rate: float = 0.0
    shift_rate: float = 0.0
    knots: list[tuple[int, float, float]] = field(default_factory=list)
    stretches: list[Stretch] = field(default_factory=list)

    def base(self, frame: int) -> tuple[float, float]:
        """(scale, shift) at ``frame`` before the knots' correction."""
        t = frame - self.start
        return self.scale + self.scale_rate * t, self.shift + self.shift_rate * t

    def at(self, frame: int) -> tuple[float, float]:
        """(scale, shift) at ``frame``."""
        scale, shift = self.base(frame)
        if not self.knots:
            return scale, shift
        frames = [k[0] for k in self.knots]
        c = float(np.interp(frame, frames, [k[1] for k in self.knots]))
        d = float(np.interp(frame, frames, [k[2] for k in self.knots]))
        return scale * c, shift * c + d

    def inverse_depth(self, values, frame: int | None = None):
        scale, shift = self.at(self.start if frame is None else frame)
        return values * scale + shift

    def to_dict(self) -> dict:
        return {"frames": [self.start, self.end - 1], "scale": self.scale, "shift": self.shift,
                "scale_per_frame": self.scale_rate, "shift_per_frame": self.shift_rate,
                "knots": [list(k) for k in self.knots],
                "stretches": [st.to_dict() for st in self.stretches],
                "source": self.source, "anchors": [a.to_dict() for a in self.anchors]}

    @classmethod
    def from_dict(cls, data: dict) -> Alignment:
        """An alignment as :meth:`to_dict` wrote it (a sidecar read back; anchors' residuals
        and stretches are a report and are not read back)."""
        return cls(data["frames"][0], data["frames"][1] + 1, data["scale"], data["shift"],
                   data["source"], scale_rate=data.get("scale_per_frame", 0.0),
                   shift_rate=data.get("shift_per_frame", 0.0),
                   knots=[(int(k[0]), float(k[1]), float(k[2])) for k in data.get("knots", [])])


def _irls(cols: np.ndarray, y: np.ndarray, robust: bool) -> np.ndarray:
    """Least squares ``y ~ cols @ p``; robust (Huber, then Tukey) when asked."""
    p, *_ = np.linalg.lstsq(cols, y, rcond=None)
    if not robust:
        return p
    w = np.ones_like(y)
    for step in range(8):
        r = y - cols @ p
        sigma = max(mad_sigma(r), ANCHOR_NOISE)
        t = np.abs(r) / (sigma * (HUBER_C if step < 2 else TUKEY_C))
        w = (np.where(t <= 1.0, 1.0, 1.0 / np.maximum(t, 1.0)) if step < 2
             else np.where(t < 1.0, (1.0 - t * t) ** 2, 0.0))
        if (w > 0).sum() < cols.shape[1] + 1:
            return np.linalg.lstsq(cols, y, rcond=None)[0]
        sw = np.sqrt(w)
        p, *_ = np.linalg.lstsq(cols * sw[:, None], y * sw, rcond=None)
    return p


def fit_alignment(samples: Sequence[AnchorSample], start: int = 0, end: int = 1,
                  tolerance: float = ANCHOR_TOLERANCE) -> Alignment:
    """Least squares ``1/metres ~ scale * value + shift`` minimising relative depth error.

    One sample (or samples of one value) fits the scale alone. Anchors on two or more frames
    let the scale (3+ anchors) vary linearly over the segment, and the shift too (5+ anchors,
    two frames with anchors at different depths). With
    two more anchors than unknowns the fit is robust. Raises :class:`RackFocusError` when the
    anchors contradict each other.
    """
    if not samples:
        raise RackFocusError("Relative depth needs anchors: --anchor X,Y=M or --near/--far")
    v = np.array([s.value for s in samples], dtype=np.float64)
    target = 1.0 / np.array([s.metres for s in samples], dtype=np.float64)
    middle = (start + max(end - 1, start)) / 2.0
    t = np.array([(middle if s.clip_wide else s.frame) - start for s in samples],
                 dtype=np.float64)
    if not np.isfinite(v).all():
        bad = samples[int(np.flatnonzero(~np.isfinite(v))[0])]
        raise RackFocusError(f"Anchor {bad.label} lies on a pixel with no valid depth")
    n = len(samples)
    frames = len({s.frame for s in samples if not s.clip_wide})
    one_value = np.ptp(v) <= 1e-9 * max(float(np.abs(v).max()), 1e-30)
    # Rows divided by the target: residuals are relative inverse depth = relative depth.
    columns = [v / target]
    if n > 1 and not one_value:
        columns.append(1.0 / target)
        if frames > 1 and n >= 3 and np.ptp(t) > 0:
            columns.append(t * v / target)
            # A varying shift too needs two frames that each see two depths.
            spread = sum(1 for f in {s.frame for s in samples if not s.clip_wide}
                         if len({s.value for s in samples
                                 if s.frame == f and not s.clip_wide}) > 1)
            if n >= 5 and spread >= 2:
                columns.append(t / target)
    cols = np.stack(columns, axis=1)
    p = _irls(cols, np.ones(n), robust=n >= cols.shape[1] + 2)
    p = np.concatenate([p, np.zeros(4 - p.size)])
    scale, shift, scale_rate, shift_rate = (float(x) for x in p)
    span = max(end - 1 - start, 0)
    if not (scale > 0.0 and scale + scale_rate * span > 0.0):
        near = max(samples, key=lambda s: s.value)
        far = min(samples, key=lambda s: s.value)
        raise RackFocusError(
            f"Anchors contradict the estimate: it sees {near.label} nearer than {far.label}, "
            f"but they are given as {near.metres:g} m and {far.metres:g} m; check the anchors")
    result = Alignment(start, max(end, start + 1), scale, shift, "anchors",
                       scale_rate=scale_rate, shift_rate=shift_rate)
    for s, val, ti in zip(samples, v, t):
        inv = result.inverse_depth(val, start + ti)
        fitted = 1.0 / inv if inv > 0.0 else math.inf
        result.anchors.append(AnchorFit(s.label, s.metres, fitted, fitted / s.metres - 1.0))
    worst = max(result.anchors, key=lambda f: abs(f.residual))
    if abs(worst.residual) > tolerance:
        others = ", ".join(f.label for f in result.anchors if f is not worst)
        got = "beyond infinity" if math.isinf(worst.fitted_m) else f"{worst.fitted_m:.3g} m"
        raise RackFocusError(
            f"Anchors contradict each other: with {others or 'the others'} the best fit puts "
            f"{worst.label} at {got}, not {worst.metres:g} m "
            f"({100 * abs(worst.residual):.0f}% off); check the anchors")
    return result


def near_far_samples(values: np.ndarray, near_m: float, far_m: float) -> list[AnchorSample]:
    """Pseudo-anchors: the segment's nearest pixels (high inverse depth) at ``near_m`` and its
    farthest at ``far_m`` (robust percentiles of ``values``, the segment's finite samples)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise RackFocusError("No valid depth to place --near and --far on")
    lo, hi = np.percentile(v, NEAR_FAR_PERCENTILES)
    if not hi > lo:
        raise RackFocusError("The estimate is flat (one depth everywhere): --near/--far cannot "
                             "scale it; give anchors instead")
    return [AnchorSample("near", float(hi), near_m, clip_wide=True),
            AnchorSample("far", float(lo), far_m, clip_wide=True)]


def _frame_correction(alignment: Alignment, samples: Sequence[AnchorSample]
                      ) -> tuple[float, float]:
    """(c, d) that make one frame's anchors fit best: ``1/m ~ c * base(v) + d`` in relative
    depth; one anchor (or anchors of one value) fits ``c`` alone, exactly."""
    frame = samples[0].frame
    scale, shift = alignment.base(frame)
    pred = np.array([scale * s.value + shift for s in samples])
    target = 1.0 / np.array([s.metres for s in samples])
    if np.ptp(pred) <= 1e-9 * max(float(np.abs(pred).max()), 1e-30):
        return float(np.mean(target / pred)), 0.0
    cols = np.stack([pred / target, 1.0 / target], axis=1)
    c, d = _irls(cols, np.ones(len(samples)), robust=len(samples) >= 4)
    return float(c), float(d)


def tie_to_anchored_frames(alignment: Alignment, samples: Sequence[AnchorSample],
                           tolerance: float = ANCHOR_TOLERANCE) -> None:
    """Tie ``alignment`` at each frame that has anchors (in place): a knot per anchored frame
    corrects the chain there, residuals are refitted, and a correction that would put the
    nearest anchor beyond infinity is refused. With anchors on one frame only, no knot."""
    frames = sorted({s.frame for s in samples if not s.clip_wide})
    if len(frames) < 2:
        return
    knots = []
    for f in frames:
        c, d = _frame_correction(alignment, [s for s in samples if s.frame == f and
                                             not s.clip_wide])
        if not (math.isfinite(c) and c > 0.0 and math.isfinite(d)):
            raise RackFocusError(f"The anchors on frame {f} cannot be met (they contradict the "
                                 "estimate there); check them")
        knots.append((f, c, d))
    alignment.knots = knots
    alignment.anchors = []
    for s in samples:
        frame = alignment.start + (alignment.end - 1 - alignment.start) // 2 if s.clip_wide \
            else s.frame
        inv = alignment.inverse_depth(s.value, frame)
        fitted = 1.0 / inv if inv > 0.0 else math.inf
        alignment.anchors.append(AnchorFit(s.label, s.metres, fitted, fitted / s.metres - 1.0))
    worst = max(alignment.anchors, key=lambda a: abs(a.residual))
    if abs(worst.residual) > tolerance:
        got = "beyond infinity" if math.isinf(worst.fitted_m) else f"{worst.fitted_m:.3g} m"
        raise RackFocusError(f"Anchors contradict each other on one frame: the best fit puts "
                             f"{worst.label} at {got}, not {worst.metres:g} m; check the "
                             "anchors")


def chain_stretches(alignment: Alignment, samples: Sequence[AnchorSample],
                    link_sigmas: Sequence[float]) -> list[Stretch]:
    """The stretches of frames between anchored frames (and before the first, after the last)
    with the chain's uncertainty inside and how far it wandered between anchored ends.
    ``link_sigmas[i]``: relative uncertainty of frame ``start + i``'s link to its predecessor
    (0 for the first frame)."""
    start, end = alignment.start, alignment.end
    frames = sorted({s.frame for s in samples if not s.clip_wide})
    if not frames or len(link_sigmas) != end - start:
        return []
    var = np.concatenate([[0.0], np.cumsum(np.square(np.asarray(link_sigmas[1:], float)))])
    cs = {k[0]: k[1] for k in alignment.knots}

    def walked(a: int, b: int) -> float:  # variance accumulated from frame a to frame b
        return float(var[b - start] - var[a - start])

    out = []
    if frames[0] > start:
        out.append(Stretch(start, frames[0] - 1, None, math.sqrt(walked(start, frames[0])),
                           start))
    for a, b in zip(frames, frames[1:]):
        if b - a > 1:
            wander = cs[b] / cs[a] - 1.0 if cs else None
            # A random walk tied at both ends is most uncertain midway: sigma * sqrt(L) / 2.
            out.append(Stretch(a + 1, b - 1, wander, 0.5 * math.sqrt(walked(a, b)),
                               (a + b) // 2))
    if frames[-1] < end - 1:
        out.append(Stretch(frames[-1] + 1, end - 1, None,
                           math.sqrt(walked(frames[-1], end - 1)), end - 1))
    return out


def chain_warnings(alignment: Alignment, limit: float = CHAIN_WARNING) -> list[str]:
    """A line for each stretch without anchors where the chain's own uncertainty passes
    ``limit``: which frames, and on which frame to add an anchor."""
    lines = []
    for st in alignment.stretches:
        if st.uncertainty > limit:
            lines.append(
                f"Frames {st.first}-{st.last} (0-based) have no anchor and the chain's scale "
                f"may wander there by up to {100 * st.uncertainty:.1f} % (by frame "
                f"{st.worst_frame}): add an anchor on frame {st.worst_frame} "
                f"(--anchor X,Y=M@{st.worst_frame})")
    return lines


def align_segment(start: int, end: int, samples: Sequence[AnchorSample],
                  relative: bool = True, tolerance: float = ANCHOR_TOLERANCE,
                  link_sigmas: Sequence[float] | None = None) -> Alignment:
    """The alignment of frames ``start`` .. ``end - 1`` from their anchor samples, tied at
    every anchored frame (:func:`tie_to_anchored_frames`), with the stretches between anchors
    measured against ``link_sigmas`` (the chain's per-link uncertainties, when known).

    A metric model's segment without samples keeps the model's metres (scale 1, shift 0); a
    relative one without samples is an error naming the frames that need anchors.
    """
    if not samples:
        if not relative:
            return Alignment(start, end)
        where = (f"frames {start}-{end - 1}" if end - start > 1 else f"frame {start}")
        raise RackFocusError(
            f"No anchor for {where} (0-based; a new shot starts at {start}): add "
            f"--anchor X,Y=M@{start} or give --near and --far")
    result = fit_alignment(samples, start, end, tolerance)
    tie_to_anchored_frames(result, samples, tolerance)
    if link_sigmas is not None:
        result.stretches = chain_stretches(result, samples, link_sigmas)
    kinds = {"near/far" if s.clip_wide else "anchors" for s in samples}
    result.source = " + ".join(k for k in ("anchors", "near/far") if k in kinds)
    return result


def check_anchors(anchors: Sequence[Anchor], width_px: int, height_px: int,
                  frames: int) -> None:
    """Raise for an anchor outside the frame or the clip (before anything is estimated)."""
    for a in anchors:
        if not (-0.5 <= a.x < width_px - 0.5 and -0.5 <= a.y < height_px - 0.5):
            raise RackFocusError(f"Anchor {a.spec()} is outside the {width_px}x{height_px} frame "
                                 "(pixels from 0, origin top-left)")
        if not 0 <= a.frame < frames:
            raise RackFocusError(f"Anchor {a.spec()}: frame {a.frame} is outside the clip "
                                 f"(0..{frames - 1})")


def low_res_pixel(x: float, y: float, width_px: int, height_px: int, low_w: int,
                  low_h: int) -> tuple[int, int]:
    """The network-output pixel (column, row) whose centre is nearest footage pixel (x, y)."""
    col = int(np.clip(math.floor((x + 0.5) * low_w / width_px), 0, low_w - 1))
    row = int(np.clip(math.floor((y + 0.5) * low_h / height_px), 0, low_h - 1))
    return col, row


def at_footage_pixels(low: np.ndarray, width_px: int, height_px: int,
                     max_samples: int = 20_000) -> np.ndarray:
    """Values of the network output ``low`` at footage pixel centres (nearest sample, as for
    anchors), on a regular grid of at most about ``max_samples`` footage pixels, flattened.

    Between pixel centres a resize of upscaled footage rings (bicubic overshoot next to edges);
    at the centres it returns the footage's own values, so percentiles taken here describe the
    footage, not the resize."""
    low_h, low_w = low.shape
    rows_px, cols_px = sample_grid((height_px, width_px), max_samples)
    ys = np.arange(height_px)[rows_px]
    xs = np.arange(width_px)[cols_px]
    rows = np.clip(np.floor((ys + 0.5) * low_h / height_px).astype(int), 0, low_h - 1)
    cols = np.clip(np.floor((xs + 0.5) * low_w / width_px).astype(int), 0, low_w - 1)
    return np.asarray(low)[rows][:, cols].ravel()


_SIZE = re.compile(r"^\s*([^,:=@]+),([^,:=@]+):([^,:=@]+),([^,:=@]+)=([^@]+?)(?:@(\d+))?\s*$")


def parse_size(text: str, focal_px: float) -> Anchor:
    """``'X1,Y1:X2,Y2=LENGTH[@FRAME]'``: an object LENGTH metres long seen between two pixels,
    facing the camera, becomes an anchor at their midpoint (distance = focal_px x length /
    pixel length)."""
    m = _SIZE.match(text or "")
    try:
        x1, y1, x2, y2, length = (float(m.group(i)) for i in range(1, 6)) if m else (math.nan,) * 5
    except ValueError:
        x1 = y1 = x2 = y2 = length = math.nan
    values = (x1, y1, x2, y2, length)
    if m is None or not all(math.isfinite(v) for v in values) or length <= 0:
        raise RackFocusError(f"Bad size '{text}': write X1,Y1:X2,Y2=METRES, e.g. "
                             "600,200:600,560=1.8 for a person 1.8 m tall")
    return size_anchor(x1, y1, x2, y2, length, focal_px, int(m.group(6) or 0))


def size_anchor(x1: float, y1: float, x2: float, y2: float, length_m: float, focal_px: float,
                frame: int = 0) -> Anchor:
    """An object ``length_m`` long spanning pixels (x1, y1)-(x2, y2), facing the camera: an
    anchor at the midpoint, ``focal_px * length_m / pixel_length`` metres away."""
    span = math.hypot(x2 - x1, y2 - y1)
    if span < 1.0:
        raise RackFocusError("An object of known size must span at least one pixel")
    return Anchor((x1 + x2) / 2.0, (y1 + y2) / 2.0, focal_px * length_m / span, frame)


# --- scene cuts -------------------------------------------------------------------------------

def thumbnail(srgb: np.ndarray, width_px: int = THUMB_PX) -> np.ndarray:
    """A small luminance image (float32, about ``width_px`` wide) for frame comparisons."""
    img = np.asarray(srgb, dtype=np.float32)[..., :3]
    h, w = img.shape[:2]
    tw = min(width_px, w)
    th = max(1, int(round(h * tw / w)))
    luma = img @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return resize_bicubic(luma, tw, th)


def _filled(img: np.ndarray) -> np.ndarray:
    """NaN replaced by the image's median (phase correlation and gradients need numbers)."""
    out = np.asarray(img, dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        out = out.copy()
        out[bad] = float(np.median(out[~bad])) if (~bad).any() else 0.0
    return out


def phase_correlation(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """The shift (dx, dy) in pixels such that ``b(x) ~ a(x + dx, y + dy)``, and the peak's
    height (0..1: 1 for a pure shift of the same picture). Hann-windowed, sub-pixel by a
    parabola through the peak. Insensitive to a gain and an offset between the two."""
    h, w = a.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    fa = np.fft.rfft2((_filled(a) - np.nanmean(a)) * win)
    fb = np.fft.rfft2((_filled(b) - np.nanmean(b)) * win)
    cross = fa * np.conj(fb)
    cross /= np.maximum(np.abs(cross), 1e-12)
    corr = np.fft.irfft2(cross, s=(h, w))
    r, c = np.unravel_index(int(np.argmax(corr)), corr.shape)

    def vertex(m1: float, p: float, p1: float) -> float:
        d = m1 - 2.0 * p + p1
        return 0.5 * (m1 - p1) / d if d < 0 else 0.0

    peak = float(corr[r, c])
    dy = r + vertex(corr[r - 1, c], peak, corr[(r + 1) % h, c])
    dx = c + vertex(corr[r, c - 1], peak, corr[r, (c + 1) % w])
    dy = dy - h if dy > h / 2 else dy
    dx = dx - w if dx > w / 2 else dx
    return float(dx), float(dy), peak


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails (sRGB luminance 0..1), after the shift that
    best matches them where it matches them well: a pan, however fast, moves the picture and is
    not a difference; a cut changes it. The shift (phase correlation, whole pixels, up to a
    third of the frame) is used only when the shared part then differs by less than
    :data:`CUT_MATCH` of the picture's own contrast (a real pan measured under 1 %; another
    picture can always be shifted to look a little alike, never that much)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    plain = float(np.mean(np.abs(a - b)))
    dx, dy, _peak = phase_correlation(a, b)
    h, w = a.shape
    sx, sy = int(round(dx)), int(round(dy))
    if abs(sx) > w // 3 or abs(sy) > h // 3 or (sx == 0 and sy == 0):
        return plain
    # b(x) ~ a(x + sx, y + sy): compare the overlap.
    bb = b[max(0, -sy):h - max(0, sy), max(0, -sx):w - max(0, sx)]
    aa = a[max(0, sy):h - max(0, -sy), max(0, sx):w - max(0, -sx)]
    shifted = float(np.mean(np.abs(aa - bb)))
    contrast = 0.5 * (float(np.mean(np.abs(a - a.mean()))) + float(np.mean(np.abs(b - b.mean()))))
    return min(plain, shifted) if shifted < CUT_MATCH * contrast else plain


def detect_cuts(differences: Sequence[float], min_diff: float = CUT_MIN_DIFF,
                factor: float = CUT_FACTOR) -> list[int]:
    """Frames that start a new shot. ``differences[i]`` compares frame i with frame i - 1
    (``differences[0]`` is ignored). A cut is a difference above ``min_diff`` and ``factor``
    times the median of the recent differences, so a fast pan is not a cut; before three
    differences are known, only one above ``CUT_UNKNOWN_FACTOR * min_diff`` is."""
    cuts: list[int] = []
    recent: list[float] = []
    for i, d in enumerate(differences):
        if i == 0:
            continue
        if len(recent) >= 3:
            cut = d > min_diff and d > factor * float(np.median(recent))
        else:  # too little history to know the shot's motion: only a large jump
            cut = d > CUT_UNKNOWN_FACTOR * min_diff
        if cut:
            cuts.append(i)
        else:
            recent = (recent + [float(d)])[-CUT_HISTORY:]
    return cuts


def segments(count: int, cuts: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) frame ranges (0-based, end exclusive) between cuts."""
    bounds = [0] + sorted(c for c in set(cuts) if 0 < c < count) + [count]
    return [(a, b) for a, b in zip(bounds, bounds[1:])]
