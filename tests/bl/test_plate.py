"""Depth plates in Blender: round trip, ground truth against true DOF, marks, bad input, CLI.

The footage is made here: a small emission-lit CG shot (box at 2.2 m, sphere at 3.5 m, wall at
8 m) rendered all-in-focus with an exact planar depth render, plus true-DOF ground truths.
"""

from __future__ import annotations

import os
import re
import struct
import zlib

import bl_oracles
import bpy
import numpy as np
import oracles
import pytest

from helpers import add_camera, evaluated_plate
from rackfocus_addon import cli, plate_cache, plate_mesh
from rackfocus_addon import depth as depth_maths
from rackfocus_addon.bl import demo_plate, footage, plate, subjects
from rackfocus_addon.bl import pull as pull_engine
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.bl.subjects import resolve_subject
from rackfocus_addon.depth import Anchor
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.marks import Mark, SubjectRef
from rackfocus_addon.plate_request import PlateRequest
from rackfocus_addon.request import PullRequest

W, H = 96, 54
FSTOP = 1.4
BOX_FOCUS = 2.2


def write_png16(path: str, values: np.ndarray) -> None:
    """A 16-bit greyscale PNG of ``values`` in [0, 1] (top row first), written by hand."""
    data = np.clip(np.rint(values * 65535), 0, 65535).astype(">u2")
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(data.shape[0]))

    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", data.shape[1], data.shape[0], 16, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def file_values(path: str) -> np.ndarray:
    """The stored 8-bit values of a PNG as floats in [0, 1] (no colour transform), RGB."""
    return footage.read_pixels(path, data=True)[0][..., :3]


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """Footage (still and 3-frame sequence), depth, and true-DOF ground truth at the box."""
    root = str(tmp_path_factory.mktemp("shot"))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    demo_plate.build_cg_scene(scene, W, H, frames=1)
    still_colors, still_depths = demo_plate.render_footage(scene, os.path.join(root, "still"))
    truth = bl_oracles.render_truth(scene, os.path.join(root, "truth.png"), BOX_FOCUS, FSTOP,
                                    samples=96)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    demo_plate.build_cg_scene(scene, 64, 36, frames=3)
    seq_colors, seq_depths = demo_plate.render_footage(scene, os.path.join(root, "seq"),
                                                       samples=4)
    return {"root": root, "color": still_colors[0], "depth": still_depths[0], "truth": truth,
            "seq_color": seq_colors, "seq_depth": seq_depths}


def cycles(scene, samples=2):
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.cycles.samples = samples


def render(scene, path):
    demo_plate.render_still(scene, path, "PNG")
    return path


def test_round_trip_returns_the_source_pixels(empty_scene, shot, tmp_path):
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"],
                                                    cache_dir=str(tmp_path)))
    assert (scene.render.resolution_x, scene.render.resolution_y) == (W, H)
    assert scene.frame_start == scene.frame_end
    assert scene.camera.name == result.camera and scene.camera.data.lens == 50.0
    cycles(scene, samples=4)
    scene.camera.data.dof.use_dof = False
    out = file_values(render(scene, str(tmp_path / "rt.png")))
    src = file_values(shot["color"])
    assert oracles.psnr(out, src) >= 45.0
    # The fill layer does not show without DOF, and it is really there: faces only behind the
    # foreground edges (within the fill radius of a depth edge, none in flat regions), showing
    # the cached fill image.
    fill = scene.objects[result.fill]
    bpy.context.view_layer.update()
    centres = face_pixels(fill)
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    radius = plate_mesh.default_fill_px(W)
    band = plate_mesh.edge_band(z, radius + 1)
    assert len(centres) > 20
    assert band[centres[:, 1], centres[:, 0]].all()
    assert band.mean() < 0.6 and len(centres) < 0.5 * band.sum()
    image = fill.material_slots[0].material.node_tree.nodes["Image Texture"].image
    assert os.path.samefile(bpy.path.abspath(image.filepath),
                            os.path.join(result.cache_dir, "fill_0001.exr"))


def face_pixels(obj) -> np.ndarray:
    """(column, row) of the footage pixel under each evaluated face's centre (top-left origin)."""
    _, uv, faces = evaluated_plate(obj)
    centre = uv[faces].mean(axis=1)
    cols = np.clip(np.floor(centre[:, 0] * W), 0, W - 1).astype(int)
    rows = np.clip(np.floor((1.0 - centre[:, 1]) * H), 0, H - 1).astype(int)
    return np.stack([cols, rows], axis=1)


