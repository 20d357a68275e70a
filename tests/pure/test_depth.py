"""Depth conventions, alignment in inverse-depth space, validation (no bpy)."""

import math

import numpy as np
import pytest

from rackfocus_addon.depth import (
    ANCHOR_TOLERANCE,
    PLATE_FLAGS,
    Anchor,
    Converter,
    bit_depth_warning,
    check_clip,
    fill_nearest,
    fit_inverse,
    parse_anchor,
    resize_nearest,
    to_metric,
    valid_mask,
    validate_plate_settings,
)
from rackfocus_addon.depth_fill import nearest_sources
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


def test_anchor_residuals_are_reported_in_metres_and_percent():
    z = scene_depth()
    v = disparity_of(z)
    anchors = [Anchor(10, 8, float(z[8, 10]) * 1.02), Anchor(2, 1, float(z[1, 2])),
               Anchor(30, 22, float(z[22, 30]) * 0.99)]
    _, report = to_metric([v], "inverse", anchors=anchors)
    assert [fit.label for fit in report.anchors] == [a.spec() for a in anchors]
    for fit, a in zip(report.anchors, anchors):
        assert fit.metres == a.metres
        assert fit.residual_m == pytest.approx(fit.fitted_m - a.metres)
        assert fit.relative == pytest.approx(fit.residual_m / a.metres)
        assert abs(fit.relative) < 0.03
    assert report.notes[0].startswith(f"anchor {anchors[0].spec()}: fitted ")
    assert report.notes[0].endswith(" %)") and " m (" in report.notes[0]
    assert "anchors fit within" in report.summary()
    # A single anchor (scale only) and near/far alone fit exactly.
    _, one = to_metric([2.0 / z], "inverse", anchors=[Anchor(3, 3, float(z[3, 3]))])
    assert one.anchors[0].residual_m == pytest.approx(0.0, abs=1e-9)


def test_contradictory_anchors_are_refused_naming_the_worst():
    z = scene_depth()
    v = disparity_of(z)
    # One pixel said to be both 2 m and 6 m: averaging would put it at 3 m, 50 % off each.
    with pytest.raises(RackFocusError, match=r"worst is anchor 5,5=2: .*\(\+50 %\).*10 % "
                                             "tolerance"):
        to_metric([v], "inverse", anchors=[Anchor(5, 5, 2.0), Anchor(5, 5, 6.0)])
    # Four consistent anchors and one 30 % off: that one is named.
    good = [Anchor(x, y, float(z[y, x])) for x, y in ((10, 8), (2, 1), (30, 22), (5, 20))]
    bad = Anchor(25, 3, float(z[3, 25]) * 1.3)
    with pytest.raises(RackFocusError, match=f"worst is anchor {bad.spec()}"):
        to_metric([v], "inverse", anchors=good + [bad])
    # Anchors that contradict --near/--far.
    with pytest.raises(RackFocusError, match="--(near|far)"):
        to_metric([v], "inverse", near_m=float(z.min()) * 2, far_m=float(z.max()),
                  anchors=good)
    assert ANCHOR_TOLERANCE == 0.10


def test_anchor_outside_the_frame_or_on_a_masked_pixel_is_refused():
    z = scene_depth()
    v = disparity_of(z)
    with pytest.raises(RackFocusError, match=r"Anchor 32,1=2: pixel \(32, 1\) is outside the "
                                             "32x24 frame"):
        to_metric([v], "inverse", anchors=[Anchor(32, 1, 2.0), Anchor(2, 1, 3.0)])
    for bad in (np.nan, np.inf, 0.0, -1.0):
        masked = v.copy()
        masked[1, 2] = bad
        with pytest.raises(RackFocusError, match="Anchor 2,1=3 lies on an unmeasured depth "
                                                 "pixel"):
            to_metric([masked], "inverse", anchors=[Anchor(2, 1, 3.0), Anchor(10, 8, 2.0)])


def test_convert_masked_says_which_pixels_were_measured():
    z = np.full((6, 6), 4.0)
    z[1, 2] = np.nan
    z[3, 3] = -1.0
    conv = Converter("metric")
    conv.fit(lambda: iter([z]), 1)
    out, measured = conv.convert_masked(z)
    assert np.isfinite(out).all()
    assert not measured[1, 2] and not measured[3, 3] and measured.sum() == 34


