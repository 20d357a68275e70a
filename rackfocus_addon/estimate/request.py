"""What one estimation is asked and what it gives (pure), and metric depth from the result.

Every door (the ``estimate`` verb, ``plate --estimate``, the panel, shot lists) builds an
:class:`EstimateRequest`; ``bl.estimation`` runs it and returns an :class:`EstimateResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import depth as depth_maths
from ..depth import Anchor
from ..errors import RackFocusError
from . import align, preprocess, registry


@dataclass
class EstimateRequest:
    """Everything one estimation needs; every door (CLI, panel, ``plate --estimate``) builds one.

    ``model`` is a registry name or an .onnx path; ``model_kind`` names the registry entry whose
    rules a path follows. Anchors are pixels of known distance (``frame`` 0-based); ``near_m`` and
    ``far_m`` the nearest and farthest distances. ``sensor_mm``/``focal_mm``/``sensor_fit`` are
    the camera (metric models need its focal length in pixels).
    """

    footage: str
    out_dir: str
    model: str = registry.DEFAULT_MODEL
    model_kind: str | None = None
    anchors: tuple[Anchor, ...] = ()
    near_m: float | None = None
    far_m: float | None = None
    sensor_mm: float = 36.0
    focal_mm: float = 50.0
    sensor_fit: str = "HORIZONTAL"
    temporal: bool = False
    cuts: bool = True
    short_side_px: int = preprocess.DEFAULT_SHORT_SIDE_PX
    threads: int = 0
    download: bool = False

    def check(self) -> None:
        if not (0 < self.sensor_mm < math.inf and 0 < self.focal_mm < math.inf):
            raise RackFocusError("Sensor width and focal length must be positive millimetres")
        if self.threads < 0:
            raise RackFocusError(f"Threads must be 0 (all cores) or more (got {self.threads})")
        if (self.near_m is None) != (self.far_m is None):
            raise RackFocusError("Give both --near and --far (or neither)")
        if self.near_m is not None and not (0 < self.near_m < self.far_m < math.inf):
            raise RackFocusError(f"Need 0 < --near < --far (got near {self.near_m:g} m, far "
                                 f"{self.far_m:g} m)")
        if self.short_side_px < preprocess.PATCH_PX:
            raise RackFocusError(f"--short-side must be at least {preprocess.PATCH_PX} pixels")
        if not self.out_dir:
            raise RackFocusError("No output folder given (--out DIR)")


@dataclass
class EstimateResult:
    """What an estimation wrote (or kept), for the operator's report, the CLI and the plate."""

    out_dir: str
    depth_path: str
    sidecar: str
    #: The footage clip (``bl.footage.Clip``) the depth belongs to.
    footage: object
    frames: int
    written: int = 0
    kept: int = 0
    cancelled: bool = False
    model: str = ""
    model_sha256: str = ""
    segments: list[align.Alignment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.cancelled:
            return (f"Estimation stopped: {self.written + self.kept} of {self.frames} frame(s) of "
                    f"metric depth in {self.out_dir}; run again to finish")
        what = (f"{self.written} written" + (f", {self.kept} kept" if self.kept else "")
                if self.written else "all kept, nothing to do")
        # Footage frames counted from 1, as the timeline and the file names count them.
        fits = "; ".join(f"{_frames(a.start + 1, a.end)}: {a.source}" for a in self.segments)
        return (f"Metric depth for {self.frames} frame(s) ({what}) in {self.out_dir} by "
                f"{self.model}" + (f"; {fits}" if fits else ""))

    def to_dict(self) -> dict:
        return {"out": self.out_dir, "depth": self.depth_path, "sidecar": self.sidecar,
                "frames": self.frames, "written": self.written, "kept": self.kept,
                "cancelled": self.cancelled, "model": self.model, "sha256": self.model_sha256,
                "alignment": [a.to_dict() for a in self.segments],
                "warnings": list(self.warnings)}



def _frames(first: int, last: int) -> str:
    return f"frame {first}" if first == last else f"frames {first}-{last}"


def metric_depth(inverse: np.ndarray, index: int = 0) -> tuple[np.ndarray, int]:
    """Metric inverse depth -> (planar depth in metres (float32), pixels filled): samples beyond
    infinity, NaN or nearer than a millimetre are filled from their nearest valid neighbours."""
    inv = np.asarray(inverse, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(inv > 0.0, 1.0 / inv, np.nan)
    ok = np.isfinite(z) & (z >= depth_maths.MIN_DEPTH_M)
    if not ok.any():
        raise RackFocusError(f"Frame {index + 1}: no pixel has a valid depth after alignment "
                             "(check the anchors)")
    if not ok.all():
        z = depth_maths.fill_nearest(z, ok)
    return z.astype(np.float32), int(ok.size - ok.sum())
