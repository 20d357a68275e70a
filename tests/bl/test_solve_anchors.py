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

    def capture(scene, footage, depth, kind, near, far, anchors, **kw):
        seen.append(list(anchors))
        raise RackFocusError("captured")

    monkeypatch.setattr(registered.plate_engine, "build_plate", capture)
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
        batch.estimate_shot(shots.shots[0], batch.Log())
    anchors = seen[0].anchors
    assert len(anchors) == 1 + 30 * truth.FRAMES and anchors[0].spec() == "10,10=3"
    assert truth.anchor_errors(anchors[1:])[0].max() < DEPTH_TOLERANCE
