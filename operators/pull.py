"""Operators that edit the focus marks and build, bake, check and clear pulls."""

import bpy

from ..rackfocus_addon.bl import pull as pull_engine
from ..rackfocus_addon.bl import realism as realism_engine
from ..rackfocus_addon.bl.scene_eval import depth_along_axis
from ..rackfocus_addon.bl.subjects import resolve_camera
from ..rackfocus_addon.describe import status_line
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.schedule import HOLD_S, TRANSITION_S, beats
from .common import (
    ViewportPick,
    camera_or_why,
    poll_camera,
    poll_camera_view,
    poll_marks,
    poll_settings,
    run_reported,
    ui_progress,
    view3d_area,
)
from .from_panel import insert_mark, request_from_settings, write_readout


def _report_pull(operator, result) -> None:
    for note in result.notes:
        operator.report({"WARNING"}, note)
    if result.report is not None and not result.report.readable:
        operator.report({"WARNING"}, "The pull will not read: see Readability for the fix")
    operator.report({"INFO"}, status_line(result.plan))


def run_pull(operator, context, mode: str | None = None) -> set[str]:
    """Write the panel's pull (``mode`` overrides the panel's) and show its readability."""
    scene = context.scene
    settings = scene.rackfocus

    def work():
        cam = resolve_camera(scene)
        with ui_progress(context) as progress:
            result = pull_engine.write_pull(scene, cam, request_from_settings(settings, mode),
                                            progress)
        write_readout(settings, result.report)
        _report_pull(operator, result)

    return run_reported(operator, work)


class RACKFOCUS_OT_add_target(bpy.types.Operator):
    """Create (or reuse) the scene camera's focus-target empty on the selected subject (or the
    3D cursor) and turn depth of field on"""

    bl_idname = "rackfocus.add_target"
    bl_label = "Add Focus Target"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return poll_camera(cls, context)

    def execute(self, context):
        cam, why = camera_or_why(context)
        if cam is None:
            self.report({"ERROR"}, why)
            return {"CANCELLED"}
        target, created = pull_engine.ensure_target(cam)
        if created:
            # Where the artist is looking: the selected subject, else the 3D cursor (never a
            # fixed distance that leaves the whole frame soft).
            subject = next((o for o in _selected_subjects(context)), None)
            place = subject.matrix_world.translation if subject else context.scene.cursor.location
            target.location = place
        cam.data.dof.use_dof = True
        if cam.data.dof.focus_object is None:
            cam.data.dof.focus_object = target
        self.report({"INFO"}, f"{'Created' if created else 'Reused'} focus target '{target.name}'")
        return {"FINISHED"}


def _selected_subjects(context) -> list:
    """The selected objects that can be subjects (not cameras), active first."""
    scene = context.scene
    active = context.active_object
    selected = list(getattr(context, "selected_objects", None) or [])
    chosen = [o for o in ([active] if active in selected else []) + selected
              if o is not None and o != scene.camera and o.type != "CAMERA"]
    return list(dict.fromkeys(chosen))


def add_point_mark(scene, location, frame: int) -> int:
    """A point mark at ``frame``, in time order in the list; returns its index."""
    return insert_mark(scene, scene.rackfocus, frame, kind="POINT", point=location)


def _first_frame(scene, settings, fps: float) -> tuple[int, str]:
    """The frame the new marks start on, and why it is not the current frame ('' if it is)."""
    start = scene.frame_current
    if len(settings.marks):
        last = max(m.frame for m in settings.marks)
        after = last + round(TRANSITION_S * fps)
        if after > start:
            return after, f"{TRANSITION_S:g} s after the last mark, frame {last}"
    elif not scene.frame_start <= start < scene.frame_end:
        return scene.frame_start, "the scene's first frame"
    return start, ""


def _span(frames: int, fps: float) -> str:
    return f"{frames} frame{'s' if frames != 1 else ''} ({frames / fps:.2g} s)"


