"""Pulls written into real scenes: exact focus at marks, tracking, midpoints, bad input."""

import json
import os
import subprocess
import sys
import textwrap

import bpy
import pytest

from helpers import add_camera, add_empty, create_pull, two_subject_scene
from rackfocus_addon.bl import compat, pull
from rackfocus_addon.bl.scene_eval import effective_focus_m
from rackfocus_addon.bl.subjects import resolve_camera
from rackfocus_addon.easing import Easing
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.marks import Mark, SubjectRef, parse_mark
from rackfocus_addon.optics import blend_focus
from rackfocus_addon.request import Realism

MODES = ("rig", "bake")


def marks(*specs):
    return [parse_mark(s) for s in specs]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("space,mid", [("distance", 5.0), ("diopter", 3.2)])
def test_focus_exact_at_marks_and_midpoint(empty_scene, mode, space, mid):
    cam = two_subject_scene(empty_scene)
    create_pull(empty_scene, cam, marks("Near@1", "Near@10", "Far@30"),
                     Easing("sine", "in-out"), space, mode)
    assert effective_focus_m(empty_scene, cam, 1) == pytest.approx(2.0, abs=1e-3)
    assert effective_focus_m(empty_scene, cam, 10) == pytest.approx(2.0, abs=1e-3)
    assert effective_focus_m(empty_scene, cam, 30) == pytest.approx(8.0, abs=1e-3)
    assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(mid, rel=0.01)
    assert effective_focus_m(empty_scene, cam, 200) == pytest.approx(8.0, abs=1e-3)


def test_focus_is_measured_along_the_view_axis_not_straight_line(empty_scene):
    cam = add_camera(empty_scene)
    add_empty(empty_scene, "Side", (3.0, 4.0, 0.0))  # 5 m away in a straight line, 4 m deep
    create_pull(empty_scene, cam, marks("Side@1"), mode="bake")
    assert cam.data.dof.focus_distance == pytest.approx(4.0, abs=1e-6)
    assert effective_focus_m(empty_scene, cam, 30) == pytest.approx(4.0, abs=1e-6)


def _moving_subject(scene):
    cam = two_subject_scene(scene)
    mover = scene.objects["Far"]
    for frame, y in ((1, 6.0), (40, 12.0)):
        mover.location.y = y
        mover.keyframe_insert("location", index=1, frame=frame)
    # A sideways drift as well: only the depth along the view axis may count.
    mover.location.x = 0.0
    mover.keyframe_insert("location", index=0, frame=1)
    mover.location.x = 2.0
    mover.keyframe_insert("location", index=0, frame=40)
    return cam, mover


@pytest.mark.parametrize("mode", MODES)
def test_hold_tracks_a_moving_subject(empty_scene, mode):
    cam, mover = _moving_subject(empty_scene)
    empty_scene.frame_end = 40
    create_pull(empty_scene, cam, marks("Near@1", "Far@10", "Far@40"), mode=mode)
    for frame in range(10, 41, 3):
        empty_scene.frame_set(frame)
        truth = mover.matrix_world.translation.y
        assert effective_focus_m(empty_scene, cam, frame) == pytest.approx(truth, abs=0.01)


def test_bake_keys_only_what_native_easing_cannot_say(empty_scene):
    cam = two_subject_scene(empty_scene)
    empty_scene.frame_end = 100
    create_pull(empty_scene, cam, marks("Near@1", "Near@20", "Far@44"),
                     Easing("quad", "out"), "distance", "bake")
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    pts = [(kp.co.x, round(kp.co.y, 6), kp.interpolation) for kp in fc.keyframe_points]
    assert pts == [(1.0, 2.0, "LINEAR"), (20.0, 2.0, "QUAD"), (44.0, 8.0, "LINEAR"),
                   (100.0, 8.0, "LINEAR")]
    assert fc.keyframe_points[1].easing == "EASE_OUT"
    assert cam.data.dof.focus_object is None


def test_rig_uses_constraints_with_keyed_influence(empty_scene):
    cam = two_subject_scene(empty_scene)
    result = create_pull(empty_scene, cam, marks("Near@1", "Far@25", "Near@50"),
                              Easing("expo", "in-out"))
    target = bpy.data.objects[result.target]
    assert cam.data.dof.focus_object == target and cam.data.dof.use_dof
    assert [c.type for c in target.constraints] == ["COPY_LOCATION"] * 3
    assert [c.target.name for c in target.constraints] == ["Near", "Far", "Near"]
    fc = compat.find_fcurve(target, 'constraints["RackFocus 2"].influence')
    assert [tuple(kp.co) for kp in fc.keyframe_points] == [(1.0, 0.0), (25.0, 1.0)]
    assert fc.keyframe_points[0].interpolation == "EXPO"
    assert effective_focus_m(empty_scene, cam, 50) == pytest.approx(2.0, abs=1e-3)


