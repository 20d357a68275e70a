"""The physical outcome: a rendered pull makes the marked subject sharp and the other soft."""

import math

import bpy
import numpy as np
import pytest
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

from helpers import create_pull, laplacian_variance, render_to_array
from rackfocus_addon.bl import render
from rackfocus_addon.bl.demo import checker_material, mesh_object
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import parse_mark


def _scene(scene):
    cam_data = bpy.data.cameras.new("Cam")
    cam_data.lens = 85.0
    cam_data.dof.aperture_fstop = 1.0
    cam = bpy.data.objects.new("Cam", cam_data)
    cam.rotation_euler = (math.pi / 2, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    near = mesh_object(scene, "Near", "plane", (-0.14, 1.5, 0.0), 0.1)
    far = mesh_object(scene, "Far", "plane", (0.65, 7.0, 0.0), 0.45)
    for obj in (near, far):
        obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
        mat = checker_material(obj.name, ((0, 0, 0), (1, 1, 1)), 4.0)
        emit = mat.node_tree.nodes.new("ShaderNodeEmission")
        out = next(n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeOutputMaterial")
        mat.node_tree.links.new(mat.node_tree.nodes["Checker Texture"].outputs["Color"],
                                emit.inputs["Color"])
        mat.node_tree.links.new(emit.outputs["Emission"], out.inputs["Surface"])
        obj.data.materials.append(mat)
    scene.frame_start, scene.frame_end = 1, 30
    render.configure(scene, "cycles", 16, (96, 54))
    scene.view_settings.view_transform = "Standard"
    bpy.context.view_layer.update()
    return cam


def _box(scene, cam, obj):
    """Pixel box (rows, cols) of an object's bounds, shrunk to stay inside its silhouette."""
    pts = [world_to_camera_view(scene, cam, obj.matrix_world @ Vector(c)) for c in obj.bound_box]
    w, h = scene.render.resolution_x, scene.render.resolution_y
    x0, x1 = min(p.x for p in pts) * w, max(p.x for p in pts) * w
    y0, y1 = (1 - max(p.y for p in pts)) * h, (1 - min(p.y for p in pts)) * h
    mx, my = (x1 - x0) * 0.15, (y1 - y0) * 0.15
    return slice(int(y0 + my), int(y1 - my)), slice(int(x0 + mx), int(x1 - mx))


@pytest.mark.parametrize("mode", ["rig", "bake"])
def test_pull_renders_near_sharp_then_far_sharp(empty_scene, mode):
    cam = _scene(empty_scene)
    create_pull(empty_scene, cam, [parse_mark("Near@1"), parse_mark("Far@30")],
                     Easing("sine", "in-out"), "diopter", mode)
    sharp = {}
    for frame in (1, 30):
        empty_scene.frame_set(frame)
        gray = render_to_array(empty_scene)[..., :3].mean(axis=2)
        sharp[frame] = {
            name: laplacian_variance(gray[_box(empty_scene, cam, empty_scene.objects[name])])
            for name in ("Near", "Far")
        }
    start, end = sharp[1], sharp[30]
    assert start["Near"] > 3.0 * start["Far"], start
    assert end["Far"] > 3.0 * end["Near"], end
    assert start["Near"] > 3.0 * end["Near"] and end["Far"] > 3.0 * start["Far"]
    assert np.isfinite(list(start.values()) + list(end.values())).all()
