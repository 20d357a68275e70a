"""Footage demo: render a small CG shot (colour + exact depth), import it as a depth plate and
pull focus across it. The tests and the benchmark use the same shot as footage; their true-DOF
ground truth and compositor baseline live with them (tests/bl_oracles.py), not here.

The CG scene is lit by emission only (no noise from lighting), so a handful of samples gives a
clean all-in-focus "footage" frame and a true-DOF render converges fast. Camera at the origin
looking down +Y, 50 mm lens on a 36 mm sensor:

- a checkered back wall at 8 m,
- a striped box at 2 m (left) and a textured sphere at 3.5 m (right, moving in a sequence).
"""

from __future__ import annotations

import math
import os

import bpy

from ..marks import Mark, SubjectRef
from ..plate_request import PlateRequest
from ..progress import Progress
from ..request import PullRequest
from . import compat
from . import pull as pull_engine
from . import render as render_engine
from .files import save_blend
from .plate import import_plate

WALL_M = 8.0
BOX_M = 2.0
SPHERE_M = 3.5
SENSOR_MM = 36.0
FOCAL_MM = 50.0


def _emission_material(name: str, color_a, color_b, scale: float, kind: str = "checker"):
    mat = compat.new_node_material(name)
    tree = mat.node_tree
    tree.nodes.clear()
    coord = tree.nodes.new("ShaderNodeTexCoord")
    if kind == "checker":
        tex = tree.nodes.new("ShaderNodeTexChecker")
        tex.inputs["Color1"].default_value = (*color_a, 1.0)
        tex.inputs["Color2"].default_value = (*color_b, 1.0)
        tex.inputs["Scale"].default_value = scale
        tree.links.new(coord.outputs["Object"], tex.inputs["Vector"])
        color = tex.outputs["Color"]
    else:
        tex = tree.nodes.new("ShaderNodeTexWave")
        tex.inputs["Scale"].default_value = scale
        tree.links.new(coord.outputs["Object"], tex.inputs["Vector"])
        ramp = tree.nodes.new("ShaderNodeMixRGB")
        tree.links.new(tex.outputs["Fac"], ramp.inputs["Fac"])
        ramp.inputs["Color1"].default_value = (*color_a, 1.0)
        ramp.inputs["Color2"].default_value = (*color_b, 1.0)
        color = ramp.outputs["Color"]
    emit = tree.nodes.new("ShaderNodeEmission")
    tree.links.new(color, emit.inputs["Color"])
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(emit.outputs[0], out.inputs["Surface"])
    return mat


def _add_mesh(scene, name: str, kind: str, location, size: float, material):
    mesh = bpy.data.meshes.new(name)
    import bmesh

    bm = bmesh.new()
    if kind == "box":
        bmesh.ops.create_cube(bm, size=size)
    elif kind == "sphere":
        bmesh.ops.create_uvsphere(bm, u_segments=48, v_segments=24, radius=size)
        for f in bm.faces:
            f.smooth = True
    else:
        bmesh.ops.create_grid(bm, x_segments=1, y_segments=1, size=size)
    bm.to_mesh(mesh)
    bm.free()
    mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    scene.collection.objects.link(obj)
    return obj


