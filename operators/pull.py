"""Operators that edit the focus marks and build, bake, check and clear pulls."""

import bpy

from ..rackfocus_addon import presets as preset_io
from ..rackfocus_addon.bl import pull as pull_engine
from ..rackfocus_addon.bl import realism as realism_engine
from ..rackfocus_addon.bl.user_presets import preset_marks
from ..rackfocus_addon.easing import Easing
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.marks import Mark, SubjectRef
from ..rackfocus_addon.plan import make_plan
from ..rackfocus_addon.realism import back_for_overshoot


def _camera_or_why(context):
    """(camera, None) or (None, reason it cannot be used)."""
    scene = context.scene
    try:
        return pull_engine.resolve_camera(scene), None
    except RackFocusError as err:
        return None, str(err)


def poll_camera(cls, context) -> bool:
    """Poll helper: the scene camera is usable, else the reason becomes the greyed-out tooltip."""
    cam, why = _camera_or_why(context)
    if cam is None:
        cls.poll_message_set(why)
    return cam is not None


def mark_ref(item, index: int) -> SubjectRef:
    if item.kind == "POINT":
        return SubjectRef("point", coords=tuple(round(float(c), 6) for c in item.point))
    if item.subject is None:
        raise RackFocusError(f"Mark {index} has no subject: pick an object")
    if item.kind == "BONE":
        return SubjectRef("bone", name=item.subject.name, bone=item.bone)
    return SubjectRef("object", name=item.subject.name)


def marks_from_settings(settings) -> list[Mark]:
    """The panel's mark list as engine marks; raises RackFocusError on an incomplete mark."""
    out = []
    for i, item in enumerate(settings.marks, start=1):
        ref = mark_ref(item, i)
        out.append(Mark(ref, marker=item.marker) if item.marker else Mark(ref, frame=item.frame))
    return out


def easing_from_settings(settings) -> Easing:
    if settings.overshoot > 0.0:
        return Easing("back", settings.easing_mode,
                      back=back_for_overshoot(settings.overshoot, settings.easing_mode))
    return Easing(settings.easing, settings.easing_mode)


def extras_from_settings(settings, solve: bool | None = None) -> realism_engine.Extras:
    return realism_engine.Extras(
        fstop_ramp=(settings.fstop_from, settings.fstop_to) if settings.use_fstop_ramp else None,
        breathing=settings.breathing, close_focus_m=settings.close_focus_m,
        hysteresis_diopters=settings.hysteresis, min_blur_px=settings.min_blur_px,
        solve_fstop=settings.solve_fstop if solve is None else solve,
    )


def preset_from_settings(settings, name: str = "") -> preset_io.Preset:
    """The panel's timing, easing and realism as a preset (what Save Preset writes)."""
    sequence = tuple(r.strip() for r in settings.sequence.split(",") if r.strip())
    text_roles = ", ".join(preset_io.ROLES)
    if len(sequence) < 2 or any(r not in preset_io.ROLES for r in sequence):
        raise RackFocusError(f"Sequence '{settings.sequence}' must list at least two roles "
                             f"from {text_roles}, e.g. 'first,second'")
    return preset_io.Preset(
        name=name or settings.preset or "Custom", key=preset_io.slug(name or "custom"),
        sequence=sequence, return_to_start=settings.return_to_start,
        timing=preset_io.Timing(settings.unit, settings.hold_start, settings.transition,
                                settings.hold_middle, settings.hold_end),
        easing_kind="back" if settings.overshoot > 0 else settings.easing,
        easing_mode=settings.easing_mode, space=settings.space,
        realism=preset_io.Realism(
            fstop_ramp=(settings.fstop_from, settings.fstop_to)
            if settings.use_fstop_ramp else None,
            breathing=settings.breathing, close_focus_m=settings.close_focus_m,
            overshoot=settings.overshoot, hysteresis_diopters=settings.hysteresis,
            soft_blur=settings.soft_blur, min_blur_px=settings.min_blur_px),
    )


