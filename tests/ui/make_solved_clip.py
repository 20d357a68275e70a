"""Make tests/data/solved_clip.blend: a movie clip tracked and solved by Blender's own solver.

The solve needs the Movie Clip Editor (``clip.solve_camera`` does not run in background mode),
so this runs in Blender with a window, e.g. the UI stage's Blender 5.2 under Xvfb:

    blender-sid xvfb-run -a blender --factory-startup --python tests/ui/make_solved_clip.py \\
        -- OUT_DIR

Tracks are the known 3D points of estimate_oracles.solve_scene projected through its known
camera; Blender solves them, Set Scale makes tracks 0 and 1 their true distance apart, and the
file is saved as OUT_DIR/solved_clip.blend (clip 'plate'; footage frames beside it).
"""

import os
import sys
import traceback

import bpy
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import estimate_oracles as eo  # noqa: E402


def footage(folder: str, width: int, height: int, frames: int) -> str:
    for i in range(frames):
        img = bpy.data.images.new(f"f{i}", width, height)
        img.filepath_raw = os.path.join(folder, f"f_{i + 1:04d}.png")
        img.file_format = "PNG"
        img.save()
    return os.path.join(folder, "f_0001.png")


def track(clip, scene: dict) -> None:
    w, h = scene["width"], scene["height"]
    f_px = scene["focal_mm"] / scene["sensor_mm"] * w
    tr = clip.tracking
    tr.camera.sensor_width, tr.camera.units = scene["sensor_mm"], "MILLIMETERS"
    tr.camera.focal_length = scene["focal_mm"]
    tr.camera.principal_point_pixels = (w / 2, h / 2)
    for j, p in enumerate(scene["points"]):
        t = tr.tracks.new(name=f"t{j:02d}", frame=1)
        for k, cam in enumerate(scene["cameras"]):
            co, _depth = eo.project(cam, p, w, h, f_px)
            marker = t.markers.find_frame(k + 1) or t.markers.insert_frame(k + 1, co=co)
            marker.co = co
    obj = tr.objects.active
    obj.keyframe_a, obj.keyframe_b = 1, 16


def solve(clip, scene: dict) -> None:
    area = next(a for a in bpy.context.screen.areas if a.type == "VIEW_3D")
    area.type = "CLIP_EDITOR"
    area.spaces.active.clip = clip
    bpy.context.scene.active_clip = clip
    region = next(r for r in area.regions if r.type == "WINDOW")
    with bpy.context.temp_override(area=area, region=region, space_data=area.spaces.active):
        bpy.ops.clip.solve_camera()
        a, b = scene["scale_tracks"]
        for t in clip.tracking.tracks:
            t.select = t.name in (f"t{a:02d}", f"t{b:02d}")
        bpy.ops.clip.set_scale(distance=float(np.linalg.norm(scene["points"][a]
                                                              - scene["points"][b])))
    rec = clip.tracking.reconstruction
    print(f"RF-SOLVE valid {rec.is_valid}, error {rec.average_error:.2g} px, "
          f"{len(rec.cameras)} cameras")


def main() -> None:
    out = os.path.abspath(sys.argv[sys.argv.index("--") + 1])
    os.makedirs(out, exist_ok=True)
    scene = eo.solve_scene()
    clip = bpy.data.movieclips.load(footage(out, scene["width"], scene["height"],
                                            len(scene["cameras"])))
    clip.name, clip.use_fake_user = "plate", True
    track(clip, scene)
    solve(clip, scene)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.join(out, "solved_clip.blend"), compress=True)
    print("RF-SOLVE done")


try:
    main()
except Exception:  # noqa: BLE001 - say why, and quit: a window would wait forever
    traceback.print_exc()
bpy.ops.wm.quit_blender()
