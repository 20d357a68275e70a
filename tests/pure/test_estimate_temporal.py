"""Temporal stability: windowed alignment of video models and the edge-aware temporal filter."""

import numpy as np
import pytest

from rackfocus_addon.estimate import temporal


def test_window_starts_overlap_by_ten():
    assert temporal.window_starts(100) == [0, 22, 44, 66, 88]
    assert temporal.window_starts(32) == [0]
    assert temporal.window_starts(5) == [0]
    assert temporal.window_starts(33) == [0, 22]
    with pytest.raises(ValueError):
        temporal.window_starts(10, 8, 8)


def video(count, seed=0, shape=(12, 20)):
    """A smoothly changing true disparity sequence."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 1.0, shape)
    drift = rng.uniform(-1, 1, shape) * 0.005
    return [base + drift * i for i in range(count)]


def run_windows(truth, window=32, overlap=10, crossfade=8, seed=1, relative=True):
    """Each window sees the truth under its own scale and shift (as a video model would)."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    stitcher = temporal.WindowStitcher(n, window, overlap, crossfade, relative)
    out = []
    for start in stitcher.starts:
        a, b = (rng.uniform(0.5, 2.0), rng.uniform(-0.2, 0.2)) if relative else (1.0, 0.0)
        idx = [min(start + j, n - 1) for j in range(window)]
        out += stitcher.add(start, [a * truth[i] + b for i in idx])
    assert stitcher.done and not stitcher.pending
    return out


def test_windows_are_stitched_into_one_consistent_sequence():
    truth = video(100)
    out = run_windows(truth)
    assert [i for i, _ in out] == list(range(100))
    # Everything is in the first window's units: one affine map to the truth for all frames.
    x = np.concatenate([v.ravel() for _, v in out])
    y = np.concatenate([t.ravel() for t in truth])
    a, b = np.polyfit(x, y, 1)
    assert np.abs(a * x + b - y).max() < 1e-5


def test_the_cross_fade_blends_the_last_eight_overlap_frames():
    truth = [np.full((2, 2), 1.0 + 0.01 * i) for i in range(40)]
    stitcher = temporal.WindowStitcher(40, 32, 10, 8, relative=False)
    first = stitcher.add(0, [t * 1.0 for t in truth[:32]])
    assert [i for i, _ in first] == list(range(22))
    second = stitcher.add(22, [t + 1.0 for t in truth[22:40]] + [truth[39] + 1.0] * 14)
    values = {i: float(v[0, 0]) for i, v in second}
    assert sorted(values) == list(range(22, 40))
    # Overlap frames 22, 23 keep the old window, 24..31 fade to the new one (+1) in 8 steps.
    assert values[22] == pytest.approx(truth[22][0, 0])
    assert values[23] == pytest.approx(truth[23][0, 0])
    steps = [values[i] - truth[i][0, 0] for i in range(24, 32)]
    assert steps == pytest.approx([(k + 1) / 9 for k in range(8)])
    assert values[35] == pytest.approx(truth[35][0, 0] + 1.0)


def test_short_clips_and_metric_windows():
    truth = video(5)
    out = run_windows(truth)
    assert [i for i, _ in out] == list(range(5))
    out = run_windows(video(60), relative=False)
    assert [i for i, _ in out] == list(range(60))
    with pytest.raises(ValueError, match="next one"):
        temporal.WindowStitcher(60).add(22, [])


def test_temporal_filter_calms_still_pixels_and_does_not_ghost_moving_edges():
    rng = np.random.default_rng(4)
    h, w = 40, 60
    truth = np.full((h, w), 0.25)
    truth[:, :20] = 0.5  # a near object on the left
    guide = np.zeros((h, w, 3), dtype=np.float32)
    guide[:, :20] = 0.9
    filt = temporal.TemporalFilter()
    noisy_out = []
    for _ in range(20):
        frame = truth * (1 + rng.normal(0, 0.005, truth.shape))
        noisy_out.append(filt.apply(frame, guide))
    raw_noise = 0.005 * 0.25
    kept_noise = np.std(np.stack(noisy_out[10:])[:, :, 30:] - 0.25)
    print(f"\ntemporal filter: noise {raw_noise:.2e} -> {kept_noise:.2e}")
    assert kept_noise < 0.75 * raw_noise
    # The object moves right by 10 pixels: where the colour changed, the new depth wins at once.
    moved = np.full((h, w), 0.25)
    moved[:, :30] = 0.5
    g2 = np.zeros((h, w, 3), dtype=np.float32)
    g2[:, :30] = 0.9
    out = filt.apply(moved, g2)
    assert np.allclose(out[:, 20:30], 0.5, rtol=0.01)
    filt.reset()
    assert np.array_equal(filt.apply(moved, g2), moved.astype(np.float32))


def test_the_temporal_filter_weighs_the_previous_frame_by_its_strength():
    """Same colour, a 1 % change of inverse depth: the previous value weighs
    strength * exp(-(0.01 / 1.01)^2 / (2 sigma_depth^2)) against the current one's 1."""
    guide = np.full((2, 3, 3), 0.5, dtype=np.float32)
    for strength in (0.0, temporal.DEFAULT_STRENGTH, 1.0):
        filt = temporal.TemporalFilter(strength=strength)
        filt.apply(np.full((2, 3), 1.0), guide)
        out = filt.apply(np.full((2, 3), 1.01), guide)
        rel = 0.01 / 1.01
        w = strength * np.exp(-0.5 * (rel / temporal.DEFAULT_SIGMA_DEPTH) ** 2)
        assert np.allclose(out, (1.0 * w + 1.01) / (w + 1.0), rtol=1e-6), strength
    assert temporal.TemporalFilter().strength == 0.6
