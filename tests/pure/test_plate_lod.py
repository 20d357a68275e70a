"""The light plate's quadtree: it tiles the frame, stays fine at depth edges, coarsens flat
surfaces, and has no cracks (every T-junction vertex lies on the coarse edge it splits)."""

from __future__ import annotations

import numpy as np
import pytest

from rackfocus_addon import plate_lod, plate_mesh


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


def bottom_first_padded(z: np.ndarray) -> np.ndarray:
    h, w = z.shape
    wp, hp = plate_lod.padded_size(w, h)
    return np.pad(z[::-1].astype(np.float64), ((0, hp - h), (0, wp - w)), mode="edge")


def test_blocks_tile_the_frame_once_and_are_balanced():
    z = bottom_first_padded(scene_depth())
    level = plate_lod.block_levels(z)
    leaves = plate_lod.leaf_blocks(level)
    cover = np.zeros(z.shape, dtype=int)
    for x, y, s in leaves:
        cover[y:y + s, x:x + s] += 1
        assert x % s == 0 and y % s == 0
        assert (level[y:y + s, x:x + s] == np.log2(s)).all()
    assert (cover == 1).all()
    # 2:1 balance with every 8-neighbour.
    pad = np.pad(level, 1, mode="edge").astype(int)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            other = pad[1 + dy:1 + dy + z.shape[0], 1 + dx:1 + dx + z.shape[1]]
            assert np.abs(other - level).max() <= 1
    # Far fewer faces than pixels, and the coarsest blocks are used.
    assert len(leaves) < 0.2 * z.size and level.max() >= plate_lod.MAX_LEVEL - 1


def test_depth_edges_stay_at_full_density_and_flat_blocks_are_exact():
    z = bottom_first_padded(scene_depth())
    level = plate_lod.block_levels(z)
    near_tear = plate_mesh.edge_band(z, 1)
    assert near_tear.any() and (level[near_tear] == 0).all()
    # Every pixel of a coarse block is within the tolerance of the block's flat faces.
    corners = plate_lod.corner_depths(z)
    for x, y, s in plate_lod.leaf_blocks(level):
        if s == 1:
            continue
        inv = 1.0 / corners[[y, y, y + s, y + s], [x, x + s, x, x + s]]
        f = (np.arange(s) + 0.5) / s
        fy, fx = f[:, None], f[None, :]
        interp = (inv[0] * (1 - fy) * (1 - fx) + inv[1] * (1 - fy) * fx + inv[2] * fy * (1 - fx)
                  + inv[3] * fy * fx)
        err = np.abs(z[y:y + s, x:x + s] * interp - 1.0).max()
        assert err <= plate_lod.DEFAULT_TOLERANCE + 1e-6


def test_tolerance_zero_on_noise_keeps_full_density():
    rng = np.random.default_rng(1)
    z = 5.0 * (1.0 + 0.01 * rng.standard_normal((64, 64)))
    level = plate_lod.block_levels(z, tolerance=1e-4)
    assert (level == 0).mean() > 0.9


def _point(x, y, depth, w, h):
    """Camera-space point of pixel corner (x, y) (bottom-left origin) at planar depth."""
    return np.array([(x / w - 0.5) * depth, (y / h - 0.5) * depth * h / w, -depth])


@pytest.mark.parametrize("layer", ["main", "fill"])
def test_no_cracks_every_t_junction_lies_on_its_coarse_edge(layer):
    z_top = scene_depth()
    if layer == "fill":  # a fill layer: only near edges, empty (0) elsewhere
        band = plate_mesh.edge_band(z_top, 12)
        z_top = np.where(band, z_top * 1.5, 0.0).astype(np.float32)
    corners, level = plate_lod.layer_maps(z_top)
    level = level[:-1, :-1]
    h, w = z_top.shape
    leaves = plate_lod.leaf_blocks(np.where(level < 0, -1 - level, level))
    leaves = leaves[level[leaves[:, 1], leaves[:, 0]] >= 0]  # filled blocks only
    vertex = np.zeros(corners.shape, dtype=bool)
    for x, y, s in leaves:
        vertex[[y, y, y + s, y + s], [x, x + s, x, x + s]] = True
    checked = 0
    for x, y, s in leaves:
        if s == 1:
            continue
        for (ax, ay), (bx, by) in (((x, y), (x + s, y)), ((x, y + s), (x + s, y + s)),
                                   ((x, y), (x, y + s)), ((x + s, y), (x + s, y + s))):
            pa = _point(ax, ay, corners[ay, ax], w, h)
            pb = _point(bx, by, corners[by, bx], w, h)
            for t in range(1, s):
                mx, my = ax + (bx - ax) * t // s, ay + (by - ay) * t // s
                if not vertex[my, mx]:
                    continue
                assert t == s // 2  # balanced: at most the middle
                pm = _point(mx, my, corners[my, mx], w, h)
                off = np.linalg.norm(np.cross(pm - pa, pb - pa)) / np.linalg.norm(pb - pa)
                assert off < 2e-7 * np.linalg.norm(pm), (x, y, s, off)  # float32 depths
                checked += 1
    assert checked > 20


def test_mesh_planes_layout():
    z = scene_depth()
    fill = np.where(plate_mesh.edge_band(z, 6), z * 1.2, 0.0).astype(np.float32)
    planes = plate_lod.mesh_planes(z, fill)
    wp, hp = plate_lod.padded_size(256, 160)
    assert [p.shape for p in planes] == [(hp + 1, wp + 1)] * 4
    assert all(p.dtype == np.float32 for p in planes)
    # Top row first, like every cache plane: the frame's top-left corner is at [hp - 90, 0].
    main_c = planes[0]
    assert main_c[hp - 160, 0] == pytest.approx(9.0)
    levels = range(-1 - plate_lod.MAX_LEVEL, plate_lod.MAX_LEVEL + 1)
    assert set(np.unique(planes[3])) <= set(map(float, levels))
    frame_levels = planes[3][hp - 159:hp + 1, :256]  # the frame's pixels, top row first
    assert (frame_levels[fill == 0] < 0).all() and (frame_levels[fill > 0] >= 0).all()
    assert (frame_levels <= -4).any()  # empty blocks are coarse too
