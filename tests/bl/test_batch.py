"""The batch verb and the render farm: the README's shot list runs, bad input is reported all at
once, a failing shot (full disk, not farm-safe) does not stop the batch, Ctrl-C stops cleanly and
the next run resumes, chunks rendered in separate processes equal one run pixel for pixel, and
every .blend the batch writes passes the farm-safety check.

Renders are tiny (32x18, 4 Cycles samples, 4 frames) so the whole file runs in well under a
minute on two shared cores.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import bpy
import numpy as np
import pytest

from rackfocus_addon import cli
from rackfocus_addon.bl import batch, demo, demo_plate, farm, render
from rackfocus_addon.bl.files import blender_stdout_silenced
from rackfocus_addon.cli import batch as batch_cli
from rackfocus_addon.shot_schema import load_shot_list

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "shots.toml")
#: ``python -c`` program: the CLI with the batch verb, in a fresh process.
RUNNER = (f"import sys; sys.path.insert(0, {ROOT!r}); import rackfocus_addon.cli as c; "
          "from rackfocus_addon.cli import batch as b; "
          "c.VERB_MODULES = c.VERB_MODULES if b in c.VERB_MODULES else c.VERB_MODULES + (b,); "
          "sys.exit(c.main(sys.argv[1:]))")

TINY = """
output_root = "renders"
[defaults.render]
samples = 4
resolution = "32x18"
frames = "1-4"
"""
TWO_SHOTS = TINY + """
[[shot]]
name = "a"
scene = "demo.blend"
marks = ["Near@1", "Far@4"]
space = "diopter"
[[shot]]
name = "b"
scene = "demo.blend"
marks = ["Far@1", "Mid@3"]
mode = "bake"
"""


@pytest.fixture
def run_cli(monkeypatch):
    """``main(argv)`` of the CLI with the batch verb registered (as the lead registers it)."""
    if batch_cli not in cli.VERB_MODULES:
        monkeypatch.setattr(cli, "VERB_MODULES", cli.VERB_MODULES + (batch_cli,))
    return lambda *argv: cli.main([str(a) for a in argv])


def demo_file(folder, frames: int = 4, extras: bool = False) -> str:
    """The demo scene (Near 1.6 m, Mid 3.5 m, Far 8 m) saved as ``folder/demo.blend``; with
    ``extras`` also an armature 'Rig' (bone 'head') and a timeline marker 'beat'."""
    scene = demo.build_scene(frames=frames)
    if extras:
        arm = bpy.data.armatures.new("Rig")
        rig = bpy.data.objects.new("Rig", arm)
        scene.collection.objects.link(rig)
        bpy.context.view_layer.objects.active = rig
        bpy.ops.object.mode_set(mode="EDIT")
        bone = arm.edit_bones.new("head")
        bone.head, bone.tail = (0.0, 3.0, 0.0), (0.0, 3.0, 0.3)
        bpy.ops.object.mode_set(mode="OBJECT")
        scene.timeline_markers.new("beat", frame=3)
    return save(os.path.join(str(folder), "demo.blend"))


def save(path) -> str:
    """Save the open file (Blender's 'Info: Saved' kept off stdout, where --json goes)."""
    with blender_stdout_silenced():
        bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return str(path)


def open_blend(path) -> None:
    with blender_stdout_silenced():
        bpy.ops.wm.open_mainfile(filepath=str(path))


def shot_list(folder, text: str) -> str:
    path = os.path.join(str(folder), "shots.toml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def pixels(path: str) -> np.ndarray:
    return render.load_rgba(path)


def frames_in(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith("frame_"))


def partials_in(folder) -> list[str]:
    return sorted(n for n in os.listdir(folder) if ".partial" in n)


def farm_problems(blend: str) -> list[str]:
    open_blend(blend)
    return farm.problems()


class Recorder(batch.Log):
    """A log that keeps what the batch says."""

    def __init__(self):
        self.lines = []

    def note(self, text):
        self.lines.append(text)

    def warn(self, text):
        self.lines.append("warning: " + text)

    def error(self, text):
        self.lines.append("error: " + text)


# --- the README example ----------------------------------------------------------------------

def test_the_readme_example_runs_and_everything_it_writes_is_farm_safe(empty_scene, tmp_path,
                                                                        run_cli, capsys):
    demo_file(tmp_path, frames=48)
    shutil.copy(EXAMPLE, tmp_path / "shots.toml")
    capsys.readouterr()
    code = run_cli("batch", tmp_path / "shots.toml", "--json")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)  # stdout is exactly one JSON object
    assert [s["shot"] for s in result["shots"]] == ["near_to_far", "snap_to_near"]
    assert [s["status"] for s in result["shots"]] == ["done", "done"]
    assert [s["frames"] for s in result["shots"]] == [24, 29]
    assert not any("outside the scene's range" in n for s in result["shots"] for n in s["notes"])
    assert result["failed"] == 0 and result["exit_code"] == 0
    for entry, ext in zip(result["shots"], (".png", ".exr")):
        out = entry["output"]
        assert len(frames_in(out)) == entry["frames"]
        assert all(n.endswith(ext) for n in frames_in(out))
        assert partials_in(out) == []
        for key in ("movie", "contact_sheet", "plot", "blend", "manifest"):
            assert os.path.isfile(entry["files"][key]), key
        assert os.path.getsize(entry["files"]["movie"]) > 1000
        assert pixels(entry["files"]["plot"]).shape == (480, 800, 4)
        sheet = pixels(entry["files"]["contact_sheet"])
        assert sheet.shape[1] > 4 * 96 and sheet.shape[0] > 3 * 54
        assert farm_problems(entry["files"]["blend"]) == []
        scene = bpy.context.scene
        assert scene.cycles.use_animated_seed and scene.cycles.time_limit == 0.0
        assert scene.render.filepath == "//frame_####"
        assert (scene.render.resolution_x, scene.render.resolution_y) == (96, 54)


# --- bad input, reported before anything runs --------------------------------------------------

def test_missing_scene_camera_object_bone_marker_and_preset_all_at_once(empty_scene, tmp_path,
                                                                          run_cli, capsys):
    demo_file(tmp_path, extras=True)
    path = shot_list(tmp_path, TINY + """
[[shot]]
name = "cam"
scene = "demo.blend"
camera = "Camra"
marks = ["Near@1"]
[[shot]]
name = "obj"
scene = "demo.blend"
marks = ["Nera@1", "Far@4"]
[[shot]]
name = "bone"
scene = "demo.blend"
marks = ["Rig:haed@1", "Rig:head@4"]
[[shot]]
name = "marker"
scene = "demo.blend"
marks = ["Near@marker:beet", "Far@marker:beat"]
[[shot]]
name = "preset"
scene = "demo.blend"
preset = "fg_to_bgg"
subjects = ["Near", "Far"]
[[shot]]
name = "scene"
scene = "elsewhere.blend"
marks = ["Near@1"]
[[shot]]
name = "named"
scene = "demo.blend"
scene_name = "Other"
marks = ["Near@1"]
""")
    assert run_cli("batch", path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    expected = [
        "shot 'scene': key 'scene': no such file",
        "shot 'cam': key 'camera': No camera named 'Camra'",
        "shot 'obj': key 'marks[1]': No object named 'Nera'",
        "shot 'bone': key 'marks[1]': Armature 'Rig' has no bone named 'haed'",
        "shot 'marker': key 'marks[1]': No timeline marker named 'beet'",
        "shot 'preset': key 'preset': No preset named 'fg_to_bgg'",
        "shot 'named': key 'scene_name': No scene named 'Other'",
    ]
    assert len(err) == len(expected), "\n".join(err)
    for needle in expected:
        line = next((e for e in err if needle in e), None)
        assert line is not None, needle
        assert line.startswith(f"rackfocus: error: {path}: shot '")
    assert any("did you mean 'Camera'" in e for e in err)
    assert any("did you mean 'Near'" in e for e in err)
    assert any("did you mean 'head'" in e for e in err)
    assert not os.path.exists(tmp_path / "renders")  # nothing ran, nothing was written


def test_missing_and_unreadable_shot_files(empty_scene, tmp_path, run_cli, capsys):
    assert run_cli("batch", tmp_path / "nope.toml") == 2
    assert "no such shot list" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe[[shot]]")
    assert run_cli("batch", tmp_path / "bad.toml") == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert run_cli("batch", tmp_path) == 2
    assert "is a folder, not a shot list" in capsys.readouterr().err


def test_unknown_keys_and_wrong_types_are_reported_together(empty_scene, tmp_path, run_cli,
                                                            capsys):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TINY + """
[[shot]]
name = "a"
scene = "demo.blend"
marks = ["Near@1", "Far@4"]
colour = "red"
replace = "yes"
[shot.render]
samples = "many"
engine = "arnold"
""")
    assert run_cli("batch", path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4, err
    assert "unknown key 'colour'" in err[0] and "key 'replace' must be true or false" in err[1]
    assert "key 'render.samples' must be a whole number, not text" in err[2]
    assert "key 'render.engine' is 'arnold'" in err[3]
    assert not os.path.exists(tmp_path / "renders")


def test_an_output_folder_that_cannot_be_written_and_two_shots_in_one_folder(
        empty_scene, tmp_path, run_cli, capsys):
    demo_file(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    path = shot_list(tmp_path, TINY + """
[[shot]]
name = "a"
scene = "demo.blend"
marks = ["Near@1"]
output = "file/a"
[[shot]]
name = "b"
scene = "demo.blend"
marks = ["Near@1"]
output = "same"
[[shot]]
name = "c"
scene = "demo.blend"
marks = ["Far@1"]
output = "same"
""")
    assert run_cli("batch", path) == 2
    err = capsys.readouterr().err
    assert f"shot 'a': output folder {tmp_path / 'file' / 'a'} cannot be written: " \
           f"{tmp_path / 'file'} is a file, not a folder" in err
    assert "shot 'c': writes to the same folder as shot 'b'" in err
    assert not os.path.exists(tmp_path / "same")


def test_check_only_and_unknown_shot_names(empty_scene, tmp_path, run_cli, capsys):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS)
    assert run_cli("batch", path, "--check", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] and [s["name"] for s in data["shots"]] == ["a", "b"]
    assert not os.path.exists(tmp_path / "renders")
    assert run_cli("batch", path, "--only", "c") == 2
    assert "no shot named 'c'" in capsys.readouterr().err
    assert run_cli("batch", path, "--only", "b", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["shot"] for s in data["shots"]] == ["b"]
    assert not os.path.exists(tmp_path / "renders" / "a")


def test_only_runs_a_good_shot_of_a_list_whose_other_shot_is_broken(empty_scene, tmp_path,
                                                                     run_cli, capsys):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS + """
[[shot]]
name = "broken"
scene = "demo.blend"
marks = ["Near@1"]
colour = "red"
""")
    assert run_cli("batch", path) == 2
    assert "shot 'broken': unknown key 'colour'" in capsys.readouterr().err
    assert run_cli("batch", path, "--only", "broken") == 2
    capsys.readouterr()
    assert run_cli("batch", path, "--only", "a", "--build-only") == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "shot 'broken': unknown key 'colour'" in err
    assert os.path.isfile(tmp_path / "renders" / "a" / "a.blend")


# --- failures during the run ------------------------------------------------------------------

def test_a_disk_that_fills_mid_render_fails_that_shot_and_keeps_everything_else(
        empty_scene, tmp_path, run_cli, capsys, monkeypatch):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS)
    real = batch.write_frame
    written = []

    def filling_disk(scene, frame, target):
        if f"{os.sep}a{os.sep}" in target and len(written) >= 2:
            with open(target, "wb") as fh:  # half a frame, then the disk is full
                fh.write(b"\x89PNG half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)
        written.append(frame)
        real(scene, frame, target)

    monkeypatch.setattr(batch, "write_frame", filling_disk)
    assert run_cli("batch", path, "--json") == 1  # one failed shot
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    a, b = data["shots"]
    assert a["status"] == "failed" and b["status"] == "done"
    assert "disk full while writing frame 3" in a["error"]
    assert "2 finished frame(s) are kept" in a["error"]
    assert "shot 'a' failed: disk full" in captured.err
    out_a = tmp_path / "renders" / "a"
    assert frames_in(out_a) == ["frame_0001.png", "frame_0002.png"]
    assert partials_in(out_a) == []  # the half-written frame is gone
    assert a["frames_done"] == a["frames_rendered"] == 2
    assert len(frames_in(tmp_path / "renders" / "b")) == 4
    kept = {n: os.stat(out_a / n).st_mtime_ns for n in frames_in(out_a)}

    monkeypatch.setattr(batch, "write_frame", real)
    assert run_cli("batch", path, "--json") == 0
    a, b = json.loads(capsys.readouterr().out)["shots"]
    assert (a["status"], a["frames_rendered"], a["frames_kept"]) == ("done", 2, 2)
    assert (b["status"], b["frames_rendered"]) == ("done", 0)
    assert {n: os.stat(out_a / n).st_mtime_ns for n in kept} == kept  # never overwritten
    assert os.path.isfile(a["files"]["movie"])


def test_a_shot_that_is_not_farm_safe_fails_and_the_batch_goes_on(empty_scene, tmp_path,
                                                                 run_cli, capsys):
    scene = demo.build_scene(frames=4)
    fcurve = scene.objects["Mid"].driver_add("location", 0)
    fcurve.driver.type = "SCRIPTED"
    fcurve.driver.expression = "__import__('math').sin(frame)"
    save(tmp_path / "driven.blend")
    demo_file(tmp_path)
    path = shot_list(tmp_path, TINY + """
[[shot]]
name = "driven"
scene = "driven.blend"
marks = ["Near@1", "Far@4"]
[[shot]]
name = "clean"
scene = "demo.blend"
marks = ["Near@1", "Far@4"]
""")
    assert run_cli("batch", path) == 1
    captured = capsys.readouterr()
    assert "shot 'driven' failed: the saved shot" in captured.err
    assert "is not farm-safe: driver on Mid.location runs Python" in captured.err
    assert "driven  failed" in captured.out and "clean   done" in captured.out
    assert frames_in(tmp_path / "renders" / "driven") == []
    assert farm_problems(str(tmp_path / "renders" / "clean" / "clean.blend")) == []


# --- Ctrl-C and resume ------------------------------------------------------------------------

class InterruptAfter(Recorder):
    """Ctrl-C as the progress callback sees it: after shot ``shot``'s ``n``-th frame."""

    def __init__(self, shot: str, n: int):
        super().__init__()
        self.shot, self.n = shot, n

    def progress(self, label, done, total):
        if f"'{self.shot}'" in label and "rendered" in label and done == self.n:
            raise KeyboardInterrupt


def test_ctrl_c_stops_cleanly_and_the_next_run_renders_only_the_rest(empty_scene, tmp_path):
    demo_file(tmp_path)
    shots = load_shot_list(shot_list(tmp_path, TWO_SHOTS))
    report = batch.run_batch(shots, log=InterruptAfter("a", 2))
    assert report.interrupted and report.exit_code() == 130
    a, b = report.shots
    assert (a.status, a.frames_done, a.frames_rendered) == ("interrupted", 2, 2)
    assert b.status == "not run" and not os.path.exists(tmp_path / "renders" / "b")
    out_a = tmp_path / "renders" / "a"
    assert frames_in(out_a) == ["frame_0001.png", "frame_0002.png"]
    assert partials_in(out_a) == []
    assert any("interrupted" in line for line in report.table())

    again = batch.run_batch(shots, log=Recorder())
    a, b = again.shots
    assert not again.interrupted and again.exit_code() == 0
    assert (a.status, a.frames_rendered, a.frames_kept, a.resumed) == ("done", 2, 2, True)
    assert (b.status, b.frames_rendered) == ("done", 4)


def test_a_real_sigint_stops_after_the_frame_being_rendered(empty_scene, tmp_path, monkeypatch):
    demo_file(tmp_path)
    shots = load_shot_list(shot_list(tmp_path, TWO_SHOTS))
    real = batch.write_frame
    calls = []

    def interrupted_render(scene, frame, target):
        calls.append(frame)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while frame 2 renders
        real(scene, frame, target)

    monkeypatch.setattr(batch, "write_frame", interrupted_render)
    log = Recorder()
    before = signal.getsignal(signal.SIGINT)
    report = batch.run_batch(shots, log=log)
    assert report.interrupted
    assert calls == [1, 2]  # frame 2 finished; frame 3 never started
    assert frames_in(tmp_path / "renders" / "a") == ["frame_0001.png", "frame_0002.png"]
    assert any("stopping after the current frame" in line for line in log.lines)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is restored


def test_a_second_sigint_gives_the_frame_up(empty_scene, tmp_path, monkeypatch):
    demo_file(tmp_path)
    shots = load_shot_list(shot_list(tmp_path, TWO_SHOTS))
    real = batch.write_frame
    calls = []

    def impatient(scene, frame, target):
        calls.append(frame)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)  # again: do not wait for this frame
            time.sleep(0.01)
        real(scene, frame, target)

    monkeypatch.setattr(batch, "write_frame", impatient)
    before = signal.getsignal(signal.SIGINT)
    report = batch.run_batch(shots, log=Recorder())
    assert report.interrupted and report.shots[0].frames_rendered == 1
    out_a = tmp_path / "renders" / "a"
    assert frames_in(out_a) == ["frame_0001.png"] and partials_in(out_a) == []
    assert signal.getsignal(signal.SIGINT) is before


