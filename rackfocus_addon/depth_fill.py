"""The nearest-source pyramid: for every target pixel a nearest (qualifying) source pixel in
O(N) (pure, numpy only).

Depth conversion (:mod:`.depth`) fills invalid samples from their nearest valid ones with it, and
the plate's background fill (:mod:`.plate_mesh`) takes, for every pixel near a depth edge, the
nearest source behind it. The helpers :func:`select_where`, :func:`upsample` and
:func:`next_to` are exact, branch-free array steps the plate mesher uses too.
"""

from __future__ import annotations

import numpy as np

#: "No seed" in the seed pyramids of :func:`nearest_sources`: a coordinate so far outside any
#: frame that it is never the nearest (float32 keeps its squared distance finite). Keys and
#: requirements use finite extremes too, so that selections stay exact bit copies.
_NO_SEED = np.float32(-1e7)
_LOWEST = np.float32(-1e30)
_HIGHEST = np.float32(1e30)


def nearest_sources(sources: np.ndarray, targets: np.ndarray, key: np.ndarray | None = None,
                    margin: float = 0.0, exact_adjacent: bool = True) -> np.ndarray:
    """For every target pixel the flat index (``row * W + col``) of a nearest source pixel, as an
    (H, W) integer array: -1 on pixels that are not targets and where no source qualifies.

    With ``key`` (H, W) only sources whose key exceeds the target's own by more than ``margin``
    qualify: with log depth and the tear's log jump, a target takes the nearest source behind it.

    O(N), vectorised: a pyramid keeps one source per 2^k-pixel cell (the one nearest the cell's
    centre; with ``key`` the one with the largest key, which qualifies wherever any source of
    the cell does). Coarse to fine, every cell then takes the nearest seed among its parent's,
    its own and its neighbours' (jump flooding on a quadtree). With ``key`` that is done twice:
    for the cell's least demanding target and for its most demanding one (whose seed qualifies
    for every target of the cell), and each target takes the first that qualifies for it. A
    target can be left without one where neither does although a source behind it exists far
    off (arbitrary keys); a background fill, whose targets all have a far side behind them within
    the fill radius, leaves none (tested on real-like frames). With ``exact_adjacent`` targets
    next to a qualifying source take the nearest adjacent one, exactly; elsewhere the seed is
    about as near as the nearest (tests/pure/test_depth.py measures both against brute force).
    """
    sources = np.asarray(sources, dtype=bool)
    targets = np.asarray(targets, dtype=bool)
    h, w = sources.shape
    index = np.int32 if h * w < 2 ** 31 else np.int64
    out = np.full((h, w), -1, dtype=index)
    if not (targets.any() and sources.any()):
        return out
    need = None
    if key is not None:
        key = np.asarray(key, dtype=np.float32)
        need = key + np.float32(margin)
    seeds = _level1_seeds(sources, targets, key, need)
    flat = np.empty((h, w), dtype=index)
    behind = np.empty((h, w), dtype=np.float32) if need is not None else None
    take = np.empty((h, w), dtype=bool)
    while seeds:
        r, c, k = seeds.pop(0)
        cell = r.astype(index)
        cell *= w
        cell += c.astype(index)
        select_where(cell, -1, r <= _NO_SEED)
        upsample(cell, (h, w), out=flat)
        del cell
        np.greater_equal(flat, 0, out=take)
        take &= targets
        take &= out < 0
        if need is not None:
            upsample(k, (h, w), out=behind)
            take &= behind > need
        select_where(out, flat, take)
    del flat, behind, take
    if need is None:
        both = targets & sources
        if both.any():  # a target that is a source is its own nearest
            out[both] = np.flatnonzero(both)
    if exact_adjacent:
        _adjacent_sources(out, sources, targets, key, need)
    return out


