"""Issue 19 (second sweep), the machine's and Blender's limits: a frame rate Blender cannot
hold, estimate flags out of range, more threads than cores, runs that would not fit in memory
or on the disk, outputs no file can be created in, corrupt or huge PNGs, footage smaller than
Blender renders and `render` without a file. Each is exit 2 and one line on stderr, nothing
written or lost; `render --json` keeps stdout to one JSON object.

C libraries (libpng) and Blender print on the process's file descriptors, so those tests read
them with ``capfd``, not ``capsys``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import uuid
import zlib

import bpy
import numpy as np
import pytest
from test_estimation import write_clip
from test_estimation import write_png as write_raw_png
from test_plate_input import make_shot, snapshot
from tiny_models import tiny_model

from helpers import saved_two_subject_shot
from rackfocus_addon import limits
from rackfocus_addon.cli import main
from rackfocus_addon.estimate import model as estimate_model


def error_line(captured) -> str:
    """The one stderr line of a refusal (fails unless there is exactly one, an error)."""
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rackfocus: error: "), err
    return err[0]


@pytest.fixture
def shot(empty_scene, tmp_path):
    return saved_two_subject_shot(empty_scene, tmp_path)


@pytest.fixture
def plate_inputs(empty_scene, tmp_path):
    """(base .blend, first footage frame, first depth frame): 48x27, two frames."""
    color, depth = make_shot(str(tmp_path / "seq"), frames=(1, 2))
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    return base, color, depth


def tmpfs(path, size: str):
    """Mount a tmpfs of ``size`` at ``path`` (a disk that fills up), or skip saying why."""
    os.makedirs(path, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs to fill up ({done.stderr.strip() or 'not root'})")


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB disk; unmounted after the test."""
    disk = tmp_path / "disk"
    tmpfs(disk, "1m")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


# --- 6. a frame rate Blender can hold -----------------------------------------------------------

def test_fps_100_5_is_stored_as_201_over_2(plate_inputs, tmp_path, capsys):
    base, color, depth = plate_inputs
    out = str(tmp_path / "p.blend")
    assert main(["plate", base, "--footage", color, "--depth", depth, "--fps", "100.5",
                 "--out", out]) == 0
    bpy.ops.wm.open_mainfile(filepath=out)
    render = bpy.context.scene.render
    assert (render.fps, render.fps_base) == (201, 2.0)
    assert render.fps / render.fps_base == 100.5


def test_a_rate_blender_cannot_hold_is_refused_naming_the_nearest(plate_inputs, tmp_path,
                                                                  capsys):
    base, color, depth = plate_inputs
    out = tmp_path / "new" / "p.blend"
    capsys.readouterr()
    assert main(["plate", base, "--footage", color, "--depth", depth, "--fps", "997.123",
                 "--out", str(out)]) == 2
    line = error_line(capsys.readouterr())
    assert "--fps: Frame rate 997.123 cannot be stored by Blender" in line, line
    assert "nearest 997.12 (24928/25) or 997.125 (7977/8)" in line, line
    assert not (tmp_path / "new").exists()


# --- 7, 10. estimate's flags ------------------------------------------------------------------

@pytest.mark.parametrize("flag,value,needle", [
    ("--sensor", "inf", "--sensor inf is out of range: use 1 to 200"),
    ("--focal", "inf", "--focal inf is out of range: use 1 to 5000"),
    ("--focal", "-50", "--focal -50 is out of range"),
    ("--threads", "-1", "--threads -1 is out of range: use 0 to 1000000"),
    ("--near", "nan", "--near nan is out of range"),
    ("--far", "inf", "--far inf is out of range"),
    ("--short-side", "0", "--short-side 0 is out of range: use 14 to 65536"),
    ("--short-side", "100000", "--short-side 100000 is out of range: use 14 to 65536"),
])
def test_estimate_flags_are_range_checked(empty_scene, tmp_path, capsys, flag, value, needle):
    clip = write_clip(tmp_path / "shot", 1)
    out = tmp_path / "est"
    argv = ["estimate", "--footage", clip, "--out", str(out), "--anchor", "5,13=6",
            "--anchor", "42,13=2", flag, value]
    if flag in ("--near", "--far"):
        argv += ["--far" if flag == "--near" else "--near", "1" if flag == "--far" else "9"]
    assert main(argv) == 2
    assert needle in error_line(capsys.readouterr())
    assert not out.exists()