@pytest.mark.parametrize("fit, portrait", [("VERTICAL", False), ("AUTO", True)])
def test_the_camera_keeps_its_sensor_fit_and_sees_exactly_the_footage(empty_scene, shot,
                                                                      tmp_path, fit, portrait):
    """A camera whose sensor fit frames by height (VERTICAL, or AUTO on portrait footage) keeps
    it: the plate sets the size that fit uses, says so, and still returns the source pixels."""
    scene = empty_scene
    color, depth = shot["color"], shot["depth"]
    if portrait:  # the same shot turned on its side: 54x96
        px = footage.read_pixels(color, data=True)[0].transpose(1, 0, 2)
        img = bpy.data.images.new("portrait", px.shape[1], px.shape[0])
        img.pixels.foreach_set(np.ascontiguousarray(px[::-1]).ravel())
        img.filepath_raw = color = str(tmp_path / "portrait.png")
        img.file_format = "PNG"
        img.save()
        bpy.data.images.remove(img)
        zt = footage.read_pixels(depth, data=True)[0].transpose(1, 0, 2)
        footage.write_exr(depth := str(tmp_path / "portrait.exr"), np.ascontiguousarray(zt))
    cam = add_camera(scene, lens=35.0)
    cam.data.sensor_fit = fit
    result = plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(tmp_path)))
    assert cam.data.sensor_fit == fit
    changed = " ".join(w for w in result.warnings if "Camera 'Cam'" in w)
    assert "focal length 35 -> 50 mm" in changed
    assert ("sensor height 24 -> 20.25 mm" if fit == "VERTICAL" else
            "sensor size 36 -> 64 mm") in changed, result.warnings
    cycles(scene, samples=2)
    cam.data.dof.use_dof = False
    out = file_values(render(scene, str(tmp_path / "fit.png")))
    assert oracles.psnr(out, file_values(color)) >= 45.0