def settings_from_preset(settings, preset: preset_io.Preset) -> None:
    """Copy a preset's timing, easing and realism into the panel settings."""
    settings.preset = preset.name
    settings.sequence = ",".join(preset.sequence)
    settings.return_to_start = preset.return_to_start
    t = preset.timing
    settings.unit = t.unit
    settings.hold_start, settings.transition = t.hold_start, t.transition
    settings.hold_middle, settings.hold_end = t.hold_middle, t.hold_end
    settings.easing = preset.easing_kind
    settings.easing_mode = preset.easing_mode
    settings.space = preset.space
    r = preset.realism
    settings.overshoot = r.overshoot
    settings.use_fstop_ramp = r.fstop_ramp is not None
    if r.fstop_ramp:
        settings.fstop_from, settings.fstop_to = r.fstop_ramp
    settings.breathing, settings.close_focus_m = r.breathing, r.close_focus_m
    settings.hysteresis, settings.soft_blur = r.hysteresis_diopters, r.soft_blur
    settings.min_blur_px = r.min_blur_px


def retime(context, preset: preset_io.Preset) -> int:
    """Rewrite the mark list from its subjects (in list order) with ``preset``'s timing.

    The first mark's frame is the start. Returns the number of marks.
    """
    scene = context.scene
    settings = scene.rackfocus
    cam = pull_engine.resolve_camera(scene)
    all_refs = [mark_ref(item, i) for i, item in enumerate(settings.marks, start=1)]
    # Earlier soft openings are points the preset made: the subjects are the rest.
    refs = [ref for ref in all_refs if ref.kind != "point"] or all_refs
    if not refs:
        raise RackFocusError("Add focus marks on the subjects first (select one, Add Focus Mark)")
    start = settings.marks[0].frame
    marks = preset_marks(scene, cam, preset, refs, start)
    by_name = {ref.spec(): item.subject for ref, item in zip(all_refs, settings.marks)
               if ref.kind != "point"}
    settings.marks.clear()
    for mark in marks:
        item = settings.marks.add()
        item.frame = mark.frame
        ref = mark.subject
        if ref.kind == "point":
            item.kind, item.point = "POINT", ref.coords
        else:
            item.subject = by_name.get(ref.spec()) or scene.objects.get(ref.name)
            item.kind = "BONE" if ref.kind == "bone" else "OBJECT"
            item.bone = ref.bone
    settings.active_mark = 0
    return len(marks)


def write_readout(settings, report) -> None:
    settings.readout = "\n".join(report.short_lines())
    settings.suggested_fstop = report.suggested_fstop or 0.0


def run_pull(context, mode: str, solve: bool | None = None):
    """Create the pull from the panel and apply the realism; returns (result, extras result)."""
    scene = context.scene
    settings = scene.rackfocus
    cam = pull_engine.resolve_camera(scene)
    realism_engine.clear_realism(cam)
    result = pull_engine.create_pull(
        scene, cam, marks_from_settings(settings), easing_from_settings(settings),
        settings.space, mode, settings.replace,
    )
    extra = realism_engine.apply_extras(scene, cam, result.plan,
                                        extras_from_settings(settings, solve), mode)
    write_readout(settings, extra.report)
    return result, extra


class RACKFOCUS_OT_add_target(bpy.types.Operator):
    """Create (or reuse) the scene camera's focus-target empty and turn depth of field on"""

    bl_idname = "rackfocus.add_target"
    bl_label = "Add Focus Target"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return poll_camera(cls, context)

    def execute(self, context):
        cam, why = _camera_or_why(context)
        if cam is None:
            self.report({"ERROR"}, why)
            return {"CANCELLED"}
        target, created = pull_engine.ensure_target(cam)
        cam.data.dof.use_dof = True
        if cam.data.dof.focus_object is None:
            cam.data.dof.focus_object = target
        self.report({"INFO"}, f"{'Created' if created else 'Reused'} focus target '{target.name}'")
        return {"FINISHED"}


def add_point_mark(settings, location, frame: int):
    item = settings.marks.add()
    item.kind = "POINT"
    item.point = location
    item.frame = frame
    settings.active_mark = len(settings.marks) - 1
    return item


