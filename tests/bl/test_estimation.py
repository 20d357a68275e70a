"""Depth estimation in Blender: the real ONNX Runtime loading and inference code against tiny
models built here with the ``onnx`` package (each registry entry's exact signature), the EXRs and
sidecar it writes, resume, cancel, bad input, and the alignment proof on a rendered clip with a
moving camera.

The tiny models turn colour into "depth": ``output = A * mean over channels of the normalised
input + B``, so a test knows what each pixel's estimate is. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import struct
import zlib

import bpy
import estimate_oracles as eo
import numpy as np
import pytest
from tiny_models import expected_output, need_onnx, tiny_model

from rackfocus_addon import depth as depth_maths
from rackfocus_addon.bl import demo_plate, estimation, footage, plate
from rackfocus_addon.cli import estimate as estimate_cli
from rackfocus_addon.cli.common import Output, output_options
from rackfocus_addon.depth import Anchor
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import model as estimate_model
from rackfocus_addon.estimate import preprocess, registry
from rackfocus_addon.estimate.request import EstimateRequest
from rackfocus_addon.plate_request import PlateRequest

W, H = 48, 27
DARK, MID, BRIGHT = 0.2, 0.5, 0.8


# --- footage ------------------------------------------------------------------------------------

def write_png(path, rgb):
    """An 8-bit RGB PNG of ``rgb`` in [0, 1] (top row first), written by hand."""
    data = np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(data.shape[0]))

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", data.shape[1], data.shape[0], 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def three_band_frame(left=DARK, middle=MID, right=BRIGHT, height=H):
    img = np.empty((height, W, 3))
    img[:, :16], img[:, 16:32], img[:, 32:] = left, middle, right
    return img


def write_clip(folder, frames=4, shots=None, height=H):
    """A sequence of three-band frames (``shots``: a frame per entry, each its band greys)."""
    os.makedirs(folder, exist_ok=True)
    bands = shots or [(DARK, MID, BRIGHT)] * frames
    for i, greys in enumerate(bands):
        write_png(os.path.join(folder, f"shot_{i + 1:04d}.png"),
                  three_band_frame(*greys, height=height))
    return os.path.join(folder, "shot_0001.png")


def test_footage_reaches_the_network_as_its_file_holds_it(tmp_path):
    """An 8-bit sRGB frame's values go to the network as stored (byte / 255, no round trip
    through linear); float footage is encoded to display sRGB and clipped."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (H, W, 3)) / 255.0
    png = str(tmp_path / "f.png")
    write_png(png, rgb)
    shown, bits = footage.read_display(png)
    assert bits == 8 and shown.dtype == np.float32
    np.testing.assert_allclose(shown, rgb, atol=1e-6)  # Blender decodes byte / 255
    linear = np.concatenate([rng.random((H, W, 3)) * 1.5, np.ones((H, W, 1))], axis=2)
    exr = str(tmp_path / "f.exr")
    footage.write_exr(exr, linear)
    shown, bits = footage.read_display(exr)
    assert bits == 32
    np.testing.assert_allclose(shown, preprocess.linear_to_srgb(linear[..., :3]), atol=1e-6)
    assert shown.max() <= 1.0


def read_depth(path):
    px, bits = footage.read_pixels(path, data=True)
    assert bits == 32
    return px[..., 0]


