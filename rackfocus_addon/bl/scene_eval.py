"""Where subjects are and how far from the lens, frame by frame, the way Blender measures focus."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bpy
import numpy as np
from mathutils import Vector

from ..optics import MIN_DISTANCE_M
from .evaluate import ScopedEvaluation, evaluated

#: Blender clamps focus distance to this (metres) when measuring to a focus object.
MIN_FOCUS_M = MIN_DISTANCE_M


def camera_axis(camera: bpy.types.Object) -> tuple[np.ndarray, np.ndarray]:
    """(position, unit view axis) of ``camera`` in world space; the camera looks down its -Z."""
    mw = camera.matrix_world
    z = Vector(mw.col[2][:3]).normalized()
    return np.array(mw.translation, dtype=np.float64), -np.array(z, dtype=np.float64)


def depth_along_axis(camera: bpy.types.Object, point) -> float:
    """Signed distance (metres) of ``point`` in front of ``camera`` along its view axis."""
    pos, forward = camera_axis(camera)
    return float(np.dot(np.asarray(point, dtype=np.float64) - pos, forward))


def focus_distance_to(camera: bpy.types.Object, point) -> float:
    """Blender's focus distance to ``point``: |depth along the view axis|, at least 1e-5 m."""
    return max(abs(depth_along_axis(camera, point)), MIN_FOCUS_M)


def is_animated(obj: bpy.types.Object) -> bool:
    """True if ``obj``'s world transform may change over time (keys, drivers, NLA, constraints).

    Conservative: walks the parent chain; any animation data or constraint counts.
    """
    seen = set()
    while obj is not None and obj.name not in seen:
        seen.add(obj.name)
        ad = obj.animation_data
        if ad is not None and (ad.action is not None or len(ad.drivers) or len(ad.nla_tracks)):
            return True
        if len(obj.constraints):
            return True
        if obj.type == "ARMATURE" and obj.pose is not None:
            if any(len(pb.constraints) for pb in obj.pose.bones):
                return True
        obj = obj.parent
    return False


def sample_distances(scene: bpy.types.Scene, camera: bpy.types.Object,
                     subjects: Sequence, frames: Sequence[int],
                     progress: Callable[[int, int], None] | None = None,
                     notes: list[str] | None = None) -> np.ndarray:
    """Signed depths (metres along the view axis), shape (len(subjects), len(frames)).

    ``subjects`` are resolved subjects (``bl.subjects.Subject``: ``position(depsgraph)``,
    ``is_static()``, ``objects()``). When the camera and every subject are static one
    evaluation serves every frame; otherwise only the camera, the subjects and what they depend
    on are evaluated, frame by frame (:class:`~.evaluate.ScopedEvaluation`); the scene and its
    current frame are left as they were. Why the whole scene had to be evaluated instead, if it
    had to, is appended to ``notes``.
    """
    frames = list(frames)
    out = np.empty((len(subjects), len(frames)), dtype=np.float64)
    if not frames:
        return out
    static = not is_animated(camera) and all(s.is_static() for s in subjects)
    todo = frames[:1] if static else frames
    objects = [camera] + [o for s in subjects for o in s.objects()]
    with ScopedEvaluation(scene, objects) as scope:
        if notes is not None:
            notes.extend(n for n in scope.notes if n not in notes)
        for i, frame in enumerate(todo):
            depsgraph = scope.frame(frame)
            pos, forward = camera_axis(evaluated(camera, depsgraph))
            for j, subject in enumerate(subjects):
                out[j, i] = float(np.dot(subject.position(depsgraph) - pos, forward))
            if progress is not None and (i % 50 == 0 or i == len(todo) - 1):
                progress(i + 1, len(todo))
    if static:
        out[:, :] = out[:, :1]
    return out


def effective_focus_m(scene: bpy.types.Scene, camera: bpy.types.Object, frame: int) -> float:
    """The focus distance Blender renders ``camera`` with at ``frame`` (metres)."""
    scene.frame_set(int(frame))
    return current_focus_m(camera)


def current_focus_m(camera: bpy.types.Object,
                    depsgraph: bpy.types.Depsgraph | None = None) -> float:
    """The focus distance (metres) ``camera`` renders with at the frame already evaluated
    (in ``depsgraph`` when given, else in the active scene)."""
    cam = evaluated(camera, depsgraph)
    dof = cam.data.dof
    target = dof.focus_object
    if target is None:
        return float(dof.focus_distance)
    target = evaluated(target.original, depsgraph)
    sub = getattr(dof, "focus_subtarget", "")
    if sub and target.type == "ARMATURE" and sub in target.pose.bones:
        point = target.matrix_world @ target.pose.bones[sub].head
    else:
        point = target.matrix_world.translation
    return focus_distance_to(cam, point)
