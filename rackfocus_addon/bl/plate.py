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

Cache files per plate (``<cache>/<plate>_<hash>/``, the hash of everything they are made from,
so two shots with alike file names never share one): ``depth_####.exr`` (R: metric planar depth,
G: fill-layer depth or 0, both 32-bit float; B: 1 where the depth was unmeasured and filled from
neighbours) and ``fill_####.exr`` (RGB: fill colour, half float), numbered from 1. They are
written under a temporary name and renamed into place once every frame succeeded, so a failed
import leaves nothing behind.

The cache streams: one frame is read, converted, inpainted (:func:`plate_mesh.cache_frame`,
O(N)) and written at a time, so memory does not grow with the clip. Reading goes through Blender
(it holds Python's lock while it decodes); the inpainting runs numpy on both cores where that
pays, and the EXRs are written by :func:`write_cache_exr` on a thread of their own, overlapping
the next frame's reading.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import bpy
import numpy as np

from .. import depth as depth_maths
from .. import exr, plate_lod, plate_mesh
from ..errors import RackFocusError
from ..limits import check_free_space, disk_full_error, is_disk_full
from . import compat, plate_nodes, plate_render, records
from . import footage as footage_io

RECORD = "rackfocus_plate"
GROUP_NAME = "RackFocus Plate"
UV_ATTR = "rf_uv"
#: The plate's UV map (face corners), for the Solid view's Texture colour.
UV_MAP = "UVMap"
DEFAULT_SENSOR_MM = 36.0
DEFAULT_FOCAL_MM = 50.0
#: Vertices per pixel along each axis (see plate_mesh.DENSITIES): one face per pixel.
DEFAULT_DENSITY = 1.0
#: Pixel filter width for plate renders: the footage is already anti-aliased (1.5 px blurs it
#: again). Cycles reads ``scene.cycles.filter_width`` (not ``render.filter_size``); at 0.01 px its
#: filter table let a few samples stray into neighbouring pixels (57 dB), at 0.1 px none did.
PLATE_FILTER_PX = 0.1
MAX_DENSITY = depth_maths.DENSITY_RANGE[1]
#: Grid density in the viewport (renders use the full density): a 1080p plate at 2 vertices per
#: pixel is 9 M faces, too heavy to orbit around; 0.5 is 0.6 M.
DEFAULT_VIEWPORT_DENSITY = 0.5

Progress = Callable[[str, int, int], None]


@dataclass
class PlateResult:
    """What :func:`build_plate` made, for the operator's report and the CLI."""

    plate: str
    fill: str
    camera: str
    footage: footage_io.Clip
    report: depth_maths.DepthReport
    cache_dir: str
    warnings: list[str] = field(default_factory=list)
    #: What the import changed in the scene: 'resolution 1280x720 at 100 % -> 64x36', ...
    scene_changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Plate '{self.plate}' on camera '{self.camera}': {self.footage.describe()}; "
                f"{self.report.summary()}")


