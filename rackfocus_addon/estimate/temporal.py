"""Temporal stability of estimated depth (pure, numpy only).

- :class:`TemporalFilter`: an optional edge-aware recursive filter for per-frame models. Each
  pixel's inverse depth is averaged with the previous filtered frame's, weighted down where the
  footage colour changed (something moved there) or the depth jumped (an edge moved there), so
  still surfaces stop shimmering and moving edges do not ghost.
- :class:`WindowStitcher`: video models (Video Depth Anything) see windows of 32 frames; windows
  overlap by 10 frames, each new window is mapped onto the stitched result by a least-squares
  scale and shift on the overlap, and the last 8 overlap frames cross-fade from the old window to
  the new one, as upstream's inference does. Frames come out in order once final; the state
  (pending overlap frames) can be saved and restored so a long clip resumes after a stop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .align import MAX_FIT_SAMPLES, Transform, robust_affine

#: Weight of the previous frame where nothing changed (0.6: a still pixel's noise falls to about
#: half in steady state, and a real change fades in within a few frames).
DEFAULT_STRENGTH = 0.6
#: Colour change (sRGB 0..1) at which the previous frame's weight falls to exp(-1/2).
DEFAULT_SIGMA_COLOR = 0.04
#: Relative inverse-depth change at which the previous frame's weight falls to exp(-1/2).
DEFAULT_SIGMA_DEPTH = 0.03

WINDOW_FRAMES = 32
OVERLAP_FRAMES = 10
CROSSFADE_FRAMES = 8


class TemporalFilter:
    """Edge-aware recursive smoothing of inverse depth over time (reset at cuts)."""

    def __init__(self, strength: float = DEFAULT_STRENGTH,
                 sigma_color: float = DEFAULT_SIGMA_COLOR,
                 sigma_depth: float = DEFAULT_SIGMA_DEPTH) -> None:
        self.strength = strength
        self.sigma_color = sigma_color
        self.sigma_depth = sigma_depth
        self._prev: np.ndarray | None = None
        self._prev_guide: np.ndarray | None = None

    def reset(self) -> None:
        self._prev = self._prev_guide = None

    def apply(self, inverse: np.ndarray, guide: np.ndarray) -> np.ndarray:
        """Filter one frame: ``inverse`` (H, W) inverse depth, ``guide`` (H, W, >=3) sRGB."""
        cur = np.asarray(inverse, dtype=np.float32)
        g = np.asarray(guide, dtype=np.float32)[..., :3]
        prev, prev_g = self._prev, self._prev_guide
        if prev is None or prev.shape != cur.shape:
            out = cur
        else:
            # In place, float32: weight = strength * exp(-dc^2 / 2 sc^2 - (dz / z)^2 / 2 sd^2);
            # NaN anywhere (no depth in either frame) gives weight 0 (the current value).
            d = g - prev_g
            arg = np.einsum("ijk,ijk->ij", d, d)
            arg *= np.float32(-0.5 / self.sigma_color ** 2)
            rel = cur - prev
            with np.errstate(invalid="ignore", divide="ignore"):
                rel /= cur
            rel *= rel
            rel *= np.float32(-0.5 / self.sigma_depth ** 2)
            arg += rel
            w = np.exp(arg, out=arg)
            w *= np.float32(self.strength)
            np.nan_to_num(w, copy=False, nan=0.0)
            num = np.nan_to_num(prev, nan=0.0) * w
            num += cur
            w += 1.0
            out = num / w
        self._prev, self._prev_guide = out, g
        return out


def window_starts(count: int, window: int = WINDOW_FRAMES, overlap: int = OVERLAP_FRAMES
                  ) -> list[int]:
    """First frame of each window over ``count`` frames (the last window may run past the end:
    it is padded with the last frame)."""
    if window <= overlap:
        raise ValueError("A window must be longer than its overlap")
    starts = [0]
    while starts[-1] + window < count:
        starts.append(starts[-1] + window - overlap)
    return starts


class WindowStitcher:
    """Stitch overlapping windows of a video model into one consistent sequence.

    Feed windows in order with :meth:`add` (``start`` from :func:`window_starts`, the window's
    predictions, padding included); it returns the frames that became final as (index, values).
    ``relative`` windows are aligned by scale and shift; metric ones are only cross-faded.
    """

    def __init__(self, count: int, window: int = WINDOW_FRAMES, overlap: int = OVERLAP_FRAMES,
                 crossfade: int = CROSSFADE_FRAMES, relative: bool = True) -> None:
        if not 0 <= crossfade <= overlap:
            raise ValueError("The cross-fade must fit in the overlap")
        self.count, self.window, self.overlap = count, window, overlap
        self.crossfade, self.relative = crossfade, relative
        self.starts = window_starts(count, window, overlap)
        self.next_window = 0
        #: Frames of the previous window that the next one overlaps: index -> values.
        self.pending: dict[int, np.ndarray] = {}
        self.fits: list[Transform] = []

    def add(self, start: int, predictions: Sequence[np.ndarray]) -> list[tuple[int, np.ndarray]]:
        k = self.next_window
        if k >= len(self.starts) or start != self.starts[k]:
            raise ValueError(f"Window starting at {start} is not the next one")
        end = min(start + self.window, self.count)
        preds = [np.asarray(p, dtype=np.float32) for p in predictions[:end - start]]
        overlap_idx = sorted(i for i in self.pending if start <= i < end)
        fit = Transform()
        if overlap_idx and self.relative:
            ref = np.stack([self.pending[i] for i in overlap_idx])
            new = np.stack([preds[i - start] for i in overlap_idx])
            rows = slice(None, None, max(1, int(np.ceil(ref.size / MAX_FIT_SAMPLES))))
            a = new.ravel()[rows].astype(np.float64)
            b = ref.ravel()[rows].astype(np.float64)
            ok = np.isfinite(a) & np.isfinite(b)
            if ok.sum() >= 2:
                scale, shift, _w = robust_affine(a[ok], b[ok])
                if scale > 0.0 and np.isfinite(scale) and np.isfinite(shift):
                    fit = Transform(scale, shift)
        self.fits.append(fit)
        aligned = [fit.apply(p).astype(np.float32) for p in preds]
        out: list[tuple[int, np.ndarray]] = []
        fade_from = len(overlap_idx) - self.crossfade
        for n, i in enumerate(overlap_idx):
            old, cur = self.pending.pop(i), aligned[i - start]
            step = n - fade_from
            if step < 0:
                value = old
            else:
                alpha = (step + 1.0) / (self.crossfade + 1.0)
                value = ((1.0 - alpha) * old + alpha * cur).astype(np.float32)
            out.append((i, value))
        self.pending.clear()
        last = k == len(self.starts) - 1
        hold_from = end if last else self.starts[k + 1]
        first_new = start + len(overlap_idx)
        for i in range(first_new, end):
            if i < hold_from:
                out.append((i, aligned[i - start]))
            else:
                self.pending[i] = aligned[i - start]
        self.next_window = k + 1
        return out

    @property
    def done(self) -> bool:
        return self.next_window >= len(self.starts)
