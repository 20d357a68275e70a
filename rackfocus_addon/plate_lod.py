"""The light plate mesh (pure, numpy only): full density only where depth changes.

The frame is tiled by a restricted quadtree of square blocks of 1 to ``2**max_level`` pixels,
aligned from the bottom-left corner of the frame (Blender's image rows run bottom to top; every
array here is in that order). A block is coarser than a pixel only where the plate there is
already right without more vertices:

- no depth edge: no pixel of it within 1 px of a tear (so every torn vertex and its faces stay at
  full density, torn exactly as the uniform plate tears them), and for the fill layer no border
  of the fill (its pixels all filled or all empty);
- flat in perspective: a plate face is flat between its vertices on the camera rays, so its depth
  along a ray is linear in ``1/z`` across the picture; every pixel's depth is within
  ``tolerance`` (relative) of that interpolation from the block's corners (a tilted wall or the
  ground plane coarsens as far as a frontal one);
- 2:1 balance: a block's neighbours (8-connected) are at most one level finer, so where a coarse
  block meets finer ones, each of its edges has at most one vertex of theirs in its middle.

No holes: that middle vertex (a T-junction) is put on the coarse edge itself: its depth is the
``1/z`` mean of the edge's two ends, which is where the straight edge crosses its camera ray. So
the plate is closed from every point of the lens, not only from the camera.

Vertex depths (the corner map) are those the uniform plate gives an untorn vertex: the mean
depth of the (filled) pixels around it. Torn vertices are not in the map: the Geometry Nodes plate
gives them the mean of their own faces, as before.

:func:`mesh_planes` packs both layers' corner maps and block levels into one cache image per
frame (``mesh_####.exr``), ``(Hp + 1) x (Wp + 1)`` texels (the frame padded to whole coarsest
blocks, plus one for the last corners): R main corner depth, G fill corner depth (0: no fill), B
main level, A fill level (-1 - level where the fill is empty), texel (i, j) holding the corner
(i, j) and the pixel (i, j).
"""

from __future__ import annotations

import numpy as np

from .plate_mesh import DEFAULT_TEAR, edge_band, max_filter

#: Coarsest blocks: 2**5 = 32 pixels a side (1024 pixels on two triangles).
MAX_LEVEL = 5
#: Largest relative depth error of a coarse block's pixels against its flat faces. 1 % moves a
#: blur edge by at most 1 px at f/1.4 with a subject at 1 m (50 mm lens on 36 mm, 1080p), far
#: less elsewhere, and stays above the 0.2 % noise of measured depth.
DEFAULT_TOLERANCE = 0.01
#: Channel types of the mesh cache image (R, G, B, A): depths 32-bit float, levels half (exact).
MESH_TYPES = ("f", "f", "h", "h")


