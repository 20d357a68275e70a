"""Shots for the ``batch`` verb: what one shot of a shot list asks for, and where its outputs go
(pure Python, no bpy).

A :class:`Shot` is validated data: its source (a .blend scene, or footage and depth: a file or
``"estimate"``), its pull (marks, or a preset and its subjects), overrides, plate and render
settings and its output folder. It turns into the same :class:`~.request.PullRequest` the CLI
builds, and names every file it writes. Reading a shot list's TOML into shots, with every problem
reported at once, is :mod:`.shot_schema`'s job.

Units: distances in metres, sensor and focal length in millimetres, blur in pixels at render
resolution, frames as Blender numbers them, resolution in pixels, ``fps`` in frames per second.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

from .depth import parse_anchor
from .easing import Easing
from .errors import RackFocusError
from .frames import format_frame_list
from .marks import Mark, SubjectRef
from .plate_mesh import DEFAULT_TEAR
from .plate_request import EstimateSettings, PlateRequest, cache_root, estimate_dir
from .request import PullRequest
from .suggest import did_you_mean

ENGINES = ("cycles", "eevee", "workbench")
FORMATS = ("png", "exr")
#: Denoisers a shot may pin ('off', or OpenImageDenoise on the CPU: the same on every machine).
DENOISERS = ("off", "oidn")
#: The ``depth`` value that asks for estimated depth instead of a depth file.
ESTIMATE = "estimate"
#: Cycles' largest sample count.
MAX_SAMPLES = 16777216
#: Blender's smallest and largest render width or height (pixels).
RESOLUTION_RANGE = (4, 65536)
#: A shot name: it names the shot's folder, .blend and movie, and farm tasks.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: The file in a shot's output folder that records what was built (for resume).
MANIFEST = "rackfocus_shot.json"
#: Frame files: ``frame_0001.png``; Blender's ``//frame_####`` names the same files.
FRAME_PREFIX = "frame_"
PARTIAL = ".partial"


class ShotListError(RackFocusError):
    """A shot list that cannot run: ``errors`` holds every problem, one line each.

    ``valid`` is the shot list of the shots without a problem of their own (empty when the file
    could not be read), so checks that need Blender can still report their problems in the same
    run; ``general`` says whether some problem concerns the whole file (then no shot can run).
    """

    def __init__(self, errors: Sequence[str], valid: ShotList | None = None,
                 general: bool = True) -> None:
        self.errors = list(errors)
        self.valid = valid
        self.general = general
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class PlateSettings:
    """How a footage shot becomes a depth plate (see ``plate_request.PlateRequest``).

    ``near_m``/``far_m`` metres at the nearest/farthest depth value, ``anchors`` ``X,Y=M``
    (pixel, metres), ``sensor_mm``/``focal_mm`` millimetres, ``density`` vertices per pixel,
    ``tear`` a relative depth jump, ``fill_px`` pixels, ``fps`` frames per second.
    """

    depth_kind: str = "metric"
    near_m: float | None = None
    far_m: float | None = None
    anchors: tuple[str, ...] = ()
    sensor_mm: float = 36.0
    focal_mm: float = 50.0
    density: float = 1.0
    tear: float = DEFAULT_TEAR
    fill_px: int | None = None
    fps: float | None = None


@dataclass(frozen=True)
class RenderSettings:
    """How a shot renders. ``samples``/``resolution``/``frames`` None: the scene's own.

    ``resolution`` is (width, height) in pixels; ``frames`` Blender frame numbers, sorted;
    ``denoiser`` is pinned for the whole shot so every chunk of it renders alike.
    """

    engine: str = "cycles"
    samples: int | None = None
    resolution: tuple[int, int] | None = None
    frames: tuple[int, ...] | None = None
    format: str = "png"
    movie: bool = True
    contact_sheet: bool = True
    plot: bool = True
    denoiser: str = "off"

    @property
    def extension(self) -> str:
        return ".exr" if self.format == "exr" else ".png"

    @property
    def blender_format(self) -> str:
        """Blender's ``image_settings.file_format`` (and ``--render-format``) for the frames."""
        return "OPEN_EXR" if self.format == "exr" else "PNG"


