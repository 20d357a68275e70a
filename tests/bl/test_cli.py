"""The command line: verbs, exit codes, one clear line on stderr for bad input."""

import json
import os
import subprocess
import sys

import bpy
import pytest

from helpers import saved_two_subject_shot
from rackfocus_addon.bl import pull
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def shot(empty_scene, tmp_path):
    return saved_two_subject_shot(empty_scene, tmp_path)


def test_pull_verb_writes_a_pull_and_saves(shot, tmp_path, capsys):
    out = str(tmp_path / "pulled.blend")
    code = main(["pull", shot, "--mark", "Near@1", "--mark", "Far@24", "--easing", "quad:out",
                 "--space", "diopter", "--mode", "bake", "--out", out])
    assert code == 0
    assert "bake pull on camera 'Cam'" in capsys.readouterr().out
    assert not os.path.exists(out + "1")  # no stray .blend1 backup beside the output
    bpy.ops.wm.open_mainfile(filepath=out)
    scene = bpy.context.scene
    assert effective_focus_m(scene, scene.camera, 24) == pytest.approx(8.0, abs=1e-3)
    assert pull.read_record(scene.camera)["easing"] == "quad:out"


def test_clear_verb(shot, tmp_path):
    out = str(tmp_path / "pulled.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", out]) == 0
    cleared = str(tmp_path / "cleared.blend")
    assert main(["clear", out, "--out", cleared]) == 0
    bpy.ops.wm.open_mainfile(filepath=cleared)
    assert sorted(o.name for o in bpy.data.objects) == ["Cam", "Far", "Near"]


