"""Every Rack Focus operator, run through bpy.ops on a two-subject scene: exact outcomes."""

import csv
import json
import math

import bpy
import pytest

import rackfocus_addon.bl.compat as compat
from helpers import add_empty, two_subject_scene


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    folder = tmp_path / "user_presets"
    monkeypatch.setenv("RACKFOCUS_USER_PRESETS", str(folder))
    return folder


@pytest.fixture
def scene(addon, empty_scene, user_dir):
    two_subject_scene(empty_scene)
    empty_scene.frame_start, empty_scene.frame_end = 1, 60
    empty_scene.render.resolution_x, empty_scene.render.resolution_y = 640, 360
    return empty_scene


def select(scene, *names):
    for obj in scene.objects:
        obj.select_set(obj.name in names)
    bpy.context.view_layer.objects.active = scene.objects[names[0]] if names else None


def readout(scene) -> list[tuple[str, bool]]:
    """The panel's readability lines as (text, is a warning)."""
    return [(line.text, line.warning) for line in scene.rackfocus.readout_lines]


def warned(scene) -> bool:
    return any(warning for _text, warning in readout(scene))


def add_marks(scene, *pairs):
    for name, frame in pairs:
        item = scene.rackfocus.marks.add()
        item.subject, item.frame = scene.objects[name], frame


def test_every_operator_is_undoable_documented_and_searchable(addon):
    ops = [cls for cls in bpy.types.Operator.__subclasses__()
           if getattr(cls, "bl_idname", "").startswith("rackfocus.")]
    ids = {cls.bl_idname for cls in ops}
    assert {"rackfocus.add_target", "rackfocus.add_mark", "rackfocus.remove_mark",
            "rackfocus.create_pull", "rackfocus.clear_pull", "rackfocus.bake",
            "rackfocus.apply_preset", "rackfocus.save_preset", "rackfocus.export",
            "rackfocus.describe", "rackfocus.check_readability", "rackfocus.view_camera",
            "rackfocus.pick_mark", "rackfocus.move_mark", "rackfocus.solve_fstop"} <= ids
    # Operators that change data are undoable; those that change none (a view, a file written
    # outside the .blend) push no undo step.
    no_data = {"rackfocus.view_camera", "rackfocus.export", "rackfocus.preview_dof"}
    for cls in ops:
        assert "REGISTER" in cls.bl_options, cls.bl_idname
        assert ("UNDO" in cls.bl_options) == (cls.bl_idname not in no_data), cls.bl_idname
        assert (cls.__doc__ or "").strip(), cls.bl_idname
    # F3 search finds menu entries: every operator is in View > Cameras > Rack Focus.
    from rack_focus.operators import panel
    in_menu = set(panel.menu_operator_ids())
    on_list_buttons = {"rackfocus.apply_preset", "rackfocus.remove_preset",
                       "rackfocus.move_mark"}
    assert ids - on_list_buttons <= in_menu
    assert "RACKFOCUS_MT_menu" in dir(bpy.types)


def test_polls_explain_why_they_are_greyed_out(addon, empty_scene):
    empty_scene.camera = None
    with pytest.raises(RuntimeError, match="has no camera"):
        bpy.ops.rackfocus.create_pull()
    two_subject_scene(empty_scene)
    with pytest.raises(RuntimeError, match="Add focus marks first"):
        bpy.ops.rackfocus.bake()
    with pytest.raises(RuntimeError, match="no Rack Focus pull"):
        bpy.ops.rackfocus.clear_pull()
    with pytest.raises(RuntimeError, match="no Rack Focus pull"):
        bpy.ops.rackfocus.export(filepath="/tmp/x.csv")
    with pytest.raises(RuntimeError, match="at least two focus marks"):
        bpy.ops.rackfocus.move_mark(direction="UP")
    with pytest.raises(RuntimeError, match="Check Readability first"):
        bpy.ops.rackfocus.solve_fstop()


