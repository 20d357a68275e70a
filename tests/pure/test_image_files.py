"""Issue 19, item 4: a finished frame is a complete file. ``image_problem`` tells a complete PNG
or EXR from one a full disk cut short, at every length, reading only the header and the end."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from rackfocus_addon import exr
from rackfocus_addon.image_files import image_problem


def png_bytes(w=64, h=36) -> bytes:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(h))

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def exr_bytes(tmp_path, zip_rows=True) -> bytes:
    path = tmp_path / "whole.exr"
    planes = [np.full((37, 20), v, np.float32) for v in (0.1, 0.2, 0.3, 1.0)]
    exr.write(str(path), planes, compress=zip_rows)
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["png", "exr", "exr-raw"])
def test_a_complete_file_passes_and_every_cut_is_found(tmp_path, kind):
    whole = png_bytes() if kind == "png" else exr_bytes(tmp_path, kind == "exr")
    path = tmp_path / f"frame.{kind[:3]}"
    path.write_bytes(whole)
    assert image_problem(str(path)) is None
    for cut in sorted({0, 1, 8, 20, 40, len(whole) // 2, len(whole) - 13, len(whole) - 1}):
        path.write_bytes(whole[:cut])
        problem = image_problem(str(path))
        assert problem is not None and ("cut short" in problem or "empty" in problem), (cut,
                                                                                        problem)


def test_other_files_are_only_checked_for_emptiness(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    assert image_problem(str(path)) is None
    path.write_bytes(b"")
    assert image_problem(str(path)) == "empty (0 bytes)"
    assert "unreadable" in image_problem(str(tmp_path / "missing.png"))
