"""The light plate's faces (pure, numpy only): full density only where depth changes.

Each layer (the plate, its background fill) is tiled by faces that are dyadic boxes, ``2**a`` by
``2**b`` pixels (a, b <= ``MAX_LEVEL``) from a multiple of their size, aligned from the
bottom-left corner of the canvas (Blender's image rows run bottom to top; every array here is
in that order). They are taken largest first where the plate there is already right without
more vertices:

- no tear inside: no two neighbouring pixels of the face differ in depth by more than the tear
  (a tear may run along its sides), nor is one filled and the other empty;
- flat in perspective: a plate face is flat between its vertices on the camera rays, so its
  depth along a ray is linear in ``1/z`` across the picture; every pixel's depth is within
  ``tolerance`` (relative) of that interpolation from the face's corners (a tilted wall or the
  ground plane coarsens as far as a frontal one).

Corner depths are those of the uniform plate's vertices, on the face's own side of any tear:
the mean of the pixels around the corner joined to the face's pixel through untorn pixel edges
(:func:`side_corners`). Where a face's corner lies inside a neighbour's edge (a T-junction) and
the two meet untorn, the corner is moved onto that edge, the ``1/z`` mean of the edge's ends,
which is where the straight edge crosses its camera ray: the plate is closed from every point of
the lens, not only from the camera (:func:`stitch`). Faces hold no tear and torn corners keep
their own side's depth, so the plate tears exactly where the uniform plate does.

On a real-like 1080p frame (many depth edges, 7 % unmeasured depth) the plate has 0.16 M faces
and its fill 0.18 M, against 2.5 M pixels (bench/bench_plate.py).

:func:`mesh_planes` lists both layers' faces in one cache image per frame (``mesh_####.exr``),
``MESH_ROW`` texels wide, as many rows as they need, two texels a face from the bottom row:
(x, y, width, height) in frame pixels, the fill layer's width negative, then the corner depths
(bottom-left, bottom-right, top-right, top-left) in metres; unused texels are 0.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .plate_mesh import DEFAULT_TEAR

#: Largest faces: 2**5 = 32 pixels a side (1024 pixels on two triangles).
MAX_LEVEL = 5
#: Largest relative depth error of a coarse block's pixels against its flat faces. 1 % moves a
#: blur edge by at most 1 px at f/1.4 with a subject at 1 m (50 mm lens on 36 mm, 1080p), far
#: less elsewhere, and stays above the 0.2 % noise of measured depth.
DEFAULT_TOLERANCE = 0.01
#: Version of the mesh image's layout (part of the cache key: an older cache is rebuilt).
MESH_FORMAT = 2
#: Texels in a row of the mesh cache image (two a face: rectangle, corner depths).
MESH_ROW = 1024
#: Channel types of the mesh cache image (R, G, B, A): all 32-bit float (pixel positions and
#: depths).
MESH_TYPES = ("f", "f", "f", "f")


def padded_size(width: int, height: int, max_level: int = MAX_LEVEL) -> tuple[int, int]:
    """The frame's size rounded up to whole coarsest blocks: (Wp, Hp) pixels."""
    s = 1 << max_level
    return -(-width // s) * s, -(-height // s) * s


def _logs(z: np.ndarray) -> np.ndarray:
    """ln of the depth, -inf where empty (0): any comparison with it tears."""
    with np.errstate(divide="ignore"):
        return np.log(np.where(z > 0, z, 0.0))


def _untorn(lu: np.ndarray, lv: np.ndarray, limit: float) -> np.ndarray:
    """Neighbouring pixels (their :func:`_logs`) both filled and within the tear."""
    with np.errstate(invalid="ignore"):
        return np.abs(lu - lv) <= limit


def _torn_pairs(z: np.ndarray, ln: np.ndarray, tear: float) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) bool each: pixel (r, c) torn from its right neighbour, and from the one above
    (a filled pixel next to an empty one tears too; two empty ones do not); ``ln``: the depth's
    :func:`_logs`."""
    limit = math.log1p(tear)
    filled = z > 0
    right = np.zeros(z.shape, dtype=bool)
    up = np.zeros(z.shape, dtype=bool)
    right[:, :-1] = ~_untorn(ln[:, :-1], ln[:, 1:], limit) & (filled[:, :-1] | filled[:, 1:])
    up[:-1] = ~_untorn(ln[:-1], ln[1:], limit) & (filled[:-1] | filled[1:])
    return right, up


def mesh_bytes(width: int, height: int) -> int:
    """Bytes to expect for a frame's mesh image: 32 a face (two texels of 16), at twice the
    faces of an edge-heavy real-like frame (0.34 M faces, 4.4 bytes a pixel at 1080p). Noise
    would need more (a face a pixel in both layers, 64 bytes a pixel); a disk that fills up
    while the cache is written loses nothing (the cache is staged)."""
    return 8 * width * height + 16 * MESH_ROW


def side_corners(z: np.ndarray, tear: float = DEFAULT_TEAR, ln: np.ndarray | None = None
                 ) -> np.ndarray:
    """(4, H, W) float32: the depth of each pixel's corners (bottom-left, bottom-right,
    top-right, top-left; rows bottom first) on its own side of any tear: the mean of the filled
    pixels around the corner that are joined to this pixel through untorn pixel edges (the
    uniform plate's vertex once its torn edges are split; edge pixels repeat outside the frame).
    0 on empty pixels. ``ln``: the depth's :func:`_logs` if already made. Every pixel's
    :meth:`SideCorners.at` (the faces ask only for their own corners)."""
    corners = SideCorners(z, tear, ln)
    hgt, wid = z.shape
    y, x = (a.ravel() for a in np.mgrid[0:hgt, 0:wid])
    return np.stack([corners.at(k, y, x).reshape(hgt, wid) for k in range(4)])


class SideCorners:
    """:func:`side_corners` on demand, at the pixels asked for: a face needs its own four, and
    the flatness test those of the boxes it tries (about 0.1 M on a real-like 1080p frame,
    against 2.8 M pixels)."""

    #: Per corner (bottom-left, bottom-right, top-right, top-left): its offset (dx, dy) from the
    #: pixel's bottom-left corner and the pixel's place in the ring around it (a, b below the
    #: corner, left and right; c, d above it, right and left).
    _AT = ((0, 0, 2), (1, 0, 3), (1, 1, 0), (0, 1, 1))

    def __init__(self, z: np.ndarray, tear: float = DEFAULT_TEAR,
                 ln: np.ndarray | None = None) -> None:
        p = np.pad(np.asarray(z, dtype=np.float32), 1, mode="edge")
        lp = np.pad(_logs(z) if ln is None else ln, 1, mode="edge")
        limit = math.log1p(tear)
        # Flat, with their row lengths: one index a ring serves every gather (numpy's take is
        # several times faster than indexing by row and column).
        self._wp = p.shape[1]
        self._p = p.ravel()
        self._across = _untorn(lp[:, :-1], lp[:, 1:], limit).ravel()  # joined to its right
        self._along = _untorn(lp[:-1], lp[1:], limit).ravel()  # joined to the one above

    def at(self, k: int, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Corner ``k`` of pixels (``y``, ``x``) (rows bottom first): float32 metres, 0 where
        no filled pixel is joined to it."""
        dx, dy, own = self._AT[k]
        p, across, along, wp = self._p, self._across, self._along, self._wp
        i = (y + dy) * wp + (x + dx)  # the ring's bottom-left pixel, padded (rows wp long)
        a = i - (y + dy)  # the same in ``across`` (rows wp - 1 long)
        ring = (p.take(i), p.take(i + 1), p.take(i + wp + 1), p.take(i + wp))
        joined = (across.take(a), along.take(i + 1), across.take(a + wp - 1), along.take(i))
        left, right = joined[(own + 3) % 4], joined[own]  # the pixel's two ring edges
        member = [None] * 4
        member[own] = ring[own] > 0
        member[(own + 3) % 4] = left
        member[(own + 1) % 4] = right
        member[(own + 2) % 4] = ((left & joined[(own + 2) % 4])
                                 | (right & joined[(own + 1) % 4]))
        # Summed in ring order whichever pixel asks: an untorn corner is then the same float
        # for all its faces, and their shared vertices coincide exactly.
        total = np.zeros(y.shape, dtype=np.float32)
        count = np.zeros(y.shape, dtype=np.float32)
        for value, m in zip(ring, member):
            total += np.where(m, value, np.float32(0))
            count += m
        out = np.zeros(y.shape, dtype=np.float32)
        np.divide(total, count, out=out, where=count > 0)
        return out


def _box_error(z: np.ndarray, side: SideCorners, sx: int, sy: int, jb: np.ndarray,
               ib: np.ndarray) -> np.ndarray:
    """Per box of ``sx`` by ``sy`` pixels at box row ``jb``, column ``ib``: the largest relative
    error of its filled pixels' depths against the 1/z-bilinear interpolation from its corners
    (:func:`side_corners`)."""
    y, x = jb * sy, ib * sx
    inv = [1.0 / side.at(0, y, x), 1.0 / side.at(1, y, x + sx - 1),
           1.0 / side.at(2, y + sy - 1, x + sx - 1), 1.0 / side.at(3, y + sy - 1, x)]
    fx = ((np.arange(sx) + 0.5) / sx)[None, None, :]
    fy = ((np.arange(sy) + 0.5) / sy)[None, :, None]
    bottom = inv[0][:, None, None] * (1 - fx) + inv[1][:, None, None] * fx
    top = inv[3][:, None, None] * (1 - fx) + inv[2][:, None, None] * fx
    err = bottom * (1 - fy)
    err += top * fy
    hgt, wid = z.shape
    zb = z.reshape(hgt // sy, sy, wid // sx, sx)[jb, :, ib, :]
    err *= zb
    err -= 1.0
    return np.abs(err, out=err).max(axis=(1, 2))


#: Unsigned integers of 2, 4 and 8 bytes, and the value whose every byte is 1 (True).
_ALL_TRUE = {2: (np.uint16, 0x0101), 4: (np.uint32, 0x01010101),
             8: (np.uint64, 0x0101010101010101)}


def _all_free(free: np.ndarray, sx: int, sy: int) -> np.ndarray:
    """(n, t, t) bool tiles -> (n, t / sy, t / sx): every pixel of the box of ``sx`` by ``sy``
    is True. Runs of ``sx`` bools in a row are read as one integer of ``sx`` bytes (two to
    eight), which is all True when it equals bytes of 1: numpy's reductions over a short last
    axis cost several times more."""
    n, t, _ = free.shape
    if sx == 1:
        runs = free
    else:
        word = min(sx, 8)
        kind, ones = _ALL_TRUE[word]
        runs = np.ascontiguousarray(free).view(kind) == kind(ones)  # (n, t, t / word)
        if sx > word:
            runs = runs.reshape(n, t, t // sx, sx // word).all(axis=3)
    return runs.reshape(n, t // sy, sy, t // sx).all(axis=2)


def _tiles(a: np.ndarray, t: int, tx: int | None = None) -> np.ndarray:
    """(H, W) -> (n, t, tx): the frame as its tiles of t rows by tx (default t) columns, row by
    row from the bottom."""
    h, w = a.shape
    tx = t if tx is None else tx
    return np.ascontiguousarray(a.reshape(h // t, t, w // tx, tx).swapaxes(1, 2)).reshape(
        -1, t, tx)


def _untiles(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """The inverse of :func:`_tiles`: (n, t, tx) -> (H, W)."""
    t, tx = a.shape[1:]
    return a.reshape(h // t, w // tx, t, tx).swapaxes(1, 2).reshape(h, w)


#: Face shapes tried, largest first: (log2 width, log2 height), squares before the elongated
#: of the same area.
_SHAPES = sorted(((a, b) for a in range(MAX_LEVEL + 1) for b in range(MAX_LEVEL + 1)),
                 key=lambda ab: (-(ab[0] + ab[1]), abs(ab[0] - ab[1]), -ab[0]))


def faces(z: np.ndarray, tear: float = DEFAULT_TEAR, tolerance: float = DEFAULT_TOLERANCE,
          max_level: int = MAX_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """One layer's faces on the canvas ``z`` (bottom row first, padded to whole coarsest blocks;
    0: empty): (n, 4) int64 rectangles (x, y, w, h) in pixels and (n, 4) float64 corner depths
    (bottom-left, bottom-right, top-right, top-left), T-junctions stitched (:func:`stitch`).

    Faces are dyadic boxes (``2**a`` by ``2**b`` pixels, a, b <= ``max_level``, from a multiple
    of their size), taken largest first where every pixel is still free and filled, no tear
    runs inside (one may run along their sides: corners keep their own side's depth) and every
    pixel is within ``tolerance`` of the face's 1/z-bilinear depth from its corners. A plate
    face is flat between its vertices on the camera rays, so its depth along a ray is linear in
    1/z across the picture: a tilted wall or the ground plane coarsens as far as a frontal one.
    Dyadic, so that a T-junction's edge always has its ends on a coarser grid than the junction
    itself (stitching settles in a few rounds)."""
    ln = _logs(z)
    side = SideCorners(z, tear, ln)
    t = 1 << max_level
    hgt, wid = z.shape
    inner = _inner_tears(z, ln, tear, max_level)
    # Faces never cross the coarsest blocks: work on those tiles, (n, t, t), and only on the
    # tiles that still have free pixels (most of a frame is taken by its first, largest faces).
    free = _tiles(z > 0, t)
    ids = np.full(free.shape, -1, dtype=np.int32)  # face numbers: 4 bytes a pixel, not 8
    left = free.sum(axis=(1, 2))  # free pixels a tile
    active = np.flatnonzero(left)
    tiles_x = wid // t
    rects = []
    count = 0
    for a, b in (ab for ab in _SHAPES if max(ab) <= max_level):
        sx, sy = 1 << a, 1 << b
        ok = _all_free(free[active], sx, sy)
        ok &= ~_tiles(inner[a, b], t // sy, t // sx)[active]
        k, jt, it = np.nonzero(ok)
        ty, tx = np.divmod(active[k], tiles_x)
        jb, ib = ty * (t // sy) + jt, tx * (t // sx) + it  # on the frame's grid of such boxes
        if a or b:
            flat = _box_error(z, side, sx, sy, jb, ib) <= tolerance
            k, jt, it, jb, ib = k[flat], jt[flat], it[flat], jb[flat], ib[flat]
        tile = active[k]
        free.reshape(-1, t // sy, sy, t // sx, sx)[tile, jt, :, it, :] = False
        ids.reshape(-1, t // sy, sy, t // sx, sx)[tile, jt, :, it, :] = (
            count + np.arange(tile.size))[:, None, None]
        count += tile.size
        left -= np.bincount(tile, minlength=left.size) * (sx * sy)
        active = active[left[active] > 0]
        rects.append(np.stack([ib * sx, jb * sy, np.full(ib.size, sx), np.full(ib.size, sy)],
                              axis=1))
        if active.size == 0:
            break
    rect = np.concatenate(rects).astype(np.int64) if rects else np.zeros((0, 4), np.int64)
    x, y, w, h = rect.T
    depth = np.stack([side.at(0, y, x), side.at(1, y, x + w - 1),
                      side.at(2, y + h - 1, x + w - 1), side.at(3, y + h - 1, x)],
                     axis=1).astype(np.float64)
    ids = _untiles(ids, hgt, wid)
    return rect, stitch(z, rect, depth, tear, ids, ln)


def _inner_tears(z: np.ndarray, ln: np.ndarray, tear: float, max_level: int) -> dict:
    """{(a, b): (H / 2**b, W / 2**a) bool}: a tear runs inside the box of ``2**a`` by ``2**b``
    pixels there (a pixel torn from its neighbour inside the box), from pyramids: a box holds
    one if either half does or one crosses the line between its halves."""
    right, up = _torn_pairs(z, ln, tear)
    rows_any = [right]  # right torn, any over blocks of 2**b rows
    cols_any = [up]  # up torn, any over blocks of 2**a columns
    for _ in range(max_level):
        rows_any.append(rows_any[-1][0::2] | rows_any[-1][1::2])
        cols_any.append(cols_any[-1][:, 0::2] | cols_any[-1][:, 1::2])
    out = {}
    for b in range(max_level + 1):
        across = np.zeros((z.shape[0] >> b, z.shape[1]), dtype=bool)  # a = 0: none inside
        for a in range(max_level + 1):
            if a:
                half = 1 << (a - 1)
                across = across[:, 0::2] | across[:, 1::2] | rows_any[b][:, half - 1::2 * half]
            out[a, b] = across
    for a in range(max_level + 1):
        along = np.zeros((z.shape[0], z.shape[1] >> a), dtype=bool)
        for b in range(max_level + 1):
            if b:
                half = 1 << (b - 1)
                along = along[0::2] | along[1::2] | cols_any[a][half - 1::2 * half]
            out[a, b] = out[a, b] | along
    return out


#: Per face corner (bottom-left, bottom-right, top-right, top-left): the corner point and own
#: pixel as offsets (dx, dy) from the face's (x, y) in units of (w, h) and pixels, then two
#: lines through the point: (the two pixels across it that one face must cover, the pixel
#: across from the own pixel, the covering face's edge as two corner indices, axis along it).
_CORNERS = (
    ((0, 0), (0, 0), [((-1, -1), (0, -1), (0, -1), (3, 2), 0),
                      ((-1, -1), (-1, 0), (-1, 0), (1, 2), 1)]),
    ((1, 0), (-1, 0), [((-1, -1), (0, -1), (-1, -1), (3, 2), 0),
                       ((0, -1), (0, 0), (0, 0), (0, 3), 1)]),
    ((1, 1), (-1, -1), [((-1, 0), (0, 0), (-1, 0), (0, 1), 0),
                        ((0, -1), (0, 0), (0, -1), (0, 3), 1)]),
    ((0, 1), (0, -1), [((-1, 0), (0, 0), (0, 0), (0, 1), 0),
                       ((-1, -1), (-1, 0), (-1, -1), (1, 2), 1)]),
)


def _t_junctions(z: np.ndarray, rect: np.ndarray, tear: float, ids: np.ndarray,
                 ln: np.ndarray):
    """The T-junctions to stitch: (corner index, edge end 1, edge end 2, position along the
    edge) arrays, corner indices ``face * 4 + corner``; only where the corner's own pixel and
    the pixel across the edge are untorn (a tear leaves the two sides apart)."""
    hgt, wid = z.shape
    limit = math.log1p(tear)
    x, y, w, h = rect.T
    flat_ids, flat_ln = ids.ravel(), ln.ravel()
    out = []
    for c, (point, own, lines) in enumerate(_CORNERS):
        px, py = x + point[0] * w, y + point[1] * h
        ox, oy = px + own[0], py + own[1]
        for (ax, ay), (bx, by), (cx, cy), (e1, e2), axis in lines:
            qa = (px + ax, py + ay)
            qb = (px + bx, py + by)
            qc = (px + cx, py + cy)
            inside = ((np.minimum(qa[0], qb[0]) >= 0) & (np.maximum(qa[0], qb[0]) < wid)
                      & (np.minimum(qa[1], qb[1]) >= 0) & (np.maximum(qa[1], qb[1]) < hgt))
            f = np.flatnonzero(inside)
            other = flat_ids.take(qa[1][f] * wid + qa[0][f])
            same = (other >= 0) & (other == flat_ids.take(qb[1][f] * wid + qb[0][f]))
            f, other = f[same], other[same]
            f_keep = _untorn(flat_ln.take(oy[f] * wid + ox[f]),
                             flat_ln.take(qc[1][f] * wid + qc[0][f]), limit)
            f, other = f[f_keep], other[f_keep]
            along = (px[f] - x[other]) / w[other] if axis == 0 else (py[f] - y[other]) / h[other]
            out.append((f * 4 + c, other * 4 + e1, other * 4 + e2, along))
    return [np.concatenate(v) for v in zip(*out)]


def stitch(z: np.ndarray, rect: np.ndarray, depth: np.ndarray, tear: float, ids: np.ndarray,
           ln: np.ndarray, rounds: int = 64) -> np.ndarray:
    """``depth`` with every face corner that lies inside another face's edge (a T-junction) moved
    onto that edge: its depth the 1/z interpolation of the edge's ends, which is where the
    straight edge crosses the corner's camera ray, so the plate has no cracks from any point of
    the lens. An edge's ends may be T-junctions themselves, on a coarser grid each time (faces
    are dyadic): a few rounds reach the fixed point. ``ids``: each pixel's face (-1: none),
    ``ln``: the depth's :func:`_logs`."""
    target, end1, end2, t = _t_junctions(z, rect, tear, ids, ln)
    flat = depth.reshape(-1).copy()
    for _ in range(rounds):
        new = 1.0 / ((1.0 - t) / flat[end1] + t / flat[end2])
        change = np.abs(new - flat[target]).max(initial=0.0)
        flat[target] = new
        if change == 0.0:
            break
    return flat.reshape(depth.shape)


def _canvas(z_top: np.ndarray, margin: int, max_level: int) -> np.ndarray:
    """The layer's depth bottom row first, with ``margin`` pixels all round and padded to whole
    coarsest blocks (edge pixels repeated, as the textures extend)."""
    h, w = z_top.shape
    wp, hp = padded_size(w + 2 * margin, h + 2 * margin, max_level)
    return np.pad(np.asarray(z_top, dtype=np.float32)[::-1],
                  ((margin, hp - h - margin), (margin, wp - w - margin)), mode="edge")


def mesh_planes(depth_m: np.ndarray, fill_z: np.ndarray, tear: float = DEFAULT_TEAR,
                tolerance: float = DEFAULT_TOLERANCE, margin: int = 0,
                max_level: int = MAX_LEVEL) -> list[np.ndarray]:
    """The mesh cache image's planes R, G, B, A, top row first, float32 (see module doc), from
    the frame's depth and fill depth (H, W) top row first, metres (fill 0: none)."""
    def layer(z_top):
        return faces(_canvas(z_top, margin, max_level), tear, tolerance, max_level)

    # The two layers on two threads: numpy lets go of Python's lock in its array work.
    with ThreadPoolExecutor(2, thread_name_prefix="rackfocus-mesh") as pool:
        layers = list(pool.map(layer, (depth_m, fill_z)))
    texels = []
    for (rect, depth), sign in zip(layers, (1, -1)):
        rect = rect.astype(np.float64)
        rect[:, :2] -= margin
        rect[:, 2] *= sign
        texels.append(np.stack([rect, depth], axis=1).reshape(-1, 4))
    flat = np.concatenate(texels)
    rows = max(1, -(-len(flat) // MESH_ROW))
    image = np.zeros((rows * MESH_ROW, 4), dtype=np.float32)
    image[:len(flat)] = flat
    image = image.reshape(rows, MESH_ROW, 4)[::-1]
    return [np.ascontiguousarray(image[..., c]) for c in range(4)]
