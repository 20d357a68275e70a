"""Run by the real Blender binary on a pulled file: prints and checks Blender's focus distance.

Usage: blender -b FILE.blend --factory-startup --python check_pull.py -- NEAR FAR MID
Exits 1 if focus at frames 1, 13 and 25 is not (NEAR, MID, FAR) within 1 mm / 1 %.
"""

import sys

import bpy

near, far, mid = (float(v) for v in sys.argv[sys.argv.index("--") + 1:])
scene = bpy.context.scene
cam = scene.camera
got = []
for frame in (1, 13, 25):
    scene.frame_set(frame)
    target = cam.data.dof.focus_object
    if target is None:
        got.append(cam.data.dof.focus_distance)
    else:
        z = cam.matrix_world.col[2].xyz.normalized()
        got.append(abs(z.dot(cam.matrix_world.translation - target.matrix_world.translation)))
print("focus at 1, 13, 25:", got)
ok = abs(got[0] - near) < 1e-3 and abs(got[2] - far) < 1e-3 and abs(got[1] - mid) < 0.01 * mid
sys.exit(0 if ok else 1)
