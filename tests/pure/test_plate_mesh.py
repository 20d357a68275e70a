"""Plate geometry maths: camera rays, tears, background fill (no bpy); and the test oracles
(``tests/oracles.py``: reference plate vertices, PSNR, SSIM) the bpy tests and benchmark use."""

import math

import numpy as np
import oracles
import pytest

from rackfocus_addon import plate_mesh as pm


def box_over_wall(h=40, w=60, near=2.0, far=8.0):
    """Depth and colour: a near box (red) over a far wall with a horizontal colour ramp."""
    z = np.full((h, w), far)
    z[10:30, 20:40] = near
    color = np.zeros((h, w, 3))
    color[..., 1] = np.linspace(0.0, 1.0, w)[None, :]
    color[..., 2] = 0.5
    color[10:30, 20:40] = (1.0, 0.0, 0.0)
    return z, color


def test_grid_size_and_stats():
    assert pm.grid_size(160, 90, 2.0) == (321, 181)
    assert pm.grid_size(160, 90, 1.0) == (161, 91)
    assert pm.grid_size(1920, 1080, 0.25) == (481, 271)
    assert pm.plate_stats(4, 2, 1.0) == {"vertices": 15, "faces": 8, "grid": (5, 3)}
    with pytest.raises(ValueError):
        pm.grid_size(4, 4, 0.0)


def test_pixel_point_lies_on_the_pixel_ray_at_planar_depth():
    w, h, sensor, focal = 160, 90, 36.0, 50.0
    for x, y, z in ((0, 0, 3.0), (159, 89, 7.5), (80, 45, 1.0), (12.3, 70.8, 2.0)):
        p = pm.pixel_point(x, y, z, w, h, sensor, focal)
        assert p[2] == pytest.approx(-z)  # planar depth along the view axis, not radial
        u, v = pm.project(p, w, h, sensor, focal)
        assert u * w - 0.5 == pytest.approx(x) and (1 - v) * h - 0.5 == pytest.approx(y)
    # The frame edge at depth z is z * sensor / 2 / focal to the side.
    edge = pm.camera_point(1.0, 0.5, 8.0, w, h, sensor, focal)
    assert edge[0] == pytest.approx(8.0 * 18.0 / 50.0)
    edge_y = pm.camera_point(0.5, 1.0, 8.0, w, h, sensor, focal)
    assert edge_y[1] == pytest.approx(8.0 * 18.0 * 90 / 160 / 50.0)


def test_ray_slopes_match_camera_point():
    sx, sy = pm.ray_slopes(16, 9, 36.0, 50.0)
    p = pm.pixel_point(3, 7, 1.0, 16, 9, 36.0, 50.0)
    assert sx[3] == pytest.approx(p[0]) and sy[7] == pytest.approx(p[1])


def test_discontinuities_tear_steps_not_smooth_slopes():
    z, _ = box_over_wall()
    horiz, vert = pm.discontinuities(z)
    assert horiz[15, 19] and horiz[15, 39] and vert[9, 25] and vert[29, 25]
    assert horiz.sum() == 2 * 20 and vert.sum() == 2 * 20
    ramp = np.tile(np.linspace(3.0, 9.0, 200), (10, 1))  # a floor: ~0.5 % per pixel at most
    h2, v2 = pm.discontinuities(ramp)
    assert not h2.any() and not v2.any()


def test_max_filter_matches_brute_force():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(9, 13))
    got = pm.max_filter(a, 2)
    for r in range(9):
        for c in range(13):
            want = a[max(r - 2, 0):r + 3, max(c - 2, 0):c + 3].max()
            assert got[r, c] == want


def test_edge_band_surrounds_depth_edges_only():
    z, _ = box_over_wall()
    band = pm.edge_band(z, 2)
    assert band[15, 18] and band[15, 21] and band[8, 25] and band[31, 25]
    assert not band[20, 30] and not band[2, 2]


