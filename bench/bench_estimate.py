"""Depth-estimation benchmark: ONNX Runtime against PyTorch eager on the CPU, same network.

    .venv-bench/bin/python bench/bench_estimate.py                  # 1080p footage, 3 runs each
    .venv-bench/bin/python bench/bench_estimate.py --runs 5 --footage 3840x2160

The network is Depth Anything V2 Small's architecture (transformers' DepthAnythingForDepthEstimation
with the small configuration: DINOv2 ViT-S/14 backbone, DPT head; 24.8 M parameters) with random
weights: speed does not depend on weight values, and nothing is downloaded. It runs in PyTorch
eager mode, is exported with ``torch.onnx.export`` (dynamic height and width, as the
onnx-community export; the TorchScript tracer fixes the head's resize to the traced size, which
does not matter here) and runs again in ONNX Runtime, side by side on the same input: footage
brought to a 518-pixel short side (1080p -> 924 x 518), runs interleaved, best and median
reported (other processes on a shared machine disturb single runs). The outputs are compared.

Then Rack Focus's post-processing per frame at footage size: frame-to-frame stabilisation (robust
scale and shift), alignment, edge-preserving upsampling guided by the footage, the temporal filter
and inverse depth to metres (EXR writing, Blender I/O, is not included). Targets: ONNX Runtime at
least 2x PyTorch eager; post-processing under 10 % of inference.

Moving shots (needs numpy alone, runs first): real-like clips over a still with measured depth
(tests/estimate_oracles.moving_shot: pan, tilt, push-in, hand-held shake, a ball crossing a
locked-off shot; 320 x 240, the network's output = the truth under a random scale and shift per
frame, anchors on the first frame only) through the same-pixel chain and the motion-aware one:
drift of the chained scale per frame, worst frame's median depth error, and flicker (mean change
of a frame's median depth error from the previous frame). Then the peak memory of the chain over
a long 1080p clip (``--long`` frames; it must level off, not grow with the clip).

Inference needs torch and transformers (a separate venv: they are large); without them the
bench says so and prints the rest. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the test oracles (the synthetic scene)

import estimate_oracles as eo  # noqa: E402

from rackfocus_addon.estimate import align, motion, preprocess, temporal, upsample  # noqa: E402

CLIPS = ("pan", "tilt", "dolly", "shake", "object")

PARAMS_DA2_SMALL_M = 24.8


def small_model():
    """Depth Anything V2 Small's architecture with random weights."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(hidden_size=384, num_attention_heads=6, num_hidden_layers=12,
                            mlp_ratio=4, patch_size=14, image_size=518,
                            out_features=["stage3", "stage6", "stage9", "stage12"],
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, fusion_hidden_size=64,
                                 neck_hidden_sizes=[48, 96, 192, 384],
                                 reassemble_hidden_size=384, head_hidden_size=32,
                                 depth_estimation_type="relative")
    return DepthAnythingForDepthEstimation(config).eval()


def export_onnx(model, example, path: str) -> str:
    """Export with pixel_values [1, 3, H, W] -> predicted_depth [1, H, W], H and W dynamic."""
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, pixel_values):
            return self.inner(pixel_values=pixel_values).predicted_depth

    wrapped = Wrapper(model).eval()
    try:
        torch.onnx.export(wrapped, (example,), path, input_names=["pixel_values"],
                          output_names=["predicted_depth"], opset_version=17, dynamo=False,
                          dynamic_axes={"pixel_values": {2: "height", 3: "width"},
                                        "predicted_depth": {1: "height", 2: "width"}})
        return "torch.onnx.export (TorchScript)"
    except Exception as err:  # noqa: BLE001 - fall back to the dynamo exporter
        print(f"bench: TorchScript export failed ({str(err).splitlines()[0][:120]}); "
              "trying dynamo", file=sys.stderr)
    h = torch.export.Dim("h", min=14, max=4096)
    w = torch.export.Dim("w", min=14, max=4096)
    torch.onnx.export(wrapped, (example,), path, input_names=["pixel_values"],
                      output_names=["predicted_depth"], dynamo=True,
                      dynamic_shapes={"pixel_values": {2: h, 3: w}})
    return "torch.onnx.export (dynamo)"


