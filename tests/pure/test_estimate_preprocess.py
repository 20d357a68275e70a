"""Footage to the network's input: size rule, bicubic resize, sRGB, ImageNet normalisation."""

import numpy as np
import pytest

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import preprocess


@pytest.mark.parametrize("size,expected", [
    ((1920, 1080), (924, 518)),
    ((1080, 1920), (518, 924)),
    ((3840, 2160), (924, 518)),
    ((518, 518), (518, 518)),
    ((640, 480), (686, 518)),
    ((48, 27), (924, 518)),
])
def test_short_side_518_aspect_kept_multiples_of_14(size, expected):
    w, h = preprocess.model_size(*size)
    assert (w, h) == expected
    assert w % 14 == 0 and h % 14 == 0 and min(w, h) == 518
    assert abs((w / h) / (size[0] / size[1]) - 1) < preprocess.ASPECT_TOLERANCE


def test_other_short_sides_and_bad_sizes():
    assert preprocess.model_size(1920, 1080, 28) == (56, 28)
    assert preprocess.model_size(1920, 1080, 30) == (70, 42)  # short side rounded up to 42
    with pytest.raises(RackFocusError):
        preprocess.model_size(0, 10)
    with pytest.raises(RackFocusError, match="at least 14"):
        preprocess.model_size(100, 100, 10)


def test_fixed_size_models_need_the_footage_aspect():
    preprocess.check_aspect(1920, 1080, 910, 518)  # 1.2 % off: the 14-pixel rounding
    with pytest.raises(RackFocusError, match="aspect"):
        preprocess.check_aspect(1440, 1080, 910, 518)
    with pytest.raises(RackFocusError, match="dynamic height and width"):
        preprocess.check_aspect(1920, 1080, 518, 518)


def test_resize_weights_sum_to_one_and_keep_constants():
    for n_in, n_out in ((27, 518), (1080, 518), (10, 10), (7, 3)):
        m = preprocess.resize_weights(n_in, n_out)
        assert m.shape == (n_out, n_in)
        assert np.allclose(m.sum(axis=1), 1.0, atol=1e-6)
    img = np.full((30, 50, 3), 0.37, dtype=np.float32)
    assert np.allclose(preprocess.resize_bicubic(img, 77, 41), 0.37, atol=1e-6)


def test_bicubic_is_exact_on_a_ramp_and_antialiases_when_shrinking():
    ramp = np.tile(np.arange(64, dtype=np.float32), (8, 1))
    up = preprocess.resize_bicubic(ramp, 128, 8)
    centres = (np.arange(128) + 0.5) / 2 - 0.5
    assert np.allclose(up[:, 4:-4], centres[4:-4], atol=1e-4)
    # A one-pixel checkerboard shrunk 8x averages out (no aliasing into a pattern).
    checker = (np.indices((256, 256)).sum(axis=0) % 2).astype(np.float32)
    small = preprocess.resize_bicubic(checker, 32, 32)
    assert abs(small.mean() - 0.5) < 1e-3 and small[2:-2, 2:-2].std() < 1e-3


def test_srgb_encoding():
    lin = np.array([0.0, 0.0031308, 0.214041, 1.0, 2.0])
    enc = preprocess.linear_to_srgb(lin)
    assert enc == pytest.approx([0.0, 0.04045, 0.5, 1.0, 1.0], abs=2e-5)


def test_tensor_is_nchw_float32_imagenet_normalised():
    rgb = np.zeros((27, 48, 3), dtype=np.float32)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 0.5, 0.25, 1.0
    t = preprocess.to_tensor(rgb, 56, 28)
    assert t.shape == (1, 3, 28, 56) and t.dtype == np.float32 and t.flags.c_contiguous
    want = [(0.5 - 0.485) / 0.229, (0.25 - 0.456) / 0.224, (1.0 - 0.406) / 0.225]
    for c in range(3):
        assert np.allclose(t[0, c], want[c], atol=1e-5)
