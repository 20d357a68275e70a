"""Depth plates: footage placed at its depth in front of the camera, refocused by the renderer.

The plate is a Geometry Nodes grid in camera space (parented to the camera). Every frame the node
tree samples the current frame's depth image (Image Texture's Frame input: no Python at render
time), gives each face the depth of the pixel it lies in, splits the edges between faces whose
depths jump by more than the tear ratio, and moves every vertex along its camera ray to the mean
depth of its faces. Seen from the camera the plate covers exactly the frame; a wide aperture sees
around foreground edges onto a second layer, the background fill, whose colour and depth were
inpainted outward from the far side (cached as EXR next to the .blend).

The material is the footage as emission, visible to camera rays only (Light Path), rendered with
the Standard view transform, no dither and a 0.1 px pixel filter (``cycles.filter_width`` and
``render.filter_size``) so that a render with depth of field off returns the source pixels
exactly (measured: identical 8-bit PNGs in Cycles and EEVEE).

EEVEE renders the same plate: the Light Path node, emission and Geometry Nodes all work there,
and the small pixel filter gives the same exact round trip. What it needs for a physical pull is
"Jittered Camera" depth of field (``eevee.use_bokeh_jittered``, set on import): its default DOF is
a post-process over the rendered depth that cannot see behind foreground edges. Measured at
160x90, f/1.4, focus 2.2 m, 64 samples, against the true-DOF ground truth (full / edge band):
EEVEE jittered 30.5 / 28.8 dB, EEVEE post-process 29.3 / 28.1, Cycles plate 30.4 / 29.0, Defocus
node 24.9 / 22.1. The first EEVEE render compiles shaders (30-60 s with software GL).

Movies are decoded once into a PNG sequence in the cache (Python cannot read a movie's frames
and the fill layer needs its pixels); the plate then plays those frames.

The cache (depth and fill EXRs per frame, written into a staged folder and renamed into place
once complete) is :mod:`..plate_cache`; the folders are named in :mod:`..plate_request`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import bpy

from .. import depth as depth_maths
from .. import plate_lod, plate_mesh
from ..errors import RackFocusError
from ..estimate.request import EstimateResult
from ..limits import check_free_space, disk_full_error, is_disk_full
from ..plate_cache import StagedFolder, cache_bytes, write_cache
from ..plate_request import (
    DEFAULT_DENSITY,
    DEFAULT_FOCAL_MM,
    DEFAULT_SENSOR_MM,
    PlateRequest,
    cache_root,
)
from ..progress import Progress, tick
from . import compat, estimation, plate_nodes, plate_render, records
from . import footage as footage_io

RECORD = "rackfocus_plate"
GROUP_NAME = "RackFocus Plate"
#: Layout of the shared node group; a file's older group is left to its plates, a new one made.
GROUP_VERSION = 10
UV_ATTR = plate_nodes.UV_ATTR
#: Point attribute (u * depth, v * depth, depth): linear in camera space, so it interpolates
#: exactly across a face whose corners lie at different depths; the material divides it back
#: into the footage's UV at every hit (``UV_ATTR`` interpolated is off by up to a tenth of a
#: pixel inside a large tilted face, which picks the neighbouring texel at colour edges).
UVW_ATTR = "rf_uvw"
#: The plate's UV map (face corners), for the Solid view's Texture colour.
UV_MAP = "UVMap"
#: Pixel filter width for plate renders: the footage is already anti-aliased (1.5 px blurs it
#: again). Cycles reads ``scene.cycles.filter_width`` (not ``render.filter_size``); at 0.01 px its
#: filter table let a few samples stray into neighbouring pixels (57 dB), at 0.1 px none did.
PLATE_FILTER_PX = 0.1
#: Grid density in the viewport (renders use the full density): a 1080p plate at 2 vertices per
#: pixel is 9 M faces, too heavy to orbit around; 0.5 is 0.6 M.
DEFAULT_VIEWPORT_DENSITY = 0.5


class EstimationStopped(RackFocusError):
    """The estimation was asked to stop; its finished frames are kept and ``result`` says how
    far it got. No plate was imported."""

    def __init__(self, result: EstimateResult) -> None:
        self.result = result
        super().__init__("Depth estimation was stopped: run the same command again to finish")


@dataclass
class PlateResult:
    """What :func:`import_plate` made, for the operator's report and the CLI."""

    plate: str
    fill: str
    camera: str
    footage: footage_io.Clip
    report: depth_maths.DepthReport
    cache_dir: str
    warnings: list[str] = field(default_factory=list)
    #: What the import changed in the scene: 'resolution 1280x720 at 100 % -> 64x36', ...
    scene_changes: list[str] = field(default_factory=list)
    #: The estimation that gave the depth, when the request asked for one.
    estimate: EstimateResult | None = None

    def summary(self) -> str:
        return (f"Plate '{self.plate}' on camera '{self.camera}': {self.footage.describe()}; "
                f"{self.report.summary()}")