def outputs(folder):
    return sorted(f for f in os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.fixture
def work(tmp_path, empty_scene):
    return tmp_path


@pytest.fixture
def da2(work):
    return tiny_model(work / "tiny_da2.onnx")


def request(footage_path, out, model, **kw):
    kw.setdefault("anchors", (Anchor(5, 13, 6.0), Anchor(42, 13, 2.0)))
    return EstimateRequest(footage=str(footage_path), out_dir=str(out),
                                      model=str(model), **kw)


# --- loading and running ------------------------------------------------------------------------

def test_a_path_model_takes_its_rules_from_its_signature(work):
    video = tiny_model(work / "v.onnx", registry.find_entry("vda-small"), frames=32)
    choice = estimation.resolve_model(video)
    assert choice.entry is None and choice.sha256 is None
    assert estimate_model.load_model(choice).entry.key == "vda-small"
    with pytest.raises(RackFocusError, match="pick a matching --model-kind"):
        estimate_model.load_model(estimation.resolve_model(video, "da2-small"))


def test_a_file_that_is_not_onnx_is_refused(work):
    need_onnx()
    bad = work / "model.onnx"
    bad.write_text("this is not a network\n")
    with pytest.raises(RackFocusError, match="is not an ONNX model ONNX Runtime can load"):
        estimate_model.load_model(estimation.resolve_model(str(bad)))
    with pytest.raises(RackFocusError, match="No such model file"):
        estimation.resolve_model(str(work / "missing.onnx"))


def test_a_registry_file_with_the_wrong_checksum_is_deleted(work, monkeypatch, da2):
    monkeypatch.setenv(estimation.MODELS_ENV, str(work / "models"))
    entry = registry.find_entry("da2-small")
    with pytest.raises(RackFocusError, match="--download") as err:
        estimation.resolve_model("da2-small")
    assert entry.file().url in str(err.value)
    target = estimation.registry_path(entry, "fp32")
    os.makedirs(os.path.dirname(target))
    with open(da2, "rb") as src, open(target, "wb") as dst:
        dst.write(src.read())
    choice = estimation.resolve_model("da2-small")
    assert choice.path == target and choice.sha256 == entry.file().sha256
    with pytest.raises(RackFocusError, match="Checksum mismatch .* deleted"):
        estimate_model.load_model(choice)
    assert not os.path.exists(target)


def test_without_onnx_runtime_the_error_says_how_to_get_it(work, monkeypatch):
    clip = write_clip(work / "shot", 1)
    da2 = work / "model.onnx"
    da2.write_bytes(b"not needed: the runtime is checked before the file is opened")
    monkeypatch.setattr(estimate_model, "onnxruntime", None)
    problem = estimate_model.runtime_problem()
    assert "pip install onnxruntime" in problem and "zip built for your platform" in problem
    with pytest.raises(RackFocusError, match="needs ONNX Runtime"):
        estimation.estimate_depth(request(clip, work / "out", da2))
    assert outputs(work / "out") == []


# --- estimating -------------------------------------------------------------------------------

def test_estimate_writes_metric_exrs_and_a_sidecar(work, da2):
    clip = write_clip(work / "shot", 3)
    out = work / "out"
    seen = []
    result = estimation.estimate_depth(request(clip, out, da2),
                                       progress=lambda *a: seen.append(a) and None)
    assert result.written == 3 and not result.cancelled
    assert {label for label, _d, _t in seen} >= {"estimating depth", "writing metric depth"}
    assert sorted(f for f in outputs(out) if f.endswith(".exr")) == [
        "depth_0001.exr", "depth_0002.exr", "depth_0003.exr"]
    z = read_depth(str(out / "depth_0002.exr"))
    # Anchors fix the dark band at 6 m and the bright one at 2 m; the middle band follows the
    # same scale and shift in inverse depth.
    d = {g: expected_output(g) for g in (DARK, MID, BRIGHT)}
    scale = (1 / 2.0 - 1 / 6.0) / (d[BRIGHT] - d[DARK])
    shift = 1 / 6.0 - scale * d[DARK]
    assert np.allclose(z[:, :14], 6.0, rtol=1e-4)
    assert np.allclose(z[:, 34:], 2.0, rtol=1e-4)
    assert np.allclose(z[:, 18:30], 1.0 / (scale * d[MID] + shift), rtol=1e-4)
    # What plate reads: a numbered EXR sequence of metric depth, the footage's size.
    dclip = footage.find_clip(str(out / "depth_0001.exr"))
    assert (dclip.kind, dclip.frames, dclip.width, dclip.height) == ("sequence", 3, W, H)
    side = json.loads((out / "estimate.json").read_text())
    assert side["complete"] and side["kind"] == "metric" and side["frames"] == 3
    assert side["footage"] == "../shot/shot_0001.png"
    assert side["model"]["sha256"] == estimate_model.file_sha256(da2)
    assert side["model"]["key"] == "da2-small" and side["model"]["licence_weights"] == "Apache-2.0"
    assert side["onnxruntime"] == estimate_model.runtime_version() != ""
    assert side["addon_version"] and side["settings"]["anchors"] == ["5,13=6@0", "42,13=2@0"]
    fit = side["alignment"][0]
    assert fit["source"] == "anchors" and len(fit["anchors"]) == 2
    assert all(abs(a["residual"]) < 1e-6 for a in fit["anchors"])
    assert not any(os.path.isabs(v) for v in (side["footage"], side["model"]["file"]))


def test_a_plate_imports_the_estimate(work, da2):
    clip = write_clip(work / "shot", 1)
    result = estimation.estimate_depth(request(clip, work / "out", da2))
    scene = bpy.context.scene
    built = plate.import_plate(scene, PlateRequest(clip, result.depth_path, "metric",
                                                   cache_dir=str(work / "cache")))
    assert built.report.min_m == pytest.approx(2.0, rel=1e-3)
    assert built.report.max_m == pytest.approx(6.0, rel=1e-3)


def test_a_rerun_with_the_same_settings_does_nothing(work, da2):
    clip = write_clip(work / "shot", 3)
    out = work / "out"
    estimation.estimate_depth(request(clip, out, da2))
    stamps = {f: os.stat(out / f).st_mtime_ns for f in outputs(out) if f != "raw"}
    again = estimation.estimate_depth(request(clip, out, da2))
    assert (again.written, again.kept) == (0, 3)
    assert {f: os.stat(out / f).st_mtime_ns for f in outputs(out) if f != "raw"} == stamps
    assert "nothing to do" in again.summary()
    # New anchors re-align the cached estimates: every EXR is rewritten, the network not rerun.
    calls = []
    model = estimate_model.load_model(estimation.resolve_model(da2))
    real_run = model.session.run
    model.session = _CountingSession(model.session, calls)
    moved = estimation.estimate_depth(
        request(clip, out, da2, anchors=(Anchor(5, 13, 5.0), Anchor(42, 13, 2.0))),
        model=model)
    assert moved.written == 3 and calls == [] and real_run
    assert np.allclose(read_depth(str(out / "depth_0001.exr"))[:, :14], 5.0, rtol=1e-4)


class _CountingSession:
    """An ONNX Runtime session that records each run."""

    def __init__(self, session, calls):
        self._s, self._calls = session, calls

    def get_inputs(self):
        return self._s.get_inputs()

    def get_outputs(self):
        return self._s.get_outputs()

    def run(self, names, feed):
        self._calls.append(1)
        return self._s.run(names, feed)


def test_a_cancel_keeps_finished_frames_and_a_rerun_finishes(work, da2):
    clip = write_clip(work / "shot", 4)
    out = work / "out"

    def stop_after_two(label, done, total):
        return label == "writing metric depth" and done == 2

    result = estimation.estimate_depth(request(clip, out, da2), progress=stop_after_two)
    assert result.cancelled and result.written == 2
    assert "stopped" in result.summary()
    assert [f for f in outputs(out) if f.endswith(".exr")] == ["depth_0001.exr",
                                                               "depth_0002.exr"]
    assert not json.loads((out / "estimate.json").read_text())["complete"]
    calls = []
    model = estimate_model.load_model(estimation.resolve_model(da2))
    model.session = _CountingSession(model.session, calls)
    rest = estimation.estimate_depth(request(clip, out, da2), model=model)
    assert (rest.written, rest.kept, calls) == (2, 2, [])  # the network is not run again
    assert json.loads((out / "estimate.json").read_text())["complete"]


def test_ctrl_c_stops_after_the_current_frame(work, da2):
    clip = write_clip(work / "shot", 3)
    out = work / "out"

    def interrupt(label, done, total):
        if label == "estimating depth" and done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        estimation.estimate_depth(request(clip, out, da2), progress=interrupt)
    raw = outputs(out / "raw")
    assert "raw_0001.npy" in raw and "raw_0002.npy" in raw and "raw_0003.npy" not in raw
    assert not [f for f in raw + outputs(out) if f.endswith(".part") or ".partial" in f]
    assert estimation.estimate_depth(request(clip, out, da2)).written == 3


def test_a_full_disk_mid_clip_keeps_the_finished_frames(work, da2, monkeypatch):
    clip = write_clip(work / "shot", 4)
    out = work / "out"
    real = estimation.write_depth_exr
    count = []

    def fills_up(path, depth_m):
        if len(count) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        count.append(path)
        real(path, depth_m)

    monkeypatch.setattr(estimation, "write_depth_exr", fills_up)
    with pytest.raises(RackFocusError, match=rf"^disk full: 1 MB needed in {out}: stopped; 2 "
                                             "finished depth frame"):
        estimation.estimate_depth(request(clip, out, da2))
    assert [f for f in outputs(out) if f.endswith(".exr")] == ["depth_0001.exr",
                                                               "depth_0002.exr"]
    assert np.allclose(read_depth(str(out / "depth_0002.exr"))[:, :14], 6.0, rtol=1e-4)
    monkeypatch.setattr(estimation, "write_depth_exr", real)
    rest = estimation.estimate_depth(request(clip, out, da2))
    assert (rest.written, rest.kept) == (2, 2)


# --- bad input: refused before anything is written ------------------------------------------------

@pytest.mark.parametrize("kwargs,needle", [
    ({"anchors": (Anchor(48, 5, 2.0),)}, "outside the 48x27 frame"),
    ({"anchors": (Anchor(5, 5, 2.0, 7),)}, "frame 7 is outside the clip"),
    # The estimate sees the bright band nearer; the user says it is farther.
    ({"anchors": (Anchor(5, 13, 2.0), Anchor(42, 13, 6.0))}, "nearer than"),
    # One pixel, two distances.
    ({"anchors": (Anchor(5, 13, 2.0), Anchor(5, 13, 6.0))}, "contradict each other"),
    ({"near_m": 2.0, "far_m": None, "anchors": ()}, "both --near and --far"),
    ({"near_m": 5.0, "far_m": 2.0, "anchors": ()}, "0 < --near < --far"),
    ({"sensor_mm": 0.0}, "positive millimetres"),
])
def test_bad_requests_write_nothing(work, da2, kwargs, needle):
    clip = write_clip(work / "shot", 2)
    with pytest.raises(RackFocusError, match=needle):
        estimation.estimate_depth(request(clip, work / "out", da2, **kwargs))
    assert outputs(work / "out") == []


def test_an_anchor_on_a_masked_pixel(work):
    # Sqrt of the normalised mean: NaN (masked) on the dark band, whose mean is negative.
    model = tiny_model(work / "nan.onnx", a=1.0, b=0.0, op="Sqrt")
    clip = write_clip(work / "shot", 2)
    with pytest.raises(RackFocusError, match="masked pixel"):
        estimation.estimate_depth(request(clip, work / "out", model,
                                          anchors=(Anchor(5, 13, 6.0), Anchor(42, 13, 2.0))))
    assert outputs(work / "out") == []
    # Anchored elsewhere, the masked band is filled from its neighbours.
    result = estimation.estimate_depth(request(clip, work / "out", model,
                                               anchors=(Anchor(20, 13, 5.0),
                                                        Anchor(42, 13, 2.0))))
    z = read_depth(result.depth_path)
    assert np.isfinite(z).all() and (z > 0).all()
    assert "filled from their neighbours" in result.warnings[-1]


def test_footage_and_a_fixed_size_model_of_another_aspect(work):
    model = tiny_model(work / "square.onnx", static_hw=(518, 518))
    clip = write_clip(work / "shot", 2)
    with pytest.raises(RackFocusError, match="fixed 518x518 input"):
        estimation.estimate_depth(request(clip, work / "out", model))
    assert outputs(work / "out") == []
    # The same model with footage of its aspect runs.
    square = work / "square"
    os.makedirs(square)
    write_png(square / "sq.png", np.full((32, 32, 3), MID))
    res = estimation.estimate_depth(request(square / "sq.png", work / "out2", model,
                                            anchors=(Anchor(3, 3, 4.0),)))
    assert np.allclose(read_depth(res.depth_path), 4.0, rtol=1e-5)


def test_contradictions_across_frames_stop_before_any_exr(work, da2):
    clip = write_clip(work / "shot", 3)
    out = work / "out"
    anchors = (Anchor(5, 13, 6.0, 0), Anchor(42, 13, 2.0, 0), Anchor(5, 13, 2.0, 2),
               Anchor(42, 13, 6.0, 2), Anchor(20, 13, 3.0, 1))
    with pytest.raises(RackFocusError, match="contradict"):
        estimation.estimate_depth(request(clip, out, da2, anchors=anchors))
    assert [f for f in outputs(out) if f.endswith((".exr", ".json"))] == []


def test_a_scene_cut_starts_a_shot_that_needs_its_own_anchors(work, da2):
    shots = [(DARK, MID, BRIGHT)] * 3 + [(0.9, 0.05, 0.6)] * 3
    clip = write_clip(work / "shot", shots=shots)
    with pytest.raises(RackFocusError, match=r"frames 3-5 .*--anchor X,Y=M@3"):
        estimation.estimate_depth(request(clip, work / "out", da2))
    assert [f for f in outputs(work / "out") if f.endswith(".exr")] == []
    anchors = (Anchor(5, 13, 6.0), Anchor(42, 13, 2.0), Anchor(5, 13, 1.5, 3),
               Anchor(20, 13, 9.0, 3))
    result = estimation.estimate_depth(request(clip, work / "out", da2, anchors=anchors))
    assert [(a.start, a.end) for a in result.segments] == [(0, 3), (3, 6)]
    assert np.allclose(read_depth(str(work / "out" / "depth_0005.exr"))[:, :14], 1.5, rtol=1e-4)
    # One shot when asked: the first frame's anchors serve the whole clip.
    one = estimation.estimate_depth(request(clip, work / "one", da2, cuts=False))
    assert [(a.start, a.end) for a in one.segments] == [(0, 6)]


def test_a_movie_is_decoded_once_and_estimated(work, da2):
    from rackfocus_addon.bl import render as render_engine

    write_clip(work / "frames", 3, height=28)  # H.264 needs even sizes
    frames = [str(work / "frames" / f"shot_{i:04d}.png") for i in (1, 2, 3)]
    movie = render_engine.make_movie(frames, str(work / "shot.mp4"), 24)
    out = work / "out"
    result = estimation.estimate_depth(request(movie, out, da2, anchors=(Anchor(5, 13, 6.0),)))
    assert result.written == 3 and result.footage.kind == "sequence"
    assert sorted(outputs(out / "footage"))[:3] == ["frame_0001.png", "frame_0002.png",
                                                    "frame_0003.png"]
    assert np.allclose(read_depth(str(out / "depth_0003.exr"))[:, :14], 6.0, rtol=0.02)
    assert json.loads((out / "estimate.json").read_text())["footage"] == "../shot.mp4"
    assert estimation.estimate_depth(request(movie, out, da2,
                                             anchors=(Anchor(5, 13, 6.0),))).written == 0


def test_near_and_far(work, da2):
    clip = write_clip(work / "shot", 2)
    result = estimation.estimate_depth(request(clip, work / "out", da2, anchors=(),
                                               near_m=1.5, far_m=9.0))
    z = read_depth(result.depth_path)
    assert z.min() == pytest.approx(1.5, rel=0.01) and z.max() == pytest.approx(9.0, rel=0.01)
    assert result.segments[0].source == "near/far"


def test_a_video_model_runs_windows_and_resumes(work):
    entry = registry.find_entry("vda-small")
    model_path = tiny_model(work / "vda.onnx", entry, frames=32)
    shots = [(DARK + 0.002 * i, MID, BRIGHT) for i in range(40)]
    clip = write_clip(work / "shot", shots=shots)
    out = work / "out"

    def stop_after_first_window(label, done, total):
        return label.startswith("estimating") and done >= 22

    req = request(clip, out, model_path, model_kind="vda-small", short_side_px=28)
    first = estimation.estimate_depth(req, progress=stop_after_first_window)
    assert first.cancelled and "pending_0025.npy" in outputs(out / "raw")  # frames 25-32 held
    result = estimation.estimate_depth(req)
    assert result.written == 40
    z = np.stack([read_depth(str(out / f"depth_{i:04d}.exr")) for i in (1, 22, 30, 40)])
    assert np.allclose(z[:, :, 34:], 2.0, rtol=1e-3)  # the anchored band, in every window


def test_depth_anything_3_metric_output_uses_the_focal_length(work):
    entry = registry.find_entry("da3-metric-large")
    model_path = tiny_model(work / "da3.onnx", entry, a=0.0, b=150.0)  # output 150 everywhere
    clip = write_clip(work / "shot", 1)
    req = request(clip, work / "out", model_path, model_kind="da3-metric-large", anchors=(),
                  short_side_px=28)
    result = estimation.estimate_depth(req)
    model_w, _h = preprocess.model_size(W, H, 28)
    focal_model = 50.0 / 36.0 * W * model_w / W
    assert np.allclose(read_depth(result.depth_path), focal_model * 150.0 / 300.0, rtol=1e-5)
    assert "used as is" in result.warnings[0]


# --- the command line -----------------------------------------------------------------------------

def run_cli(argv, capsys):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="verb")
    estimate_cli.add_verbs(sub, output_options())
    args = parser.parse_args(argv)
    code = args.run(args, Output(quiet=args.quiet, json_mode=args.json))
    return code, capsys.readouterr()


