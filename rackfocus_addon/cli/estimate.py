"""CLI verb ``estimate``: metric depth for footage from a depth network (ONNX Runtime).

    rackfocus estimate --footage SHOT --out DIR [--model NAME|PATH] [--model-kind KEY]
        [--anchor X,Y=M[@F] ...] [--size X1,Y1:X2,Y2=M[@F] ...] [--near M --far M]
        [--solve FILE.blend[:CLIP]] [--sensor MM --focal MM] [--temporal] [--no-cuts]
        [--short-side PX] [--download]
    rackfocus estimate --models

Writes ``DIR/depth_0001.exr`` ... (planar metres, what ``plate --depth DIR/depth_0001.exr
--depth-kind metric`` reads) and ``DIR/estimate.json``. Running it again with the same settings
does nothing; after a stop it finishes the missing frames; new anchors re-align the cached
network output without running the network again.
"""

from __future__ import annotations

import argparse

from ..depth import DEPTH_RANGE_M, FOCAL_RANGE_MM, SENSOR_RANGE_MM, parse_anchor
from ..errors import RackFocusError
from ..estimate import align, preprocess, registry
from ..estimate.request import EstimateRequest
from ..limits import usable_threads
from . import solve
from .common import MAX_RESOLUTION, check_output_folder, number

#: The most ONNX Runtime threads asked for at all (more than any machine's cores are capped).
MAX_THREADS = 1_000_000


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "estimate", parents=[common], help="estimate metric depth for footage (ONNX Runtime)",
        description="Estimate a depth map per frame of footage (still, image sequence or "
                    "movie) with a depth network, align it to metres against anchors (one fit "
                    "per shot, stable over time) and write float EXRs of planar depth.",
    )
    p.add_argument("--footage", help="image, numbered image (its sequence), folder of images, "
                                     "NAME_####.png, or a movie")
    p.add_argument("--out", help="folder for depth_####.exr and estimate.json")
    p.add_argument("--model", default=registry.DEFAULT_MODEL,
                   help=f"registry model (default {registry.DEFAULT_MODEL}; NAME:int8 or "
                        "NAME:fp16 for smaller variants), a path to an .onnx file, or a folder "
                        "holding a video model's encoder.onnx and head.onnx")
    p.add_argument("--model-kind", choices=[e.key for e in registry.MODELS],
                   help="registry entry whose rules a model file follows (default: "
                        f"{registry.DEFAULT_MODEL}, or vda-small for a video-window model)")
    p.add_argument("--anchor", action="append", default=[], metavar="X,Y=M[@F]",
                   help="pixel X,Y (origin top-left) of frame F (from 0, default 0) is M metres "
                        "away; repeatable")
    p.add_argument("--size", action="append", default=[], metavar="X1,Y1:X2,Y2=M[@F]",
                   help="an object M metres long, facing the camera, spans these two pixels "
                        "(e.g. a person's head to feet); repeatable")
    solve.add_option(p)
    p.add_argument("--near", type=number(*DEPTH_RANGE_M, "--near"),
                   help="metres to the nearest thing in the shot")
    p.add_argument("--far", type=number(*DEPTH_RANGE_M, "--far"),
                   help="metres to the farthest thing in the shot")
    p.add_argument("--sensor", type=number(*SENSOR_RANGE_MM, "--sensor"), default=36.0,
                   help="sensor width in mm (default 36, full frame)")
    p.add_argument("--focal", type=number(*FOCAL_RANGE_MM, "--focal"), default=50.0,
                   help="focal length in mm (default 50)")
    p.add_argument("--temporal", action="store_true",
                   help="edge-aware temporal filter (calmer still surfaces)")
    p.add_argument("--no-cuts", dest="cuts", action="store_false",
                   help="one shot: do not split the clip at detected scene cuts")
    p.add_argument("--short-side", type=number(preprocess.PATCH_PX, MAX_RESOLUTION,
                                               "--short-side", whole=True), default=518,
                   help="network input short side in pixels (default 518)")
    p.add_argument("--threads", type=number(0, MAX_THREADS, "--threads", whole=True), default=0,
                   help="ONNX Runtime threads (default 0: all cores; more than the machine "
                        "has are capped to its cores)")
    p.add_argument("--download", action="store_true",
                   help="download a registry model once (needs Blender's online access)")
    p.add_argument("--models", action="store_true",
                   help="list the models (and the ones not offered, with their licences)")
    p.set_defaults(run=run_estimate)


def run_estimate(args, out) -> int:
    from ..bl import estimation
    from ..bl import footage as footage_io

    if args.models:
        rows, excluded = estimation.model_rows(), estimation.excluded_rows()
        lines = []
        for row in rows:
            files = ", ".join(f"{f['variant']} {f['size_mb']:g} MB"
                              + (" (downloaded)" if f["downloaded"] else "")
                              for f in row["files"]) or "no verified download: --model PATH"
            lines.append(f"{row['key']:18s} {row['title']} [{row['output']}, {row['layout']}; "
                         f"{row['licence_weights']}]: {files}")
        lines += [f"{'not offered':18s} {x['name']}: {x['licence']}" for x in excluded]
        out.result({"models": rows, "excluded": excluded}, lines)
        return 0
    if not args.footage or not args.out:
        raise RackFocusError("estimate needs --footage SHOT and --out DIR (or --models)")
    check_output_folder(args.out)
    threads, capped = usable_threads(args.threads)
    if capped:
        out.note(capped)
    anchors = [parse_anchor(a) for a in args.anchor]
    if args.size:
        clip = footage_io.find_clip(args.footage)
        focal = registry.focal_px(args.focal, args.sensor, clip.width, clip.height,
                                  "HORIZONTAL")
        anchors += [align.parse_size(s, focal) for s in args.size]
    anchors += solve.solve_anchors(args.solve, args.footage, out)
    request = EstimateRequest(
        footage=args.footage, out_dir=args.out, model=args.model, model_kind=args.model_kind,
        anchors=tuple(anchors), near_m=args.near, far_m=args.far, sensor_mm=args.sensor,
        focal_mm=args.focal, temporal=args.temporal, cuts=args.cuts,
        short_side_px=args.short_side, threads=threads, download=args.download)
    result = estimation.estimate_depth(request, progress=out.progress)
    for warning in result.warnings:
        out.warn(warning)
    lines = [result.summary()]
    for a in result.segments:
        for fit in a.anchors:
            lines.append(f"  anchor {fit.label}: "
                         f"{fit.metres:g} m given, {fit.fitted_m:.3g} m fitted "
                         f"({100 * fit.residual:+.1f}%)")
        lines += [f"  {st.describe()}" for st in a.stretches]
    out.result(result.to_dict(), lines)
    return 0
