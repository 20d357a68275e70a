"""Anchors from a camera solve: the maths of Blender's Movie Clip tracking data (pure, numpy only).

A clip tracked and solved in Blender's Movie Clip Editor holds, for every track with a bundle, a
3D point, and for every solved frame the camera's world matrix (Blender's convention: the camera
looks down its local -Z). Each bundle seen on a frame is a pixel of known distance there: its
depth along the solved camera's view axis (planar depth, what the estimator writes), in the
solve's units times the scale the artist set (Set Scale on the camera, or Apply Solution Scale
on the solve itself): that scale IS the metres. ``bl.solve_anchors`` reads the file; this module
turns what it read into :class:`depth.Anchor` s.

Conventions converted here:

- Marker positions are normalised 0..1 across the frame, origin bottom-left, in the footage's
  own (distorted) pixels; Rack Focus pixels have the origin top-left and integers at pixel
  centres, so ``x = u * W - 0.5`` and ``y = (1 - v) * H - 0.5``.
- Marker and reconstruction frames are clip frames (1: the clip's first frame, whatever its
  ``frame_start`` in the scene). Clip frame ``c`` shows the footage's frame
  ``c - 1 + frame_offset`` (0-based, counted from the file the clip names); the estimator's
  depth frame index counts from the footage's first file, ``file_shift`` apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..depth import Anchor
from ..errors import RackFocusError

#: Largest relative difference between the axes' scales of a camera that sets the solve's
#: scale: a camera stretched more than this along one axis has no single scale to give metres.
UNIFORM_SCALE_TOLERANCE = 1e-4

_SPEC = re.compile(r"^(?P<path>.+?\.blend)(?::(?P<clip>.*))?$", re.IGNORECASE)


def parse_solve_spec(text: str) -> tuple[str, str | None]:
    """``'FILE.blend'`` or ``'FILE.blend:CLIP'`` to (path, clip name or None)."""
    raw = (text or "").strip()
    match = _SPEC.match(raw)
    if match is None:
        raise RackFocusError(f"Bad camera solve '{raw}': write FILE.blend or FILE.blend:CLIP "
                             "(a .blend with a solved movie clip)")
    clip = match.group("clip")
    return match.group("path"), (clip if clip else None)


def view_depth(camera_world: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Depth (units of the points) of world ``points`` (N, 3) along the view axis of a camera
    whose world matrix (4, 4) is ``camera_world``: the camera looks down its local -Z, so the
    depth is minus the point's local z (positive in front of the camera)."""
    inverse = np.linalg.inv(np.asarray(camera_world, dtype=np.float64))
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    local = pts @ inverse[:3, :3].T + inverse[:3, 3]
    return -local[:, 2]


def marker_pixel(u: float, v: float, width: int, height: int) -> tuple[float, float]:
    """A marker's normalised position (origin bottom-left, 0..1 across the frame) to Rack Focus
    pixels (origin top-left, integers at pixel centres) of a ``width`` x ``height`` frame."""
    return u * width - 0.5, (1.0 - v) * height - 0.5


def depth_frame(clip_frame: int, frame_offset: int = 0, file_shift: int = 0) -> int:
    """The estimator's 0-based depth frame of clip frame ``clip_frame`` (1: the clip's first):
    ``frame_offset`` is the clip's Frame Offset, ``file_shift`` how many files the footage's
    first file comes before the file the clip names."""
    return int(clip_frame) - 1 + int(frame_offset) + int(file_shift)


def uniform_scale(matrix: np.ndarray) -> float:
    """The one scale of a 3x3 (or 4x4) matrix whose axes are scaled alike; refuses otherwise."""
    m = np.asarray(matrix, dtype=np.float64)[:3, :3]
    scales = np.linalg.norm(m, axis=0)
    mean = float(scales.mean())
    if not (mean > 0.0 and np.all(np.abs(scales - mean) <= UNIFORM_SCALE_TOLERANCE * mean)):
        raise RackFocusError(
            "The camera that carries the solve's scale is scaled unevenly ("
            + ", ".join(f"{s:.6g}" for s in scales)
            + "): scale it alike on X, Y and Z (Set Scale does), so the solve has one scale")
    return mean