class RACKFOCUS_OT_add_mark(bpy.types.Operator):
    """Add a focus mark on the selected subjects (active first) or the 3D cursor, at the
    current frame"""

    bl_idname = "rackfocus.add_mark"
    bl_label = "Add Focus Mark"
    bl_options = {"REGISTER", "UNDO"}

    use_cursor: bpy.props.BoolProperty(name="3D Cursor", default=False,
                                       description="Mark the 3D cursor's position instead")

    @classmethod
    def poll(cls, context):
        if getattr(context.scene, "rackfocus", None) is None:
            cls.poll_message_set("Rack Focus is not registered in this scene")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus
        if self.use_cursor:
            add_point_mark(settings, scene.cursor.location, scene.frame_current)
            return {"FINISHED"}
        active = context.active_object
        selected = list(getattr(context, "selected_objects", None) or [])
        chosen = [o for o in ([active] if active else []) + sorted(selected, key=lambda o: o.name)
                  if o is not None and o != scene.camera and o.type != "CAMERA"]
        chosen = list(dict.fromkeys(chosen))
        if not chosen:
            self.report({"ERROR"}, "Select a subject (not the camera) or use the 3D cursor")
            return {"CANCELLED"}
        for k, obj in enumerate(chosen):
            item = settings.marks.add()
            item.frame = scene.frame_current + k
            item.subject = obj
            bone = context.active_pose_bone if obj == active else None
            if obj.type == "ARMATURE" and bone is not None:
                item.kind, item.bone = "BONE", bone.name
        settings.active_mark = len(settings.marks) - 1
        return {"FINISHED"}


class RACKFOCUS_OT_pick_mark(bpy.types.Operator):
    """Click a surface in the 3D viewport to add a focus mark on that point (Esc cancels)"""

    bl_idname = "rackfocus.pick_mark"
    bl_label = "Pick Focus Point"
    bl_options = {"REGISTER", "UNDO"}

    location: bpy.props.FloatVectorProperty(name="Location", subtype="TRANSLATION", size=3,
                                            description="The picked point (metres)")
    use_location: bpy.props.BoolProperty(name="Use Location", default=False,
                                         options={"HIDDEN", "SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        if getattr(context.scene, "rackfocus", None) is None:
            cls.poll_message_set("Rack Focus is not registered in this scene")
            return False
        return True

    def execute(self, context):
        if not self.use_location:
            self.report({"ERROR"}, "Click a surface in the 3D viewport to pick a point")
            return {"CANCELLED"}
        add_point_mark(context.scene.rackfocus, self.location, context.scene.frame_current)
        return {"FINISHED"}

    def invoke(self, context, event):
        if bpy.app.background or not any(a.type == "VIEW_3D" for a in context.screen.areas):
            self.report({"ERROR"}, "Picking needs a 3D viewport")
            return {"CANCELLED"}
        context.window.cursor_modal_set("EYEDROPPER")
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set("Click a surface to focus on; Esc to cancel")
        return {"RUNNING_MODAL"}

    def _finish(self, context):
        context.window.cursor_modal_restore()
        context.workspace.status_text_set(None)

    def modal(self, context, event):
        if event.type in {"ESC", "RIGHTMOUSE"}:
            self._finish(context)
            return {"CANCELLED"}
        if event.type != "LEFTMOUSE" or event.value != "PRESS":
            return {"RUNNING_MODAL"}
        hit = _ray_cast_under_mouse(context, event)
        self._finish(context)
        if hit is None:
            self.report({"WARNING"}, "No surface under the mouse")
            return {"CANCELLED"}
        self.location, self.use_location = hit, True
        return self.execute(context)


def _ray_cast_under_mouse(context, event):
    from bpy_extras import view3d_utils

    for area in context.screen.areas:
        if area.type != "VIEW_3D":
            continue
        for region in area.regions:
            if region.type != "WINDOW":
                continue
            x, y = event.mouse_x - region.x, event.mouse_y - region.y
            if not (0 <= x < region.width and 0 <= y < region.height):
                continue
            rv3d = area.spaces.active.region_3d
            origin = view3d_utils.region_2d_to_origin_3d(region, rv3d, (x, y))
            direction = view3d_utils.region_2d_to_vector_3d(region, rv3d, (x, y))
            found, location, *_ = context.scene.ray_cast(
                context.evaluated_depsgraph_get(), origin, direction)
            return tuple(location) if found else None
    return None


class RACKFOCUS_OT_remove_mark(bpy.types.Operator):
    """Remove the active focus mark"""

    bl_idname = "rackfocus.remove_mark"
    bl_label = "Remove Focus Mark"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "rackfocus", None)
        if settings is None or not len(settings.marks):
            cls.poll_message_set("There are no focus marks")
            return False
        return True

    def execute(self, context):
        settings = context.scene.rackfocus
        settings.marks.remove(settings.active_mark)
        settings.active_mark = max(0, min(settings.active_mark, len(settings.marks) - 1))
        return {"FINISHED"}


class RACKFOCUS_OT_move_mark(bpy.types.Operator):
    """Move the active focus mark up or down the list (its frame stays)"""

    bl_idname = "rackfocus.move_mark"
    bl_label = "Move Focus Mark"
    bl_options = {"REGISTER", "UNDO"}

    direction: bpy.props.EnumProperty(items=[("UP", "Up", "Earlier in the list"),
                                             ("DOWN", "Down", "Later in the list")])

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "rackfocus", None)
        if settings is None or len(settings.marks) < 2:
            cls.poll_message_set("Reordering needs at least two focus marks")
            return False
        return True

    def execute(self, context):
        settings = context.scene.rackfocus
        i = settings.active_mark
        j = i - 1 if self.direction == "UP" else i + 1
        if not 0 <= j < len(settings.marks):
            return {"CANCELLED"}
        settings.marks.move(i, j)
        settings.active_mark = j
        return {"FINISHED"}


