"""Each shipped preset on one canonical two-subject scene: its focus curve and its renders.

The scene: a camera at the origin looking down +Y; a checkered card 'Near' at 2 m fills the left
half of the frame, a card 'Far' at 8 m the right half. Each preset is applied through the panel's
operators and baked; the focus curve is checked for the preset's character, then tiny Cycles
frames (64 x 36) at the preset's key frames must show the right card sharp.
"""

import bpy
import numpy as np
import pytest

import rackfocus_addon.bl.compat as compat
from helpers import add_camera, laplacian_variance, render_to_array
from rackfocus_addon import optics, presets

NEAR_M, FAR_M = 2.0, 8.0
LENS_MM = 100.0
FPS = 24
START = 1
ALL = sorted(p.key for p in presets.shipped_presets())


def _card(scene, name, depth, x, width, height, squares=8):
    bpy.ops.mesh.primitive_plane_add(size=1.0, location=(x, depth, 0.0), rotation=(1.5708, 0, 0))
    card = bpy.context.active_object
    card.name = name
    card.scale = (width, height, 1.0)
    mat = bpy.data.materials.new(name)
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputMaterial")
    emit = nodes.new("ShaderNodeEmission")
    checker = nodes.new("ShaderNodeTexChecker")
    checker.inputs["Scale"].default_value = squares
    checker.inputs["Color1"].default_value = (1, 1, 1, 1)
    checker.inputs["Color2"].default_value = (0, 0, 0, 1)
    coords = nodes.new("ShaderNodeTexCoord")
    links.new(coords.outputs["UV"], checker.inputs["Vector"])
    links.new(checker.outputs["Color"], emit.inputs["Color"])
    links.new(emit.outputs["Emission"], out.inputs["Surface"])
    card.data.materials.append(mat)
    return card


def canonical_scene(scene):
    """Camera 100 mm f/1.4; Near card at 2 m (left half), Far card at 8 m (right half).

    A long lens wide open, so the soft card blurs by about 5 px even on a 64 px wide frame.
    """
    cam = add_camera(scene, lens=LENS_MM, fstop=1.4)
    # Half the frame width at depth d is d * 18 / 100 (36 mm sensor, 100 mm lens).
    _card(scene, "Near", NEAR_M, -0.18, 0.35, 0.40)
    _card(scene, "Far", FAR_M, 0.72, 1.40, 1.60)
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y = 64, 36
    scene.render.resolution_percentage = 100
    scene.render.fps = FPS
    scene.frame_start, scene.frame_end = START, START + 120
    bpy.context.view_layer.update()
    return cam


@pytest.fixture
def applied(addon, empty_scene, request, tmp_path, monkeypatch):
    monkeypatch.setenv("RACKFOCUS_USER_PRESETS", str(tmp_path))
    scene = empty_scene
    cam = canonical_scene(scene)
    s = scene.rackfocus
    for name, frame in (("Near", START), ("Far", START + 1)):
        item = s.marks.add()
        item.subject, item.frame = scene.objects[name], frame
    assert bpy.ops.rackfocus.apply_preset(name=request.param) == {"FINISHED"}
    s.mode, s.solve_fstop, s.min_blur_px = "bake", True, 5.0
    assert bpy.ops.rackfocus.create_pull() == {"FINISHED"}
    preset = presets.find(presets.shipped_presets(), request.param)
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    marks = [(m.kind, m.subject.name if m.subject else "", m.frame) for m in s.marks]
    return scene, cam, preset, fc, marks


def focus(fc, frame):
    return fc.evaluate(frame)


def pull_frames(marks):
    """(frame the first transition starts, frame it ends), from the re-timed marks."""
    for (k0, n0, f0), (k1, n1, f1) in zip(marks, marks[1:]):
        if (k0, n0) != (k1, n1):
            return f0, f1
    raise AssertionError(marks)


