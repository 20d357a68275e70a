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

Needs torch and transformers (a separate venv: they are large); without them it says so and
exits 0. Not part of the tests.
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
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the test oracles (the synthetic scene)

import estimate_oracles as eo  # noqa: E402

from rackfocus_addon.estimate import align, preprocess, temporal, upsample  # noqa: E402

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


def post_processing(low_inv: np.ndarray, prev_low: np.ndarray, guide: np.ndarray,
                    runs: int) -> dict[str, float]:
    """Seconds per frame of each post-processing step at the guide's (footage) size."""
    out: dict[str, float] = {}
    out["stabilise"], t = timed(lambda: align.frame_to_reference(prev_low, low_inv), runs)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footage", default="1920x1080", help="footage size WxH (1920x1080)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine (3)")
    parser.add_argument("--threads", type=int, default=0, help="threads (0: all cores)")
    args = parser.parse_args()
    try:
        import onnxruntime as ort
        import torch
        import transformers
    except ImportError as err:
        print(f"bench_estimate: skipped: {err.name} is not installed. It needs torch, "
              "transformers, onnx and onnxruntime, e.g. in a separate venv: python3.11 -m venv "
              ".venv-bench && .venv-bench/bin/pip install torch transformers onnx onnxruntime")
        return 0
    width, height = (int(v) for v in args.footage.lower().split("x"))
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    low_w, low_h = preprocess.model_size(width, height)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, onnxruntime "
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
    x = torch.from_numpy(tensor)

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
            for _ in range(args.runs):
                for k, fn in engines.items():
                    t = time.perf_counter()
                    results[k] = fn()
                    times[k].append(time.perf_counter() - t)
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

    low, prev, guide = synthetic_frame(width, height, low_w, low_h)
    steps = post_processing(low, prev, guide, args.runs)
    noisy = (low * (1 + rng.normal(0, 0.01, low.shape))).astype(np.float32)
    worst = post_processing(noisy, prev, guide, args.runs)
    print(f"\npost-processing per frame at {width}x{height} (ms, best of {args.runs}): the test "
          f"scene's depth / the same with 1 % noise (more cells look like jumps); "
          f"preprocessing {1000 * t_pre:.1f} ms")
    for key in steps:
        print(f"  {key:18s} {1000 * steps[key]:8.1f} {1000 * worst[key]:8.1f}")
    total, total_worst = sum(steps.values()), sum(worst.values())
    share, share_worst = total / t_ort, total_worst / t_ort
    print(f"  {'total':18s} {1000 * total:8.1f} {1000 * total_worst:8.1f}")
    print(f"post-processing / ONNX Runtime inference: {100 * share:.1f} % (worst case "
          f"{100 * share_worst:.1f} %; target < 10 %: {'met' if share < 0.1 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
