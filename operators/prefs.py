"""The extension's preferences: where the user keeps a depth model file."""

import bpy

#: The extension's package (``bl_ext.user_default.rack_focus``, or the test name): preferences
#: are keyed by it (``__package__`` of the extension, as the extension rules ask).
PACKAGE = __package__.rsplit(".", 1)[0]


class RACKFOCUS_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = PACKAGE

    model_path: bpy.props.StringProperty(
        name="Depth Model", subtype="FILE_PATH",
        description="An .onnx depth network with Depth Anything V2's signature (e.g. Depth "
                    "Anything V2 Small's model.onnx, Apache-2.0), used by Estimate Depth")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "model_path")
        layout.label(text="Or tick Download Model in Import Plate (needs online access)",
                     icon="INFO")


def preferred_model() -> str:
    """The model file set in the preferences, or '' (not set, or not installed as an add-on)."""
    addon = bpy.context.preferences.addons.get(PACKAGE)
    prefs = getattr(addon, "preferences", None) if addon is not None else None
    return bpy.path.abspath(getattr(prefs, "model_path", "") or "")


classes = (RACKFOCUS_AP_preferences,)
