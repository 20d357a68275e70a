"""Files: saving .blend files the farm-safe way, and the extension's user folders."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile

import bpy

from ..errors import RackFocusError
from ..limits import disk_full_error, free_bytes, is_disk_full


def save_blend(path: str) -> str:
    """Save the open file to ``path`` with relative paths; returns the absolute path.

    Paths can only be made relative once the file has a folder: save, remap, save again, without
    leaving a .blend1 backup of the first save beside the output. Saving over the open file
    itself (``--out`` equal to the input) keeps exactly one backup of it, ``FILE.blend1``, as a
    Blender save does; a save Blender refuses raises :class:`RackFocusError`.
    """
    full = os.path.abspath(path)
    if not full.endswith(".blend"):
        raise RackFocusError(f"Output must be a .blend file: {path}")
    folder = os.path.dirname(full) or "."
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise RackFocusError(f"Cannot save {path}: {err.strerror or err}") from None
    prefs = bpy.context.preferences.filepaths
    versions = prefs.save_version
    # Over the input, its first save moves the input to FILE.blend1; the second save keeps it.
    prefs.save_version = 1 if is_open_file(full) else 0
    existed = os.path.exists(full)
    try:
        with blender_stdout_silenced():
            bpy.ops.wm.save_as_mainfile(filepath=full, relative_remap=True, compress=False)
            prefs.save_version = 0
            bpy.ops.file.make_paths_relative()
            bpy.ops.wm.save_mainfile(filepath=full)
    except RuntimeError as err:
        if not existed and os.path.isfile(full):
            os.remove(full)  # our first save, without relative paths: not a file to keep
        _raise_if_disk_full(folder)
        raise RackFocusError(f"Cannot save {path}: {_one_line(err)}") from None
    finally:
        prefs.save_version = versions
    return full


def _raise_if_disk_full(folder: str) -> None:
    """Raise 'disk full: N MB needed in DIR' when a failed save did not fit in ``folder``.

    Blender's own message for it is errno's leftover ('Inappropriate ioctl for device'), so the
    size is measured: a copy saved to the temporary folder (removed), and the free space."""
    with tempfile.TemporaryDirectory(prefix="rackfocus_size_") as tmp:
        copy = os.path.join(tmp, "size.blend")
        try:
            with blender_stdout_silenced():
                bpy.ops.wm.save_as_mainfile(filepath=copy, copy=True, compress=False)
            needed = os.path.getsize(copy)
        except (RuntimeError, OSError):
            needed = 1  # cannot measure here either: any free space will not do
    free = free_bytes(folder)
    if free is not None and free < 2 * needed or is_disk_full(None, folder):
        raise disk_full_error(needed, folder)  # Blender writes FILE.blend@, then renames it


def is_open_file(path: str) -> bool:
    """True when ``path`` is the .blend file that is open (the same file on disk)."""
    current = bpy.data.filepath
    if not current or not os.path.exists(path) or not os.path.exists(current):
        return False
    return os.path.samefile(path, current)


def _one_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


@contextlib.contextmanager
def blender_stdout_silenced():
    """Keep Blender's own report lines ('Info: Total files 0 | Changed 0 | Failed 0', 'Info:
    Saved ...', 'Read blend: ...') off stdout, where a pipeline reads the CLI's result.

    Blender writes them to the process's file descriptor 1 or, when Python's ``sys.stdout`` is
    redirected, through it: both are silenced. Errors still raise.
    """
    with contextlib.redirect_stdout(io.StringIO()), _to_devnull(sys.__stdout__):
        yield


@contextlib.contextmanager
def c_stderr_quiet():
    """Keep what C libraries print on stderr ('libpng error: IDAT: CRC error', 'libpng warning')
    out of the CLI's one error line: file descriptor 2 goes to /dev/null meanwhile. A failure
    still raises (Blender reports it), and is then said once, in our words."""
    with _to_devnull(sys.__stderr__):
        yield


@contextlib.contextmanager
def _to_devnull(stream):
    """The file descriptor under ``stream`` (the process's own stdout or stderr) goes to
    /dev/null meanwhile; nothing happens where there is no real one."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    stream.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        stream.flush()
        os.dup2(saved, fd)
        os.close(saved)


def _extension_package() -> str:
    """The extension's package name (``bl_ext.user_default.rack_focus``) or the test name."""
    return __package__.rsplit(".rackfocus_addon", 1)[0]


def user_dir(name: str, env: str, create: bool = False) -> str:
    """The extension's user folder ``name`` (``bpy.utils.extension_path_user``: never inside
    the extension itself), or the folder the environment variable ``env`` names (tests, farms).
    Outside an installed extension (the bpy module), Blender's config folder
    ``rack_focus/<name>``. Created when ``create``."""
    folder = os.environ.get(env)
    if not folder:
        try:
            folder = bpy.utils.extension_path_user(_extension_package(), path=name,
                                                   create=create)
        except (ValueError, AttributeError, TypeError):
            folder = os.path.join(bpy.utils.user_resource("CONFIG"), "rack_focus", name)
    if create:
        os.makedirs(folder, exist_ok=True)
    return folder
