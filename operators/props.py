"""Scene properties behind the Rack Focus panel: focus marks, preset, timing, realism, readout."""

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    FloatVectorProperty,
    IntProperty,
    IntVectorProperty,
    PointerProperty,
    StringProperty,
)

from ..rackfocus_addon.easing import KINDS, MODES
from ..rackfocus_addon.request import CLOSE_FOCUS_M, MIN_BLUR_PX, SOFT_BLUR

EASING_ITEMS = [(k, k.capitalize(), f"{k.capitalize()} easing (native keyframe interpolation)")
                for k in KINDS]
ROLE_ITEMS = [
    ("first", "First Subject", "The first subject in the mark list"),
    ("second", "Second Subject", "The second subject in the mark list"),
    ("near", "Nearest", "The subject nearest the camera"),
    ("far", "Farthest", "The subject farthest from the camera"),
    ("soft", "Soft Opening", "A focus in front of the next subject that leaves it unreadably soft"),
]
NO_ROLE = [("none", "None", "No further beat")]
#: The role slots the Timing panel offers, in order.
ROLE_PROPS = ("role_1", "role_2", "role_3", "role_4")
MODE_ITEMS = [(m, m.replace("-", " ").title(), f"Ease {m}") for m in MODES]


class RACKFOCUS_PG_mark(bpy.types.PropertyGroup):
    kind: EnumProperty(
        name="Kind",
        items=[("OBJECT", "Object", "Focus on an object's origin"),
               ("BONE", "Bone", "Focus on a bone's head"),
               ("POINT", "Point", "Focus on a fixed point in world space"),
               ("PIXEL", "Footage", "Focus on the footage at a pixel of the camera's depth "
                                    "plate (follows the camera and the clip's depth)")],
        default="OBJECT",
    )
    subject: PointerProperty(name="Subject", type=bpy.types.Object,
                             description="Object (or armature) to focus on")
    bone: StringProperty(name="Bone", description="Bone of the armature to focus on")
    point: FloatVectorProperty(name="Point", subtype="TRANSLATION", size=3,
                               description="World position to focus on (metres)")
    pixel: IntVectorProperty(name="Pixel", size=2, min=0,
                             description="Footage pixel (x, y from the top-left) on the plate")
    depth_m: FloatProperty(name="Depth", default=0.0, min=0.0, unit="LENGTH",
                           description="The footage's depth at the pixel when it was marked "
                                       "(metres; 0: not known)")
    frame: IntProperty(name="Frame", default=1, description="Frame at which this subject is sharp")
    marker: StringProperty(name="Marker",
                           description="Timeline marker giving the frame (overrides Frame)")


class RACKFOCUS_PG_readout_line(bpy.types.PropertyGroup):
    """One line of the readability readout; ``warning`` decides its icon."""

    text: StringProperty(name="Text")
    warning: BoolProperty(name="Warning", default=False)