def test_background_fill_inpaints_the_wall_behind_the_box_edge():
    z, color = box_over_wall()
    radius = 4
    fill_col, fill_z = pm.background_fill(color, z, radius)
    has = fill_z > 0
    # Fill exists only inside the box, within the radius of its edge.
    assert has[10:30, 20:24].all() and has[10:30, 36:40].all() and has[10:14, 20:40].all()
    assert not has[16:24, 26:34].any()
    assert not has[:, :20].any() and not has[:, 40:].any()
    # Its depth is the wall's, its colour the wall's (never the red box).
    np.testing.assert_allclose(fill_z[has], 8.0, rtol=1e-5)
    assert fill_col[has][:, 0].max() < 1e-6
    # Along a row, the fill continues the wall colour next to the edge it grew from.
    assert fill_col[20, 20, 1] == pytest.approx(color[20, 19, 1], abs=0.02)
    assert fill_col[20, 39, 1] == pytest.approx(color[20, 40, 1], abs=0.02)


def test_background_fill_ignores_smooth_surfaces_and_far_side():
    ramp = np.tile(np.linspace(3.0, 9.0, 80), (30, 1))
    col = np.ones((30, 80, 3))
    _, fz = pm.background_fill(col, ramp, 5)
    assert not (fz > 0).any()
    # A hole (far pixel) in a near surface: fill only on the near side.
    z = np.full((20, 20), 2.0)
    z[8:12, 8:12] = 6.0
    _, fz = pm.background_fill(np.ones((20, 20, 3)), z, 3)
    assert not (fz[8:12, 8:12] > 0).any()
    assert (fz[7, 7:13] > 0).all()
    np.testing.assert_allclose(fz[fz > 0], 6.0, rtol=1e-5)


def test_reference_vertices_of_flat_depth_are_a_plane_on_the_rays():
    z = np.full((9, 16), 5.0)
    verts = oracles.reference_vertices(z, 2, 36.0, 50.0)
    assert verts.shape == (19, 33, 3)
    np.testing.assert_allclose(verts[..., 2], -5.0)
    assert verts[0, 0, 0] == pytest.approx(-5.0 * 18 / 50)
    z[3:6, 4:8] = 1.0
    verts = oracles.reference_vertices(z, 2, 36.0, 50.0)
    assert np.isnan(verts[..., 2]).any()  # split along the box outline
    # A pixel centre vertex (odd, odd) inside the box sits at the box depth.
    row = 2 * (9 - 1 - 4) + 1  # grid order is bottom row first
    assert verts[row, 2 * 5 + 1, 2] == pytest.approx(-1.0)


def test_psnr_and_ssim():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (32, 32, 3))
    assert oracles.psnr(a, a) == math.inf
    assert oracles.ssim(a, a) == pytest.approx(1.0)
    noisy = np.clip(a + rng.normal(0, 0.01, a.shape), 0, 1)
    assert 38.0 < oracles.psnr(a, noisy) < 42.0
    worse = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1)
    assert oracles.ssim(a, worse) < oracles.ssim(a, noisy) < 1.0
    mask = np.zeros((32, 32), dtype=bool)
    mask[:4] = True
    b = a.copy()
    b[10:] = 0.0
    assert oracles.psnr(a, b, mask) == math.inf


def test_default_fill_px():
    assert pm.default_fill_px(1920) == 38 and pm.default_fill_px(64) == 4


def test_fitted_sensor_makes_the_frame_width_span_the_sensor():
    """For every Blender sensor fit, the size it uses so a W x H frame spans ``sensor`` mm
    across its width (Blender's rule: HORIZONTAL and AUTO-landscape fit the width, VERTICAL the
    height, AUTO-portrait the width property applied to the height)."""
    assert pm.fitted_sensor("HORIZONTAL", 36.0, 1920, 1080) == ("sensor_width", 36.0)
    assert pm.fitted_sensor("AUTO", 36.0, 1920, 1080) == ("sensor_width", 36.0)
    assert pm.fitted_sensor("AUTO", 36.0, 100, 100) == ("sensor_width", 36.0)
    attr, size = pm.fitted_sensor("VERTICAL", 36.0, 1920, 1080)
    assert attr == "sensor_height" and size == pytest.approx(20.25)
    attr, size = pm.fitted_sensor("AUTO", 36.0, 1080, 1920)
    assert attr == "sensor_width" and size == pytest.approx(64.0)
    assert pm.fitted_sensor("HORIZONTAL", 36.0, 1080, 1920) == ("sensor_width", 36.0)
    with pytest.raises(ValueError):
        pm.fitted_sensor("DIAGONAL", 36.0, 4, 4)


