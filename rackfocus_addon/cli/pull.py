"""CLI verbs ``pull`` and ``clear``: write or remove a focus pull in a .blend file."""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..easing import parse_easing
from ..marks import parse_mark
from ..plan import MODES, SPACES
from ..request import (
    BREATHING_RANGE,
    CLOSE_FOCUS_M,
    CLOSE_FOCUS_RANGE,
    FSTOP_RANGE,
    HYSTERESIS_RANGE,
    MIN_BLUR_PX,
    MIN_BLUR_RANGE,
    PullRequest,
)
from .common import (
    camera_arguments,
    check_output_file,
    file_argument,
    number,
    open_shot,
    save_blend,
)


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "pull", parents=[common], help="create a focus pull between subjects",
        description="Create a focus pull. Marks: NAME@FRAME, ARMATURE:BONE@FRAME, "
                    "point:X,Y,Z@FRAME, px:X,Y@FRAME (a depth plate pixel); FRAME may be "
                    "marker:NAME for a timeline marker. Quote names that contain : @ or \": "
                    "'\"Fox:Rig\"@40'.",
    )
    file_argument(p)
    p.add_argument("--mark", action="append", required=True, metavar="SUBJECT@FRAME",
                   help="a focus mark; repeat in time order")
    camera_arguments(p)
    p.add_argument("--easing", default="sine:in-out", help="KIND[:in|out|in-out] (sine:in-out)")
    p.add_argument("--space", choices=SPACES, default="distance",
                   help="blend focus in metres or in diopters (1/d)")
    p.add_argument("--mode", choices=MODES, default="rig",
                   help="rig: live focus-target empty; bake: per-frame focus distance keys")
    p.add_argument("--replace", action="store_true",
                   help="replace existing user keys on focus distance (saved for clear)")
    p.add_argument("--out", required=True,
                   help="where to save the result (.blend); the input itself keeps one "
                        "backup, FILE.blend1")
    g = p.add_argument_group("presets, readability and lens realism")
    g.add_argument("--preset", help="pull preset (see 'presets list'); its timing re-times the "
                                    "marks' subjects from the first mark's frame, and its easing "
                                    "and space replace --easing and --space")
    g.add_argument("--solve-fstop", action="store_true",
                   help="if the pull would not read, open the iris to the f-stop that makes it")
    g.add_argument("--min-blur", type=number(*MIN_BLUR_RANGE, "--min-blur"), metavar="PX",
                   help=f"blur in pixels a soft subject needs to read (default {MIN_BLUR_PX:g}; "
                        f"{_span(MIN_BLUR_RANGE)})")
    g.add_argument("--fstop", type=number(*FSTOP_RANGE, "--fstop"),
                   help=f"set the camera's f-stop ({_span(FSTOP_RANGE)})")
    g.add_argument("--fstop-ramp", metavar="FROM:TO", type=_ramp,
                   help=f"key the f-stop over the pull (each {_span(FSTOP_RANGE)})")
    g.add_argument("--breathing", type=number(*BREATHING_RANGE, "--breathing"),
                   metavar="FRACTION",
                   help="focus breathing: focal length change at close focus (0.02 = 2%%; "
                        f"{_span(BREATHING_RANGE)})")
    g.add_argument("--close-focus", type=number(*CLOSE_FOCUS_RANGE, "--close-focus"),
                   metavar="M", help=f"the lens's close focus for breathing ({CLOSE_FOCUS_M:g} "
                                     f"m; {_span(CLOSE_FOCUS_RANGE)})")
    g.add_argument("--hysteresis", type=number(*HYSTERESIS_RANGE, "--hysteresis"),
                   metavar="DIOPTERS",
                   help="dead band so a baked focus on a moving subject does not hunt "
                        f"({_span(HYSTERESIS_RANGE)})")
    p.set_defaults(run=run_pull)

    c = sub.add_parser("clear", parents=[common],
                       help="remove a pull and restore the camera's focus")
    file_argument(c)
    camera_arguments(c)
    c.add_argument("--out", required=True,
                   help="where to save the result (.blend); the input itself keeps one "
                        "backup, FILE.blend1")
    c.set_defaults(run=run_clear)


def _span(limits: tuple[float, float]) -> str:
    return f"{limits[0]:g} to {limits[1]:g}"


def _ramp(text: str) -> tuple[float, float]:
    """``FROM:TO`` f-stops, each in range (an argparse ``type=``: bad values exit 2 at once)."""
    a, sep, b = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(
            f"--fstop-ramp '{text}' is not FROM:TO: use e.g. 2.8:2.0")
    fstop = number(*FSTOP_RANGE, "--fstop-ramp")
    return fstop(a.strip()), fstop(b.strip())


def request_from_args(args, scene, camera) -> tuple[PullRequest, str | None]:
    """The pull request the flags describe (a preset applied first, then explicit flags win).

    Returns (request, a note naming the preset's marks, or None).
    """
    from ..bl.user_presets import apply_preset, find_preset

    request = PullRequest(tuple(parse_mark(text) for text in args.mark),
                          parse_easing(args.easing), args.space, args.mode, args.replace)
    note = None
    if args.preset:
        preset = find_preset(args.preset)
        request, left_out = apply_preset(scene, camera, preset, request)
        note = (f"preset '{preset.name}': marks {' '.join(m.spec() for m in request.marks)}; "
                f"{request.easing.spec()} in {request.space}")
        if left_out:
            note += f". {left_out}"
    realism = {k: v for k, v in (
        ("fstop", args.fstop), ("breathing", args.breathing),
        ("close_focus_m", args.close_focus), ("hysteresis_diopters", args.hysteresis),
        ("fstop_ramp", args.fstop_ramp)) if v is not None}
    readability = {k: v for k, v in (("min_blur_px", args.min_blur),
                                     ("solve_fstop", args.solve_fstop or None)) if v is not None}
    request = replace(request, realism=replace(request.realism, **realism),
                      readability=replace(request.readability, **readability))
    return request, note


def run_pull(args, out) -> int:
    from ..bl import pull

    check_output_file(args.out, ".blend")
    for text in args.mark:  # refuse a bad mark or easing before the file is opened
        parse_mark(text)
    parse_easing(args.easing)
    scene, camera = open_shot(args)
    request, note = request_from_args(args, scene, camera)
    if note:
        out.note(note)
    result = pull.write_pull(scene, camera, request, progress=out.progress)
    for line in result.report.lines():
        out.note(f"readability: {line}")
    for message in result.notes:
        out.note(f"note: {message}")
    path = save_blend(args.out)
    out.result(dict(result.to_dict(), saved=path), [result.summary(), f"saved {path}"])
    return 0


def run_clear(args, out) -> int:
    from ..bl import pull

    check_output_file(args.out, ".blend")
    scene, camera = open_shot(args)
    message = pull.clear_pull(camera) or f"Camera '{camera.name}' has no Rack Focus pull: " \
                                          "nothing to clear"
    path = save_blend(args.out)
    out.result({"camera": camera.name, "message": message, "saved": path},
               [message, f"saved {path}"])
    return 0
