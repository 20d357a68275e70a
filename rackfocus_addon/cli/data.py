"""CLI verbs ``export``, ``describe`` and ``presets``: focus data out, and the pull presets."""

from __future__ import annotations

import argparse
import os

from .. import presets as preset_io
from ..errors import RackFocusError
from .common import (
    camera_arguments,
    check_output_file,
    file_argument,
    number,
    open_shot,
    parse_frames,
)


def _common(p) -> None:
    file_argument(p)
    camera_arguments(p)


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    e = sub.add_parser(
        "export", parents=[common],
        help="per-frame focus, f-stop, focal length and subject blur (CSV / JSON)",
        description="Export per-frame focus distance (m), f-stop, focal length (mm) and each "
                    "subject's blur in pixels at render resolution.")
    _common(e)
    e.add_argument("--out", required=True,
                   help="FILE.csv, FILE.json, or FILE without extension for both")
    e.add_argument("--frames", help="frames, Blender style: 1-48 or 1,12,40-48 "
                                    "(default: the scene's frame range)")
    e.add_argument("--subject", action="append", metavar="NAME",
                   help="subject whose blur to export, as in a mark: NAME, ARMATURE:BONE or "
                        "px:X,Y (default: the pull's subjects); repeat")
    e.set_defaults(run=run_export)

    d = sub.add_parser(
        "describe", parents=[common], help="describe the pull in words for an AI video prompt",
        description="Print a plain-text description of the camera's pull: which element starts "
                    "sharp and which soft, their depths, the timing and easing.")
    _common(d)
    d.add_argument("--out", help="also write the text to this file")
    d.set_defaults(run=run_describe)

    p = sub.add_parser("presets", parents=[common], help="list, show or check pull presets",
                       description="Pull presets: the shipped ones and the user's.")
    p.add_argument("action", choices=("list", "show", "check"),
                   help="list all; show NAME (TOML and frames); check FILE... (validate)")
    p.add_argument("names", nargs="*", help="preset name(s) for show, TOML file(s) for check")
    p.add_argument("--fps", type=number(1, 1000, "--fps"), default=24.0,
                   help="frame rate for 'show' (24)")
    p.set_defaults(run=run_presets)


def run_presets(args, out) -> int:
    from ..bl import user_presets

    if args.action == "check":
        if not args.names:
            raise RackFocusError("presets check needs one or more TOML files")
        results, bad = [], 0
        for path in args.names:
            try:
                preset = preset_io.load_preset(path)
                results.append({"file": path, "ok": True, "name": preset.name})
            except RackFocusError as err:
                bad += 1
                results.append({"file": path, "ok": False, "error": str(err)})
                out.error(str(err))
        out.result({"presets": results},
                   [f"{r['file']}: ok ({r['name']})" for r in results if r["ok"]])
        return 2 if bad else 0
    found, errors = user_presets.all_presets()
    for err in errors:
        out.warn(err)
    if args.action == "list":
        out.result(
            {"presets": [{"key": p.key, "name": p.name, "user": p.user,
                          "description": p.description} for p in found]},
            [f"{p.key:20s} {p.name} [{'user' if p.user else 'shipped'}]: {p.description}"
             for p in found])
        return 0
    if not args.names:
        raise RackFocusError("presets show needs a preset name, e.g. 'presets show fg_to_bg'")
    lines, shown = [], []
    for name in args.names:
        p = preset_io.find(found, name)
        marks = ", ".join(f"{role}@+{frame}" for role, frame in p.schedule(args.fps))
        lines += [f"# {p.name} ({p.path or p.key})", p.to_toml(),
                  f"# marks at {args.fps:g} fps: {marks}; easing {p.easing().spec()} in {p.space}"]
        shown.append({"key": p.key, "name": p.name, "toml": p.to_toml(),
                      "schedule": p.schedule(args.fps)})
    out.result({"presets": shown}, lines)
    return 0


def run_export(args, out) -> int:
    from ..bl import export

    base, ext = os.path.splitext(args.out)
    if ext.lower() not in ("", ".csv", ".json"):
        raise RackFocusError(f"Export to .csv or .json, not '{ext}': {args.out}")
    for target in [args.out] if ext else [base + ".csv", base + ".json"]:
        check_output_file(target, inputs=[args.file])
    scene, camera = open_shot(args)
    frames = parse_frames(args.frames, (scene.frame_start, scene.frame_end))
    written = export.export(scene, camera, args.out, frames, args.subject, out.progress)
    out.result({"written": written}, [f"wrote {path}" for path in written])
    return 0


def run_describe(args, out) -> int:
    from ..bl import export

    target = check_output_file(args.out, inputs=[args.file]) if args.out else None
    scene, camera = open_shot(args)
    text = export.describe_pull(scene, camera)
    if target:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    out.result({"camera": camera.name, "description": text}, [text])
    return 0
