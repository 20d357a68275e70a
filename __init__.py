"""Rack Focus: cinematic focus pulls for Blender. Registration only."""

import bpy

from . import operators
from .rackfocus_addon.cli import blender_command

_cli_handle = None


def register() -> None:
    global _cli_handle
    operators.register()
    # `blender -c rackfocus ...` runs the same CLI as `python -m rackfocus_addon ...`.
    _cli_handle = bpy.utils.register_cli_command("rackfocus", blender_command)


def unregister() -> None:
    global _cli_handle
    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
    operators.unregister()
