"""The light plate (full density only where depth changes): fewer faces, the footage back with
DOF off, no holes at any focus (the world never shows through more than through the uniform
grid), and torn at depth edges."""

from __future__ import annotations

import os

import bpy
import numpy as np
import oracles
import pytest

from helpers import cg_plate_still, evaluated_plate, real_like_still
from rackfocus_addon import plate_mesh
from rackfocus_addon.bl import compat, demo_plate, footage, plate
from rackfocus_addon.plate_request import PlateRequest

W, H = 96, 54


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    return cg_plate_still(str(tmp_path_factory.mktemp("shot")), W, H)


@pytest.fixture(scope="module")
def real_like(tmp_path_factory):
    return real_like_still(str(tmp_path_factory.mktemp("real_like")), 192, 128)


def _layers(scene, result):
    """The plate and its fill, their viewport (where the tests read their meshes) at the full
    density: a uniform grid there is the one rendered too."""
    layers = [scene.objects[result.plate], scene.objects[result.fill]]
    for obj in layers:
        plate.set_plate_input(obj, "Viewport Density", 1.0)
    return layers


def _adaptive(layers, on: bool) -> None:
    for obj in layers:
        plate.set_plate_input(obj, "Adaptive", on)
    bpy.context.view_layer.update()


def _render(scene, path):
    demo_plate.render_still(scene, path, "OPEN_EXR")
    return footage.read_pixels(path, data=True)[0][..., :3]


def test_light_plate_is_lighter_and_returns_the_footage(empty_scene, shot, tmp_path):
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    layers = _layers(scene, result)
    bpy.context.view_layer.update()
    light = [len(evaluated_plate(o)[2]) for o in layers]
    for obj in layers:
        plate.set_plate_input(obj, "Viewport Density", 1.0)  # the uniform grid as rendered
    _adaptive(layers, False)
    uniform = [len(evaluated_plate(o)[2]) for o in layers]
    _adaptive(layers, True)
    print(f"faces (plate, fill): light {light}, uniform {uniform}")
    assert light[0] < 0.6 * uniform[0] and light[1] <= uniform[1]
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 2
    scene.cycles.use_denoising = False
    scene.camera.data.dof.use_dof = False
    demo_plate.render_still(scene, str(tmp_path / "rt.png"), "PNG")
    out = footage.read_pixels(str(tmp_path / "rt.png"), data=True)[0][..., :3]
    assert oracles.psnr(out, footage.read_pixels(shot[0], data=True)[0][..., :3]) >= 45.0


def _world_probe(scene):
    """The world's background colour socket (a probe world: green, then magenta)."""
    world = compat.new_node_world("Probe")
    scene.world = world
    return world.node_tree.nodes["Background"].inputs["Color"]


def _world_seen(scene, background, path):
    """Per pixel, the share of its lens samples that saw the world (same seed, two worlds)."""
    shots = []
    for colour in ((0.0, 1.0, 0.0, 1.0), (1.0, 0.0, 1.0, 1.0)):
        background.default_value = colour
        shots.append(_render(scene, path))
    return np.abs(shots[0] - shots[1]).mean(axis=-1), shots[0]


