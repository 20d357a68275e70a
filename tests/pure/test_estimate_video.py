"""Video models end to end (estimate/video.py): the windows (keyframes, overlap, padding), the fit
that removes each window's scale and shift, the cross-fade, resume, bounded memory, and a split
encoder + head export of Video Depth Anything's signature built here (tests/tiny_video_models.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tiny_video_models as tv

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import preprocess, registry, video


def smooth_video(count, seed=0, shape=(12, 20)):
    """``count`` frames of smooth positive inverse depth, each different (a moving ramp)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    base = 0.3 + 0.05 * x + 0.03 * y + 0.2 * rng.random(shape)
    return [(base * (1.0 + 0.01 * k) + 0.02 * np.sin(0.3 * x + 0.2 * k)).astype(np.float32)
            for k in range(count)]


def run(truth, window_output, relative=True, window=32, overlap=10, crossfade=8):
    """Stitch ``truth`` through windows whose output is ``window_output(k, items)``; returns
    (frames in emission order, runner, raw window outputs)."""
    raw = []

    def per_window(items):
        out = window_output(len(raw), np.stack(items))
        raw.append(out)
        return out

    runner = video.WindowRunner(len(truth), lambda j: truth[j], per_window, window, overlap,
                                crossfade, relative)
    out = [pair for final in runner.windows() for pair in final]
    return out, runner, raw


def test_windows_follow_upstreams_keyframes_and_overlap():
    plans = video.plan_windows(70)
    assert [p.frames for p in plans] == [
        tuple(range(32)),
        (0, 12) + tuple(range(24, 54)),                      # keyframes 0 and 12, then 24..53
        (0, 34) + tuple(range(46, 70)) + (69,) * 6]          # keyframe 22+12, padded at the end
    assert [(p.keyframes, p.context, p.final_end, p.last) for p in plans] == [
        (0, 0, 24, False), (2, 10, 24, False), (2, 10, 26, True)]
    assert plans[0].held == tuple(range(24, 32)) and plans[1].held == tuple(range(46, 54))
    assert plans[2].held == ()
    assert video.keyframe_positions(32, 10, 8) == [0, 12]
    assert [len(video.plan_windows(n)) for n in (1, 32, 33, 54, 55)] == [1, 1, 2, 2, 3]
    assert video.plan_windows(5)[0].frames == (0, 1, 2, 3, 4) + (4,) * 27
    with pytest.raises(RackFocusError, match="overlap < window"):
        video.plan_windows(10, 8, 8, 2)


def test_a_clip_longer_than_two_windows_each_frame_encoded_once_and_jumps_removed():
    truth = smooth_video(100)
    scales = [(1.0, 0.0), (2.5, -0.7), (0.4, 3.0), (1.7, 0.2), (0.8, -0.1)]
    out, runner, raw = run(truth, lambda k, items: scales[k][0] * items + scales[k][1])
    assert len(runner.plans) == 5 and len(raw) == 5
    assert [f for f, _v in out] == list(range(100))           # every frame once, in order
    assert runner.calls == list(range(100))                   # each frame made once
    assert runner.peak_items <= 32 and not runner.cache
    # Every frame in window 0's units: the stitched clip is the truth exactly.
    worst = max(float(np.max(np.abs(v - truth[f]) / truth[f])) for f, v in out)
    assert worst < 1e-5
    fits = [(t.scale, t.shift) for t in runner.stitcher.fits]
    assert np.allclose(fits, [(1 / a, -b / a) for a, b in scales], rtol=1e-5, atol=1e-5)


