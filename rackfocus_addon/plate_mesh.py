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
import threading

import numpy as np

from .depth_fill import RING8, nearest_sources, next_to, select_where, upsample

#: Default relative depth jump that splits the plate (3 %: far above the slope of smooth surfaces
#: at half-pixel spacing, far below an object's silhouette against its background).
DEFAULT_TEAR = 0.03

#: Grid densities offered (vertices per pixel along each axis). Every face gets the depth of the
#: pixel at its centre and tears follow pixel boundaries, so 1 (one face per pixel) already keeps
#: every pixel, thin ones included, at its own depth; 2 (the half-pixel grid: pixel centres are
#: vertices) rendered within 2/255 of it in the benchmark at 4x the faces; below 1 faces span
#: several pixels and edges lose accuracy (about 2.5 dB on the edge band at 0.5). At 1 the plate
#: is the light plate (:mod:`plate_lod`): one face per pixel only where depth changes.
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


def camera_values(fit: str, sensor_mm: float, focal_mm: float, width: int, height: int,
                  clip_start: float, clip_end: float, min_m: float, max_m: float
                  ) -> dict[str, tuple[str, str, float]]:
    """The camera values a plate needs: {attribute: (label, unit, value)}.

    The sensor size (millimetres) is the one ``fit`` uses (:func:`fitted_sensor`); the clip
    range (metres) changes only where it would cut the plate, whose depths span ``min_m`` to
    ``max_m`` metres.
    """
    attr, size = fitted_sensor(fit, sensor_mm, width, height)
    label = {"sensor_height": "sensor height", "sensor_width": "sensor width"}[attr]
    if fit == "AUTO" and height > width:
        label = "sensor size"  # Blender's label for the width applied to the larger side
    out = {attr: (label, "mm", size), "lens": ("focal length", "mm", float(focal_mm))}
    if clip_start > 0.5 * min_m:
        out["clip_start"] = ("clip start", "m", max(0.5 * min_m, 1e-4))
    if clip_end < 2.0 * max_m:
        out["clip_end"] = ("clip end", "m", max_m * 4.0 + 1.0)
    return out


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
    return max_filter(np.asarray(mask, dtype=bool), radius_px, fill=False)


def max_filter(values: np.ndarray, radius_px: int, fill: float = -np.inf) -> np.ndarray:
    """Maximum over a (2r+1)-pixel square window (``fill`` outside the frame).

    Separable, and per axis O(log r) passes: maxima over power-of-two spans, then two
    overlapping spans cover each window. Keeps float32 and bool; other input comes back float64.
    """
    out = np.asarray(values)
    if out.dtype not in (np.float32, np.float64, np.bool_):
        out = out.astype(np.float64)
    if radius_px <= 0:
        return out.copy()
    length = 2 * radius_px + 1
    for axis in (0, 1):
        n = out.shape[axis]
        shape = list(out.shape)
        shape[axis] = n + 2 * radius_px
        cur = np.full(shape, fill, dtype=out.dtype)
        inner = [slice(None)] * out.ndim
        inner[axis] = slice(radius_px, radius_px + n)
        cur[tuple(inner)] = out
        spare = np.empty_like(cur)
        span, size = 1, shape[axis]
        while 2 * span <= length:  # ping-pong between two buffers: no allocation per pass
            np.maximum(_along(cur, axis, 0, size - span), _along(cur, axis, span, size),
                       out=_along(spare, axis, 0, size - span))
            cur, spare = spare, cur
            size -= span
            span *= 2
        del spare
        out = np.maximum(_along(cur, axis, 0, n), _along(cur, axis, length - span,
                                                          length - span + n))
    return out


def _along(a: np.ndarray, axis: int, start: int, stop: int | None) -> np.ndarray:
    """``a[start:stop]`` along ``axis`` (a view: the last axis stays contiguous)."""
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]


