"""Viewport overlay: where the focus distance meets the scene, seen through the camera.

Like a focus puller's monitor with focus peaking, not a colour cast: a green line drawn on the
surfaces that lie at the focus distance (and a light tint where a surface faces the lens at that
distance), the outlines of what lies in the sharp zone (focus peaking), blue lines where the near
and far limits of sharpness cross the scene, and nothing on the sky.
The lines come from the viewport's depth buffer in a GPU shader, so they follow every surface, as
Blender's camera *Limits* display cannot (it draws the limits on the camera's axis only).

A ``SpaceView3D`` draw handler, added only when Blender has a UI (never in background mode, where
draw handlers do not run). It draws only while the *Focus Plane* toggle is on (the viewport's
Overlays popover or the panel), the viewport's Overlays switch is on (as Blender's own overlays
obey it), the viewport looks through the scene camera and that camera's depth of field is on.
"""

import math

import bpy
from mathutils import Matrix, Vector

from ..rackfocus_addon.bl.scene_eval import current_focus_m
from ..rackfocus_addon.optics import dof_limits_m, standard_coc_mm

_handle = None
_text_handle = None
#: How many times the overlay drew its lines and its text since registration: the UI test reads
#: them to prove the overlay obeys its toggle and the Overlays switch.
draw_counts = {"lines": 0, "text": 0}

#: Green, as focus peaking often is: Blender's own outlines are orange (the selection).
FOCUS_COLOR = (0.45, 1.0, 0.25, 1.0)
LIMIT_COLOR = (0.35, 0.82, 1.0, 0.85)
#: Blender's own viewport text: white on a dark backing.
TEXT_COLOR = (1.0, 1.0, 1.0, 1.0)
#: Dark enough that the legend's blue (drawn opaque) reads at 4.5:1 or more (WCAG AA) over a
#: white floor in Material Preview: at 0.55 the box went mid-grey there, 2.2:1 as measured by
#: the UI test.
BACKING = (0.0, 0.0, 0.0, 0.85)


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
    """(focus m, near limit m, far limit m, the viewport corner's text) at the current frame;
    the text says "DOF off" when the camera's depth of field is off (nothing is drawn then)."""
    cam = camera.data
    focus = current_focus_m(camera)
    coc = standard_coc_mm(cam.sensor_width, cam.sensor_height)
    near, far = dof_limits_m(focus, cam.lens, cam.dof.aperture_fstop, coc)
    if not cam.dof.use_dof:
        return focus, near, far, f"{camera.name}: DOF off (Preview DOF turns it on)"
    far_text = "infinity" if math.isinf(far) else f"{far:.2f} m"
    text = (f"Focus {focus:.2f} m   f/{cam.dof.aperture_fstop:g}   {cam.lens:g} mm   "
            f"sharp {near:.2f} m to {far_text}")
    return focus, near, far, text


def overlay_visible(context) -> bool:
    """Whether the focus display belongs in ``context``'s viewport: the toggle is on, the
    viewport's Overlays switch is on and it looks through the scene camera."""
    scene = context.scene
    settings = getattr(scene, "rackfocus", None)
    space = context.space_data
    rv3d = context.region_data
    camera = scene.camera
    return not (settings is None or not settings.show_overlay or camera is None
                or camera.type != "CAMERA" or space is None or space.type != "VIEW_3D"
                or not space.overlay.show_overlays or rv3d is None
                or rv3d.view_perspective != "CAMERA")


# -- the lines: the depth buffer read back and drawn through a shader --------------------------