def test_background_fill_never_blends_two_backgrounds():
    """A box before a wall of two depths: the fill takes one depth or the other (nearest), never
    an in-between one, and each side of the box fills from the wall beside it."""
    z, color = box_over_wall()
    right = z[:, 30:]
    right[right == 8.0] = 12.0  # the wall's right half is farther
    fill_col, fill_z = pm.background_fill(color, z, 4)
    has = fill_z > 0
    values = np.unique(np.round(fill_z[has], 4))
    np.testing.assert_allclose(values, [8.0, 12.0], rtol=1e-5)
    np.testing.assert_allclose(fill_z[10:30, 20:22], 8.0, rtol=1e-5)
    np.testing.assert_allclose(fill_z[10:30, 38:40], 12.0, rtol=1e-5)
    assert fill_col[has][:, 0].max() < 1e-6  # never the red box


def test_background_fill_keeps_thin_structures_and_fills_from_behind_only():
    """A 1 px spoke before a wall fills with the wall; two slats fill from the 1 px gap between
    them; a pole before a slat before a wall: the pole fills from what is right behind it, the
    slat only from the wall, never from the pole in front of it."""
    h, w = 30, 40
    wall = np.full((h, w), 9.0)
    color = np.zeros((h, w, 3))
    color[..., 2] = np.linspace(0.2, 0.8, w)[None, :]  # the wall: blue ramp
    z = wall.copy()
    z[5:25, 6] = 1.0  # the spoke
    color[5:25, 6] = (1.0, 0.0, 0.0)
    z[5:25, 14:18] = 3.0  # two slats with a 1 px gap at column 18
    z[5:25, 19:23] = 3.0
    color[5:25, 14:18] = color[5:25, 19:23] = (0.0, 1.0, 0.0)
    z[5:25, 30:36] = 3.0  # a slat, and a pole in front of its left edge
    z[5:25, 28:32] = 1.0
    color[5:25, 30:36] = (0.0, 1.0, 0.0)
    color[5:25, 28:32] = (1.0, 1.0, 0.0)
    fill_col, fill_z = pm.background_fill(color, z, 3)
    has = fill_z > 0
    # Every fill is behind its pixel, by more than the tear ratio.
    assert (fill_z[has] > z[has] * 1.03).all()
    # The spoke: filled all along, with the wall (its depth, its colour, no red).
    assert has[5:25, 6].all()
    np.testing.assert_allclose(fill_z[5:25, 6], 9.0, rtol=1e-5)
    assert fill_col[5:25, 6, 0].max() < 1e-6
    np.testing.assert_allclose(fill_col[5:25, 6, 2], color[5:25, 6, 2] * 0 + color[0, 6, 2],
                               atol=0.03)
    # The slats beside the gap fill from the gap (the wall, at the gap's colour).
    np.testing.assert_allclose(fill_z[8:22, 17], 9.0, rtol=1e-5)
    np.testing.assert_allclose(fill_z[8:22, 19], 9.0, rtol=1e-5)
    np.testing.assert_allclose(fill_col[8:22, 17, 2], color[8, 18, 2], atol=0.02)
    # The pole fills from the slat right behind it on the right, the wall on the left.
    np.testing.assert_allclose(fill_z[8:22, 31], 3.0, rtol=1e-5)
    np.testing.assert_allclose(fill_col[8:22, 31], np.tile((0.0, 1.0, 0.0), (14, 1)),
                               atol=1e-6)
    np.testing.assert_allclose(fill_z[8:22, 28], 9.0, rtol=1e-5)
    # The slat fills only from the wall: never the pole's yellow, nor its own green.
    slat = has[:, 30:36] & (z[:, 30:36] == 3.0)
    assert slat.any()
    np.testing.assert_allclose(fill_z[:, 30:36][slat], 9.0, rtol=1e-5)
    assert fill_col[:, 30:36][slat][:, :2].max() < 1e-6


