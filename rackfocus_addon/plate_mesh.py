"""Depth-plate geometry maths (pure, numpy only).

Camera space is Blender's: the camera looks down -Z, +X right, +Y up. A pixel (x, y) has its origin
at the top-left of the frame and integer coordinates at pixel centres; ``u, v`` in [0, 1] are
texture coordinates (v = 0 at the bottom row, as Blender's images store them). ``sensor`` is the
width the frame spans on the sensor (the camera's own sensor fit is matched by
:func:`fitted_sensor`), so a point at planar depth z on the ray through (u, v) is
``((u - 0.5) * sensor / focal * z, (v - 0.5) * sensor * H / W / focal * z, -z)``.

Depth edges: two neighbouring pixels are torn apart when their depths differ by more than the
ratio ``tear`` (``|ln z1 - ln z2| > ln(1 + tear)``: a 3 % jump tears at any distance). Behind the
near side of every tear a background fill layer is inpainted from the far side (colour and depth)
for ``fill_px`` pixels, the largest blur radius it has to serve.
"""

from __future__ import annotations

import math

import numpy as np

from .depth import grow_fill

#: Default relative depth jump that splits the plate (3 %: far above the slope of smooth surfaces
#: at half-pixel spacing, far below an object's silhouette against its background).
DEFAULT_TEAR = 0.03

#: Grid densities offered (vertices per pixel along each axis). Every face gets the depth of the
#: pixel at its centre and tears follow pixel boundaries, so 1 (one face per pixel) already keeps
#: every pixel, thin ones included, at its own depth; 2 (the half-pixel grid: pixel centres are
#: vertices) rendered within 2/255 of it in the benchmark at 4x the faces; below 1 faces span
#: several pixels and edges lose accuracy (about 2.5 dB on the edge band at 0.5).
DENSITIES = (2.0, 1.0, 0.5, 0.25)


def grid_size(width: int, height: int, density: float) -> tuple[int, int]:
    """Vertices (x, y) of a plate grid with ``density`` vertices per pixel along each axis."""
    if density <= 0.0:
        raise ValueError("density must be positive")
    return max(2, int(round(width * density)) + 1), max(2, int(round(height * density)) + 1)


def plate_stats(width: int, height: int, density: float) -> dict:
    """Vertex and face counts of one plate layer (before tearing duplicates vertices)."""
    nx, ny = grid_size(width, height, density)
    return {"vertices": nx * ny, "faces": (nx - 1) * (ny - 1), "grid": (nx, ny)}


def uv_of_pixel(x: float, y: float, width: int, height: int) -> tuple[float, float]:
    """Texture coordinates of the pixel (x, y) (top-left origin, integers at pixel centres)."""
    return (x + 0.5) / width, 1.0 - (y + 0.5) / height


