"""Footage and depth files: find the clip a path names, read its pixels, set the scene from it.

A path names a still (one image), an image sequence (a folder of numbered images, a file of one,
or a pattern with ``#``) or a movie (by extension). Pixels are read through ``bpy.data.images``
(``foreach_get``), as (H, W, 4) float32 arrays with the top row first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import bpy
import numpy as np

from ..errors import RackFocusError
from ..estimate import preprocess
from ..limits import blender_fps, check_png
from .files import blender_stdout_silenced, c_stderr_quiet

IMAGE_EXTS = (".png", ".exr", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".tga", ".webp", ".hdr")
MOVIE_EXTS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ogv")
DEFAULT_FPS = 24.0

_NUMBERED = re.compile(r"^(.*?)(\d+)(\.[^.]+)$")


@dataclass
class Clip:
    """What a footage or depth path holds. ``numbers`` are the file frame numbers of a sequence."""

    path: str
    kind: str  # 'still', 'sequence' or 'movie'
    files: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    width: int = 0
    height: int = 0
    fps: float | None = None
    frames: int = 1
    bits: int = 8

    @property
    def first_number(self) -> int:
        return self.numbers[0] if self.numbers else 1

    def describe(self) -> str:
        return (f"{self.kind} {os.path.basename(self.path)} {self.width}x{self.height}, "
                f"{self.frames} frame(s)")


def find_clip(path: str) -> Clip:
    """The clip ``path`` names; raises :class:`RackFocusError` for a missing or unknown file."""
    if not path:
        raise RackFocusError("No file given")
    full = os.path.abspath(bpy.path.abspath(path))
    if os.path.isdir(full):
        files = sorted(f for f in os.listdir(full) if f.lower().endswith(IMAGE_EXTS))
        if not files:
            raise RackFocusError(f"Folder {path} holds no images")
        groups: dict[tuple[str, str], list[str]] = {}
        for f in files:
            m = _NUMBERED.match(f)
            key = (m.group(1), m.group(3)) if m else (f, "")
            groups.setdefault(key, []).append(os.path.join(full, f))
        if len(groups) > 1:
            names = ", ".join(f"{h}####{t}" if t else h for h, t in sorted(groups)[:4])
            raise RackFocusError(f"Folder {path} holds several sequences or images ({names}): "
                                 "name one of its files instead")
        return _sequence(path, [os.path.join(full, f) for f in files])
    if "#" in os.path.basename(full):
        head, tail = os.path.basename(full).split("#", 1)
        tail = tail.lstrip("#")
        folder = os.path.dirname(full)
        if not os.path.isdir(folder):
            raise RackFocusError(f"No such folder: {os.path.dirname(path)}")
        pat = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if pat.match(f))
        if not files:
            raise RackFocusError(f"No files match {path}")
        return _sequence(path, files)
    if not os.path.isfile(full):
        raise RackFocusError(f"No such file: {path}")
    ext = os.path.splitext(full)[1].lower()
    if ext in MOVIE_EXTS:
        return _movie(path, full)
    if ext not in IMAGE_EXTS:
        raise RackFocusError(
            f"{path}: not an image or movie Blender reads ({ext or 'no extension'})")
    match = _NUMBERED.match(os.path.basename(full))
    if match:
        # A numbered file is part of a sequence when a neighbouring number exists (a photo
        # IMG_1234.jpg among unrelated IMG_*.jpg stays a still); the sequence is every file of
        # the pattern, and a gap in it is refused (never a silently shorter clip).
        head, number, tail = match.groups()
        folder = os.path.dirname(full)
        pat = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
        files = [f for f in os.listdir(folder) if pat.match(f)]
        numbers = {int(pat.match(f).group(1)) for f in files}
        if int(number) - 1 in numbers or int(number) + 1 in numbers:
            return _sequence(path, [os.path.join(folder, f) for f in files])
    clip = Clip(path, "still", files=[full], numbers=[1])
    _probe(clip, full)
    return clip


def _sequence(path: str, files: list[str]) -> Clip:
    numbered = []
    for f in files:
        m = _NUMBERED.match(os.path.basename(f))
        if m is None:
            raise RackFocusError(f"{f}: a sequence needs numbered files (name_0001.png)")
        numbered.append((int(m.group(2)), f))
    numbered.sort()
    numbers = [n for n, _ in numbered]
    if len(set(numbers)) != len(numbers):
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        raise RackFocusError(f"Sequence {path} numbers frame(s) {_list(twice)} twice "
                             "(e.g. f_1.png and f_0001.png): keep one file per frame")
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        raise RackFocusError(
            f"Sequence {path} has gaps: frame(s) {_list(missing)} missing between "
            f"{numbers[0]} and {numbers[-1]}; supply every frame (or move the others out)")
    clip = Clip(path, "sequence", files=[f for _, f in numbered], numbers=numbers,
                frames=len(numbers))
    _probe(clip, clip.files[0])
    return clip


def _list(numbers: list[int], most: int = 8) -> str:
    """'3, 7, 9' (with 'and N more' past ``most``)."""
    text = ", ".join(str(n) for n in numbers[:most])
    return text + (f" and {len(numbers) - most} more" if len(numbers) > most else "")


def _movie(path: str, full: str) -> Clip:
    try:
        movie = bpy.data.movieclips.load(full, check_existing=False)
    except RuntimeError as err:
        raise RackFocusError(f"Cannot read movie {path}: {str(err).strip()}") from None
    try:
        w, h = movie.size
        frames = int(movie.frame_duration)
        fps = float(movie.fps) if movie.fps else None
    finally:
        bpy.data.movieclips.remove(movie)
    if w <= 0 or h <= 0 or frames <= 0:
        raise RackFocusError(f"Cannot read movie {path}: no frames decoded")
    return Clip(path, "movie", files=[full], numbers=list(range(1, frames + 1)), width=w,
                height=h, fps=fps, frames=frames, bits=8)


def _probe(clip: Clip, file: str) -> None:
    img = _load(file)
    try:
        clip.width, clip.height = (int(s) for s in img.size)
        clip.bits = bits_per_channel(img, file)
    finally:
        bpy.data.images.remove(img)


def _load(file: str) -> bpy.types.Image:
    """Load and decode ``file``; a corrupt or oversized image is one clear error (its header is
    checked first, and the decoder's own lines are kept off stderr)."""
    check_png(file)
    try:
        with c_stderr_quiet(), blender_stdout_silenced():  # Blender logs read errors on stdout
            img = bpy.data.images.load(file, check_existing=False)
            size = tuple(img.size)  # decodes the pixels: where libpng complains
    except RuntimeError as err:
        raise RackFocusError(f"Cannot read {file}: {str(err).strip()}") from None
    if size[0] <= 0 or size[1] <= 0:
        bpy.data.images.remove(img)
        raise RackFocusError(f"Cannot read {file}: not an image Blender decodes")
    return img


def bits_per_channel(img: bpy.types.Image, file: str = "") -> int:
    """8 for byte images, 16 for 16-bit PNG/TIFF (decoded to float), 32 for float formats."""
    if not img.is_float:
        return 8
    ext = os.path.splitext(file or img.filepath)[1].lower()
    return 16 if ext in (".png", ".tif", ".tiff") else 32


def read_pixels(file: str, data: bool = False) -> tuple[np.ndarray, int]:
    """(pixels (H, W, 4) float32 top row first, bits per channel) of one image file.

    ``data=True`` reads raw values (depth: no colour transform). Otherwise colour is returned as
    scene-linear: byte images in sRGB are decoded with the sRGB transfer function.
    """
    px, bits, srgb = _read(file, data)
    if srgb:
        px[..., :3] = srgb_to_linear(px[..., :3])
    return px, bits


def read_display(file: str) -> tuple[np.ndarray, int]:
    """(colour (H, W, 3) float32 display sRGB in 0..1, top row first, bits per channel): what a
    depth network sees. A byte sRGB file's values as they are (no round trip through linear,
    two power functions a pixel); anything else from scene-linear, clipped."""
    px, bits, srgb = _read(file, False)
    if srgb:
        return px[..., :3], bits
    return preprocess.linear_to_srgb(px[..., :3]), bits


def _read(file: str, data: bool) -> tuple[np.ndarray, int, bool]:
    """(pixels (H, W, 4) float32 top row first as stored, bits per channel, whether they are
    sRGB-encoded bytes)."""
    img = _load(file)
    try:
        if data:
            img.colorspace_settings.name = "Non-Color"
        img.alpha_mode = "CHANNEL_PACKED"
        w, h = img.size
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
        bits = bits_per_channel(img, file)
        srgb = not data and not img.is_float and img.colorspace_settings.name == "sRGB"
    finally:
        bpy.data.images.remove(img)
    return px.reshape(h, w, 4)[::-1].copy(), bits, srgb


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """The sRGB electro-optical transfer function (IEC 61966-2-1), as Blender's sRGB space."""
    v = np.asarray(values, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def write_exr(path: str, rgba: np.ndarray) -> None:
    """Write (H, W, 4) float data (top row first) as a 32-bit float EXR, values untouched."""
    h, w = rgba.shape[:2]
    img = bpy.data.images.new(os.path.basename(path), w, h, alpha=True, float_buffer=True)
    try:
        img.colorspace_settings.name = "Non-Color"  # no view/colour transform on save
        img.alpha_mode = "CHANNEL_PACKED"
        img.pixels.foreach_set(np.ascontiguousarray(rgba[::-1], dtype=np.float32).ravel())
        img.file_format = "OPEN_EXR"
        img.filepath_raw = path
        img.save()
    finally:
        bpy.data.images.remove(img)


def unpack_movie(clip: Clip, folder: str, progress=None) -> Clip:
    """Decode a movie into a PNG sequence in ``folder`` (Blender's sequencer; no ffmpeg binary).

    Python cannot read a movie's pixels frame by frame, and the plate's fill must be computed
    from them, so a movie is unpacked once into the plate's cache; the plate then plays the
    frames exactly as they were measured. Returns the sequence clip (frame rate kept).
    """
    from . import compat

    if clip.kind != "movie":
        return clip
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        if re.match(r"^frame_\d+\.png$", f):
            os.remove(os.path.join(folder, f))
    scene = bpy.data.scenes.new("rackfocus_unpack")
    try:
        render = scene.render
        render.resolution_x, render.resolution_y = clip.width, clip.height
        render.resolution_percentage = 100
        render.dither_intensity = 0.0
        scene.view_settings.view_transform = "Standard"
        scene.view_settings.look = "None"
        editor = scene.sequence_editor_create()
        strip = compat.vse_strips(editor).new_movie("footage", clip.files[0], 1, 1)
        frames = compat.strip_source_frames(strip)
        scene.frame_start, scene.frame_end = 1, frames
        compat.set_image_output(scene, "PNG")
        render.image_settings.color_mode = "RGB"
        render.image_settings.color_depth = "8"
        render.use_sequencer = True
        render.use_compositing = False
        # One animation render: rendering stills frame by frame kept showing the first frame.
        render.filepath = os.path.join(folder, "frame_")
        render.use_file_extension = True
        bpy.ops.render.render(animation=True, scene=scene.name)
        if progress is not None:
            progress("unpacked movie frames", frames, frames)
    finally:
        bpy.data.scenes.remove(scene)
    seq = find_clip(os.path.join(folder, "frame_0001.png"))
    if seq.frames != frames:
        raise RackFocusError(f"Movie {clip.path}: decoded {seq.frames} of {frames} frames")
    seq.fps = clip.fps
    return seq


def check_frame_sizes(clip: Clip, what: str = "Footage", progress=None) -> None:
    """Refuse a sequence with a frame of another size than its first, naming the file and both
    sizes (never stretched). Loads each file's size only, a tenth of reading its pixels."""
    if clip.kind != "sequence":
        return
    for i, f in enumerate(clip.files[1:], start=2):
        img = _load(f)
        try:
            w, h = (int(v) for v in img.size)
        finally:
            bpy.data.images.remove(img)
        if (w, h) != (clip.width, clip.height):
            raise _size_error(clip, what, f, w, h)
        if progress is not None:
            progress(f"checking {what.lower()} frames", i, clip.frames)


def _size_error(clip: Clip, what: str, file: str, w: int, h: int) -> RackFocusError:
    return RackFocusError(
        f"{what} frame {file} is {w}x{h} but the sequence's first frame "
        f"({os.path.basename(clip.files[0])}) is {clip.width}x{clip.height}: every frame must "
        "have the same size")


def read_planes(clip: Clip, path: str, what: str, channels: int, data: bool = False
                ) -> np.ndarray:
    """The first ``channels`` channels of the frame ``path`` of ``clip`` as planes
    (channels, H, W), top row first; a frame of another size than the clip's is refused, naming
    ``what`` ('Footage', 'Depth'). The values of :func:`read_pixels` (raw with ``data``, else
    scene-linear, 8-bit sRGB decoded), read straight into planes: that skips read_pixels'
    full-frame copies and its per-pixel sRGB power (a 256-entry table does it: 8-bit footage has
    256 values), 0.5 s of a 1080p frame."""
    if clip.kind == "movie":
        raise RackFocusError(f"{clip.path}: unpack the movie first (unpack_movie)")
    img = _load(path)
    try:
        if data:
            img.colorspace_settings.name = "Non-Color"
        img.alpha_mode = "CHANNEL_PACKED"
        w, h = (int(v) for v in img.size)
        if (w, h) != (clip.width, clip.height):
            raise _size_error(clip, what, path, w, h)
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
        srgb = not data and not img.is_float and img.colorspace_settings.name == "sRGB"
    finally:
        bpy.data.images.remove(img)
    rows = px.reshape(h, w, 4)[::-1]  # Blender stores the bottom row first
    planes = np.empty((channels, h, w), dtype=np.float32)
    for channel, plane in enumerate(planes):
        plane[...] = rows[..., channel]
    del px, rows
    if srgb:
        codes = np.empty((h, w), dtype=np.uint8)
        for plane in planes:
            np.multiply(plane, 255.0, out=plane)
            np.rint(plane, out=plane)
            codes[...] = plane
            np.take(_SRGB_TO_LINEAR, codes, out=plane)
    return planes


#: Scene-linear value of every 8-bit sRGB code (``srgb_to_linear`` of code / 255).
_SRGB_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255))


