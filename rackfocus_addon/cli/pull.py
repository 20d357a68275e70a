"""CLI verbs ``pull`` and ``clear``: write or remove a focus pull in a .blend file."""

from __future__ import annotations

import importlib
import sys

from .cli_common import open_blend, pick_scene, progress_printer, save_blend
from .easing import parse_easing
from .marks import parse_mark
from .plan import MODES, SPACES


def add_verbs(sub) -> None:
    p = sub.add_parser(
        "pull", help="create a focus pull between subjects",
        description="Create a focus pull. Marks: NAME@FRAME, ARMATURE:BONE@FRAME, "
                    "point:X,Y,Z@FRAME, px:X,Y@FRAME (a depth plate pixel); FRAME may be "
                    "marker:NAME for a timeline marker.",
    )
    p.add_argument("file", nargs="?", help=".blend to open (default: the file Blender opened)")
    p.add_argument("--mark", action="append", required=True, metavar="SUBJECT@FRAME",
                   help="a focus mark; repeat in time order")
    p.add_argument("--camera", help="camera object (default: the scene camera)")
    p.add_argument("--scene", help="scene name (default: the active scene)")
    p.add_argument("--easing", default="sine:in-out", help="KIND[:in|out|in-out] (sine:in-out)")
    p.add_argument("--space", choices=SPACES, default="distance",
                   help="blend focus in metres or in diopters (1/d)")
    p.add_argument("--mode", choices=MODES, default="rig",
                   help="rig: live focus-target empty; bake: per-frame focus distance keys")
    p.add_argument("--replace", action="store_true",
                   help="replace existing user keys on focus distance (saved for clear)")
    p.add_argument("--out", required=True, help="where to save the result (.blend)")
    _extend("add_pull_options", p)
    p.set_defaults(func=run_pull)

    c = sub.add_parser("clear", help="remove a pull and restore the camera's focus")
    c.add_argument("file", nargs="?", help=".blend to open")
    c.add_argument("--camera", help="camera object (default: the scene camera)")
    c.add_argument("--scene", help="scene name (default: the active scene)")
    c.add_argument("--out", required=True, help="where to save the result (.blend)")
    c.set_defaults(func=run_clear)


def _extend(hook: str, *args):
    """Call an optional hook of the workflow verbs (presets, realism) if that module exists."""
    try:
        module = importlib.import_module(".cli_workflow", __package__)
    except ImportError:
        return None
    fn = getattr(module, hook, None)
    return fn(*args) if fn is not None else None


def pixel_resolver(scene, camera):
    """The depth-plate resolver for ``px:`` marks, when depth plates are available."""
    try:
        plate = importlib.import_module(".bl.plate", __package__)
    except ImportError:
        return None
    fn = getattr(plate, "pixel_resolver_for", None)
    return fn(scene, camera) if fn is not None else None


def run_pull(args) -> int:
    from .bl import pull

    open_blend(args.file)
    scene = pick_scene(args.scene)
    camera = pull.resolve_camera(scene, args.camera)
    # A preset may rewrite args.mark / args.easing / args.space (timing from the preset).
    _extend("before_pull", args, scene, camera)
    marks = [parse_mark(text) for text in args.mark]
    easing = getattr(args, "rackfocus_easing", None) or parse_easing(args.easing)
    result = pull.create_pull(
        scene, camera, marks, easing, args.space, args.mode, args.replace,
        progress=progress_printer(), pixel_resolver=pixel_resolver(scene, camera),
    )
    _extend("apply_pull_options", args, scene, camera, result)
    for message in result.messages:
        print(f"rackfocus: note: {message}", file=sys.stderr)
    path = save_blend(args.out)
    print(result.summary())
    print(f"saved {path}")
    return 0


def run_clear(args) -> int:
    from .bl import pull

    open_blend(args.file)
    scene = pick_scene(args.scene)
    camera = pull.resolve_camera(scene, args.camera)
    _extend("before_clear", args, scene, camera)
    print(pull.clear_pull(camera))
    print(f"saved {save_blend(args.out)}")
    return 0
