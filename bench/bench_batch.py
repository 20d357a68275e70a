"""Benchmark: the batch's own cost, beside the renders it drives.

A 3-shot batch of 24 frames each on the demo scene with tiny renders (32x18, 4 Cycles samples):

- a fresh run: per shot, the overhead of building it (open the scene, pull focus, render
  settings, save the .blend, farm-safety check), the render time, and the finished media
  (movie, contact sheet, focus plot);
- a resumed run when everything is already rendered (target: under 1 s per shot), timed from
  reading the shot list to the summary;
- a resumed run where one frame per shot is missing: the saved .blend is reopened, not rebuilt.

Prints figures; asserts nothing about speed.

Run: .venv/bin/python bench/bench_batch.py [--frames 24] [--resolution 32x18] [--samples 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bpy  # noqa: E402

from rackfocus_addon.bl import batch, demo  # noqa: E402
from rackfocus_addon.bl.files import blender_stdout_silenced  # noqa: E402
from rackfocus_addon.shot_schema import load_shot_list  # noqa: E402

SHOTS = """
output_root = "renders"
[defaults.render]
samples = {samples}
resolution = "{resolution}"
frames = "1-{frames}"

[[shot]]
name = "near_to_far"
scene = "demo.blend"
marks = ["Near@1", "Near@{q1}", "Far@{q3}", "Far@{frames}"]
space = "diopter"

[[shot]]
name = "far_to_mid_bake"
scene = "demo.blend"
marks = ["Far@1", "Mid@{frames}"]
mode = "bake"

[[shot]]
name = "snap"
scene = "demo.blend"
preset = "quick_snap"
subjects = ["Mid", "Near"]
[shot.render]
format = "exr"
"""


def table(report: batch.BatchReport, title: str) -> None:
    print(title)
    print(f"  {'shot':18s} {'status':8s} {'frames':>7s} {'build+save':>11s} {'render':>8s} "
          f"{'media':>7s} {'total':>7s}  (seconds)")
    for s in report.shots:
        print(f"  {s.name:18s} {s.status:8s} {s.frames_rendered:7d} {s.build_s:11.3f} "
              f"{s.render_s:8.3f} {s.media_s:7.3f} {s.time_s:7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--resolution", default="32x18")
    ap.add_argument("--samples", type=int, default=4)
    args = ap.parse_args()
    n = args.frames

    folder = tempfile.mkdtemp(prefix="rf-bench-batch-")
    demo.build_scene(frames=n)
    with blender_stdout_silenced():
        bpy.ops.wm.save_as_mainfile(filepath=os.path.join(folder, "demo.blend"))
    path = os.path.join(folder, "shots.toml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(SHOTS.format(samples=args.samples, resolution=args.resolution, frames=n,
                              q1=max(2, n // 4), q3=max(3, 3 * n // 4)))
    print(f"Blender {bpy.app.version_string}; 3 shots x {n} frames, {args.resolution}, "
          f"{args.samples} Cycles samples; in {folder}")

    started = time.perf_counter()
    fresh = batch.run_batch(load_shot_list(path))
    fresh_s = time.perf_counter() - started
    table(fresh, f"fresh run: {fresh_s:.2f} s")
    build = [s.build_s for s in fresh.shots]
    print(f"  overhead per shot (build + save + farm check, no render): mean "
          f"{sum(build) / len(build):.3f} s, max {max(build):.3f} s")
    media = [s.media_s for s in fresh.shots]
    print(f"  finished media per shot (movie, contact sheet, plot): mean "
          f"{sum(media) / len(media):.3f} s")
    per_frame = sum(s.render_s for s in fresh.shots) / sum(s.frames_rendered for s in fresh.shots)
    print(f"  render: {1000 * per_frame:.1f} ms per frame")

    started = time.perf_counter()
    resumed = batch.run_batch(load_shot_list(path))
    resumed_s = time.perf_counter() - started
    table(resumed, f"resumed, everything already rendered: {resumed_s:.4f} s")
    print(f"  resume cost per shot: {1000 * resumed_s / len(resumed.shots):.2f} ms "
          f"(target: under 1 s per shot)")

    for shot in load_shot_list(path).shots:
        os.remove(shot.frame_path(n // 2))
    started = time.perf_counter()
    partial = batch.run_batch(load_shot_list(path))
    partial_s = time.perf_counter() - started
    table(partial, f"resumed, one frame missing per shot: {partial_s:.2f} s")
    reopen = [s.build_s for s in partial.shots]
    print(f"  reopening the saved shot instead of rebuilding it: mean "
          f"{sum(reopen) / len(reopen):.3f} s per shot")


if __name__ == "__main__":
    main()
