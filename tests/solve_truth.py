"""A known moving camera and known 3D points, the truth a camera-solve test checks against
(numpy only: tests/ui/make_solve.py projects them into markers, the tests compare anchors).

World: Z up; the camera starts at (-0.8, 0, 1.5) looking down +Y and over 24 frames trucks
right 1.6 m, dollies in 1 m, rises 0.2 m and pans 11 degrees. Footage 320x180, a 36 mm sensor
(horizontal fit) and a 35 mm lens, no distortion. Units: metres.
"""

from __future__ import annotations

import math

import numpy as np

FRAMES = 24
WIDTH, HEIGHT = 320, 180
SENSOR_MM, FOCAL_MM = 36.0, 35.0
#: The two points whose true distance sets the solve's scale.
SCALE_PAIR = (0, 1)
#: Frame margin (normalised) every point keeps on every frame.
MARGIN = 0.04


def camera_world(frame: int) -> np.ndarray:
    """World matrix (4x4, metres) of the camera on clip frame ``frame`` (1..FRAMES); it looks
    down its local -Z, as Blender's cameras do."""
    t = (frame - 1) / (FRAMES - 1)
    yaw = math.radians(-5.5 + 11.0 * t)
    tilt = math.radians(90.0 + 2.0 * math.sin(math.pi * t))
    cx, sx, cz, sz = math.cos(tilt), math.sin(tilt), math.cos(yaw), math.sin(yaw)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], dtype=np.float64)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], dtype=np.float64)
    out = np.eye(4)
    out[:3, :3] = rz @ rx
    out[:3, 3] = (-0.8 + 1.6 * t, 1.0 * t, 1.5 + 0.2 * t)
    return out


def project(frame: int, points: np.ndarray) -> np.ndarray:
    """Normalised marker positions (N, 2), origin bottom-left, of world ``points`` on
    ``frame``."""
    inv = np.linalg.inv(camera_world(frame))
    local = np.asarray(points, dtype=np.float64) @ inv[:3, :3].T + inv[:3, 3]
    focal_px = FOCAL_MM / SENSOR_MM * WIDTH
    u = 0.5 + focal_px * local[:, 0] / -local[:, 2] / WIDTH
    v = 0.5 + focal_px * local[:, 1] / -local[:, 2] / HEIGHT
    return np.stack([u, v], axis=1)


def view_depth(frame: int, points: np.ndarray) -> np.ndarray:
    """True planar depth (metres) of world ``points`` along the camera's view axis."""
    inv = np.linalg.inv(camera_world(frame))
    local = np.asarray(points, dtype=np.float64) @ inv[:3, :3].T + inv[:3, 3]
    return -local[:, 2]


def points(count: int = 30, seed: int = 17) -> np.ndarray:
    """``count`` world points (metres), 5-16 m ahead, each inside the frame on every frame."""
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    while len(keep) < count:
        p = rng.uniform((-6.0, 5.0, -0.5), (6.0, 16.0, 4.0), size=(1, 3))
        uv = np.concatenate([project(f, p) for f in range(1, FRAMES + 1)])
        if np.all((uv > MARGIN) & (uv < 1.0 - MARGIN)):
            keep.append(p[0])
    return np.array(keep)


def scale_distance(pts: np.ndarray) -> float:
    """The true distance (metres) between the two points of :data:`SCALE_PAIR`."""
    a, b = SCALE_PAIR
    return float(np.linalg.norm(pts[a] - pts[b]))


def anchor_errors(anchors) -> tuple[np.ndarray, np.ndarray]:
    """(relative depth errors, pixel distances) of solve anchors (``depth.Anchor``: pixel
    origin top-left, frame from 0) against the true point nearest each anchor's pixel."""
    pts = points()
    depth_err, px_err = [], []
    for a in anchors:
        frame = a.frame + 1
        uv = project(frame, pts)
        dist = np.hypot(uv[:, 0] * WIDTH - 0.5 - a.x, (1.0 - uv[:, 1]) * HEIGHT - 0.5 - a.y)
        i = int(np.argmin(dist))
        px_err.append(dist[i])
        depth_err.append(a.metres / view_depth(frame, pts[i:i + 1])[0] - 1.0)
    return np.abs(depth_err), np.array(px_err)
