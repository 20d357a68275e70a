"""Blender operators, properties and panels: thin wrappers around ``rackfocus_addon``.

Each module exposes ``classes`` (registered in order); ``props``, ``overlay`` and ``panel`` also
add a property, a draw handler and a menu entry. Unregistering runs in reverse.
"""

import bpy

from . import output, overlay, panel, plate, prefs, presets_ui, props, pull

#: Modules in registration order (properties before the operators and panels that use them).
MODULES = (prefs, props, pull, presets_ui, output, overlay, plate, panel)


def register() -> None:
    for module in MODULES:
        for cls in module.classes:
            bpy.utils.register_class(cls)
    props.register_extra()
    overlay.register_extra()
    panel.register_extra()


def unregister() -> None:
    panel.unregister_extra()
    overlay.unregister_extra()
    props.unregister_extra()
    for module in reversed(MODULES):
        for cls in reversed(module.classes):
            bpy.utils.unregister_class(cls)
