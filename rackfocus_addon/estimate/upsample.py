"""A depth network's low-resolution output to footage size, keeping depth edges (pure, numpy).

Bilinear upsampling blends the two sides of a depth jump into "flying pixels" between them, and
a depth plate would stretch a sheet across them. Here a pixel takes plain bilinear interpolation
only where the four low-resolution samples around it agree (within ``edge_ratio``, the plate's
tear ratio). Pixels at a jump (a few percent of a frame) take a joint-bilateral estimate from the
4 x 4 samples around them, weighted by distance, by how alike the footage colour at the pixel is
to the footage colour at each sample, and down where a sample is itself a blurred mix of both
sides (networks blur the samples on a jump); only the samples on the same side of the jump as
the best-matching one are averaged. The result holds no depth between the two sides of an edge;
the footage decides on which side each pixel lies. Measured at 1080p from 924 x 518: about
40 ms a frame on two cores.

Works in inverse depth (what the aligner produces); invalid samples (NaN, or <= 0: beyond
infinity) carry no weight, and a pixel with no valid neighbour comes out NaN.
"""

from __future__ import annotations

import numpy as np

#: Relative jump that counts as a depth edge (3 %, the plate's default tear ratio).
DEFAULT_EDGE_RATIO = 0.03
#: Colour similarity scale (sRGB 0..1 units) of the joint-bilateral weights.
DEFAULT_SIGMA_COLOR = 0.08
#: Distance scale (low-resolution pixels) of the joint-bilateral weights.
SIGMA_SPACE_LOW_PX = 1.0
#: Relative weight of a low-resolution sample that itself sits on a jump (a mix of both sides).
MIXED_WEIGHT = 0.02


def _axis(n_low: int, n_high: int) -> tuple[np.ndarray, np.ndarray]:
    """Low-resolution coordinate of each high-resolution pixel centre: (floor index, fraction)."""
    pos = (np.arange(n_high) + 0.5) * (n_low / n_high) - 0.5
    pos = np.clip(pos, 0.0, n_low - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.int64), max(n_low - 2, 0))
    return i0, (pos - i0).astype(np.float32)