def test_solid_view_texture_colour_shows_the_footage(empty_scene, shot, tmp_path):
    """In the Solid view (Workbench) with Texture colour the plate is the shot, not a grey
    wall: it carries a UV map and its material's active node is the footage image."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"],
                                                    cache_dir=str(tmp_path)))
    obj = scene.objects[result.plate]
    bpy.context.view_layer.update()
    mesh = obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    assert plate.UV_MAP in mesh.uv_layers
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.view_settings.view_transform = "Standard"
    shading = scene.display.shading
    shading.light = "FLAT"
    shading.show_object_outline = False
    scene.display.render_aa = "OFF"  # its jittered samples would blur the footage's pixels
    src = file_values(shot["color"])
    found = {}
    for colour in ("TEXTURE", "MATERIAL"):
        shading.color_type = colour
        found[colour] = oracles.psnr(file_values(render(scene, str(tmp_path / f"{colour}.png"))),
                                     src)
    print(f"Solid view against the footage: {found}")
    assert found["TEXTURE"] >= 30.0, found
    assert found["MATERIAL"] < 20.0, found  # the flat wall it replaces: the check can fail


def test_eevee_round_trip_and_pull(empty_scene, shot, tmp_path):
    """EEVEE (software EGL here; its first render compiles shaders for about a minute)."""
    from rackfocus_addon.bl import compat

    scene = empty_scene
    plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"], cache_dir=str(tmp_path)))
    scene.render.engine = compat.eevee_engine_id()
    scene.eevee.taa_render_samples = 16
    cam = scene.camera
    cam.data.dof.use_dof = False
    out = file_values(render(scene, str(tmp_path / "eevee_rt.png")))
    rt = oracles.psnr(out, file_values(shot["color"]))
    print(f"EEVEE round trip: {rt:.1f} dB")
    assert rt >= 40.0
    # Focus on the box, then on the wall: each is sharper where it is focused.
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    near, far = z < 3.0, z > 7.0
    cam.data.dof.use_dof = True
    cam.data.dof.aperture_fstop = FSTOP
    src = file_values(shot["color"])
    err = {}
    for focus in (BOX_FOCUS, 8.0):
        cam.data.dof.focus_distance = focus
        img = file_values(render(scene, str(tmp_path / f"eevee_{focus}.png")))
        err[focus] = (oracles.psnr(img, src, near), oracles.psnr(img, src, far))
    assert err[BOX_FOCUS][0] > err[8.0][0] + 3.0, err  # the box is sharp when focused on it
    assert err[8.0][1] > err[BOX_FOCUS][1] + 3.0, err  # the wall is sharp when focused on it


def test_plate_geometry_lies_on_camera_rays_and_tears_at_edges(empty_scene, shot, tmp_path):
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"],
                                                    cache_dir=str(tmp_path),
                                                    fill_px=3, density=2.0))
    bpy.context.view_layer.update()
    obj = scene.objects[result.plate]
    # The viewport shows a lighter grid (0.5 vertices per pixel); renders use the full density.
    light = len(evaluated_plate(obj)[2])
    nx, ny = plate_mesh.grid_size(W + 6, H + 6, 0.5)
    assert light == (nx - 1) * (ny - 1)
    plate.set_plate_input(obj, "Viewport Density", 2.0)
    bpy.context.view_layer.update()
    co, uv, faces = evaluated_plate(obj)
    faces = len(faces)
    margin = 3 / W, 3 / H
    nx, ny = plate_mesh.grid_size(W + 6, H + 6, 2.0)
    assert faces == (nx - 1) * (ny - 1)
    assert len(co) > nx * ny  # torn along depth edges: split vertices
    # Every vertex projects to its texture coordinate (the camera sees exactly the frame).
    u = co[:, 0] / -co[:, 2] * 50.0 / 36.0 + 0.5
    v = co[:, 1] / -co[:, 2] * 50.0 * W / (36.0 * H) + 0.5
    np.testing.assert_allclose(u, uv[:, 0], atol=1e-5)
    np.testing.assert_allclose(v, uv[:, 1], atol=1e-5)
    assert uv[:, 0].min() == pytest.approx(-margin[0]) and uv[:, 1].max() == pytest.approx(
        1 + margin[1])
    # Pixel-centre vertices sit exactly at their pixel's depth.
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    i = np.rint(uv[:, 0] * 2 * W).astype(int)
    j = np.rint(uv[:, 1] * 2 * H).astype(int)
    centre = (i % 2 == 1) & (j % 2 == 1) & (i > 0) & (i < 2 * W) & (j > 0) & (j < 2 * H)
    np.testing.assert_allclose(-co[centre, 2], z[H - 1 - j[centre] // 2, i[centre] // 2],
                               rtol=1e-5)
    # The fill layer only exists behind foreground edges, at background depth.
    fco, _, ffaces = evaluated_plate(scene.objects[result.fill])
    ffaces = len(ffaces)
    assert 0 < ffaces < faces // 4
    assert -fco[:, 2].min() > 3.0


def test_sequence_follows_the_footage_frame_by_frame(empty_scene, shot, tmp_path):
    scene = empty_scene
    scene.frame_start = 101
    plate.import_plate(scene, PlateRequest(shot["seq_color"][0], shot["seq_depth"][0],
                                           cache_dir=str(tmp_path), fps=25))
    assert (scene.frame_start, scene.frame_end) == (101, 103)
    assert scene.render.fps == 25 and (scene.render.resolution_x, scene.render.resolution_y) == (
        64, 36)
    cycles(scene, samples=1)
    scene.camera.data.dof.use_dof = False
    for k, frame in enumerate((101, 103)):
        scene.frame_set(frame)
        out = file_values(render(scene, str(tmp_path / f"f{frame}.png")))
        index = 0 if k == 0 else 2
        assert oracles.psnr(out, file_values(shot["seq_color"][index])) >= 45.0
        other = file_values(shot["seq_color"][2 - index])
        assert oracles.psnr(out, other) < 35.0


def test_plate_beats_the_defocus_node_against_true_dof(empty_scene, shot, tmp_path):
    scene = empty_scene
    plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"], cache_dir=str(tmp_path)))
    cycles(scene, samples=96)
    cam = scene.camera
    cam.data.dof.use_dof = True
    cam.data.dof.focus_distance = BOX_FOCUS
    cam.data.dof.aperture_fstop = FSTOP
    ours = footage.read_pixels(render(scene, str(tmp_path / "plate.png")))[0][..., :3]
    baseline = bl_oracles.defocus_node(scene, shot["color"], shot["depth"],
                                       str(tmp_path / "defocus.png"), BOX_FOCUS, FSTOP)[..., :3]
    truth = shot["truth"][..., :3]
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    band = plate_mesh.edge_band(z, 3)
    plate_band = oracles.psnr(ours, truth, band)
    defocus_band = oracles.psnr(baseline, truth, band)
    print(f"edge band PSNR: plate {plate_band:.2f} dB, Defocus node {defocus_band:.2f} dB")
    assert plate_band > defocus_band + 1.0, (plate_band, defocus_band)
    assert oracles.psnr(ours, truth) > 26.0
    assert oracles.ssim(ours, truth, band) > oracles.ssim(baseline, truth, band)


def test_compositor_tree_and_output(empty_scene):
    """The Defocus oracle's compositor access (the one version switch outside compat)."""
    assert bl_oracles.compositor_tree(empty_scene, create=False) is None
    tree = bl_oracles.compositor_tree(empty_scene)
    assert tree is not None and bl_oracles.compositor_tree(empty_scene) == tree
    out = bl_oracles.compositor_output(tree)
    assert out.bl_idname in {"NodeGroupOutput", "CompositorNodeComposite"}
    assert bl_oracles.compositor_output(tree) == out


