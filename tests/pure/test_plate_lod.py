"""The light plate's faces: they tile the frame once, hold no tear inside, coarsen flat
surfaces, keep each corner on its own side of a tear, and have no cracks (every T-junction
vertex lies on the edge it splits)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rackfocus_addon import plate_lod, plate_mesh

TEAR = plate_mesh.DEFAULT_TEAR


def scene_depth(w: int = 256, h: int = 160) -> np.ndarray:
    """A tilted ground plane (1/z linear down the frame), a wall, a box and a thin pole, top
    row first, metres."""
    y = np.arange(h, dtype=np.float64)[:, None]
    x = np.arange(w, dtype=np.float64)[None, :]
    z = 1.0 / (0.05 + 0.004 * y + 0.0005 * x) * np.ones((h, w))
    z[:70, :] = 9.0
    z[90:130, 20:60] = 2.5 + 0.002 * x[:, 20:60]
    z[:, 180:182] = 3.0
    return z.astype(np.float32)


def fill_depth(z: np.ndarray) -> np.ndarray:
    """A fill layer: only near edges, empty (0) elsewhere."""
    return np.where(plate_mesh.edge_band(z, 12), z * 1.5, 0.0).astype(np.float32)


def canvas(z_top: np.ndarray, margin: int = 0) -> np.ndarray:
    return plate_lod._canvas(z_top, margin, plate_lod.MAX_LEVEL)


def torn(a: float, b: float) -> bool:
    return not (a > 0 and b > 0 and abs(math.log(a) - math.log(b)) <= math.log1p(TEAR))


@pytest.mark.parametrize("layer", ["main", "fill"])
def test_faces_tile_the_filled_pixels_once_and_are_dyadic(layer):
    """Every filled pixel in one face, empty ones in none; faces ``2**a`` by ``2**b`` pixels
    from a multiple of their size."""
    z = canvas(scene_depth() if layer == "main" else fill_depth(scene_depth()))
    rect, _ = plate_lod.faces(z)
    cover = np.zeros(z.shape, dtype=int)
    for x, y, w, h in rect:
        cover[y:y + h, x:x + w] += 1
        assert w & (w - 1) == 0 and h & (h - 1) == 0 and x % w == 0 and y % h == 0
    assert (cover[z > 0] == 1).all() and (cover[z <= 0] == 0).all()
    # Far fewer faces than pixels, and the coarsest blocks are used.
    assert len(rect) < 0.12 * (z > 0).sum() and rect[:, 2].max() == 1 << plate_lod.MAX_LEVEL


def test_no_face_holds_a_tear_and_faces_are_flat():
    z = canvas(scene_depth())
    rect, depth = plate_lod.faces(z)
    tears = 0
    for (x, y, w, h), c in zip(rect, depth):
        block = z[y:y + h, x:x + w]
        for a, b in zip(block[:, :-1].ravel(), block[:, 1:].ravel()):
            assert not torn(a, b)
        for a, b in zip(block[:-1].ravel(), block[1:].ravel()):
            assert not torn(a, b)
        # Every pixel within the tolerance of the face's 1/z-bilinear depth, twice it at most
        # once its corners are moved onto neighbours' edges (stitched).
        fy = ((np.arange(h) + 0.5) / h)[:, None]
        fx = ((np.arange(w) + 0.5) / w)[None, :]
        inv = 1.0 / c
        interp = ((inv[0] * (1 - fx) + inv[1] * fx) * (1 - fy)
                  + (inv[3] * (1 - fx) + inv[2] * fx) * fy)
        assert np.abs(block * interp - 1.0).max() <= 2 * plate_lod.DEFAULT_TOLERANCE
    horiz, vert = plate_mesh.discontinuities(z)
    tears = horiz.sum() + vert.sum()
    assert tears > 100  # the scene has edges, all of them between faces


def test_tolerance_zero_on_noise_keeps_full_density():
    rng = np.random.default_rng(1)
    z = 5.0 * (1.0 + 0.01 * rng.standard_normal((64, 64)))
    rect, _ = plate_lod.faces(z, tolerance=1e-4)
    assert len(rect) > 0.9 * z.size


def test_side_corners_take_their_own_side_of_a_tear():
    """Against brute force: each pixel corner is the mean of the pixels around it reachable
    from this pixel through untorn pixel edges (empty pixels never)."""
    rng = np.random.default_rng(3)
    z = np.where(rng.random((12, 14)) < 0.5, 2.0, 6.0) * (1 + 0.005 * rng.random((12, 14)))
    z[rng.random(z.shape) < 0.1] = 0.0
    side = plate_lod.side_corners(z)
    p = np.pad(z, 1, mode="edge")
    h, w = z.shape
    for r in range(h):
        for q in range(w):
            for k, (cx, cy) in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
                if z[r, q] <= 0:
                    assert side[k, r, q] == 0.0
                    continue
                # The four pixels around corner point (q + cx, r + cy), in padded coordinates,
                # as a ring: below-left, below-right, above-right, above-left.
                px, py = q + cx, r + cy
                ring = [(py, px), (py, px + 1), (py + 1, px + 1), (py + 1, px)]
                own = ring.index((r + 1, q + 1))
                seen, todo = {own}, [own]
                while todo:
                    i = todo.pop()
                    for j in ((i + 1) % 4, (i + 3) % 4):
                        if j not in seen and not torn(p[ring[i]], p[ring[j]]):
                            seen.add(j)
                            todo.append(j)
                want = np.mean([p[ring[i]] for i in seen])
                assert side[k, r, q] == pytest.approx(want, rel=1e-6)  # float32


def _point(x, y, depth, w, h):
    """Camera-space point of pixel corner (x, y) (bottom-left origin) at planar depth."""
    return np.array([(x / w - 0.5) * depth, (y / h - 0.5) * depth * h / w, -depth])


@pytest.mark.parametrize("layer", ["main", "fill"])
def test_no_cracks_every_t_junction_lies_on_its_edge(layer):
    """Brute force: every face corner strictly inside another face's edge, where the two faces
    meet untorn, is on that edge's straight line in camera space."""
    z = canvas(scene_depth() if layer == "main" else fill_depth(scene_depth()))
    rect, depth = plate_lod.faces(z)
    h_px, w_px = z.shape
    corners = {}  # corner point -> [(face, corner index)]
    for f, (x, y, w, h) in enumerate(rect):
        for k, pt in enumerate(((x, y), (x + w, y), (x + w, y + h), (x, y + h))):
            corners.setdefault(pt, []).append((f, k))
    checked = 0
    for f, (x, y, w, h) in enumerate(rect):
        c = depth[f]
        # (edge ends with their corner depths, the pixel row/column just inside, outside)
        for (ax, ay, za), (bx, by, zb), inside, outside in (
                ((x, y, c[0]), (x + w, y, c[1]), y, y - 1),
                ((x, y + h, c[3]), (x + w, y + h, c[2]), y + h - 1, y + h),
                ((x, y, c[0]), (x, y + h, c[3]), x, x - 1),
                ((x + w, y, c[1]), (x + w, y + h, c[2]), x + w - 1, x + w)):
            horizontal = ay == by
            length = (bx - ax) if horizontal else (by - ay)
            pa, pb = _point(ax, ay, za, w_px, h_px), _point(bx, by, zb, w_px, h_px)
            for t in range(1, length):
                pt = (ax + t, ay) if horizontal else (ax, ay + t)
                for g, k in corners.get(pt, []):
                    if horizontal:
                        if not 0 <= outside < h_px:
                            continue
                        # The other face's pixel at the corner, across this edge.
                        gx = pt[0] if k in (0, 3) else pt[0] - 1
                        a, b = z[inside, gx], z[outside, gx]
                    else:
                        if not 0 <= outside < w_px:
                            continue
                        gy = pt[1] if k in (0, 1) else pt[1] - 1
                        a, b = z[gy, inside], z[gy, outside]
                    if torn(a, b):
                        continue
                    pm = _point(pt[0], pt[1], depth[g][k], w_px, h_px)
                    off = np.linalg.norm(np.cross(pm - pa, pb - pa)) / np.linalg.norm(pb - pa)
                    assert off < 1e-9 * np.linalg.norm(pm), (f, g, off)
                    checked += 1
    assert checked > 20