def import_plate(scene: bpy.types.Scene, request: PlateRequest, progress: Progress | None = None,
                 estimated: EstimateResult | None = None) -> PlateResult:
    """Import ``request``'s footage and depth as a plate in front of its camera (the scene
    camera, or a new one), estimating the depth first when the request asks for it.

    The scene's resolution and frame rate follow the footage, and its frame range too unless
    ``request.keep_range`` (then the clip plays from the scene's first frame and holds its last).

    Every setting, the camera and every input frame are validated, and the cache written under a
    temporary name, before the scene changes; the cache folder is renamed into place only when
    all of it succeeded. On a :class:`RackFocusError` nothing has been imported and nothing is
    left on disk (an existing cache of the same inputs is kept as it was; an estimation keeps
    its finished frames, so a re-run resumes).

    ``request.sensor_mm`` is the width of the frame on the sensor (with ``focal_mm``, the
    footage's field of view). The camera keeps its sensor fit: the plate sets the sensor size that
    fit uses so the camera sees exactly the footage's field of view, and reports every camera
    value it changes.

    ``estimated`` is the finished job of :func:`estimation_job` (the panel runs it step by
    step); otherwise the estimation runs here and reports to ``progress``, and a callback that
    returns True stops it (:class:`EstimationStopped`).
    """
    request.check()
    camera = _camera(scene, request.camera)
    cache = _cache_root(request.cache_dir)
    estimate = None
    if request.estimate is not None:
        estimate = estimated or _estimate(request, cache, progress)
        request = request.estimated(estimate.depth_path)
    if not request.depth:
        raise RackFocusError("No depth given: give a depth file per frame, or estimate the depth")
    built = _build_cache(request, cache, progress)
    try:
        result = _place(scene, camera, request, built)
    except BaseException:
        built.staged.abort()
        raise
    built.staged.finish()
    result.estimate = estimate
    return result


def estimation_job(request: PlateRequest) -> estimation.Estimation:
    """The estimation of ``request``'s depth, to run step by step (the panel's modal operator);
    hand its finished result to :func:`import_plate` as ``estimated``."""
    return estimation.Estimation(_estimate_request(request, _cache_root(request.cache_dir)))


def _estimate_request(request: PlateRequest, cache: str):
    return request.estimate_request(cache, bpy.path.abspath(request.footage))


def _estimate(request: PlateRequest, cache: str, progress: Progress | None) -> EstimateResult:
    result = estimation.estimate_depth(_estimate_request(request, cache), progress)
    if result.cancelled:
        raise EstimationStopped(result)
    return result


def _camera(scene: bpy.types.Scene, name: str | None) -> bpy.types.Object | None:
    """The camera named ``name`` (None: the scene camera, which may be None), checked."""
    camera = scene.camera
    if name:
        camera = scene.objects.get(name)
        if camera is None:
            raise RackFocusError(f"No camera named '{name}' in scene '{scene.name}'")
    if camera is not None:
        check_camera(camera)
    return camera


@dataclass
class _Cache:
    """A plate's cache, written and committed (``staged`` undoes it until it is finished)."""

    staged: StagedFolder
    clip: footage_io.Clip
    sources: tuple[str, str]
    name: str
    radius: int
    fps: float | None
    report: depth_maths.DepthReport
    warnings: list[str]

    @property
    def folder(self) -> str:
        return self.staged.folder


