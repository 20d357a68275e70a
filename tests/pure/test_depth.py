"""Depth conventions, alignment in inverse-depth space, validation (no bpy)."""

import math

import numpy as np
import pytest

from rackfocus_addon.depth import (
    Anchor,
    bit_depth_warning,
    check_clip,
    fill_nearest,
    fit_inverse,
    parse_anchor,
    resize_nearest,
    to_metric,
)
from rackfocus_addon.errors import RackFocusError


def scene_depth(h=24, w=32, seed=0):
    """A metric planar depth map: a slanted floor-like ramp with a box in front."""
    rows = np.linspace(9.0, 3.0, h)[:, None] * np.ones((1, w))
    z = rows + np.random.default_rng(seed).uniform(0, 0.05, (h, w))
    z[6:14, 8:18] = 1.7
    return z


def test_parse_anchor():
    assert parse_anchor("640,360=2.4") == Anchor(640.0, 360.0, 2.4, 0)
    assert parse_anchor(" 1.5, 2 = 10 @3") == Anchor(1.5, 2.0, 10.0, 3)
    for bad in ("640,360", "a,b=1", "1,2=-3", "1,2,3=4", "1,2=4@x", ""):
        with pytest.raises(RackFocusError):
            parse_anchor(bad)


def test_metric_masks_invalid_and_fills_from_neighbours():
    z = np.full((10, 10), 4.0)
    z[2, 3] = np.nan
    z[5, 5] = np.inf
    z[7, 1] = 0.0
    z[8, 8] = -2.0
    z[0, 9] = 6.0
    out, report = to_metric([z], "metric")
    assert report.invalid == 4 and report.pixels == 100
    assert np.isfinite(out[0]).all() and (out[0] > 0).all()
    assert out[0][2, 3] == pytest.approx(4.0) and out[0][8, 8] == pytest.approx(4.0)
    assert out[0][0, 9] == pytest.approx(6.0)  # valid pixels untouched
    assert any("masked" in w for w in report.warnings)


def test_metric_all_invalid_frame_is_an_error():
    good = np.full((4, 4), 2.0)
    bad = np.full((4, 4), np.nan)
    with pytest.raises(RackFocusError, match="frame 2"):
        to_metric([good, bad], "metric")


def test_normalized_maps_near_far_linearly():
    raw = np.array([[0.0, 0.25, 1.0]])
    out, _ = to_metric([raw], "normalized", near_m=1.0, far_m=5.0)
    np.testing.assert_allclose(out[0], [[1.0, 2.0, 5.0]])
    with pytest.raises(RackFocusError, match="--near"):
        to_metric([raw], "normalized")
    with pytest.raises(RackFocusError):
        to_metric([raw], "normalized", near_m=5.0, far_m=1.0)


def disparity_of(z, scale=0.37, shift=-0.02):
    """Relative inverse depth as an estimator gives it: v with 1/z = scale * v + shift."""
    return (1.0 / z - shift) / scale


def test_inverse_aligned_by_pixel_anchors_recovers_metric_depth():
    z = scene_depth()
    v = disparity_of(z)
    anchors = [Anchor(10, 8, float(z[8, 10])), Anchor(2, 1, float(z[1, 2])),
               Anchor(30, 22, float(z[22, 30]))]
    out, report = to_metric([v], "inverse", anchors=anchors)
    np.testing.assert_allclose(out[0], z, rtol=1e-5)
    assert report.scale == pytest.approx(0.37, rel=1e-6)
    assert report.shift == pytest.approx(-0.02, abs=1e-7)


def test_inverse_least_squares_with_noisy_anchors_is_close():
    z = scene_depth()
    v = disparity_of(z)
    rng = np.random.default_rng(1)
    anchors = [Anchor(x, y, float(z[y, x]) * (1 + rng.normal(0, 0.01)))
               for x, y in ((10, 8), (2, 1), (30, 22), (5, 20), (25, 3), (15, 12))]
    out, _ = to_metric([v], "inverse", anchors=anchors)
    rel = np.abs(out[0] / z - 1.0)
    assert rel.max() < 0.05 and np.median(rel) < 0.02