def select_where(dst: np.ndarray, src, take: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """``dst = where(take, src, dst)`` in place (``src`` of ``dst``'s type, or a scalar, may
    broadcast), as exact bit copies: branch-free, 8x faster than a masked copy (``np.copyto``
    with ``where``) on masks as unpredictable as these. ``take`` may also be the mask's bits
    (:func:`_bits`); ``scratch`` (like ``dst``'s integer view) saves an allocation."""
    kind = np.dtype(f"i{dst.dtype.itemsize}")
    d = dst.view(kind)
    bits = take if take.dtype == kind else _bits(take, kind)
    diff = np.bitwise_xor(d, np.asarray(src, dtype=dst.dtype).view(kind), out=scratch)
    diff &= bits
    d ^= diff


def _bits(take: np.ndarray, kind=np.int32, out: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask as integer bits: all ones where True, 0 elsewhere."""
    return np.negative(take.view(np.int8), dtype=kind, out=out)


def _level1_seeds(sources, targets, key, need):
    """The seed pyramid, refined coarse to fine down to its 2x2 cells: a list of (rows, cols,
    keys) level-1 arrays (one; with keys two: for the least and the most demanding target)."""
    h, w = sources.shape
    hp, wp = h + h % 2, w + w % 2
    src = np.zeros((hp, wp), dtype=bool)
    src[:h, :w] = sources
    rows = np.arange(0, hp, 2, dtype=np.float32)[:, None]
    cols = np.arange(0, wp, 2, dtype=np.float32)[None, :]
    r = np.full((hp // 2, wp // 2), _NO_SEED, dtype=np.float32)
    c = r.copy()
    k = lo = hi = None
    if key is not None:
        demand = np.full((hp, wp), _HIGHEST, dtype=np.float32)
        select_where(demand[:h, :w], need, targets)
        lo = _pool(demand, np.minimum, _HIGHEST)
        select_where(demand, _LOWEST, demand == _HIGHEST)
        hi = _pool(demand, np.maximum, _LOWEST)
        ks = demand  # reused: the sources' keys
        ks[...] = _LOWEST
        select_where(ks[:h, :w], key, sources)
        del demand
        k = np.full(r.shape, _LOWEST, dtype=np.float32)
    # Level 1 from the pixels: every child is as near the centre as the others, so the first
    # source (with keys: the one with the largest key) represents the cell.
    bits = np.empty(r.shape, dtype=np.int32)
    scratch = np.empty(r.shape, dtype=np.int32)
    for dy, dx in ((1, 1), (1, 0), (0, 1), (0, 0)):
        take = src[dy::2, dx::2]
        if k is not None:
            child = ks[dy::2, dx::2]
            take = take & (child >= k)
            _bits(take, out=bits)
            select_where(k, child, bits, scratch)
        else:
            _bits(take, out=bits)
        select_where(r, rows + np.float32(dy), bits, scratch)
        select_where(c, cols + np.float32(dx), bits, scratch)
    del bits, scratch, src
    if key is not None:
        del ks
    pyramid = [(r, c, k, lo, hi)]
    while max(pyramid[-1][0].shape) > 2:
        pyramid.append(_coarser(*pyramid[-1], size=2 << len(pyramid)))
    variants = [None] if key is None else [3, 4]  # the least, then the most demanding target
    # The finest flood: on 2x2 cells for plain nearest sources; with keys (background fills,
    # whose colour is averaged over 4+ pixel blocks anyway) on 4x4 cells, a third faster.
    finest = 1 if key is None else 2
    out = []
    for variant in variants:
        res = None
        for level in range(len(pyramid), 0, -1):
            r, c, k = pyramid[level - 1][:3]
            req = None
            if variant is not None:
                req = pyramid[level - 1][variant]
                if variant == 3:  # no target in the cell: any seed serves its neighbours
                    req = np.where(req == _HIGHEST, _LOWEST, req)
            own = r > _NO_SEED
            if req is not None:
                own &= k > req
            seeds = (r, c) if k is None else (r, c, k)
            if res is None:
                init = [np.full(r.shape, fill, dtype=np.float32) for fill in _FILLS[:len(seeds)]]
            else:
                init = [upsample(a, r.shape) for a in res]
            for a, mine in zip(init, seeds):
                select_where(a, mine, own)
            res = _flood(init, req, 1 << level) if level >= finest else init
        out.append(res if key is not None else (res[0], res[1], None))
    return out


_FILLS = (_NO_SEED, _NO_SEED, _LOWEST)


def _coarser(r, c, k, lo, hi, size):
    """The next pyramid level: per 2x2 block the seed nearest the new cell's centre (with keys:
    the one with the largest key) and the least and most demanding targets' requirements."""
    if r.shape[0] % 2 or r.shape[1] % 2:
        pads = ((0, r.shape[0] % 2), (0, r.shape[1] % 2))
        r = np.pad(r, pads, constant_values=_NO_SEED)
        c = np.pad(c, pads, constant_values=_NO_SEED)
        if k is not None:
            k = np.pad(k, pads, constant_values=_LOWEST)
    br, bc = r[0::2, 0::2].copy(), c[0::2, 0::2].copy()
    if k is not None:
        bk = k[0::2, 0::2].copy()
        for dy, dx in ((0, 1), (1, 0), (1, 1)):
            take = k[dy::2, dx::2] > bk
            select_where(br, r[dy::2, dx::2], take)
            select_where(bc, c[dy::2, dx::2], take)
            select_where(bk, k[dy::2, dx::2], take)
        return (br, bc, bk, _pool(lo, np.minimum, _HIGHEST), _pool(hi, np.maximum, _LOWEST))
    cy, cx = _centres(br.shape, size)
    best = np.square(br - cy) + np.square(bc - cx)
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        d = np.square(r[dy::2, dx::2] - cy) + np.square(c[dy::2, dx::2] - cx)
        take = d < best
        select_where(br, r[dy::2, dx::2], take)
        select_where(bc, c[dy::2, dx::2], take)
        select_where(best, d, take)
    return br, bc, None, None, None


def _pool(a: np.ndarray, op, fill) -> np.ndarray:
    """``op`` (np.minimum or np.maximum) over 2x2 blocks (an odd last row or column pads)."""
    if a.shape[0] % 2 or a.shape[1] % 2:
        a = np.pad(a, ((0, a.shape[0] % 2), (0, a.shape[1] % 2)), constant_values=fill)
    out = op(a[0::2, 0::2], a[0::2, 1::2])
    op(out, a[1::2, 0::2], out=out)
    op(out, a[1::2, 1::2], out=out)
    return out


def upsample(a: np.ndarray, shape: tuple[int, int], out: np.ndarray | None = None
              ) -> np.ndarray:
    """Each cell's value on its 2x2 children, cropped to ``shape`` (into ``out`` of that shape
    if given)."""
    hk, wk = a.shape
    h, w = shape
    if out is None:
        out = np.empty(shape, dtype=a.dtype)
    for dy in (0, 1):
        for dx in (0, 1):  # four strided copies: 6x faster than one broadcast
            rows, cols = (h - dy + 1) // 2, (w - dx + 1) // 2
            out[dy::2, dx::2] = a[:rows, :cols]
    return out


def _centres(shape: tuple[int, int], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of the centres of cells ``size`` pixels wide: (rows (n, 1), cols)."""
    half = (size - 1) / 2.0
    return ((np.arange(shape[0], dtype=np.float32) * size + half)[:, None],
            (np.arange(shape[1], dtype=np.float32) * size + half)[None, :])


_CROSS = ((-1, 0), (1, 0), (0, -1), (0, 1))
#: The 8 neighbours of a pixel, as (row, column) steps.
RING8 = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)


def next_to(mask: np.ndarray) -> np.ndarray:
    """Pixels with a True pixel among their 8 neighbours (the pixel itself not counted)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), dtype=bool)
    padded[1:-1, 1:-1] = mask
    near = np.zeros((h, w), dtype=bool)
    for dy, dx in RING8:
        near |= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return near