def _build_cache(request: PlateRequest, cache: str, progress: Progress | None) -> _Cache:
    """Read and check the footage and depth, and write the plate's cache (committed, not yet
    finished). Nothing in the scene changes; a failure leaves nothing behind."""
    clip = footage_io.find_clip(request.footage)
    dclip = footage_io.find_clip(request.depth)
    depth_maths.check_clip(clip.frames, (clip.width, clip.height), dclip.frames,
                           (dclip.width, dclip.height))
    converter = depth_maths.Converter(request.kind, request.near_m, request.far_m,
                                      request.anchors)
    name = _plate_name(clip)
    sources = (clip.path, dclip.path)
    radius = (int(request.fill_px) if request.fill_px is not None
              else plate_mesh.default_fill_px(clip.width))
    fps = request.fps
    if fps is None and clip.fps is None and clip.frames > 1:
        fps = footage_io.DEFAULT_FPS  # an image sequence carries no frame rate
    key = cache_key(clip, dclip, request, radius, fps, name)
    light = request.density == DEFAULT_DENSITY  # the light plate: the one with a mesh image
    needed = cache_bytes(clip.frames, clip.width, clip.height, movie=clip.kind == "movie",
                         light=light)
    check_free_space(needed, cache)  # a full disk is refused before any file is written
    staged = StagedFolder(cache, f"{bpy.path.clean_name(name)}_{key}")
    try:
        # Movies are unpacked into the cache (their pixels are needed for the fill layer).
        clip = footage_io.unpack_movie(clip, os.path.join(staged.temp, "footage"), progress)
        dclip = footage_io.unpack_movie(dclip, os.path.join(staged.temp, "depth_movie"),
                                        progress)
        warnings = [w for w in (depth_maths.bit_depth_warning(dclip.bits),) if w]
        # Footage frame sizes are checked before anything is written; inverse depth is read
        # once first (every frame checked, one alignment for the whole clip). Then frame by
        # frame: read, convert (a frame with no valid depth is refused there), inpaint the
        # fill, write the cache. The clip is never held in memory, and a failure anywhere
        # leaves nothing behind (the staged folder).
        footage_io.check_frame_sizes(clip, "Footage", progress)
        converter.fit(lambda: _depth_frames(clip, dclip, progress), dclip.frames)
        write_cache(staged.temp, _frames(clip, _depth_frames(clip, dclip, progress)),
                    clip.frames, converter, radius, request.tear, progress, light)
        report = converter.finish()
        staged.commit()
    except OSError as err:
        staged.abort()
        if is_disk_full(err):  # filled up meanwhile: what was there is kept (staged folder)
            raise disk_full_error(needed, cache) from None
        raise
    except BaseException:
        staged.abort()
        raise
    clip = _moved(clip, staged.temp, staged.folder)
    return _Cache(staged, clip, sources, name, radius, fps, report, warnings + report.warnings)


def _depth_frames(clip: footage_io.Clip, dclip: footage_io.Clip,
                  progress: Progress | None) -> Iterator:
    """The raw depth of every frame at the footage's size, read one at a time."""
    for i, path in enumerate(dclip.files):
        z = footage_io.read_planes(dclip, path, "Depth", 1, data=True)[0]
        tick(progress, "reading depth frames", i + 1, dclip.frames)
        yield depth_maths.resize_nearest(z, clip.width, clip.height)


def _frames(clip: footage_io.Clip, depth_frames: Iterator) -> Iterator:
    """(footage channel planes, raw depth) per frame, read one at a time."""
    for path, raw in zip(clip.files, depth_frames):
        yield footage_io.read_planes(clip, path, "Footage", 3), raw


def _place(scene: bpy.types.Scene, camera: bpy.types.Object | None, request: PlateRequest,
           built: _Cache) -> PlateResult:
    """The scene changes from here on: the footage's format, the camera, the plate and its fill
    layer on it, the render settings, the records."""
    clip, report, warnings = built.clip, built.report, list(built.warnings)
    scene_changes = footage_io.apply_to_scene(scene, clip, fps=built.fps,
                                              keep_range=request.keep_range)
    new_camera = camera is None
    if new_camera:
        camera = _new_camera(scene)
    scene.camera = scene.camera or camera
    warnings += _setup_camera(camera, request.sensor_mm, request.focal_mm, clip.width,
                              clip.height, report.min_m, report.max_m,
                              report_changes=not new_camera)
    remove_plates(camera)
    plate, fill = _plate_objects(scene, camera, request, built)
    configure_render(scene)
    scene_changes += plate_render.apply(scene, [plate, fill])
    record = {
        "version": 1, "camera": camera.name, "width": clip.width, "height": clip.height,
        "sensor_mm": request.sensor_mm, "focal_mm": request.focal_mm, "frames": clip.frames,
        "frame_start": scene.frame_start, "fill": fill.name, "kind": request.kind,
        "footage": built.sources[0], "depth": built.sources[1],
        "alignment": [report.scale, report.shift], "cache": os.path.basename(built.folder),
    }
    records.write(plate, RECORD, record)
    records.write(fill, RECORD, dict(record, layer="fill", plate=plate.name))
    return PlateResult(plate.name, fill.name, camera.name, clip, report, built.folder, warnings,
                       scene_changes)


