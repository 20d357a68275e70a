"""CLI verbs ``render`` and ``demo``."""

from __future__ import annotations

import argparse
import os

from ..errors import RackFocusError
from ..suggest import did_you_mean
from .common import (
    PROG,
    check_output_folder,
    file_argument,
    number,
    open_blend,
    parse_frames,
    parse_resolution,
    refuse_inputs,
)

#: Cycles' largest sample count.
MAX_SAMPLES = 16777216


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    r = sub.add_parser("render", parents=[common], help="render frames of a .blend to PNGs")
    file_argument(r)
    r.add_argument("--out", required=True, help="folder for the frames")
    r.add_argument("--frames", help="frames, Blender style: 1-48 or 1,12,40-48 "
                                    "(default: the scene's range)")
    r.add_argument("--camera", metavar="NAME",
                   help="camera object to render from (default: the scene camera, or the "
                        "camera a timeline marker binds at each frame)")
    r.add_argument("--engine", choices=("cycles", "eevee", "workbench"), default="cycles")
    r.add_argument("--samples", type=number(1, MAX_SAMPLES, "--samples", whole=True),
                   help="samples per pixel (default: the scene's)")
    r.add_argument("--resolution", help="WxH in pixels (default: the scene's)")
    r.add_argument("--movie", action="store_true", help="also encode pull.mp4")
    r.add_argument("--contact-sheet", action="store_true", help="also write contact_sheet.png")
    r.set_defaults(run=run_render)

    d = sub.add_parser("demo", parents=[common],
                       help="build a scene, pull focus and render it (no input needed)")
    d.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    d.add_argument("--resolution", default="320x180", help="WxH (default 320x180)")
    d.add_argument("--samples", type=number(1, MAX_SAMPLES, "--samples", whole=True), default=16,
                   help="Cycles samples (default 16)")
    d.add_argument("--frames", type=number(8, 100000, "--frames", whole=True), default=48,
                   help="length in frames (default 48)")
    d.add_argument("--no-plate", action="store_true", help="skip the depth-plate part")
    d.set_defaults(run=run_demo)


def render_camera(scene, name: str | None):
    """The camera object ``name`` in ``scene`` (None: the scene's own). Any camera renders,
    orthographic or panoramic too: only pulls need a perspective camera."""
    if not name:
        return None
    cam = scene.objects.get(name)
    if cam is None:
        cams = [o.name for o in scene.objects if o.type == "CAMERA"]
        raise RackFocusError(f"No camera named '{name}' in scene '{scene.name}'"
                             f"{did_you_mean(name, cams)}")
    if cam.type != "CAMERA":
        cams = sorted(o.name for o in scene.objects if o.type == "CAMERA")
        hint = f" (cameras: {', '.join(cams)})" if cams else " (the scene has no camera)"
        kind = cam.type.lower().replace("_", " ")
        article = "an" if kind[0] in "aeiou" else "a"
        raise RackFocusError(f"'{cam.name}' is {article} {kind} object, not a camera{hint}")
    return cam


def refuse_missing_files(file: str | None) -> None:
    """Refuse to render a file whose footage, textures or caches are missing (black frames)."""
    import bpy

    from ..bl import farm

    missing = farm.missing_files()
    if missing:
        more = f" ({len(missing)} missing in all)" if len(missing) > 1 else ""
        shown = file or bpy.data.filepath or "FILE"
        raise RackFocusError(f"Cannot render: {missing[0]}{more}; "
                             f"'{PROG} check {shown}' lists every missing file")


def run_render(args, out) -> int:
    import bpy

    from ..bl import farm, render

    if not args.file and not bpy.data.filepath:
        # Without one, Blender's factory startup scene (the default cube) would render.
        raise RackFocusError(f"render needs a .blend file: {PROG} render FILE.blend --out DIR")
    folder = check_output_folder(args.out)
    scene = open_blend(args.file)
    camera = render_camera(scene, args.camera)
    if camera is None and scene.camera is None:
        raise RackFocusError(f"Scene '{scene.name}' has no camera to render from: "
                             "add one or pass --camera")
    frames = parse_frames(args.frames, (scene.frame_start, scene.frame_end))
    resolution = parse_resolution(args.resolution)
    refuse_missing_files(args.file)
    written = [os.path.join(folder, f"frame_{f:04d}.png") for f in frames]
    written += [os.path.join(folder, name) for name, on in (("contact_sheet.png",
                args.contact_sheet), ("pull.mp4", args.movie)) if on]
    refuse_inputs(written, farm.used_files() + [bpy.data.filepath])
    for change in render.configure(scene, args.engine, args.samples, resolution):
        out.note(f"render setting {change}")
    paths = render.render_frames(scene, folder, frames, out.progress, camera=camera)
    data = {"frames": frames, "files": paths, "folder": folder,
            "camera": (camera or scene.camera).name}
    if args.contact_sheet:
        data["contact_sheet"] = render.contact_sheet(
            paths, os.path.join(folder, "contact_sheet.png"))
    if args.movie:
        data["movie"] = render.make_movie(paths, os.path.join(folder, "pull.mp4"),
                                          scene.render.fps)
    lines = [data[k] for k in ("contact_sheet", "movie") if k in data]
    out.result(data, lines + [f"rendered {len(paths)} frame(s) to {data['folder']}"])
    return 0


def run_demo(args, out) -> int:
    from ..bl import demo

    check_output_folder(args.out)
    outputs = demo.run_demo(args.out, out.progress, parse_resolution(args.resolution),
                            args.samples, args.frames, with_plate=not args.no_plate)
    out.result(outputs, [f"{key}: {value}" for key, value in outputs.items()])
    return 0
