"""Scoped evaluation: only the camera, the subjects and their dependencies are evaluated, with
the same positions as the whole scene, and nothing is left behind."""

from __future__ import annotations

import math

import bpy
import numpy as np
import pytest

from helpers import add_camera, add_empty, create_pull
from rackfocus_addon.bl import evaluate
from rackfocus_addon.bl.scene_eval import sample_distances
from rackfocus_addon.bl.subjects import resolve_subjects
from rackfocus_addon.marks import parse_mark, parse_subject

FRAMES = range(1, 41, 3)


def _key(obj, path, frames_values, index=-1):
    for frame, value in frames_values:
        setattr(obj, path, value)
        obj.keyframe_insert(path, index=index, frame=frame)


def _rigged_scene(scene):
    """Parenting, Child Of, Track To, Follow Path, a driver and an armature, all animated, and
    a heavy-ish unrelated animated object that must not be needed."""
    cam = add_camera(scene)
    _key(cam, "location", [(1, (0.0, 0.0, 0.0)), (40, (0.5, -1.0, 0.2))])
    walker = add_empty(scene, "Walker", (0.0, 4.0, 0.0))
    _key(walker, "location", [(1, (0.0, 4.0, 0.0)), (40, (1.0, 9.0, 0.5))])
    head = add_empty(scene, "Head", (0.0, 0.0, 1.6))
    head.parent = walker
    anchor = add_empty(scene, "Anchor", (0.0, 6.0, 0.0))
    _key(anchor, "rotation_euler", [(1, (0.0, 0.0, 0.0)), (40, (0.0, 0.0, 1.2))])
    held = add_empty(scene, "Held", (0.0, 0.0, 0.0))
    child_of = held.constraints.new("CHILD_OF")
    child_of.target = anchor
    held.location = (1.0, 0.0, 0.0)
    tracker = add_empty(scene, "Tracker", (0.0, 5.0, 0.0))
    track = tracker.constraints.new("TRACK_TO")
    track.target = walker
    probe = add_empty(scene, "Probe", (0.0, 0.5, 0.0))
    probe.parent = tracker
    curve_data = bpy.data.curves.new("Path", "CURVE")
    curve_data.dimensions = "3D"
    spline = curve_data.splines.new("POLY")
    spline.points.add(1)
    spline.points[0].co = (-2.0, 3.0, 0.0, 1.0)
    spline.points[1].co = (2.0, 10.0, 1.0, 1.0)
    path = bpy.data.objects.new("Path", curve_data)
    scene.collection.objects.link(path)
    rider = add_empty(scene, "Rider", (0.0, 0.0, 0.0))
    follow = rider.constraints.new("FOLLOW_PATH")
    follow.target = path
    follow.use_fixed_location = True
    follow.offset_factor = 0.0
    rider.keyframe_insert(f'constraints["{follow.name}"].offset_factor', frame=1)
    follow.offset_factor = 1.0
    rider.keyframe_insert(f'constraints["{follow.name}"].offset_factor', frame=40)
    driven = add_empty(scene, "Driven", (0.0, 7.0, 0.0))
    fc = driven.driver_add("location", 0)
    var = fc.driver.variables.new()
    var.type = "TRANSFORMS"
    var.targets[0].id = walker
    var.targets[0].transform_type = "LOC_Y"
    fc.driver.expression = var.name + " * 0.5"
    arm = bpy.data.armatures.new("Rig")
    rig = bpy.data.objects.new("Rig", arm)
    scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm.edit_bones.new("Root")
    bone.head, bone.tail = (0.0, 5.0, 0.0), (0.0, 5.0, 1.0)
    tip = arm.edit_bones.new("Tip")
    tip.head, tip.tail, tip.parent = (0.0, 5.0, 1.0), (0.0, 5.5, 2.0), bone
    bpy.ops.object.mode_set(mode="OBJECT")
    root = rig.pose.bones["Root"]
    root.rotation_mode = "XYZ"
    _key(root, "rotation_euler", [(1, (0.0, 0.0, 0.0)), (40, (0.8, 0.0, 0.3))])
    ik = rig.pose.bones["Tip"].constraints.new("DAMPED_TRACK")
    ik.target = walker
    bystander = add_empty(scene, "Bystander", (3.0, 3.0, 0.0))
    _key(bystander, "location", [(1, (3.0, 3.0, 0.0)), (40, (3.0, 6.0, 0.0))])
    bpy.context.view_layer.update()
    return cam


SUBJECTS = ("Head", "Held", "Probe", "Rider", "Driven", "Rig:Tip", "Rig:Root")


def _full_scene(scene, cam, subjects):
    out = np.empty((len(subjects), len(FRAMES)))
    for i, frame in enumerate(FRAMES):
        scene.frame_set(frame)
        mw = cam.matrix_world
        pos = np.array(mw.translation)
        forward = -np.array(mw.col[2][:3]) / np.linalg.norm(mw.col[2][:3])
        for j, s in enumerate(subjects):
            out[j, i] = np.dot(s.position() - pos, forward)
    return out


