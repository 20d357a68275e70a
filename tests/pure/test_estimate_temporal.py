"""Temporal stability of per-frame models: the edge-aware temporal filter (video windows:
test_estimate_video.py)."""

import numpy as np

from rackfocus_addon.estimate import temporal


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
