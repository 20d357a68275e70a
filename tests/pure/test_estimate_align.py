"""Relative depth to metres: robust fits, anchors (and their contradictions), scene cuts, and the
proof on a shot with known depth and a moving camera (numpy ray caster, tests/estimate_oracles)."""

import estimate_oracles as eo
import numpy as np
import pytest

from rackfocus_addon.depth import Anchor
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import align, motion

W, H = 96, 54
FOCAL_PX = 50.0 / 36.0 * W
FRAMES = 12


def sample(label, value, metres, frame=0):
    return align.AnchorSample(label, value, metres, frame)


def test_robust_affine_ignores_outliers():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1.0, 5000)
    y = 2.5 * x - 0.3 + rng.normal(0, 0.002, x.size)
    bad = rng.random(x.size) < 0.25
    y[bad] += rng.uniform(-2, 2, bad.sum())
    scale, shift, w = align.robust_affine(x, y)
    assert scale == pytest.approx(2.5, abs=0.01) and shift == pytest.approx(-0.3, abs=0.01)
    assert (w[bad] < 0.5).mean() > 0.9
    # No spread in x: the shift alone.
    assert align.robust_affine(np.ones(10), np.full(10, 3.0))[:2] == (1.0, 2.0)


def test_noiseless_data_on_one_big_surface_still_fits_the_scale():
    """A wall filling most of the frame fits exactly; the few other pixels must still count."""
    x = np.concatenate([np.full(900, 0.125), np.linspace(0.3, 0.5, 100)])
    y = 1.7 * x + 0.2
    scale, shift, _w = align.robust_affine(x, y)
    assert scale == pytest.approx(1.7, abs=1e-6) and shift == pytest.approx(0.2, abs=1e-6)


def test_frame_to_reference_recovers_the_map():
    rng = np.random.default_rng(1)
    ref = rng.uniform(0.1, 0.6, (54, 96))
    cur = (ref - 0.05) / 1.8
    t = align.frame_to_reference(ref, cur)
    assert t.scale == pytest.approx(1.8, abs=1e-6) and t.shift == pytest.approx(0.05, abs=1e-6)
    assert np.allclose(t.apply(cur), ref)
    cur[5:9, 5:9] = np.nan
    assert align.frame_to_reference(ref, cur).scale == pytest.approx(1.8, abs=1e-6)
    with pytest.raises(RackFocusError, match="different sizes"):
        align.frame_to_reference(ref, cur[:, :50])


def test_one_anchor_fits_the_scale_two_fit_scale_and_shift():
    a = align.fit_alignment([sample("a", 0.5, 2.0)])
    assert (a.scale, a.shift) == (pytest.approx(1.0), 0.0)
    a = align.fit_alignment([sample("near", 0.9, 2.0), sample("far", 0.3, 8.0)])
    assert 1.0 / a.inverse_depth(0.9) == pytest.approx(2.0)
    assert 1.0 / a.inverse_depth(0.3) == pytest.approx(8.0)
    assert [round(f.residual, 9) for f in a.anchors] == [0.0, 0.0]


def test_four_or_more_anchors_are_fitted_robustly_and_report_residuals():
    values = np.array([0.9, 0.7, 0.5, 0.4, 0.3])
    metres = 1.0 / (0.2 * values + 0.01)
    metres[2] *= 1.03  # 3 % off: noise, kept
    a = align.fit_alignment([sample(f"p{i}", v, m) for i, (v, m) in
                             enumerate(zip(values, metres))])
    assert a.scale == pytest.approx(0.2, rel=0.02)
    res = {f.label: f.residual for f in a.anchors}
    assert abs(res["p2"]) > 0.02 and max(abs(r) for k, r in res.items() if k != "p2") < 0.01


@pytest.mark.parametrize("samples,needle", [
    # The estimate sees the first pixel nearer, the user says it is farther.
    ([sample("10,5=10", 0.9, 10.0), sample("40,20=2", 0.3, 2.0)], "nearer than"),
    # One pixel, two distances.
    ([sample("10,5=2", 0.5, 2.0), sample("10,5=5", 0.5, 5.0)], "contradict each other"),
    # Three anchors that no scale and shift satisfy.
    ([sample("a", 0.9, 2.0), sample("b", 0.6, 3.0), sample("c", 0.3, 1.5)], "contradict"),
])
def test_contradictory_anchors_are_refused(samples, needle):
    with pytest.raises(RackFocusError, match=needle):
        align.fit_alignment(samples)