def test_background_fill_matches_the_ring_growth_where_that_was_right():
    """On a real-like frame (many edges, thin structures, holes filled) the fill pixels are the
    former ones exactly, and the first ring behind every edge whose background continues
    cleanly (its neighbours behind it are background, not fill themselves: where the former
    ring-by-ring inpainting was right) is the former result exactly. Deeper in, the fill differs
    by design: nearest far-side depth instead of a blend of backgrounds (no smear), and a blur
    growing with distance (edge-band PSNR against true DOF in bench/bench_plate.py: better)."""
    from rackfocus_addon.depth import fill_nearest

    color, raw = oracles.real_like_frame(256, 256, seed=1)
    z = fill_nearest(raw, np.isfinite(raw) & (raw > 0)).astype(np.float32)
    radius = pm.default_fill_px(256)
    new_col, new_z = pm.background_fill(color, z, radius)
    old_col, old_z = oracles.background_fill_reference(color, z, radius)
    fill = new_z > 0
    np.testing.assert_array_equal(fill, old_z > 0)
    assert 0.3 < fill.mean() < 0.8
    ln = np.log(z)
    limit = pm.tear_log(pm.DEFAULT_TEAR)
    assert (np.log(new_z[fill]) > ln[fill] + limit - 1e-6).all()  # always from behind
    rim = np.zeros(z.shape, dtype=bool)
    pm._far_side(ln, np.float32(limit), rim)
    h, w = z.shape
    padded_ln = np.pad(ln, 1, constant_values=-np.inf)
    padded_fill = np.pad(fill, 1)
    padded_rim = np.pad(rim, 1)
    ring = np.zeros(z.shape, dtype=bool)
    clean = fill.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                at = (slice(1 + dy, 1 + dy + h), slice(1 + dx, 1 + dx + w))
                behind = padded_ln[at] > ln + limit
                ring |= behind & fill
                clean &= ~behind | (~padded_fill[at] & padded_rim[at])
    clean &= ring
    assert clean.sum() > 0.2 * ring.sum() > 1000
    np.testing.assert_allclose(new_col[clean], old_col[clean], atol=1e-5)
    # (the former depth there is the mean of the neighbours behind; ours their farthest: the
    # same on one background, but for its measurement noise: within the tear ratio)
    np.testing.assert_allclose(new_z[clean], old_z[clean], rtol=pm.DEFAULT_TEAR)


def test_max_filter_keeps_float32_and_bool():
    a = np.random.default_rng(1).random((20, 30)).astype(np.float32)
    got = pm.max_filter(a, 3)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, pm.max_filter(a.astype(np.float64), 3).astype(np.float32))
    mask = np.zeros((9, 9), dtype=bool)
    mask[4, 4] = True
    grown = pm.dilate(mask, 2)
    assert grown.dtype == bool and grown.sum() == 25 and grown[2:7, 2:7].all()


def test_cache_frame_planes():
    z, color = box_over_wall()
    measured = np.ones(z.shape, dtype=bool)
    measured[0, 0] = False
    rgba = np.concatenate([color, np.full(z.shape + (1,), 0.5)], axis=2)
    depth, fill = pm.cache_frame(rgba, z.astype(np.float32), measured, 4)
    assert len(depth) == len(fill) == 4 and all(p.shape == z.shape for p in depth + fill)
    fill_col, fill_z = pm.background_fill(color, z, 4)
    np.testing.assert_array_equal(depth[0], z.astype(np.float32))
    np.testing.assert_array_equal(depth[1], fill_z)
    np.testing.assert_array_equal(depth[2], ~measured)
    np.testing.assert_array_equal(np.stack(fill[:3], axis=-1), fill_col)
    assert (depth[3] == 1.0).all() and (fill[3] == 1.0).all()
