"""The command line: verbs, exit codes, one clear line on stderr for bad input."""

import os
import subprocess
import sys

import bpy
import pytest

from helpers import two_subject_scene
from rackfocus_addon.bl import pull
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def shot(empty_scene, tmp_path):
    two_subject_scene(empty_scene)
    empty_scene.frame_end = 24
    path = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return path


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
    (["render", "{shot}", "--out", "{tmp}", "--frames", "9-2"], "end comes before"),
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
