"""CLI verb ``batch``: build and render every shot of a shot list (TOML).

    rackfocus batch SHOTS.toml [--only SHOT ...] [--force] [--frames LIST] [--build-only]
        [--check]

The shot list is validated whole before anything runs: every problem of every shot is printed,
one line each naming the shot and key, and the exit status is 2. Then each shot is built, saved
as OUTPUT/NAME.blend (farm-safe, checked), rendered and finished (movie, contact sheet, focus
plot); a shot that fails is reported and the batch goes on. Running the same batch again
resumes: finished frames are kept (``--force`` re-renders them). A summary table (shot, status,
frames, time) ends the run; ``--json`` prints it as one JSON object.

Exit status: the number of failed shots (0: all done; at most 125), 2 for a shot list that does
not validate, 130 when Ctrl-C stopped the batch (after the frame being rendered).
"""

from __future__ import annotations

import argparse

from ..frames import parse_frame_list
from ..shot_schema import load_shot_list
from ..shots import Shot, ShotList, ShotListError
from .common import FarmSteps


def add_verbs(sub, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser(
        "batch", parents=[common], help="build and render every shot of a shot list (TOML)",
        description="Build, save (farm-safe), render and finish every shot of a shot list. "
                    "The list is checked whole first; a failing shot is reported and the batch "
                    "goes on; a re-run resumes where the last one stopped. Exit status: the "
                    "number of failed shots (2: the shot list does not validate; 130: "
                    "interrupted).",
    )
    b.add_argument("shots", metavar="SHOTS.toml", help="the shot list")
    b.add_argument("--only", nargs="+", action="extend", metavar="SHOT",
                   help="run only these shots (by name; repeatable); problems of other shots "
                        "are then warnings")
    b.add_argument("--force", action="store_true",
                   help="rebuild every shot and re-render frames that already exist")
    b.add_argument("--frames", metavar="LIST",
                   help="render only these frames of each shot, Blender style (1-12 or "
                        "1,12,40-48): a chunk for a render farm; the movie, contact sheet and "
                        "plot are made by the run that completes the shot")
    b.add_argument("--build-only", action="store_true",
                   help="build and save each shot's .blend (plate, pull, render settings), "
                        "render nothing: the first task of a farm job")
    b.add_argument("--check", action="store_true",
                   help="only check the shot list (files, scenes, cameras, subjects) and stop")
    b.add_argument("--steps", type=int, default=0, metavar="N",
                   help="print N progress lines a render farm counts as steps ('Time: ...', "
                        "what Flamenco's Worker counts), the last when the run ends well")
    b.set_defaults(run=run_batch)


def run_batch(args, out) -> int:
    from ..bl import batch

    frames = tuple(parse_frame_list(args.frames)) if args.frames else None
    try:
        shot_list = load_shot_list(args.shots)
    except ShotListError as err:
        valid = {s.name for s in err.valid.shots} if err.valid is not None else set()
        if args.only and not err.general and set(args.only) <= valid:
            # The shots asked for are fine: another shot's problem must not stop them (one
            # typo in a shared list would otherwise stop every farm job of it).
            for line in err.errors:
                out.warn(f"{line} (ignored: only {', '.join(args.only)} run)")
            shot_list = err.valid
        else:
            # Report the Blender-side problems of the shots that did validate in the same run.
            errors = list(err.errors)
            if err.valid is not None and err.valid.shots:
                try:
                    batch.check_shots(_selected(err.valid, args.only), err.valid.path)
                except ShotListError as more:
                    errors += more.errors
            for line in errors:
                out.error(line)
            return 2
    try:
        shots = shot_list.select(args.only)
        if args.check:
            batch.check_shots(shots, shot_list.path)
            data = {"shot_list": shot_list.path, "valid": True,
                    "shots": [s.to_dict() for s in shots]}
            out.result(data, [f"{shot_list.path}: {len(shots)} shot(s), all valid"])
            return 0
        options = batch.BatchOptions(force=args.force, frames=frames,
                                     build_only=args.build_only)
        if args.steps > 0:
            out.steps = FarmSteps(args.steps, out.say)
        with out.heartbeat():
            report = batch.run_batch(shot_list, args.only, options, out)
        if out.steps is not None and not report.failed and not report.interrupted:
            out.steps.finish()
    except ShotListError as err:
        for line in err.errors:
            out.error(line)
        return 2
    out.result(report.to_dict(), report.table())
    return report.exit_code()


def _selected(shot_list: ShotList, names: list[str] | None) -> list[Shot]:
    """The shots of ``shot_list`` named in ``names`` that exist (all when none is named)."""
    wanted = set(names or ())
    return [s for s in shot_list.shots if not wanted or s.name in wanted]