def test_resume_renders_nothing_and_is_fast(empty_scene, tmp_path):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS)
    first = batch.run_batch(load_shot_list(path), log=Recorder())
    assert [s.status for s in first.shots] == ["done", "done"]

    started = time.perf_counter()
    second = batch.run_batch(load_shot_list(path), log=Recorder())
    elapsed = time.perf_counter() - started
    assert [(s.status, s.frames_rendered, s.frames_done) for s in second.shots] == \
        [("done", 0, 4), ("done", 0, 4)]
    assert elapsed < 0.5 * len(second.shots)  # target: well under 1 s per shot
    assert all(s.time_s < 0.25 for s in second.shots)

    # A half-written frame left by a killed run never counts, and is cleared on resume.
    out_a = tmp_path / "renders" / "a"
    os.remove(out_a / "frame_0003.png")
    (out_a / ".frame_0003.partial.png").write_bytes(b"half")
    third = batch.run_batch(load_shot_list(path), log=Recorder())
    assert [s.frames_rendered for s in third.shots] == [1, 0]
    assert partials_in(out_a) == [] and "frame_0003.png" in frames_in(out_a)

    # --force renders everything again.
    forced = batch.run_batch(load_shot_list(path), options=batch.BatchOptions(force=True),
                             log=Recorder())
    assert [s.frames_rendered for s in forced.shots] == [4, 4]