def _plate_objects(scene, camera, request: PlateRequest, built: _Cache):
    """The plate and its fill layer: the shared node group on two meshes, each with the
    material that shows its images."""
    clip, name, folder = built.clip, built.name, built.folder
    depth_img = _cache_image(folder, "depth", clip.frames, f"{name} Depth")
    fill_img = _cache_image(folder, "fill", clip.frames, f"{name} Fill")
    light = request.density == DEFAULT_DENSITY
    mesh_img = _cache_image(folder, "mesh", clip.frames, f"{name} Mesh") if light else None
    color_img = footage_io.load_image(clip, f"{name} Footage")
    group = ensure_node_group()
    common = {"width": clip.width, "height": clip.height, "density": request.density,
              "sensor": request.sensor_mm, "focal": request.focal_mm,
              "offset": 1 - scene.frame_start, "tear": request.tear, "depth": depth_img,
              "margin": built.radius, "mesh": mesh_img,
              "adaptive": light}
    plate = _plate_object(scene, camera, name, group, common, fill=False,
                          material=_material(f"{name} Plate", color_img, clip, scene,
                                             clip.first_number - 1))
    fill = _plate_object(scene, camera, f"{name} Fill", group, common, fill=True,
                         material=_material(f"{name} Plate Fill", fill_img, clip, scene, 0))
    return plate, fill


def check_camera(camera: bpy.types.Object) -> None:
    """Refuse a camera the plate cannot match exactly (before anything is read or written)."""
    if camera.type != "CAMERA":
        raise RackFocusError(f"'{camera.name}' is a {camera.type.lower()}, not a camera")
    data = camera.data
    if compat.is_linked(camera) or compat.is_linked(data):
        raise RackFocusError(f"Camera '{camera.name}' is linked from another file and read-only "
                             "here: make it local first, or use another camera")
    if data.type != "PERSP":
        raise RackFocusError(
            f"Camera '{camera.name}' is {data.type.lower()}: depth plates need a perspective "
            "camera (set its type to Perspective, or use another camera)")
    if data.shift_x or data.shift_y:
        raise RackFocusError(
            f"Camera '{camera.name}' has lens shift ({data.shift_x:g}, {data.shift_y:g}): the "
            "plate does not support lens shift yet; set shift to 0 or use another camera")


def cache_key(clip: footage_io.Clip, dclip: footage_io.Clip, request: PlateRequest,
              radius: int, fps: float | None, name: str) -> str:
    """8 hex digits that tell one plate's cache from every other's: a hash of everything the
    cache is made from (absolute footage and depth paths, conversion, camera, grid, fill, rate).

    Two shots whose footage files are named alike get different folders; identical inputs share
    one (re-importing rewrites the same content).
    """
    def source(c: footage_io.Clip):
        return [os.path.abspath(bpy.path.abspath(c.path)), c.files[0] if c.files else "",
                c.kind, c.frames, c.width, c.height]

    r = request
    blob = json.dumps([source(clip), source(dclip), r.kind, r.near_m, r.far_m,
                       sorted(a.spec() for a in r.anchors), r.sensor_mm, r.focal_mm, r.density,
                       r.tear, radius, fps, name, plate_lod.MESH_FORMAT])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]


def _moved(clip: footage_io.Clip, old: str, new: str) -> footage_io.Clip:
    """``clip`` with its files under folder ``old`` (a staged cache) found under ``new``."""
    def move(path: str) -> str:
        try:
            inside = os.path.commonpath([os.path.abspath(path), old]) == old
        except ValueError:  # another drive
            inside = False
        return os.path.join(new, os.path.relpath(path, old)) if inside else path

    return dataclasses.replace(clip, path=move(clip.path), files=[move(f) for f in clip.files])


def _cache_root(cache_dir: str | None) -> str:
    if cache_dir:
        return os.path.abspath(bpy.path.abspath(cache_dir))
    if not bpy.data.filepath:
        raise RackFocusError("Save the .blend first: the plate's depth and fill images are "
                             "cached next to it (relative paths, so renders find them)")
    return cache_root(os.path.dirname(bpy.data.filepath))


def _plate_name(clip: footage_io.Clip) -> str:
    base = os.path.basename(os.path.normpath(clip.files[0] if clip.kind != "sequence"
                                             else clip.path))
    stem = os.path.splitext(base)[0]
    stem = re.sub(r"[_.\-]*[#\d]+$", "", stem) or stem or "Footage"
    return f"{stem} Plate"


def _cache_image(folder: str, prefix: str, frames: int, name: str) -> bpy.types.Image:
    img = bpy.data.images.load(os.path.join(folder, f"{prefix}_0001.exr"), check_existing=False)
    img.name = name
    if frames > 1:
        img.source = "SEQUENCE"
    img.colorspace_settings.name = ("Non-Color" if prefix in ("depth", "mesh")
                                    else _linear_space())
    img.alpha_mode = "CHANNEL_PACKED"
    return img


