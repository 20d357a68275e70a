"""CLI verbs ``export``, ``describe`` and ``presets``, and the ``pull`` verb's workflow options.

``pull`` (in ``cli_pull``) calls three hooks of this module when it is present:
``add_pull_options(parser)`` adds --preset, --solve-fstop and the realism flags;
``before_pull(args, scene, camera)`` turns a preset into marks, easing and space;
``apply_pull_options(args, scene, camera, result)`` reports readability and writes the realism.
``before_clear(args, scene, camera)`` restores the f-stop and focal length on ``clear``.
"""

from __future__ import annotations

import sys

from . import presets as preset_io
from .cli_common import open_blend, parse_frames, pick_scene
from .errors import RackFocusError

PREFIX = "rackfocus"


def _note(text: str) -> None:
    print(f"{PREFIX}: {text}", file=sys.stderr, flush=True)


def _open(args):
    from .bl import pull

    open_blend(args.file)
    scene = pick_scene(args.scene)
    return scene, pull.resolve_camera(scene, args.camera)


def _common(p) -> None:
    p.add_argument("file", nargs="?", help=".blend to open (default: the file Blender opened)")
    p.add_argument("--camera", help="camera object (default: the scene camera)")
    p.add_argument("--scene", help="scene name (default: the active scene)")


def add_verbs(sub) -> None:
    e = sub.add_parser(
        "export", help="per-frame focus, f-stop, focal length and subject blur (CSV / JSON)",
        description="Export per-frame focus distance (m), f-stop, focal length (mm) and each "
                    "subject's blur in pixels at render resolution.")
    _common(e)
    e.add_argument("--out", required=True,
                   help="FILE.csv, FILE.json, or FILE without extension for both")
    e.add_argument("--frames", help="A-B (default: the scene's frame range)")
    e.add_argument("--subject", action="append", metavar="NAME",
                   help="object whose blur to export (default: the pull's subjects); repeat")
    e.set_defaults(func=run_export)

    d = sub.add_parser(
        "describe", help="describe the pull in words for an AI video prompt",
        description="Print a plain-text description of the camera's pull: which element starts "
                    "sharp and which soft, their depths, the timing and easing.")
    _common(d)
    d.add_argument("--out", help="also write the text to this file")
    d.set_defaults(func=run_describe)

    p = sub.add_parser("presets", help="list, show or check pull presets",
                       description="Pull presets: the shipped ones and the user's.")
    p.add_argument("action", choices=("list", "show", "check"),
                   help="list all; show NAME (TOML and frames); check FILE... (validate)")
    p.add_argument("names", nargs="*", help="preset name(s) for show, TOML file(s) for check")
    p.add_argument("--fps", type=float, default=24.0, help="frame rate for 'show' (24)")
    p.set_defaults(func=run_presets)


def _all_presets() -> tuple[list, list[str]]:
    try:
        from .bl import user_presets
    except ImportError:  # no bpy: the shipped presets only
        return preset_io.discover([(preset_io.SHIPPED_DIR, False)])
    return user_presets.all_presets()


def run_presets(args) -> int:
    if args.action == "check":
        if not args.names:
            raise RackFocusError("presets check needs one or more TOML files")
        bad = 0
        for path in args.names:
            try:
                preset = preset_io.load_preset(path)
                print(f"{path}: ok ({preset.name})")
            except RackFocusError as err:
                bad += 1
                print(f"{PREFIX}: error: {err}", file=sys.stderr)
        return 2 if bad else 0
    found, errors = _all_presets()
    for err in errors:
        _note(f"warning: {err}")
    if args.action == "list":
        for p in found:
            where = "user" if p.user else "shipped"
            print(f"{p.key:20s} {p.name} [{where}]: {p.description}")
        return 0
    if not args.names:
        raise RackFocusError("presets show needs a preset name, e.g. 'presets show fg_to_bg'")
    for name in args.names:
        p = preset_io.find(found, name)
        print(f"# {p.name} ({p.path or p.key})")
        print(p.to_toml())
        marks = ", ".join(f"{role}@+{frame}" for role, frame in p.schedule(args.fps))
        print(f"# marks at {args.fps:g} fps: {marks}; easing {p.easing().spec()} in {p.space}")
    return 0


def run_export(args) -> int:
    from .bl import export

    scene, camera = _open(args)
    frames = parse_frames(args.frames, (scene.frame_start, scene.frame_end))
    for path in export.export(scene, camera, args.out, frames, args.subject):
        print(f"wrote {path}")
    return 0


