"""The depth plate's cache on disk (pure: numpy, threads and the C library's allocator).

Cache files per plate (``<cache>/<plate>_<hash>/``): ``depth_####.exr`` (R: metric planar
depth, G: fill-layer depth or 0, both 32-bit float; B: 1 where the depth was unmeasured and
filled from neighbours) and ``fill_####.exr`` (RGB: fill colour, half float), numbered from 1.
They are written into a :class:`StagedFolder`, renamed into place once every frame succeeded,
so a failed import leaves nothing behind.

The cache streams (:func:`write_cache`): one frame is read, converted, inpainted
(:func:`plate_mesh.cache_frame`, O(N)) and written at a time, so memory does not grow with the
clip. The caller reads the frames (through Blender, which holds Python's lock while it
decodes); the inpainting runs numpy on both cores where that pays, and the EXRs are written by
:func:`write_cache_exr` on a thread of their own, overlapping the next frame's reading.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterable

import numpy as np

from . import exr, plate_lod, plate_mesh
from .progress import Progress, tick


def write_cache(folder: str, frames: Iterable[tuple[np.ndarray, np.ndarray]], total: int,
                converter, radius: int, tear: float, progress: Progress | None = None,
                light: bool = True) -> None:
    """Depth and fill EXRs for every frame, into ``folder`` (a staged, empty folder): one frame
    in memory at a time (:func:`plate_mesh.cache_frame`); its two files are written on a thread
    while the next frame is read.

    ``frames`` yields (footage channel planes (C, H, W), raw depth (H, W) at footage size) per
    frame, ``total`` of them; ``converter`` is a :class:`..depth.Converter` fitted to the clip;
    ``radius`` the fill radius in pixels, ``tear`` the relative depth jump that splits faces.

    depth: R metric depth, G fill-layer depth (0: none), B 1 where the depth was not measured
    (filled from neighbours), A 1. fill: RGB fill colour. mesh (``light`` only: no other
    density reads it): the light plate's faces, rectangles and corner depths (:mod:`plate_lod`).
    """
    writer = CacheWriter()
    try:
        with _freed_memory_kept(), _small_pages():
            _cache_frames(folder, frames, total, converter, radius, tear, progress, writer,
                          light)
    finally:
        writer.close()  # every write finished (or failed) before the caller cleans up


def _cache_frames(folder, frames, total, converter, radius, tear, progress, writer,
                  light) -> None:
    for i, (color, raw) in enumerate(frames):
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
                       plate_lod.mesh_planes(depth[0], depth[1], tear, margin=radius),
                       plate_lod.MESH_TYPES)
        del depth, fill
        tick(progress, "writing depth and background fill", i + 1, total)
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


class CacheWriter:
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


def cache_bytes(frames: int, width: int, height: int, movie: bool = False,
                light: bool = True) -> int:
    """Bytes a clip's cache needs at most: depth uncompressed (12 a pixel), fill (8 at most), the
    light plate's mesh image (:func:`plate_lod.mesh_bytes`), a movie's decoded
    PNG frames (3 at most) and a header per file; ``light``: with the mesh image."""
    per_px = 20 + (3 if movie else 0)
    mesh = plate_lod.mesh_bytes(width, height) if light else 0
    return frames * (width * height * per_px + mesh + 3 * 4096)


def write_cache_exr(path: str, planes, types=("f", "f", "f", "f")) -> None:
    """One cache file: four channel planes R, G, B, A as an OpenEXR (:func:`exr.write`), written
    without holding Python's lock for long, so it overlaps the next frame's reading.

    All-half files (the fill colour) are ZIP-compressed: about 10x smaller (19 -> 2 MB a
    real-like 1080p frame) for 0.1 s. Files with 32-bit channels (depth) are written raw: they
    shrink only about 3x (28 -> 10 MB) and compressing took 5x as long as writing them (measured
    on 2 cores, bench/bench_plate.py --real-like)."""
    exr.write(path, planes, types, compress=all(t == "h" for t in types))


class StagedFolder:
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
