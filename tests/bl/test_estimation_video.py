"""A split Video Depth Anything export (encoder.onnx + head.onnx in one folder, the signature
registry.SPLIT_EXPORT documents) through the real estimation: found by its folder, each frame
encoded once, windows stitched into one clip, EXRs in metres, a stop resumed. The tiny models
(tests/tiny_video_models.py) give every window its own scale and shift."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tiny_video_models as tv
from test_estimation import BRIGHT, DARK, MID, outputs, read_depth, request, write_clip

from rackfocus_addon.bl import estimation
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import model as estimate_model
from rackfocus_addon.estimate import video


@pytest.fixture
def work(tmp_path, empty_scene):
    return tmp_path


def test_a_split_video_export_is_found_by_its_folder_and_checked(work):
    folder = tv.split_export(work / "vda")
    choice = estimation.resolve_model(folder)
    model = estimate_model.load_model(choice)
    assert isinstance(model, video.SplitVideoModel) and model.entry.key == "vda-small"
    files = [f"{folder}/encoder.onnx", f"{folder}/head.onnx"]
    assert model.sha256 == video.combined_sha256([estimate_model.file_sha256(p) for p in files])
    # What a file browser picks: the encoder beside its head.
    picked = estimate_model.load_model(estimation.resolve_model(files[0]))
    assert isinstance(picked, video.SplitVideoModel) and picked.sha256 == model.sha256
    with pytest.raises(RackFocusError, match="pick a matching --model-kind"):
        estimate_model.load_model(estimation.resolve_model(folder, "da2-small"))
    (work / "half").mkdir()
    with pytest.raises(RackFocusError, match="No such model file"):
        estimation.resolve_model(str(work / "half"))


def test_a_split_video_export_estimates_a_clip_and_resumes(work):
    folder = tv.split_export(work / "vda")
    # The left band brightens frame by frame: each window's mean, so its scale and shift,
    # differs; the right band never changes, so its depth must not either.
    shots = [(DARK + 0.01 * i, MID, BRIGHT) for i in range(40)]
    clip = write_clip(work / "shot", shots=shots)
    out = work / "out"
    req = request(clip, out, folder, short_side_px=28)

    def stop_after_first_window(label, done, total):
        return label.startswith("estimating") and done >= 24

    first = estimation.estimate_depth(req, progress=stop_after_first_window)
    assert first.cancelled and "pending_0025.npy" in outputs(out / "raw")
    assert "raw_0024.npy" in outputs(out / "raw") and "raw_0025.npy" not in outputs(out / "raw")
    result = estimation.estimate_depth(req)
    assert result.written == 40 and result.model == "vda (as Video Depth Anything Small)"
    sidecar = json.loads((out / "estimate.json").read_text())
    assert sidecar["model"]["file"] == "vda" and sidecar["model"]["sha256"] == result.model_sha256
    z = np.stack([read_depth(str(out / f"depth_{i:04d}.exr")) for i in range(1, 41)])
    assert np.allclose(z[0, :, :12], 6.0, rtol=1e-3)           # the anchors, frame 1
    assert np.allclose(z[:, :, 40:], 2.0, rtol=1e-3)           # the still band, every frame
    assert not any(f.startswith("pending") for f in outputs(out / "raw"))
    assert estimation.estimate_depth(req).written == 0          # nothing left to do
