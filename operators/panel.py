"""The "Rack Focus" tab in the 3D viewport sidebar. Panels draw; operators act."""

import bpy

from . import plate


class RACKFOCUS_UL_marks(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop):
        row = layout.row(align=True)
        if item.kind == "POINT":
            row.label(text="Point", icon="EMPTY_AXIS")
        elif item.kind == "PIXEL":
            row.label(text=f"Footage {item.pixel[0]},{item.pixel[1]}", icon="IMAGE_DATA")
        else:
            row.prop(item, "subject", text="")
            if item.kind == "BONE":
                row.label(text=item.bone, icon="BONE_DATA")
        if item.marker:
            row.label(text=item.marker, icon="MARKER_HLT")
        else:
            row.prop(item, "frame", text="")


class _Base:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Rack Focus"

    @classmethod
    def poll(cls, context):
        return getattr(context.scene, "rackfocus", None) is not None


class RACKFOCUS_PT_main(_Base, bpy.types.Panel):
    bl_label = "Rack Focus"
    bl_idname = "RACKFOCUS_PT_main"

    def draw(self, context):
        layout = self.layout
        scene = context.scene
        settings = scene.rackfocus
        row = layout.row(align=True)
        row.prop(scene, "camera", text="")
        row.operator("rackfocus.view_camera", text="", icon="VIEW_CAMERA")
        layout.operator("rackfocus.add_target", icon="EMPTY_SINGLE_ARROW")

        row = layout.row(align=True)
        row.menu("RACKFOCUS_MT_presets", text=settings.preset or "Pull Presets",
                 icon="PRESET")
        row.operator("rackfocus.save_preset", text="", icon="ADD")
        row.operator("rackfocus.remove_preset", text="", icon="REMOVE")

        layout.label(text="Focus Marks")
        row = layout.row()
        row.template_list("RACKFOCUS_UL_marks", "", settings, "marks", settings, "active_mark",
                          rows=4)
        col = row.column(align=True)
        col.operator("rackfocus.add_mark", icon="ADD", text="")
        col.operator("rackfocus.add_mark", icon="PIVOT_CURSOR", text="").use_cursor = True
        col.operator("rackfocus.pick_mark", icon="EYEDROPPER", text="")
        col.operator("rackfocus.remove_mark", icon="REMOVE", text="")
        col.separator()
        col.operator("rackfocus.move_mark", icon="TRIA_UP", text="").direction = "UP"
        col.operator("rackfocus.move_mark", icon="TRIA_DOWN", text="").direction = "DOWN"
        if 0 <= settings.active_mark < len(settings.marks):
            item = settings.marks[settings.active_mark]
            sub = layout.row(align=True)
            sub.prop(item, "frame")
            sub.prop_search(item, "marker", scene, "timeline_markers", text="", icon="MARKER")

        col = layout.column()
        row = col.row(align=True)
        row.prop(settings, "easing", text="")
        row.prop(settings, "easing_mode", text="")
        col.prop(settings, "space")
        col.prop(settings, "mode")
        col.prop(settings, "replace")
        row = layout.row(align=True)
        row.scale_y = 1.3
        row.operator("rackfocus.create_pull", icon="CAMERA_DATA")
        row.operator("rackfocus.bake", icon="KEYFRAME_HLT")
        layout.operator("rackfocus.clear_pull", icon="X")


class RACKFOCUS_PT_timing(_Base, bpy.types.Panel):
    bl_label = "Timing"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.rackfocus
        col = self.layout.column(align=True)
        col.prop(settings, "sequence")
        col.prop(settings, "return_to_start")
        col.prop(settings, "unit", expand=True)
        col.prop(settings, "hold_start")
        col.prop(settings, "transition")
        col.prop(settings, "hold_middle")
        col.prop(settings, "hold_end")
        col.prop(settings, "overshoot")
        col.operator("rackfocus.retime", icon="TIME")


