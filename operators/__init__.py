"""Blender operators, properties and panels: thin wrappers around ``rackfocus_addon``.

Each module exposes ``classes`` (registered in order) and may define ``register_extra()`` /
``unregister_extra()`` for properties, menus and handlers; they are unregistered in reverse.
"""

import importlib

import bpy

#: Submodules in registration order (properties before the operators and panels that use them).
MODULES = ("props", "pull", "presets_ui", "output", "overlay", "plate", "panel")

#: Modules another feature provides; skipped when that feature is not in this build.
OPTIONAL = ("plate",)

_loaded = []


def register() -> None:
    _loaded.clear()
    for name in MODULES:
        try:
            module = importlib.import_module(f".{name}", __package__)
        except ModuleNotFoundError as err:
            if name in OPTIONAL and err.name == f"{__package__}.{name}":
                continue
            raise
        for cls in getattr(module, "classes", ()):
            bpy.utils.register_class(cls)
        if hasattr(module, "register_extra"):
            module.register_extra()
        _loaded.append(module)


def unregister() -> None:
    for module in reversed(_loaded):
        if hasattr(module, "unregister_extra"):
            module.unregister_extra()
        for cls in reversed(getattr(module, "classes", ())):
            bpy.utils.unregister_class(cls)
    _loaded.clear()