def ray_slopes(width: int, height: int, sensor_mm: float, focal_mm: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """(x/z, y/z) of the camera rays through every pixel centre, shapes (W,) and (H,), top first."""
    u = (np.arange(width) + 0.5) / width
    v = 1.0 - (np.arange(height) + 0.5) / height
    return (u - 0.5) * sensor_mm / focal_mm, (v - 0.5) * sensor_mm * height / width / focal_mm


def fitted_sensor(fit: str, sensor_mm: float, width: int, height: int) -> tuple[str, float]:
    """The camera sensor size that makes a ``width`` x ``height`` frame span ``sensor_mm`` across
    its width, under Blender's sensor fit ``fit``: (camera attribute, millimetres).

    HORIZONTAL fits the sensor width to the frame's width; VERTICAL the sensor height to its
    height; AUTO the sensor width to the larger side (the width, unless the frame is portrait).
    """
    if fit == "VERTICAL":
        return "sensor_height", sensor_mm * height / width
    if fit == "AUTO" and height > width:
        return "sensor_width", sensor_mm * height / width
    if fit not in ("AUTO", "HORIZONTAL"):
        raise ValueError(f"unknown sensor fit {fit!r}")
    return "sensor_width", float(sensor_mm)


def camera_point(u: float, v: float, depth_m: float, width: int, height: int,
                 sensor_mm: float, focal_mm: float) -> np.ndarray:
    """Camera-space point at planar depth ``depth_m`` on the ray through texture coords (u, v)."""
    sx = (u - 0.5) * sensor_mm / focal_mm
    sy = (v - 0.5) * sensor_mm * height / width / focal_mm
    return np.array([sx * depth_m, sy * depth_m, -depth_m], dtype=np.float64)


def pixel_point(x: float, y: float, depth_m: float, width: int, height: int,
                sensor_mm: float, focal_mm: float) -> np.ndarray:
    """Camera-space point of the footage pixel (x, y) at planar depth ``depth_m``."""
    u, v = uv_of_pixel(x, y, width, height)
    return camera_point(u, v, depth_m, width, height, sensor_mm, focal_mm)


def project(point: np.ndarray, width: int, height: int, sensor_mm: float, focal_mm: float
            ) -> tuple[float, float]:
    """Texture coordinates (u, v) where a camera-space point appears (inverse of camera_point)."""
    z = -float(point[2])
    u = float(point[0]) / z * focal_mm / sensor_mm + 0.5
    v = float(point[1]) / z * focal_mm * width / (sensor_mm * height) + 0.5
    return u, v


def tear_log(tear: float) -> float:
    """The log-depth jump that tears: ``ln(1 + tear)``."""
    return math.log1p(tear)


def discontinuities(depth: np.ndarray, tear: float = DEFAULT_TEAR
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel boundaries across which the plate tears: (horizontal (H, W-1), vertical (H-1, W)).

    ``horizontal[r, c]`` is the boundary between pixels (r, c) and (r, c+1); ``vertical[r, c]``
    between (r, c) and (r+1, c).
    """
    ln = np.log(np.asarray(depth, dtype=np.float64))
    limit = tear_log(tear)
    return np.abs(np.diff(ln, axis=1)) > limit, np.abs(np.diff(ln, axis=0)) > limit


def edge_band(depth: np.ndarray, radius_px: int, tear: float = DEFAULT_TEAR) -> np.ndarray:
    """Pixels within ``radius_px`` of a depth discontinuity (either side): the edge band."""
    horiz, vert = discontinuities(depth, tear)
    seed = np.zeros(depth.shape, dtype=bool)
    seed[:, :-1] |= horiz
    seed[:, 1:] |= horiz
    seed[:-1, :] |= vert
    seed[1:, :] |= vert
    return dilate(seed, radius_px)


def dilate(mask: np.ndarray, radius_px: int) -> np.ndarray:
    """Binary dilation by a (2r+1)-pixel square."""
    out = mask.astype(np.float32)
    return max_filter(out, radius_px, fill=0.0) > 0.5


def max_filter(values: np.ndarray, radius_px: int, fill: float = -np.inf) -> np.ndarray:
    """Maximum over a (2r+1)-pixel square window (``fill`` outside the frame).

    Separable, and per axis O(log r) passes: maxima over power-of-two spans, then two
    overlapping spans cover each window.
    """
    out = np.asarray(values, dtype=np.float64)
    if radius_px <= 0:
        return out.copy()
    length = 2 * radius_px + 1
    for axis in (0, 1):
        n = out.shape[axis]
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius_px, radius_px)
        cur = np.pad(out, pad, constant_values=fill)
        span = 1
        while 2 * span <= length:
            head = np.take(cur, np.arange(cur.shape[axis] - span), axis=axis)
            tail = np.take(cur, np.arange(span, cur.shape[axis]), axis=axis)
            cur = np.maximum(head, tail)
            span *= 2
        first = np.take(cur, np.arange(n), axis=axis)
        second = np.take(cur, np.arange(length - span, length - span + n), axis=axis)
        out = np.maximum(first, second)
    return out


def background_fill(color: np.ndarray, depth: np.ndarray, radius_px: int,
                    tear: float = DEFAULT_TEAR) -> tuple[np.ndarray, np.ndarray]:
    """The background fill layer behind foreground edges: (colour (H, W, C), depth (H, W)).

    Fill pixels are those on the near side of a tear, up to ``radius_px`` from it, that have
    something notably farther within that radius. Their colour and depth are inpainted outward
    from the far side, one pixel ring per step, each ring averaging only neighbours that lie
    behind the pixel (so foreground never leaks into the fill). Depth 0 marks "no fill here".
    """
    color = np.asarray(color, dtype=np.float64)
    ln = np.log(np.asarray(depth, dtype=np.float64))
    limit = tear_log(tear)
    h, w = ln.shape
    horiz, vert = discontinuities(depth, tear)
    # Far-side log depth seeded on the near pixel of every tear, spread over the radius.
    seed = np.full((h, w), -np.inf)
    _seed_far(seed, ln, horiz, axis=1)
    _seed_far(seed, ln, vert, axis=0)
    behind = max_filter(seed, radius_px)
    mask = ln < behind - limit

    known = ~mask
    stack = np.concatenate([color, ln[..., None]], axis=2)
    filled, known = grow_fill(stack, known, mask, own_key=ln, margin=limit)
    fill_col, fill_ln = filled[..., :-1], filled[..., -1]
    # Anything the rings did not reach keeps the far-side depth and its own colour.
    rest = mask & ~known
    fill_col[rest] = color[rest]
    fill_ln[rest] = behind[rest]
    out_depth = np.where(mask, np.exp(fill_ln), 0.0)
    out_col = np.where(mask[..., None], fill_col, 0.0)
    return out_col.astype(np.float32), out_depth.astype(np.float32)


def _seed_far(seed: np.ndarray, ln: np.ndarray, jumps: np.ndarray, axis: int) -> None:
    """On the near pixel of each torn pair, record the far pixel's log depth (keep the largest)."""
    if axis == 1:
        a, b = ln[:, :-1], ln[:, 1:]
        sa, sb = seed[:, :-1], seed[:, 1:]
    else:
        a, b = ln[:-1, :], ln[1:, :]
        sa, sb = seed[:-1, :], seed[1:, :]
    near_a = jumps & (a < b)
    near_b = jumps & (b < a)
    np.copyto(sa, np.maximum(sa, np.where(near_a, b, -np.inf)))
    np.copyto(sb, np.maximum(sb, np.where(near_b, a, -np.inf)))


def default_fill_px(width: int) -> int:
    """Fill radius when the user gives none: 2 % of the frame width (a strong blur), at least 4."""
    return max(4, int(round(0.02 * width)))
