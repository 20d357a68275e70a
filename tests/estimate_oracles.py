"""Test oracles for depth estimation (not shipped): a numpy ray caster for a shot with known
depth and camera motion, the synthetic "estimates" a relative network would give, and the
measures (median relative depth error, TAE, flying pixels).

Cameras follow Blender: camera space x right, y up, looking down -Z; depth is planar (distance
along the view axis); pixel (col, row) has its centre at (col + 0.5, row + 0.5), row 0 on top.
"""

from __future__ import annotations

import math

import numpy as np

#: Camera rotation of the demo shot (90 degrees about X): looking along world +Y, up is +Z.
LOOK_Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def camera_matrix(position, rotation=LOOK_Y) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = rotation
    m[:3, 3] = position
    return m


def pixel_rays(width: int, height: int, focal_px: float) -> np.ndarray:
    """Camera-space ray per pixel, scaled to planar depth 1: (H, W, 3)."""
    u = (np.arange(width) + 0.5 - width / 2.0) / focal_px
    v = -(np.arange(height) + 0.5 - height / 2.0) / focal_px
    rays = np.empty((height, width, 3))
    rays[..., 0] = u[None, :]
    rays[..., 1] = v[:, None]
    rays[..., 2] = -1.0
    return rays


def render_depth(matrix: np.ndarray, width: int, height: int, focal_px: float) -> np.ndarray:
    """Planar depth (metres) of the test shot seen by a camera (camera-to-world ``matrix``):
    a wall 8 m along +Y, a card 2.2 m away (left) and a sphere at 3.5 m (right)."""
    rays = pixel_rays(width, height, focal_px) @ matrix[:3, :3].T  # world, planar depth 1
    origin = matrix[:3, 3]
    forward = -matrix[:3, 2]
    best = np.full((height, width), np.inf)
    # Wall: the plane y = 8.
    t = (8.0 - origin[1]) / rays[..., 1]
    best = np.where(t > 0, np.minimum(best, t), best)
    # Card: the rectangle y = 2.2, x in [-0.7, -0.15], z in [-0.35, 0.25].
    t = (2.2 - origin[1]) / rays[..., 1]
    hit = origin + t[..., None] * rays
    inside = (hit[..., 0] > -0.7) & (hit[..., 0] < -0.15) & (hit[..., 2] > -0.35) & (
        hit[..., 2] < 0.25) & (t > 0)
    best = np.where(inside, np.minimum(best, t), best)
    # Sphere: centre (0.55, 3.5, 0.1), radius 0.45.
    c = np.array([0.55, 3.5, 0.1])
    oc = origin - c
    a = (rays ** 2).sum(axis=2)
    b = 2.0 * (rays @ oc)
    cc = oc @ oc - 0.45 ** 2
    disc = b * b - 4 * a * cc
    t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2 * a)
    best = np.where((disc > 0) & (t > 0), np.minimum(best, t), best)
    # t is in units of planar depth already (rays have forward component 1).
    assert np.allclose(rays @ forward, 1.0)
    return best


def moving_camera(frames: int, step=(0.05, 0.02, 0.0)) -> list[np.ndarray]:
    """Camera-to-world matrices of a camera trucking right and pushing in a little per frame."""
    return [camera_matrix(np.array(step) * i) for i in range(frames)]


def fake_estimates(depths, seed: int = 0, noise: float = 0.01, scale_range=(0.5, 2.0),
                   shift_range=(-0.05, 0.3)) -> tuple[list[np.ndarray], list[tuple[float, float]]]:
    """What a relative network might say: the true inverse depth under a random scale and shift
    per frame, plus Gaussian noise of ``noise`` times the median of the frame's (scaled) true
    inverse depth."""
    rng = np.random.default_rng(seed)
    out, params = [], []
    for z in depths:
        a = float(np.exp(rng.uniform(*np.log(scale_range))))
        b = float(rng.uniform(*shift_range))
        signal = a / np.asarray(z, dtype=np.float64)
        sigma = noise * float(np.nanmedian(signal))
        inv = signal + b + (rng.normal(0.0, sigma, signal.shape) if noise else 0.0)
        out.append(inv.astype(np.float32))
        params.append((a, b))
    return out, params