def build_plate(scene: bpy.types.Scene, footage_path: str, depth_path: str, kind: str = "metric",
                near_m: float | None = None, far_m: float | None = None,
                anchors: Sequence[depth_maths.Anchor] = (),
                sensor_mm: float = DEFAULT_SENSOR_MM, focal_mm: float = DEFAULT_FOCAL_MM,
                density: float = DEFAULT_DENSITY, tear: float = plate_mesh.DEFAULT_TEAR,
                fill_px: int | None = None, cache_dir: str | None = None,
                camera: bpy.types.Object | None = None, fps: float | None = None,
                progress: Progress | None = None, keep_range: bool = False) -> PlateResult:
    """Import footage + depth as a plate in front of ``camera`` (the scene camera, or a new one).

    The scene's resolution and frame rate follow the footage, and its frame range too unless
    ``keep_range`` (then the clip plays from the scene's first frame and holds its last).

    Every setting, the camera and every input frame are validated, and the cache written under a
    temporary name, before the scene changes; the cache folder is renamed into place only when
    all of it succeeded. On a :class:`RackFocusError` nothing has been imported and nothing is
    left on disk (an existing cache of the same inputs is kept as it was).

    ``sensor_mm`` is the width of the frame on the sensor (with ``focal_mm``, the footage's field
    of view). The camera keeps its sensor fit: the plate sets the sensor size that fit uses so the
    camera sees exactly the footage's field of view, and reports every camera value it changes.
    """
    problems = depth_maths.validate_plate_settings(sensor_mm, focal_mm, density, tear, fill_px,
                                                   fps, near_m, far_m)
    if problems:
        raise RackFocusError("; ".join(problems))
    target = camera or scene.camera
    if target is not None:
        check_camera(target)
    cache_root = _cache_root(cache_dir)
    clip = footage_io.find_clip(footage_path)
    dclip = footage_io.find_clip(depth_path)
    depth_maths.check_clip(clip.frames, (clip.width, clip.height), dclip.frames,
                           (dclip.width, dclip.height))
    converter = depth_maths.Converter(kind, near_m, far_m, anchors)
    name = _plate_name(clip)
    sources = (clip.path, dclip.path)
    radius = int(fill_px) if fill_px is not None else plate_mesh.default_fill_px(clip.width)
    if fps is None and clip.fps is None and clip.frames > 1:
        fps = footage_io.DEFAULT_FPS  # an image sequence carries no frame rate
    key = cache_key(clip, dclip, kind, near_m, far_m, anchors, sensor_mm, focal_mm, density,
                    tear, radius, fps, name)
    light = density == DEFAULT_DENSITY  # the light plate: the only density with a mesh image
    needed = _cache_bytes(clip, light)
    check_free_space(needed, cache_root)  # a full disk is refused before any file is written
    staged = _StagedFolder(cache_root, f"{bpy.path.clean_name(name)}_{key}")
    warnings: list[str] = []
    try:
        # Movies are unpacked into the cache (their pixels are needed for the fill layer).
        clip = footage_io.unpack_movie(clip, os.path.join(staged.temp, "footage"), progress)
        dclip = footage_io.unpack_movie(dclip, os.path.join(staged.temp, "depth_movie"),
                                        progress)
        bits_warning = depth_maths.bit_depth_warning(dclip.bits)
        if bits_warning:
            warnings.append(bits_warning)

        # Footage frame sizes are checked before anything is written; inverse depth is read
        # once first (every frame checked, one alignment for the whole clip). Then frame by
        # frame: read, convert (a frame with no valid depth is refused there), inpaint the
        # fill, write the cache. The clip is never held in memory, and a failure anywhere
        # leaves nothing behind (the staged folder).
        footage_io.check_frame_sizes(clip, "Footage", progress)

        def depth_frames():
            for i, path in enumerate(dclip.files):
                z = footage_io.read_planes(dclip, path, "Depth", 1, data=True)[0]
                _tick(progress, "reading depth frames", i + 1, dclip.frames)
                yield depth_maths.resize_nearest(z, clip.width, clip.height)

        converter.fit(depth_frames, dclip.frames)
        _write_cache(staged.temp, clip, depth_frames(), converter, radius, tear, progress,
                     light)
        report = converter.finish()
        staged.commit()
    except OSError as err:
        staged.abort()
        if is_disk_full(err):  # filled up meanwhile: what was there is kept (staged folder)
            raise disk_full_error(needed, cache_root) from None
        raise
    except BaseException:
        staged.abort()
        raise
    folder = staged.folder
    clip = _moved(clip, staged.temp, folder)
    warnings += report.warnings
    nfiles = clip.frames

    # The scene changes from here on.
    try:
        scene_changes = footage_io.apply_to_scene(scene, clip, fps=fps, keep_range=keep_range)
        if target is None:
            target = _new_camera(scene)
            new_camera = True
        else:
            new_camera = False
        camera = target
        scene.camera = scene.camera or camera
        warnings += _setup_camera(camera, sensor_mm, focal_mm, clip.width, clip.height,
                                  report.min_m, report.max_m, report_changes=not new_camera)
        remove_plates(camera)
        depth_img = _cache_image(folder, "depth", nfiles, f"{name} Depth")
        fill_img = _cache_image(folder, "fill", nfiles, f"{name} Fill")
        mesh_img = _cache_image(folder, "mesh", nfiles, f"{name} Mesh") if light else None
        color_img = footage_io.load_image(clip, f"{name} Footage")
        group = ensure_node_group()
        common = {"width": clip.width, "height": clip.height, "density": density,
                  "sensor": sensor_mm, "focal": focal_mm, "offset": 1 - scene.frame_start,
                  "tear": tear, "depth": depth_img, "margin": radius, "mesh": mesh_img,
                  "adaptive": light}
        plate = _plate_object(scene, camera, name, group, common, fill=False,
                              material=_material(f"{name} Plate", color_img, clip, scene,
                                                 clip.first_number - 1))
        fill = _plate_object(scene, camera, f"{name} Fill", group, common, fill=True,
                             material=_material(f"{name} Plate Fill", fill_img, clip, scene, 0))
        configure_render(scene)
        scene_changes += plate_render.apply(scene, [plate, fill])
        record = {
            "version": 1, "camera": camera.name, "width": clip.width, "height": clip.height,
            "sensor_mm": sensor_mm, "focal_mm": focal_mm, "frames": nfiles,
            "frame_start": scene.frame_start, "fill": fill.name, "kind": kind,
            "footage": sources[0], "depth": sources[1], "alignment": [report.scale, report.shift],
            "cache": os.path.basename(folder),
        }
        records.write(plate, RECORD, record)
        records.write(fill, RECORD, dict(record, layer="fill", plate=plate.name))
    except BaseException:
        staged.abort()
        raise
    staged.finish()
    return PlateResult(plate.name, fill.name, camera.name, clip, report, folder, warnings,
                       scene_changes)


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


