"""Focus data out: export per-frame focus data (CSV / JSON) and describe the pull in words."""

import bpy
from bpy_extras.io_utils import ExportHelper

from ..rackfocus_addon.bl import export as export_engine
from ..rackfocus_addon.bl import pull as pull_engine
from .common import run_reported, ui_progress


def _poll_recorded(cls, context) -> bool:
    cam = context.scene.camera
    if cam is None or cam.type != "CAMERA" or pull_engine.read_record(cam) is None:
        cls.poll_message_set("The scene camera has no Rack Focus pull: Create Pull first")
        return False
    return True


class RACKFOCUS_OT_export(bpy.types.Operator, ExportHelper):
    """Export per-frame focus distance, f-stop, focal length and each subject's blur in pixels"""

    bl_idname = "rackfocus.export"
    bl_label = "Export Focus Data"
    # Writes files, changes no data: nothing to undo.
    bl_options = {"REGISTER"}

    filename_ext = ".csv"
    filter_glob: bpy.props.StringProperty(default="*.csv;*.json", options={"HIDDEN"})
    file_format: bpy.props.EnumProperty(
        name="Format", items=[("CSV", "CSV", "One row per frame"),
                              ("JSON", "JSON", "Frames with metadata"),
                              ("BOTH", "Both", "A .csv and a .json side by side")],
        default="CSV")

    @classmethod
    def poll(cls, context):
        return _poll_recorded(cls, context)

    def execute(self, context):
        path = bpy.path.ensure_ext(self.filepath, "")
        stem = path.rsplit(".", 1)[0] if path.lower().endswith((".csv", ".json")) else path
        target = {"CSV": stem + ".csv", "JSON": stem + ".json", "BOTH": stem}[self.file_format]

        def work():
            with ui_progress(context) as progress:
                written = export_engine.export(context.scene, context.scene.camera, target,
                                               progress=progress)
            self.report({"INFO"}, "Exported " + ", ".join(written))

        return run_reported(self, work)


class RACKFOCUS_OT_describe(bpy.types.Operator):
    """Describe the pull in words for an AI video prompt (copied to the clipboard)"""

    bl_idname = "rackfocus.describe"
    bl_label = "Describe Pull"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _poll_recorded(cls, context)

    def execute(self, context):
        def work():
            text = export_engine.describe_pull(context.scene, context.scene.camera)
            context.scene.rackfocus.description_text = text
            if not bpy.app.background:
                context.window_manager.clipboard = text
            self.report({"INFO"}, text)

        return run_reported(self, work)


classes = (RACKFOCUS_OT_export, RACKFOCUS_OT_describe)