def test_add_marks_from_selection_cursor_and_picked_point(scene):
    add_empty(scene, "Mid", (0.0, 4.0, 0.0))
    select(scene, "Far", "Mid", "Near")  # the active one first, the others by name
    scene.frame_set(7)
    assert bpy.ops.rackfocus.add_mark() == {"FINISHED"}
    marks = scene.rackfocus.marks
    # Near to far by depth from the camera; at 24 fps each is held half a second and racked to
    # over one second, all inside the scene's frames 1-60.
    got = [(m.subject.name, m.frame) for m in marks]
    assert [name for name, _f in got] == ["Near", "Near", "Mid", "Mid", "Far", "Far"]
    frames = [f for _n, f in got]
    assert frames[0] == 7 and frames == sorted(frames) and frames[-1] <= scene.frame_end
    assert frames[1] - frames[0] >= 6 and frames[2] - frames[1] >= 12
    n = len(marks)
    scene.cursor.location = (1.0, 4.0, 0.5)
    bpy.ops.rackfocus.add_mark(use_cursor=True)  # at frame 7, after the marks already there
    assert marks[1].kind == "POINT" and tuple(marks[1].point) == (1.0, 4.0, 0.5)
    assert scene.rackfocus.active_mark == 1
    # A mark added at the current frame goes where that frame belongs in the list, not after
    # later marks (a pull needs its marks in time order).
    scene.frame_set(frames[1] + 1)
    bpy.ops.rackfocus.pick_mark(location=(0.0, 3.0, 0.0), use_location=True)
    assert marks[3].kind == "POINT" and tuple(marks[3].point) == (0.0, 3.0, 0.0)
    assert marks[3].frame == frames[1] + 1 and scene.rackfocus.active_mark == 3
    assert len(marks) == n + 2
    assert [m.frame for m in marks] == sorted(m.frame for m in marks)
    select(scene, "Cam")
    with pytest.raises(RuntimeError, match="not the camera"):
        bpy.ops.rackfocus.add_mark()


def test_plus_says_what_it_did(scene):
    from rack_focus.operators.pull import _first_frame, added_report

    from rackfocus_addon.schedule import beats
    near, far = scene.objects["Near"], scene.objects["Far"]
    # 24 fps in frames 1-20: the usual 0.5 s holds and 1 s rack do not fit, and it says so.
    timed = beats(2, 24.0, 1, 20)
    text = added_report([near, far], timed, 24.0, "")
    hold, rack = timed[0][1] - timed[0][0], timed[1][0] - timed[0][1]
    assert text == (f"Marks near to far from frame 1: Near -> Far, each held {hold} frames "
                    f"({hold / 24:.2g} s) and racked over {rack} frames ({rack / 24:.2g} s), "
                    f"squeezed to fit the scene's last frame {timed[-1][1]}")
    # A single + on frame 1 after a mark on frame 1 lands a rack later, and says where and why.
    add_marks(scene, ("Near", 1))
    scene.frame_set(1)
    start, why = _first_frame(scene, scene.rackfocus, 24.0)
    assert added_report([far], [(start, start)], 24.0, why) == (
        "Mark on Far at frame 25 (1 s after the last mark, frame 1)")
    select(scene, "Far")
    bpy.ops.rackfocus.add_mark()
    assert scene.rackfocus.marks[1].frame == 25 and scene.rackfocus.active_mark == 1


def test_view_camera_looks_through_the_camera(scene):
    areas = [a for a in bpy.context.screen.areas if a.type == "VIEW_3D"]
    if not areas:
        with pytest.raises(RuntimeError, match="Needs a 3D viewport"):
            bpy.ops.rackfocus.view_camera()
        return
    assert bpy.ops.rackfocus.view_camera() == {"FINISHED"}
    assert areas[0].spaces.active.region_3d.view_perspective == "CAMERA"


def test_reorder_and_remove(scene):
    add_marks(scene, ("Near", 1), ("Far", 20))
    s = scene.rackfocus
    s.active_mark = 1
    bpy.ops.rackfocus.move_mark(direction="UP")
    assert [m.subject.name for m in s.marks] == ["Far", "Near"] and s.active_mark == 0
    bpy.ops.rackfocus.move_mark(direction="DOWN")
    assert [m.subject.name for m in s.marks] == ["Near", "Far"]
    bpy.ops.rackfocus.remove_mark()
    assert [m.subject.name for m in s.marks] == ["Near"]


def test_add_target_creates_and_reuses(scene):
    assert bpy.ops.rackfocus.add_target() == {"FINISHED"}
    cam = scene.camera
    target = cam.data.dof.focus_object
    assert target is not None and cam.data.dof.use_dof
    bpy.ops.rackfocus.add_target()
    assert [o for o in bpy.data.objects if o.name.startswith("Cam Focus")] == [target]