def _flood(seeds, req, size):
    """One jump-flooding step: every cell takes the nearest (qualifying) seed among its own and
    its neighbours' (four; eight on cells of 16 pixels and more, where that costs little and
    reaches a qualifying seed diagonally). ``seeds`` are contiguous and are updated."""
    r, c = seeds[0], seeds[1]
    hk, wk = r.shape
    cy, cx = _centres(r.shape, size)
    padded = [np.pad(a, 1, constant_values=fill) for a, fill in zip(seeds, _FILLS)]
    dist = np.square(r - cy)
    dist += np.square(c - cx)
    d = np.empty_like(dist)
    t = np.empty_like(dist)
    take = np.empty(dist.shape, dtype=bool)
    bits = np.empty(dist.shape, dtype=np.int32)
    scratch = np.empty(dist.shape, dtype=np.int32)
    for dy, dx in (RING8 if size >= 16 else _CROSS):
        view = [p[1 + dy:1 + dy + hk, 1 + dx:1 + dx + wk] for p in padded]
        np.subtract(view[0], cy, out=d)
        np.square(d, out=d)
        np.subtract(view[1], cx, out=t)
        np.square(t, out=t)
        d += t
        np.less(d, dist, out=take)
        if req is not None:
            take &= view[2] > req
        _bits(take, out=bits)
        for b, v in zip(seeds, view):
            select_where(b, v, bits, scratch)
        select_where(dist, d, bits, scratch)
    return seeds


def _adjacent_sources(out, sources, targets, key, need):
    """Targets with a qualifying source among their 8 neighbours take the nearest of those."""
    h, w = sources.shape
    pw = w + 2
    near = next_to(sources)
    near &= targets
    if need is None:
        near &= ~sources
    at = np.flatnonzero(near)
    if not at.size:
        return
    ks = np.full((h + 2, pw), _LOWEST, dtype=np.float32)
    if key is None:
        ks[1:-1, 1:-1][sources] = 0.0
        req = np.float32(-1.0)
    else:
        select_where(ks[1:-1, 1:-1], key, sources)
        req = need.ravel()[at]
    ks = ks.ravel()
    at = at.astype(out.dtype)
    padded = at + 2 * (at // w) + pw + 1
    best = np.full(at.size, -1, dtype=out.dtype)
    for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)) + _CROSS:  # nearest last
        ok = ks[padded + (dy * pw + dx)] > req
        select_where(best, at + (dy * w + dx), ok)
    flat = out.ravel()
    flat[at] = np.where(best >= 0, best, flat[at])
