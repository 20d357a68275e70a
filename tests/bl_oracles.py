"""Test oracles that need bpy: the true-DOF ground truth of the CG shot and the compositor's
Defocus node as a 2.5D baseline. They check depth plates; they are not part of the product.

Imported as ``bl_oracles`` by tests/bl (``tests/`` is on ``sys.path`` through
``tests/conftest.py``) and by bench/bench_plate.py (which puts ``tests/`` on ``sys.path``).

Version switch: every Blender-version difference of the product lives in
``rackfocus_addon/bl/compat.py``. The compositor is the exception: only these test oracles use
it, so its one difference (5.0 replaced ``scene.node_tree`` and the Composite node with
``scene.compositing_node_group`` and a Group Output) is handled here, in ``compositor_tree`` and
``compositor_output``; tests/bl/test_plate.py tests them on every Blender the compat stage runs.
"""

from __future__ import annotations

import bpy
import numpy as np

from rackfocus_addon.bl import footage
from rackfocus_addon.bl.compat import VERSION
from rackfocus_addon.bl.demo_plate import render_still

#: Nodes that stay in the compositor tree between uses (its output).
_OUTPUT_NODES = ("NodeGroupOutput", "CompositorNodeComposite")


def compositor_tree(scene: bpy.types.Scene, create: bool = True):
    """The scene's compositor node tree (created empty with an output if ``create``)."""
    if VERSION >= (5, 0, 0):
        tree = scene.compositing_node_group
        if tree is None and create:
            tree = bpy.data.node_groups.new(f"{scene.name} Compositor", "CompositorNodeTree")
            tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
            tree.nodes.new("NodeGroupOutput")
            scene.compositing_node_group = tree
        return tree
    if create:
        scene.use_nodes = True
    return scene.node_tree


def compositor_output(tree):
    """The node that the compositor writes to the render (Group Output in 5.0, Composite in 4.x)."""
    kind = "NodeGroupOutput" if VERSION >= (5, 0, 0) else "CompositorNodeComposite"
    for node in tree.nodes:
        if node.bl_idname == kind:
            return node
    return tree.nodes.new(kind)


def render_truth(scene: bpy.types.Scene, path: str, focus_m: float, fstop: float,
                 samples: int = 128) -> np.ndarray:
    """The true-DOF render of the CG shot (thin-lens camera) at ``focus_m``; (H, W, 4) linear."""
    cam = scene.camera
    cam.data.dof.use_dof = True
    cam.data.dof.focus_object = None
    cam.data.dof.focus_distance = focus_m
    cam.data.dof.aperture_fstop = fstop
    scene.cycles.samples = samples
    render_still(scene, path, "PNG")
    cam.data.dof.use_dof = False
    return footage.read_pixels(path)[0]


def defocus_node(scene: bpy.types.Scene, image_path: str, depth_path: str, path: str,
                 focus_m: float, fstop: float, blur_max: float = 64.0) -> np.ndarray:
    """Blender's compositor Defocus node fed ``image_path`` and its depth, as a 2.5D baseline.

    Uses the scene camera (lens, sensor) with DOF at ``focus_m`` and ``fstop``; renders nothing
    else (every other object is hidden). Returns the result (H, W, 4) linear, top row first.
    """
    hidden = [o for o in scene.objects if not o.hide_render]
    for o in hidden:
        o.hide_render = True
    existed = compositor_tree(scene, create=False) is not None
    keep_use_nodes = VERSION < (5, 0, 0) and bool(scene.use_nodes)
    keep_compositing = scene.render.use_compositing
    tree = compositor_tree(scene)
    for node in list(tree.nodes):
        if node.bl_idname not in _OUTPUT_NODES:
            tree.nodes.remove(node)
    color = tree.nodes.new("CompositorNodeImage")
    color.image = bpy.data.images.load(image_path, check_existing=False)
    zimg = tree.nodes.new("CompositorNodeImage")
    zimg.image = bpy.data.images.load(depth_path, check_existing=False)
    zimg.image.colorspace_settings.name = "Non-Color"
    sep = tree.nodes.new("CompositorNodeSeparateColor") if hasattr(
        bpy.types, "CompositorNodeSeparateColor") else None
    defocus = tree.nodes.new("CompositorNodeDefocus")
    defocus.scene = scene
    defocus.use_zbuffer = True
    defocus.f_stop = fstop
    defocus.blur_max = blur_max
    if hasattr(defocus, "use_gamma_correction"):
        defocus.use_gamma_correction = False
    tree.links.new(color.outputs["Image"], defocus.inputs["Image"])
    if sep is not None:
        tree.links.new(zimg.outputs["Image"], sep.inputs[0])
        tree.links.new(sep.outputs[0], defocus.inputs["Z"])
    else:
        tree.links.new(zimg.outputs["Image"], defocus.inputs["Z"])
    out = compositor_output(tree)
    tree.links.new(defocus.outputs[0], out.inputs[0])
    scene.render.use_compositing = True
    cam = scene.camera.data
    cam.dof.focus_object = None
    cam.dof.focus_distance = focus_m
    cam.dof.aperture_fstop = fstop
    use_dof = cam.dof.use_dof
    cam.dof.use_dof = False
    try:
        render_still(scene, path, "PNG")
    finally:
        cam.dof.use_dof = use_dof
        for o in hidden:
            o.hide_render = False
        for node in list(tree.nodes):
            if node.bl_idname not in _OUTPUT_NODES:
                tree.nodes.remove(node)
        scene.render.use_compositing = keep_compositing
        if hasattr(scene, "compositing_node_group"):
            if not existed:
                scene.compositing_node_group = None
                bpy.data.node_groups.remove(tree)
        else:
            scene.use_nodes = keep_use_nodes
    return footage.read_pixels(path)[0]