def test_the_estimate_verb(work, da2, capsys):
    clip = write_clip(work / "shot", 2)
    out = work / "out"
    code, io = run_cli(["estimate", "--footage", clip, "--out", str(out), "--model", da2,
                        "--anchor", "5,13=6", "--size", "42,3:42,23=0.5", "--json"], capsys)
    data = json.loads(io.out)
    assert code == 0 and data["written"] == 2 and data["frames"] == 2
    assert "estimating depth 1/2" in io.err
    # The object of known size: 0.5 m over 20 pixels at 66.7 px focal length = 1.667 m.
    fitted = {a["anchor"]: a["fitted_m"] for a in data["alignment"][0]["anchors"]}
    assert fitted["42,13=1.66667"] == pytest.approx(50 / 36 * W * 0.5 / 20, rel=1e-4)
    code, io = run_cli(["estimate", "--models"], capsys)
    assert code == 0 and "da2-small" in io.out and "CC-BY-NC-4.0" in io.out
    with pytest.raises(RackFocusError, match="needs --footage"):
        run_cli(["estimate", "--out", str(out)], capsys)


# --- the proof: a rendered clip with a moving camera ----------------------------------------------

class FakeSession:
    """A DA2-signature session that answers each frame with a prepared estimate (the true
    inverse depth under that frame's own random scale and shift, plus noise), found by matching
    the input tensor to the frames' tensors."""

    class _Arg:
        def __init__(self, name, shape):
            self.name, self.shape, self.type = name, shape, "tensor(float)"

    def __init__(self, tensors, estimates):
        self.tensors, self.estimates = tensors, estimates

    def get_inputs(self):
        return [self._Arg("pixel_values", [1, 3, "height", "width"])]

    def get_outputs(self):
        return [self._Arg("predicted_depth", [1, "height", "width"])]

    def run(self, names, feed):
        x = feed["pixel_values"]
        k = int(np.argmin([np.abs(x - t).mean() for t in self.tensors]))
        est = self.estimates[k]
        h, w = x.shape[2:]
        return [depth_maths.resize_nearest(est, w, h)[None].astype(np.float32)]