def added_report(chosen, timed: list[tuple[int, int]], fps: float, why: str) -> str:
    """What + did, in frames as written: where the marks landed and the holds and racks they
    got (squeezed to fit the scene's range when the usual ones do not)."""
    where = f"frame {timed[0][0]}" + (f" ({why})" if why else "")
    if len(chosen) == 1:
        return f"Mark on {chosen[0].name} at {where}"
    order = " -> ".join(o.name for o in chosen)
    hold = timed[0][1] - timed[0][0]
    rack = timed[1][0] - timed[0][1]
    squeezed = (hold < round(HOLD_S * fps) or rack < round(TRANSITION_S * fps))
    fit = f", squeezed to fit the scene's last frame {timed[-1][1]}" if squeezed else ""
    return (f"Marks near to far from {where}: {order}, each held {_span(hold, fps)} and racked "
            f"over {_span(rack, fps)}{fit}")


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
        return poll_settings(cls, context)

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus
        settings.left_out_note = ""  # a preset's note is about the marks it timed
        if self.use_cursor:
            add_point_mark(scene, scene.cursor.location, scene.frame_current)
            self.report({"INFO"}, f"Mark on the 3D cursor at frame {scene.frame_current}")
            return {"FINISHED"}
        chosen = _selected_subjects(context)
        if not chosen:
            self.report({"ERROR"}, "Select a subject (not the camera) or use the 3D cursor")
            return {"CANCELLED"}
        cam = scene.camera
        if len(chosen) > 1 and cam is not None:
            # A first pull reads near to far: order by depth from the camera (a preset may
            # reverse it).
            chosen.sort(key=lambda o: depth_along_axis(cam, o.matrix_world.translation))
        fps = scene.render.fps / scene.render.fps_base
        start, why = _first_frame(scene, settings, fps)
        end = max(scene.frame_end, start)
        timed = beats(len(chosen), fps, start, end)
        first = len(settings.marks)
        bone = context.active_pose_bone
        for obj, (arrive, leave) in zip(chosen, timed):
            for frame in dict.fromkeys((arrive, leave)):
                item = settings.marks.add()
                item.frame = frame
                item.subject = obj
                if obj.type == "ARMATURE" and bone is not None and bone.id_data == obj:
                    item.kind, item.bone = "BONE", bone.name
        # The first new mark is the active one: the list shows it (and those after it).
        settings.active_mark = first
        self.report({"INFO"}, added_report(chosen, timed, fps, why))
        return {"FINISHED"}


class RACKFOCUS_OT_pick_mark(ViewportPick, bpy.types.Operator):
    """Click a surface in the 3D viewport to add a focus mark on that point (Esc cancels)"""

    bl_idname = "rackfocus.pick_mark"
    bl_label = "Pick Focus Point"
    bl_options = {"REGISTER", "UNDO"}
    pick_hint = "Click a surface to focus on; Esc to cancel"

    location: bpy.props.FloatVectorProperty(name="Location", subtype="TRANSLATION", size=3,
                                            description="The picked point (metres)")
    use_location: bpy.props.BoolProperty(name="Use Location", default=False,
                                         options={"HIDDEN", "SKIP_SAVE"})

    @classmethod
    def poll(cls, context):
        return poll_settings(cls, context)

    def execute(self, context):
        if not self.use_location:
            self.report({"ERROR"}, "Click a surface in the 3D viewport to pick a point")
            return {"CANCELLED"}
        add_point_mark(context.scene, self.location, context.scene.frame_current)
        return {"FINISHED"}

    def modal(self, context, event):
        if self.cancelled(context, event):
            return {"CANCELLED"}
        if event.type != "LEFTMOUSE" or event.value != "PRESS":
            return {"RUNNING_MODAL"}
        hit = _ray_cast_under_mouse(context, event)
        self.finish(context)
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
        if not len(settings.marks):
            write_readout(settings, None)  # no subjects left to report on
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
        return poll_marks(cls, context)

    def execute(self, context):
        return run_pull(self, context, None if self.mode == "SETTINGS" else self.mode)


class RACKFOCUS_OT_bake(bpy.types.Operator):
    """Create the pull as baked focus-distance keys, whatever the panel's Mode says (the same
    as Create Pull with Mode: Baked Keys)"""

    bl_idname = "rackfocus.bake"
    bl_label = "Bake Pull"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return poll_marks(cls, context)

    def execute(self, context):
        return run_pull(self, context, "bake")


