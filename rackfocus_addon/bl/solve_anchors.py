"""Read a camera solve from a .blend: the anchors its bundles give (see ``estimate.solve``).

``read_solve('shot.blend:Clip', footage)`` links the file's movie clip and scenes for the
reading and takes the link back (nothing of the current file changes, a library the user links
stays as it was), or reads the current file when it is that file. The metres are the solve's
units times the scale of the camera that follows the clip through a Camera Solver constraint
(Set Scale scales that camera), or the solve's own units when no camera follows it (Apply
Solution Scale scales the solve itself).
"""

from __future__ import annotations

import os
import re

import bpy
import numpy as np

from ..errors import RackFocusError
from ..estimate import solve
from ..suggest import did_you_mean


def read_solve(spec: str, footage=None) -> solve.SolveAnchors:
    """The anchors of the camera solve ``spec`` (``FILE.blend[:CLIP]``).

    ``footage`` (a ``bl.footage.Clip``, optional) is the footage the depth belongs to: pixels
    are its pixels, frames its depth frames (anchors beyond it are left out). Raises
    :class:`RackFocusError` with one line for a missing file or clip, or a clip with no solve.
    """
    path, clip_name = solve.parse_solve_spec(spec)
    full = os.path.abspath(bpy.path.abspath(path))
    if not os.path.isfile(full):
        raise RackFocusError(f"No such file: {path} (the .blend with the camera solve)")
    current = bpy.data.filepath and os.path.samefile(bpy.data.filepath, full)
    if current:
        clip = _pick_clip(path, clip_name, [c.name for c in bpy.data.movieclips])
        return _read_clip(bpy.data.movieclips[clip], list(bpy.data.scenes), footage)
    # Linked into the current file for the reading only. (bpy.data.temp_data() would keep it
    # apart, but bpy 5.0.1 aborts on its second use: std::bad_optional_access.)
    existing = _library(full)
    before = _linked_from(existing)
    try:
        with bpy.data.libraries.load(full, link=True) as (src, dst):
            clip = _pick_clip(path, clip_name, list(src.movieclips))
            dst.movieclips = [clip]
            dst.scenes = list(src.scenes)
    except OSError:
        raise RackFocusError(f"Cannot read {path}: not a .blend, or saved by a newer Blender "
                             f"than this one ({bpy.app.version_string})") from None
    try:
        movieclip = next(c for c in dst.movieclips if c is not None)
        return _read_clip(movieclip, [s for s in dst.scenes if s is not None], footage)
    finally:
        if existing is None:
            bpy.data.libraries.remove(_library(full))
        else:  # the user links this file already: take back only what the reading linked
            bpy.data.batch_remove([i for i in bpy.data.user_map() if i.library == existing
                                   and i.as_pointer() not in before])


def _linked_from(library) -> set[int]:
    """The data-blocks (pointers) the current file links from ``library`` (none for None)."""
    if library is None:
        return set()
    return {i.as_pointer() for i in bpy.data.user_map() if i.library == library}


def _library(full: str):
    """The current file's library of the .blend at absolute path ``full``, or None."""
    return next((lib for lib in bpy.data.libraries
                 if os.path.abspath(bpy.path.abspath(lib.filepath)) == full), None)


def _pick_clip(path: str, name: str | None, names: list[str]) -> str:
    if name is not None:
        if name not in names:
            listed = ", ".join(f"'{n}'" for n in names) or "none"
            raise RackFocusError(f"No movie clip '{name}' in {path}{did_you_mean(name, names)} "
                                 f"(clips: {listed})")
        return name
    if not names:
        raise RackFocusError(f"{path} holds no movie clip: track and solve the footage in the "
                             "Movie Clip Editor and save the file")
    if len(names) > 1:
        raise RackFocusError(f"{path} holds {len(names)} movie clips ("
                             + ", ".join(f"'{n}'" for n in names)
                             + f"): name one, e.g. {path}:{names[0]}")
    return names[0]


def _read_clip(clip, scenes, footage) -> solve.SolveAnchors:
    tracking = clip.tracking
    reconstruction = tracking.reconstruction
    if not reconstruction.is_valid:
        raise RackFocusError(
            f"Movie clip '{clip.name}' has no camera solve: in the Movie Clip Editor, track it, "
            "press Solve Camera (Solve tab), set the scale and save the file")
    cameras = {int(cam.frame): np.array(cam.matrix, dtype=np.float64)
               for cam in reconstruction.cameras}
    observations = []
    for track in tracking.tracks:
        if not track.has_bundle:
            continue
        bundle = tuple(float(c) for c in track.bundle)
        offset = track.offset
        observations += [solve.Observation(int(m.frame), float(m.co[0] + offset[0]),
                                           float(m.co[1] + offset[1]), track.name, bundle)
                         for m in track.markers if not m.mute]
    width, height = int(clip.size[0]), int(clip.size[1])
    shift, count = 0, None
    if footage is not None:
        solve.check_solve_size((width, height), (footage.width, footage.height))
        width, height, count = footage.width, footage.height, footage.frames
        shift = _file_shift(clip, footage)
    scale, source = _solve_scale(clip, scenes)
    result = solve.SolveAnchors(clip.name, scale_source=source)
    return solve.anchors_from_solve(cameras, observations, width, height, scale,
                                    clip.frame_offset, shift, count, result)


def _file_shift(clip, footage) -> int:
    """How many files the footage's first file comes before the file the clip names (image
    sequences; 0 for a movie)."""
    if footage.kind != "sequence" or clip.source != "SEQUENCE":
        return 0
    stem = os.path.splitext(os.path.basename(clip.filepath))[0]
    match = re.search(r"(\d+)\D*$", stem)
    return int(match.group(1)) - footage.first_number if match else 0


def _solve_scale(clip, scenes) -> tuple[float, str]:
    """(metres per solve unit, where it comes from): the scale of the camera that follows the
    clip through an enabled Camera Solver constraint (the scene's camera first), else 1."""
    found: dict[str, float] = {}
    for scene in scenes:
        ordered = ([scene.camera] if scene.camera else []) + list(scene.objects)
        for obj in ordered:
            if obj.name in found or not _follows(obj, clip, scene):
                continue
            found[obj.name] = solve.uniform_scale(_unconstrained_world(obj))
    if not found:
        return 1.0, "the solve's own units: no camera follows the clip"
    scales = sorted(set(round(s, 9) for s in found.values()))
    if len(scales) > 1:
        named = ", ".join(f"'{n}' x{s:.6g}" for n, s in found.items())
        raise RackFocusError(f"Cameras following clip '{clip.name}' scale its solve differently "
                             f"({named}): keep one camera per solve, or give them one scale")
    name = next(iter(found))
    return found[name], f"camera '{name}'"


def _follows(obj, clip, scene) -> bool:
    if obj.type != "CAMERA":
        return False
    for con in obj.constraints:
        if con.type != "CAMERA_SOLVER" or not con.enabled:
            continue
        followed = scene.active_clip if con.use_active_clip else con.clip
        if followed is not None and followed == clip:
            return True
    return False


def _unconstrained_world(obj) -> np.ndarray:
    """The object's world matrix before its constraints (what the Camera Solver constraint
    multiplies the solved camera by): its own transform under its parents'."""
    matrix = np.array(obj.matrix_basis, dtype=np.float64)
    while obj.parent is not None:
        matrix = (np.array(obj.parent.matrix_basis, dtype=np.float64)
                  @ np.array(obj.matrix_parent_inverse, dtype=np.float64) @ matrix)
        obj = obj.parent
    return matrix