def test_more_threads_than_cores_are_capped_and_said(empty_scene, tmp_path, capsys,
                                                     monkeypatch):
    """100000 threads crashed ONNX Runtime (SIGSEGV, nothing printed): the session gets the
    machine's cores and stderr says so."""
    model = tiny_model(tmp_path / "tiny.onnx")
    clip = write_clip(tmp_path / "shot", 1)
    runtime = estimate_model.runtime()
    real, asked = runtime.InferenceSession, []

    def session(path, sess_options=None, **kw):
        asked.append(sess_options.intra_op_num_threads)
        assert asked[-1] <= os.cpu_count(), "the session was asked for more threads than cores"
        return real(path, sess_options=sess_options, **kw)

    monkeypatch.setattr(runtime, "InferenceSession", session)
    out = tmp_path / "est"
    assert main(["estimate", "--footage", clip, "--out", str(out), "--model", model,
                 "--anchor", "5,13=6", "--anchor", "42,13=2", "--threads", "100000"]) == 0
    cores = os.cpu_count()
    assert asked == [cores]
    assert (f"--threads 100000: this machine has {cores} cores, using {cores}"
            in capsys.readouterr().err)
    sidecar = (out / "estimate.json").read_text()
    assert "Infinity" not in sidecar and json.loads(sidecar)["frames"] == 1


# --- 11. memory -------------------------------------------------------------------------------

def test_a_short_side_that_would_not_fit_in_memory_is_refused(empty_scene, tmp_path, capsys):
    model = tiny_model(tmp_path / "tiny.onnx")
    clip = write_clip(tmp_path / "shot", 1)  # 48x27
    out = tmp_path / "est"
    assert main(["estimate", "--footage", clip, "--out", str(out), "--model", model,
                 "--anchor", "5,13=6", "--short-side", "60000"]) == 2
    line = error_line(capsys.readouterr())
    # 60004 rounded to the 14-pixel patch; the long side keeps the 16:9 aspect.
    assert "A 106680x60004 network input needs about 409.7 GB of memory and " in line, line
    assert line.endswith("lower --short-side (default 518 pixels)"), line
    assert not out.exists()


def test_a_model_with_a_huge_fixed_input_is_refused(empty_scene, tmp_path, capsys,
                                                    monkeypatch):
    """A model declaring an 18000x32000 input raised MemoryError: it is refused with the size
    and the fix, whatever this machine's memory (16 GB here)."""
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 16 * 10**9)
    model = tiny_model(tmp_path / "huge.onnx", static_hw=(18000, 32000))
    folder = tmp_path / "shot"
    folder.mkdir()
    write_raw_png(folder / "f_0001.png", np.full((36, 64, 3), 0.5))  # 16:9, as the model
    out = tmp_path / "est"
    assert main(["estimate", "--footage", str(folder / "f_0001.png"), "--out", str(out),
                 "--model", model, "--anchor", "5,13=6"]) == 2
    line = error_line(capsys.readouterr())
    assert ("A 32000x18000 network input needs about 36.9 GB of memory and 16.0 GB is "
            "available: use a model with a smaller input") in line, line
    assert not out.exists()


# --- 12. a full disk --------------------------------------------------------------------------

def test_plate_on_a_full_disk_says_how_much_is_needed(empty_scene, tmp_path, small_disk,
                                                      capsys):
    color, depth = make_shot(str(tmp_path / "seq"), frames=range(1, 25), size=(96, 54))
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    (small_disk / "notes.txt").write_text("kept")
    capsys.readouterr()
    assert main(["plate", base, "--footage", color, "--depth", depth,
                 "--quiet", "--out", str(small_disk / "p.blend")]) == 2
    # 24 frames x (96 x 54 pixels x 20 bytes + the light plate's mesh image, 12 bytes on a
    # 97 x 65 corner grid, + three headers): 4.6 MB.
    assert (error_line(capsys.readouterr())
            == f"rackfocus: error: disk full: 5 MB needed in {small_disk / 'rackfocus_cache'}")
    assert sorted(os.listdir(small_disk)) == ["notes.txt"]
    assert (small_disk / "notes.txt").read_text() == "kept"


