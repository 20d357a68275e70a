"""Readability and lens realism on a written pull: f-stop, f-stop ramp, breathing, hysteresis.

Everything is written as plain keys through :mod:`.keys` on the camera data (``dof.aperture_fstop``
and ``lens``) or, for hysteresis, on the baked focus curve, so a farm renders it with no add-on.
What was there before (values and user keys) is saved in a JSON custom property
(``rackfocus_realism``) and :func:`clear_realism` puts it back; applying again first restores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import bpy
import numpy as np

from .. import realism
from ..errors import RackFocusError
from ..plan import PullPlan
from ..readability import DEFAULT_MIN_BLUR_PX, LensSetup, Report, assess
from . import compat, keys, records
from .scene_eval import MIN_FOCUS_M, resolve_subject, sample_distances

RECORD = "rackfocus_realism"
FSTOP_PATH = "dof.aperture_fstop"
LENS_PATH = "lens"
FOCUS_PATH = "dof.focus_distance"


@dataclass
class Extras:
    """Optional realism for a pull; every field off by default.

    ``solve_fstop`` sets the f-stop the readability check suggests when the pull would not read.
    """

    fstop: float | None = None
    fstop_ramp: tuple[float, float] | None = None
    breathing: float = 0.0
    close_focus_m: float = 0.45
    hysteresis_diopters: float = 0.0
    min_blur_px: float = DEFAULT_MIN_BLUR_PX
    solve_fstop: bool = False

    @classmethod
    def from_preset(cls, preset, solve_fstop: bool = False) -> Extras:
        r = preset.realism
        return cls(r.fstop, r.fstop_ramp, r.breathing, r.close_focus_m, r.hysteresis_diopters,
                   r.min_blur_px, solve_fstop)


@dataclass
class ExtrasResult:
    report: Report
    messages: list[str] = field(default_factory=list)
    keys_written: int = 0


def render_width_px(scene: bpy.types.Scene) -> tuple[int, int]:
    """Rendered (width, height) in pixels, the resolution percentage applied."""
    r = scene.render
    scale = r.resolution_percentage / 100.0
    return max(1, int(r.resolution_x * scale)), max(1, int(r.resolution_y * scale))


def lens_setup(scene: bpy.types.Scene, camera: bpy.types.Object,
               fstop: float | None = None) -> LensSetup:
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
    return LensSetup(float(cam.lens), float(fstop or cam.dof.aperture_fstop), float(sensor), px)


def visible_flags(plan: PullPlan) -> list[bool]:
    """Points are only places to focus (a reveal's soft opening, a cursor mark): not subjects."""
    return [ref.kind != "point" for ref in plan.subjects]


def distance_table(scene, camera, plan: PullPlan, frames: Sequence[int], pixel_resolver=None):
    """(frames, |depth| per subject and frame) for ``plan``'s subjects."""
    subjects = [resolve_subject(scene, ref, camera, pixel_resolver) for ref in plan.subjects]
    frames = list(frames)
    depths = np.abs(sample_distances(scene, camera, subjects, frames))
    return frames, np.maximum(depths, MIN_FOCUS_M)


def assess_plan(scene, camera, plan: PullPlan, min_blur_px: float = DEFAULT_MIN_BLUR_PX,
                fstop: float | None = None, pixel_resolver=None,
                fstop_ramp: tuple[float, float] | None = None) -> Report:
    """Readability of ``plan`` on ``camera``: blur of every subject at each pull's ends.

    ``fstop`` replaces the camera's f-stop; ``fstop_ramp`` (from, to) is the ramp the pull will
    key, so each moment is measured at the f-stop it will render with.
    """
    frames = sorted({f for span in plan.spans() if span.is_pull for f in (span.start, span.end)})
    frames = frames or [plan.first_frame]
    frames, depths = distance_table(scene, camera, plan, frames, pixel_resolver)
    column = {f: i for i, f in enumerate(frames)}
    at = None
    if fstop_ramp is not None:
        fstop = fstop_ramp[0]

        def at(frame: int) -> float:
            return realism.fstop_at(plan, fstop_ramp[0], fstop_ramp[1], frame)
    return assess(plan, lambda s, f: float(depths[s, column[f]]),
                  lens_setup(scene, camera, fstop), min_blur_px, visible_flags(plan), at)


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


def _refuse_user_keys(camera: bpy.types.Object, path: str, what: str) -> None:
    fc = compat.find_fcurve(camera.data, path)
    if fc is not None and len(fc.keyframe_points):
        raise RackFocusError(
            f"Camera '{camera.name}' already has keys on {what}; Rack Focus will not replace "
            f"them: remove them or turn off the {what} realism"
        )


def apply_extras(scene: bpy.types.Scene, camera: bpy.types.Object, plan: PullPlan,
                 extras: Extras, mode: str = "rig", pixel_resolver=None) -> ExtrasResult:
    """Readability check (and solved f-stop), then the realism keys, on a pull already written.

    Restores any previous realism first, so applying twice gives the same file as applying once.
    """
    clear_realism(camera)
    cam = camera.data
    if extras.fstop_ramp or extras.fstop is not None:
        _refuse_user_keys(camera, FSTOP_PATH, "the f-stop")
    if extras.breathing:
        _refuse_user_keys(camera, LENS_PATH, "the focal length")
    backup = _backup(camera)
    wrote: list[str] = []
    messages: list[str] = []
    written = 0

    report = assess_plan(scene, camera, plan, extras.min_blur_px, extras.fstop, pixel_resolver,
                         extras.fstop_ramp)
    if not report.readable and extras.solve_fstop and report.suggested_fstop is not None:
        if compat.find_fcurve(cam, FSTOP_PATH) is not None and not extras.fstop_ramp:
            messages.append("The f-stop is keyed: set it by hand to f/"
                            f"{report.suggested_fstop:g} to make the pull read")
        else:
            old = report.lens.fstop
            scale = report.suggested_fstop / old
            if extras.fstop_ramp:
                # Keep the ramp's ratio; no real iris opens wider than f/0.5.
                extras.fstop_ramp = (max(0.5, extras.fstop_ramp[0] * scale),
                                     max(0.5, extras.fstop_ramp[1] * scale))
            extras.fstop = report.suggested_fstop
            messages.append(f"Opened the iris from f/{old:g} to f/{report.suggested_fstop:g} "
                            "so the pull reads")
            report = assess_plan(scene, camera, plan, extras.min_blur_px, extras.fstop,
                                 pixel_resolver, extras.fstop_ramp)
    elif not report.readable:
        messages.extend(report.warnings)
        if report.suggested_fstop is not None:
            messages.append(f"Suggested f-stop: f/{report.suggested_fstop:g} "
                            "(Solve F-Stop sets it)")

    if extras.fstop is not None and not extras.fstop_ramp:
        if compat.find_fcurve(cam, FSTOP_PATH) is None:
            cam.dof.aperture_fstop = extras.fstop
            wrote.append(FSTOP_PATH)
    if extras.fstop_ramp:
        ramp = realism.fstop_ramp_keys(plan, *extras.fstop_ramp)
        keys.write_keys(cam, FSTOP_PATH, ramp)
        wrote.append(FSTOP_PATH)
        written += len(ramp)

    if extras.breathing or extras.hysteresis_diopters:
        lo = min(scene.frame_start, plan.first_frame)
        hi = max(scene.frame_end, plan.last_frame)
        frames, depths = distance_table(scene, camera, plan, range(lo, hi + 1), pixel_resolver)
        focus = [plan.focus_m(f, lambda s, i=i: float(depths[s, i])) for i, f in enumerate(frames)]
        if extras.hysteresis_diopters:
            if mode != "bake":
                messages.append("Hysteresis applies to baked pulls (a live rig follows its "
                                "subjects exactly): switch the mode to Bake")
            else:
                steady = realism.hysteresis(focus, extras.hysteresis_diopters)
                focus_keys = realism.sparse_keys(frames, steady)
                keys.write_keys(cam, FOCUS_PATH, focus_keys)
                focus = steady
                written += len(focus_keys)
        if extras.breathing:
            lens_keys = realism.breathing_keys(frames, focus, plan.spans(lo, hi), plan.easing,
                                               float(cam.lens), extras.breathing,
                                               extras.close_focus_m)
            keys.write_keys(cam, LENS_PATH, lens_keys)
            wrote.append(LENS_PATH)
            written += len(lens_keys)

    if wrote:
        records.write(cam, RECORD, {"version": 1, "backup": backup, "wrote": sorted(set(wrote))})
    return ExtrasResult(report, messages, written)
