"""Focus data out: per-frame focus, f-stop, focal length and subject blur; a text description.

Values are what Blender renders: each frame is evaluated (``frame_set``), focus measured along the
view axis the way Blender measures a focus object, so a baked curve, a live rig and realism keys
all export the same way.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

import bpy

from .. import atomic
from ..atomic import write_atomic
from ..describe import describe
from ..errors import RackFocusError
from ..marks import SubjectRef, parse_subject
from ..optics import coc_px
from ..plan import PullPlan
from ..progress import Progress
from . import pull as pull_engine
from .evaluate import ScopedEvaluation, evaluated
from .realism import lens_setup
from .scene_eval import current_focus_m, sample_distances
from .subjects import plan_for, resolve_subjects


def pull_plan(scene: bpy.types.Scene, camera: bpy.types.Object) -> PullPlan:
    """The plan of the pull recorded on ``camera`` (raises if it has none)."""
    return plan_for(scene, pull_engine.recorded_request(scene, camera))


def export_subjects(scene, camera, subjects: Sequence[str] | None = None) -> list[SubjectRef]:
    """Subjects whose blur is exported: ``subjects`` by name, else the pull's (points excluded)."""
    if subjects:
        return [parse_subject(n) for n in subjects]
    if pull_engine.read_record(camera) is None:
        return []
    return [ref for ref in pull_plan(scene, camera).subjects if ref.kind != "point"]


def collect(scene: bpy.types.Scene, camera: bpy.types.Object,
            frames: Sequence[int] | None = None, subjects: Sequence[str] | None = None,
            progress: Progress | None = None) -> dict:
    """Per-frame focus data as a JSON-ready dict (``frames``; default the scene range)."""
    frames = list(frames or range(scene.frame_start, scene.frame_end + 1))
    refs = export_subjects(scene, camera, subjects)
    resolved = resolve_subjects(scene, camera, refs)
    names = [ref.spec() for ref in refs]
    depths = sample_distances(scene, camera, resolved, frames) if refs else None
    rows = []
    objects = [camera, camera.data.dof.focus_object] + [o for r in resolved for o in r.objects()]
    with ScopedEvaluation(scene, objects) as scope:
        for i, frame in enumerate(frames):
            if progress is not None and (i % 50 == 0 or i == len(frames) - 1):
                progress("measuring focus and blur", i + 1, len(frames))
            depsgraph = scope.frame(frame)
            focus = current_focus_m(camera, depsgraph)
            lens = lens_setup(scene, evaluated(camera, depsgraph))
            blur = {}
            for j, name in enumerate(names):
                d = float(depths[j, i])
                blur[name] = (round(coc_px(abs(d), focus, lens.focal_mm, lens.fstop,
                                           lens.sensor_width_mm, lens.width_px), 4)
                              if d > 0 else None)
            rows.append({"frame": frame, "focus_m": round(focus, 6),
                         "fstop": round(lens.fstop, 6), "focal_mm": round(lens.focal_mm, 6),
                         "blur_px": blur})
    w, h = scene.render.resolution_x, scene.render.resolution_y
    pct = scene.render.resolution_percentage
    return {
        "camera": camera.name, "scene": scene.name,
        "fps": scene.render.fps / scene.render.fps_base,
        "resolution_px": [w * pct // 100, h * pct // 100],
        "sensor_fit": camera.data.sensor_fit, "sensor_mm": [camera.data.sensor_width,
                                                            camera.data.sensor_height],
        "subjects": names, "frames": rows,
    }


def write_csv(data: dict, path: str) -> str:
    """One row per frame: frame, focus_m, fstop, focal_mm, blur_px:<subject>..."""
    full = os.path.abspath(path)
    os.makedirs(os.path.dirname(full) or ".", exist_ok=True)

    def write(temp: str) -> None:
        with open(temp, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["frame", "focus_m", "fstop", "focal_mm"]
                         + [f"blur_px:{n}" for n in data["subjects"]])
            for row in data["frames"]:
                out.writerow([row["frame"], row["focus_m"], row["fstop"], row["focal_mm"]]
                             + ["" if row["blur_px"][n] is None else row["blur_px"][n]
                                for n in data["subjects"]])

    return write_atomic(full, write)


def write_json(data: dict, path: str) -> str:
    full = os.path.abspath(path)
    os.makedirs(os.path.dirname(full) or ".", exist_ok=True)
    return atomic.write_json(full, data, sort_keys=False)


def export(scene, camera, path: str, frames: Sequence[int] | None = None,
           subjects: Sequence[str] | None = None, progress: Progress | None = None) -> list[str]:
    """Write ``path`` as CSV or JSON by its extension; with no extension, both. Returns paths."""
    base, ext = os.path.splitext(path)
    ext = ext.lower()
    if ext not in ("", ".csv", ".json"):
        raise RackFocusError(f"Export to .csv or .json, not '{ext}': {path}")
    data = collect(scene, camera, frames, subjects, progress)
    if ext == ".csv":
        return [write_csv(data, path)]
    if ext == ".json":
        return [write_json(data, path)]
    if ext:
        raise RackFocusError(f"Export to .csv or .json, not '{ext}': {path}")
    return [write_csv(data, base + ".csv"), write_json(data, base + ".json")]


def describe_pull(scene: bpy.types.Scene, camera: bpy.types.Object) -> str:
    """The pull on ``camera`` described for an AI video prompt (from the actual scene)."""
    plan = pull_plan(scene, camera)
    subjects = resolve_subjects(scene, camera, plan.subjects)
    frames = [f for _, f in plan.marks]
    depths = sample_distances(scene, camera, subjects, frames)
    at_marks = [abs(float(depths[s, i])) for i, (s, _f) in enumerate(plan.marks)]
    visible = [ref.kind != "point" for ref in plan.subjects]
    fps = scene.render.fps / scene.render.fps_base
    return describe(plan, at_marks, fps, lens_setup(scene, camera), visible)