def test_alignment_and_stabilisation_on_a_rendered_moving_camera(tmp_path, empty_scene):
    frames = 6
    scene = empty_scene
    cam = demo_plate.build_cg_scene(scene, W, H, frames=frames)
    for f, loc in ((1, (0.0, 0.0, 0.0)), (frames, (0.25, 0.1, 0.0))):
        cam.location = loc
        cam.keyframe_insert("location", frame=f)
    colors, depths = demo_plate.render_footage(scene, str(tmp_path / "clip"), samples=4)
    matrices = []
    for f in range(1, frames + 1):
        scene.frame_set(f)
        matrices.append(np.array(cam.matrix_world, dtype=np.float64))
    truths = [read_depth(d).astype(np.float64) for d in depths]
    focal = 50.0 / 36.0 * W
    estimates, _params = eo.fake_estimates(truths, seed=11, noise=0.01)
    size = preprocess.model_size(W, H)
    tensors = [preprocess.to_tensor(footage.read_display(c)[0], *size) for c in colors]
    # Anchors on the first and last frames: on the wall, the box and the sphere.
    anchors = []
    for k in (0, frames - 1):
        z = truths[k]
        for lo, hi in ((7.5, 8.5), (1.8, 2.6), (2.8, 4.2)):
            rows, cols = np.nonzero((z > lo) & (z < hi))
            r, c = rows[rows.size // 2], cols[rows.size // 2]
            anchors.append(Anchor(float(c), float(r), float(z[r, c]), k))
    model = estimate_model.LoadedModel(FakeSession(tensors, estimates),
                                   registry.find_entry("da2-small"), "fake.onnx", "0" * 64)
    req = EstimateRequest(colors[0], str(tmp_path / "out"), anchors=tuple(anchors))
    result = estimation.estimate_depth(req, model=model)
    assert result.written == frames
    aligned = [read_depth(str(tmp_path / "out" / f"depth_{i + 1:04d}.exr")).astype(np.float64)
               for i in range(frames)]
    # Unaligned: the same estimates as supplied inverse depth, one clip-wide fit on the first
    # frame's anchors (what plate --depth-kind inverse does).
    naive, _report = depth_maths.to_metric(estimates, "inverse",
                                           anchors=[a for a in anchors if a.frame == 0])
    errors = [eo.median_relative_error(a, t) for a, t in zip(aligned, truths)]
    tae = eo.tae(aligned, truths, matrices, focal)
    tae_naive = eo.tae(naive, truths, matrices, focal)
    print(f"\nrendered {W}x{H}, {frames} frames, camera trucking 5 cm and pushing 2 cm a "
          f"frame: median relative depth error worst frame {100 * max(errors):.2f} %, "
          f"all frames {100 * np.median(errors):.2f} %; TAE aligned {tae:.4f}, unaligned "
          f"{tae_naive:.4f} (ratio {tae / tae_naive:.3f}), truth "
          f"{eo.tae(truths, truths, matrices, focal):.5f}")
    assert max(errors) < 0.02
    assert tae <= tae_naive / 5.0
    # Tied at both anchored frames; the four frames between report how far the chain wandered.
    (segment,) = result.segments
    assert [k[0] for k in segment.knots] == [0, frames - 1]
    assert [(st.first, st.last) for st in segment.stretches] == [(1, frames - 2)]
    side = json.loads((tmp_path / "out" / "estimate.json").read_text())
    assert side["alignment"][0]["stretches"][0]["wander"] == segment.stretches[0].wander


def test_plate_estimate_imports_footage_alone_and_reuses_the_estimate(work, da2, capsys):
    """`plate --estimate`: a shot with no depth file becomes a plate in one go; the second run
    finds the estimate in the cache and runs no inference."""
    from rackfocus_addon.cli import main

    clip = write_clip(work / "shot", 2)
    blend = str(work / "scene.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    capsys.readouterr()
    out = str(work / "plate.blend")
    args = ["plate", blend, "--footage", clip, "--estimate", "--model", str(da2),
            "--anchor", "5,13=6", "--anchor", "42,13=2", "--json", "--out", out]
    assert main(args) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert data["frames"] == 2 and os.path.isfile(out)
    estimated = work / "rackfocus_cache" / "shot_0001_estimated_depth"
    assert (estimated / "depth_0001.exr").is_file() and (estimated / "estimate.json").is_file()
    assert main(args) == 0
    assert "all kept, nothing to do" in capsys.readouterr().err
    assert main(["plate", blend, "--footage", clip, "--out", out]) == 2
    assert "--depth FILE, or --estimate" in capsys.readouterr().err


def test_import_plate_operator_estimates_depth(addon, work, da2, monkeypatch):
    """The panel's Import Plate with Estimate Depth: footage alone becomes a metric plate (in
    background mode the job runs to its end; in a window it is modal and Esc stops it)."""
    clip = write_clip(work / "shot", 1)
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "op.blend"))
    done = bpy.ops.rackfocus.import_plate(footage=clip, estimate=True, model="FILE",
                                          model_file=str(da2), anchors="5,13=6; 42,13=2")
    assert done == {"FINISHED"}
    scene = bpy.context.scene
    (plate_obj,) = plate.plates(scene.camera)
    assert (work / "rackfocus_cache" / "shot_0001_estimated_depth" / "depth_0001.exr").is_file()
    # The registered extension is loaded as the package rack_focus: patch its copy.
    from rack_focus.rackfocus_addon.estimate import model as registered

    monkeypatch.setattr(registered, "onnxruntime", None)
    with pytest.raises(RuntimeError, match="needs ONNX Runtime"):
        bpy.ops.rackfocus.import_plate(footage=clip, estimate=True, model="FILE",
                                       model_file=str(da2), anchors="5,13=6; 42,13=2")
    assert plate.plates(scene.camera) == [plate_obj]


