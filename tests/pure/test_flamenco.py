"""The Flamenco job type (flamenco/rack_focus.js), tested offline with Node, and the batch's
output a Flamenco Worker reads.

``node --test tests/flamenco/`` compiles the job type against a mock of Flamenco's job
compiler that follows its Go code (``tests/flamenco/flamenco_mock.js`` names the file and
function each part follows); here it runs under pytest (so CI runs it), and the tasks it
compiles are checked against the Python side: the build and finish tasks' arguments are valid
``batch`` command lines, the render tasks write the files the batch writes and resumes from,
the add-on's path evaluations make ``//`` paths absolute, and the batch prints what the Worker
counts (steps) and often enough that the Manager never times a long task out.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types

import pytest

from rackfocus_addon.cli import batch as batch_cli
from rackfocus_addon.cli import common
from rackfocus_addon.cli.common import Output, output_options
from rackfocus_addon.shot_schema import parse_shot_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS_JS = os.path.join(ROOT, "tests", "flamenco")
MOCK_JS = os.path.join(TESTS_JS, "flamenco_mock.js")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install "
                                                     "nodejs): the Flamenco job type is untested")
#: What Flamenco's Worker counts as a step (internal/worker/command_blender.go,
#: regexpFrameRendered and regexpFrameSkipped).
WORKER_STEP = re.compile(r"^Time: ([0-9:.]+)|^skipping existing frame")


def compiled(settings: dict) -> list[dict]:
    proc = subprocess.run([NODE, MOCK_JS, "--dump", json.dumps(settings)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def batch_args(args: list[str]) -> argparse.Namespace:
    assert args[:2] == ["-c", "rackfocus"]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="verb")
    batch_cli.add_verbs(sub, output_options())
    return parser.parse_args(args[2:])


@needs_node
def test_the_job_type_compiler_passes_its_node_tests():
    proc = subprocess.run([NODE, "--test", TESTS_JS + os.sep], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = re.search(r"^# pass (\d+)$", proc.stdout, re.M)
    assert passed and int(passed.group(1)) >= 10, proc.stdout
    assert re.search(r"^# fail 0$", proc.stdout, re.M)


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
    build, *renders, finish = tasks
    parsed = batch_args(build["commands"][0]["parameters"]["args"])
    assert parsed.shots == shot_list.path
    assert parsed.only == [shot.name] and parsed.build_only and not parsed.force
    assert parsed.steps == build["commands"][0]["steps"] == 10

    for task in renders:
        params = task["commands"][0]["parameters"]
        assert params["blendfile"] == shot.blend_path
        output = params["args"][params["args"].index("--render-output") + 1]
        # Blender's #### is the frame number padded to four digits: the batch's frame names.
        for frame in (1, 7, 10):
            assert output.replace("####", f"{frame:04d}") + ".png" == shot.frame_path(frame)

    finish_args = batch_args(finish["commands"][0]["parameters"]["args"])
    assert finish_args.only == [shot.name] and not finish_args.build_only
    assert finish_args.frames == "1-10" and not finish_args.force and finish_args.steps == 1
    assert finish["dependencies"] == [t["name"] for t in renders]


def blender_abspath(path: str, blend_folder: str) -> str:
    """Blender's ``bpy.path.abspath`` for a saved file in ``blend_folder``: only a leading '//'
    is replaced (by the file's folder)."""
    return os.path.join(blend_folder, path[2:]) if path.startswith("//") else path


@needs_node
def test_the_add_ons_evaluations_make_blend_relative_paths_absolute():
    """The hidden settings' ``eval`` expressions, run as Blender's Flamenco add-on runs them
    at submission (``settings`` the typed values, ``abspath`` Blender's), give the absolute
    paths the compiled tasks use."""
    job_type = json.loads(subprocess.run(
        [NODE, "-e", "const m = require(process.argv[1]); "
                     "process.stdout.write(JSON.stringify(m.host(m.loadJobType().api.JOB_TYPE)))",
         MOCK_JS], capture_output=True, text=True, timeout=60, check=True).stdout)
    evals = {s["key"]: s["eval"] for s in job_type["settings"] if "eval" in s}
    typed = types.SimpleNamespace(shot_list="//shots.toml", shot_output="//renders/sc01")
    scope = {"settings": typed, "abspath": lambda p: blender_abspath(p, "/proj/seq01")}
    resolved = {key: eval(evals[key], scope) for key in ("shot_list_path", "shot_output_path")}
    assert resolved == {"shot_list_path": "/proj/seq01/shots.toml",
                        "shot_output_path": "/proj/seq01/renders/sc01"}
    tasks = compiled({"shot_list": typed.shot_list, "shot": "sc01", "estimate_depth": False,
                      "frames": "1-4", "chunk_size": 4, "shot_output": typed.shot_output,
                      "format": "PNG", "fps": 24, "blendfile": "/jobs/x.blend", **resolved})
    assert tasks[0]["commands"][0]["parameters"]["args"][3] == "/proj/seq01/shots.toml"
    assert (tasks[1]["commands"][0]["parameters"]["blendfile"]
            == "/proj/seq01/renders/sc01/sc01.blend")
    typed.shot_list = ""
    assert eval(evals["shot_list_path"], scope) == ""


# --- what the batch prints for the Worker -----------------------------------------------------

class TimedStderr(io.TextIOBase):
    """stderr that notes when each line was written (seconds, monotonic)."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []
        self._part = ""

    def write(self, text: str) -> int:
        self._part += text
        while "\n" in self._part:
            line, self._part = self._part.split("\n", 1)
            self.lines.append((time.monotonic(), line))
        return len(text)


def run_stand_in(monkeypatch, argv: list[str], stand_in) -> tuple[int, TimedStderr, float]:
    """``rackfocus batch`` through the CLI's own verb, with ``bl.batch.run_batch`` replaced by
    ``stand_in(shot_list, only, options, log)`` (no Blender)."""
    fake = types.ModuleType("rackfocus_addon.bl.batch")
    fake.BatchOptions = lambda **kw: types.SimpleNamespace(**kw)
    fake.run_batch = stand_in
    import rackfocus_addon.bl as bl_package
    monkeypatch.setitem(sys.modules, "rackfocus_addon.bl.batch", fake)
    monkeypatch.setattr(bl_package, "batch", fake, raising=False)
    err = TimedStderr()
    monkeypatch.setattr(sys, "stderr", err)
    args = batch_args(["-c", "rackfocus", "batch", *argv])
    started = time.monotonic()
    code = batch_cli.run_batch(args, Output())
    return code, err, started


def report(failed: int = 0):
    return types.SimpleNamespace(failed=failed, interrupted=False, exit_code=lambda: failed,
                                 to_dict=dict, table=lambda: ["done"])


@pytest.fixture
def shot_list_file(tmp_path):
    (tmp_path / "shot.blend").write_bytes(b"")
    path = tmp_path / "shots.toml"
    path.write_text('[[shot]]\nname = "sc01"\nscene = "shot.blend"\nmarks = ["A@1"]\n',
                    encoding="utf-8")
    return str(path)


def test_a_long_silent_stage_still_prints_within_the_heartbeat(monkeypatch, shot_list_file):
    """A stand-in estimate that runs long (1.6 s, one frame taking 1.2 s with no progress
    line) under a heartbeat shortened to 0.25 s (the real one: 60 s, under the Manager's
    10-minute timeout): no silence on stderr is longer than the heartbeat plus scheduling."""
    interval = 0.25
    monkeypatch.setattr(common, "HEARTBEAT_S", interval)

    def stand_in(shot_list, only, options, log):
        log.progress("shot 'sc01': estimating depth", 0, 3)
        time.sleep(0.2)
        log.progress("shot 'sc01': estimating depth", 1, 3)
        time.sleep(1.2)  # one slow frame: nothing from the batch itself
        log.progress("shot 'sc01': estimating depth", 3, 3)
        time.sleep(0.2)
        return report()

    code, err, started = run_stand_in(monkeypatch, [shot_list_file, "--build-only"], stand_in)
    assert code == 0
    stamps = [started] + [t for t, _ in err.lines]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    beats = [line for _, line in err.lines if "still working" in line]
    assert len(beats) >= 3, err.lines
    assert "still working: shot 'sc01': estimating depth 1/3" in beats[0]
    assert max(gaps) < interval + 0.35, gaps


def test_steps_are_lines_the_worker_counts_and_all_arrive_on_success(monkeypatch,
                                                                     shot_list_file):
    def stand_in(shot_list, only, options, log):
        for done in range(0, 9):
            log.progress("shot 'sc01': caching plate frames", done, 8)
        return report()

    code, err, _ = run_stand_in(monkeypatch, [shot_list_file, "--build-only", "--steps", "5"],
                                stand_in)
    steps = [line for _, line in err.lines if WORKER_STEP.match(line)]
    assert code == 0 and len(steps) == 5, err.lines
    assert steps[0].startswith("Time: 00:00:") and "rackfocus step 1/5" in steps[0]
    assert "step 5/5: done" in steps[-1]


def test_a_failed_build_does_not_claim_its_last_step(monkeypatch, shot_list_file):
    def stand_in(shot_list, only, options, log):
        log.progress("shot 'sc01': estimating depth", 4, 4)
        return report(failed=1)

    code, err, _ = run_stand_in(monkeypatch, [shot_list_file, "--steps", "4"], stand_in)
    steps = [line for _, line in err.lines if WORKER_STEP.match(line)]
    assert code == 1 and len(steps) == 3