def load_image(clip: Clip, name: str, data: bool = False) -> bpy.types.Image:
    """A Blender image for ``clip`` set up to play (sequence/movie) when sampled by frame."""
    img = bpy.data.images.load(clip.files[0], check_existing=False)
    img.name = name
    if clip.kind == "sequence":
        img.source = "SEQUENCE"
    elif clip.kind == "movie":
        img.source = "MOVIE"
    if data:
        img.colorspace_settings.name = "Non-Color"
    img.alpha_mode = "CHANNEL_PACKED"
    return img


def apply_to_scene(scene: bpy.types.Scene, clip: Clip, fps: float | None = None,
                   start: int | None = None, keep_range: bool = False) -> list[str]:
    """Scene resolution, frame rate and (unless ``keep_range``) range follow the footage (100 %,
    square pixels). Returns what changed, one 'what old -> new' line each."""
    render = scene.render
    before = (render.resolution_x, render.resolution_y, render.resolution_percentage,
              render.pixel_aspect_x, render.pixel_aspect_y, render.fps / render.fps_base,
              scene.frame_start, scene.frame_end)
    render.resolution_x, render.resolution_y = clip.width, clip.height
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    rate = fps or clip.fps
    if rate:
        set_fps(scene, rate)
    if not keep_range:
        first = scene.frame_start if start is None else start
        scene.frame_start = first
        scene.frame_end = first + clip.frames - 1
    changes = []
    if before[:3] != (render.resolution_x, render.resolution_y, 100):
        changes.append(f"resolution {before[0]}x{before[1]} at {before[2]} % -> "
                       f"{render.resolution_x}x{render.resolution_y}")
    if before[3:5] != (1.0, 1.0):
        changes.append(f"pixel aspect {before[3]:g}:{before[4]:g} -> 1:1")
    if abs(before[5] - render.fps / render.fps_base) > 1e-6:
        changes.append(f"frame rate {before[5]:g} -> {render.fps / render.fps_base:g} fps")
    if before[6:] != (scene.frame_start, scene.frame_end):
        changes.append(f"frame range {before[6]}-{before[7]} -> "
                       f"{scene.frame_start}-{scene.frame_end}")
    return changes


def set_fps(scene: bpy.types.Scene, fps: float) -> None:
    """Set ``fps`` as Blender stores it (a whole number over a base): 23.976 -> 24000/1001,
    100.5 -> 201/2; a rate Blender cannot hold is refused (never clamped to 32767)."""
    scene.render.fps, scene.render.fps_base = blender_fps(fps)
