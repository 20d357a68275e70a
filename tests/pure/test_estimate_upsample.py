"""Edge-preserving upsampling: smooth depth as bilinear, no smear across depth jumps."""

import estimate_oracles as eo
import numpy as np

from rackfocus_addon.estimate import upsample


def bilinear(low, width, height):
    """Plain bilinear upsampling (the baseline that smears)."""
    h, w = low.shape
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.minimum(ys.astype(int), h - 2), np.minimum(xs.astype(int), w - 2)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    a, b = low[y0][:, x0], low[y0][:, x0 + 1]
    c, d = low[y0 + 1][:, x0], low[y0 + 1][:, x0 + 1]
    return (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d)


def step_scene(width=192, height=108, factor=4):
    """A near disc (2 m, red) in front of a far wall (8 m, grey), as inverse depth: the truth at
    full size, the network's view at 1/factor, and the footage as guide."""
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    disc = (xx - width * 0.45) ** 2 + (yy - height * 0.5) ** 2 < (height * 0.3) ** 2
    truth = np.where(disc, 2.0, 8.0)
    guide = np.where(disc[..., None], [0.8, 0.1, 0.1], [0.4, 0.4, 0.45]).astype(np.float32)
    # The low-resolution view: the area average of the inverse depth (what a network's
    # receptive field blurs into), so its edge pixels hold in-between values.
    inv = 1.0 / truth
    low = inv.reshape(height // factor, factor, width // factor, factor).mean(axis=(1, 3))
    return truth, guide, low.astype(np.float32)


def test_smooth_depth_comes_out_as_bilinear():
    yy, xx = np.mgrid[0:27, 0:48]
    low = (0.2 + 0.003 * xx + 0.002 * yy).astype(np.float32)
    guide = np.random.default_rng(0).uniform(0, 1, (108, 192, 3)).astype(np.float32)
    out = upsample.upsample_inverse_depth(low, guide)
    assert out.shape == (108, 192)
    assert np.allclose(out, bilinear(low, 192, 108), atol=1e-6)


def test_no_flying_pixels_across_a_depth_jump():
    truth, guide, low = step_scene()
    ours = 1.0 / upsample.upsample_inverse_depth(low, guide)
    plain = 1.0 / bilinear(low, 192, 108)
    flying_ours = eo.flying_pixels(ours, 2.0, 8.0)
    flying_plain = eo.flying_pixels(plain, 2.0, 8.0)
    wrong_side = int((np.abs(ours - truth) > 0.1 * truth).sum())
    print(f"\nflying pixels: guided {flying_ours}, bilinear {flying_plain}; "
          f"guided pixels on the wrong side of the edge: {wrong_side} of {truth.size}")
    assert flying_plain > 200
    assert flying_ours <= flying_plain // 100
    assert wrong_side <= 0.002 * truth.size


def test_invalid_samples_carry_no_weight():
    low = np.full((10, 10), 0.25, dtype=np.float32)
    low[4, 4] = np.nan
    low[0:3, 0:3] = -1.0  # beyond infinity
    guide = np.full((40, 40, 3), 0.5, dtype=np.float32)
    out = upsample.upsample_inverse_depth(low, guide)
    inside = np.isfinite(out)
    assert np.allclose(out[inside], 0.25)
    # Only pixels whose every neighbour is invalid stay NaN.
    assert not inside[0:8, 0:8].all() and inside[16:, 16:].all()


def test_shrinking_works_too():
    low = np.linspace(0.1, 0.5, 924 * 518, dtype=np.float32).reshape(518, 924)
    guide = np.zeros((27, 48, 3), dtype=np.float32)
    out = upsample.upsample_inverse_depth(low, guide)
    assert out.shape == (27, 48) and np.isfinite(out).all()