def test_bone_and_point_subjects(empty_scene):
    cam = add_camera(empty_scene)
    arm_data = bpy.data.armatures.new("Rig")
    arm = bpy.data.objects.new("Rig", arm_data)
    empty_scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm_data.edit_bones.new("head")
    bone.head, bone.tail = (0.0, 3.0, 0.0), (0.0, 3.0, 0.5)
    bpy.ops.object.mode_set(mode="OBJECT")
    for mode in MODES:
        create_pull(empty_scene, cam, marks("Rig:head@1", "point:0.5,6,1@20"), mode=mode)
        assert effective_focus_m(empty_scene, cam, 1) == pytest.approx(3.0, abs=1e-3)
        assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(6.0, abs=1e-3)


def test_markers_time_marks(empty_scene):
    cam = two_subject_scene(empty_scene)
    empty_scene.timeline_markers.new("line2", frame=33)
    create_pull(empty_scene, cam, marks("Near@1", "Far@marker:line2"), mode="bake")
    assert effective_focus_m(empty_scene, cam, 33) == pytest.approx(8.0, abs=1e-3)
    with pytest.raises(RackFocusError, match="No timeline marker named 'line9'"):
        create_pull(empty_scene, cam, marks("Near@1", "Far@line9"))


def test_rerun_is_safe_one_target_same_result(empty_scene):
    cam = two_subject_scene(empty_scene)
    for _ in range(3):
        create_pull(empty_scene, cam, marks("Near@1", "Far@20"))
    targets = [o for o in bpy.data.objects if o.get(pull.TARGET_PROP)]
    assert len(targets) == 1 and len(targets[0].constraints) == 2
    assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(8.0, abs=1e-3)
    # Switching modes removes the rig (its target empty and the empty's action) and keys the
    # focus distance instead.
    create_pull(empty_scene, cam, marks("Near@1", "Far@20"), mode="bake")
    assert not [o for o in bpy.data.objects if o.get(pull.TARGET_PROP)]
    assert cam.data.dof.focus_object is None and len(bpy.data.actions) == 1
    assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(8.0, abs=1e-3)


def test_user_keys_are_kept_unless_replaced_and_clear_restores_them(empty_scene):
    cam = two_subject_scene(empty_scene)
    for frame, value in ((1, 3.0), (50, 4.5)):
        cam.data.dof.focus_distance = value
        cam.data.dof.keyframe_insert("focus_distance", frame=frame)
    with pytest.raises(RackFocusError, match="already has 2 keyframe"):
        create_pull(empty_scene, cam, marks("Near@1", "Far@20"), mode="bake")
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    assert [tuple(kp.co) for kp in fc.keyframe_points] == [(1.0, 3.0), (50.0, 4.5)]
    assert pull.read_record(cam) is None and len(bpy.data.objects) == 3

    result = create_pull(empty_scene, cam, marks("Near@1", "Far@20"), mode="bake",
                              replace=True)
    assert any("Replaced 2 user key" in m for m in result.notes)
    assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(8.0, abs=1e-3)
    create_pull(empty_scene, cam, marks("Near@1", "Far@30"), mode="rig")
    pull.clear_pull(cam)
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    assert [tuple(kp.co) for kp in fc.keyframe_points] == [(1.0, 3.0), (50.0, 4.5)]
    assert cam.data.dof.focus_object is None and len(bpy.data.objects) == 3
    assert pull.RECORD not in cam.data


def test_clear_restores_dof_settings(empty_scene):
    cam = two_subject_scene(empty_scene)
    cam.data.dof.use_dof = False
    cam.data.dof.focus_distance = 7.5
    cam.data.dof.focus_object = empty_scene.objects["Far"]
    create_pull(empty_scene, cam, marks("Near@1", "point:0,3,0@9"))
    assert cam.data.dof.focus_object.name == "Cam Focus"
    pull.clear_pull(cam)
    assert not cam.data.dof.use_dof and cam.data.dof.focus_distance == pytest.approx(7.5)
    assert cam.data.dof.focus_object == empty_scene.objects["Far"]
    assert sorted(o.name for o in bpy.data.objects) == ["Cam", "Far", "Near"]
    assert pull.clear_pull(cam) is None