@dataclass(frozen=True)
class Observation:
    """One enabled marker of a track with a bundle: clip frame, normalised position (origin
    bottom-left), the track's name and its bundle (solve units)."""

    frame: int
    u: float
    v: float
    track: str
    bundle: tuple[float, float, float]


@dataclass
class SolveAnchors:
    """Anchors read from a camera solve, and what was left out and why.

    ``scale`` multiplies the solve's units to metres (``scale_source`` says where it came
    from); ``skipped`` counts markers by reason.
    """

    clip: str
    anchors: list[Anchor] = field(default_factory=list)
    tracks: int = 0
    scale: float = 1.0
    scale_source: str = "the solve's own units"
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        """How many depth frames hold at least one anchor."""
        return len({a.frame for a in self.anchors})

    def summary(self) -> str:
        text = (f"camera solve '{self.clip}': {len(self.anchors)} anchor(s) from "
                f"{self.tracks} track(s) on {self.frames} frame(s), scale x{self.scale:.6g} "
                f"({self.scale_source})")
        left = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()) if n)
        return text + (f"; left out: {left}" if left else "")


def anchors_from_solve(cameras: Mapping[int, np.ndarray], observations: Iterable[Observation],
                       width: int, height: int, scale: float = 1.0, frame_offset: int = 0,
                       file_shift: int = 0, frame_count: int | None = None,
                       result: SolveAnchors | None = None) -> SolveAnchors:
    """Every observation on a solved frame as an :class:`Anchor` (metres: view-axis depth in
    solve units times ``scale``), at its pixel of a ``width`` x ``height`` frame.

    ``cameras`` maps clip frames to the solved camera's world matrix; a marker on a frame with
    no solved camera, outside the frame, behind the camera, or (``frame_count`` given) beyond
    the footage's depth frames is left out and counted in ``result.skipped``.
    """
    result = result or SolveAnchors("")
    result.scale = float(scale)
    skipped = result.skipped
    by_frame: dict[int, list[Observation]] = {}
    for ob in observations:
        by_frame.setdefault(int(ob.frame), []).append(ob)
    used: set[str] = set()
    for clip_frame in sorted(by_frame):
        seen = by_frame[clip_frame]
        index = depth_frame(clip_frame, frame_offset, file_shift)
        why = _frame_problem(clip_frame in cameras, index, frame_count)
        if why:
            skipped[why] = skipped.get(why, 0) + len(seen)
            continue
        depths = view_depth(cameras[clip_frame], np.array([ob.bundle for ob in seen]))
        for ob, z in zip(seen, depths):
            why = _marker_problem(ob, float(z))
            if why:
                skipped[why] = skipped.get(why, 0) + 1
                continue
            x, y = marker_pixel(ob.u, ob.v, width, height)
            result.anchors.append(Anchor(x, y, float(z) * result.scale, index))
            used.add(ob.track)
    result.tracks = len(used)
    return result


def _frame_problem(solved: bool, index: int, frame_count: int | None) -> str | None:
    if not solved:
        return "on frames the solve has no camera for"
    if index < 0 or (frame_count is not None and index >= frame_count):
        return "on frames outside the footage"
    return None


def _marker_problem(ob: Observation, depth: float) -> str | None:
    if not (0.0 <= ob.u <= 1.0 and 0.0 <= ob.v <= 1.0):
        return "outside the frame"
    if not (math.isfinite(depth) and depth > 0.0):
        return "behind the solved camera"
    return None


def check_solve_size(clip_size: Sequence[int], footage_size: Sequence[int]) -> None:
    """Refuse a solved clip whose aspect ratio is not the footage's (normalised marker
    positions carry over between sizes, e.g. a half-resolution proxy, but not between shapes)."""
    cw, ch = (int(s) for s in clip_size)
    fw, fh = (int(s) for s in footage_size)
    if cw <= 0 or ch <= 0:
        raise RackFocusError("The solved clip's footage cannot be read (size 0): check its path "
                             "in the Movie Clip Editor")
    if abs(cw * fh - ch * fw) > max(cw, fw):
        raise RackFocusError(f"The solved clip is {cw}x{ch} but the footage is {fw}x{fh}: the "
                             "aspect ratios differ, so the solve is of other footage")
