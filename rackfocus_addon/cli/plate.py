"""CLI verb ``plate``: import footage and its depth as a depth plate in a .blend file.

    rackfocus plate FILE.blend --footage PATH --depth PATH --depth-kind metric|normalized|inverse
        [--near M --far M | --anchor X,Y=M ...] [--sensor MM --focal MM] --out OUT.blend

Then ``rackfocus pull OUT.blend --mark px:X,Y@FRAME ...`` pulls focus on the footage and
``rackfocus render`` renders it. The plate's depth and fill images are cached as EXR in
``rackfocus_cache/<plate>_<hash>/`` next to OUT.blend (relative paths, so a farm finds them).
Bad settings or input exit with status 2 and leave no file behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

from ..depth import (
    ANCHOR_TOLERANCE,
    DENSITY_RANGE,
    FILL_PX_RANGE,
    FOCAL_RANGE_MM,
    FPS_RANGE,
    KINDS,
    SENSOR_RANGE_MM,
    TEAR_RANGE,
    parse_anchor,
)
from ..errors import RackFocusError
from ..estimate import registry
from ..plate_mesh import DEFAULT_TEAR
from ..plate_request import (
    DEFAULT_DENSITY,
    DEFAULT_FOCAL_MM,
    DEFAULT_SENSOR_MM,
    EstimateSettings,
    PlateRequest,
    cache_root,
)
from . import solve
from .common import check_output_file, open_blend, save_blend


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "plate", parents=[common], help="import footage + depth as a depth plate",
        description="Import footage (still, image sequence or movie) and a depth map per frame "
                    "as a depth plate in front of the camera, so focus pulls refocus it "
                    "physically. Scene resolution, frame rate and range follow the footage.",
    )
    p.add_argument("file", help=".blend to open")
    p.add_argument("--footage", required=True,
                   help="image, numbered image (its sequence), folder of images, "
                   "NAME_####.png, or a movie (.mp4, .mov, ...)")
    p.add_argument("--depth",
                   help="depth per frame: float EXR (metres) or 16-bit PNG, still or sequence "
                        "(or --estimate)")
    e = p.add_argument_group("estimated depth (instead of --depth)")
    e.add_argument("--estimate", action="store_true",
                   help="estimate the depth with a depth network (ONNX Runtime); --anchor, "
                        "--near and --far then scale it to metres")
    e.add_argument("--model", default=registry.DEFAULT_MODEL,
                   help=f"registry model (default {registry.DEFAULT_MODEL}) or an .onnx path")
    e.add_argument("--model-kind", choices=[m.key for m in registry.MODELS],
                   help="registry entry whose rules a model file follows")
    solve.add_option(e)
    e.add_argument("--temporal", action="store_true", help="edge-aware temporal filter")
    e.add_argument("--no-cuts", dest="cuts", action="store_false",
                   help="one shot: do not split the clip at detected scene cuts")
    e.add_argument("--download", action="store_true",
                   help="download a registry model once (needs Blender's online access)")
    p.add_argument("--depth-kind", choices=KINDS, default="metric",
                   help="metric: planar metres; normalized: 0..1 from --near to --far; "
                        "inverse: disparity aligned by --anchor or --near/--far")
    p.add_argument("--near", type=float, help="metres at the nearest depth value")
    p.add_argument("--far", type=float, help="metres at the farthest depth value")
    p.add_argument("--anchor", action="append", default=[], metavar="X,Y=M[@F]",
                   help="pixel X,Y (origin top-left) is M metres away on frame F (0-based; "
                        "default 0; a moving shot: anchors on several frames hold the "
                        "estimate's chain); repeatable (the fit's "
                        "residual at each is reported; more than "
                        f"{100 * ANCHOR_TOLERANCE:g}%% off is refused)")
    p.add_argument("--sensor", type=float, default=DEFAULT_SENSOR_MM,
                   help="width of the frame on the sensor in mm (default 36, full frame; "
                        f"{_span(SENSOR_RANGE_MM)}); the camera keeps its sensor fit")
    p.add_argument("--focal", type=float, default=DEFAULT_FOCAL_MM,
                   help=f"focal length in mm (default 50; {_span(FOCAL_RANGE_MM)})")
    p.add_argument("--density", type=float, default=DEFAULT_DENSITY,
                   help="grid vertices per pixel along each axis (default 1: a face per pixel; "
                        "2: half-pixel grid; 0.5, 0.25: lighter, less exact at depth edges; "
                        f"{_span(DENSITY_RANGE)})")
    p.add_argument("--fill-px", type=int,
                   help="background fill radius in pixels (default 2%% of the width; "
                        f"{_span(FILL_PX_RANGE)})")
    p.add_argument("--tear", type=float, default=DEFAULT_TEAR,
                   help=f"relative depth jump that splits the plate (default 0.03; "
                        f"{_span(TEAR_RANGE)})")
    p.add_argument("--fps", type=float,
                   help="frame rate (default: the movie's, or 24 for an image sequence; "
                        f"{_span(FPS_RANGE)})")
    p.add_argument("--camera", help="camera to put the plate in front of (default: scene camera)")
    p.add_argument("--keep-range", action="store_true",
                   help="keep the scene's frame range (default: it becomes the clip's)")
    p.add_argument("--out", required=True, help="where to save the result (.blend)")
    p.set_defaults(run=run_plate)


def _span(bounds) -> str:
    return f"{bounds[0]:g} to {bounds[1]:g}"


def run_plate(args, out) -> int:
    import bpy

    from ..bl import plate

    target = check_output_file(args.out, ".blend", inputs=[args.footage, args.depth])
    request = plate_request(args, os.path.dirname(target), out)
    scene = open_blend(args.file)
    result = plate.import_plate(scene, request, progress=out.progress)
    if result.estimate is not None:
        for warning in result.estimate.warnings:
            out.warn(warning)
        out.note(result.estimate.summary())
    for warning in result.warnings:
        out.warn(warning)
    for change in result.scene_changes:
        out.note(f"scene {change}")
    for note in result.report.notes:
        out.note(note)
    bpy.context.view_layer.update()
    path = save_blend(target)
    anchors_fit = [{"anchor": fit.label, "metres": fit.metres, "fitted_m": fit.fitted_m,
                    "residual_m": fit.residual_m, "residual_pct": 100.0 * fit.relative}
                   for fit in result.report.anchors]
    out.result({"plate": result.plate, "fill": result.fill, "camera": result.camera,
                "frames": result.footage.frames, "width": result.footage.width,
                "height": result.footage.height, "warnings": list(result.warnings),
                "scene_changes": result.scene_changes, "anchors": anchors_fit,
                "cache": result.cache_dir, "saved": path},
               [result.summary(), f"saved {path}"])
    return 0


def plate_request(args, folder: str, out) -> PlateRequest:
    """The plate the arguments ask for, its cache in ``folder``; every setting is checked
    before any file is read or written. A camera solve's anchors join ``--anchor`` (a note on
    ``out`` says how many)."""
    request = PlateRequest(
        footage=args.footage, depth=args.depth, kind=args.depth_kind, near_m=args.near,
        far_m=args.far, camera=args.camera or None, sensor_mm=args.sensor,
        focal_mm=args.focal, density=args.density, tear=args.tear, fill_px=args.fill_px,
        fps=args.fps, keep_range=args.keep_range, cache_dir=cache_root(folder),
        estimate=EstimateSettings(model=args.model, model_kind=args.model_kind,
                                  temporal=args.temporal, cuts=args.cuts,
                                  download=args.download) if args.estimate else None)
    request.check()
    if bool(args.depth) == bool(args.estimate):
        raise RackFocusError("Give the depth as --depth FILE, or --estimate to estimate it "
                             "(one of the two)")
    anchors = [parse_anchor(a) for a in args.anchor]
    anchors += solve.solve_anchors(args.solve, args.footage, out)
    return dataclasses.replace(request, anchors=tuple(anchors))
