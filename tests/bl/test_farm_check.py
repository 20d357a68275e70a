"""`check`: a pulled file is farm-safe; absolute paths and Python drivers are named."""

import bpy
import pytest

from helpers import two_subject_scene
from rackfocus_addon.cli import main


def test_pulled_file_is_farm_safe(empty_scene, tmp_path, capsys):
    two_subject_scene(empty_scene)
    shot = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=shot)
    out = str(tmp_path / "pulled.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@12", "--out", out]) == 0
    assert main(["check", out]) == 0
    assert "farm-safe" in capsys.readouterr().out


def test_absolute_paths_and_python_drivers_are_reported(empty_scene, tmp_path, capsys):
    cam = two_subject_scene(empty_scene)
    img_path = str(tmp_path / "tex.png")
    img = bpy.data.images.new("tex", 4, 4)
    img.filepath_raw = img_path
    img.file_format = "PNG"
    img.save()
    img.filepath = img_path
    fc = cam.data.driver_add("lens")
    fc.driver.type = "SCRIPTED"
    fc.driver.expression = "__import__('os').getpid() % 50 + 20"
    path = str(tmp_path / "unsafe.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path, relative_remap=False)
    assert main(["check", path]) == 3
    err = capsys.readouterr().err
    assert "image 'tex' uses an absolute path" in err
    assert "runs Python" in err


@pytest.mark.parametrize("argv", [["check", "/nope.blend"]])
def test_missing_file_is_bad_input(argv, capsys):
    assert main(argv) == 2
    assert "No such .blend" in capsys.readouterr().err
