"""Running a shot list (bpy): build each shot, save it, check it is farm-safe, render it with
resume, and finish its media.

For every shot, in file order:

1. **Check** (before any shot runs): the scene file opens, the scene, camera, every marked object,
   bone and timeline marker, the preset and the footage exist; all problems of all shots are
   reported at once (:class:`~..shots.ShotListError`).
2. **Build**: open the scene (or start an empty file) and, for footage, build the depth plate
   (estimating its depth first, over the whole clip at once, when the shot asks for it);
   pull focus through :func:`.pull.write_pull` with the shot's :class:`~..request.PullRequest`;
   set the render up for deterministic chunks (Cycles' animated seed, no time limit, the shot's
   pinned denoiser, ``//frame_####`` output next to the .blend); save ``NAME.blend`` in the
   shot's folder with :func:`.files.save_blend`; refuse it unless :func:`.farm.problems` finds
   nothing (a shot that is not farm-safe fails).
3. **Render**: every frame not yet on disk (all with ``force``), each written under a hidden
   temporary name and renamed once complete, so a killed run never leaves a half-written frame
   that looks finished. Ctrl-C stops after the current frame; a second one gives that frame up.
4. **Media**, once every frame of the shot exists: the MP4 (Blender's own FFmpeg output), the
   contact sheet of key frames with frame number and focus distance under each, and the focus
   plot (focus distance and each subject's blur over time, marks shown).

A shot that fails (bad input found while building, a full disk, a render error) is reported and
the batch goes on. A re-run resumes: a shot whose settings and source files are unchanged
(``rackfocus_shot.json`` in its folder keeps the fingerprint) is neither rebuilt nor re-rendered;
one whose frames are partly there renders only the rest from its saved .blend.

Frames are named ``frame_0001.png`` (or ``.exr``): the names Blender itself writes for the saved
file's ``//frame_####`` output, so ``blender -b NAME.blend -s START -e END -a`` on any farm
renders the same files, and the same pixels (Cycles derives each frame's seed from the frame).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence

import bpy

from .. import plot
from ..atomic import process_tag, remove_quietly, write_atomic
from ..batch_report import (
    BUILT,
    DONE,
    FAILED,
    INTERRUPTED,
    NOT_RUN,
    PARTIAL,
    BatchOptions,
    BatchReport,
    Log,
    ShotReport,
)
from ..errors import RackFocusError
from ..estimate.model import load_model, runtime_problem
from ..frames import format_frame_list
from ..image_files import image_problem
from ..limits import is_disk_full
from ..plan import make_plan
from ..request import PullRequest
from ..resume import (
    count_done,
    finished,
    finished_state,
    read_manifest,
    report_finished,
    shot_files,
    stale_media,
    write_manifest,
)
from ..shots import Shot, ShotList, ShotListError, key_frames, restrict_frames
from . import compat, estimation, export, farm, render
from . import pull as pull_engine
from .files import blender_stdout_silenced, save_blend
from .footage import find_clip
from .plate import EstimationStopped, import_plate
from .solve_anchors import read_solve
from .subjects import marker_frame, resolve_camera, resolve_subject
from .user_presets import apply_preset, find_preset


class ShotFailure(RuntimeError):
    """A shot that could not finish (a frame that could not be written); the message says what
    was kept and what to do."""


# --- the batch -------------------------------------------------------------------------------

def run_batch(shot_list: ShotList, only: Sequence[str] | None = None,
              options: BatchOptions | None = None, log: Log | None = None) -> BatchReport:
    """Run the shots of ``shot_list`` (those named in ``only``; all when empty).

    Raises :class:`~..shots.ShotListError` (every problem of every shot that still has work
    to do) before anything runs; after that no shot's failure stops the batch.
    """
    options = options or BatchOptions()
    log = log or Log()
    shots = shot_list.select(only)
    reports = [ShotReport(s.name, s.output) for s in shots]
    pending = [s for s in shots if options.force or finished_state(s, options) is None]
    check_shots(pending, shot_list.path)
    report = BatchReport(shot_list.path, reports)
    # A subject keeps one colour in every plot of the list (also when a farm runs one shot).
    colors = plot.subject_colors(shot_list.subject_names())
    with _ctrl_c(log) as stop:
        for i, (shot, r) in enumerate(zip(shots, reports)):
            started = time.perf_counter()
            try:
                if shot in pending:
                    _run_shot(shot, options, r, log, stop, colors)
                else:
                    report_finished(shot, options, r)
            except KeyboardInterrupt:
                r.status = INTERRUPTED
                r.error = "interrupted: finished frames are kept; run the batch again to continue"
                report.interrupted = True
                log.error(f"shot '{shot.name}' interrupted; finished frames are kept")
                for rest in reports[i + 1:]:
                    rest.status = NOT_RUN
                break
            except (RackFocusError, OSError, RuntimeError) as err:
                _fail(r, str(err), log)
            except Exception as err:  # noqa: BLE001 - one broken shot must not stop the batch
                log.error(traceback.format_exc().rstrip())
                _fail(r, f"unexpected error ({type(err).__name__}: {err})", log)
            finally:
                r.time_s = time.perf_counter() - started
                if r.status in (FAILED, INTERRUPTED):
                    r.frames_done = count_done(shot)
    return report


def _fail(r: ShotReport, message: str, log: Log) -> None:
    r.status = FAILED
    r.error = message
    log.error(f"shot '{r.name}' failed: {message}")


@contextlib.contextmanager
def _ctrl_c(log: Log) -> Iterator[Callable[[], bool]]:
    """While the batch runs, the first Ctrl-C asks it to stop after the current frame (the
    yielded function says whether it was asked). A second one gives the frame up (no partial
    file is left) and puts the previous handler back, so a third ends the process as usual."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked.is_set
        return

    def restore() -> None:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)

    def handler(signum, frame):
        if asked.is_set():
            restore()
            raise KeyboardInterrupt
        asked.set()
        log.warn("Ctrl-C: stopping after the current frame (press it again to give that "
                 "frame up)")

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):  # not allowed here (an embedded interpreter): no handler
        yield asked.is_set
        return
    try:
        yield asked.is_set
    finally:
        restore()


