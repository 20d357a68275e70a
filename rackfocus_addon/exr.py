"""A fast writer for the plate cache's OpenEXR files (numpy only, no bpy).

Scanline OpenEXR, four channels R, G, B, A, each 32-bit float ("f") or 16-bit half ("h"),
ZIP-compressed in blocks of 16 scanlines (or uncompressed). Blender and every OpenEXR reader
read them. It exists because ``Image.save`` is 5-10x slower and holds Python's lock, while this
runs numpy and zlib, which release it: the cache writes one frame on a thread of its own while
the next is read and inpainted.

Why ZIP: the plate's fill layer is blurred colour that is zero away from depth edges; zlib at
level 1 shrinks it about 10x (a real-like 1080p frame's 19 MB to 2 MB) in 0.1 s. ZIP is
Blender's own default for EXRs, so reading it back is what Blender always does.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Scanlines per compressed chunk (OpenEXR's ZIP_COMPRESSION uses 16).
ZIP_ROWS = 16
#: Scanlines converted at once (bounds the writer's extra memory: 128 rows of a 4K frame with
#: four float channels are 8 MB).
BLOCK_ROWS = 128
#: zlib level: 1 is 3-5x faster than the default 6 and within 10-20 % of its size here.
ZIP_LEVEL = 1
#: Threads that compress at once, and the frame size (pixels) from which they pay.
ZIP_THREADS = 2
PARALLEL_PIXELS = 1 << 18

_NONE, _ZIP = 0, 3  # OpenEXR compression ids
_PIXEL = {"h": 1, "f": 2}  # OpenEXR pixel types HALF, FLOAT


def write(path: str, planes: Sequence[np.ndarray], types: Sequence[str] = ("f", "f", "f", "f"),
          compress: bool = True) -> None:
    """Write four channel planes (H, W) R, G, B, A (top row first; any real or bool type; an
    array (4, H, W) too) to ``path``: channel ``types`` "f" (32-bit float, values kept bit for
    bit) or "h" (16-bit half, rounded as float16 does), ZIP-compressed when ``compress``."""
    h, w = planes[0].shape
    sizes = [4 if t == "f" else 2 for t in types]
    line = w * sum(sizes)
    rows_per_chunk = ZIP_ROWS if compress else 1
    chunks = -(-h // rows_per_chunk)
    header = _header(w, h, types, _ZIP if compress else _NONE)
    offsets = np.zeros(chunks, dtype="<u8")
    with open(path, "wb") as f, _zip_pool(compress and h * w >= PARALLEL_PIXELS) as pool:
        f.write(header)
        table_at = f.tell()
        f.write(offsets.tobytes())  # placeholder: filled in once the chunks are written
        chunk = 0
        for top in range(0, h, BLOCK_ROWS):
            rows = min(BLOCK_ROWS, h - top)
            block = np.empty((rows, line), dtype=np.uint8)
            at = 0
            for plane in (3, 2, 1, 0):  # channels sorted by name: A, B, G, R
                size = sizes[plane]
                kind = "<f4" if size == 4 else "<f2"
                block[:, at:at + size * w].view(kind)[...] = planes[plane][top:top + rows]
                at += size * w
            starts = range(0, rows, rows_per_chunk)
            raws = [block[start:start + rows_per_chunk].reshape(-1) for start in starts]
            if not compress:
                packed = [raw.tobytes() for raw in raws]
            elif pool is not None:
                packed = pool.map(zip_chunk, raws)
            else:
                packed = [zip_chunk(raw) for raw in raws]
            for start, data in zip(starts, packed):
                offsets[chunk] = f.tell()
                f.write(struct.pack("<ii", top + start, len(data)))
                f.write(data)
                chunk += 1
        f.seek(table_at)
        f.write(offsets.tobytes())


@contextlib.contextmanager
def _zip_pool(parallel: bool):
    """Threads that compress a block's chunks side by side (zlib and numpy release Python's
    lock): on 2 cores a 4K frame's two files take about half the time. None: one thread."""
    workers = min(ZIP_THREADS, os.cpu_count() or 1)
    if not parallel or workers < 2:
        yield None
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="rackfocus-exr") as pool:
        yield pool


def zip_chunk(raw: np.ndarray, level: int = ZIP_LEVEL) -> bytes:
    """One chunk's bytes as OpenEXR's ZIP compression stores them: bytes split into even and
    odd positions, delta-coded (each byte minus the one before, plus 128, modulo 256), then
    zlib. A chunk that would not shrink is stored as it is (readers tell by its size)."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    n = raw.size
    split = np.empty(n, dtype=np.uint8)
    half = (n + 1) // 2
    split[:half] = raw[0::2]
    split[half:] = raw[1::2]
    coded = np.empty(n, dtype=np.uint8)
    coded[:1] = split[:1]
    np.subtract(split[1:], split[:-1], out=coded[1:])  # uint8: modulo 256
    coded[1:] += np.uint8(128)
    packed = zlib.compress(coded, level)  # releases Python's lock while it deflates
    return packed if len(packed) < n else raw.tobytes()


def _header(width: int, height: int, types: Sequence[str], compression: int) -> bytes:
    def attr(name: str, kind: str, value: bytes) -> bytes:
        return (name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value))
                + value)

    chlist = b"".join(c + b"\0" + struct.pack("<iB3xii", _PIXEL[t], 0, 1, 1)  # linear 0, 1x1
                      for c, t in zip((b"A", b"B", b"G", b"R"), types[::-1])) + b"\0"
    window = struct.pack("<4i", 0, 0, width - 1, height - 1)
    return b"".join([
        b"\x76\x2f\x31\x01", struct.pack("<i", 2),  # magic, version 2: single-part scanline
        attr("channels", "chlist", chlist),
        attr("colorInteropID", "string", b"data"),  # as Blender writes non-colour data
        attr("compression", "compression", bytes([compression])),
        attr("dataWindow", "box2i", window),
        attr("displayWindow", "box2i", window),
        attr("lineOrder", "lineOrder", b"\0"),  # INCREASING_Y
        attr("pixelAspectRatio", "float", struct.pack("<f", 1.0)),
        attr("screenWindowCenter", "v2f", struct.pack("<2f", 0.0, 0.0)),
        attr("screenWindowWidth", "float", struct.pack("<f", 1.0)),
        b"\0",
    ])