def test_one_bad_anchor_among_many_is_named():
    values = [0.9, 0.7, 0.5, 0.4, 0.3, 0.25]
    metres = [1.0 / (0.2 * v + 0.01) for v in values]
    metres[3] *= 1.6
    with pytest.raises(RackFocusError, match=r"puts p3 at .* not .*% off"):
        align.fit_alignment([sample(f"p{i}", v, m) for i, (v, m) in enumerate(zip(values,
                                                                                 metres))])


def test_masked_and_misplaced_anchors():
    with pytest.raises(RackFocusError, match="no valid depth"):
        align.fit_alignment([sample("3,3=2", float("nan"), 2.0)])
    align.check_anchors([Anchor(0, 0, 2.0), Anchor(47.4, 26.4, 2.0)], 48, 27, 3)
    with pytest.raises(RackFocusError, match="outside the 48x27 frame"):
        align.check_anchors([Anchor(48, 5, 2.0)], 48, 27, 3)
    with pytest.raises(RackFocusError, match="outside the 48x27 frame"):
        align.check_anchors([Anchor(5, -1, 2.0)], 48, 27, 3)
    with pytest.raises(RackFocusError, match="frame 3 is outside the clip"):
        align.check_anchors([Anchor(5, 5, 2.0, 3)], 48, 27, 3)


def test_near_far_and_segments_without_anchors():
    values = np.linspace(0.1, 0.6, 1000)
    s = align.near_far_samples(values, 1.5, 12.0)
    a = align.align_segment(0, 10, s)
    assert a.source == "near/far"
    assert 1.0 / a.inverse_depth(np.percentile(values, 99.5)) == pytest.approx(1.5)
    with pytest.raises(RackFocusError, match=r"--anchor X,Y=M@40"):
        align.align_segment(40, 80, [])
    metric = align.align_segment(0, 5, [], relative=False)
    assert (metric.scale, metric.shift, metric.source) == (1.0, 0.0, "model")
    with pytest.raises(RackFocusError, match="flat"):
        align.near_far_samples(np.ones(10), 1.0, 2.0)


def test_object_of_known_size():
    a = align.size_anchor(600, 200, 600, 560, 1.8, 1000.0, frame=4)
    assert (a.x, a.y, a.metres, a.frame) == (600, 380, pytest.approx(5.0), 4)
    b = align.parse_size("600,200:600,560=1.8@4", 1000.0)
    assert b == a
    for bad in ("600,200=1.8", "1,2:3,4=-1", "a,b:c,d=1", ""):
        with pytest.raises(RackFocusError, match="Bad size"):
            align.parse_size(bad, 1000.0)
    with pytest.raises(RackFocusError, match="at least one pixel"):
        align.size_anchor(5, 5, 5, 5.5, 1.0, 1000.0)


def test_scene_cuts_split_the_clip_but_a_pan_does_not():
    diffs = [0.0] + [0.04] * 9 + [0.45] + [0.05] * 9 + [0.3] + [0.12] * 5
    cuts = align.detect_cuts(diffs)
    assert cuts == [10, 20]
    assert align.segments(26, cuts) == [(0, 10), (10, 20), (20, 26)]
    assert align.detect_cuts([0.0, 0.5, 0.05, 0.05]) == [1]
    assert align.detect_cuts([0.0] + [0.15] * 10) == []  # a fast pan from the first frame
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, (54, 96, 3))
    b = np.roll(a, 2, axis=1)
    c = rng.uniform(0, 1, (54, 96, 3)) ** 3
    ta, tb, tc = (align.thumbnail(x) for x in (a, b, c))
    assert ta.shape == (36, 64)
    assert align.frame_difference(ta, tb) < align.frame_difference(ta, tc)