@pytest.mark.parametrize("argv,needle", [
    (["pull", "{shot}", "--mark", "Ghost@1", "--out", "{out}"], "No object named 'Ghost'"),
    (["pull", "{shot}", "--mark", "Near", "--out", "{out}"], "has no frame"),
    (["pull", "{shot}", "--mark", "Near@1", "--easing", "wobble", "--out", "{out}"],
     "Unknown easing 'wobble'"),
    (["pull", "/nope/missing.blend", "--mark", "Near@1", "--out", "{out}"], "No such .blend"),
    (["pull", "{shot}", "--mark", "Near@1", "--camera", "Far", "--out", "{out}"],
     "not a camera"),
    (["pull", "{shot}", "--out", "{out}"], "--mark"),
    (["render", "{shot}", "--out", "{tmp}", "--frames", "9-2"], "ends before it starts"),
    (["render", "{shot}", "--out", "{tmp}", "--resolution", "big"], "Bad resolution"),
    (["warp"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(shot, tmp_path, capsys, argv, needle):
    out = str(tmp_path / "out.blend")
    argv = [a.format(shot=shot, out=out, tmp=str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rackfocus: error:") and needle in err[0], err
    assert not os.path.exists(out)


def test_render_verb_writes_frames(shot, tmp_path):
    folder = str(tmp_path / "frames")
    assert main(["render", shot, "--out", folder, "--frames", "1-2", "--samples", "2",
                 "--resolution", "32x18", "--engine", "cycles", "--contact-sheet"]) == 0
    assert sorted(os.listdir(folder)) == ["contact_sheet.png", "frame_0001.png",
                                          "frame_0002.png"]


def test_python_dash_m_entry_point(shot, tmp_path):
    """``python -m rackfocus_addon`` is the same CLI with real exit codes."""
    if not sys.executable.endswith(("python", "python3", "python3.11")) or bpy.app.binary_path:
        pytest.skip("runs only where bpy is a Python module")
    out = str(tmp_path / "m.blend")
    ok = subprocess.run([sys.executable, "-m", "rackfocus_addon", "pull", shot, "--mark",
                         "Near@1", "--mark", "Far@5", "--out", out], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert os.path.isfile(out)
    bad = subprocess.run([sys.executable, "-m", "rackfocus_addon", "pull", shot, "--mark",
                          "Near@3", "--mark", "Far@3", "--out", out], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "Two marks on frame 3" in bad.stderr.strip().splitlines()[-1]


def test_demo_verb_writes_everything_it_promises(empty_scene, tmp_path, capsys):
    out = str(tmp_path / "demo")
    assert main(["demo", "--out", out, "--frames", "8", "--samples", "1",
                 "--resolution", "32x18"]) == 0
    printed = capsys.readouterr().out
    assert "rig pull on camera 'Camera'" in printed
    frames = sorted(os.listdir(os.path.join(out, "frames")))
    assert frames == [f"frame_{i:04d}.png" for i in range(1, 9)]
    for name in ("pull.mp4", "contact_sheet.png", "demo.blend"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    assert os.path.isdir(os.path.join(out, "plate", "frames"))
    assert main(["check", os.path.join(out, "demo.blend")]) == 0
    assert main(["check", os.path.join(out, "plate", "plate_demo.blend")]) == 0


def _run_module(args, timeout=180):
    if not sys.executable.endswith(("python", "python3", "python3.11")) or bpy.app.binary_path:
        pytest.skip("runs only where bpy is a Python module")
    return subprocess.run([sys.executable, "-m", "rackfocus_addon", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_json_output_is_one_object_and_blender_info_lines_stay_off_stdout(shot, tmp_path):
    """Pipelines read stdout: with --json it is exactly one JSON object (Blender's own
    'Info: Total files ...' from saving would break that), and --quiet silences stderr."""
    out = str(tmp_path / "j.blend")
    done = _run_module(["pull", shot, "--mark", "Near@1", "--mark", "Far@12", "--mode", "bake",
                        "--json", "--quiet", "--out", out])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["mode"] == "bake" and data["saved"] == out
    assert [m["distance_m"] for m in data["marks"]] == [pytest.approx(2.0), pytest.approx(8.0)]
    assert done.stderr == ""
    plain = _run_module(["pull", shot, "--mark", "Near@1", "--mark", "Far@12", "--out", out])
    assert "Info:" not in plain.stdout and "Total files" not in plain.stdout
    assert plain.stdout.splitlines()[-1] == f"saved {out}"


def test_each_readability_warning_is_printed_once(shot, tmp_path, capsys):
    out = str(tmp_path / "w.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@12", "--fstop", "64",
                 "--out", out]) == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if "blurred by only" in line]
    assert len(warnings) == len(set(warnings)) >= 1
    assert any("Suggested f-stop" in line for line in err)


def test_progress_says_what_is_happening(shot, tmp_path, capsys):
    out = str(tmp_path / "p.blend")
    bpy.ops.wm.open_mainfile(filepath=shot)
    far = bpy.context.scene.objects["Far"]
    far.keyframe_insert("location", frame=1)
    far.location.y = 9.0
    far.keyframe_insert("location", frame=24)
    bpy.ops.wm.save_mainfile()
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@24", "--mode", "bake",
                 "--out", out]) == 0
    err = capsys.readouterr().err
    assert "rackfocus: sampling subject distances 1/24" in err
    assert "rackfocus: sampling subject distances 24/24" in err


def test_render_takes_blender_style_frame_lists(shot, tmp_path, capsys):
    folder = str(tmp_path / "frames")
    assert main(["render", shot, "--out", folder, "--frames", "1,3-4", "--samples", "1",
                 "--resolution", "16x9", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["frames"] == [1, 3, 4]
    assert sorted(os.listdir(folder)) == ["frame_0001.png", "frame_0003.png", "frame_0004.png"]


def test_clear_twice_is_harmless(shot, tmp_path, capsys):
    out = str(tmp_path / "c.blend")
    assert main(["clear", shot, "--out", out]) == 0
    assert "nothing to clear" in capsys.readouterr().out
    # A real second clear: pull, clear, clear again; the second exits 0 and says so.
    pulled, once, twice = (str(tmp_path / f"{n}.blend") for n in ("p", "once", "twice"))
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", pulled]) == 0
    assert main(["clear", pulled, "--out", once]) == 0
    assert "Cleared the pull on camera 'Cam'" in capsys.readouterr().out
    assert main(["clear", once, "--out", twice, "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["message"] == "Camera 'Cam' has no Rack Focus pull: nothing to clear"
    assert data["saved"] == twice and os.path.isfile(twice)
    assert "error" not in captured.err


def test_every_verb_has_help(capsys):
    from rackfocus_addon.cli import build_parser

    verbs = build_parser()._subparsers._group_actions[0].choices
    assert set(verbs) >= {"pull", "clear", "export", "describe", "presets", "plate", "render",
                          "demo", "check"}
    for verb in verbs:
        assert main([verb, "--help"]) == 0
        assert "--json" in capsys.readouterr().out
    assert main(["--help"]) == 0
