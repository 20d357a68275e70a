"""The machine's and Blender's limits (issue 19), in plain Python: frame rates Blender stores,
threads, memory, free disk space, PNG headers, output probes, and the CLI without bpy."""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys

import pytest

from rackfocus_addon import limits
from rackfocus_addon.depth import validate_plate_settings
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import preprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("rate,stored", [
    (24, (24, 1.0)), (25, (25, 1.0)), (1, (1, 1.0)), (1000, (1000, 1.0)),
    (23.976, (24, 1.001)), (29.97, (30, 1.001)), (59.94, (60, 1.001)),
    (100.5, (201, 2.0)), (12.5, (25, 2.0)), (0.5, (1, 2.0)), (12.34, (617, 50.0)),
])
def test_blender_fps_is_a_whole_number_over_a_base(rate, stored):
    fps, base = limits.blender_fps(rate)
    assert (fps, base) == stored
    assert 1 <= fps <= 32767
    assert abs(fps / base / rate - 1) <= 1e-6 or base == 1.001


def test_a_rate_no_fraction_holds_is_refused_with_the_nearest():
    with pytest.raises(RackFocusError, match=r"^Frame rate 997\.123 cannot be stored by Blender "
                                             r"\(a whole number up to 32767 over a base\): "
                                             r"nearest 997\.12 \(24928/25\) or 997\.125 "
                                             r"\(7977/8\)$"):
        limits.blender_fps(997.123)
    assert validate_plate_settings(fps=997.123) == [
        "--fps: Frame rate 997.123 cannot be stored by Blender (a whole number up to 32767 "
        "over a base): nearest 997.12 (24928/25) or 997.125 (7977/8)"]
    assert validate_plate_settings(fps=100.5) == []


def test_threads_are_capped_to_the_cores():
    assert limits.usable_threads(100000, cores=8) == (
        8, "--threads 100000: this machine has 8 cores, using 8")
    assert limits.usable_threads(8, cores=8) == (8, None)
    assert limits.usable_threads(0, cores=8) == (0, None)


def test_memory_is_checked_against_what_is_available():
    limits.check_memory(10**9, "x", "fix", available=2 * 10**9)
    with pytest.raises(RackFocusError, match=r"^A 32000x18000 network input needs about 36\.9 "
                                             r"GB of memory and 16\.0 GB is available: use a "
                                             r"model with a smaller input$"):
        preprocess.check_input_memory(32000, 18000, fixed=True, available=16 * 10**9)
    preprocess.check_input_memory(924, 518, available=16 * 10**9)
    assert limits.available_memory_bytes() > 0


def test_disk_full_says_megabytes_and_the_folder(tmp_path):
    assert str(limits.disk_full_error(1_300_001, "/d")) == "disk full: 2 MB needed in /d"
    assert str(limits.disk_full_error(1, "/d")) == "disk full: 1 MB needed in /d"
    with pytest.raises(RackFocusError, match=f"^disk full: 1000000000 MB needed in {tmp_path}$"):
        limits.check_free_space(10**15, str(tmp_path))
    limits.check_free_space(1, str(tmp_path / "not" / "yet"))  # the nearest existing folder
    assert limits.is_disk_full(OSError(errno.ENOSPC, "full"))
    assert not limits.is_disk_full(OSError(errno.EACCES, "no"))


def test_the_output_probe_creates_and_removes_a_file(tmp_path):
    assert limits.folder_problem(str(tmp_path / "new" / "deeper")) is None
    assert os.listdir(tmp_path) == []
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert limits.folder_problem(str(blocker / "sub")) == f"{blocker} is a file, not a folder"
    if os.path.isdir("/proc/self"):
        assert limits.folder_problem("/proc/rackfocus_x").startswith(
            "files cannot be created in /proc (")


def _png_header(path, width, height):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
                     + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return str(path)


def test_a_png_header_is_read_and_checked_before_decoding(tmp_path, monkeypatch):
    assert limits.png_size(_png_header(tmp_path / "a.png", 640, 360)) == (640, 360)
    limits.check_png(str(tmp_path / "a.png"))
    (tmp_path / "b.png").write_bytes(b"GIF89a not a png")
    assert limits.png_size(str(tmp_path / "b.png")) is None
    limits.check_png(str(tmp_path / "b.png"))  # Blender reads a file by its content
    with pytest.raises(RackFocusError, match="its header says 0x360 pixels"):
        limits.check_png(_png_header(tmp_path / "c.png", 0, 360))
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 10**9)
    with pytest.raises(RackFocusError, match=r"\(20000x20000 pixels\) needs about 6\.4 GB"):
        limits.check_png(_png_header(tmp_path / "d.png", 20000, 20000))


def test_python_dash_m_without_bpy_is_one_line():
    """A Python without Blender's module: one line saying what is missing and how to get it."""
    script = ("import runpy, sys; sys.modules['bpy'] = None; sys.argv = ['rackfocus_addon', "
              "'pull', 'a.blend', '--mark', 'A@1', '--mark', 'B@9', '--out', 'b.blend']; "
              "runpy.run_module('rackfocus_addon', run_name='__main__', alter_sys=True)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "rackfocus: error: this Python has no 'bpy' module (Blender as a Python module): run "
        "scripts/setup_venvs.sh and use .venv/bin/python -m rackfocus_addon, or run "
        "blender -b FILE -c rackfocus"]
    assert done.stdout == ""