def _linear_space() -> str:
    names = {cs.identifier for cs in bpy.types.ColorManagedInputColorspaceSettings.bl_rna
             .properties["name"].enum_items}
    for candidate in ("Linear Rec.709", "Linear"):
        if candidate in names:
            return candidate
    return "Non-Color"


def _new_camera(scene: bpy.types.Scene) -> bpy.types.Object:
    data = bpy.data.cameras.new("Plate Camera")
    data.sensor_fit = "HORIZONTAL"
    cam = bpy.data.objects.new("Plate Camera", data)
    cam.rotation_euler = (math.pi / 2.0, 0.0, 0.0)
    scene.collection.objects.link(cam)
    return cam


def _setup_camera(camera: bpy.types.Object, sensor_mm: float, focal_mm: float, width: int,
                  height: int, min_m: float, max_m: float, report_changes: bool = True
                  ) -> list[str]:
    """Give ``camera`` the footage's field of view and a clip range that holds the plate.

    The camera keeps its sensor fit: the sensor size that fit uses is set so the frame's width
    spans ``sensor_mm`` (the plate's geometry: rays through pixel centres at sensor / focal per
    frame width). Returns one warning naming every value of an existing camera that changed.
    """
    data = camera.data
    wanted = plate_mesh.camera_values(data.sensor_fit, sensor_mm, focal_mm, width, height,
                                      data.clip_start, data.clip_end, min_m, max_m)
    changes = []
    for attr, (label, unit, value) in wanted.items():
        old = float(getattr(data, attr))
        if abs(old - value) > 1e-6 * max(abs(old), abs(value), 1.0):
            setattr(data, attr, value)
            changes.append(f"{label} {old:g} -> {float(getattr(data, attr)):g} {unit}")
    if not (report_changes and changes):
        return []
    return [f"Camera '{camera.name}' changed to match the footage: {', '.join(changes)}"]


def configure_render(scene: bpy.types.Scene) -> None:
    """Render settings under which a plate returns its source pixels (with DOF off)."""
    scene.render.filter_size = PLATE_FILTER_PX
    if hasattr(scene, "cycles"):
        scene.cycles.filter_width = PLATE_FILTER_PX
    eevee = getattr(scene, "eevee", None)
    if eevee is not None and hasattr(eevee, "use_bokeh_jittered"):
        # EEVEE's post-process DOF cannot see behind a foreground edge; jittering the camera
        # over the aperture renders the plate and its fill layer from many lens positions.
        eevee.use_bokeh_jittered = True
    scene.render.dither_intensity = 0.0
    vs = scene.view_settings
    vs.view_transform = "Standard"
    vs.look = "None"
    vs.exposure = 0.0
    vs.gamma = 1.0
    vs.use_curve_mapping = False


# --- Geometry Nodes ---------------------------------------------------------------------------

_INPUTS = (
    ("Depth", "NodeSocketImage", None),
    ("Fill Layer", "NodeSocketBool", False),
    ("Width", "NodeSocketInt", 64),
    ("Height", "NodeSocketInt", 36),
    ("Density", "NodeSocketFloat", DEFAULT_DENSITY),
    ("Sensor", "NodeSocketFloat", DEFAULT_SENSOR_MM),
    ("Focal", "NodeSocketFloat", DEFAULT_FOCAL_MM),
    ("Frame Offset", "NodeSocketInt", 0),
    ("Tear", "NodeSocketFloat", plate_mesh.DEFAULT_TEAR),
    ("Margin", "NodeSocketInt", 0),
    ("Viewport Density", "NodeSocketFloat", DEFAULT_VIEWPORT_DENSITY),
    ("Material", "NodeSocketMaterial", None),
    ("Mesh", "NodeSocketImage", None),
    ("Adaptive", "NodeSocketBool", False),
)


def ensure_node_group() -> bpy.types.NodeTree:
    """The shared plate node group (built once per file). A file whose plates came from an older
    version keeps their group (named alike, ``.001``...) for them; this version's is found by
    its ``rf_version``, whatever its suffix, so re-importing never adds another."""
    for group in bpy.data.node_groups:
        if (group.bl_idname == "GeometryNodeTree" and group.name.startswith(GROUP_NAME)
                and group.get("rf_version") == GROUP_VERSION):
            return group
    group = bpy.data.node_groups.new(GROUP_NAME, "GeometryNodeTree")
    group["rf_version"] = GROUP_VERSION
    _build_group(group)
    return group


