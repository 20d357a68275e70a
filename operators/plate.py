"""Import Plate: footage + depth as a depth plate in front of the scene camera."""

import dataclasses
import functools
import os

import bpy

from ..rackfocus_addon.bl import plate as plate_engine
from ..rackfocus_addon.bl import records
from ..rackfocus_addon.bl.footage import find_clip
from ..rackfocus_addon.bl.solve_anchors import read_solve
from ..rackfocus_addon.bl.subjects import resolve_subject
from ..rackfocus_addon.depth import (
    DENSITY_RANGE,
    FILL_PX_RANGE,
    FOCAL_RANGE_MM,
    FPS_RANGE,
    SENSOR_RANGE_MM,
    TEAR_RANGE,
    parse_anchor,
)
from ..rackfocus_addon.errors import RackFocusError
from ..rackfocus_addon.estimate import model as estimate_model
from ..rackfocus_addon.marks import SubjectRef
from ..rackfocus_addon.plate_mesh import DEFAULT_TEAR
from ..rackfocus_addon.plate_request import (
    DEFAULT_DENSITY,
    DEFAULT_FOCAL_MM,
    DEFAULT_SENSOR_MM,
    EstimateSettings,
    PlateRequest,
)
from .common import ViewportPick, run_reported, ui_progress, wrapped
from .from_panel import insert_mark
from .prefs import preferred_model

_KINDS = (
    ("metric", "Metres", "Planar depth in metres (EXR float or 16-bit PNG)"),
    ("normalized", "0 to 1", "0..1, linear from Near to Far"),
    ("inverse", "Disparity", "Relative inverse depth (what depth estimators give), aligned to "
                             "anchors or Near/Far"),
)


#: Every list of solved clips offered, by content: Blender keeps only pointers to an enum's
#: strings, and a list replaced while the operator still reads the old one crashes it (seen in
#: Blender 4.2 at exit). The lists are few (one per set of solved clips) and small.
_SOLVED: dict[tuple, list[tuple[str, str, str]]] = {}


def _solved_clips(_self, _context):
    """'None' and every movie clip of this file with a camera solve."""
    items = [("NONE", "None", "No camera solve")] + [
        (c.name, c.name, f"Every bundle of '{c.name}' seen on a frame anchors that frame at its "
                         "depth, in the solve's scale (Set Scale: the metres)")
        for c in bpy.data.movieclips if c.tracking.reconstruction.is_valid]
    return _SOLVED.setdefault(tuple(items), items)


def _model_items():
    """The Model menu: the registry's permissive models, then a file of your own."""
    from ..rackfocus_addon.estimate import registry

    _MODEL_ITEMS[:] = [(m.key, m.title, f"{m.title} ({m.licence_weights})")
                       for m in registry.MODELS]
    _MODEL_ITEMS.append(("FILE", "Model File", "An .onnx file on your disk (default: the one in "
                                               "the extension's preferences)"))
    return _MODEL_ITEMS


#: Blender keeps only references to enum items: they must outlive the callback.
_MODEL_ITEMS: list = []


def _estimation_problem() -> str | None:
    # Asked only when the dialog shows estimation: importing ONNX Runtime takes a while.
    return estimate_model.runtime_problem()


def _saved_or_why(context) -> str | None:
    """None when the file is saved, else why plates need it (the cache goes next to it)."""
    if bpy.data.filepath:
        return None
    return "Save the .blend first: the plate's depth cache is written next to it"


