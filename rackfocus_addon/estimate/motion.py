"""How the picture moved between two frames, and frame-to-frame fits that follow it (pure, numpy).

A relative depth network gives every frame its own unknown scale and shift. A clip is put into
one frame's units by a chain of fits, each frame against its predecessor. When the camera moves,
fitting the two frames *at the same pixel positions* pairs different surfaces: the robust line
through those pairs is biased (its slope shrinks: regression dilution) and the chain compounds
the bias (measured on real-like pans and tilts: 0.04-1.3 % a frame; 12 % off by frame 47 of a
2-pixel-a-frame pan with anchors on frame 0). So:

1. :func:`estimate_motion` measures the motion between the two frames' pictures (the footage,
   or the depth itself) as an affine map of pixel positions (pan, tilt, zoom or dolly, roll,
   shake): translation by phase correlation on a coarse image, then robust Gauss-Newton
   (Lucas-Kanade) refinement of all six affine parameters from coarse to fine, with a gain and
   an offset so the picture's brightness (or a depth map's own scale and shift) may change.
   Pixels that do not follow the global motion (a moving object) get no weight.
2. :func:`follow` fits the frame's scale and shift to its predecessor on *matched* pixels only:
   the predecessor is sampled where each pixel came from; pixels that came from outside the
   frame (disocclusion at the border), from an unmeasured pixel, or from across a depth edge
   are dropped, and the robust fit rejects what moved on its own or was uncovered.

Positions are pixels (column, row) with pixel centres at integers, row 0 on top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .align import (
    MAX_FIT_SAMPLES,
    Transform,
    mad_sigma,
    phase_correlation,
    robust_affine,
    sample_grid,
)

#: Coarsest pyramid level's width (pixels): phase correlation there finds shifts up to half of
#: it (at 64 px wide, a third of the frame's width) in one step.
COARSE_PX = 64
#: Motion is measured on images at most this wide (pixels): larger ones are halved first
#: (0.03 px precision at 480 px is 0.06 px at 960; the post-processing budget is the limit).
MOTION_WIDTH = 480
#: Gauss-Newton steps per pyramid level, and the update (pixels at the frame's corners) below
#: which a level is converged.
ITERATIONS = 10
CONVERGED_PX = 0.002
#: Pixels used per Gauss-Newton step (a regular subsample): 12 000 fit a global motion to a few
#: hundredths of a pixel (corners within 0.1 px on the real-like push-in and shake).
MOTION_SAMPLES = 12_000
#: Tukey tuning constant and smallest residual scale (share of the image's 5-95 % range).
TUKEY_C = 4.685
RESIDUAL_FLOOR = 0.002
#: A matched sample is dropped when its four source pixels span more than this share of the
#: frame's 5-95 % range (it would blend two surfaces across a depth edge).
EDGE_SPREAD = 0.02
#: ... or more than this many times the frame's median cell spread, whichever is larger.
EDGE_FACTOR = 4.0
#: Fewer matched samples than this (share of the frame) and the motion is not trusted.
MIN_OVERLAP = 0.2
#: A motion that explains less than this share of the picture's variation is not trusted
#: (matching frames measured 0.9-1.0; unrelated pictures about 0).
MIN_MATCH = 0.5


@dataclass(frozen=True)
class Motion:
    """Where each pixel of a frame was in its predecessor: ``(x', y') = A @ (x, y) + t``.

    ``matrix`` is the 2x3 ``[A | t]`` (pixels); ``match`` the share of the picture's variation
    (robust variance) that it explains, 1 for a perfect match, about 0 for unrelated pictures;
    ``ok`` False when it could not be measured (the identity is used then).
    """

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    match: float = 1.0
    ok: bool = True

    @property
    def array(self) -> np.ndarray:
        return np.array(self.matrix, dtype=np.float64)

    def scaled(self, fx: float, fy: float) -> Motion:
        """The same motion on the image resized by ``fx`` across and ``fy`` down (pixel
        edges kept: x_new = fx (x + 0.5) - 0.5)."""
        m = self.array
        f = np.array([fx, fy])
        # x' = A x + t with x = (x_new + 0.5) / f - 0.5 on both sides.
        a = m[:, :2] * f[:, None] / f[None, :]
        t = f * (m[:, 2] + 0.5 + m[:, :2] @ (0.5 / f) - m[:, :2] @ np.full(2, 0.5)) - 0.5
        return Motion(_as_matrix(np.concatenate([a, t[:, None]], axis=1)), self.match, self.ok)


def _as_matrix(m: np.ndarray) -> tuple:
    return tuple(tuple(float(v) for v in row) for row in m)


def _downsample(img: np.ndarray) -> np.ndarray:
    """Half size by 2x2 means of the known pixels (an odd last row or column dropped); NaN
    only where all four are unknown (speckled holes must not swallow the coarse levels)."""
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    a = img[:h, :w]
    known = np.isfinite(a)
    v = np.where(known, a, 0.0)
    total = v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2]
    count = (known[0::2, 0::2].astype(np.float64) + known[1::2, 0::2] + known[0::2, 1::2]
             + known[1::2, 1::2])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _smooth(img: np.ndarray, passes: int = 4) -> np.ndarray:
    """Binomial blur ([1, 2, 1] / 4 per axis, ``passes`` times: sigma about 1.4 px for 4),
    edges repeated. Both images are blurred before matching: bilinear interpolation smooths the
    moved image at fractional positions and not the other, which pulls the estimate towards
    whole pixels (corner errors up to 0.3 px measured without the blur, under 0.1 px with)."""
    out = np.asarray(img, dtype=np.float64)
    for _ in range(passes):
        p = np.pad(out, 1, mode="edge")
        out = 0.25 * (p[:-2, 1:-1] + p[2:, 1:-1]) + 0.5 * p[1:-1, 1:-1]
        p = np.pad(out, ((0, 0), (1, 1)), mode="edge")
        out = 0.25 * (p[:, :-2] + p[:, 2:]) + 0.5 * p[:, 1:-1]
    return out


def _corners(shape: tuple[int, ...], x: np.ndarray, y: np.ndarray):
    """Indices and weights of bilinear sampling at (x, y), and where it lies inside."""
    h, w = shape[:2]
    inside = (x >= 0.0) & (x <= w - 1.0) & (y >= 0.0) & (y <= h - 1.0)
    x0 = np.clip(np.floor(x), 0, max(w - 2, 0)).astype(np.intp)
    y0 = np.clip(np.floor(y), 0, max(h - 2, 0)).astype(np.intp)
    return x0, y0, np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1), x - x0, y - y0, inside


def sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of ``img`` (H, W) at (x, y) and the spread (max - min) of the four
    source pixels; NaN where a source pixel is NaN or (x, y) lies outside the pixel centres."""
    x0, y0, x1, y1, fx, fy, inside = _corners(img.shape, x, y)
    a, b, c, d = img[y0, x0], img[y0, x1], img[y1, x0], img[y1, x1]
    top = a + (b - a) * fx
    value = top + (c + (d - c) * fx - top) * fy
    spread = np.maximum(np.maximum(a, b), np.maximum(c, d)) - np.minimum(np.minimum(a, b),
                                                                         np.minimum(c, d))
    return np.where(inside, value, np.nan), spread


