"""Test oracles for depth plates (pure numpy): image fidelity measures and the reference plate
geometry. They check the product; they are not part of it (the extension zip leaves tests/ out).

Imported as ``oracles`` by tests/pure, tests/bl (``tests/`` is on ``sys.path`` through
``tests/conftest.py``) and by the benchmarks (which put ``tests/`` on ``sys.path`` themselves).
"""

from __future__ import annotations

import math

import numpy as np

from rackfocus_addon.plate_mesh import DEFAULT_TEAR, grid_size, tear_log


def reference_vertices(depth: np.ndarray, density: int, sensor_mm: float, focal_mm: float,
                       tear: float = DEFAULT_TEAR) -> np.ndarray:
    """Camera-space positions of the untorn grid vertices the Geometry Nodes plate makes.

    For checking the node tree: a vertex's depth is the mean of the depths of the pixels whose
    faces meet at it (all faces are within one pixel for density >= 1). Vertices on a tear are
    omitted (NaN), because they are split into one copy per side. Shape (ny, nx, 3), bottom row
    first (grid order).
    """
    h, w = depth.shape
    nx, ny = grid_size(w, h, density)
    # Depth of each face (ny-1, nx-1), grid order (bottom row first), from its centre's pixel.
    fu = (np.arange(nx - 1) + 0.5) / (nx - 1)
    fv = (np.arange(ny - 1) + 0.5) / (ny - 1)
    cols = np.minimum((fu * w).astype(int), w - 1)
    rows = np.minimum(((1.0 - fv) * h).astype(int), h - 1)
    face = np.asarray(depth, dtype=np.float64)[rows][:, cols]
    ln = np.log(face)
    padded = np.full((ny + 1, nx + 1), np.nan)
    padded[1:-1, 1:-1] = ln
    quads = np.stack([padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]])
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(quads, axis=0) - np.nanmin(quads, axis=0)
    torn = spread > tear_log(tear)
    mean = np.nanmean(np.exp(quads), axis=0)
    mean[torn] = np.nan
    u = np.arange(nx) / (nx - 1)
    v = np.arange(ny) / (ny - 1)
    sx = (u - 0.5) * sensor_mm / focal_mm
    sy = (v - 0.5) * sensor_mm * h / w / focal_mm
    out = np.empty((ny, nx, 3))
    out[..., 0] = sx[None, :] * mean
    out[..., 1] = sy[:, None] * mean
    out[..., 2] = -mean
    return out


# --- Fidelity measures --------------------------------------------------------------------------

def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, peak: float = 1.0
         ) -> float:
    """Peak signal-to-noise ratio (dB) of two images with values in [0, peak], over ``mask``."""
    diff = (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2
    if diff.ndim == 3:
        diff = diff.mean(axis=2)
    mse = float(diff[mask].mean() if mask is not None else diff.mean())
    return math.inf if mse <= 0.0 else 10.0 * math.log10(peak * peak / mse)


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, sigma: float = 1.5
         ) -> float:
    """Mean structural similarity (Wang et al. 2004, Gaussian window) of the luma of two images."""
    def luma(img):
        img = np.asarray(img, dtype=np.float64)
        return img[..., :3] @ np.array([0.2126, 0.7152, 0.0722]) if img.ndim == 3 else img

    x, y = luma(a), luma(b)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mx, my = _gauss(x, sigma), _gauss(y, sigma)
    vx = _gauss(x * x, sigma) - mx * mx
    vy = _gauss(y * y, sigma) - my * my
    cxy = _gauss(x * y, sigma) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[mask].mean() if mask is not None else s.mean())


