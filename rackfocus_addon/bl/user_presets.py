"""Presets on the Blender side: the user's preset folder, and turning a preset into marks.

User presets are TOML files in the extension's user folder
(``bpy.utils.extension_path_user(<extension>, path="presets")``), listed beside the shipped ones.
When the code is not running as an installed extension (the ``bpy`` module in tests, ``python -m
rackfocus_addon``) the folder is ``$RACKFOCUS_USER_PRESETS`` or Blender's user config folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

import bpy
import numpy as np

from .. import presets as preset_io
from ..atomic import write_text
from ..errors import RackFocusError
from ..marks import Mark, SubjectRef
from ..optics import focus_for_blur_m
from ..presets import Preset
from ..request import PullRequest
from .evaluate import ScopedEvaluation, evaluated
from .files import user_dir
from .realism import lens_setup
from .scene_eval import camera_axis, sample_distances
from .subjects import mark_frame, resolve_subjects

ENV_DIR = "RACKFOCUS_USER_PRESETS"


def user_presets_dir(create: bool = False) -> str:
    """The folder user presets are saved in (created when ``create``)."""
    return user_dir("presets", ENV_DIR, create)


def all_presets() -> tuple[list[Preset], list[str]]:
    """Shipped presets then the user's: (presets, errors of bad user files)."""
    return preset_io.discover([(preset_io.SHIPPED_DIR, False), (user_presets_dir(), True)])


def find_preset(name: str) -> Preset:
    presets, _errors = all_presets()
    return preset_io.find(presets, name)


def save_user_preset(preset: Preset) -> str:
    """Write ``preset`` as TOML in the user folder; returns the file path."""
    key = preset_io.slug(preset.name)
    path = os.path.join(user_presets_dir(create=True), key + ".toml")
    text = preset_io.dump_preset(preset)
    _checked, errors = preset_io.parse_preset(text, path)
    if errors:  # pragma: no cover - dump and parse are tested to round-trip
        raise RackFocusError("; ".join(errors))
    return write_text(path, text)


def remove_user_preset(key: str) -> str:
    """Delete the user preset ``key``; shipped presets cannot be removed."""
    path = os.path.join(user_presets_dir(), preset_io.slug(key) + ".toml")
    if not os.path.isfile(path):
        raise RackFocusError(f"No user preset '{key}' (shipped presets cannot be removed)")
    os.remove(path)
    return path


def apply_preset(scene: bpy.types.Scene, camera: bpy.types.Object, preset: Preset,
                 request: PullRequest) -> tuple[PullRequest, str | None]:
    """``request`` re-timed by ``preset``: its subjects (in mark order) become the preset's roles
    from the first mark's frame, with the preset's easing, space, realism and readable blur.

    Returns (request, a note naming the subjects the preset leaves out and why, or None).
    """
    if not request.marks:
        raise RackFocusError(f"Preset '{preset.name}' needs a subject: add a focus mark first")
    start = mark_frame(scene, request.marks[0])
    timed = preset_marks(scene, camera, preset, [m.subject for m in request.marks], start)
    return preset.configure(replace(request, marks=tuple(timed.marks))), timed.left_out_note


#: Why a role picks the subject it picks, for the note on subjects a preset leaves out.
_ROLE_WORDS = {"first": "the first subject in the list", "second": "the second",
               "near": "the nearest subject", "far": "the farthest"}


@dataclass(frozen=True)
class PresetMarks:
    """A preset's marks, and the subjects it leaves out (each role takes one subject)."""

    marks: list[Mark]
    left_out: list[SubjectRef]
    roles: tuple[str, ...]

    @property
    def left_out_note(self) -> str | None:
        if not self.left_out:
            return None
        names = ", ".join(ref.label() for ref in self.left_out)
        used = " and ".join(_ROLE_WORDS[r] for r in dict.fromkeys(self.roles) if r in _ROLE_WORDS)
        return f"Left out {names}: the preset racks between {used}"


def preset_marks(scene: bpy.types.Scene, camera: bpy.types.Object, preset: Preset,
                 subjects: Sequence[SubjectRef], start_frame: int,
                 fps: float | None = None) -> PresetMarks:
    """The marks ``preset`` makes of ``subjects`` (in the artist's order) from ``start_frame``.

    Roles: ``first``/``second`` in the given order, ``near``/``far`` the nearest and farthest of
    all the subjects at the start frame, ``soft`` a point on the view axis in front of the next
    subject where that subject is blurred by the preset's ``soft_blur`` (a fraction of the frame
    width). Subjects no role picks are reported in ``left_out``, never dropped silently.
    """
    unique: list[SubjectRef] = []
    for ref in subjects:
        if ref not in unique:
            unique.append(ref)
    if not unique:
        raise RackFocusError(f"Preset '{preset.name}' needs a subject: add a focus mark first")
    if preset.needs_two_subjects() and len(unique) < 2:
        raise RackFocusError(
            f"Preset '{preset.name}' racks between two subjects: add a focus mark on a second one"
        )
    fps = fps or scene.render.fps / scene.render.fps_base
    resolved = resolve_subjects(scene, camera, unique)
    depth = np.abs(sample_distances(scene, camera, resolved, [start_frame])[:, 0])
    for ref, d in zip(unique, depth):
        if d <= 1e-4:
            raise RackFocusError(f"Subject {ref.label()} is at the camera at frame {start_frame}")
    first = unique[0]
    second = unique[1] if len(unique) > 1 else unique[0]
    near, far = unique[int(np.argmin(depth))], unique[int(np.argmax(depth))]
    depth_of = {ref: float(d) for ref, d in zip(unique, depth)}
    role_ref = {"first": first, "second": second, "near": near, "far": far}

    schedule = preset.schedule(fps)
    marks: list[Mark] = []
    for k, (role, offset) in enumerate(schedule):
        if role == "soft":
            following = next((r for r, _ in schedule[k:] if r != "soft"), "second")
            ref = _soft_point(scene, camera, preset, depth_of[role_ref[following]], start_frame)
        else:
            ref = role_ref[role]
        marks.append(Mark(ref, frame=start_frame + offset))
    used = {m.subject for m in marks}
    left_out = [ref for ref in unique if ref not in used]
    return PresetMarks(marks, left_out, preset.roles)


def _soft_point(scene, camera, preset: Preset, subject_m: float, frame: int) -> SubjectRef:
    r = preset.realism
    fstop = r.fstop_ramp[0] if r.fstop_ramp else r.fstop
    lens = lens_setup(scene, camera, fstop)
    blur_mm = r.soft_blur * lens.sensor_width_mm
    focus = focus_for_blur_m(subject_m, blur_mm, lens.focal_mm, lens.fstop)
    with ScopedEvaluation(scene, [camera]) as scope:
        pos, forward = camera_axis(evaluated(camera, scope.frame(frame)))
    point = pos + forward * focus
    return SubjectRef("point", coords=tuple(round(float(c), 6) for c in point))