def test_light_plate_on_real_like_footage(empty_scene, real_like, tmp_path):
    """Footage as a real shot gives it (fences, foliage, spokes, wires, 7 % unmeasured depth):
    the light plate has a fraction of the uniform grid's faces, returns the footage with DOF
    off, lets the world through nowhere more than the uniform grid at any focus, and renders
    the uniform grid's picture with DOF on."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(*real_like, cache_dir=str(tmp_path)))
    layers = _layers(scene, result)
    light = sum(len(evaluated_plate(o)[2]) for o in layers)
    _adaptive(layers, False)
    uniform = sum(len(evaluated_plate(o)[2]) for o in layers)
    _adaptive(layers, True)
    print(f"faces (both layers): light {light}, uniform {uniform}")
    assert light < 0.35 * uniform
    background = _world_probe(scene)
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    cam = scene.camera.data
    cam.dof.use_dof = False
    demo_plate.render_still(scene, str(tmp_path / "off.png"), "PNG")  # 8-bit, as the footage
    out = footage.read_pixels(str(tmp_path / "off.png"), data=True)[0][..., :3]
    source = footage.read_pixels(real_like[0], data=True)[0][..., :3]
    assert oracles.psnr(out, source) >= 50.0
    cam.dof.use_dof, cam.dof.aperture_fstop = True, 1.4
    inner = (slice(4, -4), slice(4, -4))  # away from the frame's border
    for focus in (1.0, 4.0, 30.0):
        cam.dof.focus_distance = focus
        seen, pictures = {}, {}
        for adaptive in (True, False):
            _adaptive(layers, adaptive)
            seen[adaptive], pictures[adaptive] = _world_seen(
                scene, background, str(tmp_path / f"r{focus}_{adaptive}.exr"))
        match = oracles.psnr(pictures[True], pictures[False])
        print(f"focus {focus}: world seen, light {seen[True].sum():.3f}, uniform "
              f"{seen[False].sum():.3f}; light against uniform {match:.1f} dB")
        assert seen[True][inner].max() <= seen[False][inner].max() + 1e-6, focus
        assert match >= 35.0, focus


def test_light_plate_has_no_holes_at_any_focus(empty_scene, shot, tmp_path):
    """The world is rendered green, then magenta, with the same seed: a pixel differs by the
    share of its lens samples that saw the world. The light plate lets it through nowhere more
    than the uniform grid does (at the frame's border a wide aperture looks past both)."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    layers = _layers(scene, result)
    world = compat.new_node_world("Probe")
    scene.world = world
    background = world.node_tree.nodes["Background"].inputs["Color"]
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    cam = scene.camera.data
    cam.dof.use_dof, cam.dof.aperture_fstop = True, 1.0
    for focus in (1.0, 2.2, 3.5, 8.0, 50.0):
        cam.dof.focus_distance = focus
        seen = {}
        for adaptive in (True, False):
            _adaptive(layers, adaptive)
            shots = []
            for colour in ((0.0, 1.0, 0.0, 1.0), (1.0, 0.0, 1.0, 1.0)):
                background.default_value = colour
                shots.append(_render(scene, str(tmp_path / f"w{focus}_{adaptive}.exr")))
            seen[adaptive] = np.abs(shots[0] - shots[1]).mean(axis=-1)  # world share
        inner = (slice(4, -4), slice(4, -4))  # away from the frame's border
        print(f"focus {focus}: world seen, light {seen[True].sum():.3f} "
              f"(inner max {seen[True][inner].max():.3f}), uniform {seen[False].sum():.3f}")
        assert seen[True][inner].max() <= seen[False][inner].max() + 1e-6, focus
        assert seen[True].sum() <= seen[False].sum() + 0.07, focus


def test_light_plate_tears_at_depth_edges_and_lies_on_camera_rays(empty_scene, shot, tmp_path):
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    bpy.context.view_layer.update()
    co, uv, faces = evaluated_plate(_layers(scene, result)[0])
    depth = -co[:, 2]
    # Every vertex on its camera ray (the camera sees exactly the frame).
    np.testing.assert_allclose(co[:, 0] / depth * 50.0 / 36.0 + 0.5, uv[:, 0], atol=1e-5)
    np.testing.assert_allclose(co[:, 1] / depth * 50.0 * W / (36.0 * H) + 0.5, uv[:, 1],
                               atol=1e-5)
    # Torn: no face spans the box (about 2.2 m) and the wall (8 m) ...
    span = depth[faces].max(axis=1) / depth[faces].min(axis=1)
    assert span.max() < 1.5
    # ... and the edge has two vertices at the same place in the picture, one on each side.
    key = np.round(uv[:, :2] * [W, H]).astype(int)
    order = np.lexsort((depth, key[:, 1], key[:, 0]))
    same = (key[order][1:] == key[order][:-1]).all(axis=1)
    ratio = depth[order][1:][same] / depth[order][:-1][same]
    assert (ratio > 2.5).sum() > 20
    # Flat regions with few large faces: most of the picture is in blocks of 2-8 px.
    size = np.ptp(uv[faces][:, :, 0], axis=1) * W
    area = size ** 2
    assert size.max() > 7.9 and area[size > 1.5].sum() > 0.6 * area.sum()


def test_mesh_image_only_where_the_light_plate_reads_it(empty_scene, shot, tmp_path):
    """The mesh image is cached (and computed) only at the light plate's density: a uniform
    grid never reads it, and the plate there still has every face of its grid."""
    scene = empty_scene
    light = plate.import_plate(scene, PlateRequest(shot[0], shot[1],
                                                   cache_dir=str(tmp_path / "light")))
    assert sorted(os.listdir(light.cache_dir)).count("mesh_0001.exr") == 1
    uniform = plate.import_plate(scene, PlateRequest(shot[0], shot[1], density=0.5,
                                                     cache_dir=str(tmp_path / "uniform")))
    files = os.listdir(uniform.cache_dir)
    assert "depth_0001.exr" in files and not [f for f in files if f.startswith("mesh_")]
    bpy.context.view_layer.update()
    margin = plate_mesh.default_fill_px(W)  # the grid spans the frame and this margin
    want = plate_mesh.plate_stats(W + 2 * margin, H + 2 * margin, 0.5)["faces"]
    assert len(evaluated_plate(scene.objects[uniform.plate])[2]) == want


def test_viewport_shows_the_light_plate_as_rendered(empty_scene, shot, tmp_path):
    """A viewport (which a file opened for a render evaluates too) shows the light plate, as
    rendered and lighter than the uniform grid at its viewport density; a uniform grid is
    thinned to the viewport density there."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot[0], shot[1], cache_dir=str(tmp_path)))
    obj = scene.objects[result.plate]
    bpy.context.view_layer.update()
    margin = plate_mesh.default_fill_px(W)
    grid = plate_mesh.plate_stats(W + 2 * margin, H + 2 * margin, plate.DEFAULT_VIEWPORT_DENSITY)
    light = len(evaluated_plate(obj)[2])
    assert light == len(evaluated_plate(_layers(scene, result)[0])[2]) < grid["faces"]
    plate.set_plate_input(obj, "Viewport Density", plate.DEFAULT_VIEWPORT_DENSITY)
    _adaptive([obj], False)
    assert len(evaluated_plate(obj)[2]) == grid["faces"]


def test_a_file_with_an_older_plate_group_gets_one_new_group(empty_scene, shot, tmp_path):
    """Plates of an older version keep their node group (and its cache format); importing
    again and again adds one group of this version, not one per import."""
    old = bpy.data.node_groups.new(plate.GROUP_NAME, "GeometryNodeTree")
    old["rf_version"] = plate.GROUP_VERSION - 1
    for i in range(3):
        plate.import_plate(empty_scene, PlateRequest(shot[0], shot[1],
                                                     cache_dir=str(tmp_path / str(i))))
    groups = [g for g in bpy.data.node_groups if g.name.startswith(plate.GROUP_NAME)]
    assert sorted(g.get("rf_version") for g in groups) == [plate.GROUP_VERSION - 1,
                                                           plate.GROUP_VERSION]
    assert old.name == plate.GROUP_NAME and len(old.nodes) == 0
