"""Temporal stability of the video path (estimate/video.py) against the per-frame path.

    /work/main/.venv/bin/python bench/bench_video.py              # 96 frames, 3 px pan
    /work/main/.venv/bin/python bench/bench_video.py --frames 150 --pan 2

A real-like clip: a 336 x 252 window panned ``--pan`` px a frame (and tilted as much every 4th
frame) across tests/oracles.py's real-like still (720 x 540), brought to a 224 x 168 network
input. Two tiny ONNX models with random weights, built with the onnx helper API from the same
parts (tests/tiny_video_models.py: a 14 px patch convolution with tanh, a projection, a softplus):

- per frame, Depth Anything V2's signature, whose scale and shift follow each frame's own mean
  (as a relative network's do), chained into one frame's units by ``motion.chain``;
- a split Video Depth Anything export (encoder + temporal head), whose scale and shift follow
  each window's mean, run through :class:`video.WindowRunner` (windows of 32 with keyframes,
  overlap, fit and cross-fade); the head with no temporal mixing, and with half of each pixel's
  window mean mixed in (a stand-in for temporal attention: it smooths, and on a pan it smears).

Measures, on inverse depth divided by frame 0's median (unitless), between consecutive frames on
the pixels both see (the pan is known exactly, 2 network px a frame): TAE (mean |a - b| / b,
Video Depth Anything's eq. 6 with the known motion), scale flicker (standard deviation of the
median ratio b / a, in %) and the largest such step. These figures show the plumbing (what the
stitching and the chain remove of a scale and shift that jump), NOT the quality of Video Depth
Anything: the weights are random. Also: encoder runs per frame, per-frame items held at once, and
what a window's features weigh for the real network at 1080p.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the oracles and the tiny models

from oracles import real_like_frame  # noqa: E402

from rackfocus_addon.estimate import motion, preprocess, video  # noqa: E402

NET_W, NET_H = 224, 168
FOOT_W, FOOT_H = 336, 252          # 1.5 x the network input: a 3 px pan is 2 network px
LAYERS, CHANNELS = 4, 16
#: The tiny models' scale is (mean of their output)^-GAIN: a 1 % change of a frame's (or a
#: window's) mean changes its scale by about 20 %, a relative network's scale ambiguity.
GAIN = 20.0


def clip(frames: int, pan: int) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Network inputs (1, 3, 168, 224) of the panned window, and each frame's offset in network
    pixels (x, y)."""
    colour, _depth = real_like_frame(720, 540, seed=1)
    srgb = preprocess.linear_to_srgb(colour)
    tensors, offsets = [], []
    for k in range(frames):
        x0, y0 = pan * k, pan * (k // 4)
        if x0 + FOOT_W > srgb.shape[1] or y0 + FOOT_H > srgb.shape[0]:
            raise SystemExit(f"bench_video: the pan leaves the still after {k} frames: use "
                             "fewer --frames or a smaller --pan")
        tensors.append(preprocess.to_tensor(srgb[y0:y0 + FOOT_H, x0:x0 + FOOT_W], NET_W, NET_H))
        offsets.append((x0 * NET_W // FOOT_W, y0 * NET_H // FOOT_H))
    return tensors, offsets


def slope(values: np.ndarray, signal: np.ndarray) -> float:
    """Least-squares slope of ``values`` against ``signal`` (a frame's scale)."""
    x, y = signal.ravel().astype(np.float64), values.ravel().astype(np.float64)
    x = x - x.mean()
    return float(x @ (y - y.mean()) / (x @ x))


def stability(seq: list[np.ndarray], offsets, signal) -> dict[str, float]:
    """TAE between consecutive frames on the pixels both see; each frame's scale against the
    network's own per-frame signal (``signal``: what it says up to a scale and shift per frame),
    relative to frame 0: its frame-to-frame flicker, worst frame and last frame."""
    ref = float(np.median(seq[0]))
    taes = []
    for k in range(len(seq) - 1):
        dx = offsets[k + 1][0] - offsets[k][0]
        dy = offsets[k + 1][1] - offsets[k][1]
        h, w = seq[k].shape
        a = seq[k][dy:, dx:] / ref          # frame k's pixels that frame k+1 still sees
        b = seq[k + 1][:h - dy, :w - dx] / ref
        ok = np.isfinite(a) & np.isfinite(b) & (np.abs(b) > 1e-6)
        taes.append(float(np.mean(np.abs(a[ok] - b[ok]) / np.abs(b[ok]))))
    scales = np.array([slope(v, g) for v, g in zip(seq, signal)])
    scales /= scales[0]
    # A chain whose scale collapsed to 0 (or below) flickers without bound: floor it.
    logs = np.log(np.maximum(np.nan_to_num(scales, nan=0.0), 1e-6))
    return {"TAE %": 100 * float(np.mean(taes)),
            "flicker %": 100 * float(np.std(np.diff(logs))),
            "worst %": 100 * float(np.max(np.abs(scales - 1))),
            "last %": 100 * float(scales[-1] - 1)}


def frame_outputs(folder, name, tensors, weights, proj, gain):
    """The per-frame model's output for every frame, and seconds a frame."""
    import tiny_video_models as tv

    sess = tv.session(tv.frame_model(os.path.join(folder, name), LAYERS, CHANNELS, weights,
                                     proj, tanh=True, gain=gain, mode="linear"))
    t0 = time.perf_counter()
    out = [sess.run(None, {"pixel_values": t})[0][0] for t in tensors]
    return out, (time.perf_counter() - t0) / len(tensors)


def per_frame_path(folder, tensors, weights, proj):
    raw, t_net = frame_outputs(folder, "frame.onnx", tensors, weights, proj, GAIN)
    t0 = time.perf_counter()
    chained = [link.transform.apply(r) for link, r in zip(motion.chain(raw), raw)]
    return raw, chained, t_net, (time.perf_counter() - t0) / len(tensors)


def video_path(folder, tensors, weights, proj, temporal):
    """(stitched, unstitched, seconds in the networks, seconds stitching, runner, encoder)."""
    import tiny_video_models as tv

    enc_path = tv.encoder_model(os.path.join(folder, "encoder.onnx"), LAYERS, CHANNELS,
                                weights, tanh=True)
    head_path = tv.head_model(os.path.join(folder, "head.onnx"), 32, LAYERS, CHANNELS, proj,
                              temporal, GAIN, "linear")
    enc = tv.Counting(tv.session(enc_path))
    model = video.SplitVideoModel(enc, tv.session(head_path), None, folder)
    runner = video.runner_for(model, len(tensors), tensors.__getitem__)
    raw, t_net = [], [0.0]
    per_frame, per_window = runner.per_frame, runner.per_window

    def timed(fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        t_net[0] += time.perf_counter() - t
        return out

    runner.per_frame = lambda j: timed(per_frame, j)
    runner.per_window = lambda items: raw.append(timed(per_window, items)) or raw[-1]
    t0 = time.perf_counter()
    stitched = dict(pair for final in runner.windows() for pair in final)
    t_all = time.perf_counter() - t0
    unstitched = {}
    for plan, out in zip(runner.plans, raw):  # each frame from the window that finalised it
        for p in range(plan.keyframes, plan.final_end):
            unstitched.setdefault(plan.frames[p], out[p])
    n = len(tensors)
    return ([stitched[i] for i in range(n)], [unstitched[i] for i in range(n)], t_net[0],
            t_all - t_net[0], runner, enc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=96, help="clip length (96)")
    parser.add_argument("--pan", type=int, default=3, help="footage px a frame (3)")
    args = parser.parse_args()
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError as err:
        print(f"bench_video: skipped: {err.name} is not installed (pip install onnx "
              "onnxruntime)")
        return 0
    tensors, offsets = clip(args.frames, args.pan)
    rng = np.random.default_rng(0)
    weights = rng.normal(0, 0.02, (LAYERS * CHANNELS, 3, 14, 14))
    proj = rng.normal(0, 1.0, (LAYERS, CHANNELS)) / np.sqrt(LAYERS * CHANNELS)
    print(f"onnxruntime {onnxruntime.__version__}; {args.frames} frames of {FOOT_W}x{FOOT_H} "
          f"panned {args.pan} px a frame (tilted every 4th) over a real-like still, network "
          f"input {NET_W}x{NET_H}; tiny random-weight models (plumbing, not network quality)")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        # The network's own per-frame signal: the same parts with the scale held at 1.
        signal, _t = frame_outputs(tmp, "signal.onnx", tensors, weights, proj, 0.0)
        raw_f, chained, t_frame, t_chain = per_frame_path(tmp, tensors, weights, proj)
        rows["per frame, raw network output"] = stability(raw_f, offsets, signal)
        rows["per frame, chained (motion.chain)"] = stability(chained, offsets, signal)
        for temporal in (0.0, 0.5):
            stitched, unstitched, t_net, t_stitch, runner, enc = video_path(
                tmp, tensors, weights, proj, temporal)
            label = f"video, head mixing {temporal:.0%} of the window"
            rows[f"{label}: windows unstitched"] = stability(unstitched, offsets, signal)
            rows[f"{label}: stitched"] = stability(stitched, offsets, signal)
    print("\nscale: each frame's slope against the network's own per-frame signal, relative to "
          "frame 0 (flicker: std of its frame-to-frame log change)")
    print(f"{'path':58s} {'TAE %':>7s} {'flicker %':>10s} {'worst %':>8s} {'last %':>7s}")
    for name, m in rows.items():
        print(f"{name:58s} {m['TAE %']:7.2f} {m['flicker %']:10.2f} {m['worst %']:8.2f} "
              f"{m['last %']:7.2f}")
    n = args.frames
    print(f"\nvideo path: {len(runner.plans)} windows, encoder runs {len(enc.batches)} for "
          f"{n} frames, at most {runner.peak_items} frames' features held at once; "
          f"stitching {1000 * t_stitch / n:.2f} ms a frame, networks {1000 * t_net / n:.2f} ms "
          f"a frame (per-frame model {1000 * t_frame:.2f} ms, chain {1000 * t_chain:.2f} ms a "
          "frame)")
    feat_mb = 4 * 384 * (518 // 14) * (924 // 14) * 4 / 1e6
    print(f"Video Depth Anything Small at 1080p (924x518 input): features {feat_mb:.1f} MB a "
          f"frame (float32), {32 * feat_mb:.0f} MB for a window, whatever the clip's length")
    return 0


if __name__ == "__main__":
    sys.exit(main())
