"""Import Plate: footage + depth as a depth plate in front of the scene camera."""

import bpy

from ..rackfocus_addon.bl import plate as plate_engine
from ..rackfocus_addon.bl.subjects import resolve_subject
from ..rackfocus_addon.depth import parse_anchor
from ..rackfocus_addon.marks import SubjectRef
from ..rackfocus_addon.plate_mesh import DEFAULT_TEAR
from .common import run_reported, ui_progress

_KINDS = (
    ("metric", "Metric", "Planar depth in metres (EXR float or 16-bit PNG)"),
    ("normalized", "Normalized", "0..1, linear from Near to Far"),
    ("inverse", "Inverse / Disparity", "Relative inverse depth, aligned to anchors or Near/Far"),
)


class RACKFOCUS_OT_import_plate(bpy.types.Operator):
    """Import footage and its depth as a plate that the camera refocuses physically"""

    bl_idname = "rackfocus.import_plate"
    bl_label = "Import Plate"
    bl_options = {"REGISTER", "UNDO"}

    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",
                                      description="Image, numbered image of a sequence, or folder")
    depth: bpy.props.StringProperty(name="Depth", subtype="FILE_PATH",
                                    description="Depth per frame (EXR metres, 16-bit PNG)")
    depth_kind: bpy.props.EnumProperty(name="Depth Kind", items=_KINDS, default="metric")
    near: bpy.props.FloatProperty(name="Near", default=0.0, min=0.0, unit="LENGTH",
                                  description="Distance of the nearest value (0: unused)")
    far: bpy.props.FloatProperty(name="Far", default=0.0, min=0.0, unit="LENGTH",
                                 description="Distance of the farthest value (0: unused)")
    anchors: bpy.props.StringProperty(
        name="Anchors", description="Known distances: X,Y=M separated by ';' (pixel from top-left)")
    sensor: bpy.props.FloatProperty(name="Sensor Width", default=36.0, min=1.0, max=100.0,
                                    description="Camera sensor width in millimetres")
    focal: bpy.props.FloatProperty(name="Focal Length", default=50.0, min=1.0, max=1000.0,
                                   description="Lens focal length in millimetres")
    density: bpy.props.FloatProperty(name="Grid Density", default=1.0, min=0.125, max=4.0,
                                     description="Plate vertices per pixel along each axis")
    fill_px: bpy.props.IntProperty(name="Fill Radius", default=0, min=0, max=512,
                                   description="Background fill in pixels (0: 2% of the width)")
    tear: bpy.props.FloatProperty(name="Tear Ratio", default=DEFAULT_TEAR, min=0.001, max=1.0,
                                  description="Relative depth jump that splits the plate")

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self, width=420)

    def execute(self, context):
        scene = context.scene

        def work():
            anchors = [parse_anchor(a) for a in self.anchors.split(";") if a.strip()]
            with ui_progress(context) as progress:
                result = plate_engine.build_plate(
                    scene, self.footage, self.depth, self.depth_kind,
                    self.near or None, self.far or None, anchors,
                    sensor_mm=self.sensor, focal_mm=self.focal, density=self.density,
                    tear=self.tear, fill_px=self.fill_px or None, progress=progress,
                )
            for warning in result.warnings:
                self.report({"WARNING"}, warning)
            self.report({"INFO"}, result.summary())

        return run_reported(self, work)


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
            depth = subject.reader.depth_at(scene.frame_current, self.x, self.y)
            item = scene.rackfocus.marks.add()
            item.kind = "PIXEL"
            item.pixel = (self.x, self.y)
            item.frame = scene.frame_current
            scene.rackfocus.active_mark = len(scene.rackfocus.marks) - 1
            self.report({"INFO"}, f"Marked the footage at pixel ({self.x}, {self.y}), "
                                  f"{depth:.2f} m away, frame {scene.frame_current}")

        return run_reported(self, work)


def draw_section(layout, context) -> None:
    """The panel's Import Plate section: the button and the scene camera's plates."""
    box = layout.column()
    box.operator(RACKFOCUS_OT_import_plate.bl_idname, icon="IMPORT")
    box.operator(RACKFOCUS_OT_add_pixel_mark.bl_idname, icon="EYEDROPPER")
    camera = context.scene.camera
    if camera is None:
        return
    for obj in plate_engine.plates(camera):
        row = box.row()
        row.label(text=obj.name, icon="IMAGE_DATA")
        mod = obj.modifiers.get("RackFocus Plate")
        if mod is not None:
            row.prop(mod, "show_viewport", text="")
    box.label(text="Marks on footage: px:X,Y@FRAME", icon="INFO")


classes = (RACKFOCUS_OT_import_plate, RACKFOCUS_OT_add_pixel_mark)