def ort_variants(path: str, folder: str) -> dict[str, str]:
    """The exported model as ONNX Runtime can make it faster: its transformer optimiser (fused
    attention, layer norm, GELU) and dynamic int8 quantisation (what a model_int8.onnx is)."""
    out: dict[str, str] = {}
    try:
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(path, model_type="vit", num_heads=6, hidden_size=384)
        fused_path = os.path.join(folder, "fused.onnx")
        fused.save_model_to_file(fused_path)
        out["ONNX Runtime fp32, fused"] = fused_path
    except Exception as err:  # noqa: BLE001 - an optional variant
        print(f"bench: transformer optimiser failed: {str(err)[:120]}", file=sys.stderr)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q_path = os.path.join(folder, "int8.onnx")
        quantize_dynamic(path, q_path, weight_type=QuantType.QInt8)
        out["ONNX Runtime int8 (dynamic quant.)"] = q_path
    except Exception as err:  # noqa: BLE001 - an optional variant
        print(f"bench: int8 quantisation failed: {str(err)[:120]}", file=sys.stderr)
    return out


def timed(fn, runs: int) -> tuple[float, object]:
    """(best seconds per call after one warm-up call, last result)."""
    result = fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def clip_figures(kind: str, chained: bool, frames: int) -> tuple[float, float, float]:
    """(chained scale drift per frame, worst frame's median relative depth error, flicker) of
    one moving shot, anchors (a near and a far measured pixel) on frame 0 only."""
    clip = eo.metric_clip(kind, frames, chained)
    drift = float(np.polyfit(np.arange(frames), clip["scale"], 1)[0])
    return drift, float(clip["errors"].max()), float(np.mean(np.abs(np.diff(clip["ratios"]))))


def print_clips(frames: int) -> None:
    print(f"\nmoving shots: {frames} frames of 320x240 over a real-like still with measured "
          "depth, anchors on frame 0 only")
    print(f"{'clip':8s} {'chain':12s} {'drift %/frame':>14s} {'worst frame %':>14s} "
          f"{'flicker %':>10s}")
    for kind in CLIPS:
        for chained, name in ((False, "same pixels"), (True, "motion")):
            drift, worst, flicker = clip_figures(kind, chained, frames)
            print(f"{kind:8s} {name:12s} {100 * drift:+14.5f} {100 * worst:14.3f} "
                  f"{100 * flicker:10.4f}")


def long_gain(k: int) -> float:
    """The long clip's network scale on frame ``k`` (it changes every frame)."""
    return 1.0 + 0.1 * (k % 3)


def long_clip(frames: int, width: int = 1920, height: int = 1080):
    """(network-size relative inverse depth, footage luminance guide) of a ``frames``-long 1080p
    pan (2 px a frame), made one frame at a time from one real-like still."""
    from oracles import real_like_frame

    colour, depth = real_like_frame(width + 2 * frames + 16, height + 16, seed=3)
    inv = np.where(depth > 0, 1.0 / np.maximum(depth, 1e-6), np.nan).astype(np.float32)
    low_w, low_h = preprocess.model_size(width, height)
    block, to_frame = motion.guide_block(width, height, low_w, low_h)
    rows = np.clip(((np.arange(low_h) + 0.5) * height / low_h).astype(int), 0, height - 1)
    cols = np.clip(((np.arange(low_w) + 0.5) * width / low_w).astype(int), 0, width - 1)

    def frames_iter():
        for k in range(frames):
            window = inv[8:8 + height, 8 + 2 * k:8 + 2 * k + width]
            yield window[rows][:, cols] * long_gain(k)

    def guides_iter():
        for k in range(frames):
            yield motion.luma_guide(colour[8:8 + height, 8 + 2 * k:8 + 2 * k + width], block)

    return frames_iter, guides_iter, to_frame


