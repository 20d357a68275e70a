"""What a supervisor reads from a batch: readability judged at the resolution the shot renders
at, and the demo's contact sheet labelled and enlarged like the batch's, from denoised frames
where this Blender has a denoiser."""

from __future__ import annotations

import os
import re
import shutil

import bpy
import numpy as np

from rackfocus_addon import plot
from rackfocus_addon.bl import batch, demo, render
from rackfocus_addon.bl.files import blender_stdout_silenced
from rackfocus_addon.shot_schema import load_shot_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "shots.toml")
BLUR = re.compile(r"is blurred by only ([0-9.]+) px")


def build_example(tmp_path, resolution: str | None = None) -> dict[str, list[float]]:
    """Build (no render) the README's example shots: each shot's readability blurs (px)."""
    demo.build_scene(frames=48)
    with blender_stdout_silenced():
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "demo.blend"))
    text = open(EXAMPLE, encoding="utf-8").read()
    if resolution:
        text = text.replace('resolution = "96x54"', f'resolution = "{resolution}"')
    (tmp_path / "shots.toml").write_text(text, encoding="utf-8")
    report = batch.run_batch(load_shot_list(str(tmp_path / "shots.toml")),
                             options=batch.BatchOptions(build_only=True))
    assert [s.status for s in report.shots] == ["built", "built"]
    return {s.name: [float(m) for n in s.notes for m in BLUR.findall(n)] for s in report.shots}


def test_readability_is_judged_at_the_shots_render_resolution(empty_scene, tmp_path):
    """The example renders at 96x54: its soft subjects blur by about 2 px there (a pull reads
    from 4 px), so both shots warn. At 1920x1080 the same pulls blur 20 times more and read."""
    small = build_example(tmp_path)
    for name, blurs in small.items():
        assert blurs, f"shot {name}: no readability warning at 96x54"
        assert all(1.0 < b < 4.0 for b in blurs), (name, blurs)
    shutil.rmtree(tmp_path / "renders")
    assert build_example(tmp_path, "1920x1080") == {"near_to_far": [], "snap_to_near": []}


def test_the_demo_sheet_is_labelled_enlarged_and_denoised(empty_scene, tmp_path):
    out = demo.run_demo(str(tmp_path / "demo"), resolution=(32, 18), samples=2, frames=8,
                        with_plate=False)
    sheet = render.load_rgba(out["contact_sheet"])
    # Eight frames in two rows of four, 32 px wide enlarged x8 to 256 px, captioned.
    assert sheet.shape[1] == 4 * 256 + 5 * 4
    caption = sheet[4 + 144:, :]
    white = np.all(np.abs(caption[..., :3] - 0.95) < 0.01, axis=-1)
    columns = [white[:, 4 + i * 260:4 + i * 260 + 256].sum() for i in range(4)]
    assert all(c > 20 for c in columns), columns
    probe = bpy.data.scenes.new("probe")
    try:
        has_oidn = render.enable_denoiser(probe)
    finally:
        bpy.data.scenes.remove(probe)
    if has_oidn:
        assert out["denoiser"] == "OpenImageDenoise"
    else:
        assert out["denoiser"].startswith("none in this Blender: 4 samples")
    assert plot.frame_label(1, 1.6) == "f1  1.60 m"
