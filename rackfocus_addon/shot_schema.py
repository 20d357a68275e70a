"""Shot-list TOML for the ``batch`` verb: the schema and its reader, validated whole before
anything runs (pure Python: ``tomllib``, no bpy).

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
file, each naming the file, the shot and the key, and what to write instead, in the one style
of :mod:`.validate` that preset files share. Checks that need Blender (the scene's cameras,
objects, bones, markers, presets, footage) are made by ``bl.batch`` before anything runs, in the
same form. The shots themselves are :mod:`.shots`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

from . import depth as depth_maths
from . import validate as v
from .easing import parse_easing
from .errors import RackFocusError
from .estimate.solve import parse_solve_spec
from .frames import frame_range_problem, parse_frame_list
from .limits import folder_problem
from .marks import parse_mark, parse_subject
from .plan import MODES, SPACES, make_plan
from .plate_request import CACHE_DIR
from .shots import (
    DENOISERS,
    ENGINES,
    ESTIMATE,
    FORMATS,
    FRAME_PREFIX,
    MANIFEST,
    MAX_SAMPLES,
    NAME_PATTERN,
    RESOLUTION_RANGE,
    PlateSettings,
    RenderSettings,
    Shot,
    ShotList,
    ShotListError,
)

_SECTIONS = ("lens", "plate", "render")

_SHOT_KEYS: dict[str, str] = {
    "name": "name", "scene": "blend", "scene_name": "text", "camera": "text",
    "footage": "path", "depth": "depth", "model": "model", "solve": "solve",
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


def _name(value) -> str:
    text = v.text(value)
    if not NAME_PATTERN.fullmatch(text):
        raise v.Invalid(f"is '{text}', which cannot name a folder")
    return text


def _blend(value) -> str:
    text = v.text(value)
    if not text.lower().endswith(".blend"):
        raise v.Invalid(f"is '{text}', not a .blend file")
    return text


def _frame(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise v.Invalid(f"must be a whole number, not {v.type_name(value)}")
    problem = frame_range_problem(value)
    if problem:
        raise v.Invalid(f"{value} {problem}", fix=False)
    return value


def _frames(value) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise v.Invalid(f"must be a quoted frame list, not {v.type_name(value)}")
    return tuple(v.parsed(parse_frame_list)(value))


def _resolution(value) -> tuple[int, int]:
    size = None
    if isinstance(value, str):
        w, sep, h = value.lower().partition("x")
        try:
            size = (int(w), int(h)) if sep else None
        except ValueError:
            size = None
    elif isinstance(value, list) and len(value) == 2 and all(
            isinstance(x, int) and not isinstance(x, bool) for x in value):
        size = (value[0], value[1])
    if size is None:
        raise v.Invalid(f"is {value!r}, not a resolution")
    lo, hi = RESOLUTION_RANGE
    if not all(lo <= x <= hi for x in size):
        raise v.Invalid(f"is {size[0]}x{size[1]}, out of range")
    return size


def _solve(value) -> tuple[str, str | None]:
    text = v.text(value)
    try:
        return parse_solve_spec(text)
    except RackFocusError:
        raise v.Invalid(f"is '{text}', not FILE.blend or FILE.blend:CLIP") from None


def _anchor(text: str) -> str:
    return depth_maths.parse_anchor(text).spec()


_FILL = v.RANGES["fill_px"]

#: Every kind of value a shot list holds: how it is read and what to write instead.
KINDS: dict[str, v.Kind] = {
    **v.LENS_KINDS,
    "name": v.Kind(_name, "a name of letters, digits, '_', '-' and '.' (it names the shot's "
                          "folder and files), e.g. \"sc01_sh010\""),
    "text": v.Kind(v.text, "a quoted string, e.g. \"Camera\""),
    "blend": v.Kind(_blend, "the path of a .blend file, relative to the shot list, e.g. "
                            "\"scenes/shot.blend\""),
    "path": v.Kind(v.text, "a quoted path, relative to the shot list, e.g. "
                           "\"footage/shot_0001.png\""),
    "folder": v.Kind(v.text, "a quoted folder path, relative to the shot list, e.g. "
                             "\"renders/sc01\""),
    "solve": v.Kind(_solve, "a .blend with a solved movie clip, and the clip's name when it "
                            "holds several, relative to the shot list, e.g. "
                            "\"track/shot.blend:Clip\""),
    "depth": v.Kind(v.text, f"a depth file or \"{ESTIMATE}\", e.g. \"depth/depth_0001.exr\""),
    "model": v.Kind(v.text, "a model of the registry (see 'estimate --models') or an .onnx "
                            "file, e.g. \"models/depth.onnx\""),
    "marks": v.Kind(v.each(parse_mark), "a list of marks SUBJECT@FRAME, e.g. "
                                        "[\"Near@1\", \"Far@48\"]"),
    "subjects": v.Kind(v.each(parse_subject), "a list of subjects, e.g. [\"Near\", \"Far\"] "
                                              "or [\"Rig:head\", \"px:640,360\"]"),
    "frame": v.Kind(_frame, "a whole frame number, e.g. 1"),
    "easing": v.Kind(v.parsed(parse_easing), "KIND[:in|out|in-out], e.g. \"sine:in-out\""),
    "depth_m": v.ranged("depth_m", "metres", "1.5"),
    "anchors": v.Kind(v.each(_anchor), "a list of \"X,Y=METRES[@FRAME]\" (pixel, distance, "
                                       "0-based frame), e.g. [\"640,360=2.4\", "
                                       "\"700,300=1.9@47\"]"),
    "sensor": v.ranged("sensor", "millimetres", "36"),
    "focal": v.ranged("focal", "millimetres", "50"),
    "density": v.ranged("density", "vertices per pixel", "1"),
    "tear": v.ranged("tear", "a relative depth jump", "0.03"),
    "fill_px": v.Kind(v.whole(_FILL), f"a whole number of pixels {v.span(_FILL)}, e.g. 8"),
    "fps": v.ranged("fps", "frames per second", "24"),
    "samples": v.Kind(v.whole((1, MAX_SAMPLES)),
                      f"a whole number of samples from 1 to {MAX_SAMPLES}, e.g. 32"),
    "resolution": v.Kind(_resolution, "\"WxH\" or [W, H] in pixels, each "
                                      f"{RESOLUTION_RANGE[0]} to {RESOLUTION_RANGE[1]}, e.g. "
                                      "\"640x360\""),
    "frames": v.Kind(_frames, "a Blender frame list, e.g. \"1-48\" or \"1,12,40-48\""),
    "space": v.choice_kind(SPACES), "mode": v.choice_kind(MODES),
    "engine": v.choice_kind(ENGINES), "format": v.choice_kind(FORMATS),
    "denoiser": v.choice_kind(DENOISERS), "depth_kind": v.choice_kind(depth_maths.KINDS),
}


# --- parsing ---------------------------------------------------------------------------------

@dataclass
class _Table:
    """The checked, converted keys of one shot or of [defaults] (sections flattened to
    'section.key'), and where their errors are reported."""

    where: str
    values: dict[str, object] = field(default_factory=dict)
    #: Keys that were given but are wrong (already reported): present for the cross-key rules.
    failed: set[str] = field(default_factory=set)

    def read(self, key: str, kind: str, value, errors: list[str]) -> None:
        ok, converted = v.check(KINDS[kind], value, self.where, key, errors)
        if ok:
            self.values[key] = converted
        else:
            self.failed.add(key)


def _check_section(table: _Table, key: str, value, errors: list[str], defaults: bool) -> None:
    where = table.where
    if not isinstance(value, dict):
        errors.append(f"{where}: key '{key}' must be a table: write "
                      f"[{'defaults' if defaults else 'shot'}.{key}] on its own line "
                      "with its keys below")
        return
    allowed = _SECTION_KEYS[key]
    for sub, sub_value in value.items():
        if sub not in allowed:
            errors.append(v.unknown_key(where, f"{key}.{sub}", allowed,
                                        f"[{key}] takes {', '.join(allowed)}"))
            continue
        table.read(f"{key}.{sub}", allowed[sub], sub_value, errors)


def _check_table(raw: dict, where: str, errors: list[str], defaults: bool) -> _Table:
    table = _Table(where)
    for key, value in raw.items():
        if key in _SECTIONS:
            _check_section(table, key, value, errors, defaults)
        elif key not in _SHOT_KEYS:
            sections = ", ".join(f"[{'defaults' if defaults else 'shot'}.{s}]"
                                 for s in _SECTIONS)
            errors.append(v.unknown_key(
                where, key, list(_SHOT_KEYS) + list(_SECTIONS),
                f"a shot takes {', '.join(_SHOT_KEYS)} and the tables {sections}"))
        elif defaults and key in _NOT_DEFAULTS:
            errors.append(f"{where}: key '{key}' cannot be a default: {_NOT_DEFAULTS[key]}")
        else:
            table.read(key, _SHOT_KEYS[key], value, errors)
    return table


def _resolve(base_dir: str, path: str) -> str:
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(path)))


class _Merged:
    """One shot's keys over the defaults, and its errors (cross-key rules read it)."""

    def __init__(self, own: _Table, defaults: _Table, errors: list[str]) -> None:
        # Plate settings from [defaults] apply to footage shots only; a shot's own must make sense.
        self.values = {**defaults.values, **own.values}
        self.mine = own.values
        self.failed = own.failed | defaults.failed
        self.where = own.where
        self.errors = errors

    def err(self, text: str) -> None:
        self.errors.append(f"{self.where}: {text}")

    def given(self, key: str) -> bool:
        """Whether ``key`` was written (a wrong value was reported already)."""
        return key in self.values or key in self.failed

    def get(self, key: str, default=None):
        return self.values.get(key, default)


