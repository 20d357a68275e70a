"""Depth estimation for footage: ONNX Runtime runs a depth network, Rack Focus makes it metric.

A shot (still, sequence or movie) becomes one float EXR of metric planar depth per frame,
``depth_0001.exr`` ... (R = G = B = metres along the view axis, what ``plate --depth-kind
metric`` reads), in an output folder, with a JSON sidecar ``estimate.json`` (model, sha256,
versions, alignment, settings; paths relative to the folder). Renders and farm nodes read the
EXRs and never estimate.

This is the bpy side: footage read and EXRs written through Blender, model files found in the
extension's user folder and downloaded when Blender allows it. The network itself
(:mod:`..estimate.model`, where ONNX Runtime is imported), the request and result
(:mod:`..estimate.request`) and the maths are on the pure floor.

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

import bpy
import numpy as np

from .. import __version__
from .. import depth as depth_maths
from ..atomic import read_json, write_atomic, write_json
from ..errors import RackFocusError
from ..estimate import align, motion, owned, preprocess, registry, temporal, upsample, video
from ..estimate.model import (
    LoadedModel,
    ModelChoice,
    file_sha256,
    load_model,
    model_sha256,
    runtime_version,
)
from ..estimate.request import EstimateRequest, EstimateResult, metric_depth
from ..image_files import image_problem
from ..limits import check_free_space, disk_full_error, has_room, is_disk_full
from ..progress import Progress
from . import footage as footage_io
from .files import user_dir

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


# --- model files ------------------------------------------------------------------------------

def models_dir(create: bool = False) -> str:
    """Where downloaded models live: the extension's user folder ``models``."""
    return user_dir("models", MODELS_ENV, create)


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
    final = os.path.join(models_dir(create=True), f"{entry.key}-{f.variant}.onnx")
    total = int(f.size_mb * 1e6)

    def fetch(temp: str) -> None:
        h, done = hashlib.sha256(), 0
        try:
            with urllib.request.urlopen(f.url, timeout=60) as resp, open(temp, "wb") as out:
                for chunk in iter(lambda: resp.read(DOWNLOAD_CHUNK), b""):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(f"downloading {entry.key} (MB)", done // 1_000_000,
                                 max(total, done) // 1_000_000)
        except OSError as err:
            raise RackFocusError(f"Download of {f.url} failed: {err}") from None
        if h.hexdigest() != f.sha256:
            raise RackFocusError(
                f"Downloaded {entry.key} ({f.variant}) does not match its published checksum "
                f"(sha256 {h.hexdigest()[:16]}..., expected {f.sha256[:16]}...): the file was "
                "deleted; try again later or download it yourself")

    return write_atomic(final, fetch)


# --- files --------------------------------------------------------------------------------------

def write_depth_exr(path: str, depth_m: np.ndarray) -> None:
    """Write metric depth (H, W) as a float EXR (R = G = B = metres, A = 1), atomically: a
    partial file never carries the final name. Raises OSError when the file is not written."""
    h, w = depth_m.shape
    rgba = np.ones((h, w, 4), dtype=np.float32)
    rgba[..., :3] = np.asarray(depth_m, dtype=np.float32)[..., None]

    def write(temp: str) -> None:
        try:
            footage_io.write_exr(temp, rgba)
        except RuntimeError as err:
            raise OSError(errno.EIO, str(err).strip(), path) from None
        problem = image_problem(temp) if os.path.isfile(temp) else "no file"
        if problem is not None:  # a full disk may cut the file short without an error
            raise OSError(errno.EIO, f"Blender wrote {problem}", path)

    write_atomic(path, write)


def _save_npy(path: str, values: np.ndarray) -> None:
    def write(temp: str) -> None:
        with open(temp, "wb") as f:
            np.save(f, np.asarray(values, dtype=np.float32))

    write_atomic(path, write)


def _footage_signature(files: list[str], table_path: str) -> tuple[str, dict]:
    """A signature of every frame's content, and the table that makes it cheap next time.

    The table (``raw/footage.json``) holds each file's size, modification time (ns) and
    sha256; a file whose size and time are the recorded ones keeps its recorded hash, any
    other is hashed again (a copied or touched frame with the same content changes nothing;
    an edited frame anywhere in the clip does). Returns (signature, new table)."""
    known = (read_json(table_path) or {}).get("files", {})
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
                                     model=self.model.credit if self.model else "")
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
        old = read_json(self._sidecar_path())
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
        self._write_guard(lambda: write_json(self._sidecar_path(), sidecar))

        self._undo = None  # EXRs from here on: a stop keeps every finished one
        yield from self._write(clip, segs, alignments, transforms, units)
        self._finish(sidecar, warnings, clip)
        self.result = EstimateResult(out, self._depth_file(1), self._sidecar_path(), clip, n,
                                     self._written, self._kept, model=model.credit,
                                     model_sha256=sha, segments=alignments, warnings=warnings)

    def _model_identity(self) -> tuple[ModelChoice | None, str, str]:
        """(the file to load (None: a model was given), its sha256, its name), loading nothing
        (a re-run with nothing to do never opens the network)."""
        if self.model is not None:
            return None, self.model.sha256, self.model.credit
        req = self.request
        choice = resolve_model(req.model, req.model_kind, req.download)
        sha = choice.sha256 or model_sha256(choice.path)
        name = registry.model_credit(choice.entry, choice.path, choice.sha256 is not None)
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
        self._write_guard(lambda: write_json(os.path.join(out, RAW_DIR, FOOTAGE_TABLE),
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
        self._write_guard(lambda: write_json(self._sidecar_path(), sidecar))
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
        manifest = read_json(path)
        if manifest is None or manifest.get("fingerprint") != raw_fp:
            folder = os.path.join(self._out, RAW_DIR)
            for f in _listed(folder, _RAW_FILE):  # the tool's own (refuse_foreign)
                os.remove(os.path.join(folder, f))
            manifest = {"fingerprint": raw_fp, "windows": {}}
            write_json(path, manifest)
        return manifest

    def _save_manifest(self, manifest: dict) -> None:
        write_json(os.path.join(self._out, RAW_DIR, RAW_MANIFEST), manifest)

    # Footage.
    def _srgb(self, clip: footage_io.Clip, index: int) -> np.ndarray:
        px, _bits = footage_io.read_display(clip.files[index])
        if px.shape[:2] != (clip.height, clip.width):
            raise RackFocusError(
                f"Footage frame {os.path.basename(clip.files[index])} is {px.shape[1]}x"
                f"{px.shape[0]}, the clip is {clip.width}x{clip.height}: every frame must "
                "have the same size")
        return px

    def _unpacked(self, clip: footage_io.Clip, source_sig: str) -> footage_io.Clip:
        """A movie's frames as a PNG sequence in ``footage/`` (decoded once per movie)."""
        folder = os.path.join(self._out, MOVIE_DIR)
        stamp = os.path.join(folder, "source.json")
        known = read_json(stamp)
        if known and known.get("footage") == source_sig:
            try:
                seq = footage_io.find_clip(os.path.join(folder, "frame_0001.png"))
            except RackFocusError:
                seq = None
            if seq is not None and seq.frames == clip.frames:
                seq.fps = clip.fps
                return seq
        seq = footage_io.unpack_movie(clip, folder)
        self._write_guard(lambda: write_json(stamp, {"footage": source_sig}))
        return seq

    def _cuts(self, clip, source_sig: str):
        """Pass 0: frame differences (cached per footage) and the cuts they show."""
        n = clip.frames
        if not self.request.cuts or n < 2:
            return []
        path = os.path.join(self._out, RAW_DIR, CUTS_FILE)
        cached = read_json(path)
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
            self._write_guard(lambda: write_json(path, {"footage": source_sig,
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
        manifest = read_json(os.path.join(self._out, RAW_DIR, RAW_MANIFEST)) or {}
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
