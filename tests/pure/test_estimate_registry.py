"""The model registry: permissive licences only, the published files, the camera's focal length
in pixels, and the estimation package staying free of bpy (no Blender needed)."""

import ast
import os
import re

import pytest

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import registry

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "rackfocus_addon", "estimate")
PERMISSIVE = {"Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause"}


def test_the_default_is_depth_anything_v2_small_with_the_published_files():
    entry = registry.find_entry(registry.DEFAULT_MODEL)
    assert entry.title == "Depth Anything V2 Small"
    assert (entry.input_name, entry.output_name) == ("pixel_values", "predicted_depth")
    assert entry.output == "disparity" and entry.layout == "frame" and entry.relative
    assert (entry.short_side_px, entry.multiple_px, entry.resize) == (518, 14, "bicubic")
    assert entry.mean == (0.485, 0.456, 0.406) and entry.std == (0.229, 0.224, 0.225)
    assert entry.parameters_m == 24.8
    files = {f.variant: (f.path, f.size_mb, f.sha256) for f in entry.files}
    assert files == {
        "fp32": ("onnx/model.onnx", 99.1,
                 "afb6a5c28f3b6bf1618c6e43f02073ef9dfdc70e937502d51603e57b0a1df10c"),
        "fp16": ("onnx/model_fp16.onnx", 49.6,
                 "2df6223f206b5164e21f664ace61dabeb9bb6a49b8b5a3e00510b4807d0f5b04"),
        "int8": ("onnx/model_int8.onnx", 27.3,
                 "01aa7a23de3f4a0ee1a2bb9997e6918104c85a9f95dea46d27b9b3fb0c6b9001"),
    }
    assert entry.file().variant == "fp32" and entry.file("int8").size_mb == 27.3
    for f in entry.files:
        assert f.url.startswith("https://huggingface.co/onnx-community/depth-anything-v2-small/")
        assert f.url.endswith(f.path)


@pytest.mark.parametrize("entry", registry.MODELS, ids=lambda e: e.key)
def test_every_entry_is_permissive_and_complete(entry):
    assert entry.licence_code in PERMISSIVE and entry.licence_weights in PERMISSIVE
    assert entry.output in registry.OUTPUT_KINDS and entry.layout in registry.LAYOUTS
    assert entry.source.startswith("https://")
    for f in entry.files:
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256) and f.size_mb > 0
    if entry.layout == "video":
        assert (entry.window_frames, entry.overlap_frames, entry.crossfade_frames) == (32, 10, 8)
    assert registry.find_entry(entry.key) is entry
    assert registry.find_entry(entry.title.upper()) is entry
    assert entry.key in entry.describe()


def test_a_metric_option_exists():
    outputs = {e.output for e in registry.MODELS}
    assert {"metric", "metric_focal300"} <= outputs


@pytest.mark.parametrize("name", ["Depth Anything V2 Large", "Depth Anything V2 Base",
                                  "Video Depth Anything Large", "Video Depth Anything Base",
                                  "Depth Anything 3 Giant", "Depth Anything 3 Large",
                                  "DepthCrafter", "UniDepth"])
def test_non_commercial_models_are_refused_with_their_licence(name):
    with pytest.raises(RackFocusError, match="not offered") as err:
        registry.find_entry(name)
    assert "non-commercial" in str(err.value) or "NC" in str(err.value)


def test_unknown_names_and_variants():
    with pytest.raises(RackFocusError, match="da2-small"):
        registry.find_entry("midas")
    with pytest.raises(RackFocusError, match="variants: fp32, fp16, int8"):
        registry.find_entry("da2-small").file("fp8")
    with pytest.raises(RackFocusError, match="--model PATH --model-kind vda-small"):
        registry.find_entry("vda-small").file()
    assert registry.split_spec("da2-small:int8") == ("da2-small", "int8")
    assert registry.split_spec("da2-small") == ("da2-small", None)


def test_focal_length_in_pixels_honours_sensor_fit():
    assert registry.focal_px(50, 36, 1920, 1080, "HORIZONTAL") == pytest.approx(2666.667, 1e-6)
    assert registry.focal_px(50, 24, 1920, 1080, "VERTICAL") == pytest.approx(2250.0)
    # AUTO: the sensor spans the larger side (the height of a portrait frame).
    assert registry.focal_px(50, 36, 1080, 1920, "AUTO") == pytest.approx(50 / 36 * 1920)
    assert registry.focal_px(50, 36, 1920, 1080, "auto") == pytest.approx(50 / 36 * 1920)
    with pytest.raises(RackFocusError):
        registry.focal_px(0, 36, 1920, 1080)
    with pytest.raises(RackFocusError, match="sensor fit"):
        registry.focal_px(50, 36, 1920, 1080, "DIAGONAL")


def test_depth_anything_3_metric_conversion():
    # metres = focal_px * output / 300: at the canonical focal length the output is metres.
    assert registry.canonical_to_metres(2.0, 300.0) == pytest.approx(2.0)
    assert registry.canonical_to_metres(2.0, 600.0) == pytest.approx(4.0)


def test_the_estimation_package_is_pure():
    """No bpy, no bpy layer: the maths runs in plain Python. ONNX Runtime is imported in one
    place only, on first use: ``model.runtime()`` (the one guarded third-party import)."""
    names = sorted(n for n in os.listdir(PACKAGE) if n.endswith(".py"))
    assert {"registry.py", "preprocess.py", "upsample.py", "align.py", "temporal.py",
            "model.py", "request.py"} <= set(names)
    runtime_imports = []
    for name in names:
        tree = ast.parse(open(os.path.join(PACKAGE, name), encoding="utf-8").read())
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.module is None or not node.module.startswith(("bl", "cli")), name
                    continue
                mods = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not {"bpy", "mathutils", "bmesh", "onnx"} & set(mods), name
            if "onnxruntime" in mods:
                assert id(node) not in top_level, f"{name} imports onnxruntime on import"
                runtime_imports.append(name)
    assert runtime_imports == ["model.py"]
