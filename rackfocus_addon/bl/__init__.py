"""The bpy adapter layer: everything in the engine that touches Blender lives here."""