class RACKFOCUS_PG_settings(bpy.types.PropertyGroup):
    marks: CollectionProperty(type=RACKFOCUS_PG_mark)
    active_mark: IntProperty(name="Active Mark", default=0)

    # -- preset and timing ------------------------------------------------------------------
    preset: StringProperty(name="Preset", default="",
                           description="The pull preset the settings came from")
    left_out_note: StringProperty(name="Left Out", default="",
                                  description="Which marked subjects the preset leaves out, "
                                              "and why")
    role_1: EnumProperty(name="From", items=ROLE_ITEMS, default="first",
                         description="Where the pull starts")
    role_2: EnumProperty(name="To", items=ROLE_ITEMS, default="second",
                         description="Where the first rack lands")
    role_3: EnumProperty(name="Then", items=ROLE_ITEMS + NO_ROLE, default="none",
                         description="A third beat (optional)")
    role_4: EnumProperty(name="Then", items=ROLE_ITEMS + NO_ROLE, default="none",
                         description="A fourth beat (optional)")
    return_to_start: BoolProperty(name="Return to Start", default=False,
                                  description="Rack back to the first role at the end")
    unit: EnumProperty(name="Unit", default="seconds",
                       items=[("frames", "Frames", "Holds and transitions in frames"),
                              ("seconds", "Seconds", "Holds and transitions in seconds")])
    hold_start: FloatProperty(name="Hold Start", default=0.5, min=0.0, soft_max=240.0,
                              description="How long focus holds on the first subject")
    transition: FloatProperty(name="Transition", default=1.0, min=0.001, soft_max=240.0,
                              description="How long one rack from subject to subject takes")
    hold_middle: FloatProperty(name="Hold Middle", default=0.5, min=0.0, soft_max=240.0,
                               description="Hold between two racks")
    hold_end: FloatProperty(name="Hold End", default=0.5, min=0.0, soft_max=240.0,
                            description="How long focus holds on the last subject")

    # -- easing and writing -----------------------------------------------------------------
    easing: EnumProperty(name="Easing", items=EASING_ITEMS, default="sine",
                         description="How focus moves between two subjects")
    easing_mode: EnumProperty(name="Ease", items=MODE_ITEMS, default="in-out",
                              description="Which end of the move is eased")
    # Stored in percent so the field shows its unit. A get/set view onto a fraction crashed
    # Blender 4.2 (bpy) at exit once the extension had been registered.
    overshoot_percent: FloatProperty(
        name="Overshoot", default=0.0, min=0.0, max=50.0, subtype="PERCENTAGE", precision=0,
        description="Pass the new subject by this share of the move and settle back (BACK "
                    "easing): 10 % of a 2 m to 8 m pull passes 8 m by 0.6 m")
    space: EnumProperty(
        name="Blend",
        items=[("distance", "Metres", "Blend focus in metres: the middle of a 2 m to 8 m pull "
                                      "is at 5 m"),
               ("diopter", "Diopters", "Blend focus in 1/distance so blur changes evenly: the "
                                       "middle of a 2 m to 8 m pull is at 3.2 m")],
        default="distance",
    )
    mode: EnumProperty(
        name="Mode",
        items=[("rig", "Live Rig", "A focus-target empty follows each subject through "
                                   "constraints with eased influence: moving subjects stay sharp "
                                   "and the Graph Editor edits the timing"),
               ("bake", "Baked Keys", "Key the camera's focus distance where it needs it: exact "
                                      "diopter midpoints, hysteresis and export to other "
                                      "software; renders anywhere")],
        default="rig",
    )
    replace: BoolProperty(name="Replace User Keys", default=False,
                          description="Replace existing keys on focus distance (they are saved "
                                      "and restored by Clear Pull)")

    # -- lens realism -----------------------------------------------------------------------
    use_fstop_ramp: BoolProperty(name="F-Stop Ramp", default=False,
                                 description="Key the f-stop from one value to another "
                                             "during the pull")
    fstop_from: FloatProperty(name="From", default=2.8, min=0.5, max=128.0,
                              description="F-stop before the pull")
    fstop_to: FloatProperty(name="To", default=2.0, min=0.5, max=128.0,
                            description="F-stop after the pull")
    breathing: FloatProperty(name="Breathing", default=0.0, min=-0.2, max=0.2,
                             description="Focal length change at close focus (0.02 = 2 % "
                                         "longer): the lens breathes as focus moves")
    close_focus_m: FloatProperty(name="Close Focus", default=CLOSE_FOCUS_M, min=0.01, max=100.0,
                                 unit="LENGTH", description="The lens's closest focus distance")
    hysteresis: FloatProperty(name="Hysteresis", default=0.0, min=0.0, max=2.0,
                              description="Dead band in diopters so a baked focus on a moving "
                                          "subject does not hunt (Bake mode)")
    soft_blur: FloatProperty(name="Soft Blur", default=SOFT_BLUR, min=0.0, max=0.5,
                             subtype="FACTOR",
                             description="Blur of the 'soft' opening, as a fraction of the "
                                         "frame width")

    # -- readability ------------------------------------------------------------------------
    min_blur_px: FloatProperty(name="Min Blur", default=MIN_BLUR_PX, min=0.5, max=500.0,
                               subtype="PIXEL",
                               description="Blur (pixels at render resolution) a soft subject "
                                           "needs for the pull to read")
    solve_fstop: BoolProperty(name="Solve F-Stop", default=False,
                              description="When the pull would not read, open the iris to the "
                                          "f-stop that makes it read")
    readout_lines: CollectionProperty(type=RACKFOCUS_PG_readout_line,
                                      description="The last readability check")
    suggested_fstop: FloatProperty(name="Suggested F-Stop", default=0.0)
    readout_key: StringProperty(name="Readout Key", default="", options={"HIDDEN"},
                                description="What the readout described when it was written")
    description_text: StringProperty(name="Description", default="",
                                     description="The last pull description")

    # -- viewport ---------------------------------------------------------------------------
    show_overlay: BoolProperty(name="Focus Plane", default=True,
                               description="Through the camera, draw where the focus distance "
                                           "meets the scene and the outlines of what is "
                                           "sharp (green), the near and far limits of "
                                           "sharpness (blue), with the focus readout; "
                                           "hidden with the viewport's Overlays")


classes = (RACKFOCUS_PG_mark, RACKFOCUS_PG_readout_line, RACKFOCUS_PG_settings)


def register_extra() -> None:
    bpy.types.Scene.rackfocus = PointerProperty(type=RACKFOCUS_PG_settings)


def unregister_extra() -> None:
    del bpy.types.Scene.rackfocus