def median_relative_error(estimate, truth) -> float:
    e = np.asarray(estimate, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    return float(np.median(np.abs(e - t) / t))


def _reproject(depth_a, truth_b, matrix_a, matrix_b, focal_px, visible_tol=0.01):
    """Pixels of frame A moved into frame B with their depth: (rows, cols, depth in B, mask)."""
    h, w = depth_a.shape
    rays = pixel_rays(w, h, focal_px)
    cam_a = rays * depth_a[..., None]
    world = cam_a @ matrix_a[:3, :3].T + matrix_a[:3, 3]
    inv_b = np.linalg.inv(matrix_b)
    cam_b = world @ inv_b[:3, :3].T + inv_b[:3, 3]
    z_b = -cam_b[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        col = cam_b[..., 0] / z_b * focal_px + w / 2.0 - 0.5
        row = -cam_b[..., 1] / z_b * focal_px + h / 2.0 - 0.5
    ci, ri = np.rint(col).astype(int), np.rint(row).astype(int)
    inside = (z_b > 0) & (ci >= 0) & (ci < w) & (ri >= 0) & (ri < h)
    return ri, ci, z_b, inside


def tae(depths, truths, matrices, focal_px: float) -> float:
    """Temporal alignment error (Video Depth Anything, eq. 6): the mean AbsRel between frame
    k's depth reprojected into frame k+1 with the true pose and frame k+1's depth, both
    directions. Only pixels whose reprojected true depth matches frame k+1's true depth within
    1 % count (visible in both frames, not occluded)."""
    errors = []
    for k in range(len(depths) - 1):
        for a, b in ((k, k + 1), (k + 1, k)):
            # Visibility from the ground truth.
            rt, ct, zt, inside_t = _reproject(truths[a], truths[b], matrices[a], matrices[b],
                                              focal_px)
            vis = inside_t.copy()
            vis[inside_t] &= (np.abs(zt[inside_t] - truths[b][rt[inside_t], ct[inside_t]])
                              <= 0.01 * truths[b][rt[inside_t], ct[inside_t]])
            r, c, z, inside = _reproject(np.asarray(depths[a], dtype=np.float64), truths[b],
                                         matrices[a], matrices[b], focal_px)
            ok = vis & inside
            target = np.asarray(depths[b], dtype=np.float64)[r[ok], c[ok]]
            errors.append(float(np.mean(np.abs(z[ok] - target) / target)))
    return float(np.mean(errors)) if errors else math.nan


def flying_pixels(depth, near: float, far: float, tolerance: float = 0.03) -> int:
    """Pixels whose depth lies strictly between a ``near`` and a ``far`` surface (by more than
    ``tolerance`` of each): the smear an upsampler leaves across a depth jump."""
    d = np.asarray(depth, dtype=np.float64)
    return int(((d > near * (1.0 + tolerance)) & (d < far * (1.0 - tolerance))).sum())


# --- Real-like moving shots over a still with known depth ----------------------------------------

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _window(img: np.ndarray, x0: float, y0: float, zoom: float, width: int, height: int,
            nearest: bool) -> np.ndarray:
    """Pixel (c, r) of a window = the still at (x0 + c / zoom, y0 + r / zoom): nearest sample
    (depth: every pixel keeps a measured value) or bilinear (the picture)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    sx, sy = x0 + xs / zoom, y0 + ys / zoom
    if nearest:
        return img[np.rint(sy).astype(int), np.rint(sx).astype(int)]
    x0i = np.clip(np.floor(sx).astype(int), 0, img.shape[1] - 2)
    y0i = np.clip(np.floor(sy).astype(int), 0, img.shape[0] - 2)
    fx, fy = sx - x0i, sy - y0i
    top = img[y0i, x0i] * (1 - fx) + img[y0i, x0i + 1] * fx
    bottom = img[y0i + 1, x0i] * (1 - fx) + img[y0i + 1, x0i + 1] * fx
    return top * (1 - fy) + bottom * fy


def camera_path(kind: str, frames: int, seed: int = 0) -> list[tuple[float, float, float]]:
    """(x0, y0, zoom) of the window on each frame, in still pixels: 'pan' 2 px a frame and a
    1 px tilt every 4th frame, 'purepan' 2.5 px a frame, 'tilt' 2 px a frame down, 'fastpan'
    8 px, 'whip' 12 still frames, 4 at 80 px a frame, then still, 'dolly' a push in of 0.5 %
    a frame about the centre, 'shake' hand-held jitter (+-6 px, +-0.3 % zoom), 'still' and
    'object' (a locked-off camera; the object moves)."""
    rng = np.random.default_rng(seed)
    path = []
    for k in range(frames):
        if kind == "pan":
            path.append((20.0 + 2 * k, 100.0 + k // 4, 1.0))
        elif kind == "tilt":
            path.append((150.0, 20.0 + 2 * k, 1.0))
        elif kind == "purepan":
            path.append((20.0 + 2.5 * k, 100.0, 1.0))
        elif kind == "fastpan":
            path.append((10.0 + 8 * k, 100.0, 1.0))
        elif kind == "whip":  # still, then 80 px (a quarter of the frame) for 4 frames
            path.append((10.0 + 80 * min(max(k - 12, 0), 4), 100.0, 1.0))
        elif kind == "dolly":
            zoom = 1.005 ** k
            path.append((200.0 + 160.0 * (1 - 1 / zoom), 150.0 + 120.0 * (1 - 1 / zoom), zoom))
        elif kind == "shake":
            path.append((150.0 + rng.uniform(-6, 6), 120.0 + rng.uniform(-6, 6),
                         1.0 + rng.uniform(-0.003, 0.003)))
        else:
            path.append((150.0, 120.0, 1.0))
    return path


def moving_shot(kind: str, frames: int = 48, width: int = 320, height: int = 240,
                seed: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A real-like moving shot: (true planar depth per frame, metres, NaN where unmeasured;
    footage luminance per frame). Windows of ``width`` x ``height`` over tests/oracles.py's
    real-like still (720 x 540) follow :func:`camera_path`; ``kind`` 'object' adds a textured
    ball (radius 40 px, 1.5 m) crossing the still frame 5 px a frame."""
    from oracles import real_like_frame

    colour, depth = real_like_frame(720, 540, seed=seed)
    depth = np.where(depth > 0, depth, np.nan)
    luma = colour @ LUMA
    truths, lumas = [], []
    for k, (x0, y0, zoom) in enumerate(camera_path(kind, frames)):
        z = _window(depth, x0, y0, zoom, width, height, nearest=True)
        g = _window(luma, x0, y0, zoom, width, height, nearest=False)
        if kind == "object":
            ys, xs = np.mgrid[0:height, 0:width]
            cx, cy = 40.0 + 5.0 * k, 0.55 * height
            ball = (xs - cx) ** 2 + (ys - cy) ** 2 < 40.0 ** 2
            z = np.where(ball, 1.5, z)
            g = np.where(ball, 0.5 + 0.3 * np.sin((xs - cx) / 3.0) * np.cos(ys / 4.0), g)
        truths.append(z.astype(np.float32))
        lumas.append(g.astype(np.float32))
    return truths, lumas



def metric_clip(kind: str, frames: int, chained: bool = True, noise: float = 0.0) -> dict:
    """A :func:`moving_shot` estimated with :func:`fake_estimates` through the pure pipeline:
    linked frame to frame by the motion chain (``chained`` False: the old same-pixel
    :func:`align.stabilise`, the baseline), two anchors on frame 0 (a near and a far measured
    pixel), back to metres. Per frame: ``errors`` the median relative depth error, ``ratios``
    the median depth / truth, ``scale`` the chained scale / the true one."""
    from rackfocus_addon.estimate import align, motion

    truths, lumas = moving_shot(kind, frames)
    estimates, params = fake_estimates(truths, seed=7, noise=noise)
    if chained:
        transforms = [link.transform for link in motion.chain(estimates, lumas)]
    else:
        transforms = align.stabilise(estimates)
    z0 = truths[0]
    samples = []
    for target in np.nanpercentile(z0, (10.0, 70.0)):
        r, c = np.unravel_index(int(np.nanargmin(np.abs(z0 - target))), z0.shape)
        samples.append(align.AnchorSample(f"{c},{r}", float(transforms[0].apply(
            float(estimates[0][r, c]))), float(z0[r, c]), 0))
    alignment = align.align_segment(0, frames, samples)
    errors, ratios = [], []
    for k, (t, e, z) in enumerate(zip(transforms, estimates, truths)):
        inv = alignment.inverse_depth(t.apply(e.astype(np.float64)), k)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = 1.0 / inv
            errors.append(float(np.nanmedian(np.abs(d - z) / z)))
            ratios.append(float(np.nanmedian(d / z)))
    scale = [t.scale * a / params[0][0] for t, (a, _b) in zip(transforms, params)]
    return {"errors": np.array(errors), "ratios": np.array(ratios), "scale": np.array(scale)}
