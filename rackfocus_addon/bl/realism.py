"""Readability and lens realism on a written pull: f-stop, f-stop ramp, breathing, hysteresis.

Everything is written as plain keys through :mod:`.keys` on the camera data (``dof.aperture_fstop``
and ``lens``) or, for hysteresis, on the baked focus curve, so a farm renders it with no add-on.
What was there before (values and user keys) is saved in a JSON custom property
(``rackfocus_realism``) and :func:`clear_realism` puts it back; applying again first restores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import bpy
import numpy as np

from .. import realism
from ..errors import RackFocusError
from ..plan import PullPlan
from ..readability import LensSetup, Report, assess
from ..request import PullRequest, Realism
from . import compat, keys, records
from .scene_eval import MIN_FOCUS_M, sample_distances
from .subjects import Subject, plan_for, resolve_subjects

RECORD = "rackfocus_realism"
FSTOP_PATH = "dof.aperture_fstop"
LENS_PATH = "lens"
FOCUS_PATH = "dof.focus_distance"


def render_width_px(scene: bpy.types.Scene) -> tuple[int, int]:
    """Rendered (width, height) in pixels, the resolution percentage applied."""
    r = scene.render
    scale = r.resolution_percentage / 100.0
    return max(1, int(r.resolution_x * scale)), max(1, int(r.resolution_y * scale))


def lens_setup(scene: bpy.types.Scene, camera: bpy.types.Object,
               fstop: float | None = None, focal_mm: float | None = None) -> LensSetup:
    """The camera's optics with the sensor fitted to the render the way Blender fits it.

    AUTO fits the sensor width to the larger image side; HORIZONTAL to the width; VERTICAL fits
    the sensor height to the image height. The result is expressed as (sensor mm, pixels) across
    the fitted side, which is all the blur in pixels needs.
    """
    cam = camera.data
    w, h = render_width_px(scene)
    aspect_w = w * scene.render.pixel_aspect_x
    aspect_h = h * scene.render.pixel_aspect_y
    fit = cam.sensor_fit
    if fit == "VERTICAL":
        sensor, px = cam.sensor_height, h
    elif fit == "HORIZONTAL" or aspect_w >= aspect_h:
        sensor, px = cam.sensor_width, w
    else:
        sensor, px = cam.sensor_width, h
    return LensSetup(float(focal_mm or cam.lens), float(fstop or cam.dof.aperture_fstop),
                     float(sensor), px)


def visible_flags(plan: PullPlan) -> list[bool]:
    """Points are only places to focus (a reveal's soft opening, a cursor mark): not subjects."""
    return [ref.kind != "point" for ref in plan.subjects]


def distance_table(scene, camera, subjects: Sequence[Subject], frames: Sequence[int],
                   progress: Callable[[int, int], None] | None = None):
    """(frames, focus distance per subject and frame in metres, at least Blender's minimum)."""
    frames = list(frames)
    depths = np.abs(sample_distances(scene, camera, subjects, frames, progress))
    return frames, np.maximum(depths, MIN_FOCUS_M)


def assess_plan(scene, camera, plan: PullPlan, subjects: Sequence[Subject],
                min_blur_px: float, fstop: float | None = None,
                fstop_ramp: tuple[float, float] | None = None,
                focal_mm: float | None = None) -> Report:
    """Readability of ``plan`` on ``camera``: blur of every subject at each pull's ends.

    ``fstop`` replaces the camera's f-stop; ``fstop_ramp`` (from, to) is the ramp the pull will
    key, so each moment is measured at the f-stop it will render with.
    """
    frames = sorted({f for span in plan.spans() if span.is_pull for f in (span.start, span.end)})
    frames = frames or [plan.first_frame]
    frames, depths = distance_table(scene, camera, subjects, frames)
    column = {f: i for i, f in enumerate(frames)}
    at = None
    if fstop_ramp is not None:
        fstop = fstop_ramp[0]

        def at(frame: int) -> float:
            return realism.fstop_at(plan, fstop_ramp[0], fstop_ramp[1], frame)
    return assess(plan, lambda s, f: float(depths[s, column[f]]),
                  lens_setup(scene, camera, fstop, focal_mm), min_blur_px, visible_flags(plan),
                  at)


def original_value(camera: bpy.types.Object, path: str) -> float:
    """The camera's f-stop or focal length as it was before Rack Focus realism changed it."""
    record = read_record(camera)
    saved = (record or {}).get("backup", {}).get(path)
    if saved and path in record.get("wrote", []) and not saved.get("keys"):
        return float(saved["value"])
    return float(camera.data.path_resolve(path))


def assess_request(scene, camera, plan: PullPlan, subjects: Sequence[Subject],
                   request: PullRequest) -> tuple[Realism, Report, list[str]]:
    """Readability of ``request``'s pull before it is written: (realism to write, report, notes).

    With ``solve_fstop`` and a pull that would not read, the realism's f-stop (and ramp, keeping
    its ratio) is opened to the suggested one and the report is for the solved pull.
    """
    r = request.realism
    settings = request.readability
    fstop = r.fstop or original_value(camera, FSTOP_PATH)
    lens = original_value(camera, LENS_PATH)
    report = assess_plan(scene, camera, plan, subjects, settings.min_blur_px, fstop,
                         r.fstop_ramp, lens)
    notes: list[str] = []
    if report.readable or report.suggested_fstop is None or not settings.solve_fstop:
        return r, report, notes
    user_keyed = compat.find_fcurve(camera.data, FSTOP_PATH) is not None and not _owns(
        camera, FSTOP_PATH)
    if user_keyed and not r.fstop_ramp:
        notes.append("The f-stop is keyed: set it by hand to f/"
                     f"{report.suggested_fstop:g} to make the pull read")
        return r, report, notes
    scale = report.suggested_fstop / report.lens.fstop
    ramp = r.fstop_ramp
    if ramp:
        # Keep the ramp's ratio; no real iris opens wider than f/0.5.
        ramp = (max(0.5, ramp[0] * scale), max(0.5, ramp[1] * scale))
    notes.append(f"Opened the iris from f/{report.lens.fstop:g} to "
                 f"f/{report.suggested_fstop:g} so the pull reads")
    solved = replace(r, fstop=report.suggested_fstop, fstop_ramp=ramp)
    report = assess_plan(scene, camera, plan, subjects, settings.min_blur_px, solved.fstop,
                         solved.fstop_ramp, lens)
    return solved, report, notes


def assess_request_in_scene(scene, camera, request: PullRequest) -> Report:
    """Readability of ``request`` without writing anything (the panel's Check Readability)."""
    request = request.validate()
    plan = plan_for(scene, request)
    subjects = resolve_subjects(scene, camera, plan.subjects)
    return assess_request(scene, camera, plan, subjects, request)[1]


def read_record(camera: bpy.types.Object) -> dict | None:
    """The realism record on ``camera``'s data, or None."""
    return records.read(camera.data, RECORD)


def _backup(camera: bpy.types.Object) -> dict:
    cam = camera.data
    saved = {}
    for path, value in ((FSTOP_PATH, cam.dof.aperture_fstop), (LENS_PATH, cam.lens)):
        fc = compat.find_fcurve(cam, path)
        saved[path] = {"value": float(value),
                       "keys": keys.read_keys(fc) if fc is not None else None}
    return saved


def clear_realism(camera: bpy.types.Object) -> str | None:
    """Restore the f-stop and focal length (values and user keys) saved by :func:`apply_extras`.

    Returns a message, or None when there was nothing to restore.
    """
    record = read_record(camera)
    if record is None:
        return None
    cam = camera.data
    for path, saved in record.get("backup", {}).items():
        if path not in record.get("wrote", []):
            continue
        keys.remove_curve(cam, path)
        if saved.get("keys"):
            keys.restore_keys(cam, path, saved["keys"])
        elif path == FSTOP_PATH:
            cam.dof.aperture_fstop = saved["value"]
        elif path == LENS_PATH:
            cam.lens = saved["value"]
    if RECORD in cam:
        del cam[RECORD]
    return f"Restored the f-stop and focal length of camera '{camera.name}'"


def _owns(camera: bpy.types.Object, path: str) -> bool:
    record = read_record(camera)
    return bool(record and path in record.get("wrote", []))


def check_user_keys(camera: bpy.types.Object, r: Realism) -> None:
    """Refuse realism that would replace the user's own keys on the f-stop or focal length."""
    for path, what, wanted in ((FSTOP_PATH, "the f-stop", r.fstop_ramp or r.fstop is not None),
                               (LENS_PATH, "the focal length", bool(r.breathing))):
        fc = compat.find_fcurve(camera.data, path)
        if wanted and fc is not None and len(fc.keyframe_points) and not _owns(camera, path):
            raise RackFocusError(
                f"Camera '{camera.name}' already has keys on {what}; Rack Focus will not replace "
                f"them: remove them or turn off the {what} realism"
            )


def write_realism(scene, camera, plan: PullPlan, subjects: Sequence[Subject], r: Realism,
                  mode: str, notes: list[str],
                  progress: Callable[[str, int, int], None] | None = None) -> int:
    """Key the f-stop, f-stop ramp, breathing and hysteresis of ``r``; returns keys written.

    Call after :func:`clear_realism` and after the pull's focus is written (hysteresis rewrites
    the baked focus curve). What it changes is recorded so :func:`clear_realism` restores it.
    """
    cam = camera.data
    backup = _backup(camera)
    wrote: list[str] = []
    written = 0
    if r.fstop is not None and not r.fstop_ramp:
        if compat.find_fcurve(cam, FSTOP_PATH) is None:
            cam.dof.aperture_fstop = r.fstop
            wrote.append(FSTOP_PATH)
    if r.fstop_ramp:
        ramp = realism.fstop_ramp_keys(plan, *r.fstop_ramp)
        keys.write_keys(cam, FSTOP_PATH, ramp)
        wrote.append(FSTOP_PATH)
        written += len(ramp)

    if r.breathing or r.hysteresis_diopters:
        lo = min(scene.frame_start, plan.first_frame)
        hi = max(scene.frame_end, plan.last_frame)
        tick = None
        if progress is not None:
            def tick(done: int, total: int) -> None:
                progress("sampling subject distances for lens realism", done, total)
        frames, depths = distance_table(scene, camera, subjects, range(lo, hi + 1), tick)
        focus = [plan.focus_m(f, lambda s, i=i: float(depths[s, i])) for i, f in enumerate(frames)]
        if r.hysteresis_diopters:
            if mode != "bake":
                notes.append("Hysteresis applies to baked pulls (a live rig follows its "
                             "subjects exactly): switch the mode to Bake")
            else:
                steady = realism.hysteresis(focus, r.hysteresis_diopters)
                focus_keys = realism.sparse_keys(frames, steady)
                keys.write_keys(cam, FOCUS_PATH, focus_keys)
                focus = steady
                written += len(focus_keys)
        if r.breathing:
            lens_keys = realism.breathing_keys(frames, focus, plan.spans(lo, hi), plan.easing,
                                               float(cam.lens), r.breathing, r.close_focus_m)
            keys.write_keys(cam, LENS_PATH, lens_keys)
            wrote.append(LENS_PATH)
            written += len(lens_keys)

    if wrote:
        records.write(cam, RECORD, {"version": 1, "backup": backup, "wrote": sorted(set(wrote))})
    return written
