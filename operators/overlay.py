"""Viewport overlay: the focus plane and the near/far limits of sharpness, seen through the camera.

A ``SpaceView3D`` draw handler, added only when Blender has a UI (never in background mode, where
draw handlers do not run) and drawing only when the panel's toggle is on and the viewport looks
through the scene camera.
"""

import math

import bpy
from mathutils import Matrix, Vector

from ..rackfocus_addon.bl.scene_eval import current_focus_m
from ..rackfocus_addon.optics import dof_limits_m, standard_coc_mm

_handle = None
_text_handle = None

FOCUS_COLOR = (1.0, 0.55, 0.1, 0.18)
FOCUS_EDGE = (1.0, 0.55, 0.1, 1.0)
LIMIT_COLOR = (0.3, 0.8, 1.0, 0.9)
LIMIT_FILL = (0.3, 0.8, 1.0, 0.12)


def camera_frame_matrix(camera) -> Matrix:
    """The camera's world matrix without scale (depths are metres along its view axis)."""
    loc, rot, _scale = camera.matrix_world.decompose()
    return Matrix.Translation(loc) @ rot.to_matrix().to_4x4()


def plane_corners(camera, scene, depth_m: float) -> list[Vector]:
    """World-space corners of the camera's view rectangle at ``depth_m`` along its axis."""
    mw = camera_frame_matrix(camera)
    out = []
    for corner in camera.data.view_frame(scene=scene):
        scale = depth_m / max(-corner.z, 1e-9)
        out.append(mw @ (corner * scale))
    return out


def focus_readout(camera) -> tuple[float, float, float, str]:
    """(focus m, near limit m, far limit m, the viewport corner's text) at the current frame."""
    cam = camera.data
    focus = current_focus_m(camera)
    coc = standard_coc_mm(cam.sensor_width, cam.sensor_height)
    near, far = dof_limits_m(focus, cam.lens, cam.dof.aperture_fstop, coc)
    far_text = "infinity" if math.isinf(far) else f"{far:.2f} m"
    text = (f"Focus {focus:.2f} m   f/{cam.dof.aperture_fstop:g}   {cam.lens:g} mm   "
            f"sharp {near:.2f} m to {far_text}")
    return focus, near, far, text


def planes(camera, scene) -> dict:
    """{'focus': corners, 'near': corners, 'far': corners or None} for the current frame."""
    focus, near, far, _text = focus_readout(camera)
    return {"focus": plane_corners(camera, scene, focus),
            "near": plane_corners(camera, scene, near),
            "far": None if math.isinf(far) else plane_corners(camera, scene, far)}


def _camera_view(context):
    """The scene camera when the overlay should draw (toggle on, looking through it), or None."""
    scene = context.scene
    settings = getattr(scene, "rackfocus", None)
    rv3d = context.region_data
    camera = scene.camera
    if (settings is None or not settings.show_overlay or camera is None
            or camera.type != "CAMERA" or rv3d is None or rv3d.view_perspective != "CAMERA"):
        return None
    return camera


def _draw_text() -> None:
    """The focus distance, f-stop and sharp zone in the viewport's corner, with a legend."""
    camera = _camera_view(bpy.context)
    if camera is None:
        return
    import blf

    scale = bpy.context.preferences.system.ui_scale
    _focus, _near, _far, text = focus_readout(camera)
    blf.size(0, 13 * scale)
    x, y = 20 * scale, 60 * scale
    for line, color in ((text, (1.0, 0.75, 0.4, 1.0)),
                        ("orange: focus plane   blue: near and far limits of sharpness",
                         (0.6, 0.85, 1.0, 0.9))):
        blf.color(0, *color)
        blf.position(0, x, y, 0)
        blf.draw(0, line)
        y -= 18 * scale


def _draw() -> None:
    context = bpy.context
    scene = context.scene
    camera = _camera_view(context)
    if camera is None:
        return
    import gpu
    from gpu_extras.batch import batch_for_shader

    shader = gpu.shader.from_builtin("UNIFORM_COLOR")
    quads = planes(camera, scene)
    gpu.state.blend_set("ALPHA")
    # Depth-tested fills: each plane tints only what lies behind it, so through the camera the
    # scene reads in bands: untinted before the near limit, one layer of blue in the sharp zone,
    # the orange focus plane cutting through it, and a second blue layer beyond the far limit.
    gpu.state.depth_test_set("LESS_EQUAL")
    gpu.state.depth_mask_set(False)  # test against the scene, never against each other
    for key, color in (("near", LIMIT_FILL), ("far", LIMIT_FILL), ("focus", FOCUS_COLOR)):
        c = quads[key]
        if c is None:
            continue
        fill = batch_for_shader(shader, "TRIS", {"pos": [c[0], c[1], c[2], c[0], c[2], c[3]]})
        shader.uniform_float("color", color)
        fill.draw(shader)
    gpu.state.depth_mask_set(True)
    gpu.state.depth_test_set("NONE")
    for key, color in (("focus", FOCUS_EDGE), ("near", LIMIT_COLOR), ("far", LIMIT_COLOR)):
        c = quads[key]
        if c is None:
            continue
        lines = batch_for_shader(shader, "LINES", {"pos": [c[0], c[1], c[1], c[2], c[2], c[3],
                                                          c[3], c[0]]})
        shader.uniform_float("color", color)
        lines.draw(shader)
    gpu.state.blend_set("NONE")


def is_drawing() -> bool:
    """True while the overlay's draw handlers are installed (never in background mode)."""
    return _handle is not None


def register_extra() -> None:
    global _handle, _text_handle
    if bpy.app.background or _handle is not None:
        return
    _handle = bpy.types.SpaceView3D.draw_handler_add(_draw, (), "WINDOW", "POST_VIEW")
    _text_handle = bpy.types.SpaceView3D.draw_handler_add(_draw_text, (), "WINDOW",
                                                          "POST_PIXEL")


def unregister_extra() -> None:
    global _handle, _text_handle
    if _handle is not None:
        bpy.types.SpaceView3D.draw_handler_remove(_handle, "WINDOW")
        bpy.types.SpaceView3D.draw_handler_remove(_text_handle, "WINDOW")
        _handle = _text_handle = None
_text_handle = None


classes = ()
