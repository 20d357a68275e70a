"""The "Rack Focus" tab in the 3D viewport sidebar. Panels draw; operators act."""

import bpy


class RACKFOCUS_UL_marks(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_prop):
        row = layout.row(align=True)
        if item.kind == "POINT":
            row.label(text="Point", icon="EMPTY_AXIS")
        else:
            row.prop(item, "subject", text="")
            if item.kind == "BONE":
                row.label(text=item.bone, icon="BONE_DATA")
        row.prop(item, "frame", text="")


class RACKFOCUS_PT_main(bpy.types.Panel):
    bl_label = "Rack Focus"
    bl_idname = "RACKFOCUS_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Rack Focus"

    def draw(self, context):
        layout = self.layout
        scene = context.scene
        settings = scene.rackfocus
        layout.prop(scene, "camera")
        layout.operator("rackfocus.add_target", icon="EMPTY_SINGLE_ARROW")
        layout.label(text="Focus Marks")
        row = layout.row()
        row.template_list("RACKFOCUS_UL_marks", "", settings, "marks", settings, "active_mark",
                          rows=3)
        col = row.column(align=True)
        col.operator("rackfocus.add_mark", icon="ADD", text="")
        col.operator("rackfocus.add_mark", icon="PIVOT_CURSOR", text="").use_cursor = True
        col.operator("rackfocus.remove_mark", icon="REMOVE", text="")
        col = layout.column()
        row = col.row(align=True)
        row.prop(settings, "easing", text="")
        row.prop(settings, "easing_mode", text="")
        col.prop(settings, "space")
        col.prop(settings, "mode")
        col.prop(settings, "replace")
        row = layout.row(align=True)
        row.operator("rackfocus.create_pull", icon="CAMERA_DATA")
        row.operator("rackfocus.clear_pull", icon="X")


classes = (RACKFOCUS_UL_marks, RACKFOCUS_PT_main)
