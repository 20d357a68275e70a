"""Shot lists for the ``batch`` verb: a TOML file of shots, validated whole before anything runs
(pure Python: ``tomllib``, no bpy).

A shot list names, for every shot, where it comes from (a .blend scene, or footage and its depth:
a file, or ``"estimate"``), the pull (marks in the mark grammar of :mod:`.marks`, or a preset and
its subjects), overrides (easing, space, mode, lens realism), render settings and an output
folder::

    output_root = "renders"          # each shot renders into renders/<name> unless it sets output

    [defaults.render]                # any shot key; a shot's own keys win
    engine = "cycles"
    samples = 16
    resolution = "320x180"

    [[shot]]
    name = "near_to_far"
    scene = "demo.blend"             # paths are relative to the shot list's folder
    marks = ["Near@1", "Near@12", "Far@36", "Far@48"]
    space = "diopter"

    [[shot]]
    name = "dual"
    scene = "demo.blend"
    preset = "dual_rack"
    subjects = ["Near", "Far"]
    [shot.lens]
    fstop = 2.0
    [shot.render]
    frames = "1-48"
    format = "exr"

Loading never stops at the first problem: :func:`parse_shot_list` returns every error in the
file, each naming the file, the shot and the key, and what to write instead, the way preset
files are reported (:mod:`.presets`). Checks that need Blender (the scene's cameras, objects,
bones, markers, presets, footage) are made by ``bl.batch`` before anything runs, in the same
form.

Units: distances in metres, sensor and focal length in millimetres, blur in pixels at render
resolution, frames as Blender numbers them, resolution in pixels, ``fps`` in frames per second.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

from . import depth as depth_maths
from .easing import Easing, parse_easing
from .errors import RackFocusError
from .frames import format_frame_list, frame_range_problem, parse_frame_list
from .marks import Mark, SubjectRef, parse_mark, parse_subject
from .plan import MODES, SPACES
from .plate_mesh import DEFAULT_TEAR
from .plate_request import cache_root, estimate_dir
from .request import (
    BREATHING_RANGE,
    CLOSE_FOCUS_RANGE,
    FSTOP_RANGE,
    HYSTERESIS_RANGE,
    MIN_BLUR_RANGE,
    OVERSHOOT_RANGE,
    SOFT_BLUR_RANGE,
    PullRequest,
)
from .suggest import close_names

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
        and modification time of its scene, footage and depth files. A resumed run reuses the
        saved shot only while the fingerprint is unchanged."""
        stats = []
        for path in (self.scene, self.footage, self.depth, self.model):
            try:
                st = os.stat(path) if path and path != ESTIMATE else None
            except OSError:
                st = None
            stats.append(None if st is None else [st.st_size, st.st_mtime_ns])
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

    def select(self, names: Iterable[str] | None) -> list[Shot]:
        """The shots named (all when ``names`` is empty), in file order; unknown names raise."""
        names = list(names or ())
        if not names:
            return list(self.shots)
        known = {s.name: s for s in self.shots}
        missing = [n for n in names if n not in known]
        if missing:
            raise ShotListError([
                f"{self.path}: no shot named '{n}'{_did_you_mean(n, known)}: shots are "
                f"{', '.join(known)}" for n in missing])
        wanted = set(names)
        return [s for s in self.shots if s.name in wanted]


# --- the schema ------------------------------------------------------------------------------

_SECTIONS = ("lens", "plate", "render")