def test_validate_plate_settings_names_each_bad_setting():
    assert validate_plate_settings() == []
    assert validate_plate_settings(24.0, 85.0, 2.0, 0.05, 0, 23.976, 1.0, 20.0) == []
    cases = {
        "--focal": {"focal_mm": math.inf}, "--sensor": {"sensor_mm": math.inf},
        "--fps": {"fps": 0.0}, "--density": {"density": 0.0}, "--tear": {"tear": math.nan},
        "--fill-px": {"fill_px": -5}, "--near": {"near_m": -1.0}, "--far": {"far_m": math.inf},
    }
    for flag, kwargs in cases.items():
        problems = validate_plate_settings(**kwargs)
        assert len(problems) == 1 and problems[0].startswith(f"{flag} must be "), problems
        assert "\n" not in problems[0]
    assert validate_plate_settings(fps=math.nan)[0].endswith("(got nan)")
    assert "whole number" in validate_plate_settings(fill_px=2.5)[0]
    assert "nearer" in validate_plate_settings(near_m=5.0, far_m=2.0)[0]
    assert len(validate_plate_settings(focal_mm=0.0, fps=-1.0, tear=0.0)) == 3
    labels = {"focal_mm": "Focal Length"}
    assert validate_plate_settings(focal_mm=0.0, names=labels)[0].startswith("Focal Length must")
    assert set(PLATE_FLAGS) == {"sensor_mm", "focal_mm", "density", "tear", "fill_px", "fps",
                                "near_m", "far_m"}


def test_check_clip_refuses_footage_smaller_than_blender_renders():
    with pytest.raises(RackFocusError, match="3x3 pixels: Blender renders at least 4x4"):
        check_clip(1, (3, 3), 1, (3, 3))
    check_clip(1, (4, 4), 1, (4, 4))


# --- O(N) nearest fills ---------------------------------------------------------------------------

def brute_nearest(sources, targets):
    """Distance from every target to its nearest source, by brute force."""
    sr, sc = np.nonzero(sources)
    tr, tc = np.nonzero(targets)
    d2 = (tr[:, None] - sr[None, :]) ** 2 + (tc[:, None] - sc[None, :]) ** 2
    return np.sqrt(d2.min(axis=1))


