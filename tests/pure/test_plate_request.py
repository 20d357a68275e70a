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