def align_clip(estimates, truths, anchor_frames):
    """The pipeline's pure part: stabilise, one alignment per segment from anchors on the given
    frames (a pixel on the wall, on the card and on the sphere), back to metres."""
    transforms = [link.transform for link in motion.chain(estimates)]
    samples = []
    for k in anchor_frames:
        z = truths[k]
        for lo, hi in ((7.0, 9.0), (1.5, 2.5), (2.6, 4.5)):
            rows, cols = np.nonzero((z > lo) & (z < hi))
            r, c = rows[rows.size // 2], cols[rows.size // 2]
            value = float(transforms[k].apply(float(estimates[k][r, c])))
            samples.append(align.AnchorSample(f"{c},{r}={z[r, c]:.3g}@{k}", value,
                                              float(z[r, c]), k))
    alignment = align.align_segment(0, len(estimates), samples)
    depths = [1.0 / alignment.inverse_depth(t.apply(e.astype(np.float64)), i)
              for i, (t, e) in enumerate(zip(transforms, estimates))]
    # Unaligned: one clip-wide fit on the first anchor frame, no stabilisation (what a supplied
    # inverse-depth clip gets), invalid values (beyond infinity) clipped far away.
    first = align.fit_alignment([s for s in samples if s.frame == anchor_frames[0]])
    naive = [1.0 / np.maximum(first.inverse_depth(e.astype(np.float64)), 1e-3)
             for e in estimates]
    return depths, naive, alignment


@pytest.mark.parametrize("move,anchor_frames", [
    ((0.05, 0.0, 0.0), (0,)),                 # trucking right, anchors on the first frame
    ((0.05, 0.02, 0.0), (0, FRAMES - 1)),     # trucking and pushing in, anchors first and last
])
def test_alignment_and_stabilisation_on_a_moving_camera(move, anchor_frames):
    matrices = eo.moving_camera(FRAMES, move)
    truths = [eo.render_depth(m, W, H, FOCAL_PX) for m in matrices]
    estimates, _params = eo.fake_estimates(truths, seed=7)
    depths, naive, alignment = align_clip(estimates, truths, anchor_frames)
    errors = [eo.median_relative_error(d, t) for d, t in zip(depths, truths)]
    tae = eo.tae(depths, truths, matrices, FOCAL_PX)
    tae_naive = eo.tae(naive, truths, matrices, FOCAL_PX)
    tae_truth = eo.tae(truths, truths, matrices, FOCAL_PX)
    print(f"\nmove {move}, anchors on frames {anchor_frames}: median relative depth error "
          f"worst frame {100 * max(errors):.2f} %, median {100 * np.median(errors):.2f} %; "
          f"TAE aligned {tae:.4f}, unaligned {tae_naive:.4f} (ratio {tae / tae_naive:.4f}), "
          f"truth {tae_truth:.5f}; scale/frame {alignment.scale_rate:.2e}")
    assert max(errors) < 0.02
    assert tae <= tae_naive / 5.0


def test_a_push_in_needs_anchors_on_two_frames():
    """A dolly changes every disparity the way a relative network's own drift does: anchors on
    the first frame alone let the error grow; anchors on the last frame too remove it."""
    matrices = eo.moving_camera(FRAMES, (0.0, 0.04, 0.0))
    truths = [eo.render_depth(m, W, H, FOCAL_PX) for m in matrices]
    estimates, _ = eo.fake_estimates(truths, seed=2, noise=0.0)
    one, _, _ = align_clip(estimates, truths, (0,))
    two, _, alignment = align_clip(estimates, truths, (0, FRAMES - 1))
    last_one = eo.median_relative_error(one[-1], truths[-1])
    last_two = eo.median_relative_error(two[-1], truths[-1])
    print(f"\npush-in, last frame: anchors on frame 0 {100 * last_one:.2f} %, on frames 0 and "
          f"{FRAMES - 1} {100 * last_two:.2f} %")
    assert last_one > 0.02 and last_two < 0.005
    assert alignment.scale_rate != 0.0 and alignment.to_dict()["scale_per_frame"] != 0.0


# --- issue 19: surviving mutants ----------------------------------------------------------------

def test_anchors_reach_exactly_to_the_frame_edges():
    """Pixel centres are integers, so a 48x27 frame spans -0.5 .. 47.5 wide: an anchor at
    x = W - 0.5 is on the edge outside it, one at -0.5 on the edge inside."""
    align.check_anchors([Anchor(-0.5, -0.5, 2.0), Anchor(47.49, 26.49, 2.0)], 48, 27, 1)
    for x, y in ((47.5, 5), (5, 26.5), (-0.51, 5), (5, -0.51)):
        with pytest.raises(RackFocusError, match="outside the 48x27 frame"):
            align.check_anchors([Anchor(x, y, 2.0)], 48, 27, 1)


def test_an_anchor_reads_the_network_pixel_under_its_centre():
    """Measured from the frame's left edge, footage pixel x spans x .. x + 1 and its centre is
    x + 0.5: 48 footage pixels on 36 network pixels put footage pixel 1's centre (1.5) at 1.125,
    inside network pixel 1 (not 0, where x alone, 0.75, would put it)."""
    assert align.low_res_pixel(1, 0, 48, 27, 36, 27) == (1, 0)
    assert align.low_res_pixel(0, 1, 27, 48, 27, 36) == (0, 1)
    assert align.low_res_pixel(47, 26, 48, 27, 36, 20) == (35, 19)  # the last, not past it
    assert align.low_res_pixel(-0.5, -0.5, 48, 27, 36, 20) == (0, 0)
