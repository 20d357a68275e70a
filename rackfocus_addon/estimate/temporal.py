"""Temporal stability of estimated depth (pure, numpy only).

:class:`TemporalFilter`: an optional edge-aware recursive filter for per-frame models. Each
pixel's inverse depth is averaged with the previous filtered frame's, weighted down where the
footage colour changed (something moved there) or the depth jumped (an edge moved there), so
still surfaces stop shimmering and moving edges do not ghost. Video models' windows are stitched
in :mod:`.video`.
"""

from __future__ import annotations

import numpy as np

#: Weight of the previous frame where nothing changed (0.6: a still pixel's noise falls to about
#: half in steady state, and a real change fades in within a few frames).
DEFAULT_STRENGTH = 0.6
#: Colour change (sRGB 0..1) at which the previous frame's weight falls to exp(-1/2).
DEFAULT_SIGMA_COLOR = 0.04
#: Relative inverse-depth change at which the previous frame's weight falls to exp(-1/2).
DEFAULT_SIGMA_DEPTH = 0.03


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