def test_nearest_sources_are_as_near_as_the_nearest():
    rng = np.random.default_rng(4)
    for density, shape in ((0.3, (40, 50)), (0.02, (37, 61)), (0.6, (16, 9))):
        sources = rng.random(shape) < density
        targets = ~sources
        idx = nearest_sources(sources, targets)
        assert (idx[~targets] == -1).all()
        got = idx[targets]
        assert (got >= 0).all() and sources.ravel()[got].all()
        tr, tc = np.nonzero(targets)
        dist = np.hypot(got // shape[1] - tr, got % shape[1] - tc)
        best = brute_nearest(sources, targets)
        assert (dist >= best - 1e-9).all()
        # Exactly the nearest next to a source; about as near elsewhere.
        assert (dist[best <= 1.5] == best[best <= 1.5]).all()
        assert (dist <= 2.0 * best + 1.0).all() and np.percentile(dist - best, 99) <= 2.5
        assert (dist - best).mean() < 0.15


def test_nearest_sources_with_a_key_take_only_sources_behind():
    rng = np.random.default_rng(5)
    key = rng.uniform(0.0, 3.0, (30, 40)).astype(np.float32)
    sources = rng.random(key.shape) < 0.4
    targets = ~sources
    idx = nearest_sources(sources, targets, key=key, margin=0.5)
    got = idx[targets]
    found = got >= 0
    assert found.any()
    assert sources.ravel()[got[found]].all()
    assert (key.ravel()[got[found]] > key[targets][found] + 0.5).all()
    # A target next to a source behind it takes that one (distance 1 before sqrt(2)).
    key = np.array([[0.0, 5.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 5.0]], dtype=np.float32)
    idx = nearest_sources(key > 1.0, key < 1.0, key=key, margin=1.0)
    assert idx[0, 0] in (1, 3) and idx[1, 1] in (1, 3) and idx[2, 1] == 8 and idx[1, 2] == 8


def test_nearest_sources_behind_serve_every_fill_pixel_of_a_real_like_frame():
    """Where a qualifying source lies within reach of every target (a background fill: a far
    side within the fill radius), every target gets one, behind it."""
    import oracles

    from rackfocus_addon import plate_mesh as pm

    _, raw = oracles.real_like_frame(160, 120, seed=2)
    z = fill_nearest(raw, np.isfinite(raw) & (raw > 0)).astype(np.float32)
    ln = np.log(z)
    limit = np.float32(pm.tear_log(0.03))
    rim = np.zeros(z.shape, dtype=bool)
    mask = ln < pm.max_filter(pm._far_side(ln, limit, rim), 6) - limit
    idx = nearest_sources(rim, mask, key=ln, margin=limit)
    got = idx[mask]
    assert mask.sum() > 1000 and (got >= 0).all()
    assert rim.ravel()[got].all() and (ln.ravel()[got] > ln[mask] + limit).all()


def test_fill_nearest_splits_a_hole_on_a_depth_edge_without_blending():
    z = np.full((12, 24), 8.0)
    z[:, :12] = 2.0  # near on the left, far on the right
    valid = np.ones(z.shape, dtype=bool)
    valid[3:9, 7:17] = False  # a hole across the edge
    out = fill_nearest(np.where(valid, z, np.nan), valid)
    np.testing.assert_array_equal(out[valid], z[valid])  # measured pixels untouched
    assert set(np.unique(out[~valid])) <= {2.0, 8.0}  # no in-between depth: no smear
    np.testing.assert_array_equal(out[3:9, 7:10], 2.0)  # each side from its own side
    np.testing.assert_array_equal(out[3:9, 14:17], 8.0)


def test_fill_nearest_keeps_thin_structures():
    z = np.full((20, 20), 5.0)
    z[:, 9] = 1.0  # a 1 px wire
    valid = np.ones(z.shape, dtype=bool)
    valid[4:16, 10:14] = False  # unmeasured right beside it
    valid[::3, 0] = False  # and speckle elsewhere
    out = fill_nearest(np.where(valid, z, 0.0), valid)
    np.testing.assert_array_equal(out[:, 9], 1.0)  # the wire stays whole, nothing eats it
    np.testing.assert_array_equal(out[4:16, 10], 1.0)  # next to it: the wire's depth
    np.testing.assert_array_equal(out[4:16, 13], 5.0)  # next to the far side: the far depth
    assert set(np.unique(out)) == {1.0, 5.0}


def test_fill_nearest_at_any_hole_size_and_without_valid_samples():
    valid = np.zeros((64, 64), dtype=bool)
    valid[63, 63] = True  # one measured pixel fills the frame
    np.testing.assert_array_equal(fill_nearest(np.full((64, 64), 7.0), valid), 7.0)
    np.testing.assert_array_equal(fill_nearest(np.ones((3, 3)), np.zeros((3, 3), bool)), 0.0)


def test_a_source_exactly_margin_behind_does_not_qualify():
    """Ties: "behind" is strictly more than ``margin`` further. Sources right next to every
    target whose key is exactly the target's plus the margin are passed over for one that is
    really behind, far off; with only tied sources there is none."""
    h, w = 12, 16
    key = np.full((h, w), 1.0, dtype=np.float32)
    sources = np.zeros((h, w), dtype=bool)
    sources[:, 8] = True
    key[:, 8] = 1.5  # exactly 1.0 + margin 0.5: a tie
    targets = np.zeros((h, w), dtype=bool)
    targets[:, :8] = True
    idx = nearest_sources(sources, targets, key=key, margin=0.5)
    assert (idx[targets] == -1).all()
    sources[:, 15] = True
    key[:, 15] = 1.75  # really behind
    idx = nearest_sources(sources, targets, key=key, margin=0.5)
    got = idx[targets]
    assert (got >= 0).all() and (got % w == 15).all()
    # Targets a little nearer (0.9: 1.5 is behind them) share every 2x2 cell with tied ones:
    # the near column serves them (some), never the tied ones.
    key[:, 0:8:2] = 0.9
    idx = nearest_sources(sources, targets, key=key, margin=0.5)
    got = idx[targets]
    assert (got >= 0).all() and (key.ravel()[got] > key[targets] + 0.5).all()
    assert (got % w == 8).any()


def test_valid_depth_is_positive_and_normalised_depth_may_be_zero():
    values = np.array([0.0, -0.0, 1e-30, -1e-30, 2.0, np.nan, np.inf, -np.inf])
    assert valid_mask(values, "metric").tolist() == [False, False, True, False, True, False,
                                                     False, False]
    assert valid_mask(values, "inverse").tolist() == valid_mask(values, "metric").tolist()
    assert valid_mask(values, "normalized").tolist() == [True, True, True, False, True, False,
                                                         False, False]
