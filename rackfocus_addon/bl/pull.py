"""Writing a pull into a scene (rig or bake) and clearing it again, losing nothing.

The pull's bookkeeping lives in a JSON custom property on the camera data (``rackfocus_pull``):
what the pull created (target empty, constraints, point empties, the focus F-curve) and what was
there before it (DOF settings and any user keys it was allowed to replace). Re-running a pull
replaces only what the previous pull created; clearing restores the original state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

from ..easing import Easing, parse_easing
from ..errors import RackFocusError
from ..marks import parse_mark
from ..optics import blend_focus
from ..plan import Key, PullPlan, Span, fit_keys, influence_for
from ..progress import Progress
from ..readability import Report
from ..request import PullRequest
from . import compat, keys, records
from . import realism as bl_realism
from .scene_eval import MIN_FOCUS_M, sample_distances
from .subjects import (
    Subject,
    check_pixel_marks,
    plan_for,
    resolve_camera,
    resolve_subjects,
)

RECORD = "rackfocus_pull"
TARGET_PROP = "rackfocus_target_of"
POINT_PROP = "rackfocus_point_of"
FOCUS_PATH = "dof.focus_distance"
CONSTRAINT_PREFIX = "RackFocus"



@dataclass
class PullResult:
    """What :func:`write_pull` did, for the panel, the CLI and pipelines (``to_dict``).

    ``report`` is the readability of the pull as written; ``notes`` are the other things the user
    should know (replaced keys, marks outside the scene range, a solved f-stop), each once.
    """

    camera: str
    mode: str
    plan: PullPlan
    frame_range: tuple[int, int]
    keys_written: int = 0
    target: str | None = None
    mark_distances_m: list[float] = field(default_factory=list)
    report: Report | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        marks = ", ".join(
            f"{self.plan.subjects[s].label()}@{f} ({d:.3f} m)"
            for (s, f), d in zip(self.plan.marks, self.mark_distances_m)
        )
        return (f"{self.mode} pull on camera '{self.camera}': {marks}; "
                f"{self.plan.easing.spec()} in {self.plan.space}, {self.keys_written} keys")

    def to_dict(self) -> dict:
        """A JSON-ready record of the result (the CLI's ``--json`` output)."""
        return {
            "camera": self.camera, "mode": self.mode, "space": self.plan.space,
            "easing": self.plan.easing.spec(), "frame_range": list(self.frame_range),
            "marks": [{"subject": self.plan.subjects[s].spec(), "frame": f,
                       "distance_m": round(d, 6)}
                      for (s, f), d in zip(self.plan.marks, self.mark_distances_m)],
            "keys_written": self.keys_written, "target": self.target, "notes": list(self.notes),
            "readable": None if self.report is None else self.report.readable,
            "warnings": [] if self.report is None else list(self.report.warnings),
            "suggested_fstop": None if self.report is None else self.report.suggested_fstop,
        }


def read_record(camera: bpy.types.Object) -> dict | None:
    """The pull record on ``camera``'s data, or None when it has no pull."""
    return records.read(camera.data, RECORD)


def write_pull(scene: bpy.types.Scene, camera: bpy.types.Object, request: PullRequest,
               progress: Progress | None = None) -> PullResult:
    """Write the pull ``request`` asks for on ``camera``: focus, realism keys, readability.

    Validates everything first (request, camera, subjects, frames, behind-camera, existing user
    keys on focus, f-stop and focal length) and raises :class:`RackFocusError` before changing
    anything. Re-running replaces only what the previous pull made.
    """
    request = request.validate()
    mode = request.mode
    resolve_camera(scene, camera.name)
    plan = plan_for(scene, request)
    subjects = resolve_subjects(scene, camera, plan.subjects)
    check_pixel_marks(subjects, plan.marks)

    record, user_curve, user_keys = _user_focus_keys(camera, request)
    bl_realism.check_user_keys(camera, request.realism)
    evaluation_notes: list[str] = []
    mark_distances = _mark_distances(scene, camera, plan, subjects, evaluation_notes)
    mark_frames = [f for _, f in plan.marks]

    lo = min(scene.frame_start, plan.first_frame)
    hi = max(scene.frame_end, plan.last_frame)
    result = PullResult(camera.name, mode, plan, (lo, hi), mark_distances_m=mark_distances)
    result.notes += evaluation_notes
    outside = [f for f in mark_frames if not scene.frame_start <= f <= scene.frame_end]
    if outside:
        result.notes.append(
            f"Mark frame(s) {', '.join(map(str, sorted(set(outside))))} lie outside the scene's "
            f"range {scene.frame_start}-{scene.frame_end}: they will not render unless you "
            "extend the range")
    realism, result.report, solved = bl_realism.assess_request(scene, camera, plan, subjects,
                                                               request)
    result.notes += solved

    # From here on the scene changes: first undo the previous pull's own objects and curves.
    bl_realism.clear_realism(camera)
    backup = record["backup"] if record else _backup(camera, user_curve)
    if record:
        _remove_created(camera, record, keep_target=mode == "rig")
    elif user_curve is not None and user_keys:
        result.notes.append(
            f"Replaced {user_keys} user key(s) on focus distance "
            "(saved: Clear Pull restores them)"
        )
    if user_curve is not None and compat.find_fcurve(camera.data, FOCUS_PATH) is not None:
        keys.remove_curve(camera.data, FOCUS_PATH)

    keep = bool(record and mode == "rig")
    new_record = {
        "version": 2, "request": request_record(request),
        "marks": [f"{plan.subjects[s].spec()}@{f}" for s, f in plan.marks],
        "mode": mode, "space": plan.space, "easing": plan.easing.spec(),
        "backup": backup, "owns_focus_curve": False, "constraints": [], "points": [],
        "target": record.get("target") if keep else None,
        "created_target": bool(keep and record.get("created_target")),
    }
    camera.data.dof.use_dof = True
    if mode == "bake":
        _write_bake(scene, camera, plan, subjects, lo, hi, result, new_record, progress)
    else:
        _write_rig(scene, camera, plan, subjects, (lo, hi), result, new_record, progress)
    records.write(camera.data, RECORD, new_record)
    result.keys_written += bl_realism.write_realism(scene, camera, plan, subjects, realism, mode,
                                                    result.notes, progress)
    _show_current_frame(scene, camera, new_record)
    return result


def _user_focus_keys(camera: bpy.types.Object, request: PullRequest):
    """(the previous pull's record or None, the focus curve or None, how many keys it has);
    refuses keys the user set unless the request replaces them."""
    record = read_record(camera)
    user_curve = compat.find_fcurve(camera.data, FOCUS_PATH)
    owns_curve = bool(record and record.get("owns_focus_curve"))
    user_keys = len(user_curve.keyframe_points) if user_curve is not None else 0
    if user_keys and not owns_curve and not request.replace:
        raise RackFocusError(
            f"Camera '{camera.name}' already has {user_keys} keyframe(s) on "
            "focus distance; they were kept. Replace them explicitly (--replace) to pull focus; "
            "clearing the pull later restores them"
        )
    return record, user_curve, user_keys


def _mark_distances(scene, camera, plan, subjects, notes: list[str]) -> list[float]:
    """The subject's distance (metres, along the view axis) at every mark; refuses a subject
    behind the camera before anything changes."""
    mark_frames = [f for _, f in plan.marks]
    at_marks = sample_distances(scene, camera, subjects, mark_frames, notes=notes)
    distances = []
    for i, (s, frame) in enumerate(plan.marks):
        depth = at_marks[s, i]
        if depth <= 0.0:
            raise RackFocusError(
                f"Subject {plan.subjects[s].label()} is behind camera '{camera.name}' "
                f"at frame {frame}"
            )
        distances.append(float(depth))
    return distances


def _show_current_frame(scene, camera, record: dict) -> None:
    """Show the pull at the current frame in the properties and the viewport, evaluating only
    what the pull wrote (``scene.frame_set`` would evaluate the whole scene)."""
    names = [n for n in [record["target"], *record["points"]] if n]
    ids = [camera.data] + [bpy.data.objects.get(n) for n in names]
    for id_data in ids:
        if id_data is not None:
            keys.show_frame(id_data, scene.frame_current + scene.frame_subframe)
            id_data.update_tag()
    for layer in scene.view_layers:
        layer.update()


def request_record(request: PullRequest) -> dict:
    """The parts of ``request`` a later export, describe or re-time needs, as JSON data."""
    e = request.easing
    return {"easing": {"kind": e.kind, "mode": e.mode, "back": e.back,
                       "amplitude": e.amplitude, "period": e.period},
            "space": request.space, "mode": request.mode}


def recorded_request(scene: bpy.types.Scene, camera: bpy.types.Object) -> PullRequest:
    """The request of the pull recorded on ``camera`` (raises if it has none)."""
    record = read_record(camera)
    if record is None:
        raise RackFocusError(f"Camera '{camera.name}' has no Rack Focus pull: create one first")
    saved = (record.get("request") or {}).get("easing")
    easing = Easing(**saved) if saved else parse_easing(record.get("easing", "sine"))
    return PullRequest(tuple(parse_mark(m) for m in record["marks"]), easing,
                       record.get("space", "distance"), record.get("mode", "rig"))


def _backup(camera: bpy.types.Object, user_curve) -> dict:
    dof = camera.data.dof
    return {
        "use_dof": bool(dof.use_dof),
        "focus_object": dof.focus_object.name if dof.focus_object else None,
        "focus_distance": float(dof.focus_distance),
        "focus_keys": keys.read_keys(user_curve) if user_curve is not None else None,
        "had_animation": camera.data.animation_data is not None,
    }


def _write_bake(scene, camera, plan: PullPlan, subjects: list[Subject], lo: int, hi: int,
                result: PullResult, record: dict, progress: Progress | None) -> None:
    frames = list(range(lo, hi + 1))
    depths = sample_distances(scene, camera, subjects, frames,
                              _stage(progress, "sampling subject distances"))
    values = np.empty(len(frames))
    for i, frame in enumerate(frames):
        values[i] = plan.focus_m(frame, lambda s, i=i: max(abs(depths[s, i]), MIN_FOCUS_M))
    key_list = fit_keys(frames, values, plan.spans(lo, hi), plan.easing)
    camera.data.dof.focus_object = None
    keys.write_keys(camera.data, FOCUS_PATH, key_list)
    record["owns_focus_curve"] = True
    result.keys_written = len(key_list)


def ensure_target(camera: bpy.types.Object) -> tuple[bpy.types.Object, bool]:
    """The camera's focus-target empty, created if it has none: (empty, created)."""
    for obj in bpy.data.objects:
        if obj.get(TARGET_PROP) == camera.name and obj.type == "EMPTY" and not obj.library:
            return obj, False
    target = bpy.data.objects.new(f"{camera.name} Focus", None)
    target.empty_display_type = "SPHERE"
    target.empty_display_size = 0.05
    target[TARGET_PROP] = camera.name
    collections = camera.users_collection or (bpy.context.scene.collection,)
    collections[0].objects.link(target)
    return target, True


def _write_rig(scene, camera, plan: PullPlan, subjects: list[Subject], frame_range: tuple[int, int],
               result: PullResult, record: dict, progress: Progress | None) -> None:
    target, created = ensure_target(camera)
    record["target"] = target.name
    record["created_target"] = record["created_target"] or created
    runs = plan.runs()
    total = 0
    for k, (s, start, _end) in enumerate(runs):
        con = target.constraints.new("COPY_LOCATION")
        con.name = f"{CONSTRAINT_PREFIX} {k + 1}"
        subject = subjects[s]
        if subject.obj is not None:
            con.target = subject.obj
        else:
            con.target = _point_empty(scene, camera, subject, record, frame_range)
        if subject.bone:
            con.subtarget = subject.bone
        record["constraints"].append(con.name)
        if k == 0:
            con.influence = 1.0
            continue
        prev_end = runs[k - 1][2]
        frames = list(range(prev_end, start + 1))
        duration = float(start - prev_end)
        weights = np.array([plan.easing((f - prev_end) / duration, duration) for f in frames])
        if plan.space == "diopter":
            # Influence blends positions (linear in metres): invert it to land on diopter focus.
            stage = _stage(progress, f"sampling rack {k} of {len(runs) - 1}")
            pair = np.abs(sample_distances(scene, camera, [subjects[runs[k - 1][0]], subject],
                                           frames, stage))
            weights = np.array([
                influence_for(a, b, blend_focus(a, b, w, "diopter"), w)
                for a, b, w in zip(pair[0], pair[1], weights)
            ])
        key_list = fit_keys(frames, weights, [Span(prev_end, start, 0, 1)], plan.easing)
        keys.write_keys(target, f'constraints["{con.name}"].influence', key_list)
        total += len(key_list)
    dof = camera.data.dof
    dof.focus_object = target
    if hasattr(dof, "focus_subtarget"):
        dof.focus_subtarget = ""
    result.target = target.name
    result.keys_written = total


def _point_empty(scene, camera, subject: Subject, record: dict,
                 frame_range: tuple[int, int]) -> bpy.types.Object:
    """An empty for a subject that is no object: a world point, or a footage pixel on a plate.

    A pixel lies on a camera ray, so its empty is parented to the camera and moves with it; when
    its depth changes from frame to frame (a sequence), its position along the ray is keyed.
    """
    empty = bpy.data.objects.new(f"{camera.name} Focus Point", None)
    empty.empty_display_type = "PLAIN_AXES"
    empty.empty_display_size = 0.05
    empty[POINT_PROP] = camera.name
    collections = camera.users_collection or (scene.collection,)
    collections[0].objects.link(empty)
    record["points"].append(empty.name)
    if subject.ref.kind != "pixel":
        empty.location = [float(c) for c in subject.point]
        return empty
    empty.parent = camera
    if subject.is_static() or subject.reader.frames == 1:
        empty.location = [float(c) for c in subject.camera_local(scene.frame_current)]
        return empty
    # The depth under the pixel changes with the clip: key the point along its ray per frame.
    frames = range(frame_range[0], frame_range[1] + 1)
    local = [subject.camera_local(f) for f in frames]
    for axis in range(3):
        keys.write_keys(empty, "location", [Key(f, float(p[axis])) for f, p in zip(frames, local)],
                        index=axis)
    return empty


def _remove_created(camera: bpy.types.Object, record: dict, keep_target: bool) -> None:
    """Remove what the pull described by ``record`` created (never user data)."""
    target = bpy.data.objects.get(record.get("target") or "")
    if target is not None and target.get(TARGET_PROP) == camera.name:
        for name in record.get("constraints", []):
            con = target.constraints.get(name)
            if con is not None:
                keys.remove_curve(target, f'constraints["{name}"].influence')
                target.constraints.remove(con)
        if not keep_target and record.get("created_target"):
            if camera.data.dof.focus_object == target:
                camera.data.dof.focus_object = None
            keys.remove_object(target)
    for name in record.get("points", []):
        empty = bpy.data.objects.get(name)
        if empty is not None and empty.get(POINT_PROP) == camera.name:
            keys.remove_object(empty)
    if record.get("owns_focus_curve"):
        keys.remove_curve(camera.data, FOCUS_PATH)


def clear_pull(camera: bpy.types.Object) -> str | None:
    """Remove the pull on ``camera`` and its realism; restore what was there before the first pull.

    Leaves the file as the first pull found it: the target empty, point empties and their
    actions go, and the camera's animation data too when it had none. Returns what was done, or
    None when the camera has no pull (clearing twice is harmless).
    """
    record = read_record(camera)
    if record is None:
        return None
    bl_realism.clear_realism(camera)
    _remove_created(camera, record, keep_target=False)
    backup = record.get("backup") or {}
    dof = camera.data.dof
    dof.use_dof = bool(backup.get("use_dof", dof.use_dof))
    dof.focus_object = bpy.data.objects.get(backup.get("focus_object") or "")
    dof.focus_distance = float(backup.get("focus_distance", dof.focus_distance))
    restored = backup.get("focus_keys")
    if restored:
        keys.restore_keys(camera.data, FOCUS_PATH, restored)
    del camera.data[RECORD]
    if backup.get("had_animation") is False:
        keys.prune_animation(camera.data)
    extra = f", {len(restored)} user key(s) restored" if restored else ""
    kept = bpy.data.objects.get(record.get("target") or "")
    if kept is not None and not record.get("created_target"):
        extra += (f"; kept focus target '{kept.name}': it was there before the pull (delete it "
                  "if you no longer need it)")
    return f"Cleared the pull on camera '{camera.name}'{extra}"


def _stage(progress: Progress | None, label: str):
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)
