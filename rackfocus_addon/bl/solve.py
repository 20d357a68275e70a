"""A camera solve read from a .blend: a movie clip's tracks with bundles and its solved cameras.

The solve itself runs in Blender's Movie Clip Editor (``clip.solve_camera`` needs the editor, and
bundles and reconstructed cameras are read-only to Python); this module only reads a saved one.
The clip is appended from the file, read and removed again: nothing of the open file changes.
"""

from __future__ import annotations

import os

import bpy
import numpy as np

from ..errors import RackFocusError
from ..estimate import solve


def _clip_name(path: str, wanted: str | None) -> str:
    try:
        with bpy.data.libraries.load(path, link=False) as (src, _dst):
            names = list(src.movieclips)
    except OSError as err:
        raise RackFocusError(f"--solve: cannot read {path} ({str(err).strip()}): not a .blend, "
                             f"or saved by a newer Blender than this one "
                             f"({bpy.app.version_string})") from None
    if wanted is not None:
        if wanted not in names:
            raise RackFocusError(f"--solve: {path} has no movie clip '{wanted}' (it has: "
                                 f"{', '.join(names) or 'none'})")
        return wanted
    if len(names) != 1:
        what = "no movie clip" if not names else f"{len(names)} movie clips ({', '.join(names)})"
        raise RackFocusError(f"--solve: {path} has {what}: name the solved one, "
                             f"{os.path.basename(path)}:CLIP")
    return names[0]


def _read(clip) -> tuple[list[solve.SolvedTrack], dict[int, np.ndarray]]:
    if clip.frame_offset:
        raise RackFocusError(f"--solve: clip '{clip.name}' has a frame offset "
                             f"({clip.frame_offset}); set it to 0 in the Movie Clip Editor")
    camera = next((o for o in clip.tracking.objects if o.is_camera), None)
    if camera is None or not camera.reconstruction.is_valid:
        raise RackFocusError(f"--solve: clip '{clip.name}' has no camera solve: solve it in "
                             "Blender's Movie Clip Editor (Solve Camera Motion) and save")
    cameras = {int(c.frame): np.array(c.matrix, dtype=np.float64)
               for c in camera.reconstruction.cameras}
    tracks = [solve.SolvedTrack(t.name, tuple(t.bundle),
                                tuple((int(m.frame), float(m.co[0]), float(m.co[1]))
                                      for m in t.markers if not m.mute),
                                float(t.average_error))
              for t in camera.tracks if t.has_bundle]
    return tracks, cameras


def _scene_scale(clip, scenes) -> float:
    """The scale the artist gave the solve: Blender's Set Scale scales the scene's camera (or
    its parent), not the solve's data, so scene units = solve units x that camera's scale. 1
    when no scene of the file shows this clip."""
    for scene in scenes:
        if scene.active_clip == clip and scene.camera is not None:
            # The world matrix of an object read from a file is only known after an update:
            # compose it from the parent chain's own matrices.
            m, ob = np.eye(4), scene.camera
            while ob is not None:
                m = (np.array(ob.matrix_parent_inverse) @ np.array(ob.matrix_basis) @ m
                     if ob.parent else np.array(ob.matrix_basis) @ m)
                ob = ob.parent
            return float(np.cbrt(abs(np.linalg.det(m[:3, :3]))))
    return 1.0


def read_solve(spec: str) -> tuple[list[solve.SolvedTrack], dict[int, np.ndarray]]:
    """The solved tracks and cameras (frame -> camera-to-world matrix, in the scene's units as
    the artist scaled the solve) of ``FILE.blend[:CLIP]`` (frames counted from 1 at the
    clip's first frame). What is appended to read them is removed again."""
    path, wanted = solve.split_spec(spec)
    path = os.path.abspath(bpy.path.abspath(path))
    if not os.path.isfile(path):
        raise RackFocusError(f"--solve: no such file {path}")
    name = _clip_name(path, wanted)
    before = set(bpy.data.user_map())
    with bpy.data.libraries.load(path, link=False) as (src, dst):
        dst.movieclips = [name]
        dst.scenes = list(src.scenes)
    added = [x for x in bpy.data.user_map() if x not in before]
    try:
        clip = next(c for c in added if isinstance(c, bpy.types.MovieClip))
        tracks, cameras = _read(clip)
        scale = _scene_scale(clip, [s for s in added if isinstance(s, bpy.types.Scene)])
    finally:
        bpy.data.batch_remove(added)
    tracks = [solve.SolvedTrack(t.name, tuple(scale * v for v in t.bundle), t.markers, t.error)
              for t in tracks]
    for m in cameras.values():
        m[:3, 3] *= scale
    return tracks, cameras


def solve_anchors(spec: str, width_px: int, height_px: int) -> list:
    """Anchors from ``FILE.blend[:CLIP]``'s solve for footage ``width_px`` x ``height_px``."""
    tracks, cameras = read_solve(spec)
    anchors = solve.anchors_from_solve(tracks, cameras, width_px, height_px)
    if not anchors:
        raise RackFocusError(f"--solve: no solved track of {spec} has a marker on a solved "
                             "frame inside the footage")
    return anchors