def _source_rules(m: _Merged) -> None:
    """A shot needs a name and one source: a scene, or footage with depth."""
    if not m.given("name"):
        m.err("missing key 'name': add name = \"SHOT\" (letters, digits, '_', '-', '.'; it names "
              "the shot's folder and files)")
    if not m.given("scene") and not m.given("footage"):
        m.err("needs a source: add scene = \"FILE.blend\" (a CG shot) or footage = \"CLIP\" "
              "with depth = \"DEPTH\" or \"estimate\" (a depth plate)")
    if m.given("footage") and not m.given("depth"):
        m.err(f"key 'footage' needs 'depth': add depth = \"DEPTH FILE\" or depth = "
              f"\"{ESTIMATE}\"")
    if m.given("depth") and not m.given("footage"):
        m.err("key 'depth' needs 'footage': add footage = \"CLIP\" (the shot the depth belongs "
              "to)")
    if m.given("solve") and not m.given("footage"):
        m.err("key 'solve' anchors footage: add footage = \"CLIP\" with its depth, or remove "
              "solve")
    if m.get("model") is not None and m.get("depth") != ESTIMATE:
        m.err(f"key 'model' is only for estimated depth: remove it or set depth = "
              f"\"{ESTIMATE}\"")


def _pull_rules(m: _Merged) -> None:
    """Marks, or a preset with subjects: one of them, and what each needs."""
    if m.given("marks") and m.given("subjects"):
        m.err("has both 'marks' and 'subjects': use marks (timed, SUBJECT@FRAME) or a preset "
              "with subjects (timed by the preset), not both")
    elif m.given("subjects") and not m.given("preset"):
        m.err("key 'subjects' needs a 'preset' to time them: add preset = \"fg_to_bg\" (see "
              "'presets list'), or write marks = [\"SUBJECT@FRAME\", ...]")
    elif not m.given("marks") and not m.given("subjects"):
        m.err("has no focus marks: add marks = [\"Near@1\", \"Far@48\"] or a preset with "
              "subjects = [\"Near\", \"Far\"]")
    if m.given("start") and not m.given("subjects"):
        m.err("key 'start' times a preset's subjects: remove it, or use a preset with subjects")
    marks = m.get("marks")
    if marks and all(mark.marker is None for mark in marks):
        try:  # two marks on a frame, marks out of order: found here, not at build
            make_plan([(mark.subject, mark.frame) for mark in marks])
        except RackFocusError as error:
            m.err(f"key 'marks': {error}")
    if m.get("footage") is None and m.get("scene") is None and marks:
        pixels = [i + 1 for i, mark in enumerate(marks) if mark.subject.kind == "pixel"]
        if pixels:
            m.err(f"key 'marks[{pixels[0]}]': a pixel mark needs footage and depth")