def test_overlapping_frames_cross_fade_smoothly():
    # A still clip; window k adds k times a pattern no scale and shift can remove.
    still = smooth_video(1)[0]
    truth = [still] * 60
    bump = 0.05 * np.cos(np.linspace(0, 6, still.size)).reshape(still.shape).astype(np.float32)
    out, runner, raw = run(truth, lambda k, items: items + k * bump)
    values = dict(out)
    fit = runner.stitcher.fits[1]
    for n, f in enumerate(range(24, 32)):                      # window 1, positions 2..9
        w = (n + 1) / 9
        expected = (1 - w) * raw[0][f] + w * fit.apply(raw[1][f - 22])
        assert np.allclose(values[f], expected, atol=1e-6)
    # Across the seam (frames 23..32) the two windows disagree by ``jump``; without the fade
    # one frame would step by all of it, with it no frame steps by more than a ninth.
    jump = float(np.max(np.abs(fit.apply(raw[1][10]) - raw[0][31])))
    steps = [float(np.max(np.abs(values[f + 1] - values[f]))) for f in range(23, 32)]
    assert jump > 0.02
    assert max(steps) <= jump / 9 * 1.001 and min(steps) >= jump / 9 * 0.999


def test_metric_windows_are_cross_faded_in_inverse_depth_without_a_fit():
    truth = [1.0 / v for v in smooth_video(40)]                 # metres
    out, runner, raw = run(truth, lambda k, items: items * (1.0 + 0.1 * k), relative=False)
    values = dict(out)
    assert all(t.scale == 1.0 and t.shift == 0.0 for t in runner.stitcher.fits)
    f, w = 27, 4 / 9                                           # window 1's position 5
    expected = 1.0 / ((1 - w) / raw[0][f] + w / raw[1][f - 22])
    assert np.allclose(values[f], expected, rtol=1e-6)
    assert np.allclose(values[35], truth[35] * 1.1, rtol=1e-6)


def test_a_stopped_run_resumes_with_the_same_result():
    truth = smooth_video(80)
    affine = [(1.0, 0.0), (2.0, 0.5), (0.5, 1.0), (3.0, -0.2)]

    def windows_from(k):
        """per_window for a runner whose first window is window ``k``."""
        done = []

        def per_window(items):
            a, b = affine[k + len(done)]
            done.append(1)
            return a * np.stack(items) + b
        return per_window

    whole, _r, _raw = run(truth, lambda k, items: affine[k][0] * items + affine[k][1])
    # Stop after two windows, keeping what a run keeps on disk (final and held frames).
    runner = video.WindowRunner(80, truth.__getitem__, windows_from(0), 32, 10, 8)
    steps = runner.windows()
    first = next(steps) + next(steps)
    steps.close()
    finals, held = dict(first), dict(runner.stitcher.pending)
    again = video.WindowRunner(80, truth.__getitem__, windows_from(2), 32, 10, 8)
    again.restore(2, held.__getitem__, finals.__getitem__)
    rest = [pair for final in again.windows() for pair in final]
    assert [f for f, _v in first + rest] == [f for f, _v in whole] == list(range(80))
    for (_f, a), (_g, b) in zip(whole, first + rest):
        assert np.allclose(a, b, rtol=1e-6)
    # After the resume only window 2's 10 context frames are made again.
    assert again.calls[:10] == list(again.plans[2].frames[:10])
    assert again.calls[10:] == list(range(54, 80))


def test_memory_does_not_grow_with_the_clip():
    truth = smooth_video(1, shape=(4, 4)) * 500
    out, runner, _raw = run(truth, lambda k, items: items)
    assert len(out) == 500 and runner.calls == list(range(500))
    assert runner.peak_items == 32                              # one window's frames at most
    assert len(runner.stitcher.pending) == 0 and len(runner.stitcher.refs) == 0


# --- a split export of Video Depth Anything's signature -----------------------------------------

def footage_tensors(count, h=28, w=42, seed=3):
    """Network inputs of a panning textured clip, (1, 3, h, w) each."""
    rng = np.random.default_rng(seed)
    still = rng.random((h, w + 2 * count, 3)).astype(np.float32)
    # The exposure rises over the clip, so each window's mean (its scale and shift) differs.
    return [preprocess.normalise(still[:, 2 * k:2 * k + w] * (0.3 + k / count))[None]
            for k in range(count)]