# --- issue 19: files the tool did not write are never touched ---------------------------------

def test_depth_files_it_did_not_write_are_refused_and_kept(work, da2, capsys):
    """Another tool's depth (or the footage itself) named depth_####.exr in --out: refused
    before anything is written, every byte kept."""
    clip = write_clip(work / "shot", 2)
    out = work / "out"
    out.mkdir()
    (out / "depth_0001.exr").write_bytes(b"another tool's depth")
    (out / "depth_0007.exr").write_bytes(b"and another")
    with pytest.raises(RackFocusError, match=r"did not write.*depth_0001\.exr.*depth_0007\.exr"):
        estimation.estimate_depth(request(clip, out, da2))
    assert outputs(out) == ["depth_0001.exr", "depth_0007.exr"]
    assert (out / "depth_0001.exr").read_bytes() == b"another tool's depth"
    assert (out / "depth_0007.exr").read_bytes() == b"and another"
    # The command line: exit 2 and one line.
    from rackfocus_addon.cli import main
    assert main(["estimate", "--footage", clip, "--out", str(out), "--model", str(da2),
                 "--anchor", "5,13=6", "--anchor", "42,13=2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rackfocus: error: ") and "--out" in err[0]
    assert outputs(out) == ["depth_0001.exr", "depth_0007.exr"]


def test_new_settings_replace_only_its_own_files(work, da2):
    """Changed settings remove and rewrite the tool's own EXRs; a file another tool put beside
    them (or one of its own that was replaced since) stops the run, and is kept."""
    clip = write_clip(work / "shot", 2)
    out = work / "out"
    estimation.estimate_depth(request(clip, out, da2))
    (out / "depth_0009.exr").write_bytes(b"theirs")
    with pytest.raises(RackFocusError, match=r"depth_0009\.exr"):
        estimation.estimate_depth(request(clip, out, da2, temporal=True))
    assert (out / "depth_0009.exr").read_bytes() == b"theirs"
    os.remove(out / "depth_0009.exr")
    again = estimation.estimate_depth(request(clip, out, da2, temporal=True))
    assert again.written == 2
    (out / "depth_0002.exr").write_bytes(b"replaced by the user")
    with pytest.raises(RackFocusError, match=r"depth_0002\.exr"):
        estimation.estimate_depth(request(clip, out, da2))
    assert (out / "depth_0002.exr").read_bytes() == b"replaced by the user"


def padded_png(path, rgb, pad=100_000):
    """An 8-bit RGB PNG whose pixels sit in the middle of the file, between two comments of
    ``pad`` bytes, stored (zlib level 0) so its size does not depend on the pixels."""
    data = np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(data.shape[0]))

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    comment = chunk(b"tEXt", b"Comment\x00" + b"x" * pad)
    header = struct.pack(">IIBBBBB", data.shape[1], data.shape[0], 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + comment
                + chunk(b"IDAT", zlib.compress(raw, 0)) + comment + chunk(b"IEND", b""))