_VERTEX = "void main() { gl_Position = vec4(pos, 0.0, 1.0); }"
# Distance along the view axis from a depth-buffer value (OpenGL projection: for a perspective
# camera d = p23 / (ndc + p22), for an orthographic one d = (p23 - ndc) / p22). A pixel is on a
# line where the distance crosses the line's value between it and a neighbour on the same surface
# (a depth jump of more than 5 % is an edge between two surfaces, not a crossing).
_FRAGMENT = """
float dist(ivec2 p) {
  float d = texelFetch(depth_tx, clamp(p, ivec2(0), size - 1), 0).r;
  if (d >= 1.0) { return -1.0; }
  float ndc = d * 2.0 - 1.0;
  return persp > 0.5 ? p23 / (ndc + p22) : (p23 - ndc) / p22;
}
bool crosses(float z, ivec2 p, float at) {
  float n = dist(p);
  if (n <= 0.0 || abs(n - z) > 0.05 * z) { return false; }
  return (z - at) * (n - at) <= 0.0 && z != n;
}
bool outline(float z, ivec2 p, ivec2 step) {
  float n = dist(p + step);
  return n <= 0.0 || n - z > 0.05 * z;  /* the nearer side of a depth jump, or the sky */
}
bool on_edge(float z, ivec2 p) {
  return outline(z, p, ivec2(1, 0)) || outline(z, p, ivec2(-1, 0))
      || outline(z, p, ivec2(0, 1)) || outline(z, p, ivec2(0, -1));
}
bool on_line(float z, ivec2 p, float at) {
  return crosses(z, p + ivec2(1, 0), at) || crosses(z, p - ivec2(1, 0), at)
      || crosses(z, p + ivec2(0, 1), at) || crosses(z, p - ivec2(0, 1), at);
}
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy) - offset;
  float z = dist(p);
  if (z <= 0.0) { discard; }  /* the sky stays as it is */
  if (on_line(z, p, focus)) {
    FragColor = focus_color;
  } else if (abs(z - focus) < 0.002 * focus) {
    /* a surface facing the lens at the focus distance: tinted, its picture still seen */
    FragColor = vec4(focus_color.rgb, 0.35);
  } else if (on_line(z, p, near) || (far > 0.0 && on_line(z, p, far))) {
    FragColor = limit_color;
  } else if (z >= near && (far <= 0.0 || z <= far) && on_edge(z, p)) {
    /* focus peaking: the outline of what lies in the sharp zone */
    FragColor = vec4(focus_color.rgb, 0.8);
  } else {
    discard;
  }
}
"""

_shader = None


def _line_shader():
    global _shader
    if _shader is None:
        import gpu

        info = gpu.types.GPUShaderCreateInfo()
        info.vertex_in(0, "VEC2", "pos")
        info.fragment_out(0, "VEC4", "FragColor")
        info.sampler(0, "FLOAT_2D", "depth_tx")
        for kind, name in (("VEC4", "focus_color"), ("VEC4", "limit_color"),
                           ("FLOAT", "focus"), ("FLOAT", "near"), ("FLOAT", "far"),
                           ("FLOAT", "p22"), ("FLOAT", "p23"), ("FLOAT", "persp"),
                           ("IVEC2", "offset"), ("IVEC2", "size")):
            info.push_constant(kind, name)
        info.vertex_source(_VERTEX)
        info.fragment_source(_FRAGMENT)
        _shader = gpu.shader.create_from_info(info)
    return _shader


def _frame_rect(context, camera, depth_m: float, width: int, height: int):
    """The camera frame's rectangle in region pixels (x0, y0, x1, y1), clipped to the region."""
    from bpy_extras.view3d_utils import location_3d_to_region_2d

    pts = [location_3d_to_region_2d(context.region, context.region_data, c)
           for c in plane_corners(camera, context.scene, depth_m)]
    pts = [p for p in pts if p is not None]
    if len(pts) < 4:
        return 0, 0, width, height
    xs, ys = [p.x for p in pts], [p.y for p in pts]
    return (max(int(min(xs)), 1), max(int(min(ys)), 1),
            min(int(max(xs)) + 1, width - 1), min(int(max(ys)) + 1, height - 1))


