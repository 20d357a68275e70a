"""The panel's settings as engine values, and back: the one mapping every operator uses.

No operators here, so tests reach it directly: the marks list becomes engine :class:`Mark`
objects (objects, bones, world points and footage pixels alike, so a panel pull is the same
pull the CLI makes for the same marks), the settings a :class:`PullRequest`, a preset's values
fill the settings, and re-timing rewrites the mark list from the subjects.
"""

from ..rackfocus_addon import presets as preset_io
from ..rackfocus_addon.bl.subjects import resolve_camera
from ..rackfocus_addon.bl.user_presets import PresetMarks, preset_marks
from ..rackfocus_addon.easing import Easing
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.marks import Mark, SubjectRef
from ..rackfocus_addon.readability import Report
from ..rackfocus_addon.request import PullRequest, Readability, Realism
from .props import ROLE_PROPS


def mark_ref(item, index: int) -> SubjectRef:
    """The subject of the panel's mark ``item`` (1-based ``index`` for messages)."""
    if item.kind == "POINT":
        return SubjectRef("point", coords=tuple(round(float(c), 6) for c in item.point))
    if item.kind == "PIXEL":
        return SubjectRef("pixel", coords=(float(item.pixel[0]), float(item.pixel[1])))
    if item.subject is None:
        raise RackFocusError(f"Mark {index} has no subject: pick an object")
    if item.kind == "BONE":
        return SubjectRef("bone", name=item.subject.name, bone=item.bone)
    return SubjectRef("object", name=item.subject.name)


def marks_from_settings(settings) -> tuple[Mark, ...]:
    """The panel's mark list as engine marks; raises RackFocusError on an incomplete mark."""
    out = []
    for i, item in enumerate(settings.marks, start=1):
        ref = mark_ref(item, i)
        out.append(Mark(ref, marker=item.marker) if item.marker else Mark(ref, frame=item.frame))
    return tuple(out)


def realism_from_settings(settings) -> Realism:
    return Realism(
        fstop_ramp=(settings.fstop_from, settings.fstop_to) if settings.use_fstop_ramp else None,
        breathing=settings.breathing, close_focus_m=settings.close_focus_m,
        overshoot=settings.overshoot_percent / 100.0, hysteresis_diopters=settings.hysteresis,
        soft_blur=settings.soft_blur)


def request_from_settings(settings, mode: str | None = None,
                          solve: bool | None = None) -> PullRequest:
    """The pull the panel describes (``mode`` and ``solve`` override the panel's)."""
    return PullRequest(
        marks_from_settings(settings), Easing(settings.easing, settings.easing_mode),
        settings.space, mode or settings.mode, settings.replace,
        realism_from_settings(settings),
        Readability(settings.min_blur_px, settings.solve_fstop if solve is None else solve),
    ).with_overshoot()


def preset_from_settings(settings, name: str = "") -> preset_io.Preset:
    """The panel's timing, easing and realism as a preset (what Save Preset writes)."""
    sequence = tuple(r for r in (getattr(settings, p) for p in ROLE_PROPS) if r != "none")
    for a, b in zip(sequence, sequence[1:]):
        if a == b:
            raise RackFocusError(f"The timing racks from '{a}' to '{a}': pick another role for "
                                 "the next beat (a hold is set by the hold times)")
    return preset_io.Preset(
        name=name or settings.preset or "Custom", key=preset_io.slug(name or "custom"),
        sequence=sequence, return_to_start=settings.return_to_start,
        timing=preset_io.Timing(settings.unit, settings.hold_start, settings.transition,
                                settings.hold_middle, settings.hold_end),
        easing_kind="back" if settings.overshoot_percent > 0 else settings.easing,
        easing_mode=settings.easing_mode, space=settings.space,
        realism=realism_from_settings(settings), min_blur_px=settings.min_blur_px,
    )


def settings_from_preset(settings, preset: preset_io.Preset) -> None:
    """Copy a preset's timing, easing and realism into the panel settings."""
    settings.preset = preset.name
    roles = list(preset.sequence[:len(ROLE_PROPS)])
    for prop, role in zip(ROLE_PROPS, roles + ["none"] * (len(ROLE_PROPS) - len(roles))):
        setattr(settings, prop, role)
    settings.return_to_start = preset.return_to_start
    t = preset.timing
    settings.unit = t.unit
    settings.hold_start, settings.transition = t.hold_start, t.transition
    settings.hold_middle, settings.hold_end = t.hold_middle, t.hold_end
    settings.easing = preset.easing_kind
    settings.easing_mode = preset.easing_mode
    settings.space = preset.space
    r = preset.realism
    settings.overshoot_percent = r.overshoot * 100.0
    settings.use_fstop_ramp = r.fstop_ramp is not None
    if r.fstop_ramp:
        settings.fstop_from, settings.fstop_to = r.fstop_ramp
    settings.breathing, settings.close_focus_m = r.breathing, r.close_focus_m
    settings.hysteresis, settings.soft_blur = r.hysteresis_diopters, r.soft_blur
    settings.min_blur_px = preset.min_blur_px


