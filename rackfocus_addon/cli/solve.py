"""``--solve FILE.blend[:CLIP]``: anchors from a camera solve, shared by ``estimate`` and
``plate`` (see ``bl.solve_anchors`` and docs/camera-solve.md)."""

from __future__ import annotations

from ..depth import Anchor

HELP = ("a .blend whose movie clip is tracked and solved in Blender (CLIP: which clip, when it "
        "holds several): every bundle seen on a frame anchors that frame at its depth along "
        "the solved camera's view axis, in the solve's scale (Set Scale: those are the metres); "
        "adds to --anchor")


def add_option(parser) -> None:
    parser.add_argument("--solve", metavar="FILE.blend[:CLIP]", help=HELP)


def solve_anchors(spec: str | None, footage: str, out) -> list[Anchor]:
    """The anchors of camera solve ``spec`` on ``footage``'s pixels and frames (none without a
    solve); one note says how many and the scale used."""
    if not spec:
        return []
    from ..bl import footage as footage_io
    from ..bl.solve_anchors import read_solve

    result = read_solve(spec, footage_io.find_clip(footage))
    out.note(result.summary())
    return list(result.anchors)
