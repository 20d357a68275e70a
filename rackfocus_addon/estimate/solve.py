"""Anchors from a camera solve (pure, numpy only).

A clip tracked and solved in Blender's Movie Clip Editor holds, for each track with a bundle, a
3D point in the solve's space, and for each solved frame the camera's matrix (camera to the
solve's world, looking down -Z). A track's marker on a solved frame is then a metric anchor on
that frame: the pixel where the marker sits, at the bundle's depth along that frame's view axis
(planar, like Blender's Z pass), in the solve's units: metres when the artist set the solve's
scale in metres (Set Scale on two tracks a known distance apart); a solve left unscaled has an
arbitrary unit and gives anchors in it.

Frames: marker and camera frames count from ``first_frame`` (the clip's first frame: 1 for a
clip whose frame offset is 0) and become 0-based depth-frame indices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..depth import Anchor

#: Anchors kept per frame, the tracks with the smallest reprojection error first: a solve has
#: tens of tracks on every frame, and a dozen well spread ones tie a frame as well as all.
MAX_PER_FRAME = 12
#: A bundle nearer than this along the view axis (solve units) is behind or at the camera.
MIN_DEPTH = 1e-6


@dataclass(frozen=True)
class SolvedTrack:
    """A track with a bundle: ``bundle`` (x, y, z) in the solve's space, ``markers`` (frame,
    x, y) with x, y the marker's position as a share of the frame's width and height from the
    bottom-left corner (Blender's marker coordinates), ``error`` its reprojection error (px)."""

    name: str
    bundle: tuple[float, float, float]
    markers: tuple[tuple[int, float, float], ...]
    error: float = 0.0


def split_spec(spec: str) -> tuple[str, str | None]:
    """``FILE.blend[:CLIP]`` -> (path, clip name or None); a Windows drive letter stays."""
    head, sep, tail = spec.rpartition(":")
    if sep and head.lower().endswith(".blend") and tail:
        return head, tail
    return spec, None


def planar_depth(camera_matrix: np.ndarray, point: Sequence[float]) -> float:
    """Distance of ``point`` along the view axis (-Z) of a camera whose camera-to-world matrix
    (4 x 4) is ``camera_matrix``; negative behind the camera."""
    local = np.linalg.inv(np.asarray(camera_matrix, dtype=np.float64)) @ np.append(
        np.asarray(point, dtype=np.float64), 1.0)
    return float(-local[2])


def anchors_from_solve(tracks: Sequence[SolvedTrack], cameras: dict[int, np.ndarray],
                       width_px: int, height_px: int, first_frame: int = 1,
                       max_per_frame: int = MAX_PER_FRAME) -> list[Anchor]:
    """Anchors (pixel from the top-left, planar depth in the solve's units, 0-based frame) from
    the markers of solved ``tracks`` on frames with a solved camera (``cameras``: frame ->
    camera-to-world matrix). Markers outside the frame and bundles behind the camera are left
    out; at most ``max_per_frame`` per frame, the smallest reprojection errors first."""
    per_frame: dict[int, list[tuple[float, Anchor]]] = {}
    for track in tracks:
        for frame, u, v in track.markers:
            matrix = cameras.get(frame)
            if matrix is None or not (0.0 <= u < 1.0 and 0.0 < v <= 1.0):
                continue
            depth = planar_depth(matrix, track.bundle)
            if not (math.isfinite(depth) and depth > MIN_DEPTH):
                continue
            anchor = Anchor(u * width_px - 0.5, (1.0 - v) * height_px - 0.5, depth,
                            frame - first_frame)
            per_frame.setdefault(frame, []).append((track.error, anchor))
    out: list[Anchor] = []
    for frame in sorted(per_frame):
        ranked = sorted(per_frame[frame], key=lambda item: item[0])
        out += [a for _err, a in ranked[:max_per_frame] if a.frame >= 0]
    return out