def _poll_pull(cls, context) -> bool:
    if not poll_camera(cls, context):
        return False
    settings = getattr(context.scene, "rackfocus", None)
    if settings is None or not len(settings.marks):
        cls.poll_message_set("Add focus marks first: select a subject, then Add Focus Mark")
        return False
    return True


class RACKFOCUS_OT_create_pull(bpy.types.Operator):
    """Write the focus pull through the marks on the scene camera (live rig or baked keys),
    with the panel's realism, and check that it reads"""

    bl_idname = "rackfocus.create_pull"
    bl_label = "Create Pull"
    bl_options = {"REGISTER", "UNDO"}

    mode: bpy.props.EnumProperty(
        name="Mode",
        items=[("SETTINGS", "From Panel", "Use the panel's mode"),
               ("rig", "Live Rig", "Constraint rig"), ("bake", "Bake", "Baked focus keys")],
        default="SETTINGS",
    )

    @classmethod
    def poll(cls, context):
        return _poll_pull(cls, context)

    def execute(self, context):
        settings = context.scene.rackfocus
        mode = settings.mode if self.mode == "SETTINGS" else self.mode
        try:
            result, extra = run_pull(context, mode)
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        for message in result.messages + extra.messages:
            self.report({"WARNING"}, message)
        self.report({"INFO"}, result.summary())
        return {"FINISHED"}


class RACKFOCUS_OT_bake(bpy.types.Operator):
    """Bake the pull into focus-distance keys on the camera (needed for diopter pulls, export
    and hysteresis; renders anywhere)"""

    bl_idname = "rackfocus.bake"
    bl_label = "Bake Pull"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _poll_pull(cls, context)

    def execute(self, context):
        try:
            result, extra = run_pull(context, "bake")
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        for message in result.messages + extra.messages:
            self.report({"WARNING"}, message)
        self.report({"INFO"}, result.summary())
        return {"FINISHED"}


