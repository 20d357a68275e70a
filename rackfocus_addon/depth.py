"""Depth maps to metric planar depth (pure, numpy only).

Conventions a user can declare for supplied depth (``KINDS``):

- ``metric``: planar z-depth in metres (distance along the camera's view axis), as Blender's Z pass
  and metric estimators write it. Used as is.
- ``normalized``: values in [0, 1], linear in depth, 0 at ``near_m`` and 1 at ``far_m``
  (a 16-bit PNG reads as value / 65535).
- ``inverse``: inverse depth or disparity up to an unknown scale and shift (relative estimators).
  Aligned to metric by one least-squares fit ``1/z = scale * v + shift`` in inverse-depth space
  against user anchors: pixels of known distance ("this pixel is 2.4 m") or near and far distances
  (the largest value is ``near_m``, the smallest ``far_m``). One fit serves the whole clip, so the
  result is stable over time (no per-frame flicker of scale).

Invalid samples (NaN, inf, zero or negative depth, and inverse values that align beyond infinity)
are masked, counted in the :class:`DepthReport` and filled from their nearest valid neighbours so a
plate never has holes (:meth:`Converter.convert_masked` says which samples were measured); a frame
with no valid sample at all is an error.

The fit's residual at every anchor is reported, and anchors that contradict each other or the depth
map beyond :data:`ANCHOR_TOLERANCE` are refused, naming the worst. :func:`validate_plate_settings`
holds the one set of ranges for a plate's settings (CLI flags and the Import Plate operator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .depth_fill import nearest_sources
from .errors import RackFocusError
from .limits import blender_fps

KINDS = ("metric", "normalized", "inverse")

#: Smallest metric depth kept (metres): closer than a millimetre is no lens's subject.
MIN_DEPTH_M = 1e-3

#: Largest relative residual of the inverse-depth fit at any anchor (or at --near/--far): 10 %.
#: One affine fit in inverse depth reproduces consistent anchors to within the estimator's noise
#: (about 1-3 %); an anchor 10 % off means the anchors contradict each other or the depth map
#: (a wrong pixel, frame or distance, or depth that is not affine in inverse depth), and focusing
#: 10 % off is visibly soft at the wide apertures depth plates are made for.
ANCHOR_TOLERANCE = 0.10

#: Smallest footage Blender renders (its minimum render resolution is 4x4 pixels).
MIN_FOOTAGE_PX = 4

#: Ranges of a plate's settings, inclusive (see :func:`validate_plate_settings`).
SENSOR_RANGE_MM = (1.0, 200.0)     # Blender's minimum sensor; beyond the largest film formats
FOCAL_RANGE_MM = (1.0, 5000.0)     # Blender's minimum focal length; the longest lenses made
DENSITY_RANGE = (0.125, 4.0)       # vertices per pixel: 1/8 (a preview) to 4 (16 per pixel)
TEAR_RANGE = (0.001, 10.0)         # a 0.1 % depth jump tears (noise) .. 1000 % (never tears)
FILL_PX_RANGE = (0, 1024)          # background fill radius in pixels
FPS_RANGE = (1.0, 1000.0)          # frames per second (Blender stores fps as an integer >= 1)
DEPTH_RANGE_M = (MIN_DEPTH_M, 1e7)  # --near/--far: a millimetre to well beyond any scene

#: How :func:`validate_plate_settings` names each setting (the CLI's flags by default).
PLATE_FLAGS = {"sensor_mm": "--sensor", "focal_mm": "--focal", "density": "--density",
               "tear": "--tear", "fill_px": "--fill-px", "fps": "--fps", "near_m": "--near",
               "far_m": "--far"}


@dataclass(frozen=True)
class Anchor:
    """A known distance: the pixel (x, y) (origin top-left) of ``frame`` is ``metres`` away.

    ``frame`` is the 0-based index into the clip's depth frames (0: the first frame).
    """

    x: float
    y: float
    metres: float
    frame: int = 0

    def spec(self) -> str:
        at = f"@{self.frame}" if self.frame else ""
        return f"{self.x:g},{self.y:g}={self.metres:g}{at}"


@dataclass(frozen=True)
class AnchorFit:
    """How the inverse-depth fit meets one anchor (or --near/--far): ``fitted_m`` against
    ``metres``; ``fitted_m`` is inf where the fit puts the pixel beyond infinity."""

    label: str
    metres: float
    fitted_m: float

    @property
    def residual_m(self) -> float:
        return self.fitted_m - self.metres

    @property
    def relative(self) -> float:
        """Residual as a fraction of the anchor's distance (inf beyond infinity)."""
        return self.residual_m / self.metres

    def describe(self) -> str:
        if not math.isfinite(self.fitted_m):
            return f"{self.label}: the fit puts it beyond infinity"
        return (f"{self.label}: fitted {self.fitted_m:.4g} m, residual {self.residual_m:+.3g} m "
                f"({100.0 * self.relative:+.3g} %)")