class _Builder:
    def __init__(self, tree):
        self.tree = tree
        self.x = 0

    def node(self, kind: str, *inputs, **props):
        n = self.tree.nodes.new(kind)
        n.location = (self.x, 0)
        self.x += 40
        for key, value in props.items():
            setattr(n, key, value)
        for i, value in enumerate(inputs):
            if value is None:
                continue
            self.set(n.inputs[i], value)
        return n

    def set(self, socket, value):
        if hasattr(value, "is_output") or isinstance(value, bpy.types.NodeSocket):
            self.tree.links.new(value, socket)
        elif isinstance(value, bpy.types.Node):
            self.tree.links.new(value.outputs[0], socket)
        else:
            socket.default_value = value

    def math(self, op: str, a, b=None):
        n = self.node("ShaderNodeMath", operation=op)
        self.set(n.inputs[0], a)
        if b is not None:
            self.set(n.inputs[1], b)
        return n.outputs[0]

    def on_domain(self, domain: str, value, data_type: str = "FLOAT"):
        n = self.node("GeometryNodeFieldOnDomain", domain=domain, data_type=data_type)
        self.set(n.inputs[0], value)
        return n.outputs[0]


def _build_group(group) -> None:
    for name, socket_type, default in _INPUTS:
        sock = group.interface.new_socket(name, in_out="INPUT", socket_type=socket_type)
        if default is not None:
            sock.default_value = default
    group.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    b = _Builder(group)
    gi = b.node("NodeGroupInput")
    go = b.node("NodeGroupOutput")
    inp = {s.name: s for s in gi.outputs}
    store, uv, face_z, frame = _sampled_grid(b, inp)
    result = _torn_plate(b, inp, store, uv, face_z, frame)
    group.links.new(result, go.inputs[0])


def _sampled_grid(b: _Builder, inp: dict):
    """The grid with its UVs stored, and each face's depth sampled from this frame's image:
    (grid geometry socket, UV attribute node, face depth field, this frame's number)."""
    # Grid over the frame plus a margin of M pixels on every side (a wide aperture looks past
    # the frame's edge): round((W + 2M) * density) + 1 vertices across, in texture units.
    viewport = b.node("GeometryNodeIsViewport")
    pick_density = b.node("GeometryNodeSwitch", input_type="FLOAT")
    b.set(pick_density.inputs[0], viewport.outputs[0])
    b.set(pick_density.inputs[1], inp["Density"])
    b.set(pick_density.inputs[2], b.math("MINIMUM", inp["Density"], inp["Viewport Density"]))
    density = pick_density.outputs[0]
    margin2 = b.math("MULTIPLY", inp["Margin"], 2.0)
    wide = b.math("ADD", inp["Width"], margin2)
    high = b.math("ADD", inp["Height"], margin2)
    nx = b.math("ADD", b.math("ROUND", b.math("MULTIPLY", wide, density)), 1.0)
    ny = b.math("ADD", b.math("ROUND", b.math("MULTIPLY", high, density)), 1.0)
    grid = b.node("GeometryNodeMeshGrid", b.math("DIVIDE", wide, inp["Width"]),
                  b.math("DIVIDE", high, inp["Height"]), nx, ny)
    pos = b.node("GeometryNodeInputPosition")
    uv_val = b.node("ShaderNodeVectorMath", pos.outputs[0], (0.5, 0.5, 0.0), operation="ADD")
    store = b.node("GeometryNodeStoreNamedAttribute", grid.outputs[0], None,
                   data_type="FLOAT_VECTOR", domain="POINT")
    store.inputs["Name"].default_value = UV_ATTR
    b.set(store.inputs["Value"], uv_val.outputs[0])

    uv = b.node("GeometryNodeInputNamedAttribute", data_type="FLOAT_VECTOR")
    uv.inputs["Name"].default_value = UV_ATTR
    face_uv = b.on_domain("FACE", uv.outputs["Attribute"], "FLOAT_VECTOR")
    time = b.node("GeometryNodeInputSceneTime")
    frame = b.math("ADD", time.outputs["Frame"], inp["Frame Offset"])
    tex = b.node("GeometryNodeImageTexture", inp["Depth"], face_uv, frame,
                 interpolation="Closest", extension="EXTEND")
    sep = b.node("FunctionNodeSeparateColor", tex.outputs["Color"])
    pick = b.node("GeometryNodeSwitch", input_type="FLOAT")
    b.set(pick.inputs[0], inp["Fill Layer"])
    b.set(pick.inputs[1], sep.outputs["Red"])
    b.set(pick.inputs[2], sep.outputs["Green"])
    face_z = b.on_domain("FACE", pick.outputs[0])
    return store, uv, face_z, frame


