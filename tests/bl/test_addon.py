"""The extension registers, unregisters and registers again cleanly; its operators run."""

import bpy
import pytest

from conftest import load_addon
from helpers import two_subject_scene


def test_register_unregister_register(empty_scene):
    module = load_addon()
    for _ in range(2):
        module.register()
        assert hasattr(bpy.types.Scene, "rackfocus")
        assert "RACKFOCUS_PT_main" in dir(bpy.types)
        module.unregister()
        assert not hasattr(bpy.types.Scene, "rackfocus")
        assert "RACKFOCUS_PT_main" not in dir(bpy.types)


def test_operators_pull_and_clear(addon, empty_scene):
    cam = two_subject_scene(empty_scene)
    settings = empty_scene.rackfocus
    for name, frame in (("Near", 1), ("Far", 20)):
        item = settings.marks.add()
        item.subject, item.frame = empty_scene.objects[name], frame
    settings.mode = "bake"
    assert bpy.ops.rackfocus.create_pull() == {"FINISHED"}
    assert cam.data.dof.use_dof
    assert bpy.ops.rackfocus.clear_pull() == {"FINISHED"}
    assert "rackfocus_pull" not in cam.data


def test_operator_reports_bad_input(addon, empty_scene):
    two_subject_scene(empty_scene)
    item = empty_scene.rackfocus.marks.add()
    item.subject, item.frame = empty_scene.objects["Near"], 5
    item = empty_scene.rackfocus.marks.add()
    item.subject, item.frame = empty_scene.objects["Far"], 5
    with pytest.raises(RuntimeError, match="Two marks on frame 5"):
        bpy.ops.rackfocus.create_pull()