def test_inverse_near_far_alignment_and_single_anchor_scale():
    z = scene_depth()
    v = disparity_of(z)
    out, _ = to_metric([v], "inverse", near_m=float(z.min()), far_m=float(z.max()))
    np.testing.assert_allclose(out[0], z, rtol=1e-5)
    # Pure disparity (no shift): one anchor fixes the scale.
    d = 2.0 / z
    out1, report = to_metric([d], "inverse", anchors=[Anchor(3, 3, float(z[3, 3]))])
    np.testing.assert_allclose(out1[0], z, rtol=1e-6)
    assert report.shift == 0.0


def test_inverse_alignment_is_one_fit_for_the_whole_clip():
    z0, z1 = scene_depth(seed=0), scene_depth(seed=1) * 1.3
    v0, v1 = disparity_of(z0), disparity_of(z1)
    anchors = [Anchor(10, 8, float(z0[8, 10])), Anchor(30, 22, float(z1[22, 30]), frame=1)]
    out, report = to_metric([v0, v1], "inverse", anchors=anchors)
    np.testing.assert_allclose(out[0], z0, rtol=1e-5)
    np.testing.assert_allclose(out[1], z1, rtol=1e-5)
    assert report.frames == 2
    with pytest.raises(RackFocusError, match="outside the clip"):
        to_metric([v0], "inverse", anchors=[Anchor(1, 1, 2.0, frame=4), Anchor(2, 2, 3.0)])


def test_inverse_errors_and_beyond_infinity_masked():
    z = scene_depth()
    v = disparity_of(z)
    with pytest.raises(RackFocusError, match="anchors"):
        to_metric([v], "inverse")
    # Anchors that say nearer pixels are farther: refused, not silently inverted.
    with pytest.raises(RackFocusError, match="nearer"):
        to_metric([v], "inverse", anchors=[Anchor(10, 8, 9.0), Anchor(2, 1, 1.0)])
    with pytest.raises(RackFocusError, match="outside"):
        to_metric([v], "inverse", anchors=[Anchor(99, 1, 2.0)])
    # A shift that puts the smallest values beyond infinity: those are masked and filled.
    v2 = v.copy()
    v2[0, 0] = v.min() - 10.0
    out, report = to_metric([v2], "inverse", anchors=[Anchor(10, 8, float(z[8, 10])),
                                                       Anchor(2, 1, float(z[1, 2])),
                                                       Anchor(30, 22, float(z[22, 30]))])
    assert report.invalid >= 1 and np.isfinite(out[0]).all()


def test_fit_inverse_direct():
    scale, shift = fit_inverse([1.0, 2.0, 3.0], [1 / 0.5, 1 / 0.8, 1 / 1.1])
    assert scale == pytest.approx(0.3) and shift == pytest.approx(0.2)


def test_bit_depth_warning():
    assert "banding" in bit_depth_warning(8)
    assert bit_depth_warning(16) is None and bit_depth_warning(32) is None


def test_check_clip():
    check_clip(10, (1920, 1080), 10, (960, 540))  # same aspect, half resolution: fine
    with pytest.raises(RackFocusError, match="frame"):
        check_clip(10, (1920, 1080), 9, (1920, 1080))
    with pytest.raises(RackFocusError, match="aspect"):
        check_clip(1, (1920, 1080), 1, (1440, 1080))


def test_resize_nearest_keeps_edges_hard():
    z = np.array([[1.0, 9.0], [1.0, 9.0]])
    big = resize_nearest(z, 4, 4)
    assert set(np.unique(big)) == {1.0, 9.0}
    np.testing.assert_array_equal(big[:, :2], 1.0)


def test_fill_nearest_grows_from_rims():
    vals = np.zeros((5, 5))
    vals[:, 0] = 3.0
    valid = np.zeros((5, 5), dtype=bool)
    valid[:, 0] = True
    out = fill_nearest(vals, valid)
    np.testing.assert_allclose(out, 3.0)
    assert math.isfinite(out.sum())