class RACKFOCUS_PT_realism(_Base, bpy.types.Panel):
    bl_label = "Lens Realism"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.rackfocus
        col = self.layout.column()
        col.prop(settings, "use_fstop_ramp")
        row = col.row(align=True)
        row.enabled = settings.use_fstop_ramp
        row.prop(settings, "fstop_from")
        row.prop(settings, "fstop_to")
        row = col.row(align=True)
        row.prop(settings, "breathing")
        row.prop(settings, "close_focus_m")
        col.prop(settings, "hysteresis")
        col.prop(settings, "soft_blur")
        col.prop(settings, "show_overlay")


class RACKFOCUS_PT_readability(_Base, bpy.types.Panel):
    bl_label = "Readability"
    bl_parent_id = "RACKFOCUS_PT_main"

    def draw(self, context):
        settings = context.scene.rackfocus
        layout = self.layout
        row = layout.row(align=True)
        row.prop(settings, "min_blur_px")
        row.prop(settings, "solve_fstop", text="Solve")
        layout.operator("rackfocus.check_readability", icon="VIEWZOOM")
        box = layout.box()
        if not len(settings.readout_lines):
            box.label(text="Check Readability to see each subject's blur", icon="DOT")
        for line in settings.readout_lines:
            box.label(text=line.text, icon="ERROR" if line.warning else "DOT")
        if settings.suggested_fstop > 0.0:
            layout.operator("rackfocus.solve_fstop",
                            text=f"Use f/{settings.suggested_fstop:g}", icon="CHECKMARK")


class RACKFOCUS_PT_output(_Base, bpy.types.Panel):
    bl_label = "Focus Data"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        row = layout.row(align=True)
        row.operator("rackfocus.export", icon="EXPORT")
        row.operator("rackfocus.describe", icon="TEXT")
        text = context.scene.rackfocus.description_text
        if text:
            col = layout.box().column(align=True)
            words, line = text.split(), ""
            for word in words:  # a plain word wrap: labels do not wrap themselves
                if len(line) + len(word) > 42:
                    col.label(text=line)
                    line = ""
                line = f"{line} {word}".strip()
            if line:
                col.label(text=line)


class RACKFOCUS_PT_plate(_Base, bpy.types.Panel):
    bl_label = "Import Plate"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        plate.draw_section(self.layout, context)


class RACKFOCUS_MT_menu(bpy.types.Menu):
    """Rack Focus commands (also found through F3 search)"""

    bl_label = "Rack Focus"
    bl_idname = "RACKFOCUS_MT_menu"

    def draw(self, context):
        layout = self.layout
        for idname in menu_operator_ids():
            layout.operator(idname)
        layout.menu("RACKFOCUS_MT_presets")


#: Operators in the menu, in workflow order (list-editing ones live on the list's buttons).
MENU_OPERATORS = ("add_target", "add_mark", "pick_mark", "remove_mark", "retime", "create_pull",
                  "bake", "check_readability", "solve_fstop", "clear_pull", "view_camera",
                  "save_preset", "export", "describe", "import_plate", "add_pixel_mark")


def menu_operator_ids() -> list[str]:
    """Every operator the menu lists."""
    return [f"rackfocus.{op}" for op in MENU_OPERATORS]


def _menu_entry(self, context):
    self.layout.menu("RACKFOCUS_MT_menu", icon="CAMERA_DATA")


classes = (RACKFOCUS_UL_marks, RACKFOCUS_PT_main, RACKFOCUS_PT_timing, RACKFOCUS_PT_realism,
           RACKFOCUS_PT_readability, RACKFOCUS_PT_output, RACKFOCUS_PT_plate, RACKFOCUS_MT_menu)


def register_extra() -> None:
    bpy.types.VIEW3D_MT_view_cameras.append(_menu_entry)


def unregister_extra() -> None:
    bpy.types.VIEW3D_MT_view_cameras.remove(_menu_entry)
