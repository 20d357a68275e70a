"""Rendering frames, contact sheets and movies (bpy)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import bpy
import numpy as np

from .. import plot
from ..errors import RackFocusError
from ..image_files import image_problem
from ..limits import disk_full_error, is_disk_full
from ..progress import Progress
from . import compat, plate_render, records
from .files import blender_stdout_silenced
from .plate import RECORD as PLATE_RECORD


def configure(scene: bpy.types.Scene, engine: str = "cycles", samples: int | None = None,
              resolution: tuple[int, int] | None = None) -> list[str]:
    """Engine, samples and resolution for a headless render (CPU Cycles, no denoiser), and the
    render settings made for depth plates where the scene has plates
    (:func:`plate_render.apply`); returns those settings' changes, one line each.

    The denoiser is off because Debian's Blender is built without OIDN; a few more samples do the
    same job everywhere.
    """
    try:
        scene.render.engine = compat.engine_id(engine)
    except (ValueError, TypeError) as err:
        raise RackFocusError(str(err)) from None
    if scene.render.engine == "CYCLES":
        scene.cycles.device = "CPU"
        scene.cycles.use_denoising = False
        if samples:
            scene.cycles.samples = samples
    elif samples and hasattr(scene, "eevee"):
        scene.eevee.taa_render_samples = samples
    if resolution:
        scene.render.resolution_x, scene.render.resolution_y = resolution
        scene.render.resolution_percentage = 100
    plates = [o for o in scene.objects if records.read(o, PLATE_RECORD)]
    return plate_render.apply(scene, plates) if plates else []


def render_frames(scene: bpy.types.Scene, out_dir: str, frames: Sequence[int],
                  progress: Progress | None = None, prefix: str = "frame_",
                  camera: bpy.types.Object | None = None) -> list[str]:
    """Render ``frames`` (frame numbers, in order) to PNGs in ``out_dir``; returns their paths.

    ``camera`` renders instead of the scene camera (timeline markers bound to cameras are
    unbound meanwhile, or they would switch back); the scene is left as it was.
    """
    if camera is None and scene.camera is None:
        raise RackFocusError(f"Scene '{scene.name}' has no camera to render from")
    os.makedirs(out_dir, exist_ok=True)
    compat.set_image_output(scene, "PNG")
    scene.render.image_settings.color_mode = "RGB"
    paths = []
    frames = list(frames)
    current = scene.frame_current
    scene_camera = scene.camera
    bound = [(m, m.camera) for m in scene.timeline_markers if m.camera is not None]
    try:
        if camera is not None:
            for marker, _cam in bound:
                marker.camera = None
            scene.camera = camera
        for i, frame in enumerate(frames):
            scene.frame_set(frame)
            path = os.path.join(os.path.abspath(out_dir), f"{prefix}{frame:04d}.png")
            scene.render.filepath = path
            # Blender prints 'Saved: ...' on stdout, where `render --json` has its one object.
            with blender_stdout_silenced():
                bpy.ops.render.render(write_still=True, scene=scene.name)
            if image_problem(path) is not None:  # Blender reports no failed write
                _refuse_partial_frame(scene, path, out_dir, len(frames) - i)
            paths.append(path)
            if progress is not None:
                progress(f"rendered frame {frame}:", i + 1, len(frames))
    finally:
        if camera is not None:
            for marker, cam in bound:
                marker.camera = cam
            scene.camera = scene_camera
        scene.frame_set(current)
    return paths


def _refuse_partial_frame(scene, path: str, out_dir: str, frames_left: int) -> None:
    """Remove the cut-short ``path`` this render wrote and raise: disk full (RGB PNGs,
    uncompressed at most, for the frames left) or no file."""
    if os.path.isfile(path):
        os.remove(path)
    if is_disk_full(None, out_dir):
        pixels = scene.render.resolution_x * scene.render.resolution_y
        raise disk_full_error(3 * pixels * frames_left, out_dir)
    raise RuntimeError(f"render of {os.path.basename(path)} wrote no complete file")


def load_rgba(path: str) -> np.ndarray:
    """Pixels of an image file as float RGBA, shape (H, W, 4), top row first."""
    img = bpy.data.images.load(path, check_existing=False)
    try:
        w, h = img.size
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    return px.reshape(h, w, 4)[::-1]


def save_png(pixels: np.ndarray, path: str) -> str:
    """Write float RGBA pixels (H, W, 4), top row first, as a PNG."""
    h, w = pixels.shape[:2]
    img = bpy.data.images.new("rackfocus_tmp", w, h, alpha=True)
    try:
        img.pixels.foreach_set(np.ascontiguousarray(pixels[::-1], dtype=np.float32).ravel())
        img.filepath_raw = path
        img.file_format = "PNG"
        img.save()
    finally:
        bpy.data.images.remove(img)
    return path


def contact_sheet(paths: Sequence[str], out_path: str, columns: int = 4, count: int = 12,
                  gap_px: int = 4) -> str:
    """A grid of up to ``count`` frames picked evenly from ``paths``, saved as a PNG."""
    if not paths:
        raise RackFocusError("No frames for a contact sheet")
    n = min(count, len(paths))
    picks = [paths[round(i * (len(paths) - 1) / max(n - 1, 1))] for i in range(n)]
    tiles = [load_rgba(p) for p in picks]
    h, w = tiles[0].shape[:2]
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    sheet = np.ones((rows * h + (rows + 1) * gap_px, cols * w + (cols + 1) * gap_px, 4),
                    dtype=np.float32)
    sheet[..., :3] = 0.1
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y = gap_px + r * (h + gap_px)
        x = gap_px + c * (w + gap_px)
        sheet[y:y + h, x:x + w] = tile
        sheet[y:y + h, x:x + w, 3] = 1.0
    return save_png(sheet, out_path)


def labelled_contact_sheet(paths: Sequence[str], labels: Sequence[str], out_path: str) -> str:
    """The frames ``paths`` in a grid, each enlarged to at least :data:`~..plot.MIN_TILE_PX`
    wide with its label (:func:`~..plot.frame_label`) under it, saved as a PNG."""
    if not paths:
        raise RackFocusError("No frames for a contact sheet")
    return save_png(plot.labelled_sheet([load_rgba(p) for p in paths], labels), out_path)


def enable_denoiser(scene: bpy.types.Scene) -> bool:
    """Cycles' OpenImageDenoise on the CPU for ``scene``. False (denoising left off) where this
    Blender has none: Debian's is built without it, the PyPI ``bpy`` and blender.org builds
    have it (one check for the whole extension: :func:`plate_render.has_denoiser`)."""
    cycles = scene.cycles
    if not plate_render.has_denoiser():
        cycles.use_denoising = False
        return False
    cycles.denoiser = "OPENIMAGEDENOISE"
    cycles.use_denoising = True
    if hasattr(cycles, "denoising_use_gpu"):
        cycles.denoising_use_gpu = False
    return True


def make_movie(paths: Sequence[str], out_path: str, fps: int = 24) -> str:
    """Encode PNG frames into an H.264 MP4 with Blender's own sequencer (no external ffmpeg)."""
    if not paths:
        raise RackFocusError("No frames to encode")
    first = load_rgba(paths[0])
    scene = bpy.data.scenes.new("rackfocus_movie")
    try:
        scene.render.resolution_x, scene.render.resolution_y = first.shape[1], first.shape[0]
        scene.render.resolution_percentage = 100
        scene.render.fps = fps
        editor = scene.sequence_editor_create()
        folder = os.path.dirname(paths[0])
        strip = compat.vse_strips(editor).new_image("frames", paths[0], 1, 1)
        for path in paths[1:]:
            if os.path.dirname(path) != folder:
                raise RackFocusError("Movie frames must be in one folder")
            strip.elements.append(os.path.basename(path))
        scene.frame_start, scene.frame_end = 1, len(paths)
        compat.set_movie_output(scene)
        scene.render.filepath = out_path
        scene.render.use_file_extension = False
        with blender_stdout_silenced():  # 'Video append frame N' lines, one per frame
            bpy.ops.render.render(animation=True, scene=scene.name)
    finally:
        bpy.data.scenes.remove(scene)
    if not os.path.isfile(out_path):
        raise RuntimeError(f"the movie encoder wrote no file at {out_path}")
    return out_path
