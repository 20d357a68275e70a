"""Render settings made for plates: they change what Cycles prepares and traces, never the
picture, and every change is reported and saved with the shot."""

from __future__ import annotations

import os

import bpy
import numpy as np
import pytest

from helpers import add_camera, cg_plate_still
from rackfocus_addon import cli
from rackfocus_addon.bl import demo_plate, footage, plate, plate_render, records
from rackfocus_addon.bl import render as render_engine
from rackfocus_addon.plate_request import PlateRequest

W, H = 48, 27


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    return cg_plate_still(str(tmp_path_factory.mktemp("shot")), W, H)


def _render(scene, path: str) -> np.ndarray:
    demo_plate.render_still(scene, path, "OPEN_EXR" if path.endswith(".exr") else "PNG")
    return footage.read_pixels(path, data=True)[0]


def _settings(scene) -> dict:
    c = scene.cycles
    return {"max_bounces": c.max_bounces, "transparent_max_bounces": c.transparent_max_bounces,
            "caustics_reflective": c.caustics_reflective, "use_light_tree": c.use_light_tree,
            "use_persistent_data": scene.render.use_persistent_data}


def test_plate_settings_change_no_pixel_and_are_reported_and_saved(empty_scene, shot,
                                                                   tmp_path):
    scene = empty_scene
    scene.cycles.use_adaptive_sampling = True  # Blender's default, kept as it is
    before = _settings(scene)
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    after = _settings(scene)
    assert after == {"max_bounces": 0, "transparent_max_bounces": 0,
                     "caustics_reflective": False, "use_light_tree": False,
                     "use_persistent_data": True}
    assert before["max_bounces"] == 12 and before["use_light_tree"] is True  # they did change
    # Every changed setting is in the import's report and in the scene's record.
    changes = result.scene_changes
    for line in ("Cycles light bounces 12 -> 0", "Cycles transparent bounces 8 -> 0",
                 "Cycles reflective caustics on -> off", "Cycles refractive caustics on -> off",
                 "Cycles light tree on -> off", "persistent data off -> on"):
        assert line in changes, changes
    mats = [s.material for name in (result.plate, result.fill)
            for s in scene.objects[name].material_slots]
    assert all(m.cycles.emission_sampling == "NONE" for m in mats)
    assert sum("emission sampling Auto -> None" in c for c in changes) == 2
    saved = records.read(scene, plate_render.RECORD)
    assert saved["changed"]["Cycles light bounces"] == [12, 0]
    assert set(saved["changed"]) == {c.rsplit(" ", 3)[0] for c in changes
                                     if " -> " in c and not c.startswith("resolution")
                                     and not c.startswith("frame")
                                     and not c.startswith("fps")}, (saved, changes)
    assert scene.cycles.use_adaptive_sampling is True
    # The same picture with and without them: a wide aperture, fixed seed.
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.cycles.samples = 16
    cam = scene.camera.data
    cam.dof.use_dof, cam.dof.focus_distance, cam.dof.aperture_fstop = True, 2.2, 1.4
    tuned = _render(scene, str(tmp_path / "tuned.exr"))
    for key, value in before.items():
        setattr(scene.render if key == "use_persistent_data" else scene.cycles, key, value)
    scene.cycles.caustics_refractive = True
    for mat in mats:
        mat.cycles.emission_sampling = "AUTO"
    plain = _render(scene, str(tmp_path / "plain.exr"))
    assert np.abs(plain - 0.5).max() < 0.6 and plain.std() > 0.05  # a real picture
    np.testing.assert_allclose(tuned, plain, atol=1e-5)


def test_other_objects_keep_their_bounces(empty_scene, shot, tmp_path):
    """A scene that renders more than the plate keeps what would change its look, and says so."""
    scene = empty_scene
    bpy.ops.mesh.primitive_cube_add(location=(0, 5, 0))
    scene.frame_end = 10  # an animation: no persistent data
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path),
                                                    keep_range=True))
    assert scene.cycles.max_bounces == 12 and scene.cycles.use_light_tree
    assert not scene.render.use_persistent_data
    assert any("kept: 'Cube'" in c for c in result.scene_changes), result.scene_changes
    assert records.read(scene, plate_render.RECORD)["kept_for"] == ["Cube"]


def test_render_reapplies_and_reports_the_settings(empty_scene, shot, tmp_path, capsys):
    scene = empty_scene
    add_camera(scene)
    plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    scene.cycles.max_bounces = 4  # changed by hand after the import
    assert "Cycles light bounces 4 -> 0" in render_engine.configure(scene, "cycles", 1)
    assert render_engine.configure(scene, "cycles", 1) == []  # nothing left to change
    scene.cycles.max_bounces = 4
    path = str(tmp_path / "p.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    assert cli.main(["render", path, "--out", str(tmp_path / "frames"), "--samples", "1"]) == 0
    assert "render setting Cycles light bounces 4 -> 0" in capsys.readouterr().err
    assert os.path.isfile(str(tmp_path / "frames" / "frame_0001.png"))


def test_denoiser_is_detected_not_assumed():
    import _cycles

    assert plate_render.has_denoiser() == bool(_cycles.with_openimagedenoise)