# --- one shot --------------------------------------------------------------------------------

def _run_shot(shot: Shot, options: BatchOptions, r: ShotReport, log: Log,
              stop: Callable[[], bool], colors: dict | None = None) -> None:
    t0 = time.perf_counter()
    try:
        os.makedirs(shot.output, exist_ok=True)
    except OSError as err:
        raise RackFocusError(f"cannot create the output folder {shot.output}: "
                             f"{err.strerror or err}") from None
    fingerprint = shot.fingerprint()
    manifest = read_manifest(shot)
    reuse = (not options.force and manifest is not None
             and manifest.get("fingerprint") == fingerprint
             and os.path.isfile(shot.blend_path) and manifest.get("frames"))
    if reuse:
        log.note(f"shot '{shot.name}': resuming from {shot.blend_path}")
        _open(shot.blend_path)
        scene = bpy.context.scene
        camera = scene.camera
        frames = [int(f) for f in manifest["frames"]]
        r.resumed = True
    else:
        if manifest is not None and not options.force:
            stale = [f for f in manifest.get("frames") or []
                     if finished(shot.frame_path(f))]
            if stale:
                log.warn(f"shot '{shot.name}': its settings or source files changed; "
                         f"{len(stale)} frame(s) rendered before are kept (--force re-renders "
                         "them)")
        remove_quietly(shot.manifest_path)
        scene, camera, frames, notes = build_shot(shot, log, stop)
        for text in notes:
            log.note(f"shot '{shot.name}': {text}")
        r.notes += notes
        write_manifest(shot, fingerprint, frames, complete=False)
    r.blend = shot.blend_path
    r.frames_total = len(frames)
    r.build_s = time.perf_counter() - t0
    if options.build_only:
        r.status = BUILT
        r.frames_done = sum(1 for f in frames if finished(shot.frame_path(f)))
        r.files = shot_files(shot, frames)
        return

    t1 = time.perf_counter()
    wanted = restrict_frames(frames, options.frames)
    if options.frames is not None and len(wanted) < len(options.frames):
        outside = sorted(set(options.frames) - set(frames))
        log.note(f"shot '{shot.name}': frame(s) {format_frame_list(outside)} are not among "
                 "its frames and are skipped")
    rendered: list[int] = []
    try:
        _done, kept = render_frames(scene, shot, wanted, options.force, log, stop, rendered)
    finally:
        r.frames_rendered = len(rendered)
        r.render_s = time.perf_counter() - t1
    r.frames_kept = len(kept)

    r.frames_done = sum(1 for f in frames if finished(shot.frame_path(f)))
    if r.frames_done < len(frames):
        r.status = PARTIAL
        r.files = shot_files(shot, frames)
        return
    t2 = time.perf_counter()
    finish_media(scene, camera, shot, frames, redo=bool(rendered) or options.force, log=log,
                 colors=colors)
    r.media_s = time.perf_counter() - t2
    write_manifest(shot, fingerprint, frames, complete=True)
    r.status = DONE
    r.files = shot_files(shot, frames)