@dataclass(frozen=True)
class Shot:
    """One validated shot. Paths are absolute; ``output`` is the shot's own folder.

    ``easing``/``space`` None: the preset's, else the request defaults. ``lens`` holds the lens
    settings the shot (or the defaults) set explicitly, as (key, value) pairs; they win over a
    preset's.
    """

    name: str
    output: str
    index: int = 1
    scene: str | None = None
    scene_name: str | None = None
    camera: str | None = None
    footage: str | None = None
    depth: str | None = None
    model: str | None = None
    #: A solved .blend (``PATH`` or ``PATH:CLIP``) whose bundles anchor the footage.
    solve: str | None = None
    marks: tuple[Mark, ...] = ()
    preset: str | None = None
    subjects: tuple[SubjectRef, ...] = ()
    start: int | None = None
    easing: Easing | None = None
    space: str | None = None
    mode: str = "rig"
    replace: bool = False
    lens: tuple[tuple[str, object], ...] = ()
    plate: PlateSettings = field(default_factory=PlateSettings)
    render: RenderSettings = field(default_factory=RenderSettings)

    @property
    def estimates(self) -> bool:
        """Whether the shot asks for estimated depth (``depth = "estimate"``)."""
        return self.depth == ESTIMATE

    # --- the pull ---------------------------------------------------------------------------

    def base_marks(self, start_frame: int) -> tuple[Mark, ...]:
        """The marks the pull starts from: the shot's own, or its preset subjects at
        ``start`` (``start_frame``, the scene's first frame, when the shot sets none)."""
        if self.marks:
            return self.marks
        start = self.start if self.start is not None else start_frame
        return tuple(Mark(ref, frame=start) for ref in self.subjects)

    def configure(self, request: PullRequest) -> PullRequest:
        """``request`` (a preset's, or built from the marks) with what the shot sets explicitly:
        easing, space, mode, replace and each lens setting."""
        lens = dict(self.lens)
        realism_keys = ("fstop", "fstop_ramp", "breathing", "close_focus_m", "overshoot",
                        "hysteresis_diopters", "soft_blur")
        realism = replace(request.realism, **{k: lens[k] for k in realism_keys if k in lens})
        readability = replace(request.readability, **{
            k: lens[k] for k in ("min_blur_px", "solve_fstop") if k in lens})
        out = replace(request, mode=self.mode, replace=self.replace, realism=realism,
                      readability=readability)
        if self.easing is not None:
            out = replace(out, easing=self.easing)
        if self.space is not None:
            out = replace(out, space=self.space)
        return out.with_overshoot()

    def request(self, start_frame: int = 1) -> PullRequest:
        """The pull request of a shot without a preset (a preset needs the scene: ``bl.batch``)."""
        return self.configure(PullRequest(self.base_marks(start_frame)))

    def plate_request(self) -> PlateRequest:
        """The plate of a footage shot: its depth file, or its depth estimated over the whole
        clip at once (one metric alignment for the clip; never cut into chunks); the cache in
        the shot's output folder."""
        p = self.plate
        estimate = None
        if self.estimates:
            estimate = EstimateSettings(model=self.model) if self.model else EstimateSettings()
        return PlateRequest(
            footage=self.footage, depth=None if self.estimates else self.depth,
            kind=p.depth_kind, near_m=p.near_m, far_m=p.far_m,
            anchors=tuple(parse_anchor(a) for a in p.anchors), estimate=estimate,
            camera=self.camera or None, sensor_mm=p.sensor_mm, focal_mm=p.focal_mm,
            density=p.density, tear=p.tear, fill_px=p.fill_px, fps=p.fps,
            cache_dir=self.cache_dir)

    # --- outputs ----------------------------------------------------------------------------

    @property
    def blend_path(self) -> str:
        return os.path.join(self.output, f"{self.name}.blend")

    @property
    def movie_path(self) -> str:
        return os.path.join(self.output, f"{self.name}.mp4")

    @property
    def contact_sheet_path(self) -> str:
        return os.path.join(self.output, "contact_sheet.png")

    @property
    def plot_path(self) -> str:
        return os.path.join(self.output, "focus_plot.png")

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.output, MANIFEST)

    @property
    def cache_dir(self) -> str:
        return cache_root(self.output)

    @property
    def estimate_dir(self) -> str:
        """Where estimated depth goes (``depth = "estimate"``): EXRs and their sidecar."""
        return estimate_dir(self.cache_dir, self.footage)

    def frame_path(self, frame: int) -> str:
        """The finished file of ``frame``: ``frame_0012.png`` (what ``//frame_####`` writes)."""
        return os.path.join(self.output, f"{FRAME_PREFIX}{frame:04d}{self.render.extension}")

    def partial_path(self, frame: int, tag: str = "") -> str:
        """Where ``frame`` is written before it is complete: hidden, never a frame's name;
        ``tag`` (e.g. the process id) keeps processes that render at once apart."""
        suffix = f"{PARTIAL}-{tag}" if tag else PARTIAL
        return os.path.join(self.output,
                            f".{FRAME_PREFIX}{frame:04d}{suffix}{self.render.extension}")

    def is_partial_of(self, name: str, frame: int) -> bool:
        """Whether the file ``name`` is a partial write of ``frame`` (by any process)."""
        return name.startswith(f".{FRAME_PREFIX}{frame:04d}{PARTIAL}")

    def media_paths(self) -> dict[str, str]:
        """The finished media the shot asks for: movie, contact sheet, plot (name -> path)."""
        wanted = {"movie": (self.render.movie, self.movie_path),
                  "contact_sheet": (self.render.contact_sheet, self.contact_sheet_path),
                  "plot": (self.render.plot, self.plot_path)}
        return {k: path for k, (on, path) in wanted.items() if on}

    def fingerprint(self) -> str:
        """16 hex digits of everything the shot's build depends on: its settings and the size
        and modification time (ns) of its scene, model and every frame of its footage and
        depth. A resumed run reuses the saved shot only while the fingerprint is unchanged."""
        stats = []
        for path in (self.scene, self.footage, self.depth, self.model):
            files = source_files(path) if path and path != ESTIMATE else []
            stats.append([_stat(f) for f in files])
        data = asdict(self)
        data.pop("index")
        blob = json.dumps([data, stats], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict:
        """A JSON-ready summary of the shot (``batch --check --json``)."""
        r = self.render
        return {
            "name": self.name, "output": self.output, "scene": self.scene,
            "footage": self.footage, "depth": self.depth, "camera": self.camera,
            "marks": [m.spec() for m in self.marks], "preset": self.preset,
            "subjects": [s.spec() for s in self.subjects],
            "render": {"engine": r.engine, "samples": r.samples,
                       "resolution": list(r.resolution) if r.resolution else None,
                       "frames": format_frame_list(r.frames) if r.frames else None,
                       "format": r.format, "movie": r.movie, "contact_sheet": r.contact_sheet,
                       "plot": r.plot, "denoiser": r.denoiser},
        }


@dataclass(frozen=True)
class ShotList:
    """A validated shot list: its file and its shots in file order."""

    path: str
    shots: tuple[Shot, ...]

    def subject_names(self) -> list[str]:
        """Every subject of every shot (marks, then a preset's subjects), by first
        appearance, as the focus data names them (``SubjectRef.spec``)."""
        names: dict[str, None] = {}
        for shot in self.shots:
            for ref in [m.subject for m in shot.marks] + list(shot.subjects):
                names.setdefault(ref.spec(), None)
        return list(names)

    def select(self, names: Iterable[str] | None) -> list[Shot]:
        """The shots named (all when ``names`` is empty), in file order; unknown names raise."""
        names = list(names or ())
        if not names:
            return list(self.shots)
        known = {s.name: s for s in self.shots}
        missing = [n for n in names if n not in known]
        if missing:
            raise ShotListError([
                f"{self.path}: no shot named '{n}': shots are {', '.join(known)}"
                f"{did_you_mean(n, known)}" for n in missing])
        wanted = set(names)
        return [s for s in self.shots if s.name in wanted]


_NUMBERED = re.compile(r"^(.*?)(\d+)(\.[^.]+)$")


def source_files(path: str) -> list[str]:
    """Every file a footage or depth path stands for, sorted (what ``bl.footage.find_clip``
    reads, or more): a folder's files, the files of a ``NAME_####.png`` pattern, a numbered
    file's numbered siblings, else the file itself."""
    if os.path.isdir(path):
        return sorted(os.path.join(path, f) for f in os.listdir(path))
    folder, base = os.path.split(path)
    if "#" in base:
        head, tail = base.split("#", 1)
        pattern = re.escape(head) + r"\d+" + re.escape(tail.lstrip("#")) + "$"
    else:
        match = _NUMBERED.match(base)
        if match is None:
            return [path]
        pattern = re.escape(match.group(1)) + r"\d+" + re.escape(match.group(3)) + "$"
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return [path]
    found = re.compile(pattern)
    return sorted(os.path.join(folder, f) for f in names if found.match(f)) or [path]


def _stat(path: str) -> list[int] | None:
    """[size in bytes, modification time in ns] of ``path``, None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def restrict_frames(frames: Sequence[int], wanted: Sequence[int] | None) -> list[int]:
    """The frames of ``frames`` that ``wanted`` (a ``--frames`` chunk; None: all) names."""
    if wanted is None:
        return list(frames)
    keep = set(wanted)
    return [f for f in frames if f in keep]


def key_frames(frames: Sequence[int], marks: Sequence[int], count: int = 12) -> list[int]:
    """Up to ``count`` frames of ``frames`` for a contact sheet: every mark's frame that is
    rendered, then frames spread evenly over the rest; sorted."""
    frames = sorted(set(frames))
    if len(frames) <= count:
        return frames
    rendered = set(frames)
    picked = sorted({f for f in marks if f in rendered})[:count]
    chosen = set(picked)
    n = len(frames)
    spread = [frames[round(i * (n - 1) / max(count - 1, 1))] for i in range(count)]
    for f in spread:
        if len(chosen) >= count:
            break
        chosen.add(f)
    step = 0
    while len(chosen) < count and step < n:
        chosen.add(frames[step])
        step += 1
    return sorted(chosen)