def _plate_rules(m: _Merged) -> None:
    """Plate keys belong to footage shots, and each depth kind needs its anchors."""
    depth, kind = m.get("depth"), m.get("plate.depth_kind", "metric")
    if depth == ESTIMATE and kind != "metric":
        m.err("key 'plate.depth_kind': estimated depth is metric (the estimate is aligned to "
              "metres): remove plate.depth_kind")
    if not m.given("footage"):
        for key in sorted(k for k in m.mine if k.startswith("plate.")):
            m.err(f"key '{key}' is for footage shots only: remove it or add footage and depth")
    if m.get("footage") is None:
        return
    near, far = m.get("plate.near_m"), m.get("plate.far_m")
    if near is not None and far is not None and near >= far:
        m.err(f"key 'plate.near_m' must be nearer than 'plate.far_m' (got {near:g} m and "
              f"{far:g} m)")
    if kind == "normalized" and (near is None or far is None):
        m.err("normalized depth needs 'plate.near_m' and 'plate.far_m' (metres at 0 and 1)")
    if kind == "inverse" and (near is None) != (far is None):
        m.err("inverse depth needs both 'plate.near_m' and 'plate.far_m' (or anchors)")
    if (kind == "inverse" and near is None and not m.get("plate.anchors")
            and depth != ESTIMATE and m.get("solve") is None):
        m.err("inverse depth needs 'plate.anchors' ([\"X,Y=METRES\", ...]) or "
              "'plate.near_m' and 'plate.far_m'")