def _torn_plate(b: _Builder, inp: dict, store, uv, face_z, frame):
    """Faces kept (fill layer: those with a fill depth), edges torn at depth jumps, vertices on
    their camera rays, UV map and material: the output geometry socket."""
    # Fill layer: only faces with a fill depth (0 means none); the main layer keeps every face.
    empty = b.node("FunctionNodeCompare", face_z, 1e-6, data_type="FLOAT", operation="LESS_EQUAL")
    delete = b.node("GeometryNodeDeleteGeometry", store.outputs[0], empty.outputs[0],
                    domain="FACE", mode="ALL")

    # Tear: split edges whose two faces differ in log depth by more than ln(1 + tear).
    torn = plate_nodes.tear_condition(b, inp, face_z)
    split = b.node("GeometryNodeSplitEdges", delete.outputs[0], torn.outputs[0])

    # Each vertex to the mean depth of its faces, along its camera ray.
    z = b.on_domain("FACE", face_z)
    xyz = b.node("ShaderNodeSeparateXYZ", uv.outputs["Attribute"])
    slope = b.math("DIVIDE", inp["Sensor"], inp["Focal"])
    aspect = b.math("DIVIDE", inp["Height"], inp["Width"])
    px = b.math("MULTIPLY", b.math("MULTIPLY", b.math("SUBTRACT", xyz.outputs[0], 0.5), slope), z)
    py = b.math("MULTIPLY", b.math("MULTIPLY", b.math("MULTIPLY",
                b.math("SUBTRACT", xyz.outputs[1], 0.5), slope), aspect), z)
    pz = b.math("MULTIPLY", z, -1.0)
    new_pos = b.node("ShaderNodeCombineXYZ", px, py, pz)
    setpos = b.node("GeometryNodeSetPosition", split.outputs[0], None, new_pos.outputs[0])
    # The same UVs as a UV map (2D, on face corners): the Solid view's Texture colour shows the
    # footage through it, so the plate is the shot there too instead of a grey wall.
    # The light plate (plate_nodes) where the cache has its mesh image, in renders and in the
    # viewport alike: lighter than the uniform grid at the viewport density (a file opened for
    # a render evaluates the viewport too: 387 MB open against 520 MB on the real-like 1080p
    # frame, measured) and exact there as well. The viewport density thins uniform grids only.
    which = b.node("GeometryNodeSwitch", input_type="GEOMETRY")
    b.set(which.inputs[0], inp["Adaptive"])
    b.set(which.inputs[1], setpos.outputs[0])
    b.set(which.inputs[2], plate_nodes.adaptive_plate(b, inp, frame))
    # (u * depth, v * depth, depth) of every vertex, depth along the camera's axis.
    depth = b.math("MULTIPLY", b.node("ShaderNodeSeparateXYZ", b.node(
        "GeometryNodeInputPosition").outputs[0]).outputs[2], -1.0)
    flat_uv = b.node("ShaderNodeVectorMath", uv.outputs["Attribute"], (1.0, 1.0, 0.0),
                     operation="MULTIPLY")
    scaled = b.node("ShaderNodeVectorMath", flat_uv.outputs[0], operation="SCALE")
    b.set(scaled.inputs["Scale"], depth)
    uvw = b.node("ShaderNodeVectorMath", scaled.outputs[0],
                 b.node("ShaderNodeCombineXYZ", 0.0, 0.0, depth).outputs[0], operation="ADD")
    store_uvw = b.node("GeometryNodeStoreNamedAttribute", which.outputs[0], None,
                       data_type="FLOAT_VECTOR", domain="POINT")
    store_uvw.inputs["Name"].default_value = UVW_ATTR
    b.set(store_uvw.inputs["Value"], uvw.outputs[0])
    uv_map = b.node("GeometryNodeStoreNamedAttribute", store_uvw.outputs[0], None,
                    data_type="FLOAT2", domain="CORNER")
    uv_map.inputs["Name"].default_value = UV_MAP
    b.set(uv_map.inputs["Value"], uv.outputs["Attribute"])
    setmat = b.node("GeometryNodeSetMaterial", uv_map.outputs[0], None, inp["Material"])
    return setmat.outputs[0]


def _socket_ids(group) -> dict[str, str]:
    return {item.name: item.identifier for item in group.interface.items_tree
            if getattr(item, "in_out", "") == "INPUT"}


def set_plate_input(obj: bpy.types.Object, name: str, value) -> None:
    """Set a plate modifier input by its name (e.g. 'Density', 'Viewport Density', 'Tear')."""
    mod = obj.modifiers.get("RackFocus Plate")
    if mod is None or mod.node_group is None:
        raise RackFocusError(f"'{obj.name}' is not a Rack Focus plate")
    ids = _socket_ids(mod.node_group)
    if name not in ids:
        raise RackFocusError(f"Plates have no input '{name}' (inputs: {', '.join(ids)})")
    compat.set_modifier_input(mod, ids[name], value)
    obj.update_tag()


