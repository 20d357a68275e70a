"""Scene builders and image measures shared by the bpy tests."""

from __future__ import annotations

import math
import os
import tempfile

import bpy
import numpy as np

from rackfocus_addon.bl import pull
from rackfocus_addon.bl.render import load_rgba
from rackfocus_addon.easing import Easing
from rackfocus_addon.request import PullRequest, Readability, Realism


def add_camera(scene, name="Cam", location=(0.0, 0.0, 0.0), lens=50.0, fstop=1.4):
    """A perspective camera looking along +Y (rotation 90 deg about X)."""
    data = bpy.data.cameras.new(name)
    data.lens = lens
    data.dof.aperture_fstop = fstop
    cam = bpy.data.objects.new(name, data)
    cam.location = location
    cam.rotation_euler = (math.pi / 2.0, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    bpy.context.view_layer.update()
    return cam


def add_empty(scene, name, location):
    obj = bpy.data.objects.new(name, None)
    obj.location = location
    scene.collection.objects.link(obj)
    bpy.context.view_layer.update()
    return obj


def two_subject_scene(scene, near=2.0, far=8.0):
    """Camera at the origin looking down +Y, empties 'Near' and 'Far' at those depths."""
    cam = add_camera(scene)
    add_empty(scene, "Near", (0.0, near, 0.0))
    add_empty(scene, "Far", (0.0, far, 0.0))
    return cam


def render_to_array(scene, path=None) -> np.ndarray:
    """Render the current frame; RGBA floats of shape (H, W, 4), top row first."""
    path = path or os.path.join(tempfile.mkdtemp(prefix="rf-"), "frame.png")
    scene.render.filepath = path
    bpy.ops.render.render(write_still=True)
    return load_rgba(path)


def laplacian_variance(gray: np.ndarray) -> float:
    """Sharpness of a grey image: the variance of its 4-neighbour Laplacian."""
    lap = (-4.0 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1]
           + gray[1:-1, :-2] + gray[1:-1, 2:])
    return float(lap.var())


def create_pull(scene, camera, marks, easing=None, space="distance", mode="rig", replace=False,
                realism=None, readability=None, progress=None):
    """Write a pull through the engine's one entry, from positional test arguments."""
    request = PullRequest(tuple(marks), easing or Easing(), space, mode, replace,
                          realism or Realism(), readability or Readability())
    return pull.write_pull(scene, camera, request, progress)


def saved_two_subject_shot(scene, folder) -> str:
    """The two-subject scene, 24 frames, saved as ``folder``/shot.blend: the CLI tests' input."""
    two_subject_scene(scene)
    scene.frame_end = 24
    path = os.path.join(str(folder), "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return path


def evaluated_plate(obj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(camera-space vertices (n, 3), the plate's UV attribute (n, 3), faces (m, 4) as vertex
    indices) of an evaluated plate layer; every face a quad."""
    from rackfocus_addon.bl import plate

    dg = bpy.context.evaluated_depsgraph_get()
    mesh = obj.evaluated_get(dg).to_mesh()
    n = len(mesh.vertices)
    co = np.empty(n * 3)
    mesh.vertices.foreach_get("co", co)
    uv = np.empty(n * 3)
    mesh.attributes[plate.UV_ATTR].data.foreach_get("vector", uv)
    loops = np.empty(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", loops)
    sizes = np.empty(len(mesh.polygons), dtype=np.int64)
    mesh.polygons.foreach_get("loop_total", sizes)
    obj.evaluated_get(dg).to_mesh_clear()
    assert (sizes == 4).all()
    return co.reshape(n, 3), uv.reshape(n, 3), loops.reshape(-1, 4)


def cg_plate_still(root: str, width: int, height: int) -> tuple[str, str]:
    """(footage, metric depth) of the demo's CG scene rendered once at ``width`` x ``height``
    into ``root``, from a factory-empty file: the still the plate tests import."""
    from rackfocus_addon.bl import demo_plate

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    demo_plate.build_cg_scene(scene, width, height, frames=1)
    colors, depths = demo_plate.render_footage(scene, root, samples=4)
    return colors[0], depths[0]


def real_like_still(root: str, width: int, height: int) -> tuple[str, str]:
    """(footage, metric depth) of ``oracles.real_like_frame`` written into ``root``: 8-bit sRGB
    PNG and float EXR with its unmeasured pixels (NaN or 0), as a real shot gives them."""
    import oracles

    from rackfocus_addon import plate_cache

    color, depth = oracles.real_like_frame(width, height, seed=5)
    srgb = np.where(color <= 0.0031308, 12.92 * color,
                    1.055 * np.power(np.maximum(color, 0.0031308), 1 / 2.4) - 0.055)
    px = np.ones((height, width, 4), dtype=np.float32)
    px[..., :3] = srgb
    img = bpy.data.images.new("real_like", width, height)
    img.pixels.foreach_set(px[::-1].ravel())
    footage = os.path.join(root, "real_like_0001.png")
    img.filepath_raw = footage
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)
    depth_path = os.path.join(root, "real_like_depth_0001.exr")
    plate_cache.write_cache_exr(depth_path, np.stack([depth, depth, depth, np.ones_like(depth)]))
    return footage, depth_path
