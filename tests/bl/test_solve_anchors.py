"""Anchors from Blender's camera solve (issue 17, item 3), on a solve made here by Blender's own
solver: 30 known 3D points projected through a known moving camera (tests/solve_truth.py) as
the markers of two clips, solved by ``clip.solve_camera`` (it polls in background mode too, given
a Clip Editor in the context override) and scaled from one known distance, the one clip on the
solve itself (Apply Solution Scale), the other through its camera (Set Scale).
"""

import os
import sys

import bpy
import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "ui"))

import make_solve  # noqa: E402
import solve_truth as truth  # noqa: E402

from rackfocus_addon.bl import estimation  # noqa: E402
from rackfocus_addon.bl.footage import find_clip  # noqa: E402
from rackfocus_addon.bl.solve_anchors import read_solve  # noqa: E402
from rackfocus_addon.cli import main  # noqa: E402
from rackfocus_addon.errors import RackFocusError  # noqa: E402
from rackfocus_addon.estimate.model import LoadedModel  # noqa: E402
from rackfocus_addon.estimate.request import EstimateRequest  # noqa: E402

#: Largest relative error of a solve anchor against the true view-axis depth. Exact markers
#: solve to ~6e-7 here (bpy 4.2 and 5.0.1); the issue asks for 0.2 %.
DEPTH_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """The folder with frames/ and solve.blend, solved by Blender's solver."""
    folder = tmp_path_factory.mktemp("solve")
    bpy.ops.wm.read_factory_settings()
    errors = make_solve.make(str(folder))
    assert all(e < 0.01 for e in errors.values()), errors  # pixels of reprojection error
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return folder


@pytest.mark.parametrize("clip", ["Solve", "SolveCam"])
def test_solve_anchors_are_the_true_depths_in_metres(solved, empty_scene, clip):
    result = read_solve(f"{solved / 'solve.blend'}:{clip}")
    assert len(result.anchors) == 30 * truth.FRAMES and result.tracks == 30
    assert sorted({a.frame for a in result.anchors}) == list(range(truth.FRAMES))
    depth_err, px_err = truth.anchor_errors(result.anchors)
    print(f"{clip}: worst depth error {100 * depth_err.max():.2g} %, median "
          f"{100 * np.median(depth_err):.2g} %, worst pixel {px_err.max():.2g} px")
    assert depth_err.max() < DEPTH_TOLERANCE
    assert px_err.max() < 1e-3
    # Reading links the file and unlinks it: the current file is as it was.
    assert not bpy.data.libraries and not bpy.data.movieclips and len(bpy.data.scenes) == 1


def test_a_library_the_user_links_already_is_left_as_it_was(solved, empty_scene):
    blend = str(solved / "solve.blend")
    with bpy.data.libraries.load(blend, link=True) as (_src, dst):
        dst.movieclips = ["Solve"]
    linked = bpy.data.movieclips["Solve"]
    linked.use_fake_user = True
    assert len(read_solve(f"{blend}:Solve").anchors) == 30 * truth.FRAMES
    assert len(bpy.data.libraries) == 1 and list(bpy.data.movieclips) == [linked]
    assert len(bpy.data.scenes) == 1 and not bpy.data.objects
    assert linked.tracking.reconstruction.is_valid


def test_set_scale_on_the_camera_makes_the_metres(solved, empty_scene):
    """The solve's own units are not metres; the scale of the camera following it is."""
    result = read_solve(f"{solved / 'solve.blend'}:SolveCam")
    assert result.scale_source == "camera 'Camera'" and abs(result.scale - 1.0) > 0.01
    bpy.ops.wm.open_mainfile(filepath=str(solved / "solve.blend"))
    bpy.data.objects["Camera"].constraints[0].enabled = False
    unscaled = read_solve(f"{solved / 'solve.blend'}:SolveCam")  # the current file, read as is
    assert unscaled.scale == 1.0 and "no camera follows" in unscaled.scale_source
    ratio = [a.metres / b.metres for a, b in zip(unscaled.anchors, result.anchors)]
    assert np.allclose(ratio, 1.0 / result.scale, rtol=1e-9)