class RACKFOCUS_OT_check_readability(bpy.types.Operator):
    """Measure each subject's blur in pixels where every rack starts and ends, and suggest the
    f-stop that makes the pull read"""

    bl_idname = "rackfocus.check_readability"
    bl_label = "Check Readability"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return poll_marks(cls, context)

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus

        def work():
            cam = resolve_camera(scene)
            report = realism_engine.assess_request_in_scene(
                scene, cam, request_from_settings(settings, solve=False))
            write_readout(settings, report)
            if report.readable:
                self.report({"INFO"}, "The pull reads")
            else:
                self.report({"WARNING"}, report.warnings[0])

        return run_reported(self, work)


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
        cam = resolve_camera(scene)
        n = settings.suggested_fstop
        if settings.use_fstop_ramp:
            scale = n / settings.fstop_from
            settings.fstop_from, settings.fstop_to = n, max(0.5, settings.fstop_to * scale)
        else:
            cam.data.dof.aperture_fstop = n
        settings.suggested_fstop = 0.0
        # The readout described the old f-stop: check again so it shows what this one gives.
        try:
            report = realism_engine.assess_request_in_scene(
                scene, cam, request_from_settings(settings, solve=False))
        except RackFocusError:
            write_readout(settings, None)
        else:
            write_readout(settings, report)
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
        message = pull_engine.clear_pull(context.scene.camera)
        write_readout(context.scene.rackfocus, None)
        self.report({"INFO"}, message or "The scene camera has no Rack Focus pull")
        return {"FINISHED"}


class RACKFOCUS_OT_view_camera(bpy.types.Operator):
    """Look through the scene camera in the 3D viewport and frame its view"""

    bl_idname = "rackfocus.view_camera"
    bl_label = "Frame Camera View"
    # A view change, not a data change: nothing to undo.
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return poll_camera_view(cls, context)

    def execute(self, context):
        area = view3d_area(context)
        rv3d = area.spaces.active.region_3d
        rv3d.view_perspective = "CAMERA"
        region = next(r for r in area.regions if r.type == "WINDOW")
        with context.temp_override(area=area, region=region):
            bpy.ops.view3d.view_center_camera()
        return {"FINISHED"}


#: Viewports previewing the camera's depth of field: area pointer -> what Preview DOF changed
#: there ({"shading": type, "use_dof": bool}), put back when the toggle goes off.
_previews: dict[int, dict] = {}


def is_previewing(area) -> bool:
    """Whether Preview DOF is on in the 3D viewport ``area``."""
    return area is not None and area.as_pointer() in _previews


class RACKFOCUS_OT_preview_dof(bpy.types.Operator):
    """Toggle a preview of the camera's depth of field through the camera: on, Material Preview
    (or the current Rendered view) shows it; off, the viewport's shading comes back as it was"""

    bl_idname = "rackfocus.preview_dof"
    bl_label = "Preview DOF"
    # A view change, not a data change: nothing to undo.
    bl_options = {"REGISTER"}

    @classmethod
    def poll(cls, context):
        return poll_camera_view(cls, context)

    def execute(self, context):
        area = view3d_area(context)
        space = area.spaces.active
        shading = space.shading
        saved = _previews.pop(area.as_pointer(), None)
        if saved is not None:
            # Only what Preview DOF changed, and only if the artist has not changed it since.
            if shading.type == "MATERIAL" and saved["shading"] != "MATERIAL":
                shading.type = saved["shading"]
            shading.use_dof = saved["use_dof"]
            area.tag_redraw()
            self.report({"INFO"}, "Depth of field preview off")
            return {"FINISHED"}
        _previews[area.as_pointer()] = {"shading": shading.type, "use_dof": shading.use_dof}
        space.region_3d.view_perspective = "CAMERA"
        if shading.type in ("SOLID", "WIREFRAME"):
            shading.type = "MATERIAL"  # EEVEE shows the camera's depth of field through it
        shading.use_dof = True  # the Solid (Workbench) view's own camera DOF, if switched back
        camera = context.scene.camera
        turned_on = not camera.data.dof.use_dof
        camera.data.dof.use_dof = True
        context.scene.rackfocus.show_overlay = True
        area.tag_redraw()
        self.report({"INFO"}, "Previewing the camera's depth of field"
                              + (f" (turned {camera.name}'s DOF on)" if turned_on else ""))
        return {"FINISHED"}


classes = (
    RACKFOCUS_OT_add_target, RACKFOCUS_OT_add_mark, RACKFOCUS_OT_pick_mark,
    RACKFOCUS_OT_remove_mark, RACKFOCUS_OT_move_mark, RACKFOCUS_OT_create_pull,
    RACKFOCUS_OT_bake, RACKFOCUS_OT_check_readability, RACKFOCUS_OT_solve_fstop,
    RACKFOCUS_OT_clear_pull, RACKFOCUS_OT_view_camera, RACKFOCUS_OT_preview_dof,
)
