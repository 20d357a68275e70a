"""Import Plate: footage + depth as a depth plate in front of the scene camera."""

import bpy

from ..rackfocus_addon.bl import plate as plate_engine
from ..rackfocus_addon.bl import records
from ..rackfocus_addon.bl.subjects import resolve_subject
from ..rackfocus_addon.depth import (
    DENSITY_RANGE,
    FILL_PX_RANGE,
    FOCAL_RANGE_MM,
    FPS_RANGE,
    SENSOR_RANGE_MM,
    TEAR_RANGE,
    parse_anchor,
    validate_plate_settings,
)
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.marks import SubjectRef
from ..rackfocus_addon.plate_mesh import DEFAULT_TEAR
from .common import run_reported, ui_progress

_KINDS = (
    ("metric", "Metres", "Planar depth in metres (EXR float or 16-bit PNG)"),
    ("normalized", "0 to 1", "0..1, linear from Near to Far"),
    ("inverse", "Disparity", "Relative inverse depth (what depth estimators give), aligned to "
                             "anchors or Near/Far"),
)


def _saved_or_why(context) -> str | None:
    """None when the file is saved, else why plates need it (the cache goes next to it)."""
    if bpy.data.filepath:
        return None
    return "Save the .blend first: the plate's depth cache is written next to it"


class RACKFOCUS_OT_import_plate(bpy.types.Operator):
    """Import footage and its depth as a plate that the camera refocuses physically"""

    bl_idname = "rackfocus.import_plate"
    bl_label = "Import Plate"
    bl_options = {"REGISTER", "UNDO"}

    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",
                                      description="Image, numbered image of a sequence, or folder")
    depth: bpy.props.StringProperty(name="Depth", subtype="FILE_PATH",
                                    description="Depth per frame (EXR metres, 16-bit PNG)")
    depth_kind: bpy.props.EnumProperty(name="Depth In", items=_KINDS, default="metric")
    near: bpy.props.FloatProperty(name="Near", default=0.0, soft_min=0.0, unit="LENGTH",
                                  description="Distance of the nearest value (0: unused)")
    far: bpy.props.FloatProperty(name="Far", default=0.0, soft_min=0.0, unit="LENGTH",
                                 description="Distance of the farthest value (0: unused)")
    anchors: bpy.props.StringProperty(
        name="Anchors", description="Known distances: X,Y=M separated by ';' (pixel from top-left)")
    # No hard limits below: Blender would clamp a wrong value silently; the one set of ranges
    # (depth.validate_plate_settings) refuses it with a message instead.
    sensor: bpy.props.FloatProperty(name="Sensor Width", default=36.0,
                                    soft_min=SENSOR_RANGE_MM[0], soft_max=SENSOR_RANGE_MM[1],
                                    description="Width of the frame on the sensor in millimetres "
                                                "(the camera keeps its sensor fit)")
    focal: bpy.props.FloatProperty(name="Focal Length", default=50.0,
                                   soft_min=FOCAL_RANGE_MM[0], soft_max=1000.0,
                                   description="Lens focal length in millimetres")
    density: bpy.props.FloatProperty(name="Grid Density", default=1.0,
                                     soft_min=DENSITY_RANGE[0], soft_max=DENSITY_RANGE[1],
                                     description="Plate vertices per pixel along each axis")
    fill_px: bpy.props.IntProperty(name="Fill Behind (px)", default=0,
                                   soft_min=FILL_PX_RANGE[0], soft_max=512,
                                   description="How far the background is filled in behind "
                                               "foreground edges, in pixels (0: 2 % of the "
                                               "width)")
    keep_range: bpy.props.BoolProperty(
        name="Keep Scene Range", default=True,
        description="Keep the scene's frame range (the clip plays from its first frame and "
                    "holds its last); off: the range becomes the clip's")
    tear: bpy.props.FloatProperty(name="Edge Tear", default=DEFAULT_TEAR,
                                  soft_min=TEAR_RANGE[0], soft_max=1.0,
                                  description="Relative depth jump that splits the plate")
    fps: bpy.props.FloatProperty(name="Frame Rate", default=0.0, soft_min=0.0,
                                 soft_max=FPS_RANGE[1],
                                 description="Frames per second (0: the movie's own, or 24 for "
                                             "an image sequence)")

    @classmethod
    def poll(cls, context):
        why = _saved_or_why(context)
        if why:
            cls.poll_message_set(why)
        return why is None

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self, width=420)

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(self, "footage")
        layout.prop(self, "depth")
        layout.prop(self, "depth_kind")
        if self.depth_kind != "metric":
            col = layout.column(align=True)
            col.prop(self, "near")
            col.prop(self, "far")
        if self.depth_kind == "inverse":
            layout.prop(self, "anchors")
        col = layout.column(align=True)
        col.prop(self, "sensor")
        col.prop(self, "focal")
        layout.prop(self, "keep_range")
        scene = context.scene
        what = "resolution and frame rate" if self.keep_range else \
            "resolution, frame rate and frame range"
        box = layout.box().column(align=True)
        box.label(text=f"Sets the scene's {what} to the footage's", icon="INFO")
        box.label(text=f"(now {scene.render.resolution_x}x{scene.render.resolution_y}, "
                       f"{scene.render.fps / scene.render.fps_base:g} fps, frames "
                       f"{scene.frame_start}-{scene.frame_end})", icon="BLANK1")
        col = layout.column(align=True, heading="Edges")
        col.prop(self, "tear")
        col.prop(self, "fill_px")
        col.prop(self, "density")
        layout.prop(self, "fps")

    def execute(self, context):
        scene = context.scene

        def work():
            near, far = self.near or None, self.far or None
            fill_px, fps = self.fill_px or None, self.fps or None
            problems = validate_plate_settings(self.sensor, self.focal, self.density, self.tear,
                                               fill_px, fps, near, far, names=_LABELS)
            if problems:
                raise RackFocusError("; ".join(problems))
            anchors = [parse_anchor(a) for a in self.anchors.split(";") if a.strip()]
            with ui_progress(context) as progress:
                result = plate_engine.build_plate(
                    scene, self.footage, self.depth, self.depth_kind, near, far, anchors,
                    sensor_mm=self.sensor, focal_mm=self.focal, density=self.density,
                    tear=self.tear, fill_px=fill_px, fps=fps, progress=progress,
                    keep_range=self.keep_range,
                )
            for warning in result.warnings:
                self.report({"WARNING"}, warning)
            for change in result.scene_changes:
                self.report({"INFO"}, f"Scene {change}")
            outside = sorted({m.frame for m in scene.rackfocus.marks
                              if not scene.frame_start <= m.frame <= scene.frame_end})
            if outside:
                self.report({"WARNING"}, f"Focus marks at frames {outside} now lie outside the "
                                         f"scene's range {scene.frame_start}-{scene.frame_end}")
            _show_textures(context)
            for note in result.report.notes:
                self.report({"INFO"}, note)
            self.report({"INFO"}, result.summary())

        return run_reported(self, work)