def test_a_changed_frame_in_the_middle_of_the_clip_is_estimated_again(work, da2):
    """Issue 19, item 5: frame 2 replaced by another of the same size (its pixels in the middle
    of the file) is estimated again; the signature used to read each file's first and last
    64 KiB only. A frame copied over with the same content changes nothing."""
    folder = work / "shot"
    folder.mkdir()
    for i in range(3):
        padded_png(folder / f"shot_{i + 1:04d}.png", three_band_frame())
    clip = folder / "shot_0001.png"
    out = work / "out"
    estimation.estimate_depth(request(clip, out, da2))
    middle = read_depth(str(out / "depth_0002.exr"))[:, 18:30].mean()
    frame2 = folder / "shot_0002.png"
    size = os.path.getsize(frame2)
    padded_png(frame2, three_band_frame(middle=0.65))
    assert os.path.getsize(frame2) == size
    again = estimation.estimate_depth(request(clip, out, da2))
    assert again.written == 3
    assert read_depth(str(out / "depth_0002.exr"))[:, 18:30].mean() != pytest.approx(middle)
    # Touched, same content: nothing to do.
    os.utime(frame2)
    assert estimation.estimate_depth(request(clip, out, da2)).written == 0


# --- issue 19, item 15: a refused estimation leaves nothing behind -----------------------------

