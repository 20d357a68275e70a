"""What the machine and Blender can hold, checked before any work (pure Python, no bpy).

One place for the limits every door shares: memory a run needs (bytes), cores for threads,
free disk space (bytes, reported in MB), image sizes read from a file's header (pixels), frame
rates Blender stores (a whole number over a base), and whether files can really be created in a
folder. Each check raises :class:`RackFocusError` with one line that says what to change.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import struct
import uuid
from fractions import Fraction

from .errors import RackFocusError

#: Blender's ``RenderData.fps`` (a whole number) and ``fps_base`` limits.
BLENDER_FPS_MAX = 32767
BLENDER_FPS_BASE_RANGE = (1e-5, 1e6)
#: Relative error below which a rate counts as held exactly (0.0001 %: under a frame a week).
FPS_TOLERANCE = 1e-6
#: Blender's largest image side in pixels (its largest render resolution).
MAX_IMAGE_SIDE_PX = 65536
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- memory and cores ---------------------------------------------------------------------------

def available_memory_bytes() -> int | None:
    """Memory a new allocation can get now (Linux ``MemAvailable``, else physical memory), in
    bytes; None where neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def gigabytes(n_bytes: float) -> str:
    """Bytes as people read them: '36.9 GB', '0.4 GB'."""
    return f"{n_bytes / 1e9:.1f} GB"


def check_memory(needed_bytes: float, what: str, fix: str,
                 available: int | None = None) -> None:
    """Raise unless ``needed_bytes`` fit in the memory available now (``available`` bytes, or
    :func:`available_memory_bytes`): one line naming ``what`` needs how much, and ``fix``."""
    if available is None:
        available = available_memory_bytes()
    if available is not None and needed_bytes > available:
        raise RackFocusError(f"{what} needs about {gigabytes(needed_bytes)} of memory and "
                             f"{gigabytes(available)} is available: {fix}")


def usable_threads(requested: int, cores: int | None = None) -> tuple[int, str | None]:
    """(threads to use, a note when ``requested`` was more than the ``cores`` the machine has).

    0 means "all cores" (ONNX Runtime's default) and is kept; asking a thread pool for far more
    threads than cores only costs memory (100000 crashed ONNX Runtime)."""
    cores = cores or os.cpu_count() or 1
    if requested > cores:
        return cores, f"--threads {requested}: this machine has {cores} cores, using {cores}"
    return requested, None


# --- disk ---------------------------------------------------------------------------------------

def megabytes(n_bytes: float) -> int:
    """Bytes to whole MB, rounded up (1 byte needs 1 MB of room, as people count it)."""
    return max(1, math.ceil(n_bytes / 1e6))


def disk_full_error(needed_bytes: float, folder: str) -> RackFocusError:
    """The one line every write path says when the disk is full."""
    return RackFocusError(f"disk full: {megabytes(needed_bytes)} MB needed in {folder}")


def free_bytes(folder: str) -> int | None:
    """Free space for files in ``folder`` (or its nearest existing parent), in bytes."""
    probe = _existing(folder)
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def has_room(needed_bytes: float, folder: str) -> bool:
    """Whether ``needed_bytes`` fit in ``folder``'s free space (True where it cannot be read)."""
    free = free_bytes(folder)
    return free is None or needed_bytes <= free


def check_free_space(needed_bytes: float, folder: str) -> None:
    """Raise the disk-full line unless ``needed_bytes`` fit in ``folder``'s free space."""
    if not has_room(needed_bytes, folder):
        raise disk_full_error(needed_bytes, folder)


#: Free space under which a failed write counts as a full disk whatever its error says
#: (Blender's writers report EIO, 'Inappropriate ioctl for device', or nothing): 1 MB.
FULL_DISK_BYTES = 1_000_000