def test_create_bake_and_clear_restore_everything(scene):
    cam = scene.camera
    cam.data.dof.focus_distance = 3.25
    cam.data.dof.aperture_fstop = 4.0
    add_marks(scene, ("Near", 1), ("Far", 25))
    s = scene.rackfocus
    s.use_fstop_ramp, s.fstop_from, s.fstop_to = True, 2.8, 1.8
    s.breathing, s.close_focus_m = 0.02, 0.5
    s.space = "diopter"
    assert bpy.ops.rackfocus.bake() == {"FINISHED"}
    focus = compat.find_fcurve(cam.data, "dof.focus_distance")
    assert focus.evaluate(1) == pytest.approx(2.0) and focus.evaluate(25) == pytest.approx(8.0)
    assert focus.evaluate(13) == pytest.approx(1 / ((0.5 + 0.125) / 2), rel=1e-4)
    fstop = compat.find_fcurve(cam.data, "dof.aperture_fstop")
    assert [tuple(k.co) for k in fstop.keyframe_points] == [(1.0, pytest.approx(2.8)),
                                                           (25.0, pytest.approx(1.8))]
    lens = compat.find_fcurve(cam.data, "lens")
    assert lens.evaluate(1) == pytest.approx(50.0 * (1 + 0.02 * 0.25), rel=1e-5)
    assert lens.evaluate(25) == pytest.approx(50.0 * (1 + 0.02 * 0.0625), rel=1e-5)
    assert readout(scene)[0][0].startswith("Frame 1, focus on Near (2.0\u00a0m): Far is soft, ")
    assert not warned(scene)
    assert bpy.ops.rackfocus.clear_pull() == {"FINISHED"}
    assert compat.find_fcurve(cam.data, "dof.aperture_fstop") is None
    assert compat.find_fcurve(cam.data, "lens") is None
    assert compat.find_fcurve(cam.data, "dof.focus_distance") is None
    assert cam.data.dof.focus_distance == pytest.approx(3.25)
    assert cam.data.dof.aperture_fstop == pytest.approx(4.0)
    assert cam.data.lens == pytest.approx(50.0)
    assert readout(scene) == []


def test_readability_check_warns_and_solve_opens_the_iris(scene):
    cam = scene.camera
    cam.data.dof.aperture_fstop = 22.0
    scene.render.resolution_x, scene.render.resolution_y = 64, 36
    add_marks(scene, ("Near", 1), ("Far", 25))
    s = scene.rackfocus
    s.min_blur_px = 3.0
    bpy.ops.rackfocus.check_readability()
    assert warned(scene) and any("too little blur to read" in t for t, w in readout(scene) if w)
    n = s.suggested_fstop
    assert 0 < n < 22.0
    bpy.ops.rackfocus.solve_fstop()
    assert cam.data.dof.aperture_fstop == pytest.approx(n)
    # Use f/N checks again: the old warnings go at once.
    assert readout(scene) and not warned(scene) and s.suggested_fstop == 0.0
    bpy.ops.rackfocus.check_readability()
    assert not warned(scene) and s.suggested_fstop == 0.0


def test_the_readout_says_when_it_is_out_of_date_and_suggests_real_stops(scene):
    from rack_focus.operators.from_panel import readout_is_stale

    from rackfocus_addon.readability import THIRD_STOPS
    cam = scene.camera
    cam.data.dof.aperture_fstop = 22.0
    scene.render.resolution_x, scene.render.resolution_y = 640, 360
    add_marks(scene, ("Near", 1), ("Far", 25))
    s = scene.rackfocus
    s.min_blur_px = 3.0
    bpy.ops.rackfocus.check_readability()
    assert s.suggested_fstop in THIRD_STOPS  # f/11, never f/11.1
    assert not readout_is_stale(scene, s)
    scene.frame_set(13)  # scrubbing does not date it
    assert not readout_is_stale(scene, s)
    cam.data.dof.aperture_fstop = 16.0
    assert readout_is_stale(scene, s)
    cam.data.dof.aperture_fstop = 22.0
    s.marks[1].frame = 30
    assert readout_is_stale(scene, s)
    # Deleting every mark leaves no subject to report on.
    bpy.ops.rackfocus.remove_mark()
    bpy.ops.rackfocus.remove_mark()
    assert readout(scene) == [] and s.suggested_fstop == 0.0