def chain_memory(frames: int) -> None:
    """Peak memory (traced numpy and Python allocations) of the chain over a long 1080p clip,
    at a quarter of its length and at its end: equal when it does not grow with the clip."""
    print(f"\nchain memory over a {frames}-frame 1080p pan (frames made one at a time)")
    peaks = []
    for n in (max(2, frames // 4), frames):
        frames_iter, guides_iter, to_frame = long_clip(n)
        tracemalloc.start()
        t = time.perf_counter()
        links = motion.chain(frames_iter(), guides_iter(), to_frame)
        seconds = (time.perf_counter() - t) / n
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append(peak)
        drift = (links[-1].transform.scale * long_gain(n - 1) - 1.0) / max(n - 1, 1)
        print(f"  {n:4d} frames: peak {peak / 1e6:7.1f} MB, {1000 * seconds:6.1f} ms a frame, "
              f"chained scale drift {100 * drift:+.5f} %/frame")
    print(f"  peak at {frames} / at {max(2, frames // 4)} frames: {peaks[1] / peaks[0]:.2f}")


def post_processing(low_inv: np.ndarray, prev_low: np.ndarray, guide: np.ndarray,
                    runs: int) -> dict[str, float]:
    """Seconds per frame of each post-processing step at the guide's (footage) size."""
    out: dict[str, float] = {}
    low_h, low_w = low_inv.shape
    height, width = guide.shape[:2]
    block, to_frame = motion.guide_block(width, height, low_w, low_h)
    out["motion guide"], g = timed(lambda: motion.luma_guide(guide, block), runs)
    g_prev = np.roll(g, (1, 2), axis=(0, 1))
    out["motion"], m = timed(lambda: motion.estimate_motion(g_prev, g).scaled(*to_frame), runs)
    out["chain fit"], link = timed(lambda: motion.follow(prev_low, low_inv, m), runs)
    t = link.transform
    alignment = align.Alignment(0, 2, 1.0, 0.0)
    out["align"], inv_low = timed(lambda: alignment.inverse_depth(t.apply(low_inv), 1), runs)
    out["upsample"], inv = timed(
        lambda: upsample.upsample_inverse_depth(inv_low.astype(np.float32), guide), runs)
    filt = temporal.TemporalFilter()
    filt.apply(inv, guide)
    out["temporal filter"], _ = timed(lambda: filt.apply(inv, guide), runs)
    out["to metres"], _ = timed(lambda: np.where(inv > 0, 1.0 / inv, np.nan).astype(np.float32),
                                runs)
    return out


def synthetic_frame(width: int, height: int, low_w: int, low_h: int):
    """The test shot (wall, card, sphere) as the network might see it: inverse depth at network
    size, and textured footage at full size (the guide)."""
    focal = 50.0 / 36.0
    low = 1.0 / eo.render_depth(eo.camera_matrix(np.zeros(3)), low_w, low_h, focal * low_w)
    prev = 1.0 / eo.render_depth(eo.camera_matrix(np.array([0.02, 0.0, 0.0])), low_w, low_h,
                                 focal * low_w)
    z = eo.render_depth(eo.camera_matrix(np.zeros(3)), width, height, focal * width)
    rng = np.random.default_rng(0)
    base = np.stack([0.2 + 0.05 * z, 0.5 - 0.04 * z, 0.3 + 0.02 * z], axis=-1)
    guide = np.clip(base + rng.normal(0, 0.02, base.shape), 0, 1).astype(np.float32)
    return low.astype(np.float32), prev.astype(np.float32), guide


def vit_small_onnx(path: str, low_w: int, low_h: int) -> str:
    """Depth Anything V2 Small's encoder as ONNX, built without torch: a DINOv2 ViT-S/14 (12
    blocks, 384 wide, 6 heads, MLP 1536) on a ``low_w`` x ``low_h`` input, random weights, and
    a linear read-out of one value per patch resized to the input size. The DPT head is left
    out: its time is a lower bound of the real model's (the encoder carries most of the work)."""
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(0)
    dim, heads, mlp, blocks, patch = 384, 6, 1536, 12, 14
    gw, gh = low_w // patch, low_h // patch
    tokens = gw * gh
    inits, nodes = [], []

    def weight(name, *shape):
        inits.append(numpy_helper.from_array(
            (rng.standard_normal(shape) * 0.02).astype(np.float32), name))
        return name

    def const(name, values, dtype=np.int64):
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], **attrs))
        return name

    x = node("Conv", ["pixel_values", weight("patch_w", dim, 3, patch, patch),
                      weight("patch_b", dim)], "patches", strides=[patch, patch])
    x = node("Reshape", [x, const("s_tokens", [1, dim, tokens])], "tok_t")
    x = node("Transpose", [x], "tok", perm=[0, 2, 1])
    x = node("Add", [x, weight("pos", 1, tokens, dim)], "x0")
    ones, zeros = const("ln_s", np.ones(dim), np.float32), const("ln_b", np.zeros(dim),
                                                                 np.float32)
    split = const("s_heads", [1, tokens, heads, dim // heads])
    merge = const("s_merge", [1, tokens, dim])
    for b in range(blocks):
        h = node("LayerNormalization", [x, ones, zeros], f"ln1_{b}", axis=-1)
        qkv = []
        for k in "qkv":
            t = node("MatMul", [h, weight(f"w{k}{b}", dim, dim)], f"{k}{b}")
            t = node("Reshape", [t, split], f"{k}r{b}")
            qkv.append(node("Transpose", [t], f"{k}t{b}",
                            perm=[0, 2, 3, 1] if k == "k" else [0, 2, 1, 3]))
        att = node("MatMul", [qkv[0], qkv[1]], f"att{b}")
        att = node("Mul", [att, const(f"sc{b}", (dim // heads) ** -0.5, np.float32)],
                   f"atts{b}")
        att = node("Softmax", [att], f"attp{b}", axis=-1)
        o = node("MatMul", [att, qkv[2]], f"o{b}")
        o = node("Transpose", [o], f"ot{b}", perm=[0, 2, 1, 3])
        o = node("Reshape", [o, merge], f"om{b}")
        o = node("MatMul", [o, weight(f"wo{b}", dim, dim)], f"op{b}")
        x = node("Add", [x, o], f"x{b}a")
        h = node("LayerNormalization", [x, ones, zeros], f"ln2_{b}", axis=-1)
        h = node("MatMul", [h, weight(f"w1{b}", dim, mlp)], f"m1{b}")
        h = node("Relu", [h], f"g{b}")  # GELU in the real model (costs about the same)
        h = node("MatMul", [h, weight(f"w2{b}", mlp, dim)], f"m2{b}")
        x = node("Add", [x, h], f"x{b}b")
    y = node("MatMul", [x, weight("readout", dim, 1)], "per_patch")
    y = node("Reshape", [y, const("s_grid", [1, 1, gh, gw])], "grid")
    y = node("Resize", [y, "", "", const("s_out", [1, 1, low_h, low_w])], "full",
             mode="linear")
    node("Reshape", [y, const("s_depth", [1, low_h, low_w])], "predicted_depth")
    graph = helper.make_graph(
        nodes, "vit_small", [helper.make_tensor_value_info(
            "pixel_values", TensorProto.FLOAT, [1, 3, low_h, low_w])],
        [helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT,
                                       [1, low_h, low_w])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, path)
    return path


def encoder_seconds(args) -> float | None:
    """Best seconds per frame of :func:`vit_small_onnx` in ONNX Runtime (needs onnx)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    width, height = (int(v) for v in args.footage.lower().split("x"))
    low_w, low_h = preprocess.model_size(width, height)
    with tempfile.TemporaryDirectory() as tmp:
        path = vit_small_onnx(os.path.join(tmp, "vit_small.onnx"), low_w, low_h)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads or os.cpu_count() or 1
        sess = ort.InferenceSession(path, sess_options=options,
                                    providers=["CPUExecutionProvider"])
        x = np.random.default_rng(0).random((1, 3, low_h, low_w), dtype=np.float32)
        best, _ = timed(lambda: sess.run(None, {"pixel_values": x}), args.runs)
    print(f"\nDepth Anything V2 Small's encoder alone (ViT-S/14 built with onnx, random weights, "
          f"no DPT head: a lower bound of inference) at {low_w}x{low_h} in ONNX Runtime: "
          f"{best:.2f} s a frame")
    return best


def run_engines(model, x, tensor, runs: int, threads: int, ort, torch):
    """Export, ONNX Runtime variants, and interleaved timed runs of every engine."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "da2_small_random.onnx")
        t0 = time.perf_counter()
        how = export_onnx(model, x, path)
        t_export = time.perf_counter() - t0
        size_mb = os.path.getsize(path) / 1e6
        variants = {"ONNX Runtime fp32": path}
        variants.update(ort_variants(path, tmp))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sessions = {k: ort.InferenceSession(p, sess_options=options,
                                            providers=["CPUExecutionProvider"])
                    for k, p in variants.items()}
        name = sessions["ONNX Runtime fp32"].get_inputs()[0].name
        # Interleaved, so that load from other processes hits every engine alike; the best
        # run is the least disturbed one.
        with torch.inference_mode():
            engines = {"PyTorch eager fp32": lambda: model(pixel_values=x).predicted_depth}
            for k, sess in sessions.items():
                engines[k] = lambda sess=sess: sess.run(None, {name: tensor})[0]
            times = {k: [] for k in engines}
            results = {k: fn() for k, fn in engines.items()}  # warm-up
            for _ in range(runs):
                for k, fn in engines.items():
                    t = time.perf_counter()
                    results[k] = fn()
                    times[k].append(time.perf_counter() - t)
    return times, results, how, t_export, size_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", default="1920x1080", help="footage size WxH (1920x1080)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine (3)")
    parser.add_argument("--threads", type=int, default=0, help="threads (0: all cores)")
    parser.add_argument("--frames", type=int, default=48, help="frames per moving shot (48)")
    parser.add_argument("--long", type=int, default=240,
                        help="frames of the long 1080p clip for the chain's memory (240; 0: skip)")
    args = parser.parse_args()
    total, total_worst = numpy_part(args)
    t_ort = inference(args)
    what = "ONNX Runtime inference"
    if t_ort is None:
        t_ort, what = encoder_seconds(args), "the encoder's inference (a lower bound)"
    if t_ort is None:
        return 0
    share, share_worst = total / t_ort, total_worst / t_ort
    print(f"post-processing / {what}: {100 * share:.1f} % (worst case "
          f"{100 * share_worst:.1f} %; target < 10 %: {'met' if share < 0.1 else 'NOT met'})")
    return 0


def inference(args) -> float | None:
    """ONNX Runtime against PyTorch eager; the fastest ONNX Runtime seconds per frame, or None
    without torch and transformers."""
    try:
        import onnxruntime as ort
        import torch
        import transformers
    except ImportError as err:
        print(f"\nbench_estimate: inference skipped: {err.name} is not installed. It needs "
              "torch, transformers, onnx and onnxruntime, e.g. in a separate venv: python3.11 "
              "-m venv .venv-bench && .venv-bench/bin/pip install torch transformers onnx "
              "onnxruntime")
        return None
    width, height = (int(v) for v in args.footage.lower().split("x"))
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    low_w, low_h = preprocess.model_size(width, height)
    print(f"\ntorch {torch.__version__}, transformers {transformers.__version__}, onnxruntime "
          f"{ort.__version__}, numpy {np.__version__}; {threads} thread(s)")
    print(f"footage {width}x{height} -> network input {low_w}x{low_h} (518 short side)")

    torch.manual_seed(0)
    model = small_model()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"Depth Anything V2 Small architecture, random weights: {params:.1f} M parameters "
          f"(published: {PARAMS_DA2_SMALL_M} M)")
    rng = np.random.default_rng(0)
    frame = rng.uniform(0, 1, (height, width, 3)).astype(np.float32)
    t_pre, tensor = timed(lambda: preprocess.to_tensor(frame, low_w, low_h), args.runs)
    print(f"preprocessing {1000 * t_pre:.1f} ms")
    x = torch.from_numpy(tensor)
    times, results, how, t_export, size_mb = run_engines(model, x, tensor, args.runs, threads,
                                                         ort, torch)
    y_t = results["PyTorch eager fp32"].numpy()
    scale = max(float(np.abs(y_t).max()), 1e-12)

    print(f"\nexport: {how}, {t_export:.1f} s, {size_mb:.1f} MB, output shape "
          f"{list(results['ONNX Runtime fp32'].shape)}")
    print(f"\n{'engine (CPU)':34s} {'best s':>7s} {'median s':>9s} {'frames/s':>9s} "
          f"{'x eager':>8s} {'max diff':>9s}")
    t_torch = min(times["PyTorch eager fp32"])
    for k, ts in times.items():
        diff = float(np.abs(np.asarray(results[k]) - y_t).max()) / scale
        print(f"{k:34s} {min(ts):7.3f} {float(np.median(ts)):9.3f} {1 / min(ts):9.2f} "
              f"{t_torch / min(ts):8.2f} {diff:9.1e}")
    t_ort = min(min(ts) for k, ts in times.items() if k.startswith("ONNX"))
    best = min((min(ts), k) for k, ts in times.items() if k.startswith("ONNX"))[1]
    speedup = t_torch / t_ort
    print(f"fastest ONNX Runtime path ({best}) / PyTorch eager: {speedup:.2f}x (best runs; "
          f"target >= 2x: {'met' if speedup >= 2 else 'NOT met'}); max diff: largest output "
          "difference to eager / largest eager output")

    return t_ort


def numpy_part(args) -> tuple[float, float]:
    """The moving shots, the chain's memory and the post-processing steps (numpy alone);
    returns the post-processing seconds per frame (the test scene, and with 1 % noise)."""
    print_clips(args.frames)
    if args.long:
        chain_memory(args.long)
    width, height = (int(v) for v in args.footage.lower().split("x"))
    low_w, low_h = preprocess.model_size(width, height)
    low, prev, guide = synthetic_frame(width, height, low_w, low_h)
    steps = post_processing(low, prev, guide, args.runs)
    rng = np.random.default_rng(0)
    noisy = (low * (1 + rng.normal(0, 0.01, low.shape))).astype(np.float32)
    worst = post_processing(noisy, prev, guide, args.runs)
    print(f"\npost-processing per frame at {width}x{height} (ms, best of {args.runs}): the test "
          f"scene's depth / the same with 1 % noise (more cells look like jumps)")
    for key in steps:
        print(f"  {key:18s} {1000 * steps[key]:8.1f} {1000 * worst[key]:8.1f}")
    total, total_worst = sum(steps.values()), sum(worst.values())
    print(f"  {'total':18s} {1000 * total:8.1f} {1000 * total_worst:8.1f}")
    return total, total_worst


if __name__ == "__main__":
    sys.exit(main())