def test_scoped_positions_equal_the_whole_scene_on_every_frame(empty_scene, tmp_path):
    _rigged_scene(empty_scene)
    # Reopen the file: a Follow Path constraint added by script only evaluates in the active
    # scene once its relations are rebuilt, and the whole-scene truth must be Blender's own.
    path = str(tmp_path / "rigged.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.open_mainfile(filepath=path)
    empty_scene = bpy.context.scene
    cam = empty_scene.camera
    subjects = resolve_subjects(empty_scene, cam, [parse_subject(s) for s in SUBJECTS])
    closure, unresolved = evaluate.dependencies([cam] + [s.obj for s in subjects])
    assert unresolved == []
    names = {o.name for o in closure}
    assert {"Walker", "Anchor", "Tracker", "Path", "Rig"} <= names
    assert "Bystander" not in names
    empty_scene.frame_set(7)
    notes = []
    scoped = sample_distances(empty_scene, cam, subjects, FRAMES, notes=notes)
    assert notes == []
    assert empty_scene.frame_current == 7  # the shot's frame is untouched
    truth = _full_scene(empty_scene, cam, subjects)
    assert np.abs(scoped - truth).max() < 1e-6
    assert np.ptp(scoped, axis=1).min() > 0.05  # every subject really moves


def test_nothing_is_left_behind_even_on_an_error(empty_scene):
    cam = _rigged_scene(empty_scene)
    subjects = resolve_subjects(empty_scene, cam, [parse_subject("Head")])
    scenes = [s.name for s in bpy.data.scenes]
    users = {o.name: tuple(sorted(s.name for s in o.users_scene)) for o in bpy.data.objects}
    empty_scene.frame_set(5)

    def boom(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sample_distances(empty_scene, cam, subjects, FRAMES, progress=boom)
    assert [s.name for s in bpy.data.scenes] == scenes
    assert {o.name: tuple(sorted(s.name for s in o.users_scene))
            for o in bpy.data.objects} == users
    assert empty_scene.frame_current == 5


def test_a_dependency_it_cannot_follow_falls_back_and_says_so(empty_scene):
    cam = add_camera(empty_scene)
    moved = add_empty(empty_scene, "ByFrame", (0.0, 4.0, 0.0))
    fc = moved.driver_add("location", 1)
    var = fc.driver.variables.new()
    var.type = "SINGLE_PROP"
    var.targets[0].id_type = "SCENE"
    var.targets[0].id = empty_scene
    var.targets[0].data_path = "frame_current"
    fc.driver.expression = f"4 + {var.name} * 0.1"
    bpy.context.view_layer.update()
    subjects = resolve_subjects(empty_scene, cam, [parse_subject("ByFrame")])
    notes = []
    got = sample_distances(empty_scene, cam, subjects, [1, 11], notes=notes)
    assert notes and "reads scene 'Scene'" in notes[0]
    assert got[0] == pytest.approx([4.1, 5.1], abs=1e-4)
    result = create_pull(empty_scene, cam, [parse_mark("ByFrame@1"), parse_mark("ByFrame@11")],
                         mode="bake")
    assert any("whole scene" in n for n in result.notes)


def test_bake_reads_no_unrelated_heavy_object(empty_scene):
    """A pull's sampling never evaluates an object it does not depend on: a driver that counts
    its own evaluations stays untouched while a 40-frame moving bake runs."""
    cam = _rigged_scene(empty_scene)
    counter = add_empty(empty_scene, "Counter", (0.0, 0.0, 0.0))
    bpy.app.driver_namespace["rackfocus_count"] = calls = []

    def count(frame):
        calls.append(frame)
        return 0.0

    bpy.app.driver_namespace["rackfocus_counted"] = count
    counter.driver_add("location", 2).driver.expression = "rackfocus_counted(frame)"
    empty_scene.frame_set(1)
    before = len(calls)
    create_pull(empty_scene, cam, [parse_mark("Head@1"), parse_mark("Rider@40")], mode="bake")
    assert len(calls) - before <= 2  # the final refresh of the current frame, not 40 frames
    assert math.isfinite(cam.data.dof.focus_distance)


def test_a_target_reachable_only_through_a_driver_is_evaluated(empty_scene):
    """Issue 19: 'Mover' is nothing's parent or constraint target, only a driver variable's: it
    must be in the closure, and the driven subject's distances equal the whole scene's."""
    cam = add_camera(empty_scene)
    mover = add_empty(empty_scene, "Mover", (0.0, 3.0, 0.0))
    _key(mover, "location", [(1, (0.0, 3.0, 0.0)), (40, (0.0, 12.0, 0.0))])
    driven = add_empty(empty_scene, "Driven", (0.0, 0.0, 0.0))
    fc = driven.driver_add("location", 1)
    var = fc.driver.variables.new()
    var.type = "TRANSFORMS"
    var.targets[0].id = mover
    var.targets[0].transform_type = "LOC_Y"
    fc.driver.expression = var.name  # the camera looks along +Y: distance = Mover's Y
    bpy.context.view_layer.update()
    subjects = resolve_subjects(empty_scene, cam, [parse_subject("Driven")])
    closure, unresolved = evaluate.dependencies([cam, driven])
    assert unresolved == [] and "Mover" in {o.name for o in closure}
    notes = []
    scoped = sample_distances(empty_scene, cam, subjects, FRAMES, notes=notes)
    assert notes == []
    truth = _full_scene(empty_scene, cam, subjects)
    assert np.abs(scoped - truth).max() < 1e-6
    assert scoped[0, -1] - scoped[0, 0] > 8.0  # it really moves with Mover
