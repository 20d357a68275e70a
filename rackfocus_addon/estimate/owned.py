"""Which files of an output folder Rack Focus wrote, so it replaces or removes only those.

An estimate's folder (``--out DIR``) may already hold files of the same names that someone else
made: another tool's ``depth_0001.exr``, or the footage itself. The record ``rackfocus_files.json``
in the folder lists every name a run claimed before writing it, and the size in bytes it had when
the run finished. A file is the tool's own when its name is listed and its size is the recorded
one (or none was recorded yet: the run that claimed it stopped before the end); anything else is
the user's and stops the run before it writes anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from ..atomic import write_text
from ..errors import RackFocusError

RECORD = "rackfocus_files.json"
_TOOL = "Rack Focus"


def read_record(folder: str) -> dict[str, int | None] | None:
    """{relative name: size in bytes or None} of the record in ``folder``; {} when there is none;
    None when a file of the record's name is not a Rack Focus record (the user's)."""
    path = os.path.join(folder, RECORD)
    if not os.path.lexists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) and data.get("tool") == _TOOL else None
    return dict(files) if isinstance(files, dict) else None


def foreign(folder: str, names: Iterable[str]) -> list[str]:
    """The ``names`` (relative to ``folder``, '/'-separated) that exist and are not the tool's own,
    sorted. The record itself counts as foreign when it is not a Rack Focus record."""
    record = read_record(folder)
    if record is None:
        return [RECORD]
    out = []
    for name in sorted(set(names)):
        path = os.path.join(folder, *name.split("/"))
        if not os.path.lexists(path):
            continue
        if name not in record or (record[name] is not None
                                  and (not os.path.isfile(path)
                                       or os.path.getsize(path) != record[name])):
            out.append(name)
    return out


def refuse_foreign(folder: str, names: Iterable[str], option: str = "--out") -> None:
    """Raise, naming them, when any of ``names`` exists in ``folder`` and is not the tool's own."""
    theirs = foreign(folder, names)
    if theirs:
        shown = ", ".join(theirs[:3]) + (f" and {len(theirs) - 3} more" if len(theirs) > 3 else "")
        raise RackFocusError(
            f"{folder} holds {len(theirs)} file(s) Rack Focus did not write that this run would "
            f"replace or remove ({shown}): nothing was changed; move them, or choose another "
            f"{option} folder")


def claim(folder: str, names: Iterable[str]) -> None:
    """Add ``names`` to the record before they are written (a stop keeps them the tool's own)."""
    record = read_record(folder) or {}
    for name in names:
        record.setdefault(name, None)
    _save(folder, record)


def settle(folder: str, names: Iterable[str]) -> None:
    """Record the size of each of ``names`` that exists (after a finished run): a file the user
    replaces afterwards is theirs."""
    record = read_record(folder) or {}
    for name in names:
        path = os.path.join(folder, *name.split("/"))
        if os.path.isfile(path):
            record[name] = os.path.getsize(path)
    _save(folder, record)


def _save(folder: str, record: dict[str, int | None]) -> None:
    write_text(os.path.join(folder, RECORD),
               json.dumps({"tool": _TOOL, "files": record}, indent=0, sort_keys=True))
