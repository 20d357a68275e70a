"""Anchors from a camera solve: a solved track's marker on a solved frame is an anchor at the
bundle's planar depth; with them on every frame a camera that trucks and pushes in (depths that
really change) stays metric without a hand anchor."""

import estimate_oracles as eo
import numpy as np
import pytest

from rackfocus_addon.estimate import align, motion, solve

W, H = 96, 54
FOCAL_PX = 50.0 / 36.0 * W
FRAMES = 12


def solved_scene(matrices, truths, points=40, seed=0):
    """Tracks on the test scene: pixels of frame 0 lifted to 3D with the true depth (the
    bundles), projected into every frame where they are visible (the markers)."""
    rng = np.random.default_rng(seed)
    rays = eo.pixel_rays(W, H, FOCAL_PX)
    tracks = []
    for i in range(points):
        r, c = int(rng.integers(2, H - 2)), int(rng.integers(2, W - 2))
        cam = rays[r, c] * truths[0][r, c]
        world = matrices[0][:3, :3] @ cam + matrices[0][:3, 3]
        markers = []
        for f, (m, z) in enumerate(zip(matrices, truths)):
            local = np.linalg.inv(m) @ np.append(world, 1.0)
            depth = -local[2]
            col = local[0] / depth * FOCAL_PX + W / 2.0 - 0.5
            row = -local[1] / depth * FOCAL_PX + H / 2.0 - 0.5
            ci, ri = int(round(col)), int(round(row))
            if 0 <= ci < W and 0 <= ri < H and abs(z[ri, ci] - depth) < 0.01 * depth:
                markers.append((f + 1, (col + 0.5) / W, 1.0 - (row + 0.5) / H))
        tracks.append(solve.SolvedTrack(f"t{i}", tuple(world), tuple(markers), error=0.1 * i))
    return tracks


def test_markers_become_anchors_at_the_bundles_planar_depth():
    matrices = eo.moving_camera(FRAMES, (0.05, 0.02, 0.0))
    truths = [eo.render_depth(m, W, H, FOCAL_PX) for m in matrices]
    tracks = solved_scene(matrices, truths)
    cameras = {f + 1: m for f, m in enumerate(matrices)}
    anchors = solve.anchors_from_solve(tracks, cameras, W, H, max_per_frame=100)
    assert {a.frame for a in anchors} == set(range(FRAMES))
    for a in anchors:
        r, c = int(round(a.y)), int(round(a.x))
        assert a.metres == pytest.approx(truths[a.frame][r, c], rel=0.01)
    # At most a dozen a frame, the smallest reprojection errors first; none off the solve.
    kept = solve.anchors_from_solve(tracks, cameras, W, H)
    assert max(sum(1 for a in kept if a.frame == f) for f in range(FRAMES)) == 12
    assert solve.anchors_from_solve(tracks, {1: matrices[0]}, W, H)[-1].frame == 0
    behind = solve.SolvedTrack("b", (0.0, -5.0, 0.0), ((1, 0.5, 0.5),))
    assert solve.anchors_from_solve([behind], cameras, W, H) == []


def test_a_solve_holds_a_travelling_camera_on_every_frame():
    matrices = eo.moving_camera(FRAMES, (0.05, 0.04, 0.0))
    truths = [eo.render_depth(m, W, H, FOCAL_PX) for m in matrices]
    estimates, _ = eo.fake_estimates(truths, seed=3, noise=0.0)
    transforms = [link.transform for link in motion.chain(estimates)]
    anchors = solve.anchors_from_solve(solved_scene(matrices, truths),
                                       {f + 1: m for f, m in enumerate(matrices)}, W, H)
    samples = []
    for a in anchors:
        col, row = align.low_res_pixel(a.x, a.y, W, H, W, H)
        value = float(transforms[a.frame].apply(float(estimates[a.frame][row, col])))
        samples.append(align.AnchorSample(a.spec(), value, a.metres, a.frame))
    alignment = align.align_segment(0, FRAMES, samples)
    errors = [eo.median_relative_error(1.0 / alignment.inverse_depth(
        t.apply(e.astype(np.float64)), k), z)
        for k, (t, e, z) in enumerate(zip(transforms, estimates, truths))]
    first_only = align.align_segment(0, FRAMES, [s for s in samples if s.frame == 0])
    last = eo.median_relative_error(1.0 / first_only.inverse_depth(
        transforms[-1].apply(estimates[-1].astype(np.float64)), FRAMES - 1), truths[-1])
    print(f"\nsolve anchors on every frame of a truck and push-in: worst frame "
          f"{100 * max(errors):.3f} %; frame 0's anchors alone: last frame {100 * last:.2f} %")
    assert max(errors) < 0.002
    assert last > 0.01
