"""The "Rack Focus" tab in the 3D viewport sidebar. Panels draw; operators act."""

import bpy

from . import plate
from .common import text_width, wrapped
from .from_panel import readout_is_stale
from .pull import is_previewing


def mark_names(item) -> tuple[list[str], str]:
    """The ways to name the subject of the mark ``item``, longest first, and its icon."""
    if item.kind == "POINT":
        return ["Point"], "EMPTY_AXIS"
    if item.kind == "PIXEL":
        at = f"{item.pixel[0]},{item.pixel[1]}"
        if item.depth_m <= 0.0:
            return [f"Footage {at}", at], "IMAGE_DATA"
        depth = f"{item.depth_m:.2f}\u00a0m"
        return [f"Footage {at} - {depth}", f"{at} - {depth}", at], "IMAGE_DATA"
    if item.subject is None:
        return ["(no subject)"], "ERROR"
    if item.kind == "BONE":
        return [f"{item.subject.name}: {item.bone}", item.bone], "BONE_DATA"
    return [item.subject.name], "OBJECT_DATA"


#: The marks list's share for the subject's name; the frame or marker has the rest.
NAME_SHARE = 0.75


class RACKFOCUS_UL_marks(bpy.types.UIList):
    """The focus marks: the subject's name first (it keeps its room when the sidebar narrows,
    as in Blender's own lists, and the longest form that fits is shown), then the frame or
    marker; the active mark's subject is edited below the list."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_prop):
        split = layout.split(factor=NAME_SHARE, align=True)
        names, icon_name = mark_names(item)
        # The list less its side column of buttons, the name's share less its icon.
        room = (_width(context) - 44 * _scale(context)) * NAME_SHARE - 30 * _scale(context)
        text = next((n for n in names if text_width(n) <= room), names[-1])
        split.label(text=text, icon=icon_name)
        if item.marker:
            split.label(text=item.marker)
        else:
            split.prop(item, "frame", text="", emboss=False)


class _Base:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Rack Focus"

    @classmethod
    def poll(cls, context):
        return getattr(context.scene, "rackfocus", None) is not None


#: The width (pixels) the layout check draws the panels at, instead of the sidebar's; None in
#: use. Set only by tests/ui/layout_check.py.
width_for_check: float | None = None


def _scale(context) -> float:
    return context.preferences.system.ui_scale


def _width(context) -> float:
    """The panel content's width in pixels: the sidebar less its margins and tab column
    (measured on Blender 5.2's sidebar: 58 px at scale 1)."""
    if width_for_check is not None:
        return width_for_check
    region = context.region
    scale = context.preferences.system.ui_scale
    return (float(region.width) if region is not None else 300.0) - 58 * scale


def is_narrow(context) -> bool:
    """Under 200 px of content (a sidebar under about 260 px at scale 1) a 40 % label column
    would cut the labels: they go above their fields instead, with the whole width."""
    return _width(context) < 200 * context.preferences.system.ui_scale


def field(layout, data, prop: str, narrow: bool, text: str | None = None) -> None:
    """``data.prop`` in a property-split ``layout``; when ``narrow``, its label above it (a
    checkbox keeps its label beside it, across the whole width)."""
    if not narrow:
        layout.prop(data, prop, **({} if text is None else {"text": text}))
        return
    rna = data.bl_rna.properties[prop]
    name = rna.name if text is None else text
    col = layout.column(align=True)
    col.use_property_split = False
    if rna.type == "BOOLEAN":
        col.prop(data, prop, text=name)
        return
    col.label(text=name)
    col.prop(data, prop, text="")


def fields(layout, data, props, context) -> None:
    narrow = is_narrow(context)
    for prop in props:
        field(layout, data, prop, narrow)


def draw_active_mark(col, scene, settings, narrow: bool) -> None:
    """The active mark's subject, frame and marker below the list."""
    item = settings.marks[settings.active_mark]
    if item.kind == "PIXEL":
        names, icon = mark_names(item)
        wrapped(col, names[0], _width(bpy.context), icon)
    if item.kind in ("OBJECT", "BONE"):
        field(col, item, "subject", narrow)
    if item.kind == "BONE":
        field(col, item, "bone", narrow)
    field(col, item, "frame", narrow)
    if narrow:
        col.label(text="Marker")
        col.prop_search(item, "marker", scene, "timeline_markers", text="", icon="MARKER")
    else:
        col.prop_search(item, "marker", scene, "timeline_markers", text="Marker",
                        icon="MARKER")


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
        preset = settings.preset or "Presets"
        if is_narrow(context) and text_width(preset) > _width(context) - 90 * _scale(context):
            # The menu button would cut a long preset name: the name goes above it, whole.
            wrapped(layout.column(align=True), preset, _width(context), "PRESET")
            preset = "Presets"
        row.menu("RACKFOCUS_MT_presets", text=preset, icon="PRESET")
        row.operator("rackfocus.save_preset", text="", icon="ADD")
        row.operator("rackfocus.remove_preset", text="", icon="REMOVE")
        if settings.left_out_note:
            wrapped(layout.column(align=True), settings.left_out_note, _width(context), "INFO")

        row = layout.row()
        # Tall enough to show every mark of a usual pull (up to 8) without scrolling.
        row.template_list("RACKFOCUS_UL_marks", "", settings, "marks", settings, "active_mark",
                          rows=max(5, min(len(settings.marks), 8)))
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
        narrow = is_narrow(context)
        if 0 <= settings.active_mark < len(settings.marks):
            draw_active_mark(col.column(align=True), scene, settings, narrow)
        if narrow:
            sub = col.column(align=True)
            sub.label(text="Easing")
            sub.prop(settings, "easing", text="")
            sub.prop(settings, "easing_mode", text="")
        else:
            split = col.split(factor=0.4)
            split.alignment = "RIGHT"
            split.label(text="Easing")
            row = split.row(align=True)
            row.prop(settings, "easing", text="")
            row.prop(settings, "easing_mode", text="")
        if settings.overshoot_percent > 0.0:
            col.label(text=f"Back, {settings.overshoot_percent:.0f}% overshoot", icon="INFO")
        field(col, settings, "space", narrow)
        field(col, settings, "mode", narrow)
        field(col, settings, "replace", narrow, text="Replace Keys")
        row = layout.row(align=True)
        row.scale_y = 1.3
        row.operator("rackfocus.create_pull", icon="CAMERA_DATA",
                     text="Create" if narrow else "Create Pull")
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
        narrow = is_narrow(context)
        col = layout.column(align=True)
        fields(col, settings, ("role_1", "role_2", "role_3"), context)
        if settings.role_3 != "none":
            field(col, settings, "role_4", narrow)
        field(layout, settings, "return_to_start", narrow)
        row = layout.row()
        row.prop(settings, "unit", expand=True)
        unit = "s" if settings.unit == "seconds" else "fr"
        col = layout.column(align=True)
        field(col, settings, "hold_start", narrow, text=f"First Hold ({unit})")
        field(col, settings, "transition", narrow, text=f"Rack ({unit})")
        field(col, settings, "hold_middle", narrow, text=f"Mid Hold ({unit})")
        field(col, settings, "hold_end", narrow, text=f"Last Hold ({unit})")
        field(layout, settings, "overshoot_percent", narrow)
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
        narrow = is_narrow(context)
        field(layout, settings, "use_fstop_ramp", narrow)
        col = layout.column(align=True)
        col.enabled = settings.use_fstop_ramp
        fields(col, settings, ("fstop_from", "fstop_to"), context)
        fields(layout.column(align=True), settings, ("breathing", "close_focus_m"), context)
        fields(layout, settings, ("hysteresis", "soft_blur"), context)


class RACKFOCUS_PT_readability(_Base, bpy.types.Panel):
    bl_label = "Readability"
    bl_parent_id = "RACKFOCUS_PT_main"

    def draw(self, context):
        settings = context.scene.rackfocus
        layout = self.layout
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        fields(col, settings, ("min_blur_px", "solve_fstop"), context)
        layout.operator("rackfocus.check_readability", icon="VIEWZOOM")
        box = layout.box().column(align=True)
        width = _width(context) - 16 * context.preferences.system.ui_scale  # the box's border
        if not len(settings.readout_lines):
            wrapped(box, "Not checked yet: each subject's blur shows here", width, "DOT")
        stale = readout_is_stale(context.scene, settings)
        if stale:
            wrapped(box, "Out of date: the marks, lens or camera changed since this check",
                    width, "FILE_REFRESH")
        lines = box.column(align=True)
        lines.active = not stale
        for line in settings.readout_lines:
            wrapped(lines, line.text, width, "ERROR" if line.warning else "CHECKMARK")
        if settings.suggested_fstop > 0.0 and not stale:
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
