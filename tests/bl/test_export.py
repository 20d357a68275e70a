"""Focus data out (export, describe) and the workflow options of the CLI pull verb."""

import csv
import json

import bpy
import pytest

from helpers import add_empty, create_pull, two_subject_scene
from rackfocus_addon import optics
from rackfocus_addon.bl import compat, export, pull, realism
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.cli import main
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import parse_mark
from rackfocus_addon.request import Realism


@pytest.fixture
def scene(empty_scene):
    two_subject_scene(empty_scene)
    empty_scene.frame_start, empty_scene.frame_end = 1, 30
    empty_scene.render.resolution_x, empty_scene.render.resolution_y = 640, 360
    empty_scene.render.resolution_percentage = 50
    return empty_scene


@pytest.fixture
def shot(scene, tmp_path):
    path = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return path


def marks(*specs):
    return [parse_mark(s) for s in specs]


@pytest.mark.parametrize("mode", ["rig", "bake"])
def test_collect_matches_blender_focus_and_thin_lens_blur(scene, mode):
    cam = scene.camera
    create_pull(scene, cam, marks("Near@1", "Far@25"), Easing("quad", "out"), "distance",
                     mode)
    data = export.collect(scene, cam)
    assert data["resolution_px"] == [320, 180] and data["subjects"] == ["Near", "Far"]
    assert len(data["frames"]) == 30
    for row in data["frames"][::5]:
        f = row["frame"]
        assert row["focus_m"] == pytest.approx(effective_focus_m(scene, cam, f), abs=1e-5)
        expected = optics.coc_px(8.0, row["focus_m"], 50.0, 1.4, 36.0, 320)
        assert row["blur_px"]["Far"] == pytest.approx(expected, abs=1e-3)
        assert row["fstop"] == pytest.approx(1.4) and row["focal_mm"] == pytest.approx(50.0)
    assert data["frames"][0]["blur_px"]["Near"] == 0.0
    assert data["frames"][24]["blur_px"]["Far"] == 0.0


def test_export_carries_animated_fstop_and_breathing(scene, tmp_path):
    cam = scene.camera
    create_pull(scene, cam, marks("Near@1", "Far@21"), Easing(), "diopter", "bake",
                realism=Realism(fstop_ramp=(4.0, 2.0), breathing=0.03, close_focus_m=0.5))
    paths = export.export(scene, cam, str(tmp_path / "data"))
    assert [p.rsplit(".", 1)[1] for p in paths] == ["csv", "json"]
    rows = list(csv.DictReader(open(paths[0])))
    assert list(rows[0]) == ["frame", "focus_m", "fstop", "focal_mm", "blur_px:Near",
                             "blur_px:Far"]
    assert float(rows[0]["fstop"]) == pytest.approx(4.0)
    assert float(rows[20]["fstop"]) == pytest.approx(2.0)
    assert float(rows[0]["focal_mm"]) == pytest.approx(50.0 * (1 + 0.03 * 0.25), rel=1e-5)
    assert float(rows[29]["focal_mm"]) == pytest.approx(50.0 * (1 + 0.03 * 0.0625), rel=1e-5)
    data = json.load(open(paths[1]))
    assert data["frames"][10]["fstop"] == pytest.approx(float(rows[10]["fstop"]))
    with pytest.raises(ValueError, match="csv or .json"):
        export.export(scene, cam, str(tmp_path / "x.txt"))


def test_export_without_a_pull_needs_subjects(scene, tmp_path):
    data = export.collect(scene, scene.camera, (1, 2), subjects=["Far"])
    assert data["subjects"] == ["Far"]
    assert export.collect(scene, scene.camera, (1, 2))["subjects"] == []
    with pytest.raises(ValueError, match="has no Rack Focus pull"):
        export.describe_pull(scene, scene.camera)


def test_sensor_fit_for_portrait_frames(scene):
    scene.render.resolution_x, scene.render.resolution_y = 360, 640
    scene.render.resolution_percentage = 100
    lens = realism.lens_setup(scene, scene.camera)
    assert (lens.sensor_width_mm, lens.width_px) == (36.0, 640)  # AUTO fits the long side
    scene.camera.data.sensor_fit = "HORIZONTAL"
    assert realism.lens_setup(scene, scene.camera).width_px == 360
    scene.camera.data.sensor_fit = "VERTICAL"
    lens = realism.lens_setup(scene, scene.camera)
    assert (lens.sensor_width_mm, lens.width_px) == (24.0, 640)


def test_describe_is_built_from_the_scene(scene):
    cam = scene.camera
    cam.data.dof.aperture_fstop = 2.0
    create_pull(scene, cam, marks("Near@1", "Near@7", "Far@31"), Easing("sine", "in-out"),
                     "distance", "rig")
    text = export.describe_pull(scene, cam)
    assert text == (
        "Shallow depth of field (50 mm lens at f/2), foreground subject 'Near' sharp, "
        "background subject 'Far' soft, 6.0 m apart in depth (2.0, 8.0 m from camera), then "
        "after 0.25 seconds, rack focus to the background ('Far') over one second "
        "(24 frames at 24 fps), with a smooth ease in and out, and hold on 'Far'."
    )


