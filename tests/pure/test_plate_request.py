"""The plate request every door builds, the folders it names, and the camera values a plate sets
(pure: no bpy)."""

from __future__ import annotations

import os

import pytest

from rackfocus_addon.depth import Anchor
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.plate_mesh import camera_values
from rackfocus_addon.plate_request import (
    CACHE_DIR,
    EstimateSettings,
    PlateRequest,
    cache_root,
    estimate_dir,
)
from rackfocus_addon.shot_schema import parse_shot_list


def test_estimated_depth_is_metric_and_not_scaled_again():
    asked = PlateRequest("clip/shot_0001.png", None, "inverse", near_m=1.0, far_m=9.0,
                         anchors=(Anchor(3, 4, 2.0),), estimate=EstimateSettings(),
                         sensor_mm=24.0, density=0.5)
    plate = asked.estimated("/c/shot_0001_estimated_depth/depth_0001.exr")
    assert (plate.depth, plate.kind, plate.near_m, plate.far_m, plate.anchors, plate.estimate) == (
        "/c/shot_0001_estimated_depth/depth_0001.exr", "metric", None, None, (), None)
    assert (plate.sensor_mm, plate.density, plate.footage) == (24.0, 0.5, asked.footage)


def test_the_estimate_goes_in_the_cache_folder_one_folder_per_footage():
    assert cache_root(os.path.join("proj", "shots")) == os.path.join("proj", "shots", CACHE_DIR)
    cache = os.path.join("proj", CACHE_DIR)
    assert estimate_dir(cache, os.path.join("clip", "shot_0001.png")) == os.path.join(
        cache, "shot_0001_estimated_depth")
    assert estimate_dir(cache, "clips/take2/") == os.path.join(cache, "take2_estimated_depth")
    request = PlateRequest("clips/a.mov", anchors=(Anchor(1, 2, 3.0),), near_m=None,
                           focal_mm=35.0,
                           estimate=EstimateSettings(model="m.onnx", temporal=True, cuts=False))
    est = request.estimate_request(cache)
    assert est.out_dir == os.path.join(cache, "a_estimated_depth")
    assert (est.footage, est.model, est.temporal, est.cuts, est.focal_mm, est.anchors) == (
        "clips/a.mov", "m.onnx", True, False, 35.0, (Anchor(1, 2, 3.0),))
    assert request.estimate_request(cache, "/abs/b.mov").out_dir == os.path.join(
        cache, "b_estimated_depth")


def test_every_bad_setting_is_named_in_the_callers_words():
    request = PlateRequest("f.png", "d.exr", sensor_mm=0.0, tear=-1.0, near_m=3.0, far_m=2.0)
    assert len(request.problems()) == 3
    with pytest.raises(RackFocusError, match="sensor width .*; .*relative depth jump.*; "
                                             "--near must be nearer than --far"):
        request.check()
    with pytest.raises(RackFocusError, match="^Sensor Width must be"):
        request.check(names={"sensor_mm": "Sensor Width"})
    assert PlateRequest("f.png", "d.exr").problems() == []


@pytest.mark.parametrize("fit, width, height, attr, label, size", [
    ("HORIZONTAL", 1920, 1080, "sensor_width", "sensor width", 36.0),
    ("VERTICAL", 1920, 1080, "sensor_height", "sensor height", 20.25),
    ("AUTO", 1080, 1920, "sensor_width", "sensor size", 64.0),
])
def test_camera_values_match_the_sensor_fit(fit, width, height, attr, label, size):
    values = camera_values(fit, 36.0, 50.0, width, height, 0.1, 100.0, 1.0, 20.0)
    assert values == {attr: (label, "mm", pytest.approx(size)),
                      "lens": ("focal length", "mm", 50.0)}


def test_camera_values_widen_the_clip_range_only_where_it_cuts_the_plate():
    values = camera_values("HORIZONTAL", 36.0, 50.0, 64, 36, 1.0, 30.0, 0.5, 20.0)
    assert values["clip_start"] == ("clip start", "m", 0.25)
    assert values["clip_end"] == ("clip end", "m", 81.0)


def test_a_footage_shot_builds_the_same_request(tmp_path):
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "shot_0001.png").write_bytes(b"")
    (tmp_path / "depth_0001.exr").write_bytes(b"")
    shot_list, errors = parse_shot_list("""
[[shot]]
name = "file"
footage = "clip/shot_0001.png"
depth = "depth_0001.exr"
camera = "Cam"
marks = ["px:1,1@1"]
[shot.plate]
depth_kind = "inverse"
anchors = ["3,4=2.5"]
sensor_mm = 24.0
density = 0.5
[[shot]]
name = "est"
footage = "clip/shot_0001.png"
depth = "estimate"
model = "da2-small"
marks = ["px:1,1@1"]
[shot.plate]
near_m = 1.0
far_m = 9.0
""", str(tmp_path / "shots.toml"))
    assert errors == []
    file, est = (shot.plate_request() for shot in shot_list.shots)
    assert (file.footage, file.depth, file.kind, file.anchors, file.camera, file.sensor_mm,
            file.density, file.estimate, file.cache_dir) == (
        str(tmp_path / "clip" / "shot_0001.png"), str(tmp_path / "depth_0001.exr"), "inverse",
        (Anchor(3, 4, 2.5),), "Cam", 24.0, 0.5, None,
        os.path.join(shot_list.shots[0].output, CACHE_DIR))
    assert (est.depth, est.estimate, est.near_m, est.far_m, est.camera) == (
        None, EstimateSettings(model="da2-small"), 1.0, 9.0, None)
    assert est.estimate_request(est.cache_dir).out_dir == shot_list.shots[1].estimate_dir
