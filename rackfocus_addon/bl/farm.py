"""Farm-safety check: will this .blend render the same on a machine without this add-on?

A farm renders with no add-ons, often without auto-run Python scripts, from another folder. So
everything that matters must be keyframes or native constraints, and every external file must be
reachable through a relative path.
"""

from __future__ import annotations

import os

import bpy

from . import compat

_PATH_COLLECTIONS = ("images", "libraries", "sounds", "movieclips", "volumes", "cache_files",
                     "fonts")


def problems(scene: bpy.types.Scene | None = None) -> list[str]:
    """Human-readable reasons the open file is not farm-safe (empty list: it is)."""
    out: list[str] = []
    for attr in _PATH_COLLECTIONS:
        for block in getattr(bpy.data, attr, ()):
            path = getattr(block, "filepath", "")
            if not path or getattr(block, "packed_file", None) is not None:
                continue
            if attr == "fonts" and path == "<builtin>":
                continue
            if attr == "images" and block.source not in {"FILE", "SEQUENCE", "MOVIE", "TILED"}:
                continue
            if not path.startswith("//"):
                out.append(f"{attr[:-1]} '{block.name}' uses an absolute path: {path}")
            full = bpy.path.abspath(path, library=getattr(block, "library", None))
            if "#" not in full and "<UDIM>" not in full and not os.path.exists(full):
                out.append(f"{attr[:-1]} '{block.name}' points to a missing file: {path}")
    for id_data in _animated_ids():
        ad = id_data.animation_data
        for fc in ad.drivers:
            drv = fc.driver
            if drv.type == "SCRIPTED" and not drv.is_simple_expression:
                out.append(f"driver on {id_data.name}.{fc.data_path} runs Python "
                           f"('{drv.expression}'): farms often disable auto-run scripts")
    for text in bpy.data.texts:
        if text.use_module:
            out.append(f"text '{text.name}' registers as a Python module on load")
    scenes = [scene] if scene is not None else list(bpy.data.scenes)
    for sc in scenes:
        cam = sc.camera
        if cam is None:
            out.append(f"scene '{sc.name}' has no camera")
            continue
        target = cam.data.dof.focus_object if cam.type == "CAMERA" else None
        if target is not None and target.name not in sc.objects:
            out.append(f"camera '{cam.name}' focuses on '{target.name}', which is not in "
                       f"scene '{sc.name}'")
        if cam.type == "CAMERA" and compat.find_fcurve(cam.data, "dof.focus_distance") is None \
                and target is None and "rackfocus_pull" in cam.data:
            out.append(f"camera '{cam.name}' has a Rack Focus record but no focus keys")
    return out


def _animated_ids():
    for attr in ("objects", "cameras", "materials", "node_groups", "scenes", "worlds", "lights",
                 "meshes", "shape_keys"):
        for id_data in getattr(bpy.data, attr, ()):
            if id_data.animation_data is not None:
                yield id_data
