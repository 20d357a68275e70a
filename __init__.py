"""Rack Focus: cinematic focus pulls for Blender. Registration only."""

from . import operators
from .rackfocus_addon.cli import blender_command

_cli_handle = None


def register() -> None:
    global _cli_handle
    operators.register()
    if hasattr(__import__("bpy").utils, "register_cli_command"):
        import bpy

        _cli_handle = bpy.utils.register_cli_command("rackfocus", blender_command)


def unregister() -> None:
    global _cli_handle
    import bpy

    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
    operators.unregister()