def test_create_pull_with_solve_fstop_reads(scene):
    cam = scene.camera
    cam.data.dof.aperture_fstop = 22.0
    scene.render.resolution_x, scene.render.resolution_y = 64, 36
    add_marks(scene, ("Near", 1), ("Far", 25))
    s = scene.rackfocus
    s.min_blur_px, s.solve_fstop = 3.0, True
    bpy.ops.rackfocus.create_pull()
    assert cam.data.dof.aperture_fstop < 22.0
    assert not warned(scene)
    bpy.ops.rackfocus.clear_pull()
    assert cam.data.dof.aperture_fstop == pytest.approx(22.0)


def test_apply_preset_retimes_marks(scene):
    add_marks(scene, ("Far", 5), ("Near", 30))
    assert bpy.ops.rackfocus.apply_preset(name="fg_to_bg") == {"FINISHED"}
    s = scene.rackfocus
    assert s.preset == "Foreground to Background"
    assert [(m.subject.name, m.frame) for m in s.marks] == [
        ("Near", 5), ("Near", 17), ("Far", 41), ("Far", 53)]
    assert (s.easing, s.easing_mode, s.space, s.unit) == ("sine", "in-out", "diopter", "seconds")
    bpy.ops.rackfocus.apply_preset(name="reveal")
    assert [m.kind for m in s.marks] == ["POINT", "POINT", "OBJECT", "OBJECT"]
    assert s.marks[-1].subject.name == "Far" and s.marks[2].frame == 5 + 24 + 36
    # The soft opening is in front of Far on the view axis, where Far blurs by 5 % of the width.
    y = s.marks[0].point[1]
    from rackfocus_addon import optics
    assert optics.coc_mm(8.0, y, 50.0, 1.4) == pytest.approx(0.05 * 36.0, rel=1e-4)
    # Re-timing after a reveal keeps the real subject, not the soft point.
    bpy.ops.rackfocus.apply_preset(name="reveal")
    assert [m.kind for m in s.marks] == ["POINT", "POINT", "OBJECT", "OBJECT"]
    assert s.marks[0].point[1] == pytest.approx(y)
    with pytest.raises(RuntimeError, match="add a focus mark on a second one"):
        bpy.ops.rackfocus.apply_preset(name="quick_snap")
    with pytest.raises(RuntimeError, match="No preset named 'nope'"):
        bpy.ops.rackfocus.apply_preset(name="nope")


def test_apply_two_subject_preset_to_one_subject_explains(scene):
    add_marks(scene, ("Near", 1))
    with pytest.raises(RuntimeError, match="add a focus mark on a second one"):
        bpy.ops.rackfocus.apply_preset(name="dual_rack")


def test_save_user_preset_lists_beside_shipped_and_removes(scene, user_dir):
    s = scene.rackfocus
    s.role_1, s.role_2 = "far", "near"
    s.unit, s.transition, s.hold_start = "frames", 9.0, 3.0
    s.hold_end = 12.0
    s.overshoot_percent = 5.0
    assert bpy.ops.rackfocus.save_preset(name="My Snap") == {"FINISHED"}
    path = user_dir / "my_snap.toml"
    assert path.is_file()
    from rackfocus_addon import presets
    p = presets.load_preset(str(path), user=True)
    assert p.sequence == ("far", "near") and p.timing.transition == 9.0
    assert p.easing().kind == "back"
    from rack_focus.rackfocus_addon.bl import user_presets
    found, errors = user_presets.all_presets()
    assert not errors
    assert {"fg_to_bg", "my_snap"} <= {q.key for q in found}
    add_marks(scene, ("Near", 1), ("Far", 40))
    bpy.ops.rackfocus.apply_preset(name="My Snap")
    assert [(m.subject.name, m.frame) for m in s.marks] == [
        ("Far", 1), ("Far", 4), ("Near", 13), ("Near", 25)]
    assert bpy.ops.rackfocus.remove_preset(name="My Snap") == {"FINISHED"}
    assert not path.exists()
    with pytest.raises(RuntimeError, match="shipped presets cannot be removed"):
        bpy.ops.rackfocus.remove_preset(name="fg_to_bg")