def padded_size(width: int, height: int, max_level: int = MAX_LEVEL) -> tuple[int, int]:
    """The frame's size rounded up to whole coarsest blocks: (Wp, Hp) pixels."""
    s = 1 << max_level
    return -(-width // s) * s, -(-height // s) * s


def corner_depths(z: np.ndarray) -> np.ndarray:
    """(H + 1, W + 1) mean depth of the filled (> 0) pixels around each pixel corner (edge
    pixels repeated outside the frame); 0 where none is filled. float32."""
    p = np.pad(np.asarray(z, dtype=np.float32), 1, mode="edge")
    total = p[:-1, :-1] + p[1:, :-1]
    total += p[:-1, 1:]
    total += p[1:, 1:]
    if p.min() > 0:  # every pixel filled (the main layer)
        total *= np.float32(0.25)
        return total
    filled = (p > 0).view(np.uint8)
    count = filled[:-1, :-1] + filled[1:, :-1]
    count += filled[:-1, 1:]
    count += filled[1:, 1:]
    total /= np.maximum(count, 1)
    return total


def _fine(z: np.ndarray, tear: float) -> np.ndarray:
    """Pixels that must stay at full density: within 1 px of a tear or of the fill's border."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return edge_band(np.where(z > 0, z, 0.0), 1, tear)  # ln 0 = -inf: a border tears


def _pool(a: np.ndarray, op) -> np.ndarray:
    """``op`` over 2x2 blocks (even sizes)."""
    out = op(a[0::2, 0::2], a[1::2, 0::2])
    op(out, a[0::2, 1::2], out=out)
    op(out, a[1::2, 1::2], out=out)
    return out


def _pyramid(a: np.ndarray, op, top: int) -> list[np.ndarray]:
    """``a`` reduced by ``op`` over blocks of 1, 2, 4 ... ``2**top`` pixels."""
    out = [a]
    for _ in range(top):
        out.append(_pool(out[-1], op))
    return out


def _flat_error(z: np.ndarray, corners: np.ndarray, s: int) -> np.ndarray:
    """Per block of ``s`` pixels, the largest relative error of its filled pixels' depths against
    the 1/z-bilinear interpolation from its corners."""
    h, w = z.shape
    c = corners[::s, ::s]
    inv = np.float32(1.0) / np.where(c > 0, c, np.float32(np.inf))
    f = ((np.arange(s) + 0.5) / s).astype(np.float32)
    fy, fx = f[None, :, None, None], f[None, None, None, :]
    top = inv[:-1, None, :-1, None] * (1 - fx) + inv[:-1, None, 1:, None] * fx
    bottom = inv[1:, None, :-1, None] * (1 - fx) + inv[1:, None, 1:, None] * fx
    err = top * (1 - fy)
    err += bottom * fy
    zb = z.reshape(h // s, s, w // s, s)
    err *= zb
    err -= np.float32(1.0)
    np.abs(err, out=err)
    err *= zb > 0
    return err.max(axis=3).max(axis=1)


def _flat_errors(z: np.ndarray, corners: np.ndarray, s: int, wanted: np.ndarray) -> np.ndarray:
    """:func:`_flat_error` of the blocks ``wanted`` (bool, one per block), in their order:
    computed on the block rows that hold one only (most of a frame's blocks are ruled out by
    a tear or by a child before their flatness matters)."""
    rows = np.flatnonzero(wanted.any(axis=1))
    if rows.size == 0:
        return np.zeros(0, dtype=np.float32)
    out = np.empty(wanted.shape, dtype=np.float32)
    start = 0
    for stop in np.append(np.flatnonzero(np.diff(rows) != 1) + 1, rows.size):  # runs of rows
        a, b = rows[start], rows[stop - 1] + 1
        out[a:b] = _flat_error(z[a * s:b * s], corners[a * s:b * s + 1], s)
        start = stop
    return out[wanted]


def block_levels(z: np.ndarray, tear: float = DEFAULT_TEAR,
                 tolerance: float = DEFAULT_TOLERANCE, max_level: int = MAX_LEVEL,
                 corners: np.ndarray | None = None) -> np.ndarray:
    """(Hp, Wp) int8: each pixel's block level (block of ``2**level`` pixels) in the balanced
    quadtree of ``z`` (bottom row first, already padded to whole coarsest blocks; 0: empty);
    ``corners``: its :func:`corner_depths` if already made."""
    if corners is None:
        corners = corner_depths(z)
    fine = _pyramid(_fine(z, tear), np.logical_or, max_level)
    allowed = [np.ones(z.shape, dtype=bool)]
    for k in range(1, max_level + 1):
        ok = ~fine[k] & _pool(allowed[k - 1], np.logical_and)  # every child a block of its own
        ok[ok] = _flat_errors(z, corners, 1 << k, ok) <= tolerance
        allowed.append(ok)
    while True:  # split blocks next to blocks more than one level finer, until none is
        level = _levels(allowed)
        near = _pyramid(-max_filter(-level, 1, fill=np.inf), np.minimum, max_level)
        changed = False
        for k in range(1, max_level + 1):  # children before parents: one pass keeps both
            ok = allowed[k] & (near[k] >= k - 1) & _pool(allowed[k - 1], np.logical_and)
            changed |= bool((ok != allowed[k]).any())
            allowed[k] = ok
        if not changed:
            return level.astype(np.int8)


def _levels(allowed: list[np.ndarray]) -> np.ndarray:
    """Per pixel (float32), the level of the coarsest allowed block holding it."""
    level = allowed[-1].astype(np.float32) * (len(allowed) - 1)
    for k in range(len(allowed) - 2, -1, -1):  # coarse to fine: a child takes its parent's
        up = np.repeat(np.repeat(level, 2, axis=0), 2, axis=1)
        level = np.where(up > 0, up, allowed[k] * np.float32(k))
    return level


def stitched_corners(corners: np.ndarray, level: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``corners`` with every T-junction vertex moved onto the coarse edge it lies on (its depth
    the 1/z mean of the edge's ends), coarsest first; only edges of filled blocks."""
    c = corners.copy()
    hp, wp = level.shape
    for k in range(int(level.max()), 0, -1):
        s, half = 1 << k, 1 << (k - 1)
        jb, ib = np.nonzero((level[::s, ::s] == k) & (z[::s, ::s] > 0))
        y, x = jb * s, ib * s
        # (neighbour pixel across the side, its middle, its two ends), as (row, column) pairs
        for (ny, nx), mid, a, b in (((y - 1, x), (y, x + half), (y, x), (y, x + s)),
                                    ((y + s, x), (y + s, x + half), (y + s, x), (y + s, x + s)),
                                    ((y, x - 1), (y + half, x), (y, x), (y + s, x)),
                                    ((y, x + s), (y + half, x + s), (y, x + s), (y + s, x + s))):
            inside = (ny >= 0) & (ny < hp) & (nx >= 0) & (nx < wp)
            t = np.flatnonzero(inside)
            t = t[level[ny[t], nx[t]] == k - 1]
            ca, cb = c[a[0][t], a[1][t]].astype(np.float64), c[b[0][t], b[1][t]]
            c[mid[0][t], mid[1][t]] = 2.0 / (1.0 / ca + 1.0 / cb)
    return c


def layer_maps(z_top: np.ndarray, tear: float = DEFAULT_TEAR,
               tolerance: float = DEFAULT_TOLERANCE, max_level: int = MAX_LEVEL
               ) -> tuple[np.ndarray, np.ndarray]:
    """One layer's (corner depths, block levels), bottom row first, ``(Hp + 1, Wp + 1)`` each
    (the last row and column of levels repeat their neighbours: the texture's extension; an
    empty block of level k is -1 - k), from
    its depth ``z_top`` (H, W) top row first, metres (0: empty)."""
    h, w = z_top.shape
    wp, hp = padded_size(w, h, max_level)
    z = np.pad(np.asarray(z_top, dtype=np.float32)[::-1], ((0, hp - h), (0, wp - w)),
               mode="edge")
    corners = corner_depths(z)
    level = block_levels(z, tear, tolerance, max_level, corners)
    corners = stitched_corners(corners, level, z)
    empty = z <= 0  # the fill layer away from edges: blocks of the tiling with no face
    level[empty] = -1 - level[empty]
    return corners, np.pad(level, ((0, 1), (0, 1)), mode="edge")


def mesh_planes(depth_m: np.ndarray, fill_z: np.ndarray, tear: float = DEFAULT_TEAR,
                tolerance: float = DEFAULT_TOLERANCE, max_level: int = MAX_LEVEL
                ) -> list[np.ndarray]:
    """The mesh cache image's planes R, G, B, A, top row first, float32 (see module doc)."""
    main_c, main_l = layer_maps(depth_m, tear, tolerance, max_level)
    fill_c, fill_l = layer_maps(fill_z, tear, tolerance, max_level)
    return [np.ascontiguousarray(p[::-1], dtype=np.float32)
            for p in (main_c, fill_c, main_l, fill_l)]


def leaf_blocks(level: np.ndarray) -> np.ndarray:
    """(n, 3) int: (x, y, size) of every block of the tiling of ``level`` (Hp, Wp) (pixels,
    bottom-left origin)."""
    out = []
    for k in range(int(level.max()) + 1):
        s = 1 << k
        ys, xs = np.nonzero(level[::s, ::s] == k)
        out.append(np.stack([xs * s, ys * s, np.full(xs.size, s)], axis=1))
    return np.concatenate(out)
