"""The cache's OpenEXR writer, read back without Blender (the bpy stages read it with Blender:
tests/bl/test_plate.py)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from rackfocus_addon import exr


def unzip_chunk(data: bytes, size: int) -> np.ndarray:
    """The inverse of :func:`exr.zip_chunk` (``size``: the chunk's uncompressed bytes), as
    OpenEXR decodes it."""
    if len(data) >= size:
        return np.frombuffer(data, dtype=np.uint8).copy()
    coded = np.frombuffer(zlib.decompress(data), dtype=np.uint8)
    split = np.cumsum(coded.astype(np.int64) - 128, dtype=np.int64)
    split += 128  # the first byte was stored as it is
    split = (split % 256).astype(np.uint8)
    raw = np.empty(size, dtype=np.uint8)
    half = (size + 1) // 2
    raw[0::2] = split[:half]
    raw[1::2] = split[half:]
    return raw


def read_back(path: str) -> tuple[dict, np.ndarray]:
    """(attributes, planes (4, H, W) float32 R, G, B, A) of a file :func:`exr.write` wrote."""
    data = open(path, "rb").read()
    assert data[:4] == b"\x76\x2f\x31\x01"
    at, attrs = 8, {}
    while data[at] != 0:
        name_end = data.index(b"\0", at)
        kind_end = data.index(b"\0", name_end + 1)
        size = struct.unpack_from("<i", data, kind_end + 1)[0]
        attrs[data[at:name_end].decode()] = data[kind_end + 5:kind_end + 5 + size]
        at = kind_end + 5 + size
    at += 1
    x0, y0, x1, y1 = struct.unpack("<4i", attrs["dataWindow"])
    w, h = x1 - x0 + 1, y1 - y0 + 1
    chlist, types, pos = attrs["channels"], [], 0
    while chlist[pos] != 0:
        end = chlist.index(b"\0", pos)
        types.append({1: "<f2", 2: "<f4"}[struct.unpack_from("<i", chlist, end + 1)[0]])
        pos = end + 17
    compression = attrs["compression"][0]
    rows = 16 if compression == 3 else 1
    chunks = -(-h // rows)
    offsets = np.frombuffer(data, "<u8", chunks, at)
    planes = np.zeros((4, h, w), dtype=np.float32)  # A, B, G, R in the file
    for offset in offsets:
        y, size = struct.unpack_from("<ii", data, int(offset))
        n = min(rows, h - y)
        line = sum(w * np.dtype(t).itemsize for t in types)
        body = data[int(offset) + 8:int(offset) + 8 + size]
        raw = unzip_chunk(body, n * line) if compression == 3 else np.frombuffer(body, np.uint8)
        raw = raw.reshape(n, line)
        col = 0
        for channel, t in enumerate(types):
            width = w * np.dtype(t).itemsize
            planes[3 - channel, y:y + n] = raw[:, col:col + width].copy().view(t)
            col += width
    return attrs, planes


@pytest.mark.parametrize("compress, threads", [(True, False), (False, False), (True, True)])
def test_written_values_read_back_exactly(tmp_path, monkeypatch, compress, threads):
    if threads:  # chunks compressed on two threads, as frames from 512x512 are
        monkeypatch.setattr(exr, "PARALLEL_PIXELS", 0)
        monkeypatch.setattr(exr.os, "cpu_count", lambda: 2)
    rng = np.random.default_rng(1)
    h, w = 37, 23  # not a multiple of the 16-row chunks
    planes = list(rng.uniform(-5.0, 50.0, (4, h, w)).astype(np.float32))
    planes[0][3, 4], planes[1][5, 6] = np.nan, -np.inf
    planes[1][:20] = 0.0  # zero runs, as in a fill layer
    planes[2] = planes[2] > 20.0
    planes[3] = np.broadcast_to(np.float32(1.0), (h, w))
    types = ("f", "f", "h", "h")
    path = str(tmp_path / "t.exr")
    exr.write(path, planes, types, compress=compress)
    attrs, back = read_back(path)
    assert attrs["compression"][0] == (3 if compress else 0)
    want = np.stack([np.asarray(p, np.float16 if t == "h" else np.float32).astype(np.float32)
                     for p, t in zip(planes, types)])
    np.testing.assert_array_equal(back, want)


def test_zip_chunk_is_openexr_predictor_and_shrinks_smooth_data():
    """The even/odd split and the +128 delta coding, against a plain loop as OpenEXR writes it."""
    raw = (np.arange(1000) // 7 % 256).astype(np.uint8)
    split = np.concatenate([raw[0::2], raw[1::2]])
    coded = bytearray(split[:1].tobytes())
    for i in range(1, split.size):
        coded.append((int(split[i]) - int(split[i - 1]) + 128) % 256)
    assert zlib.decompress(exr.zip_chunk(raw)) == bytes(coded)
    assert len(exr.zip_chunk(raw)) < raw.size // 5
    np.testing.assert_array_equal(unzip_chunk(exr.zip_chunk(raw), raw.size), raw)
    noise = np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8)
    assert exr.zip_chunk(noise) == noise.tobytes()  # would not shrink: stored as it is