def test_a_relative_model_without_anchors_is_refused_before_the_network(work, da2):
    clip = write_clip(work / "shot", 2)
    calls = []
    model = estimate_model.load_model(estimation.resolve_model(da2))
    model.session = _CountingSession(model.session, calls)
    with pytest.raises(RackFocusError, match=r"No anchor for frames 0-1.*--near and --far"):
        estimation.estimate_depth(request(clip, work / "out", da2, anchors=()), model=model)
    assert calls == [] and not (work / "out").exists()


@pytest.mark.parametrize("make,needle", [
    (lambda path: tiny_model(path, b=float("nan")), "NaN"),
    (lambda path: tiny_model(path, a=0.0), "contradict|flat|one depth"),  # a constant
])
def test_a_model_that_gives_no_usable_depth_leaves_nothing(work, make, needle):
    clip = write_clip(work / "shot", 3)
    out = work / "cache" / "out"
    with pytest.raises(RackFocusError, match=needle):
        estimation.estimate_depth(request(clip, out, make(work / "bad.onnx")))
    assert not (work / "cache").exists()


def test_anchors_that_disagree_across_frames_leave_nothing(work, da2):
    """Found after the network ran: the run's cache, manifest, cuts and folder all go; a
    previous run's files in the folder stay as they were."""
    clip = write_clip(work / "shot", 3)
    out = work / "out"
    # Each frame's pair agrees with itself; frame 1 says everything is half as far.
    anchors = (Anchor(5, 13, 6.0, 0), Anchor(42, 13, 2.0, 0), Anchor(5, 13, 3.0, 1),
               Anchor(42, 13, 1.0, 1), Anchor(5, 13, 6.0, 2), Anchor(42, 13, 2.0, 2))
    with pytest.raises(RackFocusError, match="contradict"):
        estimation.estimate_depth(request(clip, out, da2, anchors=anchors))
    assert not out.exists()
    estimation.estimate_depth(request(clip, out, da2))
    kept = {f: (out / f).read_bytes() for f in outputs(out) if f != "raw"}
    with pytest.raises(RackFocusError, match="contradict"):
        estimation.estimate_depth(request(clip, out, da2, anchors=anchors))
    assert {f: (out / f).read_bytes() for f in outputs(out) if f != "raw"} == kept


def test_plate_estimate_refused_leaves_no_cache_folder(work, capsys):
    from rackfocus_addon.cli import main

    clip = write_clip(work / "shot", 2)
    blend = str(work / "scene.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    capsys.readouterr()
    bad = tiny_model(work / "bad.onnx", b=float("nan"))
    assert main(["plate", blend, "--footage", clip, "--estimate", "--model", str(bad),
                 "--anchor", "5,13=6", "--anchor", "42,13=2", "--out",
                 str(work / "plate.blend")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NaN" in err[0], err
    assert not (work / "rackfocus_cache").exists() and not (work / "plate.blend").exists()