class RACKFOCUS_OT_import_plate(bpy.types.Operator):
    """Import footage and its depth as a plate that the camera refocuses physically"""

    bl_idname = "rackfocus.import_plate"
    bl_label = "Import Plate"
    bl_options = {"REGISTER", "UNDO"}

    footage: bpy.props.StringProperty(name="Footage", subtype="FILE_PATH",
                                      description="Image, numbered image of a sequence, or folder")
    depth: bpy.props.StringProperty(name="Depth", subtype="FILE_PATH",
                                    description="Depth per frame (EXR metres, 16-bit PNG)")
    depth_kind: bpy.props.EnumProperty(name="Depth In", items=_KINDS, default="metric")
    near: bpy.props.FloatProperty(name="Near", default=0.0, soft_min=0.0, unit="LENGTH",
                                  description="Distance of the nearest value (0: unused)")
    far: bpy.props.FloatProperty(name="Far", default=0.0, soft_min=0.0, unit="LENGTH",
                                 description="Distance of the farthest value (0: unused)")
    anchors: bpy.props.StringProperty(
        name="Anchors",
        description="Distances you know in the footage, to scale the depth to metres: the "
                    "pixel (from the top-left) and its distance, e.g. 320,180=2.5, or on frame F "
                    "(from 0) 320,180=2.5@F; several separated by ';'; a moving shot: anchors "
                    "on several frames")
    # The ranges live in the fields as soft limits (dragging stops there); a typed value
    # beyond them is refused with a message naming the field, not clamped silently, by the one
    # set of ranges (depth.validate_plate_settings), and the dialog keeps what was typed.
    sensor: bpy.props.FloatProperty(name="Sensor Width", default=DEFAULT_SENSOR_MM,
                                    subtype="DISTANCE_CAMERA",
                                    soft_min=SENSOR_RANGE_MM[0], soft_max=SENSOR_RANGE_MM[1],
                                    description="Width of the frame on the sensor in millimetres "
                                                "(the camera keeps its sensor fit)")
    focal: bpy.props.FloatProperty(name="Focal Length", default=DEFAULT_FOCAL_MM,
                                   subtype="DISTANCE_CAMERA",
                                   soft_min=FOCAL_RANGE_MM[0], soft_max=FOCAL_RANGE_MM[1],
                                   description="Lens focal length in millimetres")
    density: bpy.props.FloatProperty(name="Grid Density", default=DEFAULT_DENSITY,
                                     soft_min=DENSITY_RANGE[0], soft_max=DENSITY_RANGE[1],
                                     description="Plate vertices per footage pixel along each "
                                                 "axis (1: one per pixel; 0.25: a light "
                                                 "preview)")
    fill_px: bpy.props.IntProperty(name="Fill Behind", default=0, subtype="PIXEL",
                                   soft_min=FILL_PX_RANGE[0], soft_max=FILL_PX_RANGE[1],
                                   description="How far, in footage pixels, the background is "
                                               "painted in behind foreground edges, so a wide "
                                               "aperture sees behind them (0: 2 % of the "
                                               "footage width)")
    estimate: bpy.props.BoolProperty(
        name="Estimate Depth", default=False,
        description="No depth file: estimate the depth with a depth network (ONNX Runtime), "
                    "scaled to metres by the anchors or Near/Far")
    model: bpy.props.EnumProperty(
        name="Model", items=lambda self, context: _model_items(),
        description="The depth network (only permissively licensed models are offered)")
    model_file: bpy.props.StringProperty(
        name="Model File", subtype="FILE_PATH",
        description="An .onnx file with Depth Anything V2's signature (default: the one in the "
                    "extension's preferences)")
    temporal: bpy.props.BoolProperty(name="Calm Over Time", default=False,
                                     description="Edge-aware temporal filter for a clip")
    download: bpy.props.BoolProperty(
        name="Download Model", default=False,
        description="Download the model once into the extension's user folder (needs "
                    "Preferences > System > Allow Online Access), checked by its sha256")
    solve_clip: bpy.props.EnumProperty(
        name="Anchors from Camera Solve", items=_solved_clips,
        description="A clip of this file tracked and solved in the Movie Clip Editor: its "
                    "bundles anchor every frame they are seen on (docs/camera-solve.md)")
    keep_range: bpy.props.BoolProperty(
        name="Keep Scene Range", default=True,
        description="Keep the scene's frame range (the clip plays from its first frame and "
                    "holds its last); off: the range becomes the clip's")
    tear: bpy.props.FloatProperty(name="Edge Tear", default=DEFAULT_TEAR,
                                  soft_min=TEAR_RANGE[0], soft_max=1.0,
                                  description="Where the depth jumps by more than this share "
                                              "between neighbouring pixels (0.03: 3 %), the "
                                              "plate splits, so a foreground edge does not "
                                              "stretch back to the background")
    fps: bpy.props.FloatProperty(name="Frame Rate", default=0.0, soft_min=0.0,
                                 soft_max=FPS_RANGE[1],
                                 description="Frames per second (0: the movie's own, or 24 for "
                                             "an image sequence)")

    @classmethod
    def poll(cls, context):
        why = _saved_or_why(context)
        if why:
            cls.poll_message_set(why)
        return why is None

    def invoke(self, context, event):
        # A refused dialog comes back as it was typed (Blender remembers only a finished one).
        for name, value in _typed.items():
            setattr(self, name, value)
        return context.window_manager.invoke_props_dialog(self, width=420)

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(self, "footage")
        layout.prop(self, "estimate")
        if self.estimate:
            problem = _estimation_problem()
            if problem:
                wrapped(layout.column(align=True), runtime_help(problem),
                        400 * context.preferences.system.ui_scale, "ERROR")
            layout.prop(self, "model")
            if self.model == "FILE":
                layout.prop(self, "model_file")
            else:
                layout.prop(self, "download")
            layout.prop(self, "anchors")
            layout.prop(self, "solve_clip")
            col = layout.column(align=True)
            col.prop(self, "near")
            col.prop(self, "far")
            layout.prop(self, "temporal")
        else:
            layout.prop(self, "depth")
            layout.prop(self, "depth_kind")
            if self.depth_kind != "metric":
                col = layout.column(align=True)
                col.prop(self, "near")
                col.prop(self, "far")
            if self.depth_kind == "inverse":
                layout.prop(self, "anchors")
                layout.prop(self, "solve_clip")
        col = layout.column(align=True)
        col.prop(self, "sensor")
        col.prop(self, "focal")
        layout.prop(self, "keep_range")
        scene = context.scene
        what = "resolution and frame rate" if self.keep_range else \
            "resolution, frame rate and frame range"
        box = layout.box().column(align=True)
        box.label(text=f"Sets the scene's {what} to the footage's", icon="INFO")
        box.label(text=f"(now {scene.render.resolution_x}x{scene.render.resolution_y}, "
                       f"{scene.render.fps / scene.render.fps_base:g} fps, frames "
                       f"{scene.frame_start}-{scene.frame_end})", icon="BLANK1")
        col = layout.column(align=True, heading="Edges")
        col.prop(self, "tear")
        col.prop(self, "fill_px")
        col.prop(self, "density")
        layout.prop(self, "fps")

    def _request(self) -> PlateRequest:
        """The plate these settings ask for, checked; raises RackFocusError naming a setting.
        A camera solve's anchors join the typed ones."""
        request = PlateRequest(
            footage=self.footage, depth=None if self.estimate else self.depth,
            kind=self.depth_kind, near_m=self.near or None, far_m=self.far or None,
            sensor_mm=self.sensor, focal_mm=self.focal, density=self.density, tear=self.tear,
            fill_px=self.fill_px or None, fps=self.fps or None, keep_range=self.keep_range)
        request.check(names=_LABELS)
        anchors = [parse_anchor(a) for a in self.anchors.split(";") if a.strip()]
        if self.solve_clip not in ("", "NONE"):
            footage = find_clip(bpy.path.abspath(self.footage))
            anchors += read_solve(f"{bpy.data.filepath}:{self.solve_clip}", footage).anchors
        return dataclasses.replace(request, anchors=tuple(anchors),
                                   estimate=self._estimate_settings())

    def _estimate_settings(self) -> EstimateSettings | None:
        if not self.estimate:
            return None
        model = (self.model_file or preferred_model()) if self.model == "FILE" else self.model
        if not model:
            raise RackFocusError("Choose a model file (or set one in the extension's "
                                 "preferences)")
        return EstimateSettings(model=bpy.path.abspath(model), temporal=self.temporal,
                                download=self.download and bool(bpy.app.online_access))

    def execute(self, context):
        if self.estimate:
            done = self._start_estimate(context)
        else:
            done = run_reported(self, lambda: self._import(context, self._request()))
        _typed.clear()
        if "CANCELLED" in done:
            _typed.update(typed_values(self))
        return done

    # -- estimated depth: a modal job, one frame per timer tick, Esc stops it ------------------

    def _start_estimate(self, context):
        problem = estimate_model.runtime_problem()
        if problem:
            self.report({"ERROR"}, runtime_help(problem))
            return {"CANCELLED"}
        try:
            self._plate = self._request()
            self._job = plate_engine.estimation_job(self._plate)
            self._steps = self._job.steps()
        except RackFocusError as err:
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        if bpy.app.background or context.window is None:
            return run_reported(self, lambda: self._finish_estimate(context, list(self._steps)))
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 1000)
        context.workspace.status_text_set("Estimating depth (Esc stops; finished frames are kept)")
        return {"RUNNING_MODAL"}

    def _end_modal(self, context) -> None:
        wm = context.window_manager
        wm.event_timer_remove(self._timer)
        wm.progress_end()
        context.workspace.status_text_set(None)

    def modal(self, context, event):
        if event.type == "ESC":
            self._end_modal(context)
            result = self._job.stop(self._steps)
            self.report({"WARNING"}, result.summary())
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            label, done, total = next(self._steps)
        except StopIteration:
            self._end_modal(context)
            return run_reported(self, lambda: self._finish_estimate(context, []))
        except RackFocusError as err:
            self._end_modal(context)
            self.report({"ERROR"}, str(err))
            return {"CANCELLED"}
        context.window_manager.progress_update(int(1000 * done / max(total, 1)))
        context.workspace.status_text_set(f"Rack Focus: {label} {done}/{total} (Esc stops; "
                                          "finished frames are kept)")
        return {"RUNNING_MODAL"}

    def _finish_estimate(self, context, _steps) -> None:
        result = self._job.result
        for warning in result.warnings:
            self.report({"WARNING"}, warning)
        self.report({"INFO"}, result.summary())
        self._import(context, self._plate, estimated=result)

    def _import(self, context, request: PlateRequest, estimated=None) -> None:
        scene = context.scene
        with ui_progress(context) as progress:
            result = plate_engine.import_plate(scene, request, progress, estimated)
        for warning in result.warnings:
            self.report({"WARNING"}, warning)
        for change in result.scene_changes:
            self.report({"INFO"}, f"Scene {change}")
        outside = sorted({m.frame for m in scene.rackfocus.marks
                          if not scene.frame_start <= m.frame <= scene.frame_end})
        if outside:
            self.report({"WARNING"}, f"Focus marks at frames {outside} now lie outside the "
                                     f"scene's range {scene.frame_start}-{scene.frame_end}")
        _show_textures(context)
        for note in result.report.notes:
            self.report({"INFO"}, note)
        self.report({"INFO"}, result.summary())


