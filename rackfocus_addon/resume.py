"""Where a shot list's last run stopped (pure): the manifest each shot's folder keeps, and
whether a shot has anything left to do.

``rackfocus_shot.json`` (:attr:`..shots.Shot.manifest_path`) records the shot's fingerprint (its
settings and source files), its frames and whether it is complete. A re-run with the same
fingerprint neither rebuilds nor re-renders a shot whose .blend, frames and media are all there;
checked without Blender.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .atomic import read_json, write_json
from .batch_report import BUILT, DONE, PARTIAL, BatchOptions, ShotReport
from .frames import format_frame_list
from .image_files import image_problem
from .shots import Shot, restrict_frames


def finished(path: str) -> bool:
    """Whether ``path`` is a finished file: there, and complete (a full disk may have cut a
    file short without Blender saying so; a resume must render it again, not keep it)."""
    return os.path.isfile(path) and image_problem(path) is None


def read_manifest(shot: Shot) -> dict | None:
    """What the last run recorded in the shot's folder, or None."""
    return read_json(shot.manifest_path)


def write_manifest(shot: Shot, fingerprint: str, frames: Sequence[int], complete: bool) -> None:
    """Record the shot's fingerprint, frames and state (written whole, then renamed)."""
    data = {"version": 1, "shot": shot.name, "fingerprint": fingerprint,
            "blend": os.path.basename(shot.blend_path), "frames": list(frames),
            "frame_list": format_frame_list(frames), "format": shot.render.format,
            "complete": complete}
    write_json(shot.manifest_path, data, sort_keys=False, newline=True)


def finished_state(shot: Shot, options: BatchOptions) -> dict | None:
    """The manifest when this run has nothing to do for ``shot`` (checked without Blender):
    same fingerprint, the .blend saved, and every frame (and media, once all frames are there)
    this run would make already on disk."""
    manifest = read_manifest(shot)
    if not manifest or manifest.get("fingerprint") != shot.fingerprint():
        return None
    if not os.path.isfile(shot.blend_path):
        return None
    if options.build_only:
        return manifest
    frames = manifest.get("frames") or []
    wanted = restrict_frames(frames, options.frames)
    if not all(finished(shot.frame_path(f)) for f in wanted):
        return None
    everything = all(finished(shot.frame_path(f)) for f in frames)
    if everything and stale_media(shot, frames, shot.media_paths()):
        return None
    return manifest


def stale_media(shot: Shot, frames: Sequence[int], media: dict[str, str]) -> dict[str, str]:
    """The files of ``media`` (name -> path) that are missing or older than a frame of
    ``frames`` (a frame rendered after them, e.g. by a farm's chunk: they show old pictures)."""
    stamps = [os.path.getmtime(p) for p in map(shot.frame_path, frames) if os.path.isfile(p)]
    newest = max(stamps, default=0.0)
    return {k: p for k, p in media.items()
            if not finished(p) or os.path.getmtime(p) < newest}


def report_finished(shot: Shot, options: BatchOptions, r: ShotReport) -> None:
    manifest = finished_state(shot, options) or {}
    frames = manifest.get("frames") or []
    r.resumed = True
    r.blend = shot.blend_path
    r.frames_total = len(frames)
    r.frames_done = sum(1 for f in frames if finished(shot.frame_path(f)))
    r.frames_kept = len(restrict_frames(frames, options.frames))
    if options.build_only:
        r.status = BUILT
    else:
        r.status = DONE if r.frames_done == r.frames_total else PARTIAL
    r.files = shot_files(shot, frames)


def shot_files(shot: Shot, frames: Sequence[int]) -> dict[str, str]:
    files = {"blend": shot.blend_path, "frames": shot.output}
    for key, path in shot.media_paths().items():
        if os.path.isfile(path):
            files[key] = path
    if os.path.isfile(shot.manifest_path):
        files["manifest"] = shot.manifest_path
    return files




def count_done(shot: Shot) -> int:
    """How many of the frames the manifest lists are on disk."""
    manifest = read_manifest(shot)
    frames = manifest.get("frames", []) if manifest else []
    return sum(1 for f in frames if finished(shot.frame_path(f)))
