"""A Flamenco job of a shot list, run the way its tasks run on a farm, in this Blender: the
build task (``batch --build-only``), chunks rendered by plain Blender with the render tasks'
own settings expression (``--python-expr`` of the compiled job, then ``--render-frame``),
and the finish task (``batch --frames``), which makes the media from the shot's frames.

A second job after a frame changed keeps the frames already on disk (no overwrite: the
batch's resume) and remakes the movie, sheet and plot, which are older than a frame.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import bpy
import pytest

from rackfocus_addon.bl import batch, demo
from rackfocus_addon.bl.files import blender_stdout_silenced
from rackfocus_addon.shot_schema import load_shot_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOCK_JS = os.path.join(ROOT, "tests", "flamenco", "flamenco_mock.js")
NODE = shutil.which("node")

SHOTS = """
output_root = "renders"
[defaults.render]
samples = 2
resolution = "32x18"
frames = "1-4"
[[shot]]
name = "a"
scene = "demo.blend"
marks = ["Near@1", "Far@4"]
"""


def compiled(settings: dict) -> list[dict]:
    proc = subprocess.run([NODE, MOCK_JS, "--dump", json.dumps(settings)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def render_task(params: dict) -> None:
    """What ``blender -b BLEND --python-expr EXPR --render-output OUT --render-frame A..B``
    does, in this Blender: open, run the expression, render the frames as an animation."""
    args = params["args"]
    with blender_stdout_silenced():
        bpy.ops.wm.open_mainfile(filepath=params["blendfile"], load_ui=False)
    exec(args[args.index("--python-expr") + 1], {})  # noqa: S102 - the task's own expression
    scene = bpy.context.scene
    scene.render.filepath = args[args.index("--render-output") + 1]
    for item in args[args.index("--render-frame") + 1].split(","):
        first, _, last = item.partition("..")
        scene.frame_start, scene.frame_end = int(first), int(last or first)
        with blender_stdout_silenced():
            bpy.ops.render.render(animation=True)


@pytest.mark.skipif(NODE is None, reason="node is not installed: the job type is untested")
def test_a_farm_job_resumes_like_the_batch_and_remakes_stale_media(empty_scene, tmp_path):
    demo.build_scene(frames=4)
    with blender_stdout_silenced():
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "demo.blend"))
    path = tmp_path / "shots.toml"
    path.write_text(SHOTS, encoding="utf-8")
    shot = load_shot_list(str(path)).shots[0]
    tasks = compiled({"shot_list": str(path), "shot": "a", "estimate_depth": False,
                      "frames": "1-4", "chunk_size": 2, "shot_output": shot.output,
                      "format": "PNG", "fps": 24, "blendfile": "/jobs/a.flamenco.blend"})
    assert [t["name"] for t in tasks] == ["build", "render-1,2", "render-3,4", "finish"]

    built = batch.run_batch(load_shot_list(str(path)), ["a"],
                            batch.BatchOptions(build_only=True))
    assert built.shots[0].status == "built"
    for task in tasks[1:3]:
        render_task(task["commands"][0]["parameters"])
    frames = [shot.frame_path(f) for f in range(1, 5)]
    assert all(os.path.isfile(p) for p in frames)
    first = batch.run_batch(load_shot_list(str(path)), ["a"],
                            batch.BatchOptions(frames=(1, 2, 3, 4)))
    assert (first.shots[0].status, first.shots[0].frames_rendered) == ("done", 0)
    media = shot.media_paths()
    made = {k: os.path.getmtime(p) for k, p in media.items()}

    # Frame 3 rendered again (as a farm chunk would after a change): the next job's render
    # task keeps the frames on disk, and its finish remakes every medium older than frame 3.
    time.sleep(0.05)
    stamp = time.time()
    os.utime(frames[2], (stamp, stamp))
    kept = {p: os.path.getmtime(p) for p in frames}
    render_task(tasks[1]["commands"][0]["parameters"])
    assert {p: os.path.getmtime(p) for p in frames} == kept, "no overwrite: frames kept"
    again = batch.run_batch(load_shot_list(str(path)), ["a"],
                            batch.BatchOptions(frames=(1, 2, 3, 4)))
    assert (again.shots[0].status, again.shots[0].frames_rendered) == ("done", 0)
    for key, path_ in media.items():
        assert os.path.getmtime(path_) > made[key] and os.path.getmtime(path_) >= stamp, key
