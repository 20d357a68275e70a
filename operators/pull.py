"""Operators that build, bake and clear focus pulls from the panel's marks."""

import bpy

from ..rackfocus_addon.bl import pull as pull_engine
from ..rackfocus_addon.easing import Easing
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.marks import Mark, SubjectRef


def _camera_or_why(context):
    """(camera, None) or (None, reason it cannot be used)."""
    scene = context.scene
    try:
        return pull_engine.resolve_camera(scene), None
    except RackFocusError as err:
        return None, str(err)


def marks_from_settings(settings) -> list[Mark]:
    """The panel's mark list as engine marks; raises RackFocusError on an incomplete mark."""
    out = []
    for i, item in enumerate(settings.marks, start=1):
        if item.kind == "POINT":
            ref = SubjectRef("point", coords=tuple(float(c) for c in item.point))
        elif item.subject is None:
            raise RackFocusError(f"Mark {i} has no subject: pick an object")
        elif item.kind == "BONE":
            ref = SubjectRef("bone", name=item.subject.name, bone=item.bone)
        else:
            ref = SubjectRef("object", name=item.subject.name)
        out.append(Mark(ref, marker=item.marker) if item.marker else Mark(ref, frame=item.frame))
    return out


class RACKFOCUS_OT_add_target(bpy.types.Operator):
    """Create (or reuse) the scene camera's focus-target empty and turn depth of field on"""

    bl_idname = "rackfocus.add_target"
    bl_label = "Add Focus Target"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        cam, why = _camera_or_why(context)
        if cam is None:
            cls.poll_message_set(why)
        return cam is not None

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


class RACKFOCUS_OT_add_mark(bpy.types.Operator):
    """Add a focus mark on the active object (or the 3D cursor) at the current frame"""

    bl_idname = "rackfocus.add_mark"
    bl_label = "Add Focus Mark"
    bl_options = {"REGISTER", "UNDO"}

    use_cursor: bpy.props.BoolProperty(name="3D Cursor", default=False,
                                       description="Mark the 3D cursor's position instead")

    def execute(self, context):
        settings = context.scene.rackfocus
        obj = context.active_object
        if not self.use_cursor and (obj is None or obj == context.scene.camera):
            self.report({"ERROR"}, "Select a subject (not the camera) or use the 3D cursor")
            return {"CANCELLED"}
        item = settings.marks.add()
        item.frame = context.scene.frame_current
        if self.use_cursor:
            item.kind = "POINT"
            item.point = context.scene.cursor.location
        else:
            item.subject = obj
            bone = context.active_pose_bone
            if obj.type == "ARMATURE" and bone is not None:
                item.kind, item.bone = "BONE", bone.name
        settings.active_mark = len(settings.marks) - 1
        return {"FINISHED"}


class RACKFOCUS_OT_remove_mark(bpy.types.Operator):
    """Remove the active focus mark"""

    bl_idname = "rackfocus.remove_mark"
    bl_label = "Remove Focus Mark"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not len(context.scene.rackfocus.marks):
            cls.poll_message_set("There are no focus marks")
            return False
        return True

    def execute(self, context):
        settings = context.scene.rackfocus
        settings.marks.remove(settings.active_mark)
        settings.active_mark = max(0, min(settings.active_mark, len(settings.marks) - 1))
        return {"FINISHED"}


class RACKFOCUS_OT_create_pull(bpy.types.Operator):
    """Write the focus pull through the marks on the scene camera (live rig or baked keys)"""

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
        cam, why = _camera_or_why(context)
        if cam is None:
            cls.poll_message_set(why)
            return False
        if not len(context.scene.rackfocus.marks):
            cls.poll_message_set("Add focus marks first")
            return False
        return True

    def execute(self, context):
        settings = context.scene.rackfocus
        try:
            cam = pull_engine.resolve_camera(context.scene)
            result = pull_engine.create_pull(
                context.scene, cam, marks_from_settings(settings),
                Easing(settings.easing, settings.easing_mode), settings.space,
                settings.mode if self.mode == "SETTINGS" else self.mode, settings.replace,
            )
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        for message in result.messages:
            self.report({"WARNING"}, message)
        self.report({"INFO"}, result.summary())
        return {"FINISHED"}


class RACKFOCUS_OT_clear_pull(bpy.types.Operator):
    """Remove the pull from the scene camera and restore its focus as it was before"""

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
        try:
            message = pull_engine.clear_pull(context.scene.camera)
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}


classes = (
    RACKFOCUS_OT_add_target, RACKFOCUS_OT_add_mark, RACKFOCUS_OT_remove_mark,
    RACKFOCUS_OT_create_pull, RACKFOCUS_OT_clear_pull,
)
