"""Make the solved test fixture with Blender's own camera solver.

    blender --factory-startup --python tests/ui/make_solve.py -- --out DIR [--check]
    (scripts/make_solve_fixture.sh: the real Blender with a window; tests/bl/test_solve_anchors
    calls :func:`make` in background mode, where the solver runs too given a Clip Editor in the
    context override)

Writes DIR/frames/solve_0001.png ... (24 tiny grey frames: the solver reads markers, not
pixels) and DIR/solve.blend with two clips of those frames, each tracked with markers that are
the known 3D points of ``tests/solve_truth.py`` projected through the known moving camera, and
each solved by ``clip.solve_camera`` (tracking camera set to the true sensor and lens):

- ``Solve``: its scale set on the solve itself (Apply Solution Scale) from the true distance
  between two points; no camera follows it.
- ``SolveCam``: solved in its own units, the camera ``Camera`` follows it (Camera Solver
  constraint) and Set Scale scales that camera from the same distance.

Prints ``RF-SOLVE: ok`` and each solve's average reprojection error; exits 1 on any error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

import bpy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import solve_truth as truth  # noqa: E402  (tests/ is not a package)


def write_frames(folder: str) -> str:
    """Tiny grey PNG frames solve_0001.png ...; the path of the first."""
    os.makedirs(folder, exist_ok=True)
    image = bpy.data.images.new("rf_solve_frame", truth.WIDTH, truth.HEIGHT)
    image.pixels.foreach_set([0.5] * (truth.WIDTH * truth.HEIGHT * 4))
    image.file_format = "PNG"
    for frame in range(1, truth.FRAMES + 1):
        image.filepath_raw = os.path.join(folder, f"solve_{frame:04d}.png")
        image.save()
    bpy.data.images.remove(image)
    return os.path.join(folder, "solve_0001.png")


def tracked_clip(first_frame: str, name: str, pts, project=truth.project,
                 frames: int = truth.FRAMES, sensor_mm: float = truth.SENSOR_MM,
                 focal_mm: float = truth.FOCAL_MM):
    """A clip of the frames with one track per point, a marker on every frame at
    ``project(frame, pts)`` (normalised, origin bottom-left); the tracking camera is the true
    one (no distortion), the keyframes the first and last frames."""
    clip = bpy.data.movieclips.load(first_frame, check_existing=False)
    clip.name = name
    camera = clip.tracking.camera
    camera.units = "MILLIMETERS"
    camera.sensor_width = sensor_mm
    camera.focal_length = focal_mm
    camera.k1 = camera.k2 = camera.k3 = 0.0
    settings = clip.tracking.settings
    settings.refine_intrinsics_focal_length = False
    settings.use_keyframe_selection = False
    obj = clip.tracking.objects[0]
    obj.keyframe_a, obj.keyframe_b = 1, frames
    uv = [project(f, pts) for f in range(1, frames + 1)]
    for i in range(len(pts)):
        track = clip.tracking.tracks.new(name=f"P{i:02d}", frame=1)
        for f in range(1, frames + 1):
            track.markers.insert_frame(f, co=tuple(float(c) for c in uv[f - 1][i]))
    return clip


@contextlib.contextmanager
def clip_context(clip):
    """A context override with a Clip Editor showing ``clip`` (the solver's operators need it);
    the area gets its own type back afterwards (a screen left with a Clip Editor it never drew
    crashed bpy 4.2 at exit once the extension had registered its viewport UI)."""
    window = bpy.context.window_manager.windows[0] if bpy.context.window_manager.windows \
        else None
    screen = window.screen if window else bpy.data.screens["Layout"]
    area = max(screen.areas, key=lambda a: a.width * a.height)
    was = area.type
    area.type = "CLIP_EDITOR"
    space = area.spaces.active
    space.clip = clip
    space.mode = "TRACKING"
    region = next(r for r in area.regions if r.type == "WINDOW")
    override = {"screen": screen, "area": area, "region": region, "space_data": space,
                "edit_movieclip": clip}
    if window:
        override["window"] = window
    try:
        with bpy.context.temp_override(**override):
            yield
    finally:
        area.type = was


def select_pair(clip) -> None:
    for i, track in enumerate(clip.tracking.tracks):
        track.select = i in truth.SCALE_PAIR


def solve(clip, scale_op: str, distance: float) -> float:
    """Solve ``clip`` and set its scale with ``scale_op`` ('apply_solution_scale' or
    'set_scale'); the solve's average reprojection error (pixels)."""
    with clip_context(clip):
        result = bpy.ops.clip.solve_camera()
        if result != {"FINISHED"} or not clip.tracking.reconstruction.is_valid:
            raise RuntimeError(f"solve_camera on '{clip.name}' gave {result}")
        select_pair(clip)
        result = getattr(bpy.ops.clip, scale_op)(distance=distance)
        if result != {"FINISHED"}:
            raise RuntimeError(f"{scale_op} on '{clip.name}' gave {result}")
    return clip.tracking.reconstruction.average_error


def following_camera(scene, clip):
    """Camera 'Camera' following ``clip`` through a Camera Solver constraint (scene camera)."""
    data = bpy.data.cameras.new("Camera")
    data.sensor_width, data.lens = truth.SENSOR_MM, truth.FOCAL_MM
    cam = bpy.data.objects.new("Camera", data)
    scene.collection.objects.link(cam)
    con = cam.constraints.new("CAMERA_SOLVER")
    con.use_active_clip = False
    con.clip = clip
    scene.camera = cam
    return cam


def make(out_dir: str) -> dict[str, float]:
    """Frames and solve.blend in ``out_dir``; each clip's average reprojection error (px)."""
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    scene = bpy.context.scene
    pts = truth.points()
    first = write_frames(os.path.join(out_dir, "frames"))
    own = tracked_clip(first, "Solve", pts)
    cam_clip = tracked_clip(first, "SolveCam", pts)
    # The camera first (unscaled): Apply Solution Scale measures through the scene's camera.
    following_camera(scene, cam_clip)
    scene.frame_start, scene.frame_end = 1, truth.FRAMES
    errors = {own.name: solve(own, "apply_solution_scale", truth.scale_distance(pts)),
              cam_clip.name: solve(cam_clip, "set_scale", truth.scale_distance(pts))}
    path = os.path.join(out_dir, "solve.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path, compress=True)
    # Saved once, the file has a folder: the frames' path becomes relative to it (portable).
    bpy.ops.file.make_paths_relative()
    bpy.ops.wm.save_as_mainfile(filepath=path, compress=True)
    if os.path.exists(path + "1"):  # the backup of the first save
        os.remove(path + "1")
    return errors


def check(out_dir: str, tolerance: float = 0.002) -> list[str]:
    """Read both clips' anchors with the extension's reader: one line each; raises beyond
    ``tolerance`` (relative depth error)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from rackfocus_addon.bl.solve_anchors import read_solve

    lines = []
    for clip in ("Solve", "SolveCam"):
        result = read_solve(os.path.join(out_dir, "solve.blend") + ":" + clip)
        depth_err, px_err = truth.anchor_errors(result.anchors)
        lines.append(f"{result.summary()}: worst depth error {100 * depth_err.max():.2g} %, "
                     f"worst pixel {px_err.max():.2g} px")
        if len(result.anchors) != len(truth.points()) * truth.FRAMES or \
                not depth_err.max() < tolerance:
            raise RuntimeError(lines[-1])
    return lines


def main() -> int:
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    out_dir = os.path.abspath(args[args.index("--out") + 1]) if "--out" in args else \
        os.path.join(os.getcwd(), "out", "solve")
    try:
        window = bool(bpy.context.window_manager.windows)
        errors = make(out_dir)
        for name, err in errors.items():
            print(f"RF-SOLVE: clip '{name}' solved (window: {window}), average error "
                  f"{err:.4g} px", flush=True)
        for line in check(out_dir) if "--check" in args else []:
            print(f"RF-SOLVE: {line}", flush=True)
    except Exception:  # noqa: BLE001 - any failure fails the script
        traceback.print_exc()
        return 1
    print("RF-SOLVE: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main())