def _draw() -> None:
    context = bpy.context
    if not overlay_visible(context):
        return
    camera = context.scene.camera
    if not camera.data.dof.use_dof:
        return
    import gpu
    from gpu_extras.batch import batch_for_shader

    focus, near, far, _text = focus_readout(camera)
    fb = gpu.state.active_framebuffer_get()
    vx, vy, width, height = fb.viewport_get()
    if width < 4 or height < 4:
        return
    x0, y0, x1, y1 = _frame_rect(context, camera, focus, width, height)
    w, h = x1 - x0, y1 - y0
    if w < 2 or h < 2:
        return
    # The scene's depth inside the camera frame as the viewport drew it (the overlay has no
    # other way to reach it); only the frame, so a big monitor reads back no more than needed.
    depth = fb.read_depth(vx + x0, vy + y0, w, h)
    depth.dimensions = w * h
    texture = gpu.types.GPUTexture((w, h), format="R32F", data=depth)
    corners = [((x + 0.0) / width * 2.0 - 1.0, (y + 0.0) / height * 2.0 - 1.0)
               for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    shader = _line_shader()
    batch = batch_for_shader(shader, "TRI_FAN", {"pos": corners})
    proj = context.region_data.window_matrix
    shader.bind()
    shader.uniform_sampler("depth_tx", texture)
    shader.uniform_float("focus_color", FOCUS_COLOR)
    shader.uniform_float("limit_color", LIMIT_COLOR)
    shader.uniform_float("focus", focus)
    shader.uniform_float("near", near)
    shader.uniform_float("far", -1.0 if math.isinf(far) else far)
    shader.uniform_float("p22", proj[2][2])
    shader.uniform_float("p23", proj[2][3])
    shader.uniform_float("persp", 1.0 if context.region_data.is_perspective else 0.0)
    shader.uniform_int("offset", (vx + x0, vy + y0))
    shader.uniform_int("size", (w, h))
    gpu.state.blend_set("ALPHA")
    gpu.state.depth_test_set("NONE")
    batch.draw(shader)
    gpu.state.blend_set("NONE")
    draw_counts["lines"] += 1


# -- the corner text ----------------------------------------------------------------------------

def _text_lines(camera) -> list[list[tuple[str, tuple]]]:
    """The corner's lines, each a list of (text, colour) runs."""
    _focus, _near, _far, text = focus_readout(camera)
    if not camera.data.dof.use_dof:
        return [[(text, TEXT_COLOR)]]
    return [[(text, TEXT_COLOR)],
            [("\u2014 focus", FOCUS_COLOR), ("   ", TEXT_COLOR),
             ("\u2014 near and far limits of sharpness", LIMIT_COLOR[:3] + (1.0,))]]


def _draw_backing(x0: float, y0: float, x1: float, y1: float) -> None:
    import gpu
    from gpu_extras.batch import batch_for_shader

    shader = gpu.shader.from_builtin("UNIFORM_COLOR")
    batch = batch_for_shader(shader, "TRI_FAN", {"pos": [(x0, y0), (x1, y0), (x1, y1),
                                                         (x0, y1)]})
    gpu.state.blend_set("ALPHA")
    shader.uniform_float("color", BACKING)
    batch.draw(shader)
    gpu.state.blend_set("NONE")


def text_layout(camera, scale: float) -> tuple[tuple[float, float, float, float], list]:
    """The corner text as drawn: its backing (x0, y0, x1, y1) and its runs (text, colour, x, y)
    in region pixels from the bottom left (the UI test reads the legend's contrast there)."""
    import blf

    lines = _text_lines(camera)
    blf.size(0, 13 * scale)
    step, pad = 18 * scale, 6 * scale
    x, top = 20 * scale, 40 * scale + step * (len(lines) - 1)
    runs, right = [], x
    for row, line in enumerate(lines):
        cx, y = x, top - step * row
        for run, color in line:
            runs.append((run, color, cx, y))
            cx += blf.dimensions(0, run)[0]
        right = max(right, cx)
    return (x - pad, top - step * (len(lines) - 1) - pad, right + pad, top + 13 * scale + pad), runs


def _draw_text() -> None:
    """The focus distance, f-stop and sharp zone in the viewport's corner on a dark backing (as
    Blender's own viewport text), with a legend of the line colours."""
    context = bpy.context
    if not overlay_visible(context):
        return
    import blf

    box, runs = text_layout(context.scene.camera, context.preferences.system.ui_scale)
    _draw_backing(*box)
    for run, color, x, y in runs:
        blf.color(0, *color)
        blf.position(0, x, y, 0)
        blf.draw(0, run)
    draw_counts["text"] += 1


def draw_overlay_toggle(self, context) -> None:
    """The *Focus Plane* toggle in the viewport's Overlays popover (beside Blender's own)."""
    settings = getattr(context.scene, "rackfocus", None)
    if settings is None:
        return
    layout = self.layout
    layout.label(text="Rack Focus")
    row = layout.row()
    row.active = context.space_data.overlay.show_overlays
    row.prop(settings, "show_overlay", text="Focus Plane")


def is_drawing() -> bool:
    """True while the overlay's draw handlers are installed (never in background mode)."""
    return _handle is not None


def register_extra() -> None:
    global _handle, _text_handle
    bpy.types.VIEW3D_PT_overlay.append(draw_overlay_toggle)
    if bpy.app.background or _handle is not None:
        return
    _handle = bpy.types.SpaceView3D.draw_handler_add(_draw, (), "WINDOW", "POST_VIEW")
    _text_handle = bpy.types.SpaceView3D.draw_handler_add(_draw_text, (), "WINDOW",
                                                          "POST_PIXEL")


def unregister_extra() -> None:
    global _handle, _text_handle
    bpy.types.VIEW3D_PT_overlay.remove(draw_overlay_toggle)
    if _handle is not None:
        bpy.types.SpaceView3D.draw_handler_remove(_handle, "WINDOW")
        bpy.types.SpaceView3D.draw_handler_remove(_text_handle, "WINDOW")
        _handle = _text_handle = None


classes = ()