def test_realism_refuses_user_keys_and_restores(scene):
    cam = scene.camera
    cam.data.lens = 35.0
    cam.data.keyframe_insert("lens", frame=1)
    with pytest.raises(ValueError, match="already has keys on the focal length"):
        create_pull(scene, cam, marks("Near@1", "Far@21"), realism=Realism(breathing=0.02))
    assert pull.read_record(cam) is None  # refused before anything changed
    cam.data.dof.aperture_fstop = 5.6
    create_pull(scene, cam, marks("Near@1", "Far@21"), realism=Realism(fstop=2.0))
    assert cam.data.dof.aperture_fstop == pytest.approx(2.0)
    create_pull(scene, cam, marks("Near@1", "Far@21"), realism=Realism(fstop=1.2))  # re-apply
    assert cam.data.dof.aperture_fstop == pytest.approx(1.2)
    assert "Restored" in realism.clear_realism(cam)
    assert cam.data.dof.aperture_fstop == pytest.approx(5.6)
    assert len(compat.find_fcurve(cam.data, "lens").keyframe_points) == 1
    assert realism.clear_realism(cam) is None


def test_cli_export_and_describe(shot, tmp_path, capsys):
    pulled = str(tmp_path / "pulled.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@25", "--out", pulled]) == 0
    out = str(tmp_path / "focus.json")
    assert main(["export", pulled, "--out", out, "--frames", "1-25"]) == 0
    data = json.load(open(out))
    assert [r["frame"] for r in data["frames"]] == list(range(1, 26))
    assert data["frames"][-1]["focus_m"] == pytest.approx(8.0, abs=1e-4)
    capsys.readouterr()
    txt = str(tmp_path / "prompt.txt")
    assert main(["describe", pulled, "--out", txt]) == 0
    printed = capsys.readouterr().out
    assert "foreground subject 'Near' sharp, background subject 'Far' soft" in printed
    assert open(txt).read().strip() == printed.strip()
    assert main(["export", pulled, "--out", str(tmp_path / "f.xlsx")]) == 2
    assert "csv or .json" in capsys.readouterr().err


def test_cli_presets_verbs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RACKFOCUS_USER_PRESETS", str(tmp_path))
    assert main(["presets", "list"]) == 0
    listed = capsys.readouterr().out
    for key in ("fg_to_bg", "bg_to_fg", "reveal", "character_arrival", "dual_rack"):
        assert key in listed
    assert main(["presets", "show", "quick_snap"]) == 0
    assert "first@+0, first@+12, second@+16, second@+28" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[preset]\nname="x"\nsequence=["near","far"]\n[timing]\ntransition=-1\n')
    assert main(["presets", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: key 'timing.transition'" in err and "out of range" in err
    assert main(["presets", "show", "nope"]) == 2


def test_cli_pull_with_preset_solve_and_realism(shot, tmp_path, capsys):
    out = str(tmp_path / "p.blend")
    bpy.ops.wm.open_mainfile(filepath=shot)
    scene = bpy.context.scene
    scene.camera.data.dof.aperture_fstop = 22.0
    scene.render.resolution_x, scene.render.resolution_y = 64, 36
    bpy.ops.wm.save_mainfile()
    code = main(["pull", shot, "--mark", "Far@1", "--mark", "Near@2", "--preset",
                 "pull_with_settle", "--mode", "bake", "--solve-fstop", "--min-blur", "3",
                 "--breathing", "0.02", "--out", out])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "preset 'Pull with a Settle': marks Far@1 Far@13 Near@33 Near@49" in err
    assert "readability: frame 13: focus 8.00 m" in err
    assert "Opened the iris from f/22" in err
    bpy.ops.wm.open_mainfile(filepath=out)
    cam = bpy.context.scene.camera
    assert cam.data.dof.aperture_fstop < 22.0
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    closest = min(fc.evaluate(f) for f in range(13, 34))
    # The settle overshoots the near mark by 6 % of the move in diopters, then lands on 2 m.
    assert 1 / closest == pytest.approx(0.5 + 0.06 * (0.5 - 0.125), abs=2e-3)
    assert fc.evaluate(49) == pytest.approx(2.0)
    assert compat.find_fcurve(cam.data, "lens") is not None
    cleared = str(tmp_path / "cleared.blend")
    assert main(["clear", out, "--out", cleared]) == 0
    bpy.ops.wm.open_mainfile(filepath=cleared)
    cam = bpy.context.scene.camera
    assert compat.find_fcurve(cam.data, "lens") is None
    assert compat.find_fcurve(cam.data, "dof.focus_distance") is None
    assert cam.data.dof.aperture_fstop == pytest.approx(22.0)


def test_hysteresis_on_a_moving_subject(scene):
    cam = scene.camera
    walker = add_empty(scene, "Walker", (0.0, 4.0, 0.0))
    for f in range(1, 31):  # walks 1 cm a frame, plus 8 mm of jitter
        walker.location.y = 4.0 + 0.01 * f + (0.008 if f % 2 else -0.008)
        walker.keyframe_insert("location", index=1, frame=f)
    create_pull(scene, cam, marks("Walker@1"), Easing(), "distance", "bake")
    raw = [compat.find_fcurve(cam.data, "dof.focus_distance").evaluate(f) for f in range(1, 31)]
    assert sum(1 for a, b in zip(raw, raw[1:]) if b < a) > 5  # it hunts back and forth
    create_pull(scene, cam, marks("Walker@1"), Easing(), "distance", "bake",
                realism=Realism(hysteresis_diopters=0.002))
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    steady = [fc.evaluate(f) for f in range(1, 31)]
    assert all(b >= a - 1e-9 for a, b in zip(steady, steady[1:]))  # never hunts back
    for f, s in zip(range(1, 31), steady):
        assert abs(1 / s - 1 / raw[f - 1]) <= 0.002 + 1e-6  # keys are float32