def _sample_stack(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples (N, K) of the K layers of ``img`` (H, W, K) at once; NaN outside."""
    x0, y0, x1, y1, fx, fy, inside = _corners(img.shape, x, y)
    fx, fy = fx[:, None], fy[:, None]
    top = img[y0, x0] * (1.0 - fx) + img[y0, x1] * fx
    value = top * (1.0 - fy) + (img[y1, x0] * (1.0 - fx) + img[y1, x1] * fx) * fy
    value[~inside] = np.nan
    return value


def _grid(h: int, w: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    step = max(1, int(math.ceil(math.sqrt(h * w / count))))
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    return xs.ravel().astype(np.float64), ys.ravel().astype(np.float64)


def _robust_weights(r: np.ndarray, floor: float) -> np.ndarray:
    sigma = max(mad_sigma(r), floor)
    t = r / (TUKEY_C * sigma)
    return np.where(np.abs(t) < 1.0, (1.0 - t * t) ** 2, 0.0)


def _refine(prev: np.ndarray, cur: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, float]:
    """Robust Gauss-Newton on one level: the affine ``m`` (and a gain and offset) that make
    ``prev(m @ x) ~ gain * cur(x) + offset``. Returns (m, match: see :class:`Motion`)."""
    h, w = cur.shape
    # The picture and its gradients, sampled together (one set of indices per step).
    layers = np.stack([prev, *np.gradient(prev)[::-1]], axis=2)
    x, y = _grid(h, w, MOTION_SAMPLES)
    c = cur[y.astype(np.intp), x.astype(np.intp)]
    keep = np.isfinite(c)
    x, y, c = x[keep], y[keep], c[keep]
    lo, hi = np.percentile(c, (5.0, 95.0)) if c.size else (0.0, 1.0)
    floor = RESIDUAL_FLOOR * max(float(hi - lo), 1e-12)
    # Centred, size-normalised coordinates keep the normal equations well conditioned.
    cx, cy, s = (w - 1) / 2.0, (h - 1) / 2.0, max(w, h) / 2.0
    u, v = (x - cx) / s, (y - cy) / s
    gain, offset = 1.0, 0.0
    for _ in range(ITERATIONS):
        px = m[0, 0] * x + m[0, 1] * y + m[0, 2]
        py = m[1, 0] * x + m[1, 1] * y + m[1, 2]
        got = _sample_stack(layers, px, py)
        ok = np.isfinite(got).all(axis=1)
        if ok.sum() < max(16, MIN_OVERLAP * x.size):
            return m, 0.0
        r = got[ok, 0] - gain * c[ok] - offset
        wts = _robust_weights(r, floor)
        gxo, gyo, uo, vo = got[ok, 1], got[ok, 2], u[ok], v[ok]
        jac = np.stack([gxo * uo, gxo * vo, gxo, gyo * uo, gyo * vo, gyo, -c[ok],
                        -np.ones_like(r)], axis=1)
        # Normal equations (8 x 8): a hundred times cheaper than an SVD of the samples.
        jw = jac * wts[:, None]
        try:
            step = np.linalg.solve(jw.T @ jac, -(jw.T @ r))
        except np.linalg.LinAlgError:
            return m, 0.0
        # The step is in normalised coordinates: back to pixels.
        da = np.array([[step[0] / s, step[1] / s], [step[3] / s, step[4] / s]])
        dt = np.array([step[2] - step[0] * cx / s - step[1] * cy / s,
                       step[5] - step[3] * cx / s - step[4] * cy / s])
        m = m + np.concatenate([da, dt[:, None]], axis=1)
        gain, offset = gain + step[6], offset + step[7]
        # u and v lie in [-1, 1]: the largest move of a corner, in pixels.
        if max(abs(step[0]) + abs(step[1]) + abs(step[2]),
               abs(step[3]) + abs(step[4]) + abs(step[5])) < CONVERGED_PX:
            break
    match = 1.0 - min((mad_sigma(r) / max(mad_sigma(gain * c[ok]), 1e-30)) ** 2, 1.0)
    return m, match


def estimate_motion(prev: np.ndarray, cur: np.ndarray) -> Motion:
    """The affine motion taking each pixel of ``cur`` to where it was in ``prev`` (same-shaped
    2-D images: luminance, or inverse depth; NaN for unknown pixels). Robust to a moving object
    covering a minority of the frame, to a gain and offset between the two, and to shifts up to
    about a third of the frame's width."""
    prev = np.asarray(prev, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    if prev.shape != cur.shape or prev.ndim != 2:
        raise ValueError(f"Two same-shaped 2-D images are needed ({prev.shape}, {cur.shape})")
    if min(int(np.isfinite(prev).sum()), int(np.isfinite(cur).sum())) < 16:
        return Motion(match=0.0, ok=False)  # nothing to see (an unmeasured frame)
    halvings = 0
    while prev.shape[1] > MOTION_WIDTH and min(prev.shape) >= 64:
        prev, cur, halvings = _downsample(prev), _downsample(cur), halvings + 1
    levels = [(_smooth(prev), _smooth(cur))]
    while levels[-1][0].shape[1] >= 2 * COARSE_PX and min(levels[-1][0].shape) >= 32:
        levels.append((_downsample(levels[-1][0]), _downsample(levels[-1][1])))
    coarse_prev, coarse_cur = levels[-1]
    dx, dy, _peak = phase_correlation(coarse_prev, coarse_cur)
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
    match = 0.0
    for k in range(len(levels) - 1, -1, -1):
        p, c = levels[k]
        m, match = _refine(p, c, m)
        if k:  # to the next level up: twice the size, pixel edges kept
            m = Motion(_as_matrix(m)).scaled(2.0, 2.0).array
    if not (match >= MIN_MATCH and bool(np.isfinite(m).all())):
        return Motion(match=match, ok=False)
    return Motion(_as_matrix(m), match, True).scaled(2.0 ** halvings, 2.0 ** halvings)


def luma_guide(srgb: np.ndarray, block: int = 1) -> np.ndarray:
    """The footage's luminance (sRGB 0..1, (H, W, >=3)) averaged over ``block`` x ``block``
    pixels from the top-left corner (a remainder row or column dropped): the picture the
    motion is measured on, cheap at any footage size (float32)."""
    img = np.asarray(srgb, dtype=np.float32)[..., :3]
    luma = img @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    if block <= 1:
        return luma
    h, w = (luma.shape[0] // block) * block, (luma.shape[1] // block) * block
    return luma[:h, :w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))


def guide_block(width_px: int, height_px: int, frame_w: int, frame_h: int
                ) -> tuple[int, tuple[float, float]]:
    """For footage of ``width_px`` x ``height_px`` and depth frames of ``frame_w`` x ``frame_h``:
    the block size of :func:`luma_guide` (a guide at most about :data:`MOTION_WIDTH` wide,
    so that no time is spent on pixels the motion is not measured on) and the factor (across,
    down) from guide pixels to depth-frame pixels (pixel edges kept)."""
    block = max(1, math.ceil(width_px / MOTION_WIDTH))
    return block, (frame_w * block / width_px, frame_h * block / height_px)


# --- chaining ---------------------------------------------------------------------------------

#: Uncertainty of one link's scale that the fit's own statistics do not show (relative): the
#: motion model's and the interpolation's error, measured on the real-like test clips (chained
#: drift under 0.005 % a frame).
LINK_FLOOR = 5e-5
#: A link whose motion could not be measured falls back to the same pixels; its scale is then
#: this uncertain (relative): the bias measured on a 2-px-a-frame pan was 0.04 %, at 8 px 0.2 %.
UNMATCHED_UNCERTAINTY = 5e-3


@dataclass(frozen=True)
class Link:
    """One frame's fit to its predecessor: ``transform`` (this frame's units to the
    predecessor's, already chained to the segment's first frame), the ``motion`` it followed,
    the share of the frame's samples ``matched`` and used, and ``sigma``, the relative
    uncertainty of the link's scale (1e-4 = 0.01 %)."""

    transform: Transform
    motion: Motion
    matched: float
    sigma: float


def _scale_sigma(x: np.ndarray, y: np.ndarray, w: np.ndarray, scale: float,
                 quadrant: np.ndarray) -> float:
    """Relative uncertainty of a link's scale from the spread of the scales fitted on the four
    quadrants of the frame alone (standard error of their mean): honest where the pixels'
    errors are correlated across the frame, as a fit's own statistics are not."""
    slopes = []
    for q in range(4):
        sel = quadrant == q
        if float(w[sel].sum()) > 16.0:
            slopes.append(_symmetric_line(x[sel], y[sel], w[sel], scale, 0.0)[0])
    if len(slopes) < 2 or scale <= 0.0:
        return UNMATCHED_UNCERTAINTY
    return float(np.std(slopes, ddof=1)) / math.sqrt(len(slopes)) / scale


def _symmetric_line(x: np.ndarray, y: np.ndarray, w: np.ndarray, scale: float, shift: float
                    ) -> tuple[float, float]:
    """The line through the robust fit's inliers that treats both frames alike (reduced major
    axis: slope sqrt(Syy / Sxx)). Both frames carry the network's noise in proportion to their
    scale; least squares of one on the other shrinks the slope by the noise's share of the
    variance, and a chain compounds it. Falls back to the given line on degenerate data."""
    sw = float(w.sum())
    if sw <= 2.0:
        return scale, shift
    mx, my = float((w * x).sum()) / sw, float((w * y).sum()) / sw
    sxx = float((w * (x - mx) ** 2).sum())
    syy = float((w * (y - my) ** 2).sum())
    if sxx <= 0.0 or syy <= 0.0 or scale <= 0.0:
        return scale, shift
    slope = math.sqrt(syy / sxx)
    return slope, my - slope * mx


def follow(prev_units: np.ndarray, cur: np.ndarray, motion: Motion,
           max_samples: int = MAX_FIT_SAMPLES) -> Link:
    """Fit ``cur`` (relative inverse depth) to ``prev_units`` (its predecessor, already in the
    segment's units; same shape) on the pixels that ``motion`` matches: the predecessor is
    sampled where each pixel of ``cur`` came from. Samples that came from outside the frame,
    from unmeasured pixels (NaN) or from across a depth edge are dropped; the robust fit drops
    those that moved on their own or were uncovered. Without a measured motion, the same
    pixels are paired (as for a locked-off shot) and the link is marked uncertain."""
    prev_units = np.asarray(prev_units, dtype=np.float64)
    cur = np.asarray(cur)
    if prev_units.shape != cur.shape:
        raise ValueError(f"Frames of different sizes cannot be chained ({prev_units.shape} and "
                         f"{cur.shape})")
    rows, cols = sample_grid(cur.shape, max_samples)
    ys, xs = np.meshgrid(np.arange(cur.shape[0], dtype=np.float64)[rows],
                         np.arange(cur.shape[1], dtype=np.float64)[cols], indexing="ij")
    x_cur = cur[rows, cols].astype(np.float64).ravel()
    m = motion.array
    px = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    py = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    y_prev, spread = sample(prev_units, px.ravel(), py.ravel())
    finite = prev_units[np.isfinite(prev_units)]
    lo, hi = np.percentile(finite, (5.0, 95.0)) if finite.size else (0.0, 1.0)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(x_cur) & np.isfinite(y_prev)
        if ok.any():
            # An edge: a cell whose values spread far more than the frame's usual cell does
            # (a steep smooth slope spreads every cell alike and is kept).
            usual = EDGE_FACTOR * float(np.median(spread[ok]))
            ok &= spread <= max(EDGE_SPREAD * float(hi - lo), usual)
    if ok.sum() < 16:
        return Link(Transform(), motion, 0.0, UNMATCHED_UNCERTAINTY)
    scale, shift, w = robust_affine(x_cur[ok], y_prev[ok])
    scale, shift = _symmetric_line(x_cur[ok], y_prev[ok], w, scale, shift)
    if not (math.isfinite(scale) and math.isfinite(shift)) or scale <= 0.0:
        return Link(Transform(), motion, 0.0, UNMATCHED_UNCERTAINTY)
    h, w_px = cur.shape
    quadrant = ((ys.ravel() >= h / 2).astype(int) * 2 + (xs.ravel() >= w_px / 2))[ok]
    flat = np.ptp(x_cur[ok]) <= 1e-9 * max(float(np.abs(x_cur[ok]).max()), 1e-30)
    # A frame of one value fixes its shift, never its scale.
    sigma = UNMATCHED_UNCERTAINTY if flat else _scale_sigma(x_cur[ok], y_prev[ok], w, scale,
                                                             quadrant)
    floor = LINK_FLOOR if motion.ok else UNMATCHED_UNCERTAINTY
    used = float((w > 0).sum()) / x_cur.size
    return Link(Transform(scale, shift), motion, used, math.hypot(sigma, floor))


def chain(frames, guides=None, guide_to_frame: tuple[float, float] | None = None
          ) -> list[Link]:
    """Links mapping each frame of one shot segment into the first frame's units, each fitted
    to its predecessor on the pixels the picture's motion matches. ``frames``: an iterable of
    same-shaped relative inverse depth maps; ``guides``: an iterable of the footage's luminance
    (:func:`luma_guide`; or None: the motion is measured on the depth itself), whose pixels
    are ``guide_to_frame`` (across, down) depth-frame pixels (by default the ratio of the
    sizes). Read lazily, two frames held at a time, so memory does not grow with the clip."""
    links: list[Link] = []
    prev_units = prev_guide = None
    guide_iter = iter(guides) if guides is not None else None
    for frame in frames:
        cur = np.asarray(frame)
        guide = np.asarray(next(guide_iter), dtype=np.float64) if guide_iter else cur
        if prev_units is None:
            link = Link(Transform(), Motion(), 1.0, 0.0)
        else:
            motion = estimate_motion(prev_guide, guide)
            if guide.shape != cur.shape:
                fx, fy = guide_to_frame or (cur.shape[1] / guide.shape[1],
                                            cur.shape[0] / guide.shape[0])
                motion = motion.scaled(fx, fy)
            link = follow(prev_units, cur, motion)
        links.append(link)
        prev_units = link.transform.apply(cur.astype(np.float64))
        prev_guide = guide
    return links
