"""One subject resolver for every door: footage pixels work in export, describe, presets and the
panel exactly as in the CLI's pull, and a panel pixel mark tracks a moving camera."""

from __future__ import annotations

import json
import os

import bpy
import numpy as np
import pytest

from rackfocus_addon.bl import demo_plate, plate
from rackfocus_addon.bl import pull as pull_engine
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.cli import main
from rackfocus_addon.marks import Mark, SubjectRef, parse_mark
from rackfocus_addon.plate_request import PlateRequest
from rackfocus_addon.request import PullRequest

W, H = 48, 27
BOX_PX, WALL_PX = (int(W * 0.30), int(H * 0.60)), (2, 2)


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """A tiny CG still (box at 2 m, wall at 8 m) with its exact depth."""
    root = str(tmp_path_factory.mktemp("footage"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    demo_plate.build_cg_scene(bpy.context.scene, W, H, frames=1)
    colors, depths = demo_plate.render_footage(bpy.context.scene, root, samples=1)
    return colors[0], depths[0]


@pytest.fixture
def plate_file(empty_scene, footage, tmp_path):
    """A saved .blend whose camera carries a depth plate of the footage (24 frames)."""
    path = str(tmp_path / "plate.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    result = plate.import_plate(empty_scene, PlateRequest(footage[0], footage[1],
                               cache_dir=str(tmp_path / "rackfocus_cache")))
    empty_scene.frame_start, empty_scene.frame_end = 1, 24
    empty_scene.camera = empty_scene.objects[result.camera]
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return path


def test_pixel_marks_work_in_export_describe_and_presets(plate_file, tmp_path, capsys):
    pulled = str(tmp_path / "pulled.blend")
    assert main(["pull", plate_file, "--mark", f"px:{BOX_PX[0]},{BOX_PX[1]}@1",
                 "--mark", f"px:{WALL_PX[0]},{WALL_PX[1]}@24", "--out", pulled]) == 0
    assert main(["export", pulled, "--out", str(tmp_path / "focus.json")]) == 0
    data = json.load(open(tmp_path / "focus.json"))
    assert data["subjects"] == [f"px:{BOX_PX[0]},{BOX_PX[1]}", f"px:{WALL_PX[0]},{WALL_PX[1]}"]
    assert data["frames"][-1]["focus_m"] == pytest.approx(8.0, rel=1e-3)
    assert data["frames"][-1]["blur_px"][f"px:{WALL_PX[0]},{WALL_PX[1]}"] == pytest.approx(0.0)
    assert main(["describe", pulled]) == 0
    assert "rack focus" in capsys.readouterr().out
    preset = str(tmp_path / "preset.blend")
    assert main(["pull", plate_file, "--preset", "fg_to_bg",
                 "--mark", f"px:{WALL_PX[0]},{WALL_PX[1]}@1",
                 "--mark", f"px:{BOX_PX[0]},{BOX_PX[1]}@1", "--json", "--out", preset]) == 0
    printed = capsys.readouterr()
    result = json.loads(printed.out)
    # fg_to_bg orders by depth: the box (near) first, the wall (far) last.
    assert result["marks"][0]["subject"] == f"px:{BOX_PX[0]},{BOX_PX[1]}"
    assert result["marks"][-1]["distance_m"] == pytest.approx(8.0, rel=1e-3)


def _focus_curve(scene, cam):
    return [effective_focus_m(scene, cam, f) for f in range(scene.frame_start,
                                                             scene.frame_end + 1)]


def test_panel_pixel_mark_tracks_a_moving_camera_like_the_cli(addon, plate_file):
    bpy.ops.wm.open_mainfile(filepath=plate_file)
    scene = bpy.context.scene
    cam = scene.camera
    for frame, y in ((1, 0.0), (24, -3.0)):  # the camera dollies back 3 m
        cam.location.y = y
        cam.keyframe_insert("location", index=1, frame=frame)
    scene.frame_set(1)
    assert bpy.ops.rackfocus.add_pixel_mark(x=BOX_PX[0], y=BOX_PX[1]) == {"FINISHED"}
    scene.frame_set(24)
    assert bpy.ops.rackfocus.add_pixel_mark(x=WALL_PX[0], y=WALL_PX[1]) == {"FINISHED"}
    marks = scene.rackfocus.marks
    assert [m.kind for m in marks] == ["PIXEL", "PIXEL"] and marks[1].frame == 24
    scene.rackfocus.mode = "bake"
    assert bpy.ops.rackfocus.create_pull() == {"FINISHED"}
    panel = _focus_curve(scene, cam)
    # The wall is 8 m from the camera at its mark, however far the camera has moved.
    assert panel[-1] == pytest.approx(8.0, rel=1e-3)
    assert bpy.ops.rackfocus.clear_pull() == {"FINISHED"}

    cli_marks = [parse_mark(f"px:{BOX_PX[0]},{BOX_PX[1]}@1"),
                 parse_mark(f"px:{WALL_PX[0]},{WALL_PX[1]}@24")]
    pull_engine.write_pull(scene, cam, PullRequest(tuple(cli_marks), mode="bake"))
    assert np.allclose(_focus_curve(scene, cam), panel, rtol=1e-6)


def test_pixel_mark_on_a_camera_without_a_plate_names_the_fix(addon, empty_scene):
    data = bpy.data.cameras.new("Bare")
    cam = bpy.data.objects.new("Bare", data)
    empty_scene.collection.objects.link(cam)
    empty_scene.camera = cam
    with pytest.raises(ValueError, match="needs a depth plate in front of camera 'Bare'"):
        pull_engine.write_pull(empty_scene, cam, PullRequest(
            (Mark(SubjectRef("pixel", coords=(1, 1)), frame=1),)))
    assert not os.path.exists(os.path.join(os.getcwd(), "rackfocus_cache", "Bare"))