def cache_key(clip: footage_io.Clip, dclip: footage_io.Clip, kind: str,
              near_m: float | None, far_m: float | None,
              anchors: Sequence[depth_maths.Anchor], sensor_mm: float, focal_mm: float,
              density: float, tear: float, radius: int, fps: float | None, name: str) -> str:
    """8 hex digits that tell one plate's cache from every other's: a hash of everything the
    cache is made from (absolute footage and depth paths, conversion, camera, grid, fill, rate).

    Two shots whose footage files are named alike get different folders; identical inputs share
    one (re-importing rewrites the same content).
    """
    def source(c: footage_io.Clip):
        return [os.path.abspath(bpy.path.abspath(c.path)), c.files[0] if c.files else "",
                c.kind, c.frames, c.width, c.height]

    blob = json.dumps([source(clip), source(dclip), kind, near_m, far_m,
                       sorted(a.spec() for a in anchors), sensor_mm, focal_mm, density, tear,
                       radius, fps, name])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]


class _StagedFolder:
    """A cache folder written under a temporary name and renamed into place when complete.

    ``temp`` is created at once (and any missing folders above it); :meth:`abort` removes it
    and the folders it created. :meth:`commit` moves an existing folder of the same name aside
    and the new one in; :meth:`abort` (also after a commit) undoes it all, :meth:`finish` drops
    what was moved aside.
    """

    def __init__(self, root: str, name: str) -> None:
        self.root = root
        self.folder = os.path.join(root, name)
        tag = uuid.uuid4().hex[:8]
        self.temp = os.path.join(root, f".{name}.partial-{tag}")
        self.backup = os.path.join(root, f".{name}.old-{tag}")
        self.created: list[str] = []
        missing, path = [], root
        while not os.path.isdir(path):
            missing.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except FileExistsError:
                continue
            self.created.append(path)
        self.committed = False
        self.moved_aside = False
        try:
            os.mkdir(self.temp)
        except OSError:
            self._remove_created()
            raise

    def commit(self) -> None:
        if os.path.isdir(self.folder):
            os.rename(self.folder, self.backup)
            self.moved_aside = True
        os.rename(self.temp, self.folder)
        self.committed = True

    def abort(self) -> None:
        """Undo everything: the staged files go, a folder moved aside comes back."""
        if self.committed:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.committed = False
        shutil.rmtree(self.temp, ignore_errors=True)
        if self.moved_aside:
            os.rename(self.backup, self.folder)
            self.moved_aside = False
        self._remove_created()

    def finish(self) -> None:
        if self.moved_aside:
            shutil.rmtree(self.backup, ignore_errors=True)
            self.moved_aside = False

    def _remove_created(self) -> None:
        for path in reversed(self.created):
            try:
                os.rmdir(path)  # only if still empty: never anything someone else put there
            except OSError:
                break
        self.created = []