@dataclass
class DepthReport:
    """What conversion found: invalid pixels masked, alignment used, warnings for the user.

    ``anchors`` are the fit's residuals at every anchor (inverse depth only), one line each in
    :attr:`notes`.
    """

    kind: str
    frames: int = 0
    pixels: int = 0
    invalid: int = 0
    scale: float = 1.0
    shift: float = 0.0
    min_m: float = math.nan
    max_m: float = math.nan
    warnings: list[str] = field(default_factory=list)
    anchors: list[AnchorFit] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """One line per anchor: its fitted distance and residual (metres and percent)."""
        return [f"anchor {fit.describe()}" for fit in self.anchors]

    def summary(self) -> str:
        text = (f"{self.kind} depth, {self.frames} frame(s), {self.min_m:.3g}-{self.max_m:.3g} m")
        if self.kind == "inverse":
            text += f", 1/z = {self.scale:.6g} * v + {self.shift:.6g}"
            if self.anchors:
                worst = max(abs(fit.relative) for fit in self.anchors)
                text += f", anchors fit within {100.0 * worst:.2g} %"
        if self.invalid:
            text += f", {self.invalid} invalid pixel(s) masked"
        return text


def parse_anchor(text: str) -> Anchor:
    """``'X,Y=M'`` or ``'X,Y=M@FRAME'`` (frame index from 0) to an :class:`Anchor`."""
    raw = (text or "").strip()
    where, sep, what = raw.partition("=")
    frame = 0
    if "@" in what:
        what, _, frame_text = what.partition("@")
        try:
            frame = int(frame_text)
        except ValueError:
            frame = -1
    parts = where.split(",")
    try:
        x, y = (float(p) for p in parts)
        metres = float(what)
    except ValueError:
        x = y = metres = math.nan
    if not sep or not all(math.isfinite(v) for v in (x, y, metres)) or frame < 0:
        raise RackFocusError(f"Bad anchor '{raw}': write X,Y=METRES, e.g. 640,360=2.4")
    if metres <= 0.0:
        raise RackFocusError(f"Bad anchor '{raw}': the distance must be positive metres")
    return Anchor(x, y, metres, frame)


def validate_plate_settings(sensor_mm: float = 36.0, focal_mm: float = 50.0,
                            density: float = 1.0, tear: float = 0.03,
                            fill_px: float | None = None, fps: float | None = None,
                            near_m: float | None = None, far_m: float | None = None,
                            names: dict[str, str] | None = None) -> list[str]:
    """Every setting of a plate that cannot be right, one line each naming it (empty: all fine).

    ``None`` means "not given" for ``fill_px``, ``fps``, ``near_m`` and ``far_m``. ``names``
    maps the keys of :data:`PLATE_FLAGS` to what the caller calls them (the operator's labels).
    """
    label = dict(PLATE_FLAGS, **(names or {}))
    problems: list[str] = []

    def check(key, value, bounds, what, unit=""):
        lo, hi = bounds
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and lo <= number <= hi):
            shown = f"{value:g}" if isinstance(value, int | float) else repr(value)
            problems.append(f"{label[key]} must be {what} from {lo:g} to {hi:g}{unit} "
                            f"(got {shown})")
            return False
        return True

    check("sensor_mm", sensor_mm, SENSOR_RANGE_MM, "a sensor width", " mm")
    check("focal_mm", focal_mm, FOCAL_RANGE_MM, "a focal length", " mm")
    check("density", density, DENSITY_RANGE, "a grid density", " vertices per pixel")
    check("tear", tear, TEAR_RANGE, "a relative depth jump", " (0.03: 3 %)")
    if fill_px is not None and check("fill_px", fill_px, FILL_PX_RANGE, "a fill radius",
                                     " pixels") and float(fill_px) != int(float(fill_px)):
        problems.append(f"{label['fill_px']} must be a whole number of pixels (got {fill_px:g})")
    if fps is not None and check("fps", fps, FPS_RANGE, "a frame rate", " frames per second"):
        try:
            blender_fps(float(fps))
        except RackFocusError as err:
            problems.append(f"{label['fps']}: {err}")
    ok_near = near_m is None or check("near_m", near_m, DEPTH_RANGE_M, "a distance", " m")
    ok_far = far_m is None or check("far_m", far_m, DEPTH_RANGE_M, "a distance", " m")
    if near_m is not None and far_m is not None and ok_near and ok_far and near_m >= far_m:
        problems.append(f"{label['near_m']} must be nearer than {label['far_m']} "
                        f"(got {near_m:g} m and {far_m:g} m)")
    return problems


