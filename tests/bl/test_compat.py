"""The compat module on this Blender: engine ids, outputs, F-curve lookup, node materials."""

import bpy
import pytest

from rackfocus_addon.bl import compat


def test_engine_ids_are_accepted(empty_scene):
    for name in ("cycles", "eevee", "workbench"):
        empty_scene.render.engine = compat.engine_id(name)
        assert empty_scene.render.engine == compat.engine_id(name)
    with pytest.raises(ValueError, match="unknown engine"):
        compat.engine_id("povray")


def test_output_formats(empty_scene):
    compat.set_movie_output(empty_scene)
    assert empty_scene.render.image_settings.file_format == "FFMPEG"
    compat.set_image_output(empty_scene, "OPEN_EXR")
    assert empty_scene.render.image_settings.file_format == "OPEN_EXR"


def test_fcurves_lookup_create_and_remove(empty_scene):
    cam = bpy.data.cameras.new("C")
    assert compat.fcurves(cam) == [] and compat.find_fcurve(cam, "lens") is None
    fc = compat.ensure_fcurve(cam, "dof.aperture_fstop", frame=3)
    assert compat.find_fcurve(cam, "dof.aperture_fstop") == fc
    obj = bpy.data.objects.new("O", None)
    loc_y = compat.ensure_fcurve(obj, "location", 1)
    assert (loc_y.data_path, loc_y.array_index) == ("location", 1)
    compat.remove_fcurve(cam, fc)
    assert compat.fcurves(cam) == []
    assert compat.find_fcurve(obj, "location", 1) is not None


def test_linked_flag_and_material(empty_scene):
    assert not compat.is_linked(bpy.data.objects.new("Local", None))
    mat = compat.new_node_material("M")
    assert mat.node_tree is not None and len(mat.node_tree.nodes) >= 1