_SHOT_KEYS: dict[str, str] = {
    "name": "name", "scene": "blend", "scene_name": "text", "camera": "text",
    "footage": "path", "depth": "depth", "model": "model",
    "marks": "marks", "preset": "text", "subjects": "subjects", "start": "frame",
    "easing": "easing", "space": "space", "mode": "mode", "replace": "bool",
    "output": "folder",
}
_SECTION_KEYS: dict[str, dict[str, str]] = {
    "lens": {"fstop": "fstop", "fstop_ramp": "fstop_pair", "breathing": "breathing",
             "close_focus_m": "close_focus", "overshoot": "overshoot",
             "hysteresis_diopters": "hysteresis", "soft_blur": "soft_blur",
             "min_blur_px": "min_blur", "solve_fstop": "bool"},
    "plate": {"depth_kind": "depth_kind", "near_m": "depth_m", "far_m": "depth_m",
              "anchors": "anchors", "sensor_mm": "sensor", "focal_mm": "focal",
              "density": "density", "tear": "tear", "fill_px": "fill_px", "fps": "fps"},
    "render": {"engine": "engine", "samples": "samples", "resolution": "resolution",
               "frames": "frames", "format": "format", "movie": "bool",
               "contact_sheet": "bool", "plot": "bool", "denoiser": "denoiser"},
}
#: Keys a [defaults] table may not set: they belong to one shot.
_NOT_DEFAULTS = {"name": "every shot has its own name",
                 "output": "each shot needs its own folder: set the top-level 'output_root' "
                           "and each shot renders into OUTPUT_ROOT/NAME"}
_TOP_KEYS = ("output_root", "defaults", "shot")

_RANGES: dict[str, tuple[float, float]] = {
    "fstop": FSTOP_RANGE, "breathing": BREATHING_RANGE, "close_focus": CLOSE_FOCUS_RANGE,
    "overshoot": OVERSHOOT_RANGE, "hysteresis": HYSTERESIS_RANGE, "soft_blur": SOFT_BLUR_RANGE,
    "min_blur": MIN_BLUR_RANGE, "depth_m": depth_maths.DEPTH_RANGE_M,
    "sensor": depth_maths.SENSOR_RANGE_MM, "focal": depth_maths.FOCAL_RANGE_MM,
    "density": depth_maths.DENSITY_RANGE, "tear": depth_maths.TEAR_RANGE,
    "fps": depth_maths.FPS_RANGE,
}

_CHOICES: dict[str, tuple[str, ...]] = {
    "space": SPACES, "mode": MODES, "engine": ENGINES, "format": FORMATS,
    "denoiser": DENOISERS, "depth_kind": depth_maths.KINDS,
}


def _span(kind: str) -> str:
    lo, hi = _RANGES[kind]
    return f"from {lo:g} to {hi:g}"


_HINT = {
    "name": "a name of letters, digits, '_', '-' and '.' (it names the shot's folder and files), "
            "e.g. \"sc01_sh010\"",
    "text": "a quoted string, e.g. \"Camera\"",
    "blend": "the path of a .blend file, relative to the shot list, e.g. \"scenes/shot.blend\"",
    "path": "a quoted path, relative to the shot list, e.g. \"footage/shot_0001.png\"",
    "folder": "a quoted folder path, relative to the shot list, e.g. \"renders/sc01\"",
    "depth": f"a depth file or \"{ESTIMATE}\", e.g. \"depth/depth_0001.exr\"",
    "model": "a model of the registry (see 'estimate --models') or an .onnx file, e.g. "
             "\"models/depth.onnx\"",
    "marks": "a list of marks SUBJECT@FRAME, e.g. [\"Near@1\", \"Far@48\"]",
    "subjects": "a list of subjects, e.g. [\"Near\", \"Far\"] or [\"Rig:head\", \"px:640,360\"]",
    "frame": "a whole frame number, e.g. 1",
    "easing": "KIND[:in|out|in-out], e.g. \"sine:in-out\"",
    "bool": "true or false",
    "fstop": f"an f-number {_span('fstop')}, e.g. 2.8",
    "fstop_pair": f"two f-numbers [from, to], each {_span('fstop')}, e.g. [2.8, 1.4]",
    "breathing": f"a fraction {_span('breathing')}, e.g. 0.02 for 2 % longer at close focus",
    "close_focus": f"metres {_span('close_focus')}, e.g. 0.45",
    "overshoot": f"a fraction of the move {_span('overshoot')}, e.g. 0.06",
    "hysteresis": f"diopters {_span('hysteresis')}, e.g. 0.02",
    "soft_blur": f"a fraction of the frame width {_span('soft_blur')}, e.g. 0.04",
    "min_blur": f"pixels {_span('min_blur')}, e.g. 4",
    "depth_m": f"metres {_span('depth_m')}, e.g. 1.5",
    "anchors": "a list of \"X,Y=METRES\" (pixel, distance), e.g. [\"640,360=2.4\"]",
    "sensor": f"millimetres {_span('sensor')}, e.g. 36",
    "focal": f"millimetres {_span('focal')}, e.g. 50",
    "density": f"vertices per pixel {_span('density')}, e.g. 1",
    "tear": f"a relative depth jump {_span('tear')}, e.g. 0.03",
    "fill_px": "a whole number of pixels from 0 to 1024, e.g. 8",
    "fps": f"frames per second {_span('fps')}, e.g. 24",
    "samples": f"a whole number of samples from 1 to {MAX_SAMPLES}, e.g. 32",
    "resolution": "\"WxH\" or [W, H] in pixels, each 4 to 65536, e.g. \"640x360\"",
    "frames": "a Blender frame list, e.g. \"1-48\" or \"1,12,40-48\"",
}
for _kind, _values in _CHOICES.items():
    _HINT[_kind] = "one of " + ", ".join(f'"{v}"' for v in _values)


