"""CLI verbs ``render`` and ``demo``."""

from __future__ import annotations

import argparse
import os

from ..errors import RackFocusError
from .common import file_argument, open_blend, parse_frames, parse_resolution


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    r = sub.add_parser("render", parents=[common], help="render frames of a .blend to PNGs")
    file_argument(r)
    r.add_argument("--out", required=True, help="folder for the frames")
    r.add_argument("--frames", help="frames, Blender style: 1-48 or 1,12,40-48 "
                                    "(default: the scene's range)")
    r.add_argument("--engine", choices=("cycles", "eevee", "workbench"), default="cycles")
    r.add_argument("--samples", type=int, help="samples per pixel")
    r.add_argument("--resolution", help="WxH in pixels (default: the scene's)")
    r.add_argument("--movie", action="store_true", help="also encode pull.mp4")
    r.add_argument("--contact-sheet", action="store_true", help="also write contact_sheet.png")
    r.set_defaults(run=run_render)

    d = sub.add_parser("demo", parents=[common],
                       help="build a scene, pull focus and render it (no input needed)")
    d.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    d.add_argument("--resolution", default="320x180", help="WxH (default 320x180)")
    d.add_argument("--samples", type=int, default=16, help="Cycles samples (default 16)")
    d.add_argument("--frames", type=int, default=48, help="length in frames (default 48)")
    d.add_argument("--no-plate", action="store_true", help="skip the depth-plate part")
    d.set_defaults(run=run_demo)


def run_render(args, out) -> int:
    from ..bl import render

    scene = open_blend(args.file)
    frames = parse_frames(args.frames, (scene.frame_start, scene.frame_end))
    render.configure(scene, args.engine, args.samples, parse_resolution(args.resolution))
    paths = render.render_frames(scene, args.out, frames, out.progress)
    data = {"frames": frames, "files": paths, "folder": os.path.abspath(args.out)}
    if args.contact_sheet:
        data["contact_sheet"] = render.contact_sheet(
            paths, os.path.join(args.out, "contact_sheet.png"))
    if args.movie:
        data["movie"] = render.make_movie(paths, os.path.join(args.out, "pull.mp4"),
                                          scene.render.fps)
    lines = [data[k] for k in ("contact_sheet", "movie") if k in data]
    out.result(data, lines + [f"rendered {len(paths)} frame(s) to {data['folder']}"])
    return 0


def run_demo(args, out) -> int:
    from ..bl import demo

    if args.frames < 8:
        raise RackFocusError("The demo needs at least 8 frames")
    outputs = demo.run_demo(args.out, out.progress, parse_resolution(args.resolution),
                            args.samples, args.frames, with_plate=not args.no_plate)
    out.result(outputs, [f"{key}: {value}" for key, value in outputs.items()])
    return 0