def _gauss(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (reflected borders), the SSIM window."""
    radius = max(1, int(round(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(img, radius, mode="reflect")
    out = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, pad)
    return np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, out)


# --- The ring-growth fills the plate cache used before O(N) fills (reference) -----------------

def grow_fill_reference(values: np.ndarray, known: np.ndarray, targets: np.ndarray,
                        own_key: np.ndarray | None = None, margin: float = 0.0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The former ``depth.grow_fill``: fill ``targets`` ring by ring from ``known`` pixels, each
    step a target with known 8-neighbours taking their mean; with ``own_key`` only neighbours
    whose last channel exceeds the pixel's own key by ``margin`` count. O(N x rings): slow on
    real footage (19 s a 1080p frame), kept as the reference the O(N) fills are compared with."""
    h, w, c = values.shape
    pw = w + 2
    vals = np.zeros(((h + 2) * pw, c), dtype=np.float64)
    vals.reshape(h + 2, pw, c)[1:-1, 1:-1] = values
    kn = np.zeros((h + 2) * pw, dtype=bool)
    kn.reshape(h + 2, pw)[1:-1, 1:-1] = known
    rows, cols = np.nonzero(targets & ~known)
    todo = (rows + 1) * pw + cols + 1
    own = None if own_key is None else own_key[rows, cols] + margin
    offsets = np.array([dy * pw + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    while todo.size:
        nb = todo[:, None] + offsets[None, :]
        ok = kn[nb]
        if own is not None:
            ok &= vals[nb, -1] > own[:, None]
        count = ok.sum(axis=1)
        grow = count > 0
        if not grow.any():
            break
        sums = np.einsum("nk,nkc->nc", ok.astype(np.float64), vals[nb])
        idx = todo[grow]
        vals[idx] = sums[grow] / count[grow, None]
        kn[idx] = True
        todo = todo[~grow]
        if own is not None:
            own = own[~grow]
    out = vals.reshape(h + 2, pw, c)[1:-1, 1:-1].copy()
    return out, kn.reshape(h + 2, pw)[1:-1, 1:-1].copy()


def fill_nearest_reference(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The former ``depth.fill_nearest``: holes grown from their rims, ring by ring."""
    out = np.where(valid, values, 0.0).astype(np.float64)[..., None]
    return grow_fill_reference(out, valid, ~valid)[0][..., 0]


def background_fill_reference(color: np.ndarray, depth: np.ndarray, radius_px: int,
                              tear: float = DEFAULT_TEAR) -> tuple[np.ndarray, np.ndarray]:
    """The former ``plate_mesh.background_fill``: the same fill pixels, inpainted by ring growth
    from the pixels that are not fill pixels, each ring averaging only neighbours behind it."""
    color = np.asarray(color, dtype=np.float64)
    ln = np.log(np.asarray(depth, dtype=np.float64))
    limit = tear_log(tear)
    h, w = ln.shape
    horiz = np.abs(np.diff(ln, axis=1)) > limit
    vert = np.abs(np.diff(ln, axis=0)) > limit
    seed = np.full((h, w), -np.inf)
    for jumps, axis in ((horiz, 1), (vert, 0)):
        if axis == 1:
            a, b, sa, sb = ln[:, :-1], ln[:, 1:], seed[:, :-1], seed[:, 1:]
        else:
            a, b, sa, sb = ln[:-1, :], ln[1:, :], seed[:-1, :], seed[1:, :]
        np.copyto(sa, np.maximum(sa, np.where(jumps & (a < b), b, -np.inf)))
        np.copyto(sb, np.maximum(sb, np.where(jumps & (b < a), a, -np.inf)))
    behind = seed
    for axis in (0, 1):  # (2r+1)-square maximum, brute force over the window
        out = np.full_like(behind, -np.inf)
        n = behind.shape[axis]
        for off in range(-radius_px, radius_px + 1):
            src = [slice(None)] * 2
            dst = [slice(None)] * 2
            src[axis] = slice(max(off, 0), n + min(off, 0))
            dst[axis] = slice(max(-off, 0), n - max(off, 0))
            np.maximum(out[tuple(dst)], behind[tuple(src)], out=out[tuple(dst)])
        behind = out
    mask = ln < behind - limit
    stack = np.concatenate([color, ln[..., None]], axis=2)
    filled, known = grow_fill_reference(stack, ~mask, mask, own_key=ln, margin=limit)
    fill_col, fill_ln = filled[..., :-1], filled[..., -1]
    rest = mask & ~known
    fill_col[rest] = color[rest]
    fill_ln[rest] = behind[rest]
    out_depth = np.where(mask, np.exp(fill_ln), 0.0)
    out_col = np.where(mask[..., None], fill_col, 0.0)
    return out_col.astype(np.float32), out_depth.astype(np.float32)


# --- A real-like depth plate frame --------------------------------------------------------------

def real_like_frame(width: int, height: int, seed: int = 0, holes: float = 0.07
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Footage and measured depth as a real shot gives them, at any size: (colour (H, W, 3)
    float32 scene-linear in [0, 1], depth (H, W) float32 metres with unmeasured pixels).

    Many depth edges and thin structures: sky, hills and a ground plane; a building with
    recessed windows; trees whose foliage is full of gaps; a slanted picket fence; a bicycle wheel
    with 1-2 px spokes; 1 px wires; foreground grass blades; a person. Depth carries 0.2 %
    measurement noise; about ``holes`` of the pixels are unmeasured (NaN or 0): clumps, speckle,
    drop-outs along depth edges and stereo occlusion shadows left of near objects. Colour is
    textured (value noise at several scales, bricks, grain).
    """
    rng = np.random.default_rng(seed)
    h, w = height, width
    s = w / 1920.0  # scale of the structures (thin ones stay 1-2 px at every size)
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]

    def noise(cell: float, seed_: int) -> np.ndarray:
        """Smooth value noise in [0, 1] with features about ``cell`` px (bilinear lattice)."""
        r = np.random.default_rng(seed_)
        gh, gw = int(h / cell) + 3, int(w / cell) + 3
        grid = r.random((gh, gw), dtype=np.float32)
        ys = np.arange(h, dtype=np.float32) / cell
        xs = np.arange(w, dtype=np.float32) / cell
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        rows = grid[y0] * (1 - fy) + grid[y0 + 1] * fy
        return rows[:, x0] * (1 - fx) + rows[:, x0 + 1] * fx

    def paint(mask, z, base, tex):
        mask = np.broadcast_to(mask, (h, w))
        depth[mask] = np.broadcast_to(z, (h, w))[mask]
        shade = 0.55 + 0.45 * np.broadcast_to(tex, (h, w))[mask]
        color[mask] = np.asarray(base, np.float32)[None, :] * shade[:, None]

    depth = np.empty((h, w), np.float32)
    color = np.empty((h, w, 3), np.float32)
    fine = noise(3 * s, seed + 1)
    mid = noise(24 * s, seed + 2)
    big = noise(160 * s, seed + 3)

    # Sky, hills, ground.
    sky_line = h * (0.30 + 0.08 * noise(300 * s, seed + 4)[0:1, :])
    paint(np.ones((h, w), bool), 300.0, (0.35, 0.55, 0.9), big)
    hills = y >= sky_line
    paint(hills, 120.0 + 40.0 * mid, (0.25, 0.35, 0.2), 0.6 * mid + 0.4 * fine)
    y0 = 0.40 * h
    ground = y >= y0 + 0.05 * h
    zg = np.minimum(2.0 * (h - y0) / np.maximum(y - y0, 1.0), 150.0) * np.ones((1, w), np.float32)
    paint(ground, zg, (0.45, 0.4, 0.25), 0.5 * fine + 0.5 * mid)

    # A building with recessed windows and a brick texture.
    bx0, bx1, btop = 0.72 * w, 0.98 * w, 0.12 * h
    building = (x >= bx0) & (x < bx1) & (y >= btop) & (y < 0.62 * h)
    course = (y / (7 * s)).astype(int)
    brick = (((x + 11 * s * (course % 2)) / (22 * s)) % 1.0 > 0.08) & ((y / (7 * s)) % 1.0 > 0.15)
    paint(building, 25.0, (0.6, 0.3, 0.2), 0.7 * brick + 0.3 * fine)
    windows = building & (((x - bx0) / (60 * s)) % 1.0 > 0.45) & (((y - btop) / (70 * s)) % 1.0
                                                                   > 0.4)
    paint(windows, 27.5, (0.15, 0.2, 0.25), fine)

    # Trees: trunks and canopies full of gaps, each leaf cluster at its own depth.
    for cx, cy, rx, ry, zt in ((0.12, 0.28, 0.11, 0.16, 14.0), (0.45, 0.25, 0.14, 0.17, 19.0),
                               (0.64, 0.33, 0.08, 0.13, 11.0)):
        trunk = (np.abs(x - cx * w) < 10 * s) & (y > cy * h) & (y < 0.55 * h)
        paint(trunk, zt, (0.3, 0.2, 0.1), mid)
        ell = ((x - cx * w) / (rx * w)) ** 2 + ((y - cy * h) / (ry * h)) ** 2
        leaves = (ell < 1.0) & (noise(9 * s, seed + int(zt)) + 0.35 * (1 - ell) > 0.62)
        paint(leaves, zt * (1.0 + 0.06 * (noise(14 * s, seed + 50 + int(zt)) - 0.5)),
              (0.2, 0.5, 0.15), 0.6 * fine + 0.4 * mid)

    # Wires: 1 px and 2 px catenaries at 15 m.
    for k, (a, b) in enumerate(((0.18, 1.0), (0.22, 2.0), (0.26, 1.0))):
        sag = a * h + 0.05 * h * ((x / w - 0.5) * 2) ** 2 + 3 * k
        paint(np.abs(y - sag) < 0.5 * b, 15.0, (0.05, 0.05, 0.05), fine)

    # A slanted picket fence (2.6 m at the left to 3.1 m), slats and two rails.
    fz = 2.6 + 0.5 * x / w
    in_fence = (x > 0.03 * w) & (x < 0.70 * w)
    top = 0.56 * h + 12 * s * np.abs(np.sin(x / (14 * s)))
    slats = in_fence & (((x / (14 * s)) % 1.0) < 0.4) & (y > top) & (y < 0.78 * h)
    rails = in_fence & ((np.abs(y - 0.62 * h) < 4 * s) | (np.abs(y - 0.74 * h) < 4 * s))
    paint(slats | rails, fz * 0.995 ** rails, (0.8, 0.78, 0.7), 0.5 * fine + 0.5 * mid)

    # A person at 2.0 m.
    px, py = 0.56 * w, 0.66 * h
    head = ((x - px) / (40 * s)) ** 2 + ((y - (py - 190 * s)) / (50 * s)) ** 2 < 1.0
    body = (np.abs(x - px) < 75 * s - 0.1 * np.maximum(y - py, 0)) & (y > py - 140 * s) & (
        y < 0.93 * h)
    paint(head | body, 2.0, (0.7, 0.45, 0.35), 0.7 * mid + 0.3 * fine)

    # A bicycle wheel at 2.3 m: rim, hub, 36 spokes 1-2 px wide.
    wx, wy, wr = 0.27 * w, 0.74 * h, 0.15 * h
    dx, dy = x - wx, y - wy
    r = np.sqrt(dx * dx + dy * dy)
    theta = np.arctan2(dy, dx)
    n = 36
    near_spoke = np.round(theta * n / (2 * np.pi)) * (2 * np.pi / n)
    spokes = (np.abs(r * np.sin(theta - near_spoke)) < 0.5 + 0.3 * s) & (r < wr)
    rim = np.abs(r - wr) < 6 * s
    hub = r < 12 * s
    paint(spokes | rim | hub, 2.3, (0.75, 0.75, 0.8), fine)

    # Foreground grass blades (1.2-2 m), thin at their tips.
    gtop = 0.86 * h
    period = 9 * s
    slant = x + 0.35 * (h - y)
    blade = np.floor(slant / period)
    tip = gtop + (h - gtop) * 0.6 * np.random.default_rng(seed + 9).random(
        int(np.ceil((w + h) / period)) + 2)[blade.astype(int)]
    width_frac = 0.45 * np.clip((y - tip) / (h - gtop), 0.0, 1.0)
    grass = (y > tip) & ((slant / period) % 1.0 < width_frac)
    paint(grass, 1.2 + 0.8 * (h - y) / (h - gtop), (0.3, 0.6, 0.2), fine)

    # Measurement noise, film grain.
    depth *= 1.0 + 0.002 * (rng.standard_normal((h, w), dtype=np.float32))
    color += 0.02 * (rng.random((h, w, 3), dtype=np.float32) - 0.5)
    np.clip(color, 0.0, 1.0, out=color)

    # Unmeasured depth: occlusion shadows left of near edges, drop-outs on depth edges, clumps,
    # speckle; half NaN, half 0.
    ln = np.log(depth)
    miss = np.zeros((h, w), bool)
    for k in range(1, max(1, int(3 * s)) + 1):
        miss[:, :-k] |= ln[:, k:] < ln[:, :-k] - 0.5
    jump = np.zeros((h, w), bool)
    jump[:, :-1] |= np.abs(np.diff(ln, axis=1)) > 0.2
    jump[:-1, :] |= np.abs(np.diff(ln, axis=0)) > 0.2
    miss |= jump & (rng.random((h, w), dtype=np.float32) < 0.4)
    share = miss.mean()
    clumps = noise(20 * s, seed + 7) * noise(90 * s, seed + 8)
    need = max(holes - share - 0.015, 0.0)
    if need > 0:
        miss |= clumps > np.quantile(clumps[::4, ::4], 1.0 - need)
    rest = max(holes - miss.mean(), 0.0)
    miss |= rng.random((h, w), dtype=np.float32) < rest
    depth[miss] = np.where(rng.random(int(miss.sum())) < 0.5, np.nan, 0.0).astype(np.float32)
    return color, depth
