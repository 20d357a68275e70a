"""One depth plate, as every door asks for it (pure): the panel, the ``plate`` verb and shot lists
build a :class:`PlateRequest`; ``bl.plate.import_plate`` takes it.

Where a plate's files go is named here and nowhere else: the plate caches in :data:`CACHE_DIR`
(beside the .blend, or in a shot's output folder; :func:`cache_root`) and estimated depth in
:func:`estimate_dir` inside it, one folder per footage. What lies inside those folders is named
by the module that writes it (``plate_cache``, ``bl.estimation``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from .depth import Anchor, validate_plate_settings
from .errors import RackFocusError
from .estimate import registry
from .estimate.request import EstimateRequest
from .plate_mesh import DEFAULT_TEAR

#: Folder of plate caches (``<plate>_<hash>/``), beside the .blend they belong to.
CACHE_DIR = "rackfocus_cache"
#: Suffix of an estimated-depth folder inside the cache folder: ``<footage>_estimated_depth``.
ESTIMATE_SUFFIX = "_estimated_depth"
DEFAULT_SENSOR_MM = 36.0
DEFAULT_FOCAL_MM = 50.0
#: Vertices per pixel along each axis (see plate_mesh.DENSITIES): one face per pixel.
DEFAULT_DENSITY = 1.0


def cache_root(folder: str) -> str:
    """The plate cache folder for files saved in ``folder``."""
    return os.path.join(folder, CACHE_DIR)


def estimate_dir(cache: str, footage: str) -> str:
    """Where the estimated depth of ``footage`` goes inside the cache folder ``cache``."""
    stem = os.path.splitext(os.path.basename(footage.rstrip(os.sep).rstrip("/")))[0]
    return os.path.join(cache, f"{stem or 'footage'}{ESTIMATE_SUFFIX}")


@dataclass(frozen=True)
class EstimateSettings:
    """How to estimate the depth when there is no depth file.

    ``model`` is a registry name or an .onnx path; ``model_kind`` the registry entry whose rules
    a path follows; ``temporal`` the edge-aware temporal filter; ``cuts`` splits the clip at
    scene cuts; ``download`` fetches a registry model once (with Blender's online access).
    """

    model: str = registry.DEFAULT_MODEL
    model_kind: str | None = None
    temporal: bool = False
    cuts: bool = True
    download: bool = False


@dataclass(frozen=True)
class PlateRequest:
    """Footage and its depth as a plate in front of a camera.

    - ``footage``: image, sequence, folder or movie; ``depth``: depth per frame (a file of the
      sequence), or None with ``estimate`` (then the depth is estimated, and metric).
    - ``kind``: "metric" (planar metres), "normalized" (0..1 from ``near_m`` to ``far_m``) or
      "inverse" (disparity aligned by ``anchors`` or ``near_m``/``far_m``); distances in metres.
    - ``camera``: the camera object's name (None: the scene camera, or a new one);
      ``sensor_mm``: width of the frame on the sensor, ``focal_mm``: focal length, millimetres.
    - ``density``: grid vertices per pixel along each axis; ``tear``: relative depth jump that
      splits the plate (0.03: 3 %); ``fill_px``: background fill radius in pixels (None: 2 % of
      the width); ``fps``: frames per second (None: the movie's, or 24 for a sequence).
    - ``keep_range``: keep the scene's frame range (the clip plays from its first frame and holds
      its last) instead of taking the clip's.
    - ``cache_dir``: the cache folder (None: :data:`CACHE_DIR` beside the saved .blend).
    """

    footage: str
    depth: str | None = None
    kind: str = "metric"
    near_m: float | None = None
    far_m: float | None = None
    anchors: tuple[Anchor, ...] = ()
    estimate: EstimateSettings | None = None
    camera: str | None = None
    sensor_mm: float = DEFAULT_SENSOR_MM
    focal_mm: float = DEFAULT_FOCAL_MM
    density: float = DEFAULT_DENSITY
    tear: float = DEFAULT_TEAR
    fill_px: int | None = None
    fps: float | None = None
    keep_range: bool = False
    cache_dir: str | None = None

    def problems(self, names: dict[str, str] | None = None) -> list[str]:
        """Every setting that cannot be right, one line each (``names``: the caller's labels
        for the settings, see :func:`..depth.validate_plate_settings`)."""
        return validate_plate_settings(self.sensor_mm, self.focal_mm, self.density, self.tear,
                                       self.fill_px, self.fps, self.near_m, self.far_m,
                                       names=names)

    def check(self, names: dict[str, str] | None = None) -> None:
        """Raise :class:`RackFocusError` naming every setting that cannot be right."""
        problems = self.problems(names)
        if problems:
            raise RackFocusError("; ".join(problems))

    def estimate_request(self, cache: str, footage: str | None = None) -> EstimateRequest:
        """The estimation of this plate's depth into ``cache`` (anchors and near/far scale it
        to metres); ``footage`` the absolute footage path when the caller resolved it."""
        settings = self.estimate or EstimateSettings()
        footage = footage or self.footage
        return EstimateRequest(
            footage=footage, out_dir=estimate_dir(cache, footage), model=settings.model,
            model_kind=settings.model_kind, anchors=tuple(self.anchors), near_m=self.near_m,
            far_m=self.far_m, sensor_mm=self.sensor_mm, focal_mm=self.focal_mm,
            temporal=settings.temporal, cuts=settings.cuts, download=settings.download)

    def estimated(self, depth_path: str) -> PlateRequest:
        """This request on its estimated depth, which is metric: the anchors and near/far
        already scaled it to metres, so they are not applied again."""
        return dataclasses.replace(self, depth=depth_path, kind="metric", near_m=None,
                                   far_m=None, anchors=(), estimate=None)