def _moved(clip: footage_io.Clip, old: str, new: str) -> footage_io.Clip:
    """``clip`` with its files under folder ``old`` (a staged cache) found under ``new``."""
    def move(path: str) -> str:
        try:
            inside = os.path.commonpath([os.path.abspath(path), old]) == old
        except ValueError:  # another drive
            inside = False
        return os.path.join(new, os.path.relpath(path, old)) if inside else path

    return dataclasses.replace(clip, path=move(clip.path), files=[move(f) for f in clip.files])


def _tick(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress is not None:
        progress(label, done, total)


def _cache_root(cache_dir: str | None) -> str:
    if cache_dir:
        return os.path.abspath(bpy.path.abspath(cache_dir))
    if not bpy.data.filepath:
        raise RackFocusError("Save the .blend first: the plate's depth and fill images are "
                             "cached next to it (relative paths, so renders find them)")
    return os.path.join(os.path.dirname(bpy.data.filepath), "rackfocus_cache")


def _plate_name(clip: footage_io.Clip) -> str:
    base = os.path.basename(os.path.normpath(clip.files[0] if clip.kind != "sequence"
                                             else clip.path))
    stem = os.path.splitext(base)[0]
    stem = re.sub(r"[_.\-]*[#\d]+$", "", stem) or stem or "Footage"
    return f"{stem} Plate"


def _write_cache(folder: str, clip: footage_io.Clip, depth_frames, converter, radius: int,
                 tear: float, progress: Progress | None, light: bool = True) -> None:
    """Depth and fill EXRs for every frame, into ``folder`` (a staged, empty folder): one frame
    in memory at a time (:func:`plate_mesh.cache_frame`); its two files are written on a thread
    while the next frame is read.

    depth: R metric depth, G fill-layer depth (0: none), B 1 where the depth was not measured
    (filled from neighbours), A 1. fill: RGB fill colour. mesh (``light`` only: no other
    density reads it): the light plate's block levels and corner depths.
    """
    writer = _CacheWriter()
    try:
        with _freed_memory_kept(), _small_pages():
            _cache_frames(folder, clip, depth_frames, converter, radius, tear, progress, writer,
                          light)
    finally:
        writer.close()  # every write finished (or failed) before the caller cleans up


def _cache_frames(folder, clip, depth_frames, converter, radius, tear, progress, writer,
                  light) -> None:
    for (i, path), raw in zip(enumerate(clip.files), depth_frames):
        color = footage_io.read_planes(clip, path, "Footage", 3)  # channel planes
        # The previous frame's files were written while this one was read; wait for them
        # before the computation, whose memory would add to theirs.
        writer.wait()
        z, measured = converter.convert_masked(raw, i)
        del raw
        depth, fill = plate_mesh.cache_frame(np.moveaxis(color, 0, -1), z, measured, radius,
                                             tear)
        del color, z, measured
        writer.put(os.path.join(folder, f"depth_{i + 1:04d}.exr"), depth, DEPTH_TYPES)
        writer.put(os.path.join(folder, f"fill_{i + 1:04d}.exr"), fill, FILL_TYPES)
        if light:
            writer.put(os.path.join(folder, f"mesh_{i + 1:04d}.exr"),
                       plate_lod.mesh_planes(depth[0], depth[1], tear), plate_lod.MESH_TYPES)
        del depth, fill
        _tick(progress, "writing depth and background fill", i + 1, clip.frames)
    writer.wait()  # then the memory kept for the frames is given back


#: glibc's malloc options (mallopt) and the values it settles on in a long-running process.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_SETTLED = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 64 << 20}


@contextlib.contextmanager
def _freed_memory_kept():
    """While the cache is built, keep memory that numpy frees for the next frame (glibc only;
    elsewhere nothing changes). glibc gives large arrays straight back to the system on free, so
    every frame touched its working memory afresh: on the 2-core VM the targets are set on, each
    new page costs ~0.05-0.1 ms (12 ms per MB, measured), and the fill of a 1080p frame took
    1.7 s instead of 0.35 s. Afterwards glibc is left with the thresholds it settles on by
    itself in a long-running process, and the kept memory is given back (``malloc_trim``)."""
    libc = None
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:
            libc = None
        if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
            libc = None
    if libc is None:
        yield
        return
    libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)
    libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1)
    try:
        yield
    finally:
        for option, value in _SETTLED.items():
            libc.mallopt(option, value)
        libc.malloc_trim(0)


