"""The preset menu: apply a shipped or user preset, save the panel as a user preset, remove one."""

import os

import bpy

from ..rackfocus_addon import presets as preset_io
from ..rackfocus_addon.bl import user_presets
from .common import poll_settings, run_reported
from .from_panel import preset_from_settings, retime, settings_from_preset


class RACKFOCUS_MT_presets(bpy.types.Menu):
    """Pull presets: the shipped classics, then yours"""

    bl_label = "Pull Presets"
    bl_idname = "RACKFOCUS_MT_presets"

    def draw(self, context):
        layout = self.layout
        found, errors = user_presets.all_presets()
        shipped = [p for p in found if not p.user]
        user = [p for p in found if p.user]
        for p in shipped:
            layout.operator("rackfocus.apply_preset", text=p.name).name = p.key
        if user:
            layout.separator()
            for p in user:
                layout.operator("rackfocus.apply_preset", text=p.name,
                                icon="USER").name = p.key
        if errors:
            layout.separator()
            layout.label(text=f"{len(errors)} preset file(s) have errors", icon="ERROR")


class RACKFOCUS_OT_apply_preset(bpy.types.Operator):
    """Apply a pull preset: its timing, easing and realism, and re-time the focus marks"""

    bl_idname = "rackfocus.apply_preset"
    bl_label = "Apply Pull Preset"
    bl_options = {"REGISTER", "UNDO"}

    name: bpy.props.StringProperty(name="Preset", description="Preset key or name")
    retime_marks: bpy.props.BoolProperty(name="Re-time Marks", default=True,
                                         description="Rewrite the focus marks with the preset's "
                                                     "timing, from the first mark's frame")

    @classmethod
    def poll(cls, context):
        return poll_settings(cls, context)

    @classmethod
    def description(cls, context, properties):
        """The preset's own description from its TOML file, as the menu entry's tooltip."""
        try:
            preset = user_presets.find_preset(properties.name)
        except Exception:  # noqa: BLE001 - a tooltip never raises; the menu lists the errors
            return cls.__doc__
        return preset.description or cls.__doc__

    def execute(self, context):
        scene = context.scene
        settings = scene.rackfocus

        def work():
            preset = user_presets.find_preset(self.name)
            settings_from_preset(settings, preset)
            settings.left_out_note = ""
            if not (self.retime_marks and len(settings.marks)):
                self.report({"INFO"}, f"Preset '{preset.name}': add marks to re-time them")
                return
            timed = retime(scene, settings, preset)
            order = " -> ".join(dict.fromkeys(m.subject.short_name() for m in timed.marks))
            self.report({"INFO"}, f"{preset.name}: {order}, {len(timed.marks)} marks")
            settings.left_out_note = timed.left_out_note or ""
            if timed.left_out_note:
                self.report({"WARNING"}, timed.left_out_note)

        return run_reported(self, work)


class RACKFOCUS_OT_retime(bpy.types.Operator):
    """Re-time the focus marks with the panel's sequence and timing"""

    bl_idname = "rackfocus.retime"
    bl_label = "Re-time Marks"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "rackfocus", None)
        if settings is None or not len(settings.marks):
            cls.poll_message_set("Add focus marks on the subjects first")
            return False
        return True

    def execute(self, context):
        settings = context.scene.rackfocus

        def work():
            timed = retime(context.scene, settings, preset_from_settings(settings))
            self.report({"INFO"}, f"{len(timed.marks)} marks re-timed")
            settings.left_out_note = timed.left_out_note or ""
            if timed.left_out_note:
                self.report({"WARNING"}, timed.left_out_note)

        return run_reported(self, work)


class RACKFOCUS_OT_save_preset(bpy.types.Operator):
    """Save the panel's timing, easing and realism as a user preset"""

    bl_idname = "rackfocus.save_preset"
    bl_label = "Save Pull Preset"
    bl_options = {"REGISTER", "UNDO"}

    name: bpy.props.StringProperty(name="Name", default="My Pull",
                                   description="Name of the new preset")

    @classmethod
    def poll(cls, context):
        return poll_settings(cls, context)

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        if not self.name.strip():
            self.report({"ERROR"}, "Give the preset a name")
            return {"CANCELLED"}
        def work():
            preset = preset_from_settings(context.scene.rackfocus, self.name.strip())
            path = user_presets.save_user_preset(preset)
            context.scene.rackfocus.preset = preset.name
            self.report({"INFO"}, f"Saved preset '{preset.name}' to {path}")

        return run_reported(self, work)


class RACKFOCUS_OT_remove_preset(bpy.types.Operator):
    """Delete a user preset (shipped presets stay)"""

    bl_idname = "rackfocus.remove_preset"
    bl_label = "Remove Pull Preset"
    bl_options = {"REGISTER", "UNDO"}

    name: bpy.props.StringProperty(name="Preset", description="Key or name of the user preset")

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "rackfocus", None)
        if settings is None or not settings.preset:
            cls.poll_message_set("Apply or save a user preset first")
            return False
        return True

    def execute(self, context):
        name = self.name or context.scene.rackfocus.preset

        def work():
            path = user_presets.remove_user_preset(preset_io.slug(name))
            self.report({"INFO"}, f"Removed {os.path.basename(path)}")

        return run_reported(self, work)


classes = (RACKFOCUS_MT_presets, RACKFOCUS_OT_apply_preset, RACKFOCUS_OT_retime,
           RACKFOCUS_OT_save_preset, RACKFOCUS_OT_remove_preset)