@pytest.mark.parametrize("specs,needle", [
    (("Ghost@1",), "No object named 'Ghost'"),
    (("Cam@1",), "cannot focus on itself"),
    (("Near@5", "Far@5"), "Two marks on frame 5"),
    (("Near@10", "Far@5"), "out of order"),
    (("Near:head@1",), "not an armature"),
    (("Behind@3",), "'Behind' is behind camera 'Cam' at frame 3"),
])
def test_bad_marks_are_refused_and_nothing_changes(empty_scene, specs, needle):
    cam = two_subject_scene(empty_scene)
    add_empty(empty_scene, "Behind", (0.0, -2.0, 0.0))
    before = sorted(o.name for o in bpy.data.objects)
    with pytest.raises(RackFocusError, match=needle):
        create_pull(empty_scene, cam, marks(*specs))
    assert sorted(o.name for o in bpy.data.objects) == before
    assert pull.read_record(cam) is None and cam.data.dof.focus_object is None


def test_camera_problems(empty_scene):
    with pytest.raises(RackFocusError, match="has no camera"):
        resolve_camera(empty_scene)
    cam = add_camera(empty_scene)
    cam.data.type = "ORTHO"
    with pytest.raises(RackFocusError, match="perspective camera"):
        resolve_camera(empty_scene)
    with pytest.raises(RackFocusError, match="No camera named 'Nope'"):
        resolve_camera(empty_scene, "Nope")


def test_linked_camera_is_refused(empty_scene, tmp_path):
    two_subject_scene(empty_scene)
    lib = str(tmp_path / "lib.blend")
    bpy.data.libraries.write(lib, {bpy.data.objects["Cam"]})
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    with bpy.data.libraries.load(lib, link=True) as (src, dst):
        dst.objects = ["Cam"]
    scene.collection.objects.link(dst.objects[0])
    scene.camera = dst.objects[0]
    with pytest.raises(RackFocusError, match="linked from another file"):
        resolve_camera(scene)


def test_shared_action_with_two_slots(empty_scene):
    """Object and camera data keyed into one action: each finds its own F-curves."""
    cam = two_subject_scene(empty_scene)
    cam.keyframe_insert("location", frame=1)
    if compat.VERSION >= (4, 4, 0):
        cam.data.animation_data_create()
        cam.data.animation_data.action = cam.animation_data.action
        slot = cam.animation_data.action.slots.new(id_type="CAMERA", name="Cam")
        cam.data.animation_data.action_slot = slot
    create_pull(empty_scene, cam, marks("Near@1", "Far@20"), mode="bake")
    assert {fc.data_path for fc in compat.fcurves(cam)} == {"location"}
    assert {fc.data_path for fc in compat.fcurves(cam.data)} == {"dof.focus_distance"}
    assert effective_focus_m(empty_scene, cam, 20) == pytest.approx(8.0, abs=1e-3)
    pull.clear_pull(cam)
    assert {fc.data_path for fc in compat.fcurves(cam)} == {"location"}