def test_pixel_marks_focus_on_the_footage(empty_scene, shot, tmp_path):
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"],
                                                    cache_dir=str(tmp_path)))
    cam = scene.objects[result.camera]
    cam.location = (1.0, -2.0, 0.5)  # the plate follows its camera
    bpy.context.view_layer.update()
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    box_px, wall_px = (int(W * 0.30), int(H * 0.60)), (5, 5)
    assert z[box_px[1], box_px[0]] < 2.6 and z[wall_px[1], wall_px[0]] == pytest.approx(8.0)
    scene.frame_end = 20
    marks = [Mark(SubjectRef("pixel", coords=box_px), frame=1),
             Mark(SubjectRef("pixel", coords=wall_px), frame=20)]
    pull = pull_engine.write_pull(scene, cam, PullRequest(tuple(marks), mode="bake"))
    assert pull.mark_distances_m[0] == pytest.approx(z[box_px[1], box_px[0]], rel=1e-5)
    assert pull.mark_distances_m[1] == pytest.approx(8.0, rel=1e-5)
    scene.frame_set(1)
    assert cam.data.dof.focus_distance == pytest.approx(pull.mark_distances_m[0], rel=1e-4)
    scene.frame_set(20)
    assert cam.data.dof.focus_distance == pytest.approx(8.0, rel=1e-4)
    # The point lies on the plate: where the camera ray through the pixel meets it.
    subject = resolve_subject(scene, cam, SubjectRef("pixel", coords=wall_px))
    local = np.linalg.inv(np.array(cam.matrix_world)) @ np.append(subject.position(), 1.0)
    u, v = plate_mesh.project(local[:3], W, H, 36.0, 50.0)
    assert (u * W - 0.5, (1 - v) * H - 0.5) == pytest.approx(wall_px)
    with pytest.raises(RackFocusError, match="outside"):
        resolve_subject(scene, cam, SubjectRef("pixel", coords=(W + 5, 1)))