@pytest.mark.parametrize("applied", ALL, indirect=True)
def test_characteristic_focus_curve(applied):
    scene, cam, preset, fc, marks = applied
    start, end = pull_frames(marks)
    values = [focus(fc, f) for f in range(start, end + 1)]
    d0, d1 = values[0], values[-1]
    key = preset.key
    if key in ("fg_to_bg", "dual_rack", "quick_snap", "slow_drift", "character_arrival"):
        assert (d0, d1) == (pytest.approx(NEAR_M), pytest.approx(FAR_M))
    if key == "bg_to_fg":
        assert (d0, d1) == (pytest.approx(FAR_M), pytest.approx(NEAR_M))
    if key in ("fg_to_bg", "bg_to_fg", "quick_snap", "slow_drift", "reveal", "dual_rack",
               "character_arrival"):
        steps = np.diff(values)
        # A pull without overshoot is monotonic.
        assert np.all(steps >= -1e-9) or np.all(steps <= 1e-9)
    if key == "reveal":
        # Opens soft: focus in front of Far, which is blurred by 5 % of the frame width.
        lens_f = 1.4  # the f-stop when the preset placed the soft focus (the solver may open it)
        assert d0 < FAR_M and d1 == pytest.approx(FAR_M)
        assert optics.coc_mm(FAR_M, d0, LENS_MM, lens_f) == pytest.approx(0.05 * 36.0, rel=1e-3)
        assert start - marks[0][2] == 24  # holds the mystery for a second
    if key == "quick_snap":
        assert end - start == 4
    if key == "slow_drift":
        assert end - start == 96
        mid = values[len(values) // 2]  # linear in diopters: the harmonic mean halfway
        assert 1 / mid == pytest.approx((1 / NEAR_M + 1 / FAR_M) / 2, rel=1e-3)
    if key == "character_arrival":
        mid = values[len(values) // 2]  # cubic ease-out: 87.5 % of the diopters at half time
        progress = (1 / NEAR_M - 1 / mid) / (1 / NEAR_M - 1 / FAR_M)
        assert progress == pytest.approx(0.875, abs=0.01)
        ramp = compat.find_fcurve(cam.data, "dof.aperture_fstop")
        assert ramp is not None and ramp.evaluate(start) > ramp.evaluate(end)
        assert ramp.evaluate(start) / ramp.evaluate(end) == pytest.approx(2.8 / 2.0, rel=1e-4)
    if key == "pull_with_settle":
        diopters = [1 / v for v in values]
        d_to, d_from = 1 / FAR_M, 1 / NEAR_M
        overshoot = (d_to - min(diopters)) / (d_from - d_to)
        assert overshoot == pytest.approx(0.06, abs=2e-3)
        assert values[-1] == pytest.approx(FAR_M)
    if key == "dual_rack":
        last = marks[-1][2]
        assert focus(fc, last) == pytest.approx(NEAR_M)  # and back to A
        assert max(focus(fc, f) for f in range(start, last + 1)) == pytest.approx(FAR_M)


def _sharpness(scene, frame):
    scene.frame_set(frame)
    img = render_to_array(scene)
    gray = img[..., :3].mean(axis=2)
    near = laplacian_variance(gray[6:30, 3:28])
    far = laplacian_variance(gray[6:30, 36:61])
    return near, far


@pytest.mark.parametrize("applied", ALL, indirect=True)
def test_renders_the_right_subject_sharp_at_key_frames(applied):
    scene, cam, preset, fc, marks = applied
    start, end = pull_frames(marks)
    sharp_at_start = "Near" if focus(fc, start) == pytest.approx(NEAR_M) else (
        "Far" if focus(fc, start) == pytest.approx(FAR_M) else None)
    sharp_at_end = "Far" if focus(fc, end) == pytest.approx(FAR_M) else "Near"
    n0, f0 = _sharpness(scene, start)
    n1, f1 = _sharpness(scene, end)
    if sharp_at_end == "Far":
        assert f1 > 3.0 * f0, (f0, f1)
        if sharp_at_start == "Near":
            assert n0 > 3.0 * n1, (n0, n1)
            assert n0 > 3.0 * f0 * 0.2  # near sharp at the start is clearly textured
    else:
        assert n1 > 3.0 * n0, (n0, n1)
        assert f0 > 3.0 * f1, (f0, f1)
