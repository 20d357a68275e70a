"""The "Rack Focus" tab in the 3D viewport sidebar. Panels draw; operators act."""

import bpy

from . import plate
from .pull import is_previewing


class RACKFOCUS_UL_marks(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop):
        row = layout.row(align=True)
        if item.kind == "POINT":
            row.label(text="Point", icon="EMPTY_AXIS")
        elif item.kind == "PIXEL":
            row.label(text=f"{item.pixel[0]},{item.pixel[1]}", icon="IMAGE_DATA")
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


def wrapped(layout, text: str, width_px: float, icon: str = "NONE") -> None:
    """``text`` as labels broken at words to fit ``width_px`` (labels do not wrap themselves).

    Measured with the UI font where one is loaded (a window), else by a typical glyph width.
    """
    # Split at plain spaces only: a number and its unit are joined by a no-break space.
    words, line, first = text.split(" "), "", True
    scale = bpy.context.preferences.system.ui_scale
    # The icon, the label's margins and a box's border come off the width.
    room = max(width_px - (50 if icon != "NONE" else 30) * scale, 60)
    for word in words:
        candidate = f"{line} {word}".strip()
        if line and _text_width(candidate) > room:
            layout.label(text=line, icon=icon if first else "BLANK1")
            line, first = word, False
        else:
            line = candidate
    if line:
        layout.label(text=line, icon=icon if first else ("BLANK1" if icon != "NONE" else "NONE"))


def _text_width(text: str) -> float:
    """Pixels ``text`` takes in the UI font at the current interface scale."""
    scale = bpy.context.preferences.system.ui_scale
    if bpy.app.background:
        return len(text) * 6.5 * scale
    import blf

    blf.size(0, 11 * scale)
    return blf.dimensions(0, text)[0]


def _width(context) -> float:
    """The panel content's width in pixels: the sidebar less its margins and tab column
    (measured on Blender 5.2's sidebar: 58 px at scale 1)."""
    region = context.region
    scale = context.preferences.system.ui_scale
    return (float(region.width) if region is not None else 300.0) - 58 * scale


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
        row.operator("rackfocus.preview_dof", text="", icon="HIDE_OFF",
                     depress=is_previewing(context.area))
        row.prop(settings, "show_overlay", text="", icon="OVERLAY")
        camera = scene.camera
        if camera is not None and camera.type == "CAMERA" and not camera.data.dof.use_dof:
            wrapped(layout.column(align=True), f"DOF off on {camera.name}: Preview DOF or "
                                               "Focus Target turns it on", _width(context),
                    "INFO")
        layout.operator("rackfocus.add_target", text="Focus Target", icon="EMPTY_SINGLE_ARROW")

        row = layout.row(align=True)
        row.menu("RACKFOCUS_MT_presets", text=settings.preset or "Presets", icon="PRESET")
        row.operator("rackfocus.save_preset", text="", icon="ADD")
        row.operator("rackfocus.remove_preset", text="", icon="REMOVE")

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
        if not len(settings.marks):
            wrapped(layout.column(align=True), "Select subjects and press + to add marks, "
                                               "near to far", _width(context), "INFO")

        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        if 0 <= settings.active_mark < len(settings.marks):
            item = settings.marks[settings.active_mark]
            sub = col.column(align=True)
            sub.prop(item, "frame")
            sub.prop_search(item, "marker", scene, "timeline_markers", text="Marker",
                            icon="MARKER")
        split = col.split(factor=0.4)
        split.alignment = "RIGHT"
        split.label(text="Easing")
        row = split.row(align=True)
        row.prop(settings, "easing", text="")
        row.prop(settings, "easing_mode", text="")
        if settings.overshoot > 0.0:
            col.label(text=f"Back, {settings.overshoot:.0%} overshoot", icon="INFO")
        col.prop(settings, "space")
        col.prop(settings, "mode")
        col.prop(settings, "replace", text="Replace Keys")
        row = layout.row(align=True)
        row.scale_y = 1.3
        row.operator("rackfocus.create_pull", icon="CAMERA_DATA")
        row.operator("rackfocus.clear_pull", text="Clear", icon="X")


class RACKFOCUS_PT_timing(_Base, bpy.types.Panel):
    bl_label = "Timing"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.rackfocus
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column(align=True)
        col.prop(settings, "role_1")
        col.prop(settings, "role_2")
        col.prop(settings, "role_3")
        if settings.role_3 != "none":
            col.prop(settings, "role_4")
        layout.prop(settings, "return_to_start")
        row = layout.row()
        row.prop(settings, "unit", expand=True)
        unit = "s" if settings.unit == "seconds" else "fr"
        col = layout.column(align=True)
        col.prop(settings, "hold_start", text=f"First Hold ({unit})")
        col.prop(settings, "transition", text=f"Rack ({unit})")
        col.prop(settings, "hold_middle", text=f"Mid Hold ({unit})")
        col.prop(settings, "hold_end", text=f"Last Hold ({unit})")
        layout.prop(settings, "overshoot")
        layout.operator("rackfocus.retime", icon="TIME")


class RACKFOCUS_PT_realism(_Base, bpy.types.Panel):
    bl_label = "Lens Realism"
    bl_parent_id = "RACKFOCUS_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.rackfocus
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(settings, "use_fstop_ramp")
        col = layout.column(align=True)
        col.enabled = settings.use_fstop_ramp
        col.prop(settings, "fstop_from")
        col.prop(settings, "fstop_to")
        col = layout.column(align=True)
        col.prop(settings, "breathing")
        col.prop(settings, "close_focus_m")
        layout.prop(settings, "hysteresis")
        layout.prop(settings, "soft_blur")


class RACKFOCUS_PT_readability(_Base, bpy.types.Panel):
    bl_label = "Readability"
    bl_parent_id = "RACKFOCUS_PT_main"

    def draw(self, context):
        settings = context.scene.rackfocus
        layout = self.layout
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        col.prop(settings, "min_blur_px")
        col.prop(settings, "solve_fstop")
        layout.operator("rackfocus.check_readability", icon="VIEWZOOM")
        box = layout.box().column(align=True)
        width = _width(context) - 16 * context.preferences.system.ui_scale  # the box's border
        if not len(settings.readout_lines):
            wrapped(box, "Not checked yet: each subject's blur shows here", width, "DOT")
        for line in settings.readout_lines:
            wrapped(box, line.text, width, "ERROR" if line.warning else "CHECKMARK")
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
        row.operator("rackfocus.export", text="Export", icon="EXPORT")
        row.operator("rackfocus.describe", text="Describe", icon="TEXT")
        text = context.scene.rackfocus.description_text
        if text:
            wrapped(layout.box().column(align=True), text,
                    _width(context) - 16 * context.preferences.system.ui_scale)


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
                  "preview_dof", "save_preset", "export", "describe", "import_plate",
                  "add_pixel_mark", "pick_footage")


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