#: How the operator's settings are named in its messages (its labels, not the CLI's flags).
_LABELS = {"sensor_mm": "Sensor Width", "focal_mm": "Focal Length", "density": "Grid Density",
           "tear": "Tear Ratio", "fill_px": "Fill Radius", "fps": "Frame Rate", "near_m": "Near",
           "far_m": "Far"}


class RACKFOCUS_OT_add_pixel_mark(bpy.types.Operator):
    """Add a focus mark on the footage at a pixel of the scene camera's plate (current frame)"""

    bl_idname = "rackfocus.add_pixel_mark"
    bl_label = "Mark Footage Pixel"
    bl_options = {"REGISTER", "UNDO"}

    x: bpy.props.IntProperty(name="X", default=0, min=0, description="Pixel column from the left")
    y: bpy.props.IntProperty(name="Y", default=0, min=0, description="Pixel row from the top")

    @classmethod
    def poll(cls, context):
        camera = context.scene.camera
        if camera is None or not plate_engine.plates(camera):
            cls.poll_message_set("The scene camera has no depth plate: import one first")
            return False
        return True

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        scene = context.scene

        def work():
            # Resolve now so a pixel off the footage or a missing plate is refused here; the
            # mark itself stays a pixel mark, tracked through the camera like the CLI's px:.
            subject = resolve_subject(scene, scene.camera,
                                      SubjectRef("pixel", coords=(self.x, self.y)))
            subject.check_mark(scene.frame_current)
            depth = subject.reader.depth_at(scene.frame_current, self.x, self.y)
            item = scene.rackfocus.marks.add()
            item.kind = "PIXEL"
            item.pixel = (self.x, self.y)
            item.frame = scene.frame_current
            scene.rackfocus.active_mark = len(scene.rackfocus.marks) - 1
            self.report({"INFO"}, f"Marked the footage at pixel ({self.x}, {self.y}), "
                                  f"{depth:.2f} m away, frame {scene.frame_current}")

        return run_reported(self, work)


def _show_textures(context) -> None:
    """Solid viewports show the footage instead of a flat grey wall."""
    for area in getattr(context.screen, "areas", ()) or ():
        if area.type == "VIEW_3D":
            shading = area.spaces.active.shading
            if shading.type == "SOLID":
                shading.color_type = "TEXTURE"