def insert_mark(scene, settings, frame: int, **fields) -> int:
    """Add a mark at ``frame`` with ``fields`` (kind, subject, bone, point, pixel) where its
    frame belongs in the list (after marks on the same frame), and make it the active one;
    returns its index. A pull needs its marks in time order, so a mark added at the current
    frame must not land after later ones."""
    item = settings.marks.add()
    item.frame = frame
    for name, value in fields.items():
        setattr(item, name, value)
    last = len(settings.marks) - 1
    at = sum(1 for other in list(settings.marks)[:last] if _list_frame(scene, other) <= frame)
    if at != last:
        settings.marks.move(last, at)
    settings.active_mark = at
    return at


def _list_frame(scene, item) -> int:
    """A listed mark's frame: its timeline marker's, when it names one that exists."""
    marker = scene.timeline_markers.get(item.marker) if item.marker else None
    return marker.frame if marker is not None else item.frame


def retime(scene, settings, preset: preset_io.Preset) -> PresetMarks:
    """Rewrite the mark list from its subjects (in list order) with ``preset``'s timing.

    The first mark's frame is the start. Returns the new marks and the subjects left out.
    """
    cam = resolve_camera(scene)
    all_refs = [mark_ref(item, i) for i, item in enumerate(settings.marks, start=1)]
    # Earlier soft openings are points the preset made: the subjects are the rest.
    refs = [ref for ref in all_refs if ref.kind != "point"] or all_refs
    if not refs:
        raise RackFocusError("Add focus marks on the subjects first (select one, Add Focus Mark)")
    start = settings.marks[0].frame
    timed = preset_marks(scene, cam, preset, refs, start)
    by_spec = {ref.spec(): item.subject for ref, item in zip(all_refs, settings.marks)
               if ref.kind in ("object", "bone")}
    settings.marks.clear()
    for mark in timed.marks:
        item = settings.marks.add()
        item.frame = mark.frame
        ref = mark.subject
        if ref.kind == "point":
            item.kind, item.point = "POINT", ref.coords
        elif ref.kind == "pixel":
            item.kind, item.pixel = "PIXEL", [int(round(c)) for c in ref.coords]
        else:
            item.subject = by_spec.get(ref.spec()) or scene.objects.get(ref.name)
            item.kind = "BONE" if ref.kind == "bone" else "OBJECT"
            item.bone = ref.bone
    settings.active_mark = 0
    return timed


def readout_key(scene, settings) -> str:
    """What the readability readout describes, as a string: the marks, the camera's lens,
    f-stop (or the panel's f-stop ramp), DOF switch, the render width and the blur threshold.
    The panel compares it with the key saved with the readout to tell that it is out of date.
    Animated values the pull writes (focus, a ramp's f-stop, breathing) are left out, so
    scrubbing does not date it."""
    cam = scene.camera
    lens = ""
    if cam is not None and cam.type == "CAMERA":
        data = cam.data
        fstop = ((settings.fstop_from, settings.fstop_to) if settings.use_fstop_ramp
                 else round(data.dof.aperture_fstop, 4))
        focal = settings.breathing if settings.breathing else round(data.lens, 4)
        lens = (f"{cam.name}|{focal}|{fstop}|{data.dof.use_dof}|{data.sensor_width:g}|"
                f"{data.sensor_fit}")
    marks = ";".join(f"{m.kind},{m.subject.name if m.subject else ''},{m.bone},{m.frame},"
                     f"{m.marker},{tuple(m.pixel)},{tuple(round(c, 4) for c in m.point)}"
                     for m in settings.marks)
    render = scene.render
    return (f"{lens}|{render.resolution_x * render.resolution_percentage}|"
            f"{settings.min_blur_px:g}|{marks}")


def readout_is_stale(scene, settings) -> bool:
    """True when the readout no longer describes the scene (see :func:`readout_key`)."""
    return bool(len(settings.readout_lines)) and settings.readout_key != readout_key(scene,
                                                                                     settings)


def write_readout(settings, report: Report | None) -> None:
    """Show ``report`` in the panel in artist words, each line flagged good or weak, then the
    warnings (the fix: a wider iris, a longer lens, more depth between the subjects)."""
    settings.readout_lines.clear()
    settings.suggested_fstop = 0.0
    settings.readout_key = readout_key(settings.id_data, settings)
    if report is None:
        return
    for text, reads in report.artist_lines():
        item = settings.readout_lines.add()
        item.text, item.warning = text, not reads
    for line in report.advice:
        item = settings.readout_lines.add()
        item.text, item.warning = line, True
    settings.suggested_fstop = report.suggested_fstop or 0.0