@contextlib.contextmanager
def _small_pages():
    """While the cache is built, numpy asks for no transparent huge pages. It does by default
    (``madvise(MADV_HUGEPAGE)`` on every array of 4 MB or more), and where the kernel compacts
    memory to find one on the page fault (``defrag`` "madvise", the usual default) a new array
    cost 16-17 ms per MB on the 2-core VM the targets are set on, against 0.8 ms without: 2.7 s
    of a 4K frame's 3 s read. The setting is numpy's own (process-wide) and is put back after.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            _set_madvise_hugepage = None
    if _set_madvise_hugepage is None:
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


class _CacheWriter:
    """Writes cache EXRs on one thread of its own, one frame behind the caller.

    :meth:`put` hands over (path, planes) and returns at once (two may wait: one frame's depth
    and fill); :meth:`wait` returns when all are written. Both raise the error of an earlier
    write. :meth:`close` waits for the last write and raises its error, if any.
    """

    def __init__(self) -> None:
        self._jobs: list[tuple] = []
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rackfocus-cache-writer",
                                        daemon=True)
        self._thread.start()

    def put(self, path: str, planes, types) -> None:
        with self._cond:
            while len(self._jobs) >= 2 and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            self._jobs.append((path, planes, types))
            self._cond.notify_all()

    def wait(self) -> None:
        with self._cond:
            while self._jobs and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs or self._error is not None:
                    self._jobs.clear()
                    self._cond.notify_all()
                    return
                path, planes, types = self._jobs[0]
            try:
                write_cache_exr(path, planes, types)
            except BaseException as err:  # handed to the caller's thread
                with self._cond:
                    self._error = err
                    self._jobs.clear()
                    self._cond.notify_all()
                return
            with self._cond:
                self._jobs.pop(0)
                self._cond.notify_all()


#: Cache EXR channel types (R, G, B, A): "f" 32-bit float, "h" 16-bit half float. Depth and
#: fill depth stay 32-bit (geometry); flags, alpha and the fill colour are exact or far finer
#: than they need in half (the fill is seen only through defocus), which writes 37 % less.
DEPTH_TYPES = ("f", "f", "h", "h")
FILL_TYPES = ("h", "h", "h", "h")


def _cache_bytes(clip: footage_io.Clip, light: bool = True) -> int:
    """Bytes a clip's cache needs at most: depth uncompressed (12 a pixel), fill (8 at most), the
    light plate's mesh image (12, on a frame padded to whole 32 px blocks), a movie's decoded
    PNG frames (3 at most) and a header per file."""
    wp, hp = plate_lod.padded_size(clip.width, clip.height)
    per_px = 20 + (3 if clip.kind == "movie" else 0)
    mesh = 12 * (wp + 1) * (hp + 1) if light else 0
    return clip.frames * (clip.width * clip.height * per_px + mesh + 3 * 4096)


def write_cache_exr(path: str, planes, types=("f", "f", "f", "f")) -> None:
    """One cache file: four channel planes R, G, B, A as an OpenEXR (:func:`exr.write`), written
    without holding Python's lock for long, so it overlaps the next frame's reading.

    All-half files (the fill colour) are ZIP-compressed: about 10x smaller (19 -> 2 MB a
    real-like 1080p frame) for 0.1 s. Files with 32-bit channels (depth) are written raw: they
    shrink only about 3x (28 -> 10 MB) and compressing took 5x as long as writing them (measured
    on 2 cores, bench/bench_plate.py --real-like)."""
    exr.write(path, planes, types, compress=all(t == "h" for t in types))


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
    wanted = camera_values(data.sensor_fit, sensor_mm, focal_mm, width, height,
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


def camera_values(fit: str, sensor_mm: float, focal_mm: float, width: int, height: int,
                  clip_start: float, clip_end: float, min_m: float, max_m: float
                  ) -> dict[str, tuple[str, str, float]]:
    """The camera values a plate needs: {attribute: (label, unit, value)}.

    The sensor size is the one ``fit`` uses (:func:`plate_mesh.fitted_sensor`); the clip range
    changes only where it would cut the plate.
    """
    attr, size = plate_mesh.fitted_sensor(fit, sensor_mm, width, height)
    label = {"sensor_height": "sensor height", "sensor_width": "sensor width"}[attr]
    if fit == "AUTO" and height > width:
        label = "sensor size"  # Blender's label for the width applied to the larger side
    out = {attr: (label, "mm", size), "lens": ("focal length", "mm", float(focal_mm))}
    if clip_start > 0.5 * min_m:
        out["clip_start"] = ("clip start", "m", max(0.5 * min_m, 1e-4))
    if clip_end < 2.0 * max_m:
        out["clip_end"] = ("clip end", "m", max_m * 4.0 + 1.0)
    return out


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
    """The shared plate node group (built once per file)."""
    group = bpy.data.node_groups.get(GROUP_NAME)
    if group is not None and group.bl_idname == "GeometryNodeTree" and group.get("rf_version") == 8:
        return group
    group = bpy.data.node_groups.new(GROUP_NAME, "GeometryNodeTree")
    group["rf_version"] = 8
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

    # Fill layer: only faces with a fill depth (0 means none); the main layer keeps every face.
    empty = b.node("FunctionNodeCompare", face_z, 1e-6, data_type="FLOAT", operation="LESS_EQUAL")
    delete = b.node("GeometryNodeDeleteGeometry", store.outputs[0], empty.outputs[0],
                    domain="FACE", mode="ALL")

    # Tear: split edges whose two faces differ in log depth by more than ln(1 + tear).
    ln = b.math("LOGARITHM", face_z, math.e)
    mean = b.on_domain("FACE", ln)
    mean_sq = b.on_domain("FACE", b.math("MULTIPLY", ln, ln))
    var4 = b.math("MULTIPLY", b.math("SUBTRACT", mean_sq, b.math("MULTIPLY", mean, mean)), 4.0)
    limit = b.math("LOGARITHM", b.math("ADD", inp["Tear"], 1.0), math.e)
    torn = b.node("FunctionNodeCompare", var4, b.math("MULTIPLY", limit, limit),
                  data_type="FLOAT", operation="GREATER_THAN")
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
    # The light plate (plate_nodes) where the cache has its mesh image.
    which = b.node("GeometryNodeSwitch", input_type="GEOMETRY")
    b.set(which.inputs[0], inp["Adaptive"])
    b.set(which.inputs[1], setpos.outputs[0])
    b.set(which.inputs[2], plate_nodes.adaptive_plate(b, inp, frame))
    uv_map = b.node("GeometryNodeStoreNamedAttribute", which.outputs[0], None,
                    data_type="FLOAT2", domain="CORNER")
    uv_map.inputs["Name"].default_value = UV_MAP
    b.set(uv_map.inputs["Value"], uv.outputs["Attribute"])
    setmat = b.node("GeometryNodeSetMaterial", uv_map.outputs[0], None, inp["Material"])
    group.links.new(setmat.outputs[0], go.inputs[0])


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
    attr = b.node("ShaderNodeAttribute", attribute_name=UV_ATTR, attribute_type="GEOMETRY")
    tex = b.node("ShaderNodeTexImage", attr.outputs["Vector"], interpolation="Closest",
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