#: How the operator's settings are named in its messages (its labels, not the CLI's flags).
_LABELS = {"sensor_mm": "Sensor Width", "focal_mm": "Focal Length", "density": "Grid Density",
           "tear": "Edge Tear", "fill_px": "Fill Behind", "fps": "Frame Rate", "near_m": "Near",
           "far_m": "Far"}


#: What a refused Import Plate dialog held, to show it again: property name -> value.
_typed: dict = {}


def typed_values(operator) -> dict:
    """The operator's settings as typed (every property but Blender's own)."""
    props = operator.properties
    return {p.identifier: getattr(props, p.identifier) for p in props.bl_rna.properties
            if p.identifier != "rna_type" and not p.is_readonly}


def runtime_help(problem: str) -> str:
    """What to do without ONNX Runtime: the zip of this extension that bundles it for this
    platform, and how to install it (or ``problem`` where no zip has it)."""
    import platform

    system, machine = platform.system(), platform.machine().lower()
    arch = "arm64" if machine in ("arm64", "aarch64") else "x64"
    name = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(system)
    if name is None or (name == "macos" and arch == "x64"):
        return problem  # no zip bundles it here: the message says how to pip install it
    return (f"Depth estimation needs ONNX Runtime: install rack_focus-{_version()}-{name}_{arch}"
            ".zip (it bundles it) with Edit > Preferences > Get Extensions > Install from Disk, "
            "then restart Blender")


