"""Footage pixels to a depth network's input tensor (pure, numpy only).

Depth Anything's rule (the Hugging Face image processor and upstream's transform agree): the
aspect ratio is kept, the short side is scaled to 518 pixels, both sides are rounded to multiples
of the 14-pixel ViT patch, the image is resized bicubically (antialiased when shrinking, as PIL
does), RGB in 0..1 is normalised with the ImageNet mean and standard deviation, and the tensor is
NCHW float32. Networks see display-referred sRGB, so scene-linear footage is encoded first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import RackFocusError
from ..limits import check_memory
from .registry import IMAGENET_MEAN, IMAGENET_STD

DEFAULT_SHORT_SIDE_PX = 518
PATCH_PX = 14
#: Largest aspect difference between footage and a fixed-size network input (2 %): rounding a
#: 16:9 frame to multiples of 14 pixels at 518 already costs 1.2 %.
ASPECT_TOLERANCE = 0.02
#: Keys' bicubic kernel parameter, as PIL and OpenCV use.
CUBIC_A = -0.5


def model_size(width_px: int, height_px: int, short_side_px: int = DEFAULT_SHORT_SIDE_PX,
               multiple_px: int = PATCH_PX) -> tuple[int, int]:
    """(width, height) in pixels of the network input for footage ``width_px`` x ``height_px``.

    The short side becomes ``short_side_px`` (itself rounded up to a multiple), the long side
    keeps the aspect ratio, rounded to the nearest multiple of ``multiple_px`` and never below the
    short side.
    """
    if width_px <= 0 or height_px <= 0:
        raise RackFocusError(f"Bad footage size {width_px}x{height_px}")
    if short_side_px < multiple_px:
        raise RackFocusError(f"The network's short side must be at least {multiple_px} pixels "
                             f"(got {short_side_px})")
    short = int(math.ceil(short_side_px / multiple_px)) * multiple_px
    scale = short / min(width_px, height_px)

    def side(n: int) -> int:
        return max(short, int(round(n * scale / multiple_px)) * multiple_px)

    if width_px <= height_px:
        return short, side(height_px)
    return side(width_px), short


#: Peak bytes per pixel of network input while a frame is prepared and run: the resize's two
#: passes, the clipped and normalised copies and the tensor handed to ONNX Runtime (3 float32
#: channels each, 60 bytes) and the output (4). The network's own activations come on top.
INPUT_BYTES_PER_PX = 64


def check_input_memory(model_w: int, model_h: int, frames: int = 1, fixed: bool = False,
                       available: int | None = None) -> None:
    """Refuse a network input that will not fit in memory (``available`` bytes, or what the
    machine has now), before any of it is allocated."""
    fix = ("use a model with a smaller input" if fixed else
           f"lower --short-side (default {DEFAULT_SHORT_SIDE_PX} pixels)")
    check_memory(INPUT_BYTES_PER_PX * model_w * model_h * max(1, frames),
                 f"A {model_w}x{model_h} network input", fix, available)


def input_size(width_px: int, height_px: int, fixed_w: int | None, fixed_h: int | None,
               short_side_px: int, multiple_px: int) -> tuple[int, int]:
    """(width, height) in pixels of the network input for footage ``width_px`` x ``height_px``:
    the model's own size where it fixes both (refused when its aspect ratio differs from the
    footage's), else :func:`model_size` with whichever side the model fixes kept."""
    if fixed_w and fixed_h:
        check_aspect(width_px, height_px, fixed_w, fixed_h)
        return fixed_w, fixed_h
    w, h = model_size(width_px, height_px, short_side_px, multiple_px)
    return fixed_w or w, fixed_h or h


class NetworkInput:
    """What single-file and split models share: the input size for footage, from their
    ``signature`` (fixed ``width``/``height`` or None) and registry ``entry``."""

    def input_size(self, width_px: int, height_px: int, short_side_px: int | None = None
                   ) -> tuple[int, int]:
        """(width, height) of the network input for footage of this size."""
        return input_size(width_px, height_px, self.signature.width, self.signature.height,
                          short_side_px or self.entry.short_side_px, self.entry.multiple_px)