def test_rig_pixel_marks_follow_a_moving_camera_and_a_sequence(empty_scene, shot, tmp_path):
    """Rig mode: the pixel's empty rides on the camera and its depth is keyed per frame."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["seq_color"][0], shot["seq_depth"][0],
                                                    cache_dir=str(tmp_path)))
    cam = scene.objects[result.camera]
    for frame, y in ((scene.frame_start, -1.0), (scene.frame_end, 1.5)):
        cam.location = (0.3, y, 0.2)
        cam.keyframe_insert("location", frame=frame)
    px = (19, 21)
    marks = [Mark(SubjectRef("pixel", coords=px), frame=scene.frame_start),
             Mark(SubjectRef("pixel", coords=(3, 3)), frame=scene.frame_end)]
    pull_engine.write_pull(scene, cam, PullRequest(tuple(marks), mode="rig"))
    subject = resolve_subject(scene, cam, SubjectRef("pixel", coords=px))
    for frame in (scene.frame_start, scene.frame_end):
        scene.frame_set(frame)
        depth = -(np.linalg.inv(np.array(cam.matrix_world)) @ np.append(subject.position(), 1))[2]
        want = depth if frame == scene.frame_start else 8.0
        assert effective_focus_m(scene, cam, frame) == pytest.approx(want, rel=1e-4)


def test_pixel_depth_is_read_once_a_frame_and_few_frames_are_kept(empty_scene, shot, tmp_path,
                                                                 monkeypatch):
    """A pull walks a pixel's depth through the clip twice (keys, then focus): each cache file
    is read once, the values are the file's, and only ``KEEP_FRAMES`` frames' planes stay in
    memory, so a long clip does not grow it (it kept every frame: 20 MB a 1080p frame)."""
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(shot["seq_color"][0], shot["seq_depth"][0],
                                                    cache_dir=str(tmp_path)))
    cam = scene.objects[result.camera]
    reads = []
    real = footage.read_pixels

    def counted(path, **kwargs):
        reads.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(footage, "read_pixels", counted)
    subject = resolve_subject(scene, cam, SubjectRef("pixel", coords=(19, 21)))
    reader = subject.reader
    frames = list(range(scene.frame_start, scene.frame_end + 1))
    first = [subject.camera_local(f) for f in frames]
    again = [subject.camera_local(f) for f in reversed(frames)][::-1]
    assert len(frames) == 3 and len(reads) == len(set(reads)) == 3, reads
    assert len(reader._cache) == subjects.DepthReader.KEEP_FRAMES == 2
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    # Two marks on the plate, each walked through the clip: still one read a frame.
    reads.clear()
    pair = subjects.resolve_subjects(scene, cam, [SubjectRef("pixel", coords=(19, 21)),
                                                  SubjectRef("pixel", coords=(3, 3))])
    walked = [[s.camera_local(f) for f in frames] for s in pair]
    assert len(reads) == 3, reads
    assert all(np.array_equal(a, b) for a, b in zip(walked[0], first))
    monkeypatch.undo()
    for frame in frames:
        px, _ = footage.read_pixels(reader.file_for(frame), data=True)
        assert reader.depth_at(frame, 19, 21) == float(px[21, 19, 0])
        assert reader.measured_at(frame, 19, 21) == (px[21, 19, 2] < 0.5)


def test_pixel_marks_without_a_plate_say_why(empty_scene):
    cam = add_camera(empty_scene)
    with pytest.raises(RackFocusError, match="depth plate"):
        resolve_subject(empty_scene, cam, SubjectRef("pixel", coords=(1, 1)))


def _nothing_imported(scene, resolution):
    assert len(bpy.data.objects) == 0
    assert len(bpy.data.images) == 0
    assert plate.GROUP_NAME not in bpy.data.node_groups
    assert (scene.render.resolution_x, scene.render.resolution_y) == resolution


def test_bad_input_is_refused_with_nothing_imported(empty_scene, shot, tmp_path):
    scene = empty_scene
    before = (scene.render.resolution_x, scene.render.resolution_y)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png at all")
    flat = np.full((H, W, 4), 3.0, dtype=np.float32)
    footage.write_exr(str(tmp_path / "wide.exr"), np.full((H, W + 30, 4), 3.0, np.float32))
    nan = flat.copy()
    nan[..., 0] = np.nan
    footage.write_exr(str(tmp_path / "nan.exr"), nan)
    cases = [
        (shot["color"], shot["seq_depth"][0], "frame"),  # 1 footage frame, 3 depth frames
        (shot["color"], str(tmp_path / "wide.exr"), "aspect"),
        (shot["color"], str(junk), "Cannot read"),
        (shot["color"], str(tmp_path / "missing.exr"), "No such file"),
        (shot["color"], str(tmp_path / "nan.exr"), "no valid pixel"),
    ]
    for color, depth, message in cases:
        with pytest.raises(RackFocusError, match=message):
            plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(tmp_path / "cache")))
        _nothing_imported(scene, before)
        assert not (tmp_path / "cache").exists()  # nothing left on disk either
    with pytest.raises(RackFocusError, match="Save the .blend"):
        plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"]))
    with pytest.raises(RackFocusError, match="--near"):
        plate.import_plate(scene, PlateRequest(shot["color"], shot["depth"], "normalized",
                                               cache_dir=str(tmp_path)))
    _nothing_imported(scene, before)


def test_invalid_depth_is_masked_and_8bit_depth_warns(empty_scene, shot, tmp_path):
    scene = empty_scene
    z = footage.read_pixels(shot["depth"], data=True)[0]
    z[5:9, 5:9, 0] = np.nan
    z[20, 20, 0] = -1.0
    z[21, 21, 0] = 0.0
    footage.write_exr(str(tmp_path / "holes.exr"), z)
    result = plate.import_plate(scene, PlateRequest(shot["color"], str(tmp_path / "holes.exr"),
                                                    cache_dir=str(tmp_path / "c1")))
    assert result.report.invalid == 18
    assert any("masked" in w for w in result.warnings)
    cached = footage.read_pixels(os.path.join(result.cache_dir, "depth_0001.exr"), True)[0]
    assert np.isfinite(cached[..., 0]).all() and cached[..., 0].min() > 1.0
    # 8-bit normalized depth: works, with a banding warning.
    img = bpy.data.images.new("d8", W, H)
    norm = (z[..., 0] - 1.5) / 7.0
    px = np.ones((H, W, 4), dtype=np.float32)
    px[..., :3] = np.nan_to_num(norm, nan=0.5)[..., None]
    img.pixels.foreach_set(px[::-1].ravel())
    img.filepath_raw = str(tmp_path / "d8.png")
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)
    result = plate.import_plate(scene, PlateRequest(shot["color"], str(tmp_path / "d8.png"),
                                                    "normalized", near_m=1.5, far_m=8.5,
                                                    cache_dir=str(tmp_path / "c2")))
    assert any("banding" in w for w in result.warnings)
    assert result.report.max_m == pytest.approx(8.0, abs=0.05)


def test_inverse_16bit_png_aligned_by_anchors(empty_scene, shot, tmp_path):
    scene = empty_scene
    z = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    disparity = 0.9 / z - 0.05  # an estimator's relative inverse depth, in [0, 1]
    write_png16(str(tmp_path / "inv.png"), disparity)
    box_px, wall_px, sphere_px = (int(W * 0.30), int(H * 0.60)), (5, 5), (int(W * 0.72), 24)
    anchors = [Anchor(*p, float(z[p[1], p[0]])) for p in (box_px, wall_px, sphere_px)]
    result = plate.import_plate(scene, PlateRequest(shot["color"], str(tmp_path / "inv.png"),
                                                    "inverse", anchors=anchors,
                                                    cache_dir=str(tmp_path)))
    cached = footage.read_pixels(os.path.join(result.cache_dir, "depth_0001.exr"), True)[0]
    # 16 bits of inverse depth: within a few millimetres per metre of the true depth.
    np.testing.assert_allclose(cached[..., 0], z, rtol=3e-3)
    assert result.report.scale > 0 and not result.warnings


def test_cli_plate_then_pull_on_pixels(empty_scene, shot, tmp_path):
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    out = str(tmp_path / "shot" / "plate.blend")
    code = cli.main(["plate", base, "--footage", shot["seq_color"][0], "--depth",
                     shot["seq_depth"][0], "--depth-kind", "metric", "--sensor", "36",
                     "--focal", "50", "--out", out])
    assert code == 0 and os.path.isfile(out)
    # The cache folder is the plate's name and a hash of its inputs (never shared by two shots).
    (folder,) = os.listdir(str(tmp_path / "shot" / "rackfocus_cache"))
    assert re.fullmatch(r"shot_Plate_[0-9a-f]{8}", folder), folder
    assert os.path.isfile(str(tmp_path / "shot" / "rackfocus_cache" / folder / "depth_0003.exr"))
    bpy.ops.wm.open_mainfile(filepath=out)
    paths = [img.filepath for img in bpy.data.images if img.filepath]
    assert len(paths) == 4 and all(p.startswith("//") for p in paths), paths  # farm-safe
    pulled = str(tmp_path / "shot" / "pulled.blend")
    code = cli.main(["pull", out, "--mark", "px:19,21@1", "--mark", "px:3,3@3", "--mode",
                     "bake", "--out", pulled])
    assert code == 0
    bpy.ops.wm.open_mainfile(filepath=pulled)
    scene = bpy.context.scene
    scene.frame_set(3)
    assert scene.camera.data.dof.focus_distance == pytest.approx(8.0, rel=1e-3)
    scene.frame_set(1)
    assert scene.camera.data.dof.focus_distance < 3.0
    # Bad input: one clear line, exit status 2 and no file written.
    assert cli.main(["plate", base, "--footage", shot["color"], "--depth",
                     shot["seq_depth"][0], "--out", str(tmp_path / "x.blend")]) == 2
    assert cli.main(["plate", base, "--footage", shot["color"], "--depth", shot["depth"],
                     "--depth-kind", "inverse", "--anchor", "1,2", "--out",
                     str(tmp_path / "x.blend")]) == 2
    assert not os.path.exists(tmp_path / "x.blend")
    assert not os.path.exists(tmp_path / "rackfocus_cache")


def test_import_plate_operator(addon, shot, tmp_path):
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "op.blend"))
    assert bpy.ops.rackfocus.import_plate(footage=shot["color"], depth=shot["depth"],
                                          density=1.0) == {"FINISHED"}
    scene = bpy.context.scene
    assert len(plate.plates(scene.camera)) == 1
    assert os.path.isdir(str(tmp_path / "rackfocus_cache"))
    with pytest.raises(RuntimeError, match="aspect|frame"):
        bpy.ops.rackfocus.import_plate(footage=shot["color"], depth=shot["seq_depth"][0])
    assert len(plate.plates(scene.camera)) == 1
    # A mark picked on the footage stays a footage mark (tracked like the CLI's px:), and the
    # pull lands on that pixel's depth.
    assert bpy.ops.rackfocus.add_pixel_mark(x=5, y=5) == {"FINISHED"}
    mark = scene.rackfocus.marks[-1]
    assert mark.kind == "PIXEL" and tuple(mark.pixel) == (5, 5)
    assert mark.frame == scene.frame_current
    scene.rackfocus.mode = "bake"
    assert bpy.ops.rackfocus.create_pull() == {"FINISHED"}
    assert effective_focus_m(scene, scene.camera, mark.frame) == pytest.approx(8.0, rel=1e-4)
    with pytest.raises(RuntimeError, match="outside"):
        bpy.ops.rackfocus.add_pixel_mark(x=W + 10, y=1)


def test_movie_footage_is_unpacked_and_played_frame_by_frame(empty_scene, shot, tmp_path):
    from rackfocus_addon.bl import render as render_engine

    movie = render_engine.make_movie(shot["seq_color"], str(tmp_path / "shot.mp4"), 25)
    scene = bpy.context.scene
    result = plate.import_plate(scene, PlateRequest(movie, shot["seq_depth"][0],
                                                    cache_dir=str(tmp_path)))
    assert (scene.frame_start, scene.frame_end, scene.render.fps) == (1, 3, 25)
    cycles(scene, samples=1)
    scene.camera.data.dof.use_dof = False
    decoded = [file_values(os.path.join(result.cache_dir, "footage", f"frame_{f:04d}.png"))
               for f in (1, 2, 3)]
    assert oracles.psnr(decoded[0], decoded[2]) < 40.0  # the frames really differ
    for f in (1, 3):
        scene.frame_set(f)
        out = file_values(render(scene, str(tmp_path / f"m{f}.png")))
        assert oracles.psnr(out, decoded[f - 1]) >= 45.0
        assert oracles.psnr(out, decoded[f - 1]) > oracles.psnr(out, decoded[3 - f]) + 3


def test_find_clip_tells_stills_sequences_and_patterns_apart(shot, tmp_path):
    import shutil

    for name in ("IMG_0001.png", "IMG_0007.png", "take_0009.png", "take_0010.png",
                 "take_0011.png", "take_0013.png"):
        shutil.copy(shot["color"], tmp_path / name)
    still = footage.find_clip(str(tmp_path / "IMG_0001.png"))
    assert still.kind == "still" and (still.width, still.height) == (W, H)
    # A numbered file with a neighbour is its whole sequence: a gap is refused, naming the
    # missing frames (it used to import the run 9-11 silently).
    for name in ("take_0010.png", "take_####.png"):
        with pytest.raises(RackFocusError, match=r"gaps: frame\(s\) 12 missing"):
            footage.find_clip(str(tmp_path / name))
    os.remove(tmp_path / "take_0013.png")
    run = footage.find_clip(str(tmp_path / "take_0010.png"))
    assert run.kind == "sequence" and run.numbers == [9, 10, 11] and run.first_number == 9
    with pytest.raises(RackFocusError, match="several"):  # shot_####.png and depth_####.exr
        footage.find_clip(os.path.dirname(shot["seq_color"][0]))
    clean = tmp_path / "clean"
    clean.mkdir()
    for path in shot["seq_color"]:
        shutil.copy(path, clean / os.path.basename(path))
    assert footage.find_clip(str(clean)).frames == 3
    with pytest.raises(RackFocusError, match="not an image"):
        footage.find_clip(__file__)


def test_cache_exr_writer_round_trips_through_blender(tmp_path):
    """The cache's own EXR writer: Blender reads back exactly what was written (32-bit channels
    bit for bit, NaN and inf included; half channels as float16 rounds them)."""
    rng = np.random.default_rng(0)
    planes = list(rng.uniform(-3.0, 30.0, (4, 7, 11)).astype(np.float32))
    planes[0][1, 2], planes[1][3, 4] = np.nan, np.inf
    planes[2] = planes[2] > 10.0  # a flag plane
    planes[3] = np.broadcast_to(np.float32(1.0), (7, 11))
    for types in (("f", "f", "f", "f"), plate_cache.DEPTH_TYPES, plate_cache.FILL_TYPES):
        path = str(tmp_path / f"{''.join(types)}.exr")
        plate_cache.write_cache_exr(path, planes, types)
        back = footage.read_pixels(path, data=True)[0]
        want = np.stack([np.asarray(p, np.float16 if t == "h" else np.float32).astype(np.float32)
                         for p, t in zip(planes, types)], axis=-1)
        np.testing.assert_array_equal(back, want)


def test_cache_is_the_pure_cache_frame_of_the_inputs(empty_scene, shot, tmp_path):
    """What import_plate caches is plate_mesh.cache_frame of the footage and converted depth."""
    result = plate.import_plate(empty_scene, PlateRequest(shot["color"], shot["depth"],
                                                          cache_dir=str(tmp_path)))
    color = footage.read_pixels(shot["color"])[0]
    raw = footage.read_pixels(shot["depth"], data=True)[0][..., 0]
    conv = depth_maths.Converter("metric")
    conv.fit(lambda: iter([raw]), 1)
    z, measured = conv.convert_masked(raw)
    depth, fill = plate_mesh.cache_frame(color, z, measured, plate_mesh.default_fill_px(W))
    cached_depth = footage.read_pixels(os.path.join(result.cache_dir, "depth_0001.exr"), True)[0]
    cached_fill = footage.read_pixels(os.path.join(result.cache_dir, "fill_0001.exr"), True)[0]
    np.testing.assert_array_equal(cached_depth[..., 0], depth[0])
    np.testing.assert_array_equal(cached_depth[..., 1], depth[1])
    np.testing.assert_array_equal(cached_depth[..., 2], depth[2])
    assert (cached_depth[..., 3] == 1.0).all() and (cached_fill[..., 3] == 1.0).all()
    np.testing.assert_allclose(cached_fill[..., :3], np.stack(fill[:3], axis=-1), rtol=1e-3,
                               atol=1e-4)  # half floats
    assert (depth[1] > 0).any()


# --- issue 19: pixel marks read the depth of their own frame, inside the footage ----------------

def test_a_pixel_mark_on_a_later_frame_reads_that_frames_depth(empty_scene, tmp_path):
    """A three-frame plate whose depth under the marked pixels changes every frame: each mark
    focuses at the depth of its own frame, and a pixel at x = width is off the footage."""
    from rackfocus_addon import exr

    w, h = 16, 9
    os.makedirs(tmp_path / "clip")
    for i, (left, right) in enumerate(((2.0, 6.0), (3.0, 5.0), (4.0, 9.0)), start=1):
        grey = np.full((h, w), 0.5)
        write_png16(str(tmp_path / "clip" / f"shot_{i:04d}.png"), grey)
        z = np.full((h, w), left, dtype=np.float32)
        z[:, 8:] = right
        exr.write(str(tmp_path / "clip" / f"depth_{i:04d}.exr"),
                  [z, z, z, np.ones_like(z)])
    scene = empty_scene
    result = plate.import_plate(scene, PlateRequest(str(tmp_path / "clip" / "shot_0001.png"),
                                                    str(tmp_path / "clip" / "depth_0001.exr"),
                                                    "metric", cache_dir=str(tmp_path / "cache")))
    cam = scene.objects[result.camera]
    start = scene.frame_start
    marks = [Mark(SubjectRef("pixel", coords=(2, 4)), frame=start),
             Mark(SubjectRef("pixel", coords=(12, 4)), frame=start + 2)]
    pull = pull_engine.write_pull(scene, cam, PullRequest(tuple(marks), mode="bake"))
    assert pull.mark_distances_m == pytest.approx([2.0, 9.0], rel=1e-5)
    scene.frame_set(start + 2)
    assert cam.data.dof.focus_distance == pytest.approx(9.0, rel=1e-4)
    subject = resolve_subject(scene, cam, SubjectRef("pixel", coords=(12, 4)))
    assert subject.reader.depth_at(start + 1, 12, 4) == pytest.approx(5.0)
    assert subject.reader.depth_at(start + 1, 15, 4) == pytest.approx(5.0)  # the last column
    for x, y in ((16, 4), (3, 9)):
        with pytest.raises(RackFocusError, match=rf"Pixel \({x}, {y}\) is outside the 16x9 "
                                                 "footage"):
            resolve_subject(scene, cam, SubjectRef("pixel", coords=(x, y))).reader.depth_at(
                start, x, y)
