"""CLI verbs ``render`` and ``demo``."""

from __future__ import annotations

import os

from .cli_common import open_blend, parse_frames, parse_resolution, progress_printer


def add_verbs(sub) -> None:
    r = sub.add_parser("render", help="render frames of a .blend to PNGs")
    r.add_argument("file", nargs="?", help=".blend to open (default: the file Blender opened)")
    r.add_argument("--out", required=True, help="folder for the frames")
    r.add_argument("--frames", help="A-B (default: the scene's range)")
    r.add_argument("--engine", choices=("cycles", "eevee", "workbench"), default="cycles")
    r.add_argument("--samples", type=int, help="samples per pixel")
    r.add_argument("--resolution", help="WxH in pixels (default: the scene's)")
    r.add_argument("--movie", action="store_true", help="also encode pull.mp4")
    r.add_argument("--contact-sheet", action="store_true", help="also write contact_sheet.png")
    r.set_defaults(func=run_render)

    d = sub.add_parser("demo", help="build a scene, pull focus and render it (no input needed)")
    d.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    d.add_argument("--resolution", default="320x180", help="WxH (default 320x180)")
    d.add_argument("--samples", type=int, default=16, help="Cycles samples (default 16)")
    d.add_argument("--frames", type=int, default=48, help="length in frames (default 48)")
    d.add_argument("--no-plate", action="store_true", help="skip the depth-plate part")
    d.set_defaults(func=run_demo)


def run_render(args) -> int:
    from .bl import render

    scene = open_blend(args.file)
    frames = parse_frames(args.frames, (scene.frame_start, scene.frame_end))
    render.configure(scene, args.engine, args.samples, parse_resolution(args.resolution))
    paths = render.render_frames(scene, args.out, frames, progress_printer())
    if args.contact_sheet:
        print(render.contact_sheet(paths, os.path.join(args.out, "contact_sheet.png")))
    if args.movie:
        print(render.make_movie(paths, os.path.join(args.out, "pull.mp4"), scene.render.fps))
    print(f"rendered {len(paths)} frame(s) to {os.path.abspath(args.out)}")
    return 0


def run_demo(args) -> int:
    from .bl import demo
    from .errors import RackFocusError

    if args.frames < 8:
        raise RackFocusError("The demo needs at least 8 frames")
    outputs = demo.run_demo(args.out, progress_printer(), parse_resolution(args.resolution),
                            args.samples, args.frames, with_plate=not args.no_plate)
    for key, value in outputs.items():
        print(f"{key}: {value}")
    return 0