def test_retime_uses_panel_timing(scene):
    add_marks(scene, ("Near", 10), ("Far", 11))
    s = scene.rackfocus
    s.role_1, s.role_2, s.unit = "first", "second", "frames"
    s.hold_start, s.transition, s.hold_end, s.return_to_start = 0, 6, 2, True
    s.hold_middle = 4
    bpy.ops.rackfocus.retime()
    assert [(m.subject.name, m.frame) for m in s.marks] == [
        ("Near", 10), ("Far", 16), ("Far", 20), ("Near", 26), ("Near", 28)]
    s.role_3 = "second"
    with pytest.raises(RuntimeError, match="racks from 'second' to 'second'"):
        bpy.ops.rackfocus.retime()


def test_export_and_describe_operators(scene, tmp_path):
    add_marks(scene, ("Near", 1), ("Far", 25))
    scene.rackfocus.mode = "bake"
    bpy.ops.rackfocus.create_pull()
    out = tmp_path / "focus"
    assert bpy.ops.rackfocus.export(filepath=str(out) + ".csv", file_format="BOTH") == {
        "FINISHED"}
    rows = list(csv.DictReader(open(str(out) + ".csv")))
    assert len(rows) == 60
    assert rows[0]["frame"] == "1" and float(rows[0]["focus_m"]) == pytest.approx(2.0)
    assert float(rows[0]["blur_px:Near"]) == 0.0 and float(rows[0]["blur_px:Far"]) > 10
    data = json.load(open(str(out) + ".json"))
    assert data["frames"][24]["focus_m"] == pytest.approx(8.0)
    assert data["subjects"] == ["Near", "Far"]
    bpy.ops.rackfocus.describe()
    text = scene.rackfocus.description_text
    assert text.startswith("Shallow depth of field (50 mm lens at f/1.4), foreground subject "
                           "'Near' sharp, background subject 'Far' soft")
    assert "over one second" in text


def test_marks_timed_to_markers(scene):
    scene.timeline_markers.new("line2", frame=30)
    add_marks(scene, ("Near", 1), ("Far", 1))
    scene.rackfocus.marks[1].marker = "line2"
    scene.rackfocus.mode = "bake"
    bpy.ops.rackfocus.create_pull()
    fc = compat.find_fcurve(scene.camera.data, "dof.focus_distance")
    assert fc.evaluate(30) == pytest.approx(8.0) and fc.evaluate(29) < 8.0


def test_hysteresis_in_bake_mode_stops_hunting(scene):
    far = scene.objects["Far"]
    # The far subject jitters by +-1 cm around 8 m.
    for f in range(1, 61):
        far.location.y = 8.0 + (0.01 if f % 2 else -0.01)
        far.keyframe_insert("location", index=1, frame=f)
    add_marks(scene, ("Near", 1), ("Far", 10))
    s = scene.rackfocus
    s.mode, s.hysteresis = "bake", 0.01
    bpy.ops.rackfocus.create_pull()
    fc = compat.find_fcurve(scene.camera.data, "dof.focus_distance")
    tail = [fc.evaluate(f) for f in range(12, 61)]
    assert max(tail) - min(tail) < 1e-6  # holds instead of following the jitter
    assert len(fc.keyframe_points) < 20


def test_overlay_planes_sit_at_focus_and_limits(scene):
    from rack_focus.operators import overlay

    cam = scene.camera
    cam.data.dof.focus_distance = 3.0
    cam.data.dof.aperture_fstop = 2.8
    focus, near_m, far_m, _text = overlay.focus_readout(cam)
    for corner in overlay.plane_corners(cam, scene, focus):
        assert corner.y == pytest.approx(3.0)  # the camera looks down +Y
    near = overlay.plane_corners(cam, scene, near_m)[0].y
    far = overlay.plane_corners(cam, scene, far_m)[0].y
    assert near < 3.0 < far
    from rackfocus_addon import optics
    coc = optics.standard_coc_mm(36.0, 24.0)
    assert (near, far) == pytest.approx(optics.dof_limits_m(3.0, 50.0, 2.8, coc))
    cam.data.dof.focus_object = add_empty(scene, "T", (0.3, 5.0, 0.2))
    focus = overlay.focus_readout(cam)[0]
    assert overlay.plane_corners(cam, scene, focus)[0].y == pytest.approx(5.0)  # view axis
    assert not overlay.is_drawing()  # never in background mode
    assert not math.isinf(near)
    cam.data.dof.use_dof = True
    assert overlay.focus_readout(cam)[3].startswith("Focus 5.00 m   f/2.8")
    cam.data.dof.use_dof = False
    assert overlay.focus_readout(cam)[3] == "Cam: DOF off (Preview DOF turns it on)"