def build_shot(shot: Shot, log: Log | None = None, stop: Callable[[], bool] = lambda: False
               ) -> tuple[bpy.types.Scene, bpy.types.Object, list[int], list[str]]:
    """Build ``shot`` in a fresh file and save it: (scene, camera, frames, notes).

    Footage with ``depth = "estimate"`` is estimated first, over the whole clip at once (one
    metric alignment for the clip; never cut into chunks). Raises :class:`RackFocusError` when
    the shot cannot be built or is not farm-safe; KeyboardInterrupt when ``stop()`` asked to
    stop during the estimation (its finished frames are kept).
    """
    log = log or Log()
    if shot.scene:
        _open(shot.scene)
    else:
        _new_file()
    scene = _scene(shot)
    notes: list[str] = []
    camera_name = shot.camera
    if shot.footage:
        result = _import_shot_plate(scene, shot, log, stop)
        if result.estimate is not None:
            notes += [f"estimate: {result.estimate.summary()}"] + list(result.estimate.warnings)
        notes += list(result.warnings) + list(result.report.notes)
        camera_name = result.camera
    camera = resolve_camera(scene, camera_name)
    scene.camera = camera
    if shot.render.frames:  # the shot's frames are the scene's range (the pull sees them too)
        first, last = min(shot.render.frames), max(shot.render.frames)
        scene.frame_end = last
        scene.frame_start = first
        scene.frame_end = last
    # The render settings first: readability is judged in pixels of the shot's own resolution.
    configure_render(scene, shot)
    request = shot_request(scene, camera, shot)
    result = pull_engine.write_pull(scene, camera, request, log.progress)
    notes += list(result.notes) + list(result.report.warnings if result.report else [])
    frames = (list(shot.render.frames) if shot.render.frames
              else list(range(scene.frame_start, scene.frame_end + 1)))
    save_blend(shot.blend_path)
    problems = farm.problems(scene)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RackFocusError(f"the saved shot {shot.blend_path} is not farm-safe: "
                             f"{problems[0]}{more}")
    return scene, camera, frames, notes


def shot_request(scene: bpy.types.Scene, camera: bpy.types.Object, shot: Shot) -> PullRequest:
    """The pull request of ``shot`` in ``scene``: its marks, or its preset's marks for its
    subjects, with the shot's explicit settings over the preset's."""
    if not shot.preset:
        return shot.request(scene.frame_start)
    preset = find_preset(shot.preset)
    request, _left_out = apply_preset(scene, camera, preset,
                                      PullRequest(shot.base_marks(scene.frame_start)))
    return shot.configure(request)


def solve_anchors(shot: Shot) -> list:
    """The anchors of the shot's camera solve on its footage (none without one)."""
    if not shot.solve:
        return []
    return list(read_solve(shot.solve, find_clip(shot.footage)).anchors)


def _import_shot_plate(scene: bpy.types.Scene, shot: Shot, log: Log, stop: Callable[[], bool]):
    """The shot's plate in ``scene``; KeyboardInterrupt when ``stop()`` asked to stop during the
    estimation (its finished frames are kept)."""
    # A camera solve's anchors join the shot's (they scale an estimate, or inverse depth).
    request = shot.plate_request()
    request = dataclasses.replace(request, anchors=request.anchors + tuple(solve_anchors(shot)))

    def progress(label: str, done: int, total: int) -> bool:
        log.progress(f"shot '{shot.name}': {label}", done, total)
        return stop()

    try:
        return import_plate(scene, request, progress)
    except EstimationStopped:
        raise KeyboardInterrupt from None


def configure_render(scene: bpy.types.Scene, shot: Shot) -> None:
    """Engine, samples, resolution and output of ``shot``, set for deterministic
    chunks: Cycles' seed animated (derived from the frame), no time limit, the denoiser pinned.
    The output is ``//frame_####`` next to the .blend, whole frames overwritten, no
    placeholders, so a farm's ``-a`` renders the same files the batch does."""
    rs = shot.render
    render.configure(scene, rs.engine, rs.samples, rs.resolution)
    if scene.render.engine == "CYCLES":
        cycles = scene.cycles
        cycles.use_animated_seed = True
        cycles.time_limit = 0.0
        cycles.use_denoising = rs.denoiser != "off"
        if rs.denoiser == "oidn":
            try:
                cycles.denoiser = "OPENIMAGEDENOISE"
            except TypeError:
                raise RackFocusError("this Blender has no OpenImageDenoise: set "
                                     "render.denoiser = \"off\"") from None
            if hasattr(cycles, "denoising_use_gpu"):
                cycles.denoising_use_gpu = False
    set_frame_output(scene, shot)
    scene.render.filepath = "//frame_####"
    scene.render.use_file_extension = True
    scene.render.use_overwrite = True
    scene.render.use_placeholder = False