def bit_depth_warning(bits_per_channel: int) -> str | None:
    """A warning for depth stored with too few levels to be smooth (8-bit: 256 steps)."""
    if bits_per_channel <= 8:
        return (f"Depth has only {bits_per_channel} bits per channel ({2 ** bits_per_channel} "
                "levels): expect banding (visible steps in the plate and in the blur); "
                "supply 16-bit PNG or float EXR for smooth depth")
    return None


def valid_mask(values: np.ndarray, kind: str) -> np.ndarray:
    """Samples that can be depth of ``kind``: finite, and positive unless ``kind`` is normalized."""
    ok = np.isfinite(values)
    if kind == "normalized":
        return ok & (values >= 0.0)
    return ok & (values > 0.0)


def fit_inverse(values: Sequence[float], metres: Sequence[float]) -> tuple[float, float]:
    """Least squares ``1/metres ~ scale * values + shift``; one sample fits the scale alone."""
    v = np.asarray(values, dtype=np.float64)
    inv = 1.0 / np.asarray(metres, dtype=np.float64)
    if v.size == 0:
        raise RackFocusError("Inverse depth needs anchors: --anchor X,Y=M or --near/--far")
    if v.size == 1 or np.ptp(v) <= 1e-12 * max(abs(float(v.max())), 1.0):
        if abs(float(v @ v)) <= 0.0:
            raise RackFocusError("Inverse depth is 0 at every anchor: cannot scale it to metres")
        return float((v @ inv) / (v @ v)), 0.0
    design = np.stack([v, np.ones_like(v)], axis=1)
    (scale, shift), *_ = np.linalg.lstsq(design, inv, rcond=None)
    if scale <= 0.0:
        raise RackFocusError(
            "The anchors make nearer pixels farther (inverse depth must grow towards the camera): "
            "check the anchors, or declare --depth-kind metric/normalized"
        )
    return float(scale), float(shift)


def sample_at(frame: np.ndarray, x: float, y: float) -> float:
    """The value of the pixel nearest (x, y) (origin top-left, integers are pixel centres)."""
    h, w = frame.shape[:2]
    col, row = int(round(x)), int(round(y))
    if not (0 <= col < w and 0 <= row < h):
        raise RackFocusError(f"Pixel ({x:g}, {y:g}) is outside the {w}x{h} frame")
    return float(frame[row, col])


def to_metric(frames: Sequence[np.ndarray], kind: str, near_m: float | None = None,
              far_m: float | None = None, anchors: Sequence[Anchor] = ()
              ) -> tuple[list[np.ndarray], DepthReport]:
    """Convert raw depth frames (each (H, W), top row first) to metric planar depth in metres.

    Returns float32 frames with every invalid sample filled from its nearest valid neighbour, and
    a report. Raises :class:`RackFocusError` for missing parameters or a frame with no valid pixel.
    A whole clip in memory; :class:`Converter` does the same frame by frame.
    """
    frames = list(frames)
    conv = Converter(kind, near_m, far_m, anchors)
    conv.fit(lambda: iter(frames), len(frames))
    out = [conv.convert(f, i) for i, f in enumerate(frames)]
    return out, conv.finish()