def _mixed(vals: np.ndarray, valid: np.ndarray, edge_ratio: float) -> np.ndarray:
    """Low-resolution samples that lie between their neighbours across a jump (a neighbour
    nearer and one farther by more than ``edge_ratio``): the blurred mix of two surfaces a
    network leaves on a depth edge. A sample beside a jump, on either plateau, is not mixed."""
    h, w = vals.shape
    big = np.pad(np.where(valid, vals, -np.inf), 1, mode="edge")
    small = np.pad(np.where(valid, vals, np.inf), 1, mode="edge")
    hi = np.full((h, w), -np.inf, dtype=np.float32)
    lo = np.full((h, w), np.inf, dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            hi = np.maximum(hi, big[dy:dy + h, dx:dx + w])
            lo = np.minimum(lo, small[dy:dy + h, dx:dx + w])
    return valid & (hi > vals * (1.0 + edge_ratio)) & (lo * (1.0 + edge_ratio) < vals)


def _separable(a: np.ndarray, r0, fy, c0, fx) -> np.ndarray:
    """Bilinear interpolation of (h, w) ``a`` at the high-resolution pixel centres."""
    rows = a[r0] * (1.0 - fy)[:, None] + a[r0 + 1] * fy[:, None]
    return rows[:, c0] * (1.0 - fx)[None, :] + rows[:, c0 + 1] * fx[None, :]


def upsample_inverse_depth(low: np.ndarray, guide: np.ndarray,
                           edge_ratio: float = DEFAULT_EDGE_RATIO,
                           sigma_color: float = DEFAULT_SIGMA_COLOR) -> np.ndarray:
    """``low`` (h, w) inverse depth -> (H, W) at the size of ``guide`` (H, W, >=3, sRGB 0..1).

    Returns float32; NaN where no valid low-resolution sample was near.
    """
    low = np.asarray(low, dtype=np.float32)
    guide = np.asarray(guide, dtype=np.float32)[..., :3]
    big_h, big_w = guide.shape[:2]
    valid = np.isfinite(low) & (low > 0.0)
    vals = np.where(valid, low, 0.0).astype(np.float32)
    if vals.shape[0] == 1 or vals.shape[1] == 1:
        pad = ((0, int(vals.shape[0] == 1)), (0, int(vals.shape[1] == 1)))
        vals, valid = np.pad(vals, pad, mode="edge"), np.pad(valid, pad, mode="edge")
    h, w = vals.shape
    r0, fy = _axis(h, big_h)
    c0, fx = _axis(w, big_w)
    # Bilinear, separable; invalid samples carry no weight.
    if valid.all():
        out = _separable(vals, r0, fy, c0, fx)
    else:
        wsum = _separable(valid.astype(np.float32), r0, fy, c0, fx)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(wsum > 1e-6, _separable(vals, r0, fy, c0, fx) / wsum, np.nan)
    out = out.astype(np.float32)
    # Cells (2 x 2 low-resolution samples) holding a jump or an invalid sample; the pixels
    # interpolated from them are redone edge-aware.
    hi = np.where(valid, vals, -np.inf)
    lo = np.where(valid, vals, np.inf)
    cell_hi = np.maximum(np.maximum(hi[:-1, :-1], hi[1:, :-1]), np.maximum(hi[:-1, 1:], hi[1:, 1:]))
    cell_lo = np.minimum(np.minimum(lo[:-1, :-1], lo[1:, :-1]), np.minimum(lo[:-1, 1:], lo[1:, 1:]))
    cell_ok = valid[:-1, :-1] & valid[1:, :-1] & valid[:-1, 1:] & valid[1:, 1:]
    cell_edge = ((cell_hi > cell_lo * (1.0 + edge_ratio)) | ~cell_ok) & (cell_hi > 0.0)
    if not cell_edge.any():
        return out
    edge_rows = np.flatnonzero(cell_edge.any(axis=1)[r0])
    sub = cell_edge[r0[edge_rows]][:, c0]
    ys, xs = np.nonzero(sub)
    if ys.size == 0:
        return out
    ys = edge_rows[ys]
    out[ys, xs] = _joint_bilateral(vals, valid, guide, ys, xs, edge_ratio, sigma_color)
    return out


def _joint_bilateral(vals: np.ndarray, valid: np.ndarray, guide: np.ndarray, ys: np.ndarray,
                     xs: np.ndarray, edge_ratio: float, sigma_color: float) -> np.ndarray:
    """Inverse depth at footage pixels (``ys``, ``xs``) from the 4 x 4 low-resolution samples
    around each (both sides of a jump inside its cell, and the smooth samples beyond a blurred
    one), each compared with the footage at its own centre (as Kopf et al.'s joint bilateral
    upsampling samples the guide); only the samples on the best one's side are averaged.
    float32 and flat indices throughout: on a frame that is all edges (a noisy network) this
    is most of the upsampling's time."""
    h, w = vals.shape
    big_h, big_w = guide.shape[:2]
    py = ((ys + 0.5) * (h / big_h) - 0.5).astype(np.float32)
    px = ((xs + 0.5) * (w / big_w) - 0.5).astype(np.float32)
    offsets = np.arange(-1, 3)
    ny = np.clip(np.floor(py).astype(np.int64)[:, None, None] + offsets[None, :, None], 0, h - 1)
    nx = np.clip(np.floor(px).astype(np.int64)[:, None, None] + offsets[None, None, :], 0, w - 1)
    ny, nx = np.broadcast_arrays(ny, nx)
    ny = ny.reshape(ys.size, -1)
    nx = nx.reshape(ys.size, -1)
    low_at = ny * w + nx  # the 16 samples' flat indices
    gy = np.minimum(((ny + 0.5) * (big_h / h)).astype(np.int64), big_h - 1)
    gx = np.minimum(((nx + 0.5) * (big_w / w)).astype(np.int64), big_w - 1)
    guide_at = gy * big_w + gx
    del gy, gx
    flat_guide = guide.reshape(-1, 3)
    own = flat_guide[ys * big_w + xs]
    expo = np.zeros(low_at.shape, dtype=np.float32)
    for c in range(3):
        diff = flat_guide[:, c][guide_at]
        diff -= own[:, c, None]
        diff *= diff
        expo += diff
    del guide_at
    expo *= np.float32(-0.5 / sigma_color ** 2)
    dy = ny.astype(np.float32) - py[:, None]
    dx = nx.astype(np.float32) - px[:, None]
    del ny, nx
    dy *= dy
    dx *= dx
    dy += dx
    del dx
    dy *= np.float32(-0.5 / SIGMA_SPACE_LOW_PX ** 2)
    expo += dy
    del dy
    wgt = np.exp(expo, out=expo)
    # Samples on a jump mix both sides (the network's receptive field blurs them): prefer the
    # plateaus on either side.
    mixed = _mixed(vals, valid, edge_ratio).ravel()[low_at]
    wgt[mixed] *= np.float32(MIXED_WEIGHT)
    ok = valid.ravel()[low_at]
    wgt[~ok] = 0.0
    v = vals.ravel()[low_at]
    best = np.argmax(wgt, axis=1)
    anchor = v[np.arange(ys.size), best]
    same = ok & (np.abs(v - anchor[:, None]) <= edge_ratio * anchor[:, None])
    wgt[~same] = 0.0
    total = wgt.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        picked = np.where(total > 0.0, (wgt * v).sum(axis=1) / np.maximum(total, 1e-30), np.nan)
    return picked.astype(np.float32)