def set_frame_output(scene: bpy.types.Scene, shot: Shot) -> None:
    """The frames' file format: 8-bit RGB PNG, or half-float RGBA EXR (ZIP)."""
    compat.set_image_output(scene, shot.render.blender_format)
    settings = scene.render.image_settings
    if shot.render.format == "exr":
        settings.color_mode = "RGBA"
        settings.color_depth = "16"
        settings.exr_codec = "ZIP"
    else:
        settings.color_mode = "RGB"
        settings.color_depth = "8"


# --- frames ----------------------------------------------------------------------------------

def write_frame(scene: bpy.types.Scene, frame: int, path: str) -> None:
    """Render ``frame`` of ``scene`` into the file ``path`` (the scene's image format).

    Raises OSError when no complete file came out: ENOSPC when the disk is (nearly) full.
    """
    scene.frame_set(frame)
    scene.render.filepath = path
    with blender_stdout_silenced():
        bpy.ops.render.render(write_still=True, scene=scene.name)
    problem = image_problem(path) if os.path.isfile(path) else "missing"
    if problem is None:
        return
    if is_disk_full(None, os.path.dirname(path)):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    raise OSError(errno.EIO, f"Blender wrote no complete file for frame {frame} ({problem})",
                  path)


def render_frames(scene: bpy.types.Scene, shot: Shot, frames: Sequence[int], force: bool,
                  log: Log, stop: Callable[[], bool] = lambda: False,
                  rendered: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Render each of ``frames`` that has no finished file (every one with ``force``).

    Each frame goes to :meth:`Shot.partial_path` first and is renamed to
    :meth:`Shot.frame_path` when complete; a frame that fails leaves no file. Returns (frames
    rendered, frames kept); ``rendered`` (when given) is filled as frames finish, so a caller
    still knows them after an interruption. ``stop()`` True stops before the next frame
    (KeyboardInterrupt).
    """
    set_frame_output(scene, shot)
    todo = [f for f in frames if force or not finished(shot.frame_path(f))]
    _remove_partials(shot, todo)
    pending = set(todo)
    kept = [f for f in frames if f not in pending]
    if kept and todo:
        log.note(f"shot '{shot.name}': {len(kept)} frame(s) already rendered, "
                 f"{len(todo)} to go")
    rendered = [] if rendered is None else rendered
    label = f"shot '{shot.name}': rendered frames"
    for frame in todo:
        if stop():
            raise KeyboardInterrupt
        try:
            write_atomic(shot.frame_path(frame), lambda temp, f=frame: write_frame(scene, f, temp),
                         temp=shot.partial_path(frame, process_tag()))
        except OSError as err:
            raise _frame_error(shot, frame, err, len(kept) + len(rendered)) from None
        rendered.append(frame)
        log.progress(label, len(rendered), len(todo))
    return rendered, kept


def _frame_error(shot: Shot, frame: int, err: OSError, finished: int) -> ShotFailure:
    kept = (f"{finished} finished frame(s) are kept in {shot.output}; run the batch again to "
            "render the rest")
    if err.errno == errno.ENOSPC:
        return ShotFailure(f"disk full while writing frame {frame} (No space left on device): "
                           f"{kept} once there is room")
    return ShotFailure(f"cannot write frame {frame} ({err.strerror or err}): {kept}")


def _remove_partials(shot: Shot, frames: Sequence[int]) -> None:
    """Drop half-written files of ``frames`` (the frames about to be rendered) that a killed
    run left; other frames' partial files may belong to a chunk rendering at the same time."""
    try:
        names = [n for n in os.listdir(shot.output) if n.startswith(".")]
    except OSError:
        return
    wanted = set(frames)
    for name in names:
        match = _PARTIAL_FRAME.match(name)
        if match and int(match.group(1)) in wanted and shot.is_partial_of(name,
                                                                           int(match.group(1))):
            remove_quietly(os.path.join(shot.output, name))


_PARTIAL_FRAME = re.compile(r"\.frame_(-?\d+)\.partial")


# --- media -----------------------------------------------------------------------------------

def finish_media(scene: bpy.types.Scene, camera: bpy.types.Object, shot: Shot,
                 frames: Sequence[int], redo: bool = True, log: Log | None = None,
                 colors: dict | None = None) -> dict[str, str]:
    """The shot's movie, contact sheet and focus plot from its finished frames (each only when
    asked for, and only when missing or older than a frame, unless ``redo``); returns
    name -> path. (On a farm the run that finishes renders nothing itself: a frame newer than
    the movie means the movie is stale.) ``colors`` maps subjects to their plot colours
    (:func:`~..plot.subject_colors` of the whole shot list)."""
    log = log or Log()
    wanted = shot.media_paths()
    frames = list(frames)
    paths = [shot.frame_path(f) for f in frames]
    todo = dict(wanted) if redo else stale_media(shot, frames, wanted)
    if "movie" in todo:
        log.note(f"shot '{shot.name}': encoding {os.path.basename(todo['movie'])}")
        with blender_stdout_silenced():
            write_atomic(todo["movie"], lambda tmp: render.make_movie(paths, tmp, scene.render.fps))
    if "contact_sheet" in todo or "plot" in todo:
        data = export.collect(scene, camera, frames)
        focus = {row["frame"]: row["focus_m"] for row in data["frames"]}
        plan = export.pull_plan(scene, camera)
        marks = [(f, f"{plan.subjects[s].spec()}@{f}") for s, f in plan.marks]
        if "contact_sheet" in todo:
            picks = key_frames(frames, [f for f, _ in marks])
            tiles = []
            for f in picks:
                px = render.load_rgba(shot.frame_path(f))
                if shot.render.format == "exr":
                    px = px.copy()
                    px[..., :3] = plot.linear_to_srgb(px[..., :3])
                tiles.append(px)
            labels = [plot.frame_label(f, focus[f]) for f in picks]
            sheet = plot.labelled_sheet(tiles, labels)
            write_atomic(todo["contact_sheet"], lambda tmp: render.save_png(sheet, tmp))
        if "plot" in todo:
            blur = {name: [row["blur_px"][name] for row in data["frames"]]
                    for name in data["subjects"]}
            image = plot.focus_plot(frames, [focus[f] for f in frames], blur, marks,
                                    title=f"{shot.name}: focus and blur", colors=colors)
            write_atomic(todo["plot"], lambda tmp: render.save_png(image, tmp))
    return wanted


# --- checks before anything runs -------------------------------------------------------------

def check_shots(shots: Sequence[Shot], source: str) -> None:
    """Everything about ``shots`` that needs Blender to check, before any shot runs: scene
    files that open, scenes, cameras, marked objects, bones and markers, presets, footage and
    depth files, pixel marks inside the footage. Raises :class:`ShotListError` with every
    problem, each naming the shot and key."""
    errors: list[str] = []

    def err(shot: Shot, key: str, message) -> None:
        errors.append(f"{source}: shot '{shot.name}': key '{key}': {message}")

    for shot in shots:
        if shot.estimates:
            problem = runtime_problem()
            if problem:
                err(shot, "depth", problem)
            else:
                _check_model(shot, err)
        if shot.preset:
            try:
                find_preset(shot.preset)
            except RackFocusError as error:
                err(shot, "preset", error)
        if shot.render.denoiser == "oidn" and shot.render.engine == "cycles" \
                and not _has_oidn():
            err(shot, "render.denoiser", "this Blender has no OpenImageDenoise: use \"off\"")
        if shot.footage:
            _check_footage(shot, err)
    by_file: dict[str, list[Shot]] = {}
    for shot in shots:
        if shot.scene:
            by_file.setdefault(shot.scene, []).append(shot)
    for path, group in by_file.items():
        try:
            _open(path)
        except RackFocusError as error:
            for shot in group:
                err(shot, "scene", error)
            continue
        for shot in group:
            _check_in_scene(shot, err)
    if errors:
        raise ShotListError(errors)


def _check_model(shot: Shot, err) -> None:
    """The shot's model loads (an .onnx ONNX Runtime cannot open fails here, not at build),
    and a relative one has anchors or near/far to make it metric."""
    try:
        model = load_model(estimation.resolve_model(shot.model))
    except RackFocusError as error:
        err(shot, "model", f"{error} (in a shot list: model = \"PATH.onnx\")")
        return
    p = shot.plate
    if model.entry.relative and not p.anchors and p.near_m is None:
        err(shot, "plate.anchors", f"{model.entry.title} gives relative depth, which needs "
                                   "anchors to be metres: add plate.anchors = [\"X,Y=METRES\"] "
                                   "or plate.near_m and plate.far_m")


def _check_footage(shot: Shot, err) -> None:
    clip = None
    try:
        clip = find_clip(shot.footage)
    except RackFocusError as error:
        err(shot, "footage", error)
    if shot.depth and not shot.estimates:
        try:
            find_clip(shot.depth)
        except RackFocusError as error:
            err(shot, "depth", error)
    for i, mark in enumerate(shot.marks, start=1):
        ref = mark.subject
        if ref.kind == "pixel" and clip is not None:
            x, y = ref.coords
            if not (0 <= round(x) < clip.width and 0 <= round(y) < clip.height):
                err(shot, f"marks[{i}]", f"pixel ({x:g}, {y:g}) is outside the "
                                         f"{clip.width}x{clip.height} footage")
        elif ref.kind in ("object", "bone") and not shot.scene:
            err(shot, f"marks[{i}]", f"{ref.label()}: a footage shot without a scene holds "
                                     "only its plate: mark pixels (px:X,Y@FRAME) or points, or "
                                     "add scene = \"FILE.blend\"")
        if mark.marker is not None and not shot.scene:
            err(shot, f"marks[{i}]", f"timeline marker '{mark.marker}': a footage shot "
                                     "without a scene has no markers: use frame numbers")


def _check_in_scene(shot: Shot, err) -> None:
    if shot.scene_name:
        scene = bpy.data.scenes.get(shot.scene_name)
        if scene is None:
            names = ", ".join(s.name for s in bpy.data.scenes)
            err(shot, "scene_name", f"No scene named '{shot.scene_name}' in {shot.scene} "
                                    f"(scenes: {names})")
            return
    else:
        scene = bpy.context.scene
    camera = None
    if shot.camera or not shot.footage:
        try:
            camera = resolve_camera(scene, shot.camera)
        except RackFocusError as error:
            err(shot, "camera", error)
    refs = [(f"marks[{i}]", m.subject, m.marker) for i, m in enumerate(shot.marks, start=1)]
    refs += [(f"subjects[{i}]", ref, None) for i, ref in enumerate(shot.subjects, start=1)]
    for key, ref, marker in refs:
        if not (ref.kind == "pixel" and (shot.footage or camera is None)):
            try:
                resolve_subject(scene, camera, ref)
            except RackFocusError as error:
                err(shot, key, error)
        if marker is not None:
            try:
                marker_frame(scene, marker)
            except RackFocusError as error:
                err(shot, key, error)
    if any(m.marker is not None for m in shot.marks):  # numbered marks: checked in shots.py
        try:
            frames = [m.frame if m.marker is None else marker_frame(scene, m.marker)
                      for m in shot.marks]
        except RackFocusError:
            return  # a missing marker, reported above
        try:
            make_plan([(m.subject, f) for m, f in zip(shot.marks, frames)])
        except RackFocusError as error:
            err(shot, "marks", error)


def _has_oidn() -> bool:
    cycles = bpy.context.scene.cycles
    before = cycles.denoiser
    try:
        cycles.denoiser = "OPENIMAGEDENOISE"
    except TypeError:
        return False
    cycles.denoiser = before
    return True


# --- files -----------------------------------------------------------------------------------

def _open(path: str) -> None:
    """Open the .blend ``path`` (Blender's chatter kept off stdout)."""
    try:
        with blender_stdout_silenced():
            bpy.ops.wm.open_mainfile(filepath=path, load_ui=False)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        raise RackFocusError(f"cannot open {path}: {lines[-1] if lines else err}") from None


def _new_file() -> None:
    """An empty file with one scene, add-ons left as they are."""
    with blender_stdout_silenced():
        bpy.ops.wm.read_homefile(use_empty=True, load_ui=False)


def _scene(shot: Shot) -> bpy.types.Scene:
    if not shot.scene_name:
        return bpy.context.scene
    scene = bpy.data.scenes.get(shot.scene_name)
    if scene is None:
        raise RackFocusError(f"No scene named '{shot.scene_name}' in {shot.scene}")
    # The scene the saved file opens with is the one a farm's 'blender -b FILE -a' renders.
    for window in bpy.context.window_manager.windows:
        window.scene = scene
    return scene