@functools.lru_cache(maxsize=1)
def _version() -> str:
    """The extension's version, from its manifest (read once: the dialog draws it)."""
    import tomllib

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "blender_manifest.toml")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh).get("version", "")
    except OSError:
        return ""


class RACKFOCUS_OT_add_pixel_mark(bpy.types.Operator):
    """Add a focus mark on the footage at a pixel of the scene camera's plate (current frame)"""

    bl_idname = "rackfocus.add_pixel_mark"
    bl_label = "Mark Footage Pixel"
    bl_options = {"REGISTER", "UNDO"}

    x: bpy.props.IntProperty(name="X", default=0, min=0, description="Pixel column from the left")
    y: bpy.props.IntProperty(name="Y", default=0, min=0, description="Pixel row from the top")

    @classmethod
    def poll(cls, context):
        camera = context.scene.camera
        if camera is None or not plate_engine.plates(camera):
            cls.poll_message_set("The scene camera has no depth plate: import one first")
            return False
        return True

    def invoke(self, context, event):
        return context.window_manager.invoke_props_dialog(self)

    def execute(self, context):
        scene = context.scene

        def work():
            # Resolve now so a pixel off the footage or a missing plate is refused here; the
            # mark itself stays a pixel mark, tracked through the camera like the CLI's px:.
            subject = resolve_subject(scene, scene.camera,
                                      SubjectRef("pixel", coords=(self.x, self.y)))
            subject.check_mark(scene.frame_current)
            depth = subject.reader.depth_at(scene.frame_current, self.x, self.y)
            insert_mark(scene, scene.rackfocus, scene.frame_current, kind="PIXEL",
                        pixel=(self.x, self.y), depth_m=depth)
            self.report({"INFO"}, f"Focus mark on the footage at {self.x},{self.y} "
                                  f"({depth:.2f} m away) on frame {scene.frame_current}")

        return run_reported(self, work)


