"""Is an image file complete? A cheap check of PNG and OpenEXR files (no bpy, no decoding).

A disk that fills while Blender writes leaves a file that is cut short (16 KB of a 640x360 PNG)
and Blender does not always say so. A resume keeps finished frames, so it must know a finished
file from a truncated one without decoding every pixel: this reads the header (the signature,
the size, for EXR the data window and compression) and checks that the file reaches its end (a
PNG's closing IEND chunk; an EXR's last chunk of scanlines, found through its offset table).
"""

from __future__ import annotations

import os
import struct

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_EXR_MAGIC = 20000630
#: Scanlines per chunk for each OpenEXR compression id (NONE, RLE, ZIPS, ZIP, PIZ, PXR24, B44,
#: B44A, DWAA, DWAB).
_EXR_LINES = (1, 1, 1, 16, 32, 16, 32, 32, 32, 256)
_EXR_TILED, _EXR_MULTI = 0x200, 0x1000
#: Header bytes read at most: attributes of a Blender EXR take a few hundred bytes.
_HEADER_MAX = 1 << 16


def image_problem(path: str) -> str | None:
    """None when ``path`` is a complete PNG or OpenEXR file, else why not (one phrase: "cut
    short (16384 bytes; the PNG's end is missing)"). A ``.png`` or ``.exr`` name must hold that
    format; other files are checked when they carry a PNG or EXR signature, else only for
    emptiness."""
    ext = os.path.splitext(path)[1].lower()
    try:
        size = os.path.getsize(path)
        if size == 0:
            return "empty (0 bytes)"
        with open(path, "rb") as f:
            head = f.read(_HEADER_MAX)
            if head.startswith(_PNG_SIGNATURE):
                return _png_problem(f, head, size)
            if len(head) >= 8 and struct.unpack("<i", head[:4])[0] == _EXR_MAGIC:
                return _exr_problem(f, head, size)
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if ext in (".png", ".exr"):
        return f"cut short or not a{'n' if ext == '.exr' else ''} {ext[1:].upper()} file " \
               f"({size} bytes; its signature is missing)"
    return None


def _png_problem(f, head: bytes, size: int) -> str | None:
    if len(head) < 33 or head[12:16] != b"IHDR":
        return f"cut short ({size} bytes; the PNG's header is incomplete)"
    width, height = struct.unpack(">II", head[16:24])
    if not width or not height:
        return f"a PNG of {width}x{height} pixels"
    f.seek(max(size - len(_PNG_END), 0))
    if f.read() != _PNG_END:
        return f"cut short ({size} bytes; the PNG's end is missing)"
    return None


def _exr_attributes(head: bytes) -> tuple[dict[str, bytes], int] | None:
    """The header's attributes {name: value bytes} and where the header ends, or None when the
    header is cut short."""
    attrs: dict[str, bytes] = {}
    pos = 8
    while True:
        end = head.find(b"\x00", pos)
        if end < 0:
            return None
        if end == pos:  # an empty name ends the header
            return attrs, end + 1
        name = head[pos:end].decode("latin-1")
        type_end = head.find(b"\x00", end + 1)
        if type_end < 0 or type_end + 5 > len(head):
            return None
        length = struct.unpack("<i", head[type_end + 1:type_end + 5])[0]
        start = type_end + 5
        if length < 0 or start + length > len(head):
            return None
        attrs[name] = head[start:start + length]
        pos = start + length


def _exr_problem(f, head: bytes, size: int) -> str | None:
    parsed = _exr_attributes(head)
    if parsed is None:
        return f"cut short ({size} bytes; the EXR's header is incomplete)"
    attrs, table = parsed
    version = struct.unpack("<i", head[4:8])[0]
    window, compression = attrs.get("dataWindow"), attrs.get("compression")
    if window is None or len(window) != 16 or not compression:
        return "an EXR without a data window or compression"
    if version & (_EXR_TILED | _EXR_MULTI) or compression[0] >= len(_EXR_LINES):
        return None  # not what Rack Focus writes: the header is all that is checked
    _x0, y0, _x1, y1 = struct.unpack("<iiii", window)
    chunks = -(-(y1 - y0 + 1) // _EXR_LINES[compression[0]])
    if chunks <= 0 or table + 8 * chunks > size:
        return f"cut short ({size} bytes; the EXR's offset table is incomplete)"
    f.seek(table)
    offsets = struct.unpack(f"<{chunks}Q", f.read(8 * chunks))
    last = max(offsets)
    if not offsets or min(offsets) < table + 8 * chunks or last + 8 > size:
        return f"cut short ({size} bytes; the EXR's scanlines are missing)"
    f.seek(last + 4)
    (length,) = struct.unpack("<i", f.read(4))
    if length < 0 or last + 8 + length > size:
        return f"cut short ({size} bytes; the EXR's last scanlines are missing)"
    return None
