"""Saving .blend files the farm-safe way."""

from __future__ import annotations

import os

import bpy

from ..errors import RackFocusError


def save_blend(path: str) -> str:
    """Save the open file to ``path`` with relative paths; returns the absolute path.

    Paths can only be made relative once the file has a folder: save, remap, save again, without
    leaving a .blend1 backup of the first save beside the output.
    """
    full = os.path.abspath(path)
    if not full.endswith(".blend"):
        raise RackFocusError(f"Output must be a .blend file: {path}")
    os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
    prefs = bpy.context.preferences.filepaths
    versions = prefs.save_version
    prefs.save_version = 0
    try:
        bpy.ops.wm.save_as_mainfile(filepath=full, relative_remap=True, compress=False)
        bpy.ops.file.make_paths_relative()
        bpy.ops.wm.save_mainfile(filepath=full)
    finally:
        prefs.save_version = versions
    return full
