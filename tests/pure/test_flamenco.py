"""The Flamenco job type (flamenco/rack_focus.js), tested offline with Node.

``tests/flamenco/test_job_type.js`` runs the compiler in Node's ``vm`` module against a mock of
Flamenco's API and checks the task list, commands, arguments and dependencies; here it runs
under pytest (so CI runs it), and the tasks it compiles are checked against the Python side:
the build task's arguments are a valid ``batch`` command line, and the files the render tasks
write are the ones the batch writes and resumes from.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess

import pytest

from rackfocus_addon.cli import batch as batch_cli
from rackfocus_addon.cli.common import output_options
from rackfocus_addon.shot_schema import parse_shot_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST_JS = os.path.join(ROOT, "tests", "flamenco", "test_job_type.js")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install "
                                                     "nodejs): the Flamenco job type is untested")


def compiled(settings: dict) -> list[dict]:
    proc = subprocess.run([NODE, TEST_JS, "--dump", json.dumps(settings)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


@needs_node
def test_the_job_type_compiler_passes_its_node_tests():
    proc = subprocess.run([NODE, TEST_JS], capture_output=True, text=True, timeout=120,
                          check=False)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout


@needs_node
def test_the_build_task_is_a_batch_command_line_and_renders_write_the_batchs_files(tmp_path):
    (tmp_path / "shot.blend").write_bytes(b"")
    shot_list, errors = parse_shot_list(
        '[[shot]]\nname = "sc01"\nscene = "shot.blend"\nmarks = ["A@1", "B@10"]\n'
        '[shot.render]\nframes = "1-10"\n', str(tmp_path / "shots.toml"))
    assert not errors
    shot = shot_list.shots[0]
    tasks = compiled({"shot_list": shot_list.path, "shot": shot.name, "estimate_depth": False,
                      "frames": "1-10", "chunk_size": 4, "shot_output": shot.output,
                      "format": "PNG", "fps": 24, "blendfile": "/jobs/sc01.blend"})
    build, *renders, video = tasks
    args = build["commands"][0]["parameters"]["args"]
    assert args[:2] == ["-c", "rackfocus"]

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="verb")
    batch_cli.add_verbs(sub, output_options())
    parsed = parser.parse_args(args[2:])
    assert parsed.shots == shot_list.path
    assert parsed.only == [shot.name] and parsed.build_only and not parsed.force

    for task in renders:
        params = task["commands"][0]["parameters"]
        assert params["blendfile"] == shot.blend_path
        output = params["args"][params["args"].index("--render-output") + 1]
        # Blender's #### is the frame number padded to four digits: the batch's frame names.
        for frame in (1, 7, 10):
            assert output.replace("####", f"{frame:04d}") + ".png" == shot.frame_path(frame)
    assert video["commands"][0]["parameters"]["outputFile"] == shot.movie_path
    assert video["dependencies"] == [t["name"] for t in renders]