#: Distances (pixels) from a fill pixel to its nearest source beyond which its colour is the
#: mean of the sources' colours over blocks of 8, 16 and 32 pixels instead of 4 (see
#: :func:`background_fill`): the blur grows with the distance into the foreground.
FILL_BLUR_STEPS_PX = (2.5, 5.0, 10.0)


def background_fill(color: np.ndarray, depth: np.ndarray, radius_px: int,
                    tear: float = DEFAULT_TEAR, out: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The background fill layer behind foreground edges: (colour (H, W, C), depth (H, W)),
    float32; depth 0 marks "no fill here". The colour is a view of channel planes (C, H, W)
    (``np.moveaxis(colour, -1, 0)`` gives them without a copy); ``out`` (colour planes, depth)
    receives the result instead of new arrays.

    Fill pixels are those within ``radius_px`` of the near side of a tear whose far side is
    notably farther than they are (by more than the tear ratio). They are inpainted from the far
    sides of the tears (the pixels just behind an edge), only ever from far-side pixels that lie
    behind them by more than the tear ratio, so foreground never leaks into the fill:

    - depth: that of the nearest such far-side pixel (the farthest of its 8 neighbours next to
      them): never a blend across depth jumps;
    - colour: a fill pixel next to such pixels takes the mean of those among its 8 neighbours
      (the edge's background continued); farther in, the nearest ones' colours averaged over
      blocks of 4 to 32 pixels, larger with the distance (:data:`FILL_BLUR_STEPS_PX`), a blur
      that grows into the foreground as the ring-by-ring inpainting it replaces did.

    O(N) (:func:`depth_fill.nearest_sources` and a block-mean pyramid). A fill pixel with nothing
    behind it within reach (none on real frames) keeps its own colour at the far side's depth.
    """
    ln = np.log(np.asarray(depth, dtype=np.float32))
    limit = np.float32(tear_log(tear))
    planes = np.ascontiguousarray(np.moveaxis(np.asarray(color, dtype=np.float32), -1, 0))
    h, w = ln.shape
    rim = np.zeros((h, w), dtype=bool)
    behind = max_filter(_far_side(ln, limit, rim), radius_px)
    mask = ln < behind - limit
    if out is None:
        out = (np.empty(planes.shape, dtype=np.float32), np.empty((h, w), dtype=np.float32))
    out_col, out_depth = out
    if not mask.any():
        out_col[...] = 0.0
        out_depth[...] = 0.0
        return np.moveaxis(out_col, 0, -1), out_depth
    src = nearest_sources(rim, mask, key=ln, margin=limit, exact_adjacent=False)
    # The first ring (the mean of the neighbours behind) on a second core meanwhile (after the
    # search, whose memory it would add to).
    first_ring = _Background(_first_ring, planes, ln, rim, mask, limit, parallel=h * w >= 2 ** 18)
    del rim
    found = src >= 0  # (within the fill)
    lost = mask & ~found
    ln_behind = behind[lost] if lost.any() else None
    del behind
    src *= found  # pixels without a source read pixel 0, then are cleared
    # Block sizes growing with the distance to the source.
    level = _blur_levels(src, found)
    ring, ring_col, ring_ln = first_ring.result()
    # Depth: the nearest source's (the first ring: the mean of its neighbours behind).
    np.take(ln, src, out=out_depth)
    out_depth.ravel()[ring] = ring_ln
    if ln_behind is not None:
        out_depth[lost] = ln_behind
    np.exp(out_depth, out=out_depth)
    out_depth *= mask
    # Colour: block means of the nearest sources' colours, plane by plane (one full-size
    # plane at a time); the first ring keeps its exact mean.
    sums = []
    near = np.empty((h, w), dtype=np.float32)
    for plane, ring_plane in zip(planes, ring_col):
        np.take(plane, src, out=near)
        near *= found
        near.ravel()[ring] = ring_plane
        sums.append(_pool(near, np.add))
    del near, src
    _block_means(np.stack(sums), found, level, out_col)
    del sums, level
    for plane, filled, ring_plane in zip(planes, out_col, ring_col):
        filled.ravel()[ring] = ring_plane
        if ln_behind is not None:
            filled[lost] = plane[lost]
        filled *= mask
    return np.moveaxis(out_col, 0, -1), out_depth


def _blur_levels(src: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Per pixel, the block size (2^level) its colour is averaged over: 4 pixels, and larger
    beyond each of :data:`FILL_BLUR_STEPS_PX` from its source; -1 where it has none."""
    h, w = src.shape
    rows = np.floor_divide(src, w)
    cols = np.multiply(rows, w)
    np.subtract(src, cols, out=cols)
    rows -= np.arange(h, dtype=rows.dtype)[:, None]
    cols -= np.arange(w, dtype=cols.dtype)[None, :]
    rows *= rows
    cols *= cols
    rows += cols
    del cols
    level = np.full((h, w), 2, dtype=np.int8)
    for step in FILL_BLUR_STEPS_PX:
        level += rows >= step * step
    select_where(level, np.int8(-1), ~found)
    return level


def _first_ring(planes, ln, rim, mask, limit):
    """Fill pixels with a far-side pixel behind them among their 8 neighbours: (flat indices,
    mean colour (C, n), largest log depth (n,)) of those neighbours (the colour blends, the
    depth does not: two backgrounds meeting behind an edge keep their own depths). Sparse: only
    pixels next to far-side pixels are looked at, and only the neighbours behind them summed."""
    h, w = ln.shape
    pw = w + 2
    near = next_to(rim)
    near &= mask
    at = np.flatnonzero(near)
    del near
    key = np.full((h + 2, pw), -np.inf, dtype=np.float32)
    select_where(key[1:-1, 1:-1], ln, rim)
    key = key.ravel()
    padded = at + 2 * (at // w) + (pw + 1)
    need = ln.ravel()[at] + limit
    behind, count = [], np.zeros(at.size, dtype=np.uint8)
    for dy, dx in RING8:
        ok = key[padded + (dy * pw + dx)] > need
        count += ok
        behind.append(ok)
    served = np.flatnonzero(count)
    at, padded, n = at[served], padded[served], count[served].astype(np.float32)
    flat = [p.ravel() for p in planes]
    total = np.zeros((len(flat), at.size), dtype=np.float32)
    farthest = np.full(at.size, -np.inf, dtype=np.float32)
    for (dy, dx), ok in zip(RING8, behind):
        pick = np.flatnonzero(ok[served])
        q = at[pick] + (dy * w + dx)
        for t, p in zip(total, flat):
            t[pick] += p[q]
        farthest[pick] = np.maximum(farthest[pick], key[padded[pick] + (dy * pw + dx)])
    return at, total / n, farthest



class _Background:
    """``fn(*args)`` on a thread of its own (``parallel``) or at once; :meth:`result` returns
    its value or raises its error. numpy releases Python's lock in its loops, so two such
    streams of array work use two cores."""

    def __init__(self, fn, *args, parallel: bool = True) -> None:
        self._value = self._error = None
        if not parallel:
            self._thread = None
            self._value = fn(*args)
            return

        def run():
            try:
                self._value = fn(*args)
            except BaseException as err:  # re-raised by result() on the caller's thread
                self._error = err

        self._thread = threading.Thread(target=run, name="rackfocus-fill", daemon=True)
        self._thread.start()

    def result(self):
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _block_means(sums: np.ndarray, found: np.ndarray, level: np.ndarray, out: np.ndarray
                 ) -> None:
    """Each pixel's colour planes (C, H, W), into ``out``: the mean of the nearest colours over
    the 2^level-pixel block around it (pixels where ``found``; ``sums``: their 2x2 block sums,
    (C, H/2, W/2)), from a pyramid of block sums composed coarse to fine: a block takes its own
    mean where every pixel in it asks for that block size or less, else its parent's."""
    h, w = found.shape
    top = max(int(level.max()), 1)
    sums = [sums]
    counts = [_pool(found.view(np.uint8), np.add).astype(np.float32)]
    levels = [_pool(level, np.maximum)]
    for _ in range(top - 1):
        sums.append(_pool(sums[-1], np.add))
        counts.append(_pool(counts[-1], np.add))
        levels.append(_pool(levels[-1], np.maximum))
    coarse = None
    for k in range(len(sums), 0, -1):
        mean = sums[k - 1] / np.maximum(counts[k - 1], 1.0)
        if coarse is not None:
            own = (levels[k - 1] <= k) & (counts[k - 1] > 0)
            parent = np.empty(mean.shape, dtype=np.float32)
            for c, p in zip(coarse, parent):
                upsample(c, own.shape, out=p)
            np.copyto(parent, mean, where=own)
            mean = parent
        coarse = mean
    for c, o in zip(coarse, out):
        upsample(c, (h, w), out=o)


def _pool(a: np.ndarray, op) -> np.ndarray:
    """``op`` over 2x2 blocks of the last two axes (an odd last row or column pads with 0)."""
    if a.shape[-2] % 2 or a.shape[-1] % 2:
        pads = ((0, 0),) * (a.ndim - 2) + ((0, a.shape[-2] % 2), (0, a.shape[-1] % 2))
        a = np.pad(a, pads)
    out = op(a[..., 0::2, 0::2], a[..., 1::2, 0::2])
    op(out, a[..., 0::2, 1::2], out=out)
    op(out, a[..., 1::2, 1::2], out=out)
    return out


def _far_side(ln: np.ndarray, limit: float, rim: np.ndarray | None = None) -> np.ndarray:
    """On the near pixel of every tear, the far pixel's log depth (the largest); -inf elsewhere.
    ``rim`` (if given) is set True on the far pixel of every tear."""
    h, w = ln.shape
    seed = np.full((h, w), -np.inf, dtype=ln.dtype)
    for axis in (1, 0):
        if axis == 1:
            a, b, sa, sb = ln[:, :-1], ln[:, 1:], seed[:, :-1], seed[:, 1:]
        else:
            a, b, sa, sb = ln[:-1, :], ln[1:, :], seed[:-1, :], seed[1:, :]
        step = np.subtract(b, a)
        b_far = step > limit
        a_far = step < -limit
        np.maximum(sa, b, out=sa, where=b_far)  # masked: tears are sparse, so this is fast
        np.maximum(sb, a, out=sb, where=a_far)
        if rim is not None:
            ra, rb = (rim[:, :-1], rim[:, 1:]) if axis == 1 else (rim[:-1, :], rim[1:, :])
            ra |= a_far
            rb |= b_far
    return seed


def cache_frame(color: np.ndarray, depth_m: np.ndarray, measured: np.ndarray, radius_px: int,
                tear: float = DEFAULT_TEAR) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One frame of a plate's cache, as channel planes (H, W) (top row first):

    - depth R, G, B, A: metric depth, fill-layer depth (0: no fill), True where the depth was
      not measured (filled from neighbours), 1;
    - fill R, G, B, A: fill colour (:func:`background_fill`), 1.

    ``color`` is (H, W, C >= 3) scene-linear, ``depth_m`` metric depth with every pixel filled
    (:meth:`depth.Converter.convert_masked`), ``measured`` its measured pixels. The planes are
    float32 except the unmeasured flags (bool); ``depth_m`` itself is the first, and the
    constant alpha a broadcast view (no memory), so a frame holds no more than it must.
    """
    h, w = depth_m.shape
    fill_col, fill_z = background_fill(np.asarray(color)[..., :3], depth_m, radius_px, tear)
    one = np.broadcast_to(np.float32(1.0), (h, w))
    depth = [np.asarray(depth_m, dtype=np.float32), fill_z, ~np.asarray(measured, dtype=bool),
             one]
    return depth, list(np.moveaxis(fill_col, -1, 0)) + [one]


def default_fill_px(width: int) -> int:
    """Fill radius when the user gives none: 2 % of the frame width (a strong blur), at least 4."""
    return max(4, int(round(0.02 * width)))
