"""Rack Focus engine: cinematic focus pulls for Blender.

The top-level modules are pure (numpy at most) and importable without Blender; the ``bl`` package
is the thin bpy adapter layer. Nothing here imports the operators or the UI.
"""

__version__ = "0.1.0"
