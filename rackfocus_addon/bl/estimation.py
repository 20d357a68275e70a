"""Depth estimation for footage: ONNX Runtime runs a depth network, Rack Focus makes it metric.

A shot (still, sequence or movie) becomes one float EXR of metric planar depth per frame,
``depth_0001.exr`` ... (R = G = B = metres along the view axis, what ``plate --depth-kind
metric`` reads), in an output folder, with a JSON sidecar ``estimate.json`` (model, sha256,
versions, alignment, settings; paths relative to the folder). Renders and farm nodes read the
EXRs and never estimate.

ONNX Runtime is the one optional third-party dependency: this is the only module that imports
it, guarded. Without it everything else works, and :func:`require_runtime` says why estimation
is unavailable and how to get it.

The work, in passes (each resumable; a stop keeps every finished file):

0. footage thumbnails for scene-cut detection (cached in ``raw/cuts.json``);
1. the network on every frame (or on windows of frames, for video models): its raw output at
   network resolution is cached in ``raw/`` (``raw_0001.npy``), so a stopped run resumes
   where it stopped and new anchors re-align without re-estimating;
2. stabilisation (each frame into its shot segment's units) and one metric alignment per
   segment against the anchors (constant, or varying linearly when anchors on several frames
   ask for it): contradictory anchors stop here, before any EXR is written (anchors that
   contradict each other within one frame stop before anything at all is written);
3. upsampling guided by the footage, the optional temporal filter, and the EXRs.

Every file is written under a temporary name and renamed, so a file with its final name is
complete. A re-run with the same settings finds the sidecar's fingerprint and every file and does
nothing. Progress is ``(label, done, total)`` after each finished frame; a callback returning
True stops there (Ctrl+C drops the frame in progress); a full disk stops with an error naming
what was kept. :class:`Estimation` runs step by step for a modal operator.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import bpy
import numpy as np

from .. import __version__
from .. import depth as depth_maths
from ..depth import Anchor
from ..errors import RackFocusError
from ..estimate import align, motion, owned, preprocess, registry, temporal, upsample, video
from ..image_files import image_problem
from ..limits import (
    check_free_space,
    disk_full_error,
    has_room,
    is_disk_full,
    usable_threads,
)
from . import footage as footage_io
from .files import user_dir

try:  # The one optional third-party import: ONNX Runtime, bundled as wheels in the extension.
    import onnxruntime
except ImportError as _import_error:
    onnxruntime = None
    _IMPORT_PROBLEM = str(_import_error)
else:
    _IMPORT_PROBLEM = ""

Progress = Callable[[str, int, int], "bool | None"]

#: Bumped when the output for the same settings would change (forces a re-estimate).
ALGORITHM_VERSION = 1
SIDECAR = "estimate.json"
RAW_DIR = "raw"
RAW_MANIFEST = "raw.json"
CUTS_FILE = "cuts.json"
FOOTAGE_TABLE = "footage.json"
MOVIE_DIR = "footage"
DEPTH_NAME = "depth_{:04d}.exr"
_DEPTH_FILE = re.compile(r"^depth_\d{4,}\.exr$")
_RAW_FILE = re.compile(r"^(raw|pending)_\d{4,}\.npy$")
_MOVIE_FRAME = re.compile(r"^frame_\d+\.png$")
#: Folder for models when ``bpy.utils.extension_path_user`` has no extension to name (the bpy
#: module, ``python -m rackfocus_addon``): this variable, else Blender's user config folder.
MODELS_ENV = "RACKFOCUS_MODELS"
#: Frames sampled per segment to place --near/--far on its nearest and farthest pixels.
NEAR_FAR_FRAMES = 32
DOWNLOAD_CHUNK = 1 << 20
HASH_CHUNK = 1 << 22


# --- the runtime ------------------------------------------------------------------------------

def runtime_problem() -> str | None:
    """Why estimation is unavailable (one line), or None when ONNX Runtime imports."""
    if onnxruntime is not None:
        return None
    return ("Depth estimation needs ONNX Runtime, which this Python cannot import "
            f"({_IMPORT_PROBLEM or 'not installed'}): install the Rack Focus zip built for your "
            "platform (it bundles the onnxruntime wheels; Intel macOS has none), or run "
            "'pip install onnxruntime' for the Python that runs rackfocus")


def require_runtime() -> None:
    problem = runtime_problem()
    if problem:
        raise RackFocusError(problem)


def runtime_version() -> str:
    return getattr(onnxruntime, "__version__", "") if onnxruntime is not None else ""


# --- model files ------------------------------------------------------------------------------

def models_dir(create: bool = False) -> str:
    """Where downloaded models live: the extension's user folder ``models``."""
    return user_dir("models", MODELS_ENV, create)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(HASH_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ModelChoice:
    """A model file to load, the rules it follows, and its published checksum (registry
    files) or None (a file the user brought)."""

    path: str
    entry: registry.ModelEntry | None
    sha256: str | None = None
    variant: str | None = None


def registry_path(entry: registry.ModelEntry, variant: str | None = None) -> str:
    f = entry.file(variant)
    return os.path.join(models_dir(), f"{entry.key}-{f.variant}.onnx")


def _looks_like_path(spec: str) -> bool:
    return (spec.lower().endswith(".onnx") or os.sep in spec or "/" in spec
            or os.path.exists(spec))


def resolve_model(spec: str | None, kind: str | None = None, download: bool = False,
                  progress: Progress | None = None) -> ModelChoice:
    """``spec``: a registry name (``da2-small``, ``da2-small:int8``) or a path to an .onnx file.

    ``kind`` names the registry entry whose rules a path follows (default: from the file's
    signature). A registry model missing from :func:`models_dir` is downloaded only when
    ``download`` is set (and Blender allows online access); otherwise the error says how.
    """
    spec = (spec or registry.DEFAULT_MODEL).strip()
    rules = registry.find_entry(kind) if kind else None
    if _looks_like_path(spec):
        full = os.path.abspath(bpy.path.abspath(spec))
        if not (os.path.isfile(full) or video.split_paths(full)):
            raise RackFocusError(f"No such model file: {spec}")
        return ModelChoice(full, rules)
    name, variant = registry.split_spec(spec)
    entry = registry.find_entry(name)
    f = entry.file(variant)
    path = registry_path(entry, f.variant)
    if not os.path.isfile(path):
        if not download:
            raise RackFocusError(
                f"Model {entry.key} ({f.variant}, {f.size_mb:g} MB) is not downloaded yet: run "
                f"again with --download (needs Blender's online access), or download {f.url} "
                "and pass --model PATH")
        download_model(entry, f.variant, progress)
    return ModelChoice(path, entry, f.sha256, f.variant)


def verify_file(path: str, expected_sha256: str, delete: bool = True) -> str:
    """Check ``path`` against its published sha256; a mismatch deletes it (when ``delete``)
    and raises. Returns the checksum."""
    actual = file_sha256(path)
    if actual != expected_sha256:
        if delete:
            os.remove(path)
        gone = "; it was deleted: download it again" if delete else ""
        raise RackFocusError(
            f"Checksum mismatch for {os.path.basename(path)}: sha256 {actual[:16]}..., expected "
            f"{expected_sha256[:16]}... (a damaged or different file){gone}")
    return actual


def download_model(entry: registry.ModelEntry, variant: str | None = None,
                   progress: Progress | None = None) -> str:
    """Download a registry model once into :func:`models_dir`, verified by sha256.

    Only when ``bpy.app.online_access`` allows it. The file is written as ``.part`` and moved
    into place after its checksum matched; a mismatch deletes it and says so.
    """
    f = entry.file(variant)
    if not getattr(bpy.app, "online_access", False):
        raise RackFocusError(
            f"Downloading {entry.title} needs online access, which Blender has off: allow it in "
            f"Preferences > System > Network, or download {f.url} yourself and pass --model PATH")
    folder = models_dir(create=True)
    final = os.path.join(folder, f"{entry.key}-{f.variant}.onnx")
    part = final + ".part"
    h = hashlib.sha256()
    total = int(f.size_mb * 1e6)
    done = 0
    try:
        with urllib.request.urlopen(f.url, timeout=60) as resp, open(part, "wb") as out:
            for chunk in iter(lambda: resp.read(DOWNLOAD_CHUNK), b""):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(f"downloading {entry.key} (MB)", done // 1_000_000,
                             max(total, done) // 1_000_000)
    except OSError as err:
        if os.path.exists(part):
            os.remove(part)
        raise RackFocusError(f"Download of {f.url} failed: {err}") from None
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise
    if h.hexdigest() != f.sha256:
        os.remove(part)
        raise RackFocusError(
            f"Downloaded {entry.key} ({f.variant}) does not match its published checksum "
            f"(sha256 {h.hexdigest()[:16]}..., expected {f.sha256[:16]}...): the file was "
            "deleted; try again later or download it yourself")
    os.replace(part, final)
    return final


# --- a loaded network -------------------------------------------------------------------------

_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def _dim(value) -> int | None:
    return int(value) if isinstance(value, int | np.integer) and value > 0 else None


@dataclass(frozen=True)
class Signature:
    """What a network takes and gives, read from the session (never from the file name).

    ``frames`` is the window length of a video model (None: dynamic); ``height``/``width`` are
    fixed input sizes (None: dynamic).
    """

    input_name: str
    output_name: str
    layout: str
    input_dtype: type
    frames: int | None = None
    height: int | None = None
    width: int | None = None


def read_signature(session, name: str = "the model") -> Signature:
    """The session's signature, or a :class:`RackFocusError` saying what is wrong with it."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    want = ("Depth Anything signature: one float input [1, 3, H, W] (or a video window "
            "[1, T, 3, H, W]) and a float depth output [1, H, W] (or [1, T, H, W])")
    if len(inputs) != 1 or not outputs:
        names = ", ".join(i.name for i in inputs) or "none"
        raise RackFocusError(f"{name} does not have the {want}: it takes {len(inputs)} "
                             f"input(s) ({names})")
    inp, out = inputs[0], outputs[0]
    shape = list(inp.shape)
    if inp.type not in _TYPES or out.type not in _TYPES:
        raise RackFocusError(f"{name} does not have the {want}: input '{inp.name}' is "
                             f"{inp.type}, output '{out.name}' is {out.type}")
    channels_at = {4: 1, 5: 2}.get(len(shape))
    ok = channels_at is not None and _dim(shape[0]) in (None, 1)
    if ok:
        ok = _dim(shape[channels_at]) in (None, 3)
    out_rank = len(out.shape)
    layout = "frame" if len(shape) == 4 else "video"
    if ok:
        ok = out_rank in ((3, 4) if layout == "frame" else (4, 5))
    if not ok:
        raise RackFocusError(f"{name} does not have the {want}: input '{inp.name}' is "
                             f"{shape}, output '{out.name}' is {list(out.shape)}")
    frames = _dim(shape[1]) if layout == "video" else None
    return Signature(inp.name, out.name, layout, _TYPES[inp.type], frames,
                     _dim(shape[-2]), _dim(shape[-1]))


class LoadedModel:
    """A depth network ready to run: its session, signature, rules (registry entry) and
    checksum. ``session`` is an ONNX Runtime ``InferenceSession`` (or anything with the same
    ``get_inputs``/``get_outputs``/``run``)."""

    def __init__(self, session, entry: registry.ModelEntry | None, path: str = "",
                 sha256: str = "") -> None:
        self.session = session
        self.path = path
        self.sha256 = sha256
        label = f"Model file {os.path.basename(path)}" if path else "The model"
        self.signature = read_signature(session, label)
        if entry is None:
            entry = registry.find_entry("vda-small" if self.signature.layout == "video"
                                        else registry.DEFAULT_MODEL)
        if entry.layout != self.signature.layout:
            takes = "a window of frames" if self.signature.layout == "video" else "one frame"
            raise RackFocusError(f"{label} takes {takes} but the {entry.key} rules are for "
                                 f"{entry.layout} models: pick a matching --model-kind")
        self.entry = entry

    @property
    def window_frames(self) -> int:
        return self.signature.frames or self.entry.window_frames or 1

    def input_size(self, width_px: int, height_px: int, short_side_px: int | None = None
                   ) -> tuple[int, int]:
        """(width, height) of the network input for footage of this size."""
        sig = self.signature
        if sig.height and sig.width:
            preprocess.check_aspect(width_px, height_px, sig.width, sig.height)
            return sig.width, sig.height
        short = short_side_px or self.entry.short_side_px
        w, h = preprocess.model_size(width_px, height_px, short, self.entry.multiple_px)
        return sig.width or w, sig.height or h

    def predict(self, tensor: np.ndarray) -> np.ndarray:
        """Run the network: ``tensor`` (1, 3, H, W) or (1, T, 3, H, W) -> (frames, h, w)."""
        sig = self.signature
        try:
            out = self.session.run([sig.output_name],
                                   {sig.input_name: tensor.astype(sig.input_dtype)})[0]
        except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors have no common base
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RackFocusError(f"The model failed on a {tensor.shape[-1]}x{tensor.shape[-2]} "
                                 f"input: {first[:300]}") from None
        out = np.asarray(out, dtype=np.float32)
        frames = tensor.shape[1] if sig.layout == "video" else 1
        if out.ndim < 2 or out.size % frames:
            raise RackFocusError(f"The model returned an output of shape {list(out.shape)}")
        # NaN marks masked pixels; a frame with nothing else is no estimate at all.
        for frame in out.reshape(frames, -1):
            if not np.isfinite(frame).any():
                bad = "NaN" if np.isnan(frame).any() else "infinite values"
                raise RackFocusError(
                    f"The model returned {bad} for every pixel of a {tensor.shape[-1]}x"
                    f"{tensor.shape[-2]} input: it is not a depth model Rack Focus can use (or "
                    "not in this precision): try another --model")
        return out.reshape(frames, out.shape[-2], out.shape[-1])


def model_sha256(path: str) -> str:
    """A model file's sha256, or one for both files of a split video export (a folder)."""
    pair = video.split_paths(path)
    return video.combined_sha256([file_sha256(p) for p in pair]) if pair else file_sha256(path)


def _session(path: str, threads: int = 0):
    """An ONNX Runtime session on the CPU, or a clear error when the file is no model."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if threads:  # never more than the cores: 100000 threads crashed ONNX Runtime
        options.intra_op_num_threads = usable_threads(int(threads))[0]
    try:
        return onnxruntime.InferenceSession(path, sess_options=options,
                                            providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - InvalidProtobuf, Fail, ...: not a loadable model
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RackFocusError(f"{os.path.basename(path)} is not an ONNX model ONNX Runtime can "
                             f"load ({first[:200]})") from None


def load_model(choice: ModelChoice, threads: int = 0) -> LoadedModel | video.SplitVideoModel:
    """Verify (registry files), open and check a model file (or a split video export's
    folder: :mod:`..estimate.video`)."""
    require_runtime()
    path = choice.path
    pair = video.split_paths(path)
    if pair:
        return video.SplitVideoModel(*(_session(p, threads) for p in pair), choice.entry,
                                     path, model_sha256(path))
    if choice.sha256:
        sha = verify_file(path, choice.sha256, delete=True)
    else:
        sha = file_sha256(path)
    return LoadedModel(_session(path, threads), choice.entry, path, sha)


# --- request and result -----------------------------------------------------------------------

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
    footage: footage_io.Clip
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
        fits = "; ".join(f"frames {a.start}-{a.end - 1}: {a.source}" for a in self.segments)
        return (f"Metric depth for {self.frames} frame(s) ({what}) in {self.out_dir} by "
                f"{self.model}" + (f"; {fits}" if fits else ""))

    def to_dict(self) -> dict:
        return {"out": self.out_dir, "depth": self.depth_path, "sidecar": self.sidecar,
                "frames": self.frames, "written": self.written, "kept": self.kept,
                "cancelled": self.cancelled, "model": self.model, "sha256": self.model_sha256,
                "alignment": [a.to_dict() for a in self.segments],
                "warnings": list(self.warnings)}


# --- files --------------------------------------------------------------------------------------

def _atomic_json(path: str, data: dict) -> None:
    part = path + ".part"
    try:
        with open(part, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(part, path)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_depth_exr(path: str, depth_m: np.ndarray) -> None:
    """Write metric depth (H, W) as a float EXR (R = G = B = metres, A = 1), atomically: a
    partial file never carries the final name. Raises OSError when the file is not written."""
    h, w = depth_m.shape
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :3] = np.asarray(depth_m, dtype=np.float32)[..., None]
    part = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".part")
    try:
        try:
            footage_io.write_exr(part, rgba)
        except RuntimeError as err:
            raise OSError(errno.EIO, str(err).strip(), path) from None
        problem = image_problem(part) if os.path.isfile(part) else "no file"
        if problem is not None:  # a full disk may cut the file short without an error
            raise OSError(errno.EIO, f"Blender wrote {problem}", path)
        os.replace(part, path)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


def _save_npy(path: str, values: np.ndarray) -> None:
    part = path + ".part"
    try:
        with open(part, "wb") as f:
            np.save(f, np.asarray(values, dtype=np.float32))
        os.replace(part, path)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


def _footage_signature(files: list[str], table_path: str) -> tuple[str, dict]:
    """A signature of every frame's content, and the table that makes it cheap next time.

    The table (``raw/footage.json``) holds each file's size, modification time (ns) and
    sha256; a file whose size and time are the recorded ones keeps its recorded hash, any
    other is hashed again (a copied or touched frame with the same content changes nothing;
    an edited frame anywhere in the clip does). Returns (signature, new table)."""
    known = (_read_json(table_path) or {}).get("files", {})
    table, hashes = {}, []
    for path in files:
        st = os.stat(path)
        seen = known.get(path)
        if isinstance(seen, list) and len(seen) == 3 and seen[:2] == [st.st_size,
                                                                      st.st_mtime_ns]:
            sha = seen[2]
        else:
            sha = file_sha256(path)
        table[path] = [st.st_size, st.st_mtime_ns, sha]
        hashes.append(sha)
    return _fingerprint(hashes), {"files": table}


def _complete(path: str) -> bool:
    """Whether ``path`` is a finished file (there and not cut short: kept by a resume)."""
    return os.path.isfile(path) and image_problem(path) is None


def _listed(folder: str, pattern: re.Pattern) -> list[str]:
    """Names in ``folder`` that match ``pattern`` ([] when there is no such folder)."""
    try:
        return [f for f in os.listdir(folder) if pattern.match(f)]
    except OSError:
        return []


def _fingerprint(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _relpath(path: str, start: str) -> str:
    try:
        return os.path.relpath(path, start).replace(os.sep, "/")
    except ValueError:  # another drive (Windows)
        return path


# --- the estimation -----------------------------------------------------------------------------

class Estimation:
    """One estimation, step by step: iterate :meth:`steps` (each step a ``(label, done,
    total)`` after a finished frame) until it ends; ``result`` then says what was done.

    A modal operator calls ``next()`` once per timer tick (the UI stays live) and stops by
    calling :meth:`stop`; :func:`estimate_depth` runs it to the end with a progress callback.
    ``model`` is a :class:`LoadedModel` to use instead of loading ``request.model``.
    """

    def __init__(self, request: EstimateRequest, model: LoadedModel | None = None) -> None:
        self.request = request
        self.model = model
        self.result: EstimateResult | None = None
        self._written = 0
        self._kept = 0
        self._filled = 0
        self._undo: Callable[[], None] | None = None
        self._clip: footage_io.Clip | None = None
        self._out = os.path.abspath(bpy.path.abspath(request.out_dir)) if request.out_dir else ""

    # The driver's view.
    def stop(self, steps: Iterator | None = None) -> EstimateResult:
        """Stop after the current frame (finished frames kept); returns the result so far."""
        if steps is not None:
            steps.close()
        clip = self._clip
        frames = clip.frames if clip else 0
        self.result = EstimateResult(self._out, self._depth_file(1), self._sidecar_path(), clip,
                                     frames, self._written, self._kept, cancelled=True,
                                     model=self.model.entry.title if self.model else "")
        return self.result

    def _depth_file(self, number: int) -> str:
        return os.path.join(self._out, DEPTH_NAME.format(number))

    def _sidecar_path(self) -> str:
        return os.path.join(self._out, SIDECAR)

    def _raw_file(self, index: int, prefix: str = "raw") -> str:
        return os.path.join(self._out, RAW_DIR, f"{prefix}_{index + 1:04d}.npy")

    def steps(self) -> Iterator[tuple[str, int, int]]:
        """The run, step by step. A refusal after the first write and before the first EXR
        (anchors that disagree, a model whose output cannot be aligned) removes every file
        and folder this run made; files that were there before are left as they were."""
        try:
            yield from self._steps()
        except RackFocusError:
            if self._undo is not None:
                self._undo()
            raise

    def _undo_run(self, clip: footage_io.Clip, before: set[str], made: str | None) -> None:
        """Remove what this run wrote (``before``: the names that existed; ``made``: the
        topmost folder it created, removed when empty)."""
        out = self._out
        for name in set(self._names(clip) + [owned.RECORD]) - before:
            path = os.path.join(out, *name.split("/"))
            for stale in (path, path + ".part"):
                if os.path.isfile(stale):
                    os.remove(stale)
        folders = [os.path.join(out, MOVIE_DIR), os.path.join(out, RAW_DIR)]
        if made:
            folder = out
            while len(folder) >= len(made):
                folders.append(folder)
                folder = os.path.dirname(folder)
        for folder in folders:
            try:
                os.rmdir(folder)
            except OSError:  # not empty, or not there
                pass

    def _need_anchors(self, entry: registry.ModelEntry, segs) -> None:
        """A relative model needs an anchor in every shot segment (or --near/--far): checked
        before the network runs, naming the frames."""
        req = self.request
        if not entry.relative or req.near_m is not None:
            return
        for start, end in segs:
            if not any(start <= a.frame < end for a in req.anchors):
                align.align_segment(start, end, [], relative=True)  # raises

    def _steps(self) -> Iterator[tuple[str, int, int]]:
        req = self.request
        req.check()
        out = self._out
        clip = footage_io.find_clip(req.footage)
        depth_maths.check_footage_size(clip.width, clip.height)
        self._clip = clip
        n = clip.frames
        align.check_anchors(req.anchors, clip.width, clip.height, n)
        before, made = self._guard_folder(clip)
        model = self.model
        choice, sha, model_name = self._model_identity()
        source_sig, footage_table = _footage_signature(
            clip.files, os.path.join(out, RAW_DIR, FOOTAGE_TABLE))
        settings = self._settings(sha)
        fingerprint = _fingerprint({"settings": settings, "footage": source_sig})
        old = _read_json(self._sidecar_path())
        same = old is not None and old.get("fingerprint") == fingerprint
        if same and old.get("complete") and all(
                _complete(self._depth_file(i + 1)) for i in range(n)):
            self.result = self._all_kept(old, clip, sha, model_name)
            return
        if model is None:
            model = load_model(choice, req.threads)
            self.model = model
        model_w, model_h = model.input_size(clip.width, clip.height, req.short_side_px)
        preprocess.check_input_memory(model_w, model_h, model.window_frames,
                                      fixed=bool(model.signature.width))
        entry = model.entry
        focal_model_px = registry.focal_px(req.focal_mm, req.sensor_mm, clip.width, clip.height,
                                           req.sensor_fit) * model_w / clip.width
        raw_key = {"model": sha, "rules": entry.key, "size": [model_w, model_h],
                   "footage": source_sig, "version": ALGORITHM_VERSION}
        self._need_anchors(entry, [(0, n)])
        early = self._early_anchor_check(model, clip, model_w, model_h, focal_model_px,
                                         _fingerprint(dict(raw_key, segments=None)))

        self._check_space(clip, model_w, model_h)
        # Writing starts here (the folder, the movie's frames, the cache); a refusal from here
        # to the first EXR removes what the run made (steps()).
        source_clip = clip
        self._undo = lambda: self._undo_run(source_clip, before, made)
        self._start_writing(clip, footage_table)
        if clip.kind == "movie":
            clip = self._unpacked(clip, source_sig)
            self._clip = clip
        cut_list = yield from self._cuts(clip, source_sig)
        segs = align.segments(n, cut_list) if req.cuts else [(0, n)]
        self._need_anchors(entry, segs)
        raw_fp = _fingerprint(dict(raw_key, segments=segs if entry.layout == "video" else None))
        manifest = self._raw_manifest(raw_fp)
        if entry.layout == "video":
            yield from self._predict_windows(model, clip, segs, model_w, model_h, manifest)
        else:
            yield from self._predict_frames(model, clip, model_w, model_h, early)

        # Stabilise and align (no EXR written before every segment's anchors agree).
        units = self._units_function(entry, focal_model_px)
        transforms = self._stabilise(entry, segs, n, units, clip)
        alignments = [self._align_segment(a, b, entry, transforms, units, clip) for a, b in segs]
        warnings = [line for a in alignments for line in align.chain_warnings(a)]
        if not entry.relative and not req.anchors and req.near_m is None:
            warnings.append(f"{entry.title} gives metres: used as is (no anchors)")
        sidecar = self._sidecar(settings, fingerprint, model, sha, clip, alignments, warnings,
                                complete=False)
        if not same:  # every depth file here is the tool's own (_guard_folder)
            for f in _listed(out, _DEPTH_FILE):
                os.remove(os.path.join(out, f))
        self._write_guard(lambda: _atomic_json(self._sidecar_path(), sidecar))

        self._undo = None  # EXRs from here on: a stop keeps every finished one
        yield from self._write(clip, segs, alignments, transforms, units)
        self._finish(sidecar, warnings, clip)
        self.result = EstimateResult(out, self._depth_file(1), self._sidecar_path(), clip, n,
                                     self._written, self._kept, model=entry.title,
                                     model_sha256=sha, segments=alignments, warnings=warnings)

    def _model_identity(self) -> tuple[ModelChoice | None, str, str]:
        """(the file to load (None: a model was given), its sha256, its name), loading nothing
        (a re-run with nothing to do never opens the network)."""
        if self.model is not None:
            return None, self.model.sha256, self.model.entry.title
        req = self.request
        choice = resolve_model(req.model, req.model_kind, req.download)
        sha = choice.sha256 or model_sha256(choice.path)
        name = choice.entry.title if choice.entry else os.path.basename(choice.path)
        return choice, sha, name

    def _guard_folder(self, clip: footage_io.Clip) -> tuple[set[str], str | None]:
        """Before anything else: files of the names this run replaces or removes that it did
        not write (another tool's depth, the footage itself) stop it, untouched. Returns what
        a refused run must leave: the names there now, and the topmost folder of --out the run
        would create (None: --out exists)."""
        out = self._out
        names = self._existing_names(clip)
        owned.refuse_foreign(out, names)
        before = {b for b in names + [owned.RECORD]
                  if os.path.lexists(os.path.join(out, *b.split("/")))}
        made = out
        while not os.path.exists(os.path.dirname(made)) and os.path.dirname(made) != made:
            made = os.path.dirname(made)
        return before, None if os.path.exists(made) else made

    def _start_writing(self, clip: footage_io.Clip, footage_table: dict) -> None:
        """The folder, the claim on every name the run may write, the footage's signatures."""
        out = self._out
        self._write_guard(lambda: os.makedirs(os.path.join(out, RAW_DIR), exist_ok=True))
        self._write_guard(lambda: owned.claim(out, self._names(clip)))
        self._write_guard(lambda: _atomic_json(os.path.join(out, RAW_DIR, FOOTAGE_TABLE),
                                               footage_table))

    def _finish(self, sidecar: dict, warnings: list[str], clip: footage_io.Clip) -> None:
        """The sidecar marked complete, with the fill warning; each EXR's size recorded."""
        if self._filled:
            warnings.append(
                f"{self._filled} pixel(s) in {self._written} written frame(s) had no valid depth "
                "(masked, or beyond infinity after alignment: sky?) and were filled from their "
                "neighbours")
            sidecar["warnings"] = warnings
        sidecar["complete"] = True
        self._write_guard(lambda: _atomic_json(self._sidecar_path(), sidecar))
        self._write_guard(lambda: owned.settle(self._out, [DEPTH_NAME.format(i + 1)
                                                           for i in range(clip.frames)]))

    def _all_kept(self, old: dict, clip: footage_io.Clip, sha: str,
                  model_name: str) -> EstimateResult:
        """The result of a re-run that finds every frame done with the same settings."""
        n = self._kept = clip.frames
        return EstimateResult(
            self._out, self._depth_file(1), self._sidecar_path(), clip, n, 0, n,
            model=(old.get("model") or {}).get("title", model_name), model_sha256=sha,
            segments=[align.Alignment.from_dict(a) for a in old.get("alignment", [])],
            warnings=list(old.get("warnings", [])))

    # What the run may replace or remove (relative names, '/'-separated).
    def _existing_names(self, clip: footage_io.Clip) -> list[str]:
        """Every existing file this run may replace or remove."""
        names = [SIDECAR] + _listed(self._out, _DEPTH_FILE)
        names += [f"{RAW_DIR}/{f}" for f in [RAW_MANIFEST, CUTS_FILE, FOOTAGE_TABLE]
                  + _listed(os.path.join(self._out, RAW_DIR), _RAW_FILE)]
        if clip.kind == "movie":
            names += [f"{MOVIE_DIR}/{f}" for f in ["source.json"] + _listed(
                os.path.join(self._out, MOVIE_DIR), _MOVIE_FRAME)]
        return names

    def _names(self, clip: footage_io.Clip) -> list[str]:
        """Every file this run may write."""
        n = clip.frames
        names = [SIDECAR] + [f"{RAW_DIR}/{f}" for f in (RAW_MANIFEST, CUTS_FILE, FOOTAGE_TABLE)]
        names += [DEPTH_NAME.format(i + 1) for i in range(n)]
        names += [f"{RAW_DIR}/{kind}_{i + 1:04d}.npy" for kind in ("raw", "pending")
                  for i in range(n)]
        if clip.kind == "movie":
            names += [f"{MOVIE_DIR}/source.json"] + [f"{MOVIE_DIR}/frame_{i + 1:04d}.png"
                                                     for i in range(n)]
        return names

    # Settings and the sidecar.
    def _settings(self, sha: str) -> dict:
        r = self.request
        return {"model_sha256": sha, "model_kind": r.model_kind, "anchors":
                [a.spec() + ("" if a.frame else "@0") for a in r.anchors],
                "near_m": r.near_m, "far_m": r.far_m, "sensor_mm": r.sensor_mm,
                "focal_mm": r.focal_mm, "sensor_fit": r.sensor_fit, "temporal": r.temporal,
                "cuts": r.cuts, "short_side_px": r.short_side_px, "version": ALGORITHM_VERSION,
                "chain": "motion"}

    def _sidecar(self, settings, fingerprint, model, sha, clip, alignments, warnings,
                 complete: bool) -> dict:
        out = self._out
        entry = model.entry
        return {
            "tool": "Rack Focus", "addon_version": __version__, "kind": "metric",
            "depth": DEPTH_NAME.replace("{:04d}", "####"),
            "files": [DEPTH_NAME.format(i + 1) for i in range(clip.frames)],
            "frames": clip.frames, "width": clip.width, "height": clip.height,
            "footage": _relpath(os.path.abspath(bpy.path.abspath(self.request.footage)), out),
            "model": {"key": entry.key, "title": entry.title, "output": entry.output,
                      "file": os.path.basename(model.path) if model.path else "",
                      "sha256": sha, "licence_code": entry.licence_code,
                      "licence_weights": entry.licence_weights,
                      "input": [model.signature.input_name, model.signature.layout]},
            "onnxruntime": runtime_version(),
            "settings": settings, "fingerprint": fingerprint,
            "alignment": [a.to_dict() for a in alignments], "warnings": warnings,
            "complete": complete,
        }

    def _raw_manifest(self, raw_fp: str) -> dict:
        path = os.path.join(self._out, RAW_DIR, RAW_MANIFEST)
        manifest = _read_json(path)
        if manifest is None or manifest.get("fingerprint") != raw_fp:
            folder = os.path.join(self._out, RAW_DIR)
            for f in _listed(folder, _RAW_FILE):  # the tool's own (refuse_foreign)
                os.remove(os.path.join(folder, f))
            manifest = {"fingerprint": raw_fp, "windows": {}}
            _atomic_json(path, manifest)
        return manifest

    def _save_manifest(self, manifest: dict) -> None:
        _atomic_json(os.path.join(self._out, RAW_DIR, RAW_MANIFEST), manifest)

    # Footage.
    def _srgb(self, clip: footage_io.Clip, index: int) -> np.ndarray:
        px, _bits = footage_io.read_pixels(clip.files[index])
        if px.shape[:2] != (clip.height, clip.width):
            raise RackFocusError(
                f"Footage frame {os.path.basename(clip.files[index])} is {px.shape[1]}x"
                f"{px.shape[0]}, the clip is {clip.width}x{clip.height}: every frame must "
                "have the same size")
        return preprocess.linear_to_srgb(px[..., :3])

    def _unpacked(self, clip: footage_io.Clip, source_sig: str) -> footage_io.Clip:
        """A movie's frames as a PNG sequence in ``footage/`` (decoded once per movie)."""
        folder = os.path.join(self._out, MOVIE_DIR)
        stamp = os.path.join(folder, "source.json")
        known = _read_json(stamp)
        if known and known.get("footage") == source_sig:
            try:
                seq = footage_io.find_clip(os.path.join(folder, "frame_0001.png"))
            except RackFocusError:
                seq = None
            if seq is not None and seq.frames == clip.frames:
                seq.fps = clip.fps
                return seq
        seq = footage_io.unpack_movie(clip, folder)
        self._write_guard(lambda: _atomic_json(stamp, {"footage": source_sig}))
        return seq

    def _cuts(self, clip, source_sig: str):
        """Pass 0: frame differences (cached per footage) and the cuts they show."""
        n = clip.frames
        if not self.request.cuts or n < 2:
            return []
        path = os.path.join(self._out, RAW_DIR, CUTS_FILE)
        cached = _read_json(path)
        if cached and cached.get("footage") == source_sig and len(cached.get("diffs", [])) == n:
            diffs = cached["diffs"]
        else:
            diffs, prev = [0.0], None
            for i in range(n):
                thumb = align.thumbnail(self._srgb(clip, i))
                if prev is not None:
                    diffs.append(align.frame_difference(prev, thumb))
                prev = thumb
                yield ("reading footage for scene cuts", i + 1, n)
            self._write_guard(lambda: _atomic_json(path, {"footage": source_sig,
                                                          "diffs": diffs}))
        return align.detect_cuts(diffs)

    # Pass 1.
    def _early_anchor_check(self, model, clip, model_w, model_h, focal_model_px,
                            raw_fp: str) -> dict:
        """Run the network on anchor frames first (per-frame models; cached output is reused)
        so anchors that contradict each other inside one frame, or sit on masked pixels, stop
        before anything is written. Returns {frame: raw prediction} of new predictions."""
        req = self.request
        if model.entry.layout != "frame" or not req.anchors or clip.kind == "movie":
            return {}
        units = self._units_function(model.entry, focal_model_px)
        manifest = _read_json(os.path.join(self._out, RAW_DIR, RAW_MANIFEST)) or {}
        cached = manifest.get("fingerprint") == raw_fp
        early = {}
        for f in sorted({a.frame for a in req.anchors}):
            if cached and os.path.isfile(self._raw_file(f)):
                raw = self._load_raw(f)
            else:
                tensor = preprocess.to_tensor(self._srgb(clip, f), model_w, model_h,
                                              model.entry.mean, model.entry.std)
                raw = early[f] = model.predict(tensor)[0]
            samples = self._anchor_samples([a for a in req.anchors if a.frame == f], raw,
                                           units, None, clip)
            if len(samples) > 1:
                align.fit_alignment(samples)
        return early

    def _predict_frames(self, model, clip, model_w, model_h, early):
        """Per-frame models: the network on every frame without a cached output (a cached file
        is complete: files are written under a temporary name and renamed)."""
        n = clip.frames
        entry = model.entry
        for i in range(n):
            if os.path.isfile(self._raw_file(i)):
                yield ("estimating depth", i + 1, n)
                continue
            raw = early.pop(i, None)
            if raw is None:
                tensor = preprocess.to_tensor(self._srgb(clip, i), model_w, model_h,
                                              entry.mean, entry.std)
                raw = model.predict(tensor)[0]
            self._write_guard(lambda raw=raw, i=i: _save_npy(self._raw_file(i), raw))
            yield ("estimating depth", i + 1, n)

    def _predict_windows(self, model, clip, segs, model_w, model_h, manifest):
        """Video models: windows per shot segment (:mod:`..estimate.video`), stitched into
        segment units; each frame is saved as soon as it is final, held frames as pending."""
        entry = model.entry
        n = clip.frames
        finished = sum(os.path.isfile(self._raw_file(i)) for i in range(n))
        for seg_start, seg_end in segs:
            def tensor(j, s=seg_start):
                return preprocess.to_tensor(self._srgb(clip, s + j), model_w, model_h,
                                            entry.mean, entry.std)

            runner = video.runner_for(model, seg_end - seg_start, tensor)
            key = str(seg_start)
            runner.restore(int(manifest["windows"].get(key, 0)),
                           lambda j, s=seg_start: np.load(self._raw_file(s + j, "pending")),
                           lambda j, s=seg_start: self._load_raw(s + j))
            for final in runner.windows():
                for j, values in final:
                    path = self._raw_file(seg_start + j)
                    self._write_guard(lambda p=path, v=values: _save_npy(p, v))
                for j, values in runner.stitcher.pending.items():
                    path = self._raw_file(seg_start + j, "pending")
                    self._write_guard(lambda p=path, v=values: _save_npy(p, v))
                manifest["windows"][key] = runner.stitcher.next_window
                self._write_guard(lambda: self._save_manifest(manifest))
                for j, _values in final:  # now final: their pending copies are stale
                    stale = self._raw_file(seg_start + j, "pending")
                    if os.path.exists(stale):
                        os.remove(stale)
                finished += len(final)
                yield ("estimating depth (video windows)", min(finished, n), n)

    # Pass 2.
    def _units_function(self, entry: registry.ModelEntry, focal_model_px: float):
        """Raw network output -> the values the alignment works on: relative inverse depth
        (disparity models) or metric inverse depth (metric models; NaN where <= 0)."""
        if entry.output == "disparity":
            return lambda raw: np.asarray(raw, dtype=np.float64)
        factor = (registry.canonical_to_metres(1.0, focal_model_px)
                  if entry.output == "metric_focal300" else 1.0)

        def inverse(raw):
            z = np.asarray(raw, dtype=np.float64) * factor
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(z > 0.0, 1.0 / z, np.nan)

        return inverse

    def _load_raw(self, index: int) -> np.ndarray:
        path = self._raw_file(index)
        try:
            return np.load(path)
        except (OSError, ValueError) as err:
            raise RackFocusError(f"Cannot read the cached estimate {path}: {err}; delete the "
                                 "folder's raw/ and run again") from None

    def _stabilise(self, entry, segs, n, units, clip) -> list[align.Transform]:
        """Per-frame map into segment units: robust fits chained on the pixels the footage's
        motion matches, for relative per-frame models (the links kept in ``self._links``);
        identity otherwise (video windows are stitched already; metric output is absolute)."""
        transforms = [align.Transform()] * n
        self._links: list[motion.Link | None] = [None] * n
        if not (entry.relative and entry.layout == "frame"):
            return transforms
        for start, end in segs:
            low_h, low_w = self._load_raw(start).shape
            block, to_frame = motion.guide_block(clip.width, clip.height, low_w, low_h)
            guides = (motion.luma_guide(self._srgb(clip, i), block) for i in range(start, end))
            links = motion.chain((units(self._load_raw(i)) for i in range(start, end)), guides,
                                 to_frame)
            self._links[start:end] = links
            transforms[start:end] = [link.transform for link in links]
        return transforms

    def _anchor_samples(self, anchors, raw, units, transform, clip) -> list[align.AnchorSample]:
        low_h, low_w = raw.shape
        values = units(raw)
        if transform is not None:
            values = transform.apply(values)
        samples = []
        for a in anchors:
            col, row = align.low_res_pixel(a.x, a.y, clip.width, clip.height, low_w, low_h)
            v = float(values[row, col])
            if not math.isfinite(v):
                raise RackFocusError(f"Anchor {a.spec()} lies on a masked pixel (no valid depth "
                                     "there): pick another pixel")
            samples.append(align.AnchorSample(a.spec(), v, a.metres, a.frame))
        return samples

    def _align_segment(self, start, end, entry, transforms, units, clip):
        req = self.request
        samples: list[align.AnchorSample] = []
        for f in sorted({a.frame for a in req.anchors if start <= a.frame < end}):
            samples += self._anchor_samples([a for a in req.anchors if a.frame == f],
                                            self._load_raw(f), units, transforms[f], clip)
        if req.near_m is not None:
            picks = np.unique(np.linspace(start, end - 1, min(NEAR_FAR_FRAMES, end - start)
                                          ).round().astype(int))
            values = []
            for i in picks:
                v = transforms[i].apply(units(self._load_raw(int(i))))
                values.append(align.at_footage_pixels(v, clip.width, clip.height))
            samples += align.near_far_samples(np.concatenate(values), req.near_m, req.far_m)
        sigmas = [link.sigma if link else 0.0 for link in self._links[start:end]]
        return align.align_segment(start, end, samples, relative=entry.relative,
                                   link_sigmas=sigmas)

    # Pass 3.
    def _write(self, clip, segs, alignments, transforms, units):
        n = clip.frames
        filt = temporal.TemporalFilter() if self.request.temporal else None
        for (start, end), alignment in zip(segs, alignments):
            if filt is not None:
                filt.reset()
            for i in range(start, end):
                target = self._depth_file(i + 1)
                if filt is None and _complete(target):
                    self._kept += 1
                    yield ("writing metric depth", i + 1, n)
                    continue
                guide = self._srgb(clip, i)
                inv_low = alignment.inverse_depth(transforms[i].apply(units(self._load_raw(i))),
                                                  i)
                inv = upsample.upsample_inverse_depth(inv_low.astype(np.float32), guide)
                if filt is not None:
                    inv = filt.apply(inv, guide)
                if _complete(target):  # kept; the filter state is up to date
                    self._kept += 1
                    yield ("writing metric depth", i + 1, n)
                    continue
                z, filled = metric_depth(inv, i)
                self._filled += filled
                self._write_guard(lambda t=target, z=z: write_depth_exr(t, z))
                self._written += 1
                yield ("writing metric depth", i + 1, n)

    def _check_space(self, clip: footage_io.Clip, model_w: int, model_h: int) -> None:
        """Refuse before writing when what is left to write will not fit on the disk: metric
        EXRs (float RGBA, 16 bytes a pixel), network outputs (float32) and a movie's frames."""
        n = clip.frames
        exrs = sum(not os.path.isfile(self._depth_file(i + 1)) for i in range(n))
        raws = sum(not os.path.isfile(self._raw_file(i)) for i in range(n))
        frames = n if clip.kind == "movie" else 0
        check_free_space(clip.width * clip.height * (16 * exrs + 3 * frames)
                         + 4 * model_w * model_h * raws, self._out)

    def _write_guard(self, write) -> None:
        """Run a write; an OSError (full disk, permissions) becomes one clear error that says
        what was kept."""
        try:
            write()
        except OSError as err:
            self._undo = None  # the message says what is kept, for the next run
            kept = (f"stopped; {self._written + self._kept} finished depth frame(s) and the "
                    "cached estimates are kept, run again to resume")
            clip = self._clip  # float RGBA EXRs for the frames left
            left = 16 * (clip.frames - self._written - self._kept) * clip.width * clip.height
            if is_disk_full(err, self._out) or not has_room(left, self._out):
                raise RackFocusError(f"{disk_full_error(left, self._out)}: {kept}") from None
            raise RackFocusError(f"Could not write to {self._out} "
                                 f"({err.strerror or err}): {kept}") from None


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


def estimate_depth(request: EstimateRequest, progress: Progress | None = None,
                   model: LoadedModel | None = None) -> EstimateResult:
    """Run an estimation to its end. ``progress(label, done, total)`` returning True stops it
    after the current frame (the result then has ``cancelled``); finished frames are kept."""
    job = Estimation(request, model)
    steps = job.steps()
    for label, done, total in steps:
        if progress is not None and progress(label, done, total):
            return job.stop(steps)
    assert job.result is not None
    return job.result


def model_rows() -> list[dict]:
    """The registry as data for the UI and ``estimate --models``."""
    rows = []
    for e in registry.MODELS:
        rows.append({"key": e.key, "title": e.title, "output": e.output, "layout": e.layout,
                     "licence_code": e.licence_code, "licence_weights": e.licence_weights,
                     "files": [{"variant": f.variant, "size_mb": f.size_mb, "sha256": f.sha256,
                                "url": f.url,
                                "downloaded": os.path.isfile(registry_path(e, f.variant))}
                               for f in e.files],
                     "notes": e.notes})
    return rows


def excluded_rows() -> list[dict]:
    return [{"name": x.name, "licence": x.licence, "reason": x.reason}
            for x in registry.EXCLUDED]