@pytest.mark.parametrize("mode", MODES)
def test_saved_file_renders_the_pull_without_the_addon(empty_scene, tmp_path, mode):
    cam = two_subject_scene(empty_scene)
    create_pull(empty_scene, cam, marks("Near@1", "Far@21"), Easing("sine", "in-out"),
                     "diopter", mode)
    path = str(tmp_path / "pull.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    script = textwrap.dedent(f"""
        import json, sys
        assert not any('rackfocus' in m or 'rack_focus' in m for m in sys.modules)
        import bpy
        bpy.ops.wm.open_mainfile(filepath={path!r})
        scene = bpy.context.scene
        cam = scene.camera
        out = []
        for f in (1, 11, 21):
            scene.frame_set(f)
            t = cam.data.dof.focus_object
            if t is None:
                out.append(cam.data.dof.focus_distance)
            else:
                z = cam.matrix_world.col[2].xyz.normalized()
                out.append(abs(z.dot(cam.matrix_world.translation - t.matrix_world.translation)))
        print('RESULT', json.dumps(out))
    """)
    if bpy.app.binary_path and not bpy.app.binary_path.endswith("python"):
        cmd = [bpy.app.binary_path, "-b", "--factory-startup", "--python-expr", script]
    else:
        cmd = [sys.executable, "-c", script]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": ""})
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    values = json.loads(line.split(" ", 1)[1])
    assert values == pytest.approx([2.0, 3.2, 8.0], rel=0.01)


def _file_state():
    """Every datablock by name, and which IDs carry animation data (and their actions)."""
    collections = ("objects", "actions", "cameras", "meshes", "materials", "node_groups",
                   "images", "collections", "scenes", "armatures")
    state = {name: sorted(i.name for i in getattr(bpy.data, name)) for name in collections}
    ids = list(bpy.data.objects) + list(bpy.data.cameras)
    state["animated"] = sorted(
        (i.name, i.animation_data.action.name if i.animation_data.action else None)
        for i in ids if i.animation_data is not None)
    state["props"] = sorted((i.name, k) for i in ids for k in i.keys())
    return state


@pytest.mark.parametrize("modes", [("rig",), ("bake",), ("rig", "bake"), ("bake", "rig"),
                                   ("rig", "rig"), ("bake", "bake")])
@pytest.mark.parametrize("space", ["distance", "diopter"])
def test_pull_then_clear_leaves_the_file_as_found(empty_scene, modes, space):
    cam = two_subject_scene(empty_scene)
    add_empty(empty_scene, "Other", (0.0, 5.0, 0.0)).keyframe_insert("location", frame=1)
    before = _file_state()
    for mode in modes:
        create_pull(empty_scene, cam, marks("Near@1", "point:0,3,0@9", "Far@20"), mode=mode,
                    space=space, realism=Realism(fstop_ramp=(2.8, 2.0), breathing=0.02))
    assert _file_state() != before
    assert pull.clear_pull(cam).startswith("Cleared")
    assert _file_state() == before
    assert pull.clear_pull(cam) is None  # a second clear has nothing to do and says so


def test_marks_outside_the_scene_range_warn_but_write(empty_scene):
    cam = two_subject_scene(empty_scene)
    empty_scene.frame_start, empty_scene.frame_end = 10, 40
    result = create_pull(empty_scene, cam, marks("Near@5", "Far@60"), mode="bake")
    assert [n for n in result.notes if "outside the scene's range 10-40" in n]
    assert "5, 60" in result.notes[0]
    assert effective_focus_m(empty_scene, cam, 60) == pytest.approx(8.0, abs=1e-3)
    inside = create_pull(empty_scene, cam, marks("Near@10", "Far@40"), mode="bake")
    assert not [n for n in inside.notes if "outside" in n]


@pytest.mark.parametrize("name", ["Fox:Rig", "char:body", "a@b", 'say "hi"', "  padded ",
                                  "ünïcødé 名前", "a,b|c"])
def test_names_with_special_characters_can_be_marked(empty_scene, name):
    cam = two_subject_scene(empty_scene)
    add_empty(empty_scene, name, (0.0, 5.0, 0.0))
    ref = SubjectRef("object", name=name)
    result = create_pull(empty_scene, cam, [Mark(ref, frame=1), parse_mark("Far@20")],
                         mode="bake")
    assert result.mark_distances_m[0] == pytest.approx(5.0)
    again = pull.recorded_request(empty_scene, cam)
    assert again.marks[0].subject == ref  # the record round-trips the name


def test_unquoted_colon_names_resolve_when_unambiguous(empty_scene):
    cam = two_subject_scene(empty_scene)
    add_empty(empty_scene, "Fox:Rig", (0.0, 5.0, 0.0))
    result = create_pull(empty_scene, cam, marks("Fox:Rig@1", '"Fox:Rig"@20'), mode="bake")
    assert result.mark_distances_m == [pytest.approx(5.0)] * 2


def _rig(scene, name="Rig", bones=("b_Head", "b_Hand")):
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for i, bone in enumerate(bones):
        eb = arm.edit_bones.new(bone)
        eb.head, eb.tail = (0.0, 4.0 + i, 0.0), (0.0, 4.0 + i, 0.3)
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def test_missing_names_suggest_the_closest(empty_scene):
    cam = two_subject_scene(empty_scene)
    _rig(empty_scene)
    with pytest.raises(RackFocusError, match="did you mean 'Near'"):
        create_pull(empty_scene, cam, marks("Naer@1"))
    with pytest.raises(RackFocusError, match="did you mean 'b_Head'"):
        create_pull(empty_scene, cam, marks("Rig:b_head@1"))
    with pytest.raises(RackFocusError, match="is a bone of 'Rig'; write ARMATURE:BONE, e.g. "
                                             "Rig:b_Hand"):
        create_pull(empty_scene, cam, marks("b_Hand@1"))
    result = create_pull(empty_scene, cam, marks("Rig:b_Hand@1"), mode="bake")
    assert result.mark_distances_m[0] == pytest.approx(5.0)


def _walker_and_child(scene):
    """'Child' has no animation of its own: it moves only because its parent 'Walker' does."""
    walker = add_empty(scene, "Walker", (0.0, 0.0, 0.0))
    for frame, y in ((1, 0.0), (40, 6.0)):
        walker.location.y = y
        walker.keyframe_insert("location", index=1, frame=frame)
    child = add_empty(scene, "Child", (0.5, 4.0, 0.0))
    child.parent = walker
    assert child.animation_data is None and not child.constraints
    return child


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("space", ["distance", "diopter"])
def test_a_subject_moving_only_through_its_parent_is_tracked(empty_scene, mode, space):
    cam = two_subject_scene(empty_scene)
    child = _walker_and_child(empty_scene)
    empty_scene.frame_end = 40
    easing = Easing("sine", "in-out")
    create_pull(empty_scene, cam, marks("Near@1", "Child@20", "Child@40"), easing, space, mode)

    def depth(frame):
        empty_scene.frame_set(frame)
        return child.matrix_world.translation.y

    assert depth(40) - depth(20) > 2.5  # it really moves
    for frame in (20, 26, 33, 40):
        truth = depth(frame)
        assert effective_focus_m(empty_scene, cam, frame) == pytest.approx(truth, abs=0.01)
    # During the rack, focus blends towards where the child is at that frame.
    for frame in (6, 10, 15):
        w = easing((frame - 1) / 19.0, 19.0)
        truth = blend_focus(2.0, depth(frame), w, space)
        assert effective_focus_m(empty_scene, cam, frame) == pytest.approx(truth, abs=0.01)


def _key_state(fc):
    return [{"co": tuple(kp.co), "interpolation": kp.interpolation, "easing": kp.easing,
             "handle_left": tuple(kp.handle_left), "handle_right": tuple(kp.handle_right),
             "handle_left_type": kp.handle_left_type, "handle_right_type": kp.handle_right_type,
             "back": kp.back, "amplitude": kp.amplitude, "period": kp.period}
            for kp in fc.keyframe_points]


@pytest.mark.parametrize("mode", MODES)
def test_restored_user_keys_keep_interpolation_easing_and_handles(empty_scene, mode):
    cam = two_subject_scene(empty_scene)
    dof = cam.data.dof
    for frame, value in ((1, 3.0), (20, 5.0), (40, 2.5), (60, 6.0), (80, 4.0)):
        dof.focus_distance = value
        dof.keyframe_insert("focus_distance", frame=frame)
    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    k = fc.keyframe_points
    k[0].interpolation = "CONSTANT"
    k[1].interpolation, k[1].easing = "EXPO", "EASE_OUT"
    k[2].interpolation = "BEZIER"
    k[2].handle_left_type = k[2].handle_right_type = "FREE"
    k[2].handle_left, k[2].handle_right = (31.0, 1.2), (47.5, 4.25)
    k[3].interpolation, k[3].easing, k[3].back = "BACK", "EASE_IN_OUT", 2.5
    k[4].interpolation, k[4].amplitude, k[4].period = "ELASTIC", 0.3, 2.0
    fc.update()
    before = _key_state(fc)
    curve = [fc.evaluate(f) for f in range(1, 81)]

    create_pull(empty_scene, cam, marks("Near@1", "Far@30"), mode=mode, replace=True)
    pulled = compat.find_fcurve(cam.data, "dof.focus_distance")
    assert pulled is None or _key_state(pulled) != before  # the user keys were replaced
    pull.clear_pull(cam)

    fc = compat.find_fcurve(cam.data, "dof.focus_distance")
    after = _key_state(fc)
    assert len(after) == len(before)
    for was, now in zip(before, after):
        for key, value in was.items():
            if isinstance(value, tuple):
                assert now[key] == pytest.approx(value, abs=1e-6), key
            elif isinstance(value, float):
                assert now[key] == pytest.approx(value, abs=1e-6), key
            else:
                assert now[key] == value, key
    assert [fc.evaluate(f) for f in range(1, 81)] == pytest.approx(curve, abs=1e-6)
