"""Scene properties behind the Rack Focus panel: the focus marks and the pull settings."""

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatVectorProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..rackfocus_addon.easing import KINDS, MODES

EASING_ITEMS = [(k, k.capitalize(), f"{k.capitalize()} easing (native keyframe interpolation)")
                for k in KINDS]
MODE_ITEMS = [(m, m.replace("-", " ").title(), f"Ease {m}") for m in MODES]


class RACKFOCUS_PG_mark(bpy.types.PropertyGroup):
    kind: EnumProperty(
        name="Kind",
        items=[("OBJECT", "Object", "Focus on an object's origin"),
               ("BONE", "Bone", "Focus on a bone's head"),
               ("POINT", "Point", "Focus on a fixed point in world space")],
        default="OBJECT",
    )
    subject: PointerProperty(name="Subject", type=bpy.types.Object,
                             description="Object (or armature) to focus on")
    bone: StringProperty(name="Bone", description="Bone of the armature to focus on")
    point: FloatVectorProperty(name="Point", subtype="TRANSLATION", size=3,
                               description="World position to focus on (metres)")
    frame: IntProperty(name="Frame", default=1, description="Frame at which this subject is sharp")
    marker: StringProperty(name="Marker",
                           description="Timeline marker giving the frame (overrides Frame)")


class RACKFOCUS_PG_settings(bpy.types.PropertyGroup):
    marks: CollectionProperty(type=RACKFOCUS_PG_mark)
    active_mark: IntProperty(name="Active Mark", default=0)
    easing: EnumProperty(name="Easing", items=EASING_ITEMS, default="sine",
                         description="How focus moves between two subjects")
    easing_mode: EnumProperty(name="Ease", items=MODE_ITEMS, default="in-out",
                              description="Which end of the move is eased")
    space: EnumProperty(
        name="Interpolate",
        items=[("distance", "Distance", "Blend focus in metres"),
               ("diopter", "Diopters", "Blend focus in 1/distance: blur changes evenly")],
        default="distance",
    )
    mode: EnumProperty(
        name="Mode",
        items=[("rig", "Live Rig", "A focus-target empty follows the subjects through constraints"),
               ("bake", "Bake", "Key the camera's focus distance on every frame that needs it")],
        default="rig",
    )
    replace: BoolProperty(name="Replace User Keys", default=False,
                          description="Replace existing keys on focus distance (they are saved "
                                      "and restored by Clear Pull)")


classes = (RACKFOCUS_PG_mark, RACKFOCUS_PG_settings)


def register_extra() -> None:
    bpy.types.Scene.rackfocus = PointerProperty(type=RACKFOCUS_PG_settings)


def unregister_extra() -> None:
    del bpy.types.Scene.rackfocus