def test_changed_settings_rebuild_the_shot_and_keep_the_frames_unless_forced(empty_scene,
                                                                             tmp_path):
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS)
    batch.run_batch(load_shot_list(path), only=["a"], log=Recorder())
    shot_list(tmp_path, TWO_SHOTS.replace('space = "diopter"', 'space = "distance"'))
    log = Recorder()
    report = batch.run_batch(load_shot_list(path), only=["a"], log=log)
    (a,) = report.shots
    assert a.status == "done" and not a.resumed and a.frames_rendered == 0
    assert any("its settings or source files changed; 4 frame(s) rendered before are kept"
               in line for line in log.lines)
    open_blend(a.blend)
    assert json.loads(bpy.context.scene.camera.data["rackfocus_pull"])["space"] == "distance"


# --- deterministic chunks ---------------------------------------------------------------------

def run_process(*argv, cwd) -> subprocess.CompletedProcess:
    if bpy.app.binary_path:
        pytest.skip("runs child processes of the bpy module (the module and compat stages)")
    proc = subprocess.run([sys.executable, "-c", RUNNER, *map(str, argv)], cwd=str(cwd),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_chunks_in_two_processes_equal_one_run_pixel_for_pixel(empty_scene, tmp_path):
    demo_file(tmp_path)
    body = TWO_SHOTS.split("[[shot]]")[1]  # shot 'a' only
    chunked = shot_list(tmp_path, TINY.replace('"renders"', '"chunks"') + "[[shot]]" + body)
    os.rename(chunked, tmp_path / "chunks.toml")
    whole = shot_list(tmp_path, TINY.replace('"renders"', '"whole"') + "[[shot]]" + body)

    first = json.loads(run_process("batch", "chunks.toml", "--frames", "1-2", "--json",
                                   cwd=tmp_path).stdout)
    assert first["shots"][0]["status"] == "partial"  # the media wait for the last chunk
    assert first["shots"][0]["frames_rendered"] == 2
    assert not os.path.exists(first["shots"][0]["output"] + "/a.mp4")
    second = json.loads(run_process("batch", "chunks.toml", "--frames", "3-4", "--json",
                                    cwd=tmp_path).stdout)
    assert second["shots"][0]["status"] == "done" and second["shots"][0]["resumed"]
    assert os.path.isfile(second["shots"][0]["files"]["movie"])
    run_process("batch", whole, "--json", cwd=tmp_path)

    chunks, one = tmp_path / "chunks" / "a", tmp_path / "whole" / "a"
    assert frames_in(chunks) == frames_in(one) == [f"frame_000{i}.png" for i in range(1, 5)]
    for name in frames_in(one):
        assert np.array_equal(pixels(str(chunks / name)), pixels(str(one / name))), name
    # Different frames differ (the seed is animated), so equality above is not trivial.
    assert not np.array_equal(pixels(str(one / "frame_0001.png")),
                              pixels(str(one / "frame_0002.png")))

    # Any farm renders the saved shot with Blender's own -s/-e/-a to the same pixels.
    open_blend(chunks / "a.blend")
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 3, 4
    scene.render.filepath = str(tmp_path / "native" / "frame_####")
    bpy.ops.render.render(animation=True)
    for frame in (3, 4):
        native = str(tmp_path / "native" / f"frame_000{frame}.png")
        assert np.array_equal(pixels(native), pixels(str(one / f"frame_000{frame}.png")))


# --- other sources ----------------------------------------------------------------------------

def test_a_footage_shot_builds_a_farm_safe_plate(empty_scene, tmp_path, run_cli, capsys):
    demo_plate.build_cg_scene(empty_scene, 32, 18, frames=2)
    colors, depths = demo_plate.render_footage(empty_scene, str(tmp_path / "footage"), samples=2)
    path = shot_list(tmp_path, TINY + f"""
[[shot]]
name = "plate"
footage = "{os.path.relpath(colors[0], tmp_path)}"
depth = "{os.path.relpath(depths[0], tmp_path)}"
marks = ["px:9,11@1", "px:2,3@2"]
[shot.render]
frames = "1-2"
""")
    assert run_cli("batch", path, "--json") == 0, capsys.readouterr().err
    (entry,) = json.loads(capsys.readouterr().out)["shots"]
    assert entry["status"] == "done" and entry["frames_done"] == 2
    assert farm_problems(entry["blend"]) == []
    assert os.path.isdir(os.path.join(entry["output"], "rackfocus_cache"))


def test_a_shot_names_its_scene_and_the_saved_file_opens_on_it(empty_scene, tmp_path, run_cli):
    scene = demo.build_scene(frames=4)
    other = bpy.data.scenes.new("Other")
    for obj in scene.objects:
        other.collection.objects.link(obj)
    other.camera = scene.camera
    other.frame_start, other.frame_end = 1, 4
    save(tmp_path / "demo.blend")
    path = shot_list(tmp_path, TINY + """
[[shot]]
name = "other"
scene = "demo.blend"
scene_name = "Other"
marks = ["Near@1", "Far@4"]
""")
    assert run_cli("batch", path, "--build-only") == 0
    open_blend(tmp_path / "renders" / "other" / "other.blend")
    assert bpy.context.scene.name == "Other"
    assert "rackfocus_pull" in bpy.context.scene.camera.data
    assert frames_in(tmp_path / "renders" / "other") == []  # built, not rendered


def test_an_estimated_depth_shot_estimates_once_then_builds_its_plate(empty_scene, tmp_path,
                                                                     run_cli, capsys):
    _tiny_da2(tmp_path / "tiny.onnx")

    demo_plate.build_cg_scene(empty_scene, 32, 18, frames=2)
    colors, _depths = demo_plate.render_footage(empty_scene, str(tmp_path / "footage"),
                                                samples=2)
    path = shot_list(tmp_path, TINY + f"""
[[shot]]
name = "est"
footage = "{os.path.relpath(colors[0], tmp_path)}"
depth = "estimate"
model = "tiny.onnx"
marks = ["px:9,11@1", "px:2,3@2"]
[shot.plate]
near_m = 2.0
far_m = 8.0
[shot.render]
frames = "1-2"
""")
    assert run_cli("batch", path, "--build-only", "--json") == 0, capsys.readouterr().err
    (entry,) = json.loads(capsys.readouterr().out)["shots"]
    assert entry["status"] == "built"
    depth_dir = os.path.join(entry["output"], "rackfocus_cache", "shot_0001_estimated_depth")
    assert sorted(n for n in os.listdir(depth_dir) if n.endswith(".exr")) == \
        ["depth_0001.exr", "depth_0002.exr"]
    assert any("estimate:" in note for note in entry["notes"])
    assert farm_problems(entry["blend"]) == []


def test_a_shot_named_after_its_scene_in_the_scenes_folder_is_refused(empty_scene, tmp_path,
                                                                      run_cli, capsys):
    """Issue 19: name = "demo", scene = "demo.blend", output = "." would save the built shot
    over the scene (and a second run over its .blend1): refused before anything is written."""
    scene = demo_file(tmp_path)
    original = open(scene, "rb").read()
    before = sorted(os.listdir(tmp_path))
    listing = shot_list(tmp_path, '[[shot]]\nname = "demo"\nscene = "demo.blend"\n'
                                  'output = "."\nmarks = ["Near@1", "Far@3"]\n'
                                  '[shot.render]\nengine = "workbench"\nresolution = "16x9"\n'
                                  'frames = "1"\nmovie = false\ncontact_sheet = false\n'
                                  'plot = false\n')
    assert run_cli("batch", listing) == 2
    err = capsys.readouterr().err
    assert "key 'scene'" in err and "would overwrite" in err and "'output'" in err
    assert open(scene, "rb").read() == original
    assert sorted(os.listdir(tmp_path)) == sorted(before + ["shots.toml"])


def test_a_frame_cut_short_is_not_finished_and_a_resume_renders_it_again(empty_scene, tmp_path):
    """Issue 19, item 4: after a full disk, a frame file cut short (half a PNG) once counted as
    finished and the re-run said "done 4/4"; it is re-checked and rendered again."""
    demo_file(tmp_path)
    path = shot_list(tmp_path, TINY + '[[shot]]\nname = "a"\nscene = "demo.blend"\n'
                                      'marks = ["Near@1", "Far@4"]\n')
    first = batch.run_batch(load_shot_list(path), log=Recorder())
    assert [s.status for s in first.shots] == ["done"]
    frame = tmp_path / "renders" / "a" / "frame_0002.png"
    whole = frame.read_bytes()
    frame.write_bytes(whole[:len(whole) // 2])
    again = batch.run_batch(load_shot_list(path), log=Recorder())
    (a,) = again.shots
    assert (a.status, a.frames_rendered, a.frames_done) == ("done", 1, 4)
    (tmp_path / "whole.png").write_bytes(whole)
    assert np.array_equal(pixels(str(frame)), pixels(str(tmp_path / "whole.png")))


def _tiny_da2(path) -> str:
    """A tiny network with Depth Anything V2's signature (disparity = mean of the input + 3)."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, "h", "w"])
    nodes = [helper.make_node("ReduceMean", ["pixel_values"], ["m"], axes=[1], keepdims=0),
             helper.make_node("Add", ["m", "b"], ["predicted_depth"])]
    graph = helper.make_graph(nodes, "tiny", [x], [y],
                              [helper.make_tensor("b", TensorProto.FLOAT, [], [3.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


@pytest.mark.parametrize("model,plate,needle", [
    ("broken.onnx", 'near_m = 2.0\nfar_m = 8.0', "key 'model': broken.onnx is not an ONNX model"),
    ("tiny.onnx", 'focal_mm = 35', "key 'plate.anchors'"),
])
def test_estimate_shots_are_checked_before_any_folder_is_made(empty_scene, tmp_path, run_cli,
                                                              capsys, model, plate, needle):
    """Issue 19, item 16: an .onnx that does not load and a relative estimate without anchors
    or near/far passed validation and failed at build after making the shot's folder."""
    _tiny_da2(tmp_path / "tiny.onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not a network")
    demo_plate.build_cg_scene(empty_scene, 32, 18, frames=2)
    colors, _depths = demo_plate.render_footage(empty_scene, str(tmp_path / "footage"),
                                                samples=1)
    path = shot_list(tmp_path, TINY + f"""
[[shot]]
name = "est"
footage = "{os.path.relpath(colors[0], tmp_path)}"
depth = "estimate"
model = "{model}"
marks = ["px:9,11@1", "px:2,3@2"]
[shot.plate]
{plate}
""")
    assert run_cli("batch", path) == 2
    err = capsys.readouterr().err
    assert needle in err, err
    assert not (tmp_path / "renders").exists()


def test_the_exit_status_counts_the_failed_shots(empty_scene, tmp_path, run_cli, capsys,
                                                 monkeypatch):
    """Two shots fail (the disk is full): exit status 2, the number of failed shots."""
    demo_file(tmp_path)
    path = shot_list(tmp_path, TWO_SHOTS.replace('frames = "1-4"', 'frames = "1"'))

    def full_disk(scene, frame, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), target)

    monkeypatch.setattr(batch, "write_frame", full_disk)
    assert run_cli("batch", path, "--json") == 2
    data = json.loads(capsys.readouterr().out)
    assert [s["status"] for s in data["shots"]] == ["failed", "failed"]
    report = batch.BatchReport("s.toml", [batch.ShotReport(f"s{i}", "", status=batch.FAILED)
                                      for i in range(200)])
    assert report.exit_code() == 125


def test_a_pixel_mark_at_x_equal_to_the_width_is_refused_at_validation(empty_scene, tmp_path,
                                                                       run_cli, capsys):
    demo_plate.build_cg_scene(empty_scene, 32, 18, frames=1)
    colors, depths = demo_plate.render_footage(empty_scene, str(tmp_path / "footage"),
                                               samples=1)
    body = (TINY + '[[shot]]\nname = "p"\n'
            f'footage = "{os.path.relpath(colors[0], tmp_path)}"\n'
            f'depth = "{os.path.relpath(depths[0], tmp_path)}"\n')
    path = shot_list(tmp_path, body + 'marks = ["px:32,5@1", "px:31,17@2"]\n')
    assert run_cli("batch", path, "--check") == 2
    err = capsys.readouterr().err
    assert "key 'marks[1]': pixel (32, 5) is outside the 32x18 footage" in err, err
    assert "marks[2]" not in err
    path = shot_list(tmp_path, body + 'marks = ["px:5,18@1", "px:31,17@2"]\n')
    assert run_cli("batch", path, "--check") == 2
    assert "pixel (5, 18) is outside" in capsys.readouterr().err
