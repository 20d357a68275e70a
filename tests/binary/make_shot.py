"""Run by the real Blender binary: save a two-subject shot for the CLI checks.

Usage: blender -b --factory-startup --python make_shot.py -- OUT.blend
"""

import math
import sys

import bpy

out = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
cam.rotation_euler = (math.pi / 2, 0.0, 0.0)
scene.collection.objects.link(cam)
scene.camera = cam
for name, depth in (("Near", 2.0), ("Far", 8.0)):
    obj = bpy.data.objects.new(name, None)
    obj.location = (0.0, depth, 0.0)
    scene.collection.objects.link(obj)
scene.frame_start, scene.frame_end = 1, 25
bpy.ops.wm.save_as_mainfile(filepath=out)
