"""The demo: a small scene with subjects at clearly different depths, a foreground-to-background
pull on a shallow lens, rendered to frames, an MP4 and a contact sheet."""

from __future__ import annotations

import math
import os

import bpy

from .. import plot
from ..easing import Easing
from ..marks import Mark, SubjectRef
from ..progress import Progress
from ..request import PullRequest
from ..shots import key_frames
from . import compat, demo_plate, export, pull, render
from .files import save_blend

#: Subjects of the demo: name, kind, position (metres; the camera looks down +Y), colours.
SUBJECTS = (
    ("Near", "sphere", (-0.35, 1.6, 0.0), ((0.9, 0.25, 0.1), (0.95, 0.85, 0.2))),
    ("Mid", "cube", (0.15, 3.5, -0.1), ((0.1, 0.6, 0.3), (0.9, 0.9, 0.9))),
    ("Far", "monkey", (1.7, 8.0, 0.15), ((0.15, 0.3, 0.9), (0.9, 0.9, 0.95))),
)


def checker_material(name: str, colors, scale: float = 8.0) -> bpy.types.Material:
    mat = compat.new_node_material(name)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = next(n for n in nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    checker = nodes.new("ShaderNodeTexChecker")
    checker.inputs["Scale"].default_value = scale
    checker.inputs["Color1"].default_value = (*colors[0], 1.0)
    checker.inputs["Color2"].default_value = (*colors[1], 1.0)
    links.new(checker.outputs["Color"], bsdf.inputs["Base Color"])
    return mat


def mesh_object(scene, name: str, kind: str, location, size: float) -> bpy.types.Object:
    import bmesh

    bm = bmesh.new()
    if kind == "sphere":
        bmesh.ops.create_uvsphere(bm, u_segments=32, v_segments=16, radius=size)
    elif kind == "cube":
        bmesh.ops.create_cube(bm, size=size * 2.0)
    elif kind == "monkey":
        bmesh.ops.create_monkey(bm)
        bmesh.ops.scale(bm, vec=(size, size, size), verts=bm.verts)
    else:  # plane
        bmesh.ops.create_grid(bm, x_segments=1, y_segments=1, size=size)
    mesh = bpy.data.meshes.new(name)
    bm.to_mesh(mesh)
    bm.free()
    for poly in mesh.polygons:
        poly.use_smooth = kind != "cube"
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    scene.collection.objects.link(obj)
    return obj


def build_scene(scene: bpy.types.Scene | None = None, fps: int = 24,
                frames: int = 48) -> bpy.types.Scene:
    """Fill ``scene`` (default: a new empty file's scene) with the demo set and camera."""
    if scene is None:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
    scene.render.fps = fps
    scene.frame_start, scene.frame_end = 1, frames
    cam_data = bpy.data.cameras.new("Camera")
    cam_data.lens = 50.0
    cam_data.sensor_width = 36.0
    cam_data.dof.aperture_fstop = 1.4
    cam = bpy.data.objects.new("Camera", cam_data)
    cam.rotation_euler = (math.radians(90.0), 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    sizes = {"sphere": 0.22, "cube": 0.3, "monkey": 0.6}
    for name, kind, location, colors in SUBJECTS:
        obj = mesh_object(scene, name, kind, location, sizes[kind])
        obj.data.materials.append(checker_material(f"{name} Checker", colors))
    wall = mesh_object(scene, "Backdrop", "plane", (0.0, 14.0, 0.0), 8.0)
    wall.rotation_euler = (math.radians(90.0), 0.0, 0.0)
    wall.data.materials.append(checker_material("Backdrop Checker", ((0.3, 0.3, 0.32),
                                                                      (0.6, 0.6, 0.62)), 24.0))
    floor = mesh_object(scene, "Floor", "plane", (0.0, 7.0, -0.6), 8.0)
    floor.data.materials.append(checker_material("Floor Checker", ((0.25, 0.22, 0.2),
                                                                    (0.5, 0.45, 0.4)), 32.0))
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(50.0), math.radians(10.0), math.radians(-30.0))
    scene.collection.objects.link(sun)
    world = compat.new_node_world("World")
    scene.world = world
    background = world.node_tree.nodes.get("Background") if world.node_tree else None
    if background is not None:
        background.inputs["Color"].default_value = (0.2, 0.22, 0.25, 1.0)
    bpy.context.view_layer.update()
    return scene


def run_demo(out_dir: str, progress: Progress | None = None, resolution=(320, 180),
             samples: int = 16, frames: int = 48, with_plate: bool = True) -> dict[str, str]:
    """Build the demo scene, pull focus from 'Near' to 'Far', render; returns the written files."""
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    scene = build_scene(frames=frames)
    hold = max(1, frames // 4)
    marks = [
        Mark(SubjectRef("object", "Near"), frame=1),
        Mark(SubjectRef("object", "Near"), frame=hold),
        Mark(SubjectRef("object", "Far"), frame=frames - hold),
        Mark(SubjectRef("object", "Far"), frame=frames),
    ]
    request = PullRequest(tuple(marks), Easing("sine", "in-out"), "diopter", "rig")
    result = pull.write_pull(scene, scene.camera, request, progress)
    render.configure(scene, "cycles", samples, resolution)
    # 16 samples are grainy: denoised where this Blender can, else twice the samples.
    denoised = render.enable_denoiser(scene)
    if not denoised:
        scene.cycles.samples = 2 * samples
    blend = os.path.join(out_dir, "demo.blend")
    save_blend(blend)
    frames_dir = os.path.join(out_dir, "frames")
    paths = render.render_frames(scene, frames_dir, range(1, frames + 1), progress)
    outputs = {
        "blend": blend,
        "frames": frames_dir,
        "contact_sheet": _contact_sheet(scene, paths, [m.frame for m in marks],
                                        os.path.join(out_dir, "contact_sheet.png")),
        "movie": render.make_movie(paths, os.path.join(out_dir, "pull.mp4"), scene.render.fps),
        "summary": result.summary(),
        "denoiser": ("OpenImageDenoise" if denoised else
                     f"none in this Blender: {scene.cycles.samples} samples instead"),
    }
    if with_plate:
        outputs.update(demo_plate.run_plate_demo(os.path.join(out_dir, "plate"), progress))
    return outputs


def _contact_sheet(scene: bpy.types.Scene, paths: list[str], mark_frames: list[int],
                   out_path: str) -> str:
    """The batch's contact sheet of the demo's frames (``paths[i]`` is frame i + 1): the marks'
    frames and evenly spread others, each labelled with its frame and focus distance."""
    picks = key_frames(range(1, len(paths) + 1), mark_frames)
    rows = export.collect(scene, scene.camera, picks)["frames"]
    focus = {row["frame"]: row["focus_m"] for row in rows}
    return render.labelled_contact_sheet([paths[f - 1] for f in picks],
                                         [plot.frame_label(f, focus[f]) for f in picks],
                                         out_path)