class _Bad(Exception):
    """What is wrong with one value; ``fix`` False when the message already says the fix."""

    def __init__(self, text: str, fix: bool = True, key: str | None = None) -> None:
        super().__init__(text)
        self.text, self.fix, self.key = text, fix, key


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _type_name(v) -> str:
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "a table"}.get(type(v), type(v).__name__)


def _text(v, what: str = "text") -> str:
    if not isinstance(v, str):
        raise _Bad(f"must be {what}, not {_type_name(v)}")
    if not v.strip():
        raise _Bad("is empty")
    return v


def _string_list(v) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _Bad("must be a list of quoted strings")
    if not v:
        raise _Bad("is an empty list")
    return v


def _convert(kind: str, key: str, v):
    """``v`` checked and converted for ``kind``; raises :class:`_Bad`."""
    if kind == "name":
        text = _text(v)
        if not NAME_PATTERN.fullmatch(text):
            raise _Bad(f"is '{text}', which cannot name a folder")
        return text
    if kind in ("text", "path", "folder", "depth", "model"):
        return _text(v)
    if kind == "blend":
        text = _text(v)
        if not text.lower().endswith(".blend"):
            raise _Bad(f"is '{text}', not a .blend file")
        return text
    if kind == "bool":
        if not isinstance(v, bool):
            raise _Bad(f"must be true or false, not {_type_name(v)}")
        return v
    if kind in _CHOICES:
        text = _text(v)
        if text not in _CHOICES[kind]:
            raise _Bad(f"is '{text}'{_did_you_mean(text, _CHOICES[kind])}")
        return text
    if kind == "marks":
        out, bad = [], []
        for i, text in enumerate(_string_list(v)):
            try:
                out.append(parse_mark(text))
            except RackFocusError as err:
                bad.append(_Bad(str(err), fix=False, key=f"{key}[{i + 1}]"))
        if bad:
            raise _Many(bad)
        return tuple(out)
    if kind == "subjects":
        out, bad = [], []
        for i, text in enumerate(_string_list(v)):
            try:
                out.append(parse_subject(text))
            except RackFocusError as err:
                bad.append(_Bad(str(err), fix=False, key=f"{key}[{i + 1}]"))
        if bad:
            raise _Many(bad)
        return tuple(out)
    if kind == "anchors":
        out, bad = [], []
        for i, text in enumerate(_string_list(v)):
            try:
                out.append(depth_maths.parse_anchor(text).spec())
            except RackFocusError as err:
                bad.append(_Bad(str(err), fix=False, key=f"{key}[{i + 1}]"))
        if bad:
            raise _Many(bad)
        return tuple(out)
    if kind == "frame":
        if not isinstance(v, int) or isinstance(v, bool):
            raise _Bad(f"must be a whole number, not {_type_name(v)}")
        problem = frame_range_problem(v)
        if problem:
            raise _Bad(f"{v} {problem}", fix=False)
        return v
    if kind == "easing":
        try:
            return parse_easing(_text(v))
        except RackFocusError as err:
            raise _Bad(str(err), fix=False) from None
    if kind == "fstop_pair":
        lo, hi = FSTOP_RANGE
        if not (isinstance(v, list) and len(v) == 2 and all(map(_is_number, v))):
            raise _Bad("must be a list of two numbers")
        if not all(lo <= x <= hi for x in v):
            raise _Bad(f"is {v}, out of range")
        return (float(v[0]), float(v[1]))
    if kind == "samples":
        if not isinstance(v, int) or isinstance(v, bool):
            raise _Bad(f"must be a whole number, not {_type_name(v)}")
        if not 1 <= v <= MAX_SAMPLES:
            raise _Bad(f"is {v}, out of range")
        return v
    if kind == "fill_px":
        if not isinstance(v, int) or isinstance(v, bool):
            raise _Bad(f"must be a whole number, not {_type_name(v)}")
        lo, hi = depth_maths.FILL_PX_RANGE
        if not lo <= v <= hi:
            raise _Bad(f"is {v}, out of range")
        return v
    if kind == "resolution":
        return _resolution(v)
    if kind == "frames":
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            raise _Bad(f"must be a quoted frame list, not {_type_name(v)}")
        try:
            return tuple(parse_frame_list(v))
        except RackFocusError as err:
            raise _Bad(str(err), fix=False) from None
    # numbers with a range
    if not _is_number(v):
        raise _Bad(f"must be a number, not {_type_name(v)}")
    lo, hi = _RANGES[kind]
    if not lo <= v <= hi:
        raise _Bad(f"is {v:g}, out of range")
    return float(v)