def test_plate_filling_the_disk_while_writing_keeps_what_was_there(empty_scene, tmp_path,
                                                                   small_disk, capsys,
                                                                   monkeypatch):
    """The free-space check passed (another program filled the disk meanwhile): the real
    ENOSPC from the EXR writer becomes the same line, and the staged cache goes."""
    color, depth = make_shot(str(tmp_path / "seq"), frames=range(1, 25), size=(96, 54))
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    monkeypatch.setattr(limits, "free_bytes", lambda folder: None)
    capsys.readouterr()
    assert main(["plate", base, "--footage", color, "--depth", depth,
                 "--quiet", "--out", str(small_disk / "p.blend")]) == 2
    assert (error_line(capsys.readouterr())
            == f"rackfocus: error: disk full: 5 MB needed in {small_disk / 'rackfocus_cache'}")
    assert os.listdir(small_disk) == []


def _fill(disk, leave: int) -> None:
    """Fill ``disk`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler.bin", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def test_saving_a_blend_on_a_full_disk_keeps_the_old_file(shot, tmp_path, small_disk, capsys):
    out = small_disk / "out.blend"
    out.write_bytes(b"the user's earlier file")
    _fill(small_disk, 64 * 1024)
    capsys.readouterr()
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--mode", "bake",
                 "--quiet", "--out", str(out)]) == 2
    line = error_line(capsys.readouterr())
    assert line.startswith("rackfocus: error: disk full: ") and line.endswith(
        f" MB needed in {small_disk}"), line
    assert out.read_bytes() == b"the user's earlier file"
    assert sorted(os.listdir(small_disk)) == ["filler.bin", "out.blend"]


def test_estimate_on_a_full_disk_is_refused_before_writing(empty_scene, tmp_path, small_disk,
                                                           capsys):
    model = tiny_model(tmp_path / "tiny.onnx")
    clip = write_clip(tmp_path / "shot", 24)  # 48x27
    out = small_disk / "est"
    assert main(["estimate", "--footage", clip, "--out", str(out), "--model", model,
                 "--near", "1", "--far", "9", "--quiet"]) == 2
    # 24 network outputs of 924x518 float32 (46 MB) and 24 EXRs of 48x27 float RGBA.
    assert (error_line(capsys.readouterr())
            == f"rackfocus: error: disk full: 47 MB needed in {out}")
    assert os.listdir(small_disk) == []


def test_render_on_a_full_disk_says_so(shot, tmp_path, small_disk, capsys):
    (small_disk / "earlier.png").write_bytes(b"kept")
    _fill(small_disk, 0)
    out = small_disk / "frames"
    capsys.readouterr()
    assert main(["render", shot, "--out", str(out), "--frames", "1-3", "--resolution",
                 "640x360", "--engine", "workbench", "--quiet"]) == 2
    # Three 640x360 RGB frames, uncompressed at most: 2.1 MB.
    assert error_line(capsys.readouterr()) == f"rackfocus: error: disk full: 3 MB needed in {out}"
    assert (small_disk / "earlier.png").read_bytes() == b"kept"


def test_export_on_a_full_disk_is_one_line(shot, tmp_path, small_disk, capsys):
    _fill(small_disk, 0)
    capsys.readouterr()
    assert main(["export", shot, "--out", str(small_disk / "focus.csv"), "--quiet"]) == 2
    assert (error_line(capsys.readouterr())
            == f"rackfocus: error: disk full: 1 MB needed in {small_disk}")


# --- 13. outputs no file can be created in ------------------------------------------------------

@pytest.mark.parametrize("verb", ["render", "plate", "export", "demo", "pull", "estimate"])
def test_out_under_proc_is_refused_by_a_probe(shot, plate_inputs, tmp_path, capsys, verb):
    """Root passes permission bits under /proc, where no file can be created."""
    base, color, depth = plate_inputs
    target = f"/proc/rackfocus_{uuid.uuid4().hex[:8]}"
    argv = {
        "render": ["render", shot, "--out", target, "--resolution", "32x18"],
        "plate": ["plate", base, "--footage", color, "--depth", depth,
                  "--out", target + "/p.blend"],
        "export": ["export", shot, "--out", target + "/focus.csv"],
        "demo": ["demo", "--out", target],
        "pull": ["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", target + ".blend"],
        "estimate": ["estimate", "--footage", color, "--out", target, "--near", "1",
                     "--far", "9"],
    }[verb]
    capsys.readouterr()
    assert main(argv) == 2
    line = error_line(capsys.readouterr())
    assert "files cannot be created in /proc" in line, line


def test_the_probe_leaves_nothing_behind(tmp_path):
    assert limits.folder_problem(str(tmp_path / "a" / "b")) is None
    assert os.listdir(tmp_path) == []


# --- 14. corrupt and huge PNGs ----------------------------------------------------------------

def _png(path, width, height, body: bytes) -> str:
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
                + chunk(b"IEND", b""))
    return str(path)


@pytest.mark.parametrize("kind,needle", [
    ("corrupt", "Cannot read {path}: not an image Blender decodes"),
    ("wide", "Cannot read {path}: its header says 100000x100000 pixels; Blender reads images "
             "up to 65536 pixels a side"),
    ("huge", "Reading {path} (60000x60000 pixels) needs about 57.6 GB of memory and 8.0 GB is "
             "available: use a smaller image"),
])
def test_a_bad_png_is_one_line_on_stderr(plate_inputs, tmp_path, capfd, monkeypatch, kind,
                                         needle):
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 8 * 10**9)
    base, _color, depth = plate_inputs
    path = str(tmp_path / f"{kind}.png")
    if kind == "corrupt":  # a good header, then data that is not zlib
        _png(path, 48, 27, b"\x78\x9c" + bytes(range(256)) * 8)
    else:
        side = 100000 if kind == "wide" else 60000
        _png(path, side, side, zlib.compress(b"\0" * 1000))
    out = tmp_path / "new" / "p.blend"
    capfd.readouterr()
    assert main(["plate", base, "--footage", path, "--depth", depth, "--out", str(out)]) == 2
    printed = capfd.readouterr()
    assert printed.out == ""  # Blender's 'ERROR OpenImageIO read failed' went to stdout
    line = error_line(printed)
    assert needle.format(path=path) in line, line
    assert not (tmp_path / "new").exists()


# --- 17. footage smaller than Blender renders ---------------------------------------------------

def test_one_pixel_footage_with_estimate_names_the_4x4_minimum(plate_inputs, tmp_path,
                                                               capsys):
    base = plate_inputs[0]
    model = tiny_model(tmp_path / "tiny.onnx")
    tiny = tmp_path / "dot.png"
    write_raw_png(tiny, np.full((1, 1, 3), 0.5))
    out = tmp_path / "new" / "p.blend"
    capsys.readouterr()
    assert main(["plate", base, "--footage", str(tiny), "--estimate", "--model", model,
                 "--near", "1", "--far", "9", "--out", str(out)]) == 2
    line = error_line(capsys.readouterr())
    assert ("Footage is 1x1 pixels: Blender renders at least 4x4, so a plate needs footage "
            "that size or larger") in line, line
    assert not (tmp_path / "new").exists()


# --- 8, 9. render -----------------------------------------------------------------------------

def test_render_without_a_blend_is_refused(empty_scene, tmp_path, capsys):
    """With no file, Blender's factory startup scene (the cube) rendered with exit 0."""
    bpy.ops.wm.read_homefile(use_factory_startup=True)
    assert bpy.data.filepath == "" and bpy.context.scene.camera is not None
    out = tmp_path / "frames"
    assert main(["render", "--out", str(out), "--frames", "1", "--resolution", "32x18"]) == 2
    assert ("render needs a .blend file: rackfocus render FILE.blend --out DIR"
            in error_line(capsys.readouterr()))
    assert not out.exists()


def test_render_json_is_one_object_on_stdout(shot, tmp_path, capfd):
    """Blender prints 'Saved: ...' and 'Video append frame N' on the process's stdout."""
    out = tmp_path / "frames"
    capfd.readouterr()
    assert main(["render", shot, "--out", str(out), "--frames", "1-2", "--resolution", "32x18",
                 "--engine", "workbench", "--movie", "--json", "--quiet"]) == 0
    data = json.loads(capfd.readouterr().out)
    assert data["frames"] == [1, 2] and os.path.isfile(data["movie"])
    assert sorted(os.listdir(out)) == ["frame_0001.png", "frame_0002.png", "pull.mp4"]
    assert snapshot(out)  # files, not empty
