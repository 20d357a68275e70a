"""Test oracles for depth plates (pure numpy): image fidelity measures and the reference plate
geometry. They check the product; they are not part of it (the extension zip leaves tests/ out).

Imported as ``oracles`` by tests/pure, tests/bl (``tests/`` is on ``sys.path`` through
``tests/conftest.py``) and by the benchmarks (which put ``tests/`` on ``sys.path`` themselves).
"""

from __future__ import annotations

import math

import numpy as np

from rackfocus_addon.plate_mesh import DEFAULT_TEAR, grid_size, tear_log


def reference_vertices(depth: np.ndarray, density: int, sensor_mm: float, focal_mm: float,
                       tear: float = DEFAULT_TEAR) -> np.ndarray:
    """Camera-space positions of the untorn grid vertices the Geometry Nodes plate makes.

    For checking the node tree: a vertex's depth is the mean of the depths of the pixels whose
    faces meet at it (all faces are within one pixel for density >= 1). Vertices on a tear are
    omitted (NaN), because they are split into one copy per side. Shape (ny, nx, 3), bottom row
    first (grid order).
    """
    h, w = depth.shape
    nx, ny = grid_size(w, h, density)
    # Depth of each face (ny-1, nx-1), grid order (bottom row first), from its centre's pixel.
    fu = (np.arange(nx - 1) + 0.5) / (nx - 1)
    fv = (np.arange(ny - 1) + 0.5) / (ny - 1)
    cols = np.minimum((fu * w).astype(int), w - 1)
    rows = np.minimum(((1.0 - fv) * h).astype(int), h - 1)
    face = np.asarray(depth, dtype=np.float64)[rows][:, cols]
    ln = np.log(face)
    padded = np.full((ny + 1, nx + 1), np.nan)
    padded[1:-1, 1:-1] = ln
    quads = np.stack([padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]])
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(quads, axis=0) - np.nanmin(quads, axis=0)
    torn = spread > tear_log(tear)
    mean = np.nanmean(np.exp(quads), axis=0)
    mean[torn] = np.nan
    u = np.arange(nx) / (nx - 1)
    v = np.arange(ny) / (ny - 1)
    sx = (u - 0.5) * sensor_mm / focal_mm
    sy = (v - 0.5) * sensor_mm * h / w / focal_mm
    out = np.empty((ny, nx, 3))
    out[..., 0] = sx[None, :] * mean
    out[..., 1] = sy[:, None] * mean
    out[..., 2] = -mean
    return out


# --- Fidelity measures --------------------------------------------------------------------------

def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, peak: float = 1.0
         ) -> float:
    """Peak signal-to-noise ratio (dB) of two images with values in [0, peak], over ``mask``."""
    diff = (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2
    if diff.ndim == 3:
        diff = diff.mean(axis=2)
    mse = float(diff[mask].mean() if mask is not None else diff.mean())
    return math.inf if mse <= 0.0 else 10.0 * math.log10(peak * peak / mse)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, sigma: float = 1.5
         ) -> float:
    """Mean structural similarity (Wang et al. 2004, Gaussian window) of the luma of two images."""
    def luma(img):
        img = np.asarray(img, dtype=np.float64)
        return img[..., :3] @ np.array([0.2126, 0.7152, 0.0722]) if img.ndim == 3 else img

    x, y = luma(a), luma(b)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = _gauss(x, sigma), _gauss(y, sigma)
    vx = _gauss(x * x, sigma) - mx * mx
    vy = _gauss(y * y, sigma) - my * my
    cxy = _gauss(x * y, sigma) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[mask].mean() if mask is not None else s.mean())


def _gauss(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (reflected borders), the SSIM window."""
    radius = max(1, int(round(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(img, radius, mode="reflect")
    out = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, pad)
    return np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, out)
