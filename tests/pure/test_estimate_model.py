"""A depth network without Blender: signatures read from the session, the registry's rules,
running it, and what a user without ONNX Runtime is told (moved from tests/bl: no bpy needed)."""

from __future__ import annotations

import numpy as np
import pytest
from tiny_models import expected_output, tiny_model, two_input_model

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import model as estimate_model
from rackfocus_addon.estimate import preprocess, registry
from rackfocus_addon.estimate.request import metric_depth

MID = 0.5  # a mid grey (sRGB)


@pytest.mark.parametrize("entry", registry.MODELS, ids=lambda e: e.key)
def test_every_registry_signature_loads_and_runs(tmp_path, entry):
    path = tiny_model(tmp_path / f"{entry.key}.onnx", entry, frames=32 if entry.layout == "video"
                      else None)
    model = estimate_model.load_model(estimate_model.ModelChoice(path, entry))
    sig = model.signature
    assert (sig.input_name, sig.output_name, sig.layout) == (entry.input_name,
                                                             entry.output_name, entry.layout)
    assert model.sha256 == estimate_model.file_sha256(path)
    w, h = model.input_size(1920, 1080)
    assert (w, h) == (924, 518)
    # Dynamic height and width: two sizes through the same session.
    for w, h in ((56, 28), (42, 70)):
        grey = np.full((h, w, 3), MID, dtype=np.float32)
        tensor = preprocess.to_tensor(grey, w, h)
        if entry.layout == "video":
            tensor = np.repeat(tensor[:, None], 32, axis=1)
        out = model.predict(tensor)
        assert out.shape == ((32 if entry.layout == "video" else 1), h, w)
        assert np.allclose(out, expected_output(MID, stored=False), atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda p: tiny_model(p, out_rank=2),        # a classifier-like output [1, N]
    lambda p: tiny_model(p, channels=4),        # four input channels
    two_input_model,                            # two inputs
])
def test_the_wrong_signature_is_refused(tmp_path, make):
    path = make(tmp_path / "wrong.onnx")
    with pytest.raises(RackFocusError, match="does not have the Depth Anything signature"):
        estimate_model.load_model(estimate_model.ModelChoice(path, None))


def test_without_onnx_runtime_the_message_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(estimate_model, "onnxruntime", None)
    problem = estimate_model.runtime_problem()
    assert "pip install onnxruntime" in problem and "zip built for your platform" in problem
    assert estimate_model.runtime_version() == ""
    with pytest.raises(RackFocusError, match="needs ONNX Runtime"):
        estimate_model.load_model(estimate_model.ModelChoice(str(tmp_path / "x.onnx"), None))


def test_metric_depth_fills_what_alignment_left_invalid():
    inverse = np.array([[0.5, 0.25, -1.0], [np.nan, 0.5, 2000.0]])
    z, filled = metric_depth(inverse)
    assert z.dtype == np.float32 and filled == 3  # negative, NaN and nearer than 1 mm
    np.testing.assert_array_equal(z[0, :2], [2.0, 4.0])
    assert z[1, 1] == 2.0 and np.isfinite(z).all() and (z >= 2.0).all()
    with pytest.raises(RackFocusError, match="Frame 4: no pixel has a valid depth"):
        metric_depth(np.full((2, 2), -1.0), 3)


def test_a_users_own_file_is_credited_by_its_name_a_published_one_by_its_title(tmp_path):
    entry = registry.find_entry(registry.DEFAULT_MODEL)
    path = tiny_model(tmp_path / "my_depth.onnx", entry)
    own = estimate_model.load_model(estimate_model.ModelChoice(path, entry))
    assert own.credit == f"my_depth.onnx (as {entry.title})"
    published = estimate_model.load_model(estimate_model.ModelChoice(
        path, entry, sha256=estimate_model.file_sha256(path)))
    assert published.credit == entry.title
    assert registry.model_credit(None, str(tmp_path / "vda") + "/", False) == "vda"


def test_the_summary_counts_footage_frames_from_1():
    from rackfocus_addon.estimate import align
    from rackfocus_addon.estimate.request import EstimateResult

    def result(segments):
        return EstimateResult("out", "out/depth_0001.exr", "out/estimate.json", None, 48, 48,
                              model="m.onnx", segments=segments)

    one = result([align.Alignment(0, 1, 1.0, 0.0, "anchors")]).summary()
    assert "frame 1: anchors" in one and "frames 0" not in one
    two = result([align.Alignment(0, 24, 1.0, 0.0, "anchors"),
                  align.Alignment(24, 48, 1.0, 0.0, "near/far")]).summary()
    assert "frames 1-24: anchors; frames 25-48: near/far" in two and "by m.onnx" in two
