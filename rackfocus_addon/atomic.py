"""Files that appear whole or not at all (pure).

Every file the extension writes for a later run to trust (frames, media, sidecars, manifests,
cached estimates, downloaded models) goes through :func:`write_atomic`: it is written under a
hidden temporary name beside its final one and renamed into place only once complete, so a
file with its final name is never half-written, and a failed write leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable

#: Marks a temporary file: ``.NAME.partial-TAG.EXT`` (hidden; the extension kept, because
#: writers such as Blender's image and movie output choose the format by it).
PARTIAL = ".partial"


def process_tag() -> str:
    """This process's mark on its temporary files (processes writing at once stay apart)."""
    return str(os.getpid())


def temp_path(path: str, tag: str | None = None) -> str:
    """The hidden temporary name :func:`write_atomic` writes ``path`` under."""
    folder, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(folder, f".{stem}{PARTIAL}-{tag or process_tag()}{ext}")


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def write_atomic(path: str, write: Callable[[str], object], temp: str | None = None) -> str:
    """Write ``path`` through ``write(temporary path)``, then rename it into place.

    ``temp`` defaults to :func:`temp_path`. Whatever ``write`` raises (a full disk, a checksum
    that does not match, Ctrl-C) removes the temporary file and propagates. Returns ``path``.
    """
    temp = temp or temp_path(path)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        remove_quietly(temp)
        raise
    return path


def write_text(path: str, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    def write(temp: str) -> None:
        with open(temp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return write_atomic(path, write)


def write_json(path: str, data: dict, sort_keys: bool = True, newline: bool = False) -> str:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    text = json.dumps(data, indent=1, sort_keys=sort_keys) + ("\n" if newline else "")
    return write_text(path, text)


def read_json(path: str) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