class RACKFOCUS_OT_check_readability(bpy.types.Operator):
    """Measure each subject's blur in pixels where every rack starts and ends, and suggest the
    f-stop that makes the pull read"""

    bl_idname = "rackfocus.check_readability"
    bl_label = "Check Readability"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _poll_pull(cls, context)

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus
        try:
            cam = pull_engine.resolve_camera(scene)
            resolved = []
            for mark in marks_from_settings(settings):
                frame = (mark.frame if mark.marker is None
                         else pull_engine.marker_frame(scene, mark.marker))
                resolved.append((mark.subject, frame))
            plan = make_plan(resolved, easing_from_settings(settings), settings.space)
            ramp = (settings.fstop_from, settings.fstop_to) if settings.use_fstop_ramp else None
            report = realism_engine.assess_plan(scene, cam, plan, settings.min_blur_px,
                                                fstop_ramp=ramp)
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        write_readout(settings, report)
        level = {"INFO"} if report.readable else {"WARNING"}
        self.report(level, "The pull reads" if report.readable else report.warnings[0])
        return {"FINISHED"}


class RACKFOCUS_OT_solve_fstop(bpy.types.Operator):
    """Set the camera's f-stop to the one the readability check suggests"""

    bl_idname = "rackfocus.solve_fstop"
    bl_label = "Use Suggested F-Stop"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not poll_camera(cls, context):
            return False
        if context.scene.rackfocus.suggested_fstop <= 0.0:
            cls.poll_message_set("No suggestion: Check Readability first (or the pull reads)")
            return False
        return True

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus
        cam = pull_engine.resolve_camera(scene)
        n = settings.suggested_fstop
        if settings.use_fstop_ramp:
            scale = n / settings.fstop_from
            settings.fstop_from, settings.fstop_to = n, max(0.5, settings.fstop_to * scale)
        else:
            cam.data.dof.aperture_fstop = n
        settings.suggested_fstop = 0.0
        self.report({"INFO"}, f"F-stop set to f/{n:g}")
        return {"FINISHED"}


class RACKFOCUS_OT_clear_pull(bpy.types.Operator):
    """Remove the pull from the scene camera and restore its focus, f-stop and focal length"""

    bl_idname = "rackfocus.clear_pull"
    bl_label = "Clear Pull"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        cam = context.scene.camera
        if cam is None or cam.type != "CAMERA" or pull_engine.read_record(cam) is None:
            cls.poll_message_set("The scene camera has no Rack Focus pull")
            return False
        return True

    def execute(self, context):
        cam = context.scene.camera
        try:
            realism_engine.clear_realism(cam)
            message = pull_engine.clear_pull(cam)
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        context.scene.rackfocus.readout = ""
        self.report({"INFO"}, message)
        return {"FINISHED"}


class RACKFOCUS_OT_view_camera(bpy.types.Operator):
    """Look through the scene camera in the 3D viewport and frame its view"""

    bl_idname = "rackfocus.view_camera"
    bl_label = "Frame Camera View"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not poll_camera(cls, context):
            return False
        if _view3d(context) is None:
            cls.poll_message_set("Needs a 3D viewport")
            return False
        return True

    def execute(self, context):
        area = _view3d(context)
        rv3d = area.spaces.active.region_3d
        rv3d.view_perspective = "CAMERA"
        region = next(r for r in area.regions if r.type == "WINDOW")
        with context.temp_override(area=area, region=region):
            bpy.ops.view3d.view_center_camera()
        return {"FINISHED"}


def _view3d(context):
    if context.area is not None and context.area.type == "VIEW_3D":
        return context.area
    screen = context.screen
    if screen is None:
        return None
    return next((a for a in screen.areas if a.type == "VIEW_3D"), None)


classes = (
    RACKFOCUS_OT_add_target, RACKFOCUS_OT_add_mark, RACKFOCUS_OT_pick_mark,
    RACKFOCUS_OT_remove_mark, RACKFOCUS_OT_move_mark, RACKFOCUS_OT_create_pull,
    RACKFOCUS_OT_bake, RACKFOCUS_OT_check_readability, RACKFOCUS_OT_solve_fstop,
    RACKFOCUS_OT_clear_pull, RACKFOCUS_OT_view_camera,
)