def build_cg_scene(scene: bpy.types.Scene, width: int = 160, height: int = 90,
                   frames: int = 1) -> bpy.types.Object:
    """The ground-truth CG shot; returns its camera. ``frames`` > 1 moves the sphere sideways."""
    cam_data = bpy.data.cameras.new("CG Camera")
    cam_data.lens = FOCAL_MM
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = SENSOR_MM
    cam_data.clip_start = 0.05
    cam_data.clip_end = 100.0
    cam = bpy.data.objects.new("CG Camera", cam_data)
    cam.rotation_euler = (math.pi / 2.0, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    wall = _add_mesh(scene, "Wall", "plane", (0.0, WALL_M, 0.0), 8.0,
                     _emission_material("Wall", (0.9, 0.85, 0.7), (0.05, 0.1, 0.2), 10.0))
    wall.rotation_euler = (math.pi / 2.0, 0.0, 0.0)
    box = _add_mesh(scene, "Box", "box", (-0.3, BOX_M + 0.2, -0.05), 0.4,
                    _emission_material("Box", (1.0, 0.2, 0.05), (0.9, 0.9, 0.1), 6.0, "wave"))
    box.rotation_euler = (0.3, 0.0, 0.6)
    sphere = _add_mesh(scene, "Sphere", "sphere", (0.55, SPHERE_M, 0.1), 0.45,
                       _emission_material("Sphere", (0.1, 0.8, 0.3), (0.95, 0.95, 0.95), 8.0))
    scene.frame_start, scene.frame_end = 1, max(1, frames)
    if frames > 1:
        for f, x in ((1, 0.55), (frames, 0.2)):
            sphere.location.x = x
            sphere.keyframe_insert("location", index=0, frame=f)
    world = compat.new_node_world("CG World")
    bg = world.node_tree.nodes.get("Background")
    if bg is not None:
        bg.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    scene.world = world
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.render.dither_intensity = 0.0
    bpy.context.view_layer.update()
    return cam


def _depth_material() -> bpy.types.Material:
    """Emission of the planar view depth (metres), for an exact one-sample depth render."""
    mat = compat.new_node_material("RF Depth Probe")
    tree = mat.node_tree
    tree.nodes.clear()
    cam = tree.nodes.new("ShaderNodeCameraData")
    emit = tree.nodes.new("ShaderNodeEmission")
    tree.links.new(cam.outputs["View Z Depth"], emit.inputs["Color"])
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(emit.outputs[0], out.inputs["Surface"])
    return mat


def render_footage(scene: bpy.types.Scene, out_dir: str, samples: int = 16,
                   progress: Progress | None = None) -> tuple[list[str], list[str]]:
    """Render the shot all-in-focus as 8-bit PNG frames plus exact planar depth EXRs (metres).

    Returns (footage paths, depth paths), one per frame, numbered from 1.
    """
    os.makedirs(out_dir, exist_ok=True)
    cam = scene.camera
    cam.data.dof.use_dof = False
    layer = bpy.context.view_layer
    colors, depths = [], []
    total = scene.frame_end - scene.frame_start + 1
    keep = scene.render.filter_size, scene.cycles.samples
    for i, frame in enumerate(range(scene.frame_start, scene.frame_end + 1)):
        scene.frame_set(frame)
        layer.material_override = None
        scene.render.filter_size, scene.cycles.samples = keep[0], samples
        path = os.path.join(out_dir, f"shot_{i + 1:04d}.png")
        render_still(scene, path, "PNG")
        colors.append(path)
        # Depth: one sample at each pixel centre, so every pixel holds one surface's exact depth.
        layer.material_override = _depth_material()
        scene.render.filter_size, scene.cycles.samples = 0.01, 1
        dpath = os.path.join(out_dir, f"depth_{i + 1:04d}.exr")
        render_still(scene, dpath, "OPEN_EXR")
        depths.append(dpath)
        layer.material_override = None
        if progress is not None:
            progress("rendered footage frames", i + 1, total)
    scene.render.filter_size, scene.cycles.samples = keep
    scene.frame_set(scene.frame_start)
    return colors, depths


def render_still(scene: bpy.types.Scene, path: str, file_format: str) -> None:
    """Render the current frame of ``scene`` to ``path`` ('PNG': 8-bit RGB, 'OPEN_EXR': float)."""
    compat.set_image_output(scene, file_format)
    settings = scene.render.image_settings
    settings.color_mode = "RGB"
    if file_format == "OPEN_EXR":
        settings.color_depth = "32"
    else:
        settings.color_depth = "8"
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True, scene=scene.name)


def run_plate_demo(out_dir: str, progress: Progress | None = None, width: int = 160,
                   height: int = 90, frames: int = 12, samples: int = 32) -> dict[str, str]:
    """Render footage + depth, import it as a plate, pull focus box -> wall by pixel marks.

    Writes ``out_dir/footage/`` (the rendered shot and its depth), ``out_dir/plate_demo.blend``
    and the refocused frames in ``out_dir/frames/``; returns their paths (keys ``plate_*``).
    """
    out_dir = os.path.abspath(out_dir)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    cg = bpy.context.scene
    build_cg_scene(cg, width, height, frames)
    colors, depths = render_footage(cg, os.path.join(out_dir, "footage"), progress=progress)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    os.makedirs(out_dir, exist_ok=True)
    blend = os.path.join(out_dir, "plate_demo.blend")
    bpy.ops.wm.save_as_mainfile(filepath=blend)
    result = import_plate(scene, PlateRequest(colors[0], depths[0], sensor_mm=SENSOR_MM,
                                              focal_mm=FOCAL_MM), progress)
    camera = scene.objects[result.camera]
    camera.data.dof.aperture_fstop = 1.4
    box_px = (int(width * 0.30), int(height * 0.60))
    wall_px = (int(width * 0.08), int(height * 0.15))
    first, last = scene.frame_start, scene.frame_end
    hold = max(1, (last - first) // 4)
    marks = [Mark(SubjectRef("pixel", coords=box_px), frame=first),
             Mark(SubjectRef("pixel", coords=box_px), frame=first + hold),
             Mark(SubjectRef("pixel", coords=wall_px), frame=last - hold),
             Mark(SubjectRef("pixel", coords=wall_px), frame=last)]
    pull = pull_engine.write_pull(scene, camera, PullRequest(tuple(marks), mode="bake"))
    render_engine.configure(scene, "cycles", samples)
    save_blend(blend)
    frames_dir = os.path.join(out_dir, "frames")
    paths = render_engine.render_frames(scene, frames_dir, range(first, last + 1), progress)
    out = {"plate_blend": blend, "plate_footage": os.path.dirname(colors[0]),
           "plate_frames": frames_dir, "plate_summary": pull.summary()}
    out["plate_contact_sheet"] = render_engine.contact_sheet(
        paths, os.path.join(out_dir, "contact_sheet.png"))
    return out