class _Many(Exception):
    """Several problems with one value (one per list item)."""

    def __init__(self, problems: list[_Bad]) -> None:
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


def _resolution(v) -> tuple[int, int]:
    if isinstance(v, str):
        w, sep, h = v.lower().partition("x")
        try:
            size = (int(w), int(h)) if sep else None
        except ValueError:
            size = None
    elif isinstance(v, list) and len(v) == 2 and all(
            isinstance(x, int) and not isinstance(x, bool) for x in v):
        size = (v[0], v[1])
    else:
        size = None
    if size is None:
        raise _Bad(f"is {v!r}, not a resolution")
    lo, hi = RESOLUTION_RANGE
    if not all(lo <= x <= hi for x in size):
        raise _Bad(f"is {size[0]}x{size[1]}, out of range")
    return size


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest of ``options``, or ''."""
    close = close_names(word, options, most=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- parsing ---------------------------------------------------------------------------------

@dataclass
class _Table:
    """The checked, converted keys of one shot or of [defaults] (sections flattened to
    'section.key'), and where their errors are reported."""

    where: str
    values: dict[str, object] = field(default_factory=dict)
    #: Keys that were given but are wrong (already reported): present for the cross-key rules.
    failed: set[str] = field(default_factory=set)


def _check_table(raw: dict, where: str, errors: list[str], defaults: bool) -> _Table:
    table = _Table(where)

    def report(key: str, bad: _Bad, kind: str) -> None:
        table.failed.add(key)
        key = bad.key or key
        if bad.fix:
            errors.append(f"{where}: key '{key}' {bad.text}: use {_HINT[kind]}")
        else:
            errors.append(f"{where}: key '{key}': {bad.text}")

    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                errors.append(f"{where}: key '{key}' must be a table: write "
                              f"[{'defaults' if defaults else 'shot'}.{key}] on its own line "
                              "with its keys below")
                continue
            allowed = _SECTION_KEYS[key]
            for sub, sub_value in value.items():
                if sub not in allowed:
                    errors.append(f"{where}: unknown key '{key}.{sub}'"
                                  f"{_did_you_mean(sub, allowed)}: [{key}] takes "
                                  f"{', '.join(allowed)}")
                    continue
                kind = allowed[sub]
                try:
                    table.values[f"{key}.{sub}"] = _convert(kind, f"{key}.{sub}", sub_value)
                except _Bad as bad:
                    report(f"{key}.{sub}", bad, kind)
                except _Many as many:
                    for bad in many.problems:
                        report(f"{key}.{sub}", bad, kind)
            continue
        if key not in _SHOT_KEYS:
            every = list(_SHOT_KEYS) + list(_SECTIONS)
            sections = ", ".join(f"[{'defaults' if defaults else 'shot'}.{s}]"
                                 for s in _SECTIONS)
            errors.append(f"{where}: unknown key '{key}'{_did_you_mean(key, every)}: a shot "
                          f"takes {', '.join(_SHOT_KEYS)} and the tables {sections}")
            continue
        if defaults and key in _NOT_DEFAULTS:
            errors.append(f"{where}: key '{key}' cannot be a default: {_NOT_DEFAULTS[key]}")
            continue
        kind = _SHOT_KEYS[key]
        try:
            table.values[key] = _convert(kind, key, value)
        except _Bad as bad:
            report(key, bad, kind)
        except _Many as many:
            for bad in many.problems:
                report(key, bad, kind)
    return table


def _resolve(base_dir: str, path: str) -> str:
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(path)))


def output_problem(folder: str) -> str | None:
    """None if files can be written in ``folder`` (or in the folders made on the way), else why
    not ("/a/b is a file, not a folder"). Nothing is created."""
    probe = folder
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        return f"{probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"folder {probe} is read-only"
    return None


def _build_shot(index: int, own: _Table, defaults: _Table, base_dir: str, output_root: str,
                errors: list[str]) -> Shot | None:
    """Cross-key rules for one shot (its own keys over the defaults), then the :class:`Shot`."""
    where = own.where
    values = dict(defaults.values)
    # Plate settings from [defaults] apply to footage shots only; a shot's own must make sense.
    values.update(own.values)
    mine = own.values
    failed = own.failed | defaults.failed
    before = len(errors)

    def err(text: str) -> None:
        errors.append(f"{where}: {text}")

    def given(key: str) -> bool:
        """Whether ``key`` was written (a wrong value was reported already)."""
        return key in values or key in failed

    name = values.get("name")
    if not given("name"):
        err("missing key 'name': add name = \"SHOT\" (letters, digits, '_', '-', '.'; it names "
            "the shot's folder and files)")
    scene, footage, depth = values.get("scene"), values.get("footage"), values.get("depth")
    if not given("scene") and not given("footage"):
        err("needs a source: add scene = \"FILE.blend\" (a CG shot) or footage = \"CLIP\" with "
            "depth = \"DEPTH\" or \"estimate\" (a depth plate)")
    if given("footage") and not given("depth"):
        err(f"key 'footage' needs 'depth': add depth = \"DEPTH FILE\" or depth = \"{ESTIMATE}\"")
    if given("depth") and not given("footage"):
        err("key 'depth' needs 'footage': add footage = \"CLIP\" (the shot the depth belongs to)")
    if values.get("model") is not None and depth != ESTIMATE:
        err(f"key 'model' is only for estimated depth: remove it or set depth = \"{ESTIMATE}\"")
    if depth == ESTIMATE and values.get("plate.depth_kind", "metric") != "metric":
        err("key 'plate.depth_kind': estimated depth is metric (the estimate is aligned to "
            "metres): remove plate.depth_kind")
    if not given("footage"):
        for key in sorted(k for k in mine if k.startswith("plate.")):
            err(f"key '{key}' is for footage shots only: remove it or add footage and depth")
    marks, subjects, preset = values.get("marks"), values.get("subjects"), values.get("preset")
    if given("marks") and given("subjects"):
        err("has both 'marks' and 'subjects': use marks (timed, SUBJECT@FRAME) or a preset "
            "with subjects (timed by the preset), not both")
    elif given("subjects") and not given("preset"):
        err("key 'subjects' needs a 'preset' to time them: add preset = \"fg_to_bg\" (see "
            "'presets list'), or write marks = [\"SUBJECT@FRAME\", ...]")
    elif not given("marks") and not given("subjects"):
        err("has no focus marks: add marks = [\"Near@1\", \"Far@48\"] or a preset with "
            "subjects = [\"Near\", \"Far\"]")
    if given("start") and not given("subjects"):
        err("key 'start' times a preset's subjects: remove it, or use a preset with subjects")
    if footage is None and marks:
        pixels = [i + 1 for i, m in enumerate(marks) if m.subject.kind == "pixel"]
        if pixels and scene is None:
            err(f"key 'marks[{pixels[0]}]': a pixel mark needs footage and depth")
    kind = values.get("plate.depth_kind", "metric")
    near, far = values.get("plate.near_m"), values.get("plate.far_m")
    if footage is not None:
        if near is not None and far is not None and near >= far:
            err(f"key 'plate.near_m' must be nearer than 'plate.far_m' (got {near:g} m and "
                f"{far:g} m)")
        if kind == "normalized" and (near is None or far is None):
            err("normalized depth needs 'plate.near_m' and 'plate.far_m' (metres at 0 and 1)")
        if kind == "inverse" and (near is None) != (far is None):
            err("inverse depth needs both 'plate.near_m' and 'plate.far_m' (or anchors)")
        if (kind == "inverse" and near is None and not values.get("plate.anchors")
                and depth != ESTIMATE):
            err("inverse depth needs 'plate.anchors' ([\"X,Y=METRES\", ...]) or "
                "'plate.near_m' and 'plate.far_m'")

    # Files: relative to the shot list's folder.
    scene_path = _resolve(base_dir, scene) if scene else None
    if scene_path and not os.path.isfile(scene_path):
        err(f"key 'scene': no such file: {scene_path} (paths are relative to the shot list's "
            "folder)")
    footage_path = _resolve(base_dir, footage) if footage else None
    depth_path = None
    if depth is not None:
        depth_path = ESTIMATE if depth == ESTIMATE else _resolve(base_dir, depth)
    model = values.get("model")
    if isinstance(model, str) and (model.lower().endswith(".onnx") or "/" in model
                                   or os.sep in model):
        model = _resolve(base_dir, model)  # a model file, not a registry name
    if "output" in mine:
        output = _resolve(base_dir, mine["output"])
    else:
        output = os.path.join(output_root, name) if isinstance(name, str) else None
    if output is not None:
        problem = output_problem(output)
        if problem:
            err(f"output folder {output} cannot be written: {problem}: choose another 'output' "
                "(or output_root)")
    if failed or len(errors) > before or output is None:
        return None

    render = RenderSettings(**{k.split(".", 1)[1]: v for k, v in values.items()
                               if k.startswith("render.")})
    plate = PlateSettings(**{k.split(".", 1)[1]: v for k, v in values.items()
                             if k.startswith("plate.")})
    lens = tuple(sorted((k.split(".", 1)[1], v) for k, v in values.items()
                        if k.startswith("lens.")))
    return Shot(
        name=name, output=output, index=index, scene=scene_path,
        scene_name=values.get("scene_name"), camera=values.get("camera"),
        footage=footage_path, depth=depth_path, model=model,
        marks=marks or (), preset=preset, subjects=subjects or (), start=values.get("start"),
        easing=values.get("easing"), space=values.get("space"), mode=values.get("mode", "rig"),
        replace=values.get("replace", False), lens=lens, plate=plate, render=render,
    )


def parse_shot_list(text: str, source: str = "<shots>", base_dir: str | None = None
                    ) -> tuple[ShotList | None, list[str]]:
    """Read shot-list TOML ``text``: (shot list, []) or (None, every error). Never raises.

    ``base_dir`` is the folder relative paths start from (default: ``source``'s folder). Each
    error reads ``SOURCE: shot 'NAME': key 'KEY' PROBLEM: use FIX``.
    """
    valid, errors, _general = read_shot_list(text, source, base_dir)
    return (None, errors) if errors else (valid, [])


def read_shot_list(text: str, source: str = "<shots>", base_dir: str | None = None
                   ) -> tuple[ShotList, list[str], bool]:
    """Like :func:`parse_shot_list`, but always returns the shots without a problem of their
    own, every error, and whether an error concerns the whole file (top-level keys,
    [defaults]): (shot list, errors, general)."""
    if base_dir is None:
        base_dir = os.path.dirname(os.path.abspath(source)) if not source.startswith("<") \
            else os.getcwd()
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, TypeError, ValueError) as err:
        return ShotList(_list_path(source), ()), [
            f"{source}: not valid TOML ({err}): fix the syntax at that line"], True
    errors: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            errors.append(f"{source}: unknown top-level key '{key}'"
                          f"{_did_you_mean(key, _TOP_KEYS)}: a shot list has output_root, "
                          "[defaults] and [[shot]] tables")
    root = data.get("output_root", "renders")
    if not isinstance(root, str) or not root.strip():
        errors.append(f"{source}: key 'output_root' must be a quoted folder path, e.g. "
                      "\"renders\"")
        root = "renders"
    output_root = _resolve(base_dir, root)
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        errors.append(f"{source}: 'defaults' must be a table: write [defaults] on its own line")
        raw_defaults = {}
    defaults = _check_table(raw_defaults, f"{source}: [defaults]", errors, defaults=True)
    raw_shots = data.get("shot")
    if raw_shots is None:
        errors.append(f"{source}: no shots: add a [[shot]] table for each shot, with its "
                      "name, its scene (or footage and depth) and its marks")
        raw_shots = []
    elif not isinstance(raw_shots, list) or not all(isinstance(s, dict) for s in raw_shots):
        errors.append(f"{source}: 'shot' must be a list of tables: write [[shot]] (double "
                      "brackets) above each shot")
        raw_shots = []
    shots: list[Shot] = []
    names: dict[str, int] = {}
    outputs: dict[str, str] = {}
    general = bool(errors)
    for i, raw in enumerate(raw_shots, start=1):
        before = len(errors)
        raw_name = raw.get("name")
        label = (f"shot '{raw_name}'" if isinstance(raw_name, str) and raw_name.strip()
                 else f"shot #{i}")
        where = f"{source}: {label}"
        own = _check_table(raw, where, errors, defaults=False)
        if isinstance(raw_name, str) and raw_name in names:
            errors.append(f"{where}: key 'name' repeats shot #{names[raw_name]}'s name: give "
                          "every shot its own name")
        elif isinstance(raw_name, str):
            names[raw_name] = i
        shot = _build_shot(i, own, defaults, base_dir, output_root, errors)
        if shot is None or len(errors) > before:
            continue
        folder = os.path.normcase(os.path.abspath(shot.output))
        if folder in outputs:
            errors.append(f"{where}: writes to the same folder as shot '{outputs[folder]}' "
                          f"({shot.output}): give each shot its own 'output'")
            continue
        outputs[folder] = shot.name
        shots.append(shot)
    return ShotList(_list_path(source), tuple(shots)), errors, general


def _list_path(source: str) -> str:
    """The shot list's path as the user wrote it (errors name it so)."""
    return source


def load_shot_list(path: str) -> ShotList:
    """Read and validate a shot-list file; raises :class:`ShotListError` with every problem."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ShotListError([f"{path}: no such shot list: check the path (relative paths start "
                             f"in {os.getcwd()})"]) from None
    except IsADirectoryError:
        raise ShotListError([f"{path}: is a folder, not a shot list: name the .toml "
                             "file"]) from None
    except UnicodeDecodeError as err:
        raise ShotListError([f"{path}: cannot read the shot list: it is not UTF-8 text "
                             f"({err.reason} at byte {err.start})"]) from None
    except OSError as err:
        raise ShotListError([f"{path}: cannot read the shot list ({err.strerror or err})"]
                            ) from None
    shot_list, errors, general = read_shot_list(text, path)
    if errors:
        raise ShotListError(errors, shot_list, general)
    return shot_list


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

