"""Bookkeeping records: JSON in a custom property of an ID, the one way every feature stores
what it created and what was there before (so re-runs and clears lose nothing)."""

from __future__ import annotations

import json

import bpy


def read(id_data: bpy.types.ID, key: str) -> dict | None:
    """The record stored under ``key`` on ``id_data``, or None if absent or unreadable."""
    raw = id_data.get(key)
    if not raw:
        return None
    try:
        record = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write(id_data: bpy.types.ID, key: str, record: dict) -> None:
    """Store ``record`` under ``key`` on ``id_data`` (saved with the .blend)."""
    id_data[key] = json.dumps(record)
