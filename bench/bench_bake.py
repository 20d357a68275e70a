"""Benchmark: creating pulls and baking 2,000 frames with a moving subject.

Side by side in one run: Rack Focus's rig pull (constraints with keyed influence), its bake (focus
distance keys along the view axis), and Blender's own ``bpy.ops.nla.bake`` of the same constraint
rig (visual keying of the target empty). Then the same shot with one heavy animated Geometry
Nodes surface beside it (a 300x300 grid displaced by 4D noise over time, what a real set has):
the bake evaluates only the camera and the subjects, so it should not notice the surface, while
``nla.bake`` (which evaluates the whole scene on every frame) does. nla.bake on the heavy scene
runs on ``--heavy-nla-frames`` frames and is scaled to the full length (its cost is per frame).
Prints figures and ratios; asserts nothing about speed.

Run: .venv/bin/python bench/bench_bake.py [--frames 2000] [--heavy-nla-frames 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bpy  # noqa: E402

from rackfocus_addon.bl import compat, pull  # noqa: E402
from rackfocus_addon.easing import Easing  # noqa: E402
from rackfocus_addon.marks import parse_mark  # noqa: E402
from rackfocus_addon.request import PullRequest  # noqa: E402


def build(frames: int):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, frames
    cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
    cam.rotation_euler = (1.5707963, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    near = bpy.data.objects.new("Near", None)
    near.location = (0.0, 2.0, 0.0)
    scene.collection.objects.link(near)
    walker = bpy.data.objects.new("Walker", None)
    scene.collection.objects.link(walker)
    for frame, y, x in ((1, 12.0, -1.0), (frames // 2, 4.0, 1.0), (frames, 9.0, 0.0)):
        walker.location = (x, y, 0.0)
        walker.keyframe_insert("location", frame=frame)
    bpy.context.view_layer.update()
    marks = [parse_mark(s) for s in ("Near@1", f"Near@{frames // 10}",
                                     f"Walker@{frames // 5}", f"Walker@{frames}")]
    return scene, cam, marks


def add_heavy_surface(scene, resolution: int = 300) -> bpy.types.Object:
    """A grid displaced every frame by Geometry Nodes noise over scene time (heavy to evaluate)."""
    group = bpy.data.node_groups.new("Heavy Noise", "GeometryNodeTree")
    group.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    nodes, links = group.nodes, group.links
    out = nodes.new("NodeGroupOutput")
    grid = nodes.new("GeometryNodeMeshGrid")
    grid.inputs["Vertices X"].default_value = resolution
    grid.inputs["Vertices Y"].default_value = resolution
    grid.inputs["Size X"].default_value = grid.inputs["Size Y"].default_value = 20.0
    noise = nodes.new("ShaderNodeTexNoise")
    noise.noise_dimensions = "4D"
    time = nodes.new("GeometryNodeInputSceneTime")
    links.new(time.outputs["Seconds"], noise.inputs["W"])
    setpos = nodes.new("GeometryNodeSetPosition")
    links.new(grid.outputs["Mesh"], setpos.inputs["Geometry"])
    links.new(noise.outputs["Color"], setpos.inputs["Offset"])
    links.new(setpos.outputs["Geometry"], out.inputs[0])
    obj = bpy.data.objects.new("Heavy Surface", bpy.data.meshes.new("Heavy Surface"))
    obj.location = (0.0, 15.0, -2.0)
    obj.modifiers.new("Heavy", "NODES").node_group = group
    scene.collection.objects.link(obj)
    return obj


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def nla_bake_s(scene, target, frames: int) -> float:
    """Seconds Blender's own bake (``nla.bake``, visual keying) takes to key ``target`` on
    frames 1..``frames``."""
    for obj in scene.objects:
        obj.select_set(obj == target)
    bpy.context.view_layer.objects.active = target
    with bpy.context.temp_override(active_object=target, selected_objects=[target],
                                   selected_editable_objects=[target]):
        seconds, _ = timed(lambda: bpy.ops.nla.bake(
            frame_start=1, frame_end=frames, only_selected=True, visual_keying=True,
            clear_constraints=False, use_current_action=False, bake_types={"OBJECT"}))
    return seconds

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--heavy-nla-frames", type=int, default=100,
                    help="frames of nla.bake to time on the heavy scene (scaled to --frames)")
    args = ap.parse_args()
    n = args.frames

    scene, cam, marks = build(n)
    sine = Easing("sine", "in-out")
    t_rig, rig = timed(lambda: pull.write_pull(scene, cam, PullRequest(marks, sine, "distance")))
    t_rig_d, rig_d = timed(lambda: pull.write_pull(scene, cam,
                                                   PullRequest(marks, sine, "diopter")))
    target = bpy.data.objects[rig.target]

    # Blender's own way to flatten the same rig: visual-key the target on every frame.
    t_nla = nla_bake_s(scene, target, n)
    nla_keys = sum(len(fc.keyframe_points) for fc in compat.fcurves(target))

    scene, cam, marks = build(n)
    t_bake, bake = timed(lambda: pull.write_pull(scene, cam,
                                                 PullRequest(marks, sine, "diopter", "bake")))

    scene, cam, _ = build(n)
    static = [parse_mark(s) for s in ("Near@1", f"Near@{n // 10}")]
    t_static, stat = timed(lambda: pull.write_pull(scene, cam,
                                                   PullRequest(static, sine, "distance", "bake")))

    print(f"Blender {bpy.app.version_string}, {n} frames, moving subject")
    print(f"{'what':44s} {'seconds':>9s} {'ms/frame':>9s} {'keys':>7s}")
    rows = [
        ("rig pull, distance (constraints + 2 keys)", t_rig, rig.keys_written),
        ("rig pull, diopter (influence keyed per frame)", t_rig_d, rig_d.keys_written),
        ("bake pull, diopter (focus distance keys)", t_bake, bake.keys_written),
        ("bake pull, static subjects", t_static, stat.keys_written),
        ("bpy.ops.nla.bake of the same rig (visual keys)", t_nla, nla_keys),
    ]
    for name, secs, keys in rows:
        print(f"{name:44s} {secs:9.3f} {1000 * secs / n:9.3f} {keys:7d}")
    print(f"ratio nla.bake / rack focus bake: {t_nla / t_bake:.2f}x")
    print(f"ratio nla.bake / rack focus rig (distance): {t_nla / t_rig:.1f}x")
    heavy(n, args.heavy_nla_frames, t_bake)


def heavy(n: int, nla_frames: int, t_light_bake: float) -> None:
    """The same bake beside a heavy animated Geometry Nodes surface."""
    scene, cam, marks = build(n)
    add_heavy_surface(scene)
    t_frame, _ = timed(lambda: [scene.frame_set(f) for f in range(1, 11)])
    sine = Easing("sine", "in-out")
    t_create, _ = timed(lambda: pull.write_pull(
        scene, cam, PullRequest((marks[0], marks[-1]), sine, "distance", "rig")))
    t_bake, bake = timed(lambda: pull.write_pull(scene, cam,
                                                 PullRequest(marks, sine, "diopter", "bake")))
    scene, cam, marks = build(n)
    add_heavy_surface(scene)
    rig = pull.write_pull(scene, cam, PullRequest(marks, sine, "distance", "rig"))
    target = bpy.data.objects[rig.target]
    t_nla = nla_bake_s(scene, target, nla_frames)
    t_nla_full = t_nla * n / nla_frames
    print()
    print(f"heavy scene: + animated Geometry Nodes grid, scene.frame_set "
          f"{100 * t_frame:.1f} ms/frame")
    print(f"{'what':44s} {'seconds':>9s} {'ms/frame':>9s} {'keys':>7s}")
    print(f"{'create a two-mark rig pull':44s} {t_create:9.3f} {'':>9s} {'':>7s}")
    print(f"{'bake pull, diopter':44s} {t_bake:9.3f} {1000 * t_bake / n:9.3f} "
          f"{bake.keys_written:7d}")
    print(f"{f'nla.bake, {nla_frames} frames, scaled to {n}':44s} {t_nla_full:9.3f} "
          f"{1000 * t_nla / nla_frames:9.3f}")
    print(f"ratio nla.bake / rack focus bake (heavy scene): {t_nla_full / t_bake:.0f}x "
          "(target: at least 50x)")
    print(f"ratio heavy / light scene bake: {t_bake / t_light_bake:.2f}x (target: at most 2x)")
    print(f"two-mark pull: {1000 * t_create:.1f} ms (target: under 50 ms)")


if __name__ == "__main__":
    main()
