"""The whole shot, measured: estimate, plate, pull and render a real-like 1080p clip.

    .venv/bin/python bench/bench_shot.py                    # 8 frames (a few minutes, 2 cores)
    .venv/bin/python bench/bench_shot.py --frames 48 --render-frames 3

The clip is real-like footage (``tests/oracles.py`` ``real_like_frame``: many depth edges,
foliage, fences, 7 % unmeasured depth; 1920x1296) panning ``bench_plate.PAN_PX`` pixels a frame,
written as 8-bit PNG with its measured depth as EXR. Each stage runs in a fresh process, which
reports its time and its peak memory (VmHWM, Blender included):

- estimate: the pipeline's estimation (``estimation.estimate_depth``: preprocessing, the network
  in ONNX Runtime, alignment by --near/--far, upsampling, the temporal chain, EXR writing) with a
  model of Depth Anything V2 Small's size (``bench_estimate.vit_small_onnx``: a ViT-S/14 encoder
  with random weights; no DPT head, so a lower bound of the real model's time, while its noisy
  output puts every pixel on the upsampling's edge path, an upper bound of that: 0.8 s a frame
  here against 0.03 s on smooth depth);
- plate: ``plate.import_plate`` on the clip's measured depth (random weights give no real depth
  edges, so the plate and the render are costed on real-like depth instead);
- pull: a baked pull from a near pixel on the first frame to a far one on the last;
- render: ``--render-frames`` frames spread over the clip, Cycles CPU at ``--samples`` (no
  denoiser, no adaptive sampling), with the render settings made for plates.

Then the time for a ``--seconds`` shot at ``--fps``: per-frame seconds of every stage times its
frames. Wall seconds are printed (what a user waits for) beside the CPU seconds of the process
(steadier on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import bench_plate as bp  # noqa: E402
import bpy  # noqa: E402
import numpy as np  # noqa: E402

from rackfocus_addon.bl import plate  # noqa: E402

NEAR_M, FAR_M = 1.0, 40.0  # the real-like scene's depth range (alignment of the estimate)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), sum(os.times()[:2])


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def stage_estimate(folder: str, out: str, width: int, height: int, threads: int) -> dict:
    """Estimation of the clip's depth with a Depth Anything V2 Small-sized model."""
    import bench_estimate

    from rackfocus_addon.bl import estimation
    from rackfocus_addon.estimate import preprocess

    low_w, low_h = preprocess.model_size(width, height)
    model = bench_estimate.vit_small_onnx(os.path.join(out, "vit_small.onnx"), low_w, low_h)
    request = estimation.EstimateRequest(
        footage=os.path.join(folder, "shot_0001.png"), out_dir=os.path.join(out, "estimated"),
        model=model, model_kind="da2-small", near_m=NEAR_M, far_m=FAR_M, threads=threads)
    start = _clock()
    result = estimation.estimate_depth(request)
    wall, cpu = _since(start)
    return {"wall": wall, "cpu": cpu, "frames": result.frames, "model": f"{low_w}x{low_h}"}


