"""Farm-safety check: will this .blend render the same on a machine without this add-on?

A farm renders with no add-ons, often without auto-run Python scripts, from another folder. So
everything that matters must be keyframes or native constraints, and every external file must be
reachable through a relative path.
"""

from __future__ import annotations

import glob
import os
import re

import bpy

from ..shots import source_files
from . import compat, records
from .plate import RECORD as PLATE_RECORD

_PATH_COLLECTIONS = ("images", "libraries", "sounds", "movieclips", "volumes", "cache_files",
                     "fonts")


def problems(scene: bpy.types.Scene | None = None) -> list[str]:
    """Human-readable reasons the open file is not farm-safe (empty list: it is)."""
    out: list[str] = []
    for attr, block, path in _external_files():
        if not path.startswith("//"):
            out.append(f"{attr[:-1]} '{block.name}' uses an absolute path: {path}")
    out += missing_files()
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


def _external_files():
    """(collection name, datablock, its file path) for every datablock that reads a file."""
    for attr in _PATH_COLLECTIONS:
        for block in getattr(bpy.data, attr, ()):
            path = getattr(block, "filepath", "")
            if not path or getattr(block, "packed_file", None) is not None:
                continue
            if attr == "fonts" and path == "<builtin>":
                continue
            if attr == "images" and block.source not in {"FILE", "SEQUENCE", "MOVIE", "TILED"}:
                continue
            yield attr, block, path


def _in_use(block) -> bool:
    """Whether anything but its fake user keeps ``block`` (orphans render nothing)."""
    return block.users - int(bool(getattr(block, "use_fake_user", False))) > 0


def used_files() -> list[str]:
    """Absolute paths of the files the open .blend reads (what something uses; every frame of
    an image sequence)."""
    out = []
    for attr, block, path in _external_files():
        if attr != "libraries" and not _in_use(block):
            continue
        full = os.path.abspath(bpy.path.abspath(path, library=getattr(block, "library", None)))
        sequence = attr == "images" and block.source == "SEQUENCE"
        out += source_files(full) if sequence else [full]
    return out


def missing_files() -> list[str]:
    """Files the open .blend needs to render that are not there, one line each.

    Images (stills, sequences, movies, UDIM tiles), movie clips, sounds, libraries, volumes,
    caches and fonts that something uses; every frame of an image sequence that an image
    texture plays, and every frame of a depth plate's cache; the files of sequencer strips.
    """
    out: list[str] = []
    for attr, block, path in _external_files():
        if attr != "libraries" and not _in_use(block):
            continue
        full = bpy.path.abspath(path, library=getattr(block, "library", None))
        if not _exists(full):
            out.append(f"{attr[:-1]} '{block.name}' points to a missing file: {path}")
            continue
        if attr == "images" and block.source == "SEQUENCE":
            for first, count in _sequence_uses(block):
                gap = _first_missing_frame(full, first, count)
                if gap is not None:
                    out.append(f"image '{block.name}' is missing frame file {gap} of its "
                               f"sequence ({first}-{first + count - 1})")
                    break
    for scene in bpy.data.scenes:
        editor = scene.sequence_editor
        if editor is None:
            continue
        for strip in getattr(editor, "strips_all", None) or getattr(editor, "sequences_all", ()):
            for path in _strip_files(strip):
                full = bpy.path.abspath(path)
                if not os.path.exists(full):
                    out.append(f"sequencer strip '{strip.name}' in scene '{scene.name}' points "
                               f"to a missing file: {path}")
                    break
    return out


def _exists(full: str) -> bool:
    """Whether a file path (with Blender's ``#`` frame or ``<UDIM>`` tile patterns) exists."""
    if "#" in full or "<UDIM>" in full or "<UVTILE>" in full:
        pattern = re.sub(r"#+|<UDIM>|<UVTILE>", "*", glob.escape(full))
        return bool(glob.glob(pattern))
    return os.path.exists(full)


_NUMBER = re.compile(r"(\d+)(\D*)$")


def _sequence_uses(image) -> list[tuple[int, int]]:
    """(first file number, frame count) of each way ``image``'s sequence is played: by image
    texture nodes (their image user's offset and duration) and by depth plates (the cache
    numbered from 1, one file per plate frame)."""
    uses: set[tuple[int, int]] = set()
    trees = [m.node_tree for m in bpy.data.materials if m.node_tree is not None]
    trees += [w.node_tree for w in bpy.data.worlds if w.node_tree is not None]
    trees += list(bpy.data.node_groups)
    for tree in trees:
        for node in tree.nodes:
            if getattr(node, "image", None) == image and hasattr(node, "image_user"):
                user = node.image_user
                if user.frame_duration > 0:
                    uses.add((user.frame_offset + 1, int(user.frame_duration)))
    for obj in bpy.data.objects:
        record = records.read(obj, PLATE_RECORD)
        if not record or not record.get("frames"):
            continue
        for mod in obj.modifiers:
            if mod.type != "NODES":
                continue
            values = compat.modifier_input_values(mod)
            if any(v == image for v in values):
                uses.add((1, int(record["frames"])))
    return sorted(uses)


def _first_missing_frame(first_file: str, first: int, count: int) -> str | None:
    """The first file of frames ``first``..``first + count - 1`` of the sequence whose file
    ``first_file`` names (its last digits are the frame number) that does not exist."""
    folder, name = os.path.split(first_file)
    match = _NUMBER.search(name)
    if match is None:
        return None
    digits, rest = match.group(1), match.group(2)
    stem = name[:match.start()]
    for number in range(first, first + count):
        path = os.path.join(folder, f"{stem}{number:0{len(digits)}d}{rest}")
        if not os.path.exists(path):
            return path
    return None


def _strip_files(strip) -> list[str]:
    kind = getattr(strip, "type", "")
    if kind == "MOVIE":
        return [strip.filepath]
    if kind == "IMAGE":
        return [os.path.join(strip.directory, e.filename) for e in strip.elements]
    return []


def _animated_ids():
    for attr in ("objects", "cameras", "materials", "node_groups", "scenes", "worlds", "lights",
                 "meshes", "shape_keys"):
        for id_data in getattr(bpy.data, attr, ()):
            if id_data.animation_data is not None:
                yield id_data