class Converter:
    """Clip-wide depth conversion in two passes that never hold the clip in memory.

    ``fit(frames)`` scans the clip once (inverse depth: anchors, smallest and largest values) and
    fixes one alignment for every frame; ``convert(frame, index)`` converts one frame;
    ``finish()`` returns the report.
    """

    def __init__(self, kind: str, near_m: float | None = None, far_m: float | None = None,
                 anchors: Sequence[Anchor] = ()) -> None:
        if kind not in KINDS:
            raise RackFocusError(f"Unknown depth kind '{kind}': use {', '.join(KINDS)}")
        self.kind, self.near_m, self.far_m, self.anchors = kind, near_m, far_m, list(anchors)
        self.report = DepthReport(kind)
        self._over = 0
        if kind == "metric" and (near_m is not None or far_m is not None or anchors):
            self.report.warnings.append(
                "Metric depth is used as is: --near/--far/--anchor ignored")
        if kind == "normalized":
            if near_m is None or far_m is None:
                raise RackFocusError(
                    "Normalized depth needs --near and --far (metres at 0 and 1)")
            _check_near_far(near_m, far_m)
        if kind == "inverse":
            if (near_m is None) != (far_m is None):
                raise RackFocusError("Give both --near and --far (or anchors)")
            if near_m is not None:
                _check_near_far(near_m, far_m)
            if not anchors and near_m is None:
                raise RackFocusError(
                    "Inverse depth needs anchors (--anchor X,Y=M) or --near and --far")

    def fit(self, frames, count: int) -> None:
        """Fix the clip's alignment: ``frames()`` returns an iterator over the ``count`` raw
        frames. Only inverse depth reads them (its alignment spans the clip); metric and
        normalized depth need no scan, and :meth:`convert_masked` refuses a frame with no valid
        pixel when it comes to it (one read of each frame instead of two)."""
        if count <= 0:
            raise RackFocusError("No depth frames")
        self.report.frames = count
        for a in self.anchors:
            if not 0 <= a.frame < count:
                raise RackFocusError(f"Anchor {a.spec()}: frame {a.frame} is outside the clip "
                                     f"(0..{count - 1})")
        if self.kind != "inverse":
            return
        labels: list[str] = []
        values: list[float] = []
        metres: list[float] = []
        lo, hi = math.inf, -math.inf
        for i, frame in enumerate(frames()):
            frame = np.asarray(frame, dtype=np.float64)
            ok = valid_mask(frame, self.kind)
            if not ok.any():
                raise RackFocusError(
                    f"Depth frame {i + 1} has no valid pixel (all NaN, inf or <= 0)")
            lo, hi = min(lo, float(frame[ok].min())), max(hi, float(frame[ok].max()))
            h, w = frame.shape[:2]
            for a in self.anchors:
                if a.frame != i:
                    continue
                if not (0 <= round(a.x) < w and 0 <= round(a.y) < h):
                    raise RackFocusError(f"Anchor {a.spec()}: pixel ({a.x:g}, {a.y:g}) is "
                                         f"outside the {w}x{h} frame")
                v = sample_at(frame, a.x, a.y)
                if not (math.isfinite(v) and v > 0.0):
                    raise RackFocusError(
                        f"Anchor {a.spec()} lies on an unmeasured depth pixel (value {v:g}: "
                        "NaN, inf and <= 0 are masked): pick a pixel with measured depth")
                labels.append(a.spec())
                values.append(v)
                metres.append(a.metres)
        if self.near_m is not None:
            labels += [f"--near {self.near_m:g} m (largest value)",
                       f"--far {self.far_m:g} m (smallest value)"]
            values += [hi, lo]
            metres += [self.near_m, self.far_m]
        self.report.scale, self.report.shift = fit_inverse(values, metres)
        self.report.anchors = self._residuals(labels, values, metres)

    def _residuals(self, labels, values, metres) -> list[AnchorFit]:
        """The fit at every anchor; refuses when one is off by more than ANCHOR_TOLERANCE."""
        fits = []
        for label, v, m in zip(labels, values, metres):
            inv = self.report.scale * v + self.report.shift
            fits.append(AnchorFit(label, float(m), 1.0 / inv if inv > 0.0 else math.inf))
        worst = max(fits, key=lambda fit: abs(fit.relative), default=None)
        if worst is not None and not abs(worst.relative) <= ANCHOR_TOLERANCE:
            raise RackFocusError(
                f"Anchors contradict each other or the depth map: the worst is anchor "
                f"{worst.describe()}, beyond the {100 * ANCHOR_TOLERANCE:g} % tolerance; check "
                "that anchor's pixel, frame and distance")
        return fits

    def convert(self, frame: np.ndarray, index: int = 0) -> np.ndarray:
        """One raw frame to metric planar depth (float32, invalid samples filled)."""
        return self.convert_masked(frame, index)[0]

    def convert_masked(self, frame: np.ndarray, index: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
        """One raw frame to (metric planar depth (float32, invalid samples filled), measured):
        ``measured`` is False where the depth was filled from neighbours."""
        # float32 (as the cache stores it, and half the memory) except inverse depth, whose
        # affine fit can nearly cancel for far pixels.
        f = np.asarray(frame, dtype=np.float64 if self.kind == "inverse" else np.float32)
        ok = valid_mask(f, self.kind)
        if self.kind == "metric":
            z = f
        elif self.kind == "normalized":
            self._over += int((ok & (f > 1.0)).sum())
            z = np.float32(self.near_m) + f * np.float32(self.far_m - self.near_m)
        else:
            inv = self.report.scale * f + self.report.shift
            ok &= inv > 0.0
            z = (1.0 / np.where(ok, inv, 1.0)).astype(np.float32)
            del inv
        ok &= np.isfinite(z) & (z >= MIN_DEPTH_M)
        if not ok.any():
            raise RackFocusError(f"Depth frame {index + 1} has no valid pixel (all NaN, inf or "
                                 "<= 0, or beyond infinity after alignment)")
        self.report.pixels += int(f.size)
        self.report.invalid += int(f.size - ok.sum())
        out = z
        if not ok.all():
            if np.shares_memory(out, frame):
                out = out.copy()
            holes = ~ok
            src = nearest_sources(ok, holes)[holes]
            out[holes] = out.ravel()[src]
        lo, hi = float(out.min()), float(out.max())
        rep = self.report
        rep.min_m = lo if math.isnan(rep.min_m) else min(rep.min_m, lo)
        rep.max_m = hi if math.isnan(rep.max_m) else max(rep.max_m, hi)
        return out, ok

    def finish(self) -> DepthReport:
        rep = self.report
        if self._over:
            rep.warnings.append(f"{self._over} normalized value(s) above 1 (beyond --far)")
        if rep.invalid:
            share = 100.0 * rep.invalid / max(rep.pixels, 1)
            rep.warnings.append(
                f"{rep.invalid} depth pixel(s) ({share:.2g}%) were NaN, inf, zero, negative or "
                "beyond infinity: masked and filled from their neighbours"
            )
        return rep


def _check_near_far(near_m: float, far_m: float) -> None:
    if not (near_m > 0.0 and far_m > near_m and math.isfinite(far_m)):
        raise RackFocusError(f"Need 0 < --near < --far (got near {near_m:g} m, far {far_m:g} m)")


def fill_nearest(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``values`` (float64) with every invalid sample replaced by its nearest valid one.

    Holes fill from their rims without blending: a hole on a depth edge splits between the two
    sides (along its middle) instead of bridging them with in-between depths. O(N) whatever the
    size of the holes (:func:`nearest_sources`). With no valid sample at all, 0 everywhere.
    """
    valid = np.asarray(valid, dtype=bool)
    out = np.where(valid, values, 0.0).astype(np.float64)
    holes = ~valid
    if holes.any():
        src = nearest_sources(valid, holes)
        take = src >= 0
        out[take] = out.ravel()[src[take]]
    return out


def check_footage_size(width_px: int, height_px: int) -> None:
    """Raise for footage smaller than Blender renders (4x4 pixels): no plate and no estimate."""
    if min(width_px, height_px) < MIN_FOOTAGE_PX:
        raise RackFocusError(
            f"Footage is {width_px}x{height_px} pixels: Blender renders at least "
            f"{MIN_FOOTAGE_PX}x{MIN_FOOTAGE_PX}, so a plate needs footage that size or larger")


def check_clip(footage_count: int, footage_size: tuple[int, int], depth_count: int,
               depth_size: tuple[int, int]) -> None:
    """Raise if footage and depth do not describe the same clip (frame count, aspect ratio), or
    the footage is smaller than Blender renders."""
    if depth_count != footage_count:
        raise RackFocusError(
            f"Footage has {footage_count} frame(s) but depth has {depth_count}: supply one depth "
            "frame per footage frame"
        )
    fw, fh = footage_size
    dw, dh = depth_size
    check_footage_size(fw, fh)
    if abs(fw * dh - fh * dw) > max(fw, dw):  # more than one pixel of aspect mismatch
        raise RackFocusError(
            f"Footage is {fw}x{fh} but depth is {dw}x{dh}: the aspect ratios differ"
        )


def resize_nearest(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize (depth must not be blurred across edges) to (height, width)."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(int), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(int), w - 1)
    return frame[rows][:, cols]