def patch_signal(tensor):
    """What the tiny encoder + projection + softplus make of a frame: (h, w) at pixel size."""
    _n, c, h, w = tensor.shape
    m = tensor[0].reshape(c, h // 14, 14, w // 14, 14).mean(axis=(0, 2, 4))
    g = np.log1p(np.exp(m))
    return np.repeat(np.repeat(g, 14, axis=0), 14, axis=1)


def test_a_split_export_runs_end_to_end(tmp_path):
    folder = tv.split_export(tmp_path / "vda")
    enc = tv.Counting(tv.session(os.path.join(folder, "encoder.onnx")))
    head = tv.Counting(tv.session(os.path.join(folder, "head.onnx")))
    model = video.SplitVideoModel(enc, head, None, folder)
    assert model.entry.key == "vda-small" and model.window_frames == 32
    tensors = footage_tensors(70)
    runner = video.runner_for(model, 70, lambda j: tensors[j])
    raw = []
    inner = runner.per_window
    runner.per_window = lambda items: raw.append(inner(items)) or raw[-1]
    out = [pair for final in runner.windows() for pair in final]
    assert [f for f, _v in out] == list(range(70))
    assert enc.batches == [1] * 70 and head.batches == [1] * 3   # each frame encoded once
    # The head gives each window its own scale and shift; stitched, one affine map of the
    # per-frame signal holds for the whole clip.
    g = np.stack([patch_signal(t) for t in tensors]).ravel()
    stitched = np.stack([v for _f, v in out]).ravel()
    (a, b), *_ = np.linalg.lstsq(np.stack([g, np.ones_like(g)], 1), stitched, rcond=None)
    assert np.max(np.abs(a * g + b - stitched) / stitched) < 1e-4
    joined = np.stack(list(raw[0][:24]) + list(raw[1][2:24]) + list(raw[2][2:26])).ravel()
    (a, b), *_ = np.linalg.lstsq(np.stack([g, np.ones_like(g)], 1), joined, rcond=None)
    assert np.max(np.abs(a * g + b - joined) / joined) > 0.01  # raw windows do jump


def test_split_exports_are_found_and_checked(tmp_path):
    folder = tv.split_export(tmp_path / "vda")
    assert video.split_paths(folder) == (os.path.join(folder, "encoder.onnx"),
                                         os.path.join(folder, "head.onnx"))
    assert video.split_paths(os.path.join(folder, "encoder.onnx")) == video.split_paths(folder)
    assert video.split_paths(os.path.join(folder, "head.onnx")) is None
    assert video.split_paths(str(tmp_path)) is None
    entry = registry.find_entry("vda-small")
    assert entry.split is registry.SPLIT_EXPORT and entry.layout == "video"
    assert "features [N, 4, 384, H/14, W/14]" in entry.split.encoder_signature
    assert "depth [1, T, H, W]" in entry.split.head_signature
    head = tv.session(os.path.join(folder, "head.onnx"))
    flat = tv.session(tv.encoder_model(tmp_path / "flat.onnx", out_rank=2))
    with pytest.raises(RackFocusError, match=r"encoder does not have the encoder signature: "
                                             r"one float input pixel_values \[N, 3, H, W\]"):
        video.SplitVideoModel(flat, head, None)
    other = tv.session(tv.encoder_model(tmp_path / "e16.onnx", channels=16))
    with pytest.raises(RackFocusError, match="16 channels a frame but the head takes 8"):
        video.SplitVideoModel(other, head, None)
    enc = tv.session(os.path.join(folder, "encoder.onnx"))
    with pytest.raises(RackFocusError, match="pick a matching --model-kind"):
        video.SplitVideoModel(enc, head, registry.find_entry("da2-small"))
    fixed = tv.session(tv.encoder_model(tmp_path / "fixed.onnx", static_hw=(28, 42)))
    model = video.SplitVideoModel(fixed, head, None)
    assert model.input_size(60, 40) == (42, 28)
    with pytest.raises(RackFocusError, match="fixed 42x28 input"):
        model.input_size(1920, 1080)