def run_describe(args) -> int:
    from .bl import export

    scene, camera = _open(args)
    text = export.describe_pull(scene, camera)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


# --- hooks for the ``pull`` verb ----------------------------------------------------------------

def _ramp(text: str) -> tuple[float, float]:
    a, sep, b = text.partition(":")
    try:
        values = (float(a), float(b))
    except ValueError:
        values = ()
    if not sep or len(values) != 2:
        raise RackFocusError(f"Bad f-stop ramp '{text}': use FROM:TO, e.g. 2.8:2.0")
    return values


def add_pull_options(p) -> None:
    """Preset, readability and realism options of ``pull``."""
    g = p.add_argument_group("presets, readability and lens realism")
    g.add_argument("--preset", help="pull preset (see 'presets list'); its timing re-times the "
                                    "marks' subjects from the first mark's frame, and its easing "
                                    "and space replace --easing and --space")
    g.add_argument("--solve-fstop", action="store_true",
                   help="if the pull would not read, open the iris to the f-stop that makes it")
    g.add_argument("--min-blur", type=float, metavar="PX",
                   help="blur in pixels a soft subject needs to read (default 4)")
    g.add_argument("--fstop", type=float, help="set the camera's f-stop")
    g.add_argument("--fstop-ramp", metavar="FROM:TO", help="key the f-stop over the pull")
    g.add_argument("--breathing", type=float, metavar="FRACTION",
                   help="focus breathing: focal length change at close focus (0.02 = 2%%)")
    g.add_argument("--close-focus", type=float, metavar="M",
                   help="the lens's close focus for breathing (0.45 m)")
    g.add_argument("--hysteresis", type=float, metavar="DIOPTERS",
                   help="dead band so a baked focus on a moving subject does not hunt")


def before_pull(args, scene, camera) -> None:
    """With --preset: rewrite ``args.mark``, ``args.easing`` and ``args.space`` from the preset."""
    name = getattr(args, "preset", None)
    if not name:
        return
    from .bl import pull
    from .bl.user_presets import find_preset, preset_marks
    from .marks import parse_mark

    preset = find_preset(name)
    parsed = [parse_mark(text) for text in args.mark]
    first = parsed[0]
    start = first.frame if first.marker is None else pull.marker_frame(scene, first.marker)
    marks = preset_marks(scene, camera, preset, [m.subject for m in parsed], start)
    args.mark = [m.spec() for m in marks]
    args.easing = preset.easing().spec()
    # The text form drops BACK's overshoot amount: hand the pull the preset's easing itself.
    args.rackfocus_easing = preset.easing()
    args.space = preset.space
    args.rackfocus_preset = preset
    _note(f"preset '{preset.name}': marks {' '.join(args.mark)}; {args.easing} in {args.space}")


def extras_from_args(args):
    from .bl.realism import Extras

    preset = getattr(args, "rackfocus_preset", None)
    extras = Extras.from_preset(preset) if preset is not None else Extras()
    if getattr(args, "solve_fstop", False):
        extras.solve_fstop = True
    if getattr(args, "min_blur", None) is not None:
        extras.min_blur_px = args.min_blur
    if getattr(args, "fstop", None) is not None:
        extras.fstop = args.fstop
    if getattr(args, "fstop_ramp", None):
        extras.fstop_ramp = _ramp(args.fstop_ramp)
    if getattr(args, "breathing", None) is not None:
        extras.breathing = args.breathing
    if getattr(args, "close_focus", None) is not None:
        extras.close_focus_m = args.close_focus
    if getattr(args, "hysteresis", None) is not None:
        extras.hysteresis_diopters = args.hysteresis
    return extras


def apply_pull_options(args, scene, camera, result) -> None:
    """After the pull is written: readability report (stderr), solved f-stop, realism keys."""
    from .bl import realism as bl_realism
    from .cli_pull import pixel_resolver

    resolver = pixel_resolver(scene, camera)
    done = bl_realism.apply_extras(scene, camera, result.plan, extras_from_args(args), args.mode,
                                   pixel_resolver=resolver)
    for line in done.report.lines():
        _note(f"readability: {line}")
    for message in done.messages:
        _note(f"note: {message}")


def before_clear(args, scene, camera) -> None:
    """``clear``: restore the f-stop and focal length the realism keyed."""
    from .bl.realism import clear_realism

    message = clear_realism(camera)
    if message:
        _note(message)