def _show_textures(context) -> None:
    """Solid viewports show the footage instead of a flat grey wall."""
    for area in getattr(context.screen, "areas", ()) or ():
        if area.type == "VIEW_3D":
            shading = area.spaces.active.shading
            if shading.type == "SOLID":
                shading.color_type = "TEXTURE"


def footage_pixel_under(context, event):
    """(plate, x, y) of the footage pixel under the mouse in the camera view, or None."""
    from bpy_extras import view3d_utils
    from mathutils import Vector

    from ..rackfocus_addon.plate_mesh import project

    scene = context.scene
    camera = scene.camera
    for area in context.screen.areas:
        if area.type != "VIEW_3D":
            continue
        region = next((r for r in area.regions if r.type == "WINDOW"), None)
        if region is None:
            continue
        x, y = event.mouse_x - region.x, event.mouse_y - region.y
        if not (0 <= x < region.width and 0 <= y < region.height):
            continue
        rv3d = area.spaces.active.region_3d
        origin = view3d_utils.region_2d_to_origin_3d(region, rv3d, (x, y))
        direction = view3d_utils.region_2d_to_vector_3d(region, rv3d, (x, y))
        to_camera = camera.matrix_world.inverted()
        ray = (to_camera @ (origin + direction) - to_camera @ origin).normalized()
        if ray.z >= 0.0:
            continue  # looking away from the camera's view
        for plate_obj in plate_engine.plates(camera):
            record = records.read(plate_obj, plate_engine.RECORD) or {}
            if not record:
                continue
            # The pixel a camera ray shows depends on its direction only (the camera sees the
            # plate exactly as the footage): project a point of the ray.
            u, v = project(Vector(ray / -ray.z), record["width"], record["height"],
                           record["sensor_mm"], record["focal_mm"])
            px, py = u * record["width"] - 0.5, (1.0 - v) * record["height"] - 0.5
            if 0 <= round(px) < record["width"] and 0 <= round(py) < record["height"]:
                return plate_obj, int(round(px)), int(round(py))
    return None


class RACKFOCUS_OT_pick_footage(ViewportPick, bpy.types.Operator):
    """Click the footage in the camera view to add a focus mark there (shows the depth under
    the mouse; Esc cancels)"""

    bl_idname = "rackfocus.pick_footage"
    bl_label = "Pick Footage Mark"
    bl_options = {"REGISTER", "UNDO"}
    pick_hint = "Click the footage to focus there; Esc to cancel"

    @classmethod
    def poll(cls, context):
        return RACKFOCUS_OT_add_pixel_mark.poll(context)

    def modal(self, context, event):
        if self.cancelled(context, event):
            return {"CANCELLED"}
        hit = footage_pixel_under(context, event)
        if event.type == "MOUSEMOVE":
            text = self.pick_hint
            if hit is not None:
                subject = resolve_subject(context.scene, context.scene.camera,
                                          SubjectRef("pixel", coords=hit[1:]))
                depth = subject.reader.depth_at(context.scene.frame_current, *hit[1:])
                text = f"Footage {hit[1]},{hit[2]}: {depth:.2f} m  (click to mark, Esc cancels)"
            context.workspace.status_text_set(text)
            return {"RUNNING_MODAL"}
        if event.type != "LEFTMOUSE" or event.value != "PRESS":
            return {"RUNNING_MODAL"}
        self.finish(context)
        if hit is None:
            self.report({"WARNING"}, "No footage under the mouse: look through the camera")
            return {"CANCELLED"}
        return bpy.ops.rackfocus.add_pixel_mark(x=hit[1], y=hit[2])


def draw_section(layout, context) -> None:
    """The panel's Import Plate section: the button and the scene camera's plates."""
    col = layout.column()
    col.operator(RACKFOCUS_OT_import_plate.bl_idname, icon="IMPORT")
    col.operator(RACKFOCUS_OT_pick_footage.bl_idname, text="Pick on Footage",
                 icon="EYEDROPPER")
    camera = context.scene.camera
    if camera is None:
        return
    for obj in plate_engine.plates(camera):
        row = col.row()
        row.label(text=obj.name, icon="IMAGE_DATA")
        mod = obj.modifiers.get("RackFocus Plate")
        if mod is not None:
            row.prop(mod, "show_viewport", text="")


classes = (RACKFOCUS_OT_import_plate, RACKFOCUS_OT_add_pixel_mark, RACKFOCUS_OT_pick_footage)