def test_installed_extension_keeps_user_presets_in_its_user_folder(tmp_path):
    """Built and installed as bl_ext.user_default.rack_focus: shipped presets are in the zip,
    user presets go to bpy.utils.extension_path_user and are listed beside them."""
    import os
    import subprocess
    import sys
    import textwrap

    from test_install import build_zip

    zip_path = build_zip(str(tmp_path))
    script = textwrap.dedent(f"""
        import bpy, sys, importlib
        bpy.ops.extensions.package_install_files(
            repo="user_default", filepath={zip_path!r}, enable_on_install=True)
        up = importlib.import_module("bl_ext.user_default.rack_focus.rackfocus_addon.bl"
                                     ".user_presets")
        folder = up.user_presets_dir(create=True)
        expected = bpy.utils.extension_path_user("bl_ext.user_default.rack_focus",
                                                 path="presets")
        bpy.context.scene.rackfocus.sequence = "near,far"
        bpy.ops.rackfocus.save_preset(name="Studio Rack")
        found, errors = up.all_presets()
        keys = sorted(p.key + ("*" if p.user else "") for p in found)
        print("RESULT", folder == expected, len([p for p in found if not p.user]), keys, errors)
    """)
    env = {k: v for k, v in os.environ.items() if k != "RACKFOCUS_USER_PRESETS"}
    env["BLENDER_USER_RESOURCES"] = str(tmp_path / "user")
    cmd = ([bpy.app.binary_path, "-b", "--factory-startup", "--python-expr", script]
           if bpy.app.binary_path else [sys.executable, "-c", script])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT")), "")
    assert line.startswith("RESULT True 8 "), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "'studio_rack*'" in line and "'fg_to_bg'" in line and line.endswith("[]")


def test_long_work_shows_blender_progress(scene):
    """The panel's pull reports through the window manager's progress bar and the status bar,
    and ends both."""
    from types import SimpleNamespace

    from rack_focus.operators.common import ui_progress

    calls = []
    wm = SimpleNamespace(progress_begin=lambda a, b: calls.append(("begin", a, b)),
                         progress_update=lambda v: calls.append(("update", v)),
                         progress_end=lambda: calls.append(("end",)))
    workspace = SimpleNamespace(status_text_set=lambda t: calls.append(("status", t)))
    with ui_progress(SimpleNamespace(window_manager=wm, workspace=workspace)) as progress:
        progress("sampling subject distances", 50, 200)
        progress("sampling subject distances", 200, 200)
    assert calls == [("begin", 0, 1000), ("update", 250),
                     ("status", "Rack Focus: sampling subject distances 50/200"),
                     ("update", 1000),
                     ("status", "Rack Focus: sampling subject distances 200/200"),
                     ("end",), ("status", None)]


def test_a_preset_maps_roles_by_depth_and_names_who_it_leaves_out(scene):
    from rackfocus_addon.bl.user_presets import find_preset, preset_marks
    from rackfocus_addon.marks import SubjectRef

    add_empty(scene, "Mid", (0.0, 4.0, 0.0))
    add_marks(scene, ("Mid", 1), ("Far", 2), ("Near", 3))
    assert bpy.ops.rackfocus.apply_preset(name="fg_to_bg") == {"FINISHED"}
    names = [m.subject.name for m in scene.rackfocus.marks]
    assert names[0] == "Near" and names[-1] == "Far" and "Mid" not in names
    refs = [SubjectRef("object", name=n) for n in ("Mid", "Far", "Near")]
    timed = preset_marks(scene, scene.camera, find_preset("fg_to_bg"), refs, 1)
    assert timed.left_out == [refs[0]]
    assert timed.left_out_note == ("Left out 'Mid': the preset racks between the nearest "
                                   "subject and the farthest")


def test_focus_target_starts_on_the_selected_subject_and_clear_says_what_it_keeps(scene):
    select(scene, "Near")
    assert bpy.ops.rackfocus.add_target() == {"FINISHED"}
    target = scene.camera.data.dof.focus_object
    assert tuple(target.location) == pytest.approx((0.0, 2.0, 0.0))
    from rackfocus_addon.bl import pull

    add_marks(scene, ("Near", 1), ("Far", 25))
    bpy.ops.rackfocus.create_pull()
    message = pull.clear_pull(scene.camera)
    assert f"kept focus target '{target.name}'" in message
    assert bpy.data.objects.get(target.name) is not None
