"""Chaining that follows the picture: motion between frames, and frame-to-frame fits on matched
pixels, proved on real-like moving shots (windows panning, tilting, pushing in and shaking over a
still with measured depth, and a ball crossing a locked-off shot): the network's output is the
truth up to a random scale and shift per frame, anchors are on the first frame only."""

import estimate_oracles as eo
import numpy as np
import pytest

from rackfocus_addon.estimate import align, motion, preprocess

FRAMES = 48


def metric_clip(kind, chained=True, frames=FRAMES, noise=0.0):
    """(per-frame median relative depth error, chained scale / true scale per frame) of a
    moving shot through the pure pipeline (:func:`estimate_oracles.metric_clip`)."""
    clip = eo.metric_clip(kind, frames, chained, noise)
    return clip["errors"], clip["scale"]


def test_motion_is_measured_for_pan_push_in_and_shake():
    truths, lumas = eo.moving_shot("dolly", 3)
    m = motion.estimate_motion(lumas[0], lumas[1]).array
    # Frame 1 is frame 0 pushed in by 0.5 %: a pixel x of frame 1 was at x / 1.005 + offset.
    path = eo.camera_path("dolly", 2)
    (x0, y0, z0), (x1, y1, z1) = path
    expected = np.array([[z0 / z1, 0.0, (x1 - x0) * z0], [0.0, z0 / z1, (y1 - y0) * z0]])
    corners = np.array([[0, 0, 1], [319, 0, 1], [0, 239, 1], [319, 239, 1]]).T
    assert np.abs((m - expected) @ corners).max() < 0.05  # pixels
    _truths, lumas = eo.moving_shot("whip", 14)
    m = motion.estimate_motion(lumas[12], lumas[13])
    assert m.ok and m.array[0, 2] == pytest.approx(80.0, abs=0.05)
    rng = np.random.default_rng(0)
    assert not motion.estimate_motion(rng.random((60, 80)), rng.random((60, 80))).ok


@pytest.mark.parametrize("kind", ["pan", "tilt", "dolly", "shake", "object"])
def test_every_frame_of_a_moving_shot_stays_metric_with_anchors_on_frame_0(kind):
    errors, ratio = metric_clip(kind)
    old, old_ratio = metric_clip(kind, chained=False)
    print(f"\n{kind}: worst frame {100 * errors.max():.3f} %, last frame chained scale "
          f"{ratio[-1]:.5f}; same-pixel chain: worst {100 * old.max():.2f} %, last "
          f"{old_ratio[-1]:.4f}")
    assert errors.max() < 0.01
    if kind != "object":  # today's chain pairs different surfaces and drifts
        assert old.max() > 0.01


@pytest.mark.parametrize("kind", ["purepan", "fastpan"])
def test_a_pure_pan_adds_no_drift(kind):
    _errors, ratio = metric_clip(kind)
    drift = np.polyfit(np.arange(FRAMES), ratio, 1)[0]
    print(f"\n{kind}: chained scale drift {100 * drift:+.5f} % a frame")
    assert abs(drift) < 5e-5
    _errors, old_ratio = metric_clip(kind, chained=False)
    assert abs(np.polyfit(np.arange(FRAMES), old_ratio, 1)[0]) > 5e-5


def test_matched_pixels_and_unmeasured_motion():
    ys, xs = np.mgrid[0:60, 0:80]
    prev = 0.3 + 0.1 * np.sin(xs / 7.0) * np.cos(ys / 5.0)  # smooth: no depth edge
    prev[10:20, 10:20] = np.nan
    cur = np.roll(prev, 3, axis=1) * 2.0 - 0.1  # moved 3 px right, other units
    shifted = motion.Motion(((1.0, 0.0, -3.0), (0.0, 1.0, 0.0)))
    link = motion.follow(prev, cur, shifted)
    assert link.transform.scale == pytest.approx(0.5, abs=1e-9)
    assert link.transform.shift == pytest.approx(0.05, abs=1e-9)
    assert 0.8 < link.matched < 0.97  # the 3 columns that came from outside and the hole
    still = motion.follow(prev, cur, motion.Motion(ok=False))
    assert still.sigma >= motion.UNMATCHED_UNCERTAINTY and link.sigma < 1e-4
    with pytest.raises(ValueError, match="different sizes"):
        motion.follow(prev, cur[:, :40], shifted)
    # An unmeasured frame has no motion; a flat one fixes no scale: both marked uncertain.
    assert not motion.estimate_motion(np.full((27, 48), np.nan), prev[:27, :48]).ok
    flat = motion.follow(np.ones((20, 20)), np.full((20, 20), 3.0), motion.Motion())
    assert flat.transform.shift == pytest.approx(-2.0) and flat.sigma >= 0.005


def test_a_fast_pan_or_a_whip_is_not_a_scene_cut_but_a_cut_is():
    def thumbs(lumas):  # sRGB with three times the contrast (a sunny exterior)
        return [align.thumbnail(np.clip(3.0 * preprocess.linear_to_srgb(
            np.repeat(g[..., None], 3, axis=2)) - 1.0, 0.0, 1.0)) for g in lumas]

    def diffs(lumas, compare=align.frame_difference):
        t = thumbs(lumas)
        return [0.0] + [compare(a, b) for a, b in zip(t, t[1:])]

    _t, fast = eo.moving_shot("fastpan", 30)
    _t, whip = eo.moving_shot("whip", 30)
    _t, other = eo.moving_shot("still", 10, seed=5)
    assert align.detect_cuts(diffs(fast)) == align.detect_cuts(diffs(whip)) == []
    # The same pixels compared: the whip's differences jump far above the still frames' (a cut).
    same_pixels = diffs(whip, lambda a, b: float(np.mean(np.abs(a - b))))
    assert align.detect_cuts(same_pixels) != []
    # Another shot (a different picture) differs after any shift.
    d = diffs(whip[:20] + [np.flipud(g) for g in other])
    print(f"\nwhip: largest difference after the shift {max(d[:20]):.4f}, at the cut {d[20]:.4f}")
    assert d[20] > 20 * max(d[:20])