def test_mesh_planes_layout():
    z = scene_depth()
    fill = fill_depth(z)
    margin = 5
    planes = plate_lod.mesh_planes(z, fill, margin=margin)
    assert len(planes) == 4 and all(p.dtype == np.float32 for p in planes)
    rows = planes[0].shape[0]
    assert planes[0].shape == (rows, plate_lod.MESH_ROW)
    texels = np.stack(planes, axis=-1)[::-1].reshape(-1, 2, 4)  # bottom row first, pairs
    used = texels[texels[:, 0, 2] != 0]
    assert (texels[len(used):] == 0).all()  # the unused texels after the faces are zero
    main, fill_faces = used[used[:, 0, 2] > 0], used[used[:, 0, 2] < 0]
    want_main, want_main_depth = plate_lod.faces(canvas(z, margin))
    assert len(main) == len(want_main) and len(fill_faces) == len(plate_lod.faces(
        canvas(fill, margin))[0])
    np.testing.assert_array_equal(main[:, 0, :2], want_main[:, :2] - margin)  # frame pixels
    np.testing.assert_array_equal(main[:, 0, 2:], want_main[:, 2:])
    np.testing.assert_allclose(main[:, 1], want_main_depth, rtol=1e-6)
    # The frame's bottom-left pixel (the last row of z, top row first): in one face, whose
    # depth there is the pixel's.
    x, y, w, h = main[:, 0].T
    at = np.flatnonzero((x <= 0) & (x + w > 0) & (y <= 0) & (y + h > 0))
    assert at.size == 1
    (x, y, w, h), c = main[at[0]]
    fx, fy = (0.5 - x) / w, (0.5 - y) / h
    inv = 1.0 / c
    here = ((inv[0] * (1 - fx) + inv[1] * fx) * (1 - fy) + (inv[3] * (1 - fx) + inv[2] * fx) * fy)
    assert 1.0 / here == pytest.approx(z[-1, 0], rel=plate_lod.DEFAULT_TOLERANCE)