def test_clip_frame_offset_shifts_depth_frames_and_footage_bounds_them(solved, empty_scene):
    bpy.ops.wm.open_mainfile(filepath=str(solved / "solve.blend"))
    clip = bpy.data.movieclips["Solve"]
    clip.frame_start = 101  # where the clip sits in the scene: markers stay on clip frames
    clip.frame_offset = 2   # the clip's frame 1 shows the footage's third file
    footage = find_clip(str(solved / "frames" / "solve_0001.png"))
    result = read_solve(f"{bpy.data.filepath}:Solve", footage)
    assert sorted({a.frame for a in result.anchors}) == list(range(2, truth.FRAMES))
    assert result.skipped == {"on frames outside the footage": 2 * 30}
    # Depth frame 2 shows clip frame 1's markers.
    first = sorted((a.x, a.y) for a in result.anchors if a.frame == 2)
    uv = truth.project(1, truth.points())
    want = sorted(zip(uv[:, 0] * truth.WIDTH - 0.5, (1.0 - uv[:, 1]) * truth.HEIGHT - 0.5))
    assert np.allclose(first, want, atol=1e-3)


def not_a_blend(folder) -> str:
    path = folder / "text.blend"
    path.write_text("not a blend file")
    return str(path)


def unsolved_file(folder) -> str:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    clip = bpy.data.movieclips.load(str(folder / "frames" / "solve_0001.png"))
    clip.name = "Shot"
    clip.use_fake_user = True  # no editor shows it: without a user it would not be saved
    clip.tracking.tracks.new(name="T", frame=1)
    path = str(folder / "unsolved.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return path


def test_refusals_are_one_line_saying_what_to_do(solved, empty_scene):
    blend = str(solved / "solve.blend")
    cases = {
        blend: r"holds 2 movie clips \('SolveCam', 'Solve'\): name one",
        blend + ":solve": "No movie clip 'solve' in .*did you mean 'Solve'",
        str(solved / "nope.blend"): "No such file",
        not_a_blend(solved): r"Cannot read .*: not a \.blend, or saved by a newer Blender",
        unsolved_file(solved): "has no camera solve: in the Movie Clip Editor, track it, press "
                               "Solve Camera",
    }
    for spec, message in cases.items():
        with pytest.raises(RackFocusError, match=message) as err:
            read_solve(spec)
        assert "\n" not in str(err.value)
    assert not bpy.data.libraries


def test_cli_estimate_and_plate_add_the_solve_anchors_to_the_hand_anchors(
        solved, empty_scene, tmp_path, monkeypatch, capsys):
    seen = []

    def capture(request, progress=None):
        seen.append(request)
        raise RackFocusError("captured")

    monkeypatch.setattr(estimation, "estimate_depth", capture)
    footage = str(solved / "frames" / "solve_0001.png")
    solve = f"{solved / 'solve.blend'}:Solve"
    assert main(["estimate", "--footage", footage, "--out", str(tmp_path / "d"),
                 "--anchor", "10,10=3", "--solve", solve]) == 2
    assert main(["plate", str(solved / "solve.blend"), "--footage", footage, "--estimate",
                 "--solve", solve, "--out", str(tmp_path / "p.blend")]) == 2
    assert [len(r.anchors) for r in seen] == [1 + 30 * truth.FRAMES, 30 * truth.FRAMES]
    assert seen[0].anchors[0].spec() == "10,10=3"
    err = capsys.readouterr().err
    assert "camera solve 'Solve': 720 anchor(s) from 30 track(s) on 24 frame(s)" in err


def test_cli_refuses_a_bad_solve_with_exit_2_and_one_line(solved, empty_scene, tmp_path,
                                                          capsys):
    footage = str(solved / "frames" / "solve_0001.png")
    assert main(["estimate", "--footage", footage, "--out", str(tmp_path / "d"),
                 "--solve", str(solved / "solve.blend") + ":Nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No movie clip 'Nope'" in err[0]
    assert not os.path.exists(tmp_path / "d")


def test_import_plate_offers_this_files_solved_clips_and_passes_their_anchors(
        solved, addon, monkeypatch):
    bpy.ops.wm.open_mainfile(filepath=str(solved / "solve.blend"))
    unsolved = bpy.data.movieclips.load(str(solved / "frames" / "solve_0001.png"),
                                        check_existing=False)
    prop = bpy.ops.rackfocus.import_plate.get_rna_type().properties["solve_clip"]
    assert prop.name == "Anchors from Camera Solve"
    from rack_focus.operators import plate as registered  # the extension's own copy

    offered = [item[0] for item in registered._solved_clips(None, bpy.context)]
    assert offered == ["NONE", "Solve", "SolveCam"] and unsolved.name not in offered
    seen = []

    def capture(scene, request, *args, **kw):
        seen.append(list(request.anchors))
        raise RackFocusError("captured")

    monkeypatch.setattr(registered.plate_engine, "import_plate", capture)
    with pytest.raises(RuntimeError, match="captured"):
        bpy.ops.rackfocus.import_plate(footage=str(solved / "frames" / "solve_0001.png"),
                                       depth="depth.exr", depth_kind="inverse",
                                       anchors="10,10=3", solve_clip="Solve")
    assert len(seen) == 1 and len(seen[0]) == 1 + 30 * truth.FRAMES
    depth_err, _px = truth.anchor_errors(seen[0][1:])
    assert depth_err.max() < DEPTH_TOLERANCE


def test_shot_list_solve_anchors_the_estimate(solved, empty_scene, monkeypatch):
    from rackfocus_addon.bl import batch
    from rackfocus_addon.shot_schema import parse_shot_list

    text = ('[[shot]]\nname = "moving"\nfootage = "frames/solve_0001.png"\n'
            'depth = "estimate"\nsolve = "solve.blend:SolveCam"\nmarks = ["px:160,90@1"]\n'
            '[shot.plate]\nanchors = ["10,10=3"]\n')
    shots, errors = parse_shot_list(text, str(solved / "shots.toml"))
    assert errors == []
    seen = []

    def capture(request, progress=None):
        seen.append(request)
        raise RackFocusError("captured")

    monkeypatch.setattr(estimation, "estimate_depth", capture)
    with pytest.raises(RackFocusError, match="captured"):
        batch.build_shot(shots.shots[0], batch.Log())
    anchors = seen[0].anchors
    assert len(anchors) == 1 + 30 * truth.FRAMES and anchors[0].spec() == "10,10=3"
    assert truth.anchor_errors(anchors[1:])[0].max() < DEPTH_TOLERANCE


# --- the proof: a rendered moving shot, estimated with its own solve -----------------------------

def surface_points(truth0, matrix0, width, height, seed=5):
    """Candidate world points on the wall and the box (static; the sphere moves) seen on frame
    1: pixels of known depth unprojected through the first camera (plate_mesh's pixel
    convention), in the order wall, box."""
    from rackfocus_addon.bl import demo_plate

    rng = np.random.default_rng(seed)
    points = []
    for lo, hi in ((7.5, 8.5), (1.6, 2.6)):
        rows, cols = np.nonzero((truth0 > lo) & (truth0 < hi))
        pick = rng.permutation(rows.size)
        for r, c in zip(rows[pick], cols[pick]):
            z = float(truth0[r, c])
            u, v = (c + 0.5) / width, 1.0 - (r + 0.5) / height
            local = ((u - 0.5) * demo_plate.SENSOR_MM / demo_plate.FOCAL_MM * z,
                     (v - 0.5) * demo_plate.SENSOR_MM * height / width / demo_plate.FOCAL_MM * z,
                     -z, 1.0)
            points.append((matrix0 @ np.array(local))[:3])
    return np.array(points)


def inside_surfaces(pts, truths, matrices, project, count):
    """The first ``count`` wall points and ``count`` box points whose pixel and its 8
    neighbours hold their own depth (within 2 %) on every frame: away from depth edges and the
    moving sphere, where any pixel a tracker reports is the point's own surface."""
    height, width = truths[0].shape
    keep = []
    for i, p in enumerate(pts):
        ok = True
        for f, (truth_f, m) in enumerate(zip(truths, matrices), start=1):
            u, v = project(f, p[None])[0]
            c, r = round(u * width - 0.5), round((1.0 - v) * height - 0.5)
            z = -(np.linalg.inv(m) @ np.append(p, 1.0))[2]
            patch = truth_f[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2]
            if not (1 <= c < width - 1 and 1 <= r < height - 1
                    and np.all(np.abs(patch / z - 1.0) < 0.02)):
                ok = False
                break
        if ok:
            keep.append(i)
    wall = [i for i in keep if np.linalg.norm(pts[i] - matrices[0][:3, 3]) > 5.0][:count]
    box = [i for i in keep if np.linalg.norm(pts[i] - matrices[0][:3, 3]) <= 5.0][:count]
    assert len(wall) == len(box) == count
    return pts[wall + box]


def projector(matrices, width, height):
    """``project(frame, points)`` through the rendered camera (normalised, origin bottom-left)."""
    from rackfocus_addon.bl import demo_plate

    focal_px = demo_plate.FOCAL_MM / demo_plate.SENSOR_MM * width

    def project(frame, pts):
        inv = np.linalg.inv(matrices[frame - 1])
        local = pts @ inv[:3, :3].T + inv[:3, 3]
        return np.stack([0.5 + focal_px * local[:, 0] / -local[:, 2] / width,
                         0.5 + focal_px * local[:, 1] / -local[:, 2] / height], axis=1)
    return project


def test_a_rendered_moving_shot_estimated_with_its_solve_holds_its_metres(tmp_path, empty_scene):
    """Render a moving shot, track 20 static surface points through its known camera, solve
    and scale with Blender's solver, estimate with the solve's anchors: every frame stays
    metric, where anchors on the first frame alone drift."""
    import estimate_oracles as eo
    from test_estimation import FakeSession, read_depth

    from rackfocus_addon.bl import demo_plate, footage
    from rackfocus_addon.estimate import preprocess, registry

    width, height, frames = 96, 54, 8
    scene = empty_scene
    cam = demo_plate.build_cg_scene(scene, width, height, frames=frames)
    for f, loc in ((1, (0.0, 0.0, 0.0)), (frames, (0.4, 0.3, 0.05))):
        cam.location = loc
        cam.keyframe_insert("location", frame=f)
    colors, depths = demo_plate.render_footage(scene, str(tmp_path / "clip"), samples=2)
    matrices = []
    for f in range(1, frames + 1):
        scene.frame_set(f)
        matrices.append(np.array(cam.matrix_world, dtype=np.float64))
    truths = [read_depth(d).astype(np.float64) for d in depths]
    project = projector(matrices, width, height)
    pts = inside_surfaces(surface_points(truths[0], matrices[0], width, height), truths,
                          matrices, project, 10)
    clip = make_solve.tracked_clip(colors[0], "Shot", pts, project, frames,
                                   demo_plate.SENSOR_MM, demo_plate.FOCAL_MM)
    clip.use_fake_user = True
    with make_solve.clip_context(clip):
        assert bpy.ops.clip.solve_camera() == {"FINISHED"}
        for i, track in enumerate(clip.tracking.tracks):
            track.select = i in (0, 10)  # one on the wall, one on the box
        distance = float(np.linalg.norm(pts[0] - pts[10]))
        assert bpy.ops.clip.apply_solution_scale(distance=distance) == {"FINISHED"}
    blend = str(tmp_path / "track.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    solve = read_solve(f"{blend}:Shot", footage.find_clip(colors[0]))
    estimates, _params = eo.fake_estimates(truths, seed=11, noise=0.0)
    size = preprocess.model_size(width, height)
    tensors = [preprocess.to_tensor(preprocess.linear_to_srgb(
        footage.read_pixels(c)[0][..., :3]), *size) for c in colors]
    errors = {}
    first = tuple(a for a in solve.anchors if a.frame == 0)
    for label, anchors in (("solve", tuple(solve.anchors)), ("frame 0 only", first)):
        model = LoadedModel(FakeSession(tensors, estimates),
                                       registry.find_entry("da2-small"), "fake.onnx", "0" * 64)
        out = tmp_path / label.replace(" ", "_")
        req = EstimateRequest(colors[0], str(out), anchors=anchors)
        estimation.estimate_depth(req, model=model)
        aligned = [read_depth(str(out / f"depth_{i + 1:04d}.exr")).astype(np.float64)
                   for i in range(frames)]
        errors[label] = [eo.median_relative_error(a, t) for a, t in zip(aligned, truths)]
    print(f"\nrendered {width}x{height}, {frames} frames, camera trucking 5.7 cm and rising "
          f"4.3 cm a frame, {len(solve.anchors)} solve anchors: median depth error by frame "
          + "; ".join(f"{k}: " + " ".join(f"{100 * e:.2f}" for e in v) + " %"
                      for k, v in errors.items()))
    # Exact network output up to each frame's own scale and shift: the solve holds every frame
    # (no drift) where anchors on frame 0 alone drift ~0.4 % a frame. With the chain tied at
    # every anchored frame: solve 0.00 % on every frame, frame 0 only up to 3.0 % (measured);
    # the issue asks for 0.2 % with a solve.
    assert max(errors["solve"]) < 0.002
    assert max(errors["solve"]) < max(errors["frame 0 only"]) / 10.0