def check_aspect(width_px: int, height_px: int, model_w: int, model_h: int,
                 tolerance: float = ASPECT_TOLERANCE) -> None:
    """Raise when a fixed-size network input does not have the footage's aspect ratio."""
    footage = width_px / height_px
    model = model_w / model_h
    if abs(model / footage - 1.0) > tolerance:
        raise RackFocusError(
            f"The model takes a fixed {model_w}x{model_h} input (aspect {model:.3f}) but the "
            f"footage is {width_px}x{height_px} (aspect {footage:.3f}): use a model with "
            "dynamic height and width, or one exported for this aspect ratio")


def _cubic(x: np.ndarray) -> np.ndarray:
    a = CUBIC_A
    x = np.abs(x)
    out = np.where(x <= 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0, 0.0)
    return np.where((x > 1.0) & (x < 2.0), (((x - 5.0) * x + 8.0) * x - 4.0) * a, out)


def resize_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Bicubic resampling taps along one axis: (indices, weights), each (n_out, taps).

    Pixel centres are aligned and edges clamped. Shrinking widens the kernel by the scale factor
    (antialiasing, as PIL's BICUBIC does), so a 4K frame brought down to 518 pixels is not
    aliased.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale - 0.5
    radius = int(math.ceil(2.0 * support))
    taps = np.floor(centres)[:, None].astype(int) + np.arange(-radius + 1, radius + 1)[None, :]
    w = _cubic((taps - centres[:, None]) / support)
    keep = np.abs(w).max(axis=0) > 0.0  # drop tap columns that are zero for every output
    taps, w = taps[:, keep], w[:, keep]
    w /= w.sum(axis=1, keepdims=True)
    return np.clip(taps, 0, n_in - 1), w.astype(np.float32)


def resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """The same resampling as a dense (n_out, n_in) matrix."""
    taps, w = resize_taps(n_in, n_out)
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.repeat(np.arange(n_out), taps.shape[1])
    np.add.at(matrix, (rows, taps.ravel()), w.ravel())
    return matrix.astype(np.float32)


def resize_bicubic(image: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """Resize (H, W) or (H, W, C) ``image`` to ``height_px`` x ``width_px`` (float32).

    Separable, as two matrix products (BLAS: faster than gathering the taps, and it uses every
    core): 1080p to 924 x 518 takes about 0.15 s on two cores."""
    img = np.asarray(image, dtype=np.float32)
    h, w = img.shape[:2]
    if (w, h) == (width_px, height_px):
        return img.copy()
    flat = img.reshape(h, w, -1)
    tmp = np.einsum("oh,hwc->owc", resize_weights(h, height_px), flat, optimize=True)
    out = np.einsum("pw,owc->opc", resize_weights(w, width_px), tmp, optimize=True)
    return out.reshape((height_px, width_px) + img.shape[2:])


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Scene-linear values to display sRGB in 0..1 (clipped), as an 8-bit file would hold them."""
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1.0 / 2.4) - 0.055
                    ).astype(np.float32)


def normalise(rgb: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN,
              std: Sequence[float] = IMAGENET_STD) -> np.ndarray:
    """(H, W, 3) RGB in 0..1 -> (3, H, W) float32, ``(value - mean) / std`` per channel."""
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)
    out = (np.asarray(rgb, dtype=np.float32)[..., :3] - m) / s
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def to_tensor(srgb: np.ndarray, width_px: int, height_px: int,
              mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
              ) -> np.ndarray:
    """Display sRGB footage (H, W, >=3) in 0..1 -> the network input (1, 3, height, width)."""
    small = np.clip(resize_bicubic(np.asarray(srgb)[..., :3], width_px, height_px), 0.0, 1.0)
    return normalise(small, mean, std)[None]