def is_disk_full(err: BaseException | None, folder: str | None = None) -> bool:
    """Whether a write failed for want of space: ``err`` says ENOSPC (or a quota), or
    ``folder`` has less than :data:`FULL_DISK_BYTES` free."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if folder is None:
        return False
    free = free_bytes(folder)
    return free is not None and free < FULL_DISK_BYTES


def _existing(folder: str) -> str:
    probe = os.path.abspath(folder)
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    return probe


def folder_problem(folder: str) -> str | None:
    """None if files can be created in ``folder`` (or the folders made on the way), else why not.

    The nearest existing folder is tried by creating and removing a probe file: permission bits
    do not tell (root passes them under ``/proc``, a read-only mount, a full quota)."""
    probe = _existing(folder)
    if not os.path.isdir(probe):
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"folder {probe} is read-only"
    path = os.path.join(probe, f".rackfocus_probe_{uuid.uuid4().hex}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        if is_disk_full(err):
            return f"folder {probe} is on a full disk"
        return f"files cannot be created in {probe} ({err.strerror or err})"
    os.close(fd)
    os.remove(path)
    return None


# --- images -------------------------------------------------------------------------------------

def png_size(path: str) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's header, or None when ``path`` is not a PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def check_png(path: str, shown: str | None = None) -> None:
    """Refuse a PNG whose header cannot be right (truncated, zero or over Blender's largest
    side) or whose decode (float RGBA) would not fit in memory, before a decoder touches it."""
    shown = shown or path
    if not path.lower().endswith(".png") or not os.path.isfile(path):
        return
    size = png_size(path)
    if size is None:  # another format named .png: Blender reads files by their content
        return
    w, h = size
    if not (0 < w <= MAX_IMAGE_SIDE_PX and 0 < h <= MAX_IMAGE_SIDE_PX):
        raise RackFocusError(f"Cannot read {shown}: its header says {w}x{h} pixels; Blender "
                             f"reads images up to {MAX_IMAGE_SIDE_PX} pixels a side")
    check_memory(w * h * 16, f"Reading {shown} ({w}x{h} pixels)",
                 "use a smaller image")


# --- frame rates --------------------------------------------------------------------------------

def blender_fps(rate: float) -> tuple[int, float]:
    """``rate`` frames per second as Blender stores it: (``fps``, ``fps_base``), a whole number
    up to 32767 over a base, ``fps / fps_base == rate``.

    NTSC rates (23.976, 29.97, 59.94) become N*1000/1001 as Blender's presets store them; others
    the simplest fraction within 0.0001 % (100.5 -> 201/2). A rate no such fraction holds is
    refused, naming the nearest rates that Blender can store.
    """
    if not (math.isfinite(rate) and rate > 0):
        raise RackFocusError(f"Bad frame rate {rate:g}: use a positive number of frames per "
                             "second")
    if abs(rate - round(rate)) <= FPS_TOLERANCE * rate and round(rate) <= BLENDER_FPS_MAX:
        return int(round(rate)), 1.0
    whole = rate * 1.001
    if abs(whole - round(whole)) < 1e-3 and round(whole) <= BLENDER_FPS_MAX:
        return int(round(whole)), 1.001
    most = max(1, BLENDER_FPS_MAX // max(1, math.ceil(rate)))
    for den in range(2, most + 1):  # the simplest fraction that holds the rate
        num = round(rate * den)
        if 0 < num <= BLENDER_FPS_MAX and abs(num / den / rate - 1) <= FPS_TOLERANCE:
            return num, float(den)
    below, above = _nearest_fractions(rate, most)
    shown = " or ".join(f"{float(f):.6g} ({f.numerator}/{f.denominator})"
                        for f in (below, above) if f is not None)
    raise RackFocusError(f"Frame rate {rate:g} cannot be stored by Blender (a whole number up to "
                         f"{BLENDER_FPS_MAX} over a base): nearest {shown}")


def _nearest_fractions(rate: float, most_den: int) -> tuple[Fraction | None, Fraction | None]:
    """The nearest fractions below and above ``rate`` with numerators up to 32767."""
    below = above = None
    for den in range(1, most_den + 1):
        lo, hi = Fraction(math.floor(rate * den), den), Fraction(math.ceil(rate * den), den)
        if lo > 0 and lo.numerator <= BLENDER_FPS_MAX and (below is None or lo > below):
            below = lo
        if hi.numerator <= BLENDER_FPS_MAX and (above is None or hi < above):
            above = hi
    return below, above