def _plate_object(scene, camera, name: str, group, values: dict, fill: bool, material):
    mesh = bpy.data.meshes.new(name)
    mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    (camera.users_collection[0] if camera.users_collection else scene.collection).objects.link(obj)
    obj.parent = camera
    obj.matrix_parent_inverse.identity()
    mod = obj.modifiers.new("RackFocus Plate", "NODES")
    mod.node_group = group
    ids = _socket_ids(group)
    for name, value in (("Depth", values["depth"]), ("Fill Layer", fill),
                        ("Width", int(values["width"])), ("Height", int(values["height"])),
                        ("Density", float(values["density"])), ("Sensor", float(values["sensor"])),
                        ("Focal", float(values["focal"])), ("Frame Offset", int(values["offset"])),
                        ("Tear", float(values["tear"])), ("Margin", int(values["margin"])),
                        ("Viewport Density", float(values.get("viewport_density",
                                                              DEFAULT_VIEWPORT_DENSITY))),
                        ("Material", material), ("Mesh", values.get("mesh")),
                        ("Adaptive", bool(values.get("adaptive", False)))):
        if value is not None:  # no mesh image away from the light plate's density
            compat.set_modifier_input(mod, ids[name], value)
    for flag in ("visible_diffuse", "visible_glossy", "visible_transmission",
                 "visible_volume_scatter", "visible_shadow"):
        if hasattr(obj, flag):
            setattr(obj, flag, False)
    obj.hide_select = fill
    return obj


def _material(name: str, image: bpy.types.Image, clip: footage_io.Clip, scene,
              offset: int) -> bpy.types.Material:
    """Emission of ``image`` at the plate's UVs, seen by camera rays only."""
    mat = compat.new_node_material(name)
    tree = mat.node_tree
    tree.nodes.clear()
    b = _Builder(tree)
    attr = b.node("ShaderNodeAttribute", attribute_name=UVW_ATTR, attribute_type="GEOMETRY")
    depth = b.node("ShaderNodeSeparateXYZ", attr.outputs["Vector"]).outputs[2]
    uv = b.node("ShaderNodeVectorMath", attr.outputs["Vector"], depth, operation="DIVIDE")
    tex = b.node("ShaderNodeTexImage", uv.outputs[0], interpolation="Closest",
                 extension="EXTEND")
    tex.image = image
    tree.nodes.active = tex  # the image the Solid view's Texture colour shows
    if image.source in ("SEQUENCE", "MOVIE"):
        user = tex.image_user
        user.use_auto_refresh = True
        user.frame_duration = clip.frames
        user.frame_start = scene.frame_start
        user.frame_offset = offset
    emit = b.node("ShaderNodeEmission", tex.outputs["Color"], 1.0)
    clear = b.node("ShaderNodeBsdfTransparent")
    path = b.node("ShaderNodeLightPath")
    mix = b.node("ShaderNodeMixShader", path.outputs["Is Camera Ray"], clear.outputs[0],
                 emit.outputs[0])
    out = b.node("ShaderNodeOutputMaterial", mix.outputs[0])
    out.target = "ALL"
    if hasattr(mat, "blend_method"):
        mat.blend_method = "OPAQUE"
    return mat


def plates(camera: bpy.types.Object | None = None) -> list[bpy.types.Object]:
    """Main plate objects (not fill layers), of ``camera`` if given."""
    out = []
    for obj in bpy.data.objects:
        rec = records.read(obj, RECORD)
        if rec is None or rec.get("layer") == "fill":
            continue
        if camera is None or rec.get("camera") == camera.name:
            out.append(obj)
    return out


def remove_plates(camera: bpy.types.Object) -> int:
    """Remove the plates (and fill layers) of ``camera``; returns how many objects went."""
    gone = 0
    for obj in list(bpy.data.objects):
        rec = records.read(obj, RECORD)
        if rec and rec.get("camera") == camera.name:
            mesh = obj.data
            bpy.data.objects.remove(obj)
            if mesh is not None and mesh.users == 0:
                bpy.data.meshes.remove(mesh)
            gone += 1
    return gone


def depth_image(plate: bpy.types.Object) -> bpy.types.Image | None:
    """The cached metric depth image (first frame of its sequence) that ``plate`` samples."""
    mod = next((m for m in plate.modifiers if m.type == "NODES"), None)
    if mod is None or mod.node_group is None:
        return None
    return compat.get_modifier_input(mod, _socket_ids(mod.node_group)["Depth"])