def stage_plate(folder: str, out: str) -> dict:
    """Plate the clip (its measured depth), then bake a pull across it; save the .blend."""
    from rackfocus_addon.bl import pull as pull_engine
    from rackfocus_addon.marks import Mark, SubjectRef
    from rackfocus_addon.plate_request import PlateRequest
    from rackfocus_addon.request import PullRequest

    bpy.ops.wm.read_factory_settings(use_empty=True)
    blend = os.path.join(out, "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    scene = bpy.context.scene
    start = _clock()
    result = plate.import_plate(scene, PlateRequest(os.path.join(folder, "shot_0001.png"),
                                                    os.path.join(folder, "depth_0001.exr"),
                                                    cache_dir=os.path.join(out, "cache")))
    plate_wall, plate_cpu = _since(start)
    cam = scene.objects[result.camera]
    n = result.footage.frames
    marks = [Mark(SubjectRef("pixel", coords=_measured(folder, 1, np.argmin)),
                  frame=scene.frame_start),
             Mark(SubjectRef("pixel", coords=_measured(folder, n, np.argmax)),
                  frame=scene.frame_end)]
    start = _clock()
    pull_engine.write_pull(scene, cam, PullRequest(tuple(marks), mode="bake"))
    pull_wall, pull_cpu = _since(start)
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    return {"plate": [plate_wall, plate_cpu], "pull": [pull_wall, pull_cpu],
            "frames": result.footage.frames, "blend": blend}


def _measured(folder: str, frame: int, pick) -> tuple[int, int]:
    """(x, y) of the nearest (``np.argmin``) or farthest measured pixel of ``frame``."""
    from rackfocus_addon.bl import footage

    z = footage.read_pixels(os.path.join(folder, f"depth_{frame:04d}.exr"), data=True)[0][..., 0]
    z = np.where(np.isfinite(z) & (z > 0), z, np.nan)
    flat = np.where(np.isnan(z), np.inf if pick is np.argmin else -np.inf, z)
    y, x = np.unravel_index(int(pick(flat)), z.shape)
    return int(x), int(y)


def stage_render(blend: str, samples: int, frames: int) -> dict:
    """Render ``frames`` frames spread over the clip; seconds for each."""
    from rackfocus_addon.bl import demo_plate

    bpy.ops.wm.open_mainfile(filepath=blend)
    scene = bpy.context.scene
    bp.cycles(scene, samples)
    scene.cycles.use_adaptive_sampling = False
    first, last = scene.frame_start, scene.frame_end
    picks = sorted({round(first + (last - first) * i / max(frames - 1, 1))
                    for i in range(frames)})
    rows = []
    for f in picks:
        scene.frame_set(f)
        start = _clock()
        demo_plate.render_still(scene, os.path.join(os.path.dirname(blend), f"r_{f:04d}.png"),
                                "PNG")
        rows.append([f, *_since(start)])
    return {"rows": rows}


def _stage(args: list[str]) -> dict:
    """Run one stage in a fresh process: its figures and its peak memory (MB)."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), *args],
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("STAGE "):
            return json.loads(line[6:])
    sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    raise SystemExit(f"stage {args[1]} failed")


def _one_stage(argv: list[str]) -> None:
    kind, rest = argv[0], argv[1:]
    if kind == "estimate":
        row = stage_estimate(rest[0], rest[1], int(rest[2]), int(rest[3]), int(rest[4]))
    elif kind == "plate":
        row = stage_plate(rest[0], rest[1])
    else:
        row = stage_render(rest[0], int(rest[1]), int(rest[2]))
    row["peak_mb"] = bp.status_mb("VmHWM")
    print("STAGE " + json.dumps(row), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8, help="clip length (at least 2)")
    parser.add_argument("--resolution", default="1920x1296", help="footage size WxH")
    parser.add_argument("--samples", type=int, default=8, help="Cycles samples a frame")
    parser.add_argument("--render-frames", type=int, default=2,
                        help="frames rendered (spread over the clip; the rest extrapolated)")
    parser.add_argument("--seconds", type=float, default=10.0, help="shot length to extrapolate")
    parser.add_argument("--fps", type=float, default=24.0)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all)")
    parser.add_argument("--no-estimate", action="store_true", help="skip the estimation stage")
    parser.add_argument("--out", default=None, help="work folder (default: a temp folder)")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        _one_stage(args.stage)
        return 0
    if args.frames < 2:
        parser.error("--frames must be at least 2 (a clip with motion)")
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    out = args.out or tempfile.mkdtemp(prefix="rackfocus_shot_")
    folder = os.path.join(out, "clip", f"{width}x{height}x{args.frames}")
    load = os.getloadavg()[0]
    bp.write_real_like(folder, width, height, args.frames)
    print(f"Real-like clip {width}x{height}, {args.frames} frames panning {bp.PAN_PX} px a "
          f"frame, in {out} ({os.cpu_count()} cores, load {load:.1f} before)", flush=True)
    stages = []  # (stage, wall s a frame, CPU s a frame, peak MB, note)
    if not args.no_estimate:
        est = _stage(["--stage", "estimate", folder, out, str(width), str(height),
                      str(args.threads)])
        n = est["frames"]
        stages.append(("estimate", est["wall"] / n, est["cpu"] / n, est["peak_mb"],
                       f"ViT-S/14 at {est['model']}, random weights"))
    made = _stage(["--stage", "plate", folder, out])
    n = made["frames"]
    stages.append(("plate", made["plate"][0] / n, made["plate"][1] / n, made["peak_mb"],
                   "cache: depth, fill, mesh image"))
    stages.append(("pull", made["pull"][0] / n, made["pull"][1] / n, made["peak_mb"], "baked"))
    shot = _stage(["--stage", "render", made["blend"], str(args.samples),
                   str(args.render_frames)])
    rows = shot["rows"]
    stages.append(("render", sum(r[1] for r in rows) / len(rows),
                   sum(r[2] for r in rows) / len(rows), shot["peak_mb"],
                   f"{args.samples} spp, frames {', '.join(str(r[0]) for r in rows)}"))
    _print(stages, args, load)
    return 0


def _print(stages, args, load: float) -> None:
    head = f"{'stage':<9} | {'wall s/frame':>12} | {'CPU s/frame':>11} | {'peak MB':>7} | note"
    print(head)
    print("-" * len(head))
    for name, wall, cpu, peak, note in stages:
        print(f"{name:<9} | {wall:>12.2f} | {cpu:>11.2f} | {peak:>7.0f} | {note}")
    per_frame = sum(s[1] for s in stages)
    frames = round(args.seconds * args.fps)
    total = per_frame * frames
    print(f"{'total':<9} | {per_frame:>12.2f} | {sum(s[2] for s in stages):>11.2f} | "
          f"{max(s[3] for s in stages):>7.0f} |")
    share = max(stages, key=lambda s: s[1])
    print(f"A {args.seconds:g} s shot at {args.fps:g} fps ({frames} frames), extrapolated: "
          f"{total / 60:.1f} min ({per_frame:.1f} s a frame; {share[0]} "
          f"{100 * share[1] / per_frame:.0f} % of it). Load after: {os.getloadavg()[0]:.1f} "
          f"(before {load:.1f}).")


if __name__ == "__main__":
    sys.exit(main())