def _paths(m: _Merged, base_dir: str, output_root: str) -> dict[str, str | None]:
    """The shot's files, relative to the shot list's folder, checked: scene, footage, depth,
    model and output."""
    scene, footage, depth, name = m.get("scene"), m.get("footage"), m.get("depth"), m.get("name")
    scene_path = _resolve(base_dir, scene) if scene else None
    if scene_path and not os.path.isfile(scene_path):
        m.err(f"key 'scene': no such file: {scene_path} (paths are relative to the shot list's "
              "folder)")
    depth_path = None
    if depth is not None:
        depth_path = ESTIMATE if depth == ESTIMATE else _resolve(base_dir, depth)
    model = m.get("model")
    if isinstance(model, str) and (model.lower().endswith(".onnx") or "/" in model
                                   or os.sep in model):
        model = _resolve(base_dir, model)  # a model file, not a registry name
    solve = None
    if m.get("solve") is not None:
        solve_path, clip = m.get("solve")
        solve_path = _resolve(base_dir, solve_path)
        if not os.path.isfile(solve_path):
            m.err(f"key 'solve': no such file: {solve_path} (paths are relative to the shot "
                  "list's folder)")
        solve = f"{solve_path}:{clip}" if clip else solve_path
    if "output" in m.mine:
        output = _resolve(base_dir, m.mine["output"])
    else:
        output = os.path.join(output_root, name) if isinstance(name, str) else None
    if output is not None:
        problem = folder_problem(output)
        if problem:
            m.err(f"output folder {output} cannot be written: {problem}: choose another "
                  "'output' (or output_root)")
    paths = {"scene": scene_path, "footage": _resolve(base_dir, footage) if footage else None,
             "depth": depth_path, "model": model, "solve": solve, "output": output}
    if output is not None and isinstance(name, str):
        inputs = {k: None if p == ESTIMATE else p for k, p in paths.items()
                  if k not in ("output", "solve")}
        clash = _input_clash(name, output, inputs)
        if clash:
            m.err(clash)
    return paths


_FRAME_FILE = re.compile(rf"^\.?{FRAME_PREFIX}\d+", re.IGNORECASE)


def _input_clash(name: str, output: str, inputs: dict[str, str | None]) -> str | None:
    """Why the shot's outputs (in ``output``) would overwrite one of its ``inputs`` (key -> path),
    or None: its .blend and backup, frames, movie, sheet, plot, manifest, and the cache and
    estimate folders it rebuilds."""
    own = {f"{name}.blend": "saved shot", f"{name}.blend1": "backup of the saved shot",
           f"{name}.mp4": "movie", "contact_sheet.png": "contact sheet",
           "focus_plot.png": "focus plot", MANIFEST: "manifest"}
    folder = os.path.normcase(os.path.abspath(output))
    for key, path in inputs.items():
        if not path:
            continue
        full = os.path.normcase(os.path.abspath(path))
        parent, base = os.path.split(full)
        what = None
        if parent == folder:
            what = {os.path.normcase(k): v for k, v in own.items()}.get(base)
            if what is None and _FRAME_FILE.match(base):
                what = "rendered frames"
        # The cache folder holds the plate caches and the estimated depth (plate_request).
        if full.startswith(os.path.join(folder, os.path.normcase(CACHE_DIR)) + os.sep):
            what = f"{CACHE_DIR} folder (rebuilt when the shot changes)"
        if what:
            return (f"key '{key}': the shot's {what} would overwrite {path}: set 'output' to "
                    f"another folder (or move the file out of {output})")
    return None


def _section(values: dict[str, object], name: str) -> dict[str, object]:
    """The keys of section ``name`` ('render.samples' -> 'samples')."""
    return {k.split(".", 1)[1]: value for k, value in values.items()
            if k.startswith(name + ".")}


def _build_shot(index: int, own: _Table, defaults: _Table, base_dir: str, output_root: str,
                errors: list[str]) -> Shot | None:
    """Cross-key rules for one shot (its own keys over the defaults), then the :class:`Shot`."""
    m = _Merged(own, defaults, errors)
    before = len(errors)
    _source_rules(m)
    _pull_rules(m)
    _plate_rules(m)
    paths = _paths(m, base_dir, output_root)
    if m.failed or len(errors) > before or paths["output"] is None:
        return None
    values = m.values
    return Shot(
        name=values["name"], index=index, **paths,
        scene_name=values.get("scene_name"), camera=values.get("camera"),
        marks=values.get("marks") or (), preset=values.get("preset"),
        subjects=values.get("subjects") or (), start=values.get("start"),
        easing=values.get("easing"), space=values.get("space"), mode=values.get("mode", "rig"),
        replace=values.get("replace", False),
        lens=tuple(sorted(_section(values, "lens").items())),
        plate=PlateSettings(**_section(values, "plate")),
        render=RenderSettings(**_section(values, "render")),
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
            errors.append(v.unknown_key(source, key, _TOP_KEYS, "a shot list has output_root, "
                                        "[defaults] and [[shot]] tables", "top-level key"))
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