def _plate_pixel(context, event):
    """(plate, x, y) of the footage pixel under the mouse in the camera view, or None."""
    from bpy_extras import view3d_utils
    from mathutils import Vector

    from ..rackfocus_addon.plate_mesh import project

    scene = context.scene
    camera = scene.camera
    for area in context.screen.areas:
        if area.type != "VIEW_3D":
            continue
        region = next((r for r in area.regions if r.type == "WINDOW"), None)
        if region is None:
            continue
        x, y = event.mouse_x - region.x, event.mouse_y - region.y
        if not (0 <= x < region.width and 0 <= y < region.height):
            continue
        rv3d = area.spaces.active.region_3d
        origin = view3d_utils.region_2d_to_origin_3d(region, rv3d, (x, y))
        direction = view3d_utils.region_2d_to_vector_3d(region, rv3d, (x, y))
        to_camera = camera.matrix_world.inverted()
        ray = (to_camera @ (origin + direction) - to_camera @ origin).normalized()
        if ray.z >= 0.0:
            continue  # looking away from the camera's view
        for plate_obj in plate_engine.plates(camera):
            record = records.read(plate_obj, plate_engine.RECORD) or {}
            if not record:
                continue
            # The pixel a camera ray shows depends on its direction only (the camera sees the
            # plate exactly as the footage): project a point of the ray.
            u, v = project(Vector(ray / -ray.z), record["width"], record["height"],
                           record["sensor_mm"], record["focal_mm"])
            px, py = u * record["width"] - 0.5, (1.0 - v) * record["height"] - 0.5
            if 0 <= round(px) < record["width"] and 0 <= round(py) < record["height"]:
                return plate_obj, int(round(px)), int(round(py))
    return None


class RACKFOCUS_OT_pick_footage(bpy.types.Operator):
    """Click the footage in the camera view to add a focus mark there (shows the depth under
    the mouse; Esc cancels)"""

    bl_idname = "rackfocus.pick_footage"
    bl_label = "Pick Footage Mark"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return RACKFOCUS_OT_add_pixel_mark.poll(context)

    def invoke(self, context, event):
        if bpy.app.background or not any(a.type == "VIEW_3D" for a in context.screen.areas):
            self.report({"ERROR"}, "Picking needs a 3D viewport")
            return {"CANCELLED"}
        context.window.cursor_modal_set("EYEDROPPER")
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set("Click the footage to focus there; Esc to cancel")
        return {"RUNNING_MODAL"}

    def _finish(self, context):
        context.window.cursor_modal_restore()
        context.workspace.status_text_set(None)

    def modal(self, context, event):
        if event.type in {"ESC", "RIGHTMOUSE"}:
            self._finish(context)
            return {"CANCELLED"}
        hit = _plate_pixel(context, event)
        if event.type == "MOUSEMOVE":
            text = "Click the footage to focus there; Esc to cancel"
            if hit is not None:
                subject = resolve_subject(context.scene, context.scene.camera,
                                          SubjectRef("pixel", coords=hit[1:]))
                depth = subject.reader.depth_at(context.scene.frame_current, *hit[1:])
                text = f"Footage {hit[1]},{hit[2]}: {depth:.2f} m  (click to mark, Esc cancels)"
            context.workspace.status_text_set(text)
            return {"RUNNING_MODAL"}
        if event.type != "LEFTMOUSE" or event.value != "PRESS":
            return {"RUNNING_MODAL"}
        self._finish(context)
        if hit is None:
            self.report({"WARNING"}, "No footage under the mouse: look through the camera")
            return {"CANCELLED"}
        return bpy.ops.rackfocus.add_pixel_mark(x=hit[1], y=hit[2])


def draw_section(layout, context) -> None:
    """The panel's Import Plate section: the button and the scene camera's plates."""
    col = layout.column()
    col.operator(RACKFOCUS_OT_import_plate.bl_idname, icon="IMPORT")
    col.operator(RACKFOCUS_OT_pick_footage.bl_idname, text="Pick on Footage",
                 icon="EYEDROPPER")
    camera = context.scene.camera
    if camera is None:
        return
    for obj in plate_engine.plates(camera):
        row = col.row()
        row.label(text=obj.name, icon="IMAGE_DATA")
        mod = obj.modifiers.get("RackFocus Plate")
        if mod is not None:
            row.prop(mod, "show_viewport", text="")


classes = (RACKFOCUS_OT_import_plate, RACKFOCUS_OT_add_pixel_mark, RACKFOCUS_OT_pick_footage)
