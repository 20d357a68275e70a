"""Anchors from a camera solve, the pure maths (estimate/solve.py): view-axis depth, marker to
pixel, clip frame to depth frame, the solve's scale, and what is left out."""

import math
import re

import numpy as np
import pytest
import solve_truth as truth

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.estimate import solve


def test_view_depth_is_planar_depth_along_the_cameras_minus_z():
    # A camera at (1, 2, 3) looking down +Y (rotated 90 degrees about X): depth is the Y
    # distance, whatever the point's sideways offset (planar, not Euclidean).
    cam = np.eye(4)
    cam[:3, :3] = [[1, 0, 0], [0, 0, -1], [0, 1, 0]]
    cam[:3, 3] = (1.0, 2.0, 3.0)
    pts = np.array([[1.0, 7.0, 3.0], [5.0, 7.0, -1.0], [1.0, 0.0, 3.0]])
    assert np.allclose(solve.view_depth(cam, pts), [5.0, 5.0, -2.0])


def test_view_depth_matches_the_truths_own_projection_on_a_moving_camera():
    pts = truth.points()
    for frame in (1, 9, 24):
        assert np.allclose(solve.view_depth(truth.camera_world(frame), pts),
                           truth.view_depth(frame, pts), rtol=1e-12)


def test_marker_to_pixel_flips_y_and_puts_integers_at_pixel_centres():
    assert solve.marker_pixel(0.5, 0.5, 320, 180) == (159.5, 89.5)  # the frame's centre
    assert solve.marker_pixel(0.5 / 320, 1.0 - 0.5 / 180, 320, 180) == pytest.approx((0.0, 0.0))
    assert solve.marker_pixel(1.0, 0.0, 320, 180) == (319.5, 179.5)   # bottom-right corner


def test_clip_frames_map_to_depth_frames_by_offset_and_file_shift():
    assert solve.depth_frame(1) == 0
    assert solve.depth_frame(24) == 23
    assert solve.depth_frame(1, frame_offset=5) == 5
    assert solve.depth_frame(3, frame_offset=-2, file_shift=10) == 10


@pytest.mark.parametrize("text, expected", [
    ("shot.blend", ("shot.blend", None)),
    ("track/shot.blend:Clip 2", ("track/shot.blend", "Clip 2")),
    ("C:\\shots\\a.BLEND:plate.mov", ("C:\\shots\\a.BLEND", "plate.mov")),
    ("shot.blend:", ("shot.blend", None)),
])
def test_solve_spec(text, expected):
    assert solve.parse_solve_spec(text) == expected


@pytest.mark.parametrize("text", ["", "shot.txt", "shot.blend1:Clip"])
def test_bad_solve_spec_is_one_line_saying_what_to_write(text):
    with pytest.raises(RackFocusError, match=r"write FILE\.blend or FILE\.blend:CLIP") as err:
        solve.parse_solve_spec(text)
    assert "\n" not in str(err.value)


def test_uniform_scale_and_uneven_scale_refused():
    m = np.diag([2.5, 2.5, 2.5, 1.0])
    assert solve.uniform_scale(m) == pytest.approx(2.5)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) * 0.4
    assert solve.uniform_scale(rot) == pytest.approx(0.4)
    with pytest.raises(RackFocusError, match="scaled unevenly"):
        solve.uniform_scale(np.diag([1.0, 1.0, 1.01]))


def _observations(pts, frames, unit=1.0):
    """Exact markers of ``pts`` on ``frames``, bundles in solve units of ``unit`` metres."""
    return [solve.Observation(f, float(u), float(v), f"P{i}", tuple(pts[i] / unit))
            for f in frames for i, (u, v) in enumerate(truth.project(f, pts))]


def test_anchors_from_an_exact_solve_are_the_truth_in_metres_at_the_markers_pixels():
    pts = truth.points(8)
    frames = range(1, truth.FRAMES + 1)
    # The solve in its own units (half the metres), scale 2 from Set Scale.
    half = {f: truth.camera_world(f) @ np.diag([1, 1, 1, 1.0]) for f in frames}
    for m in half.values():
        m[:3, 3] *= 0.5
    result = solve.anchors_from_solve(half, _observations(pts, frames, 2.0), truth.WIDTH,
                                      truth.HEIGHT, scale=2.0)
    assert len(result.anchors) == 8 * truth.FRAMES and result.tracks == 8
    assert result.frames == truth.FRAMES and not result.skipped
    for a in result.anchors:
        f = a.frame + 1
        uv = truth.project(f, pts)
        i = int(np.argmin(np.hypot(uv[:, 0] * truth.WIDTH - 0.5 - a.x,
                                   (1 - uv[:, 1]) * truth.HEIGHT - 0.5 - a.y)))
        assert a.metres == pytest.approx(truth.view_depth(f, pts[i:i + 1])[0], rel=1e-12)


def test_markers_without_a_camera_outside_the_frame_behind_or_beyond_the_footage_left_out():
    pts = truth.points(4)
    cams = {f: truth.camera_world(f) for f in (1, 2, 3)}  # frame 4 has no solved camera
    obs = _observations(pts, (1, 2, 3, 4))
    obs.append(solve.Observation(1, 1.2, 0.5, "off", tuple(pts[0])))
    behind = truth.camera_world(1)[:3, 3] + 2.0 * truth.camera_world(1)[:3, 2]  # along +Z
    obs.append(solve.Observation(1, 0.5, 0.5, "behind", tuple(behind)))
    result = solve.anchors_from_solve(cams, obs, 320, 180, frame_offset=1, frame_count=3)
    # frame_offset 1: clip frames 1, 2 -> depth frames 1, 2; clip frame 3 -> 3, beyond 3 frames.
    assert sorted({a.frame for a in result.anchors}) == [1, 2]
    assert result.skipped == {"on frames the solve has no camera for": 4,
                              "on frames outside the footage": 4,
                              "outside the frame": 1, "behind the solved camera": 1}
    assert "left out:" in result.summary() and "\n" not in result.summary()


def test_solve_size_must_have_the_footages_aspect():
    solve.check_solve_size((960, 540), (1920, 1080))   # a half-size proxy is the same footage
    with pytest.raises(RackFocusError, match="aspect ratios differ"):
        solve.check_solve_size((1920, 1080), (1440, 1080))
    with pytest.raises(RackFocusError, match="cannot be read"):
        solve.check_solve_size((0, 0), (1920, 1080))
    assert math.isfinite(truth.scale_distance(truth.points(2)))


def _shots(tmp_path, shot: str):
    from rackfocus_addon.shot_schema import parse_shot_list

    (tmp_path / "track").mkdir(exist_ok=True)
    (tmp_path / "track" / "shot.blend").write_bytes(b"")
    text = f'[[shot]]\nname = "a"\nmarks = ["px:10,10@1"]\n{shot}\n'
    return parse_shot_list(text, str(tmp_path / "shots.toml"))


def test_shot_list_solve_is_a_blend_and_clip_relative_to_the_list(tmp_path):
    shots, errors = _shots(tmp_path, 'footage = "f.png"\ndepth = "estimate"\n'
                                     'solve = "track/shot.blend:Clip 1"')
    assert errors == []
    assert shots.shots[0].solve == str(tmp_path / "track" / "shot.blend") + ":Clip 1"
    # Inverse depth needs anchors or near/far, and a solve gives anchors.
    shots, errors = _shots(tmp_path, 'footage = "f.png"\ndepth = "d.png"\n'
                                     'solve = "track/shot.blend"\n[shot.plate]\n'
                                     'depth_kind = "inverse"')
    assert errors == [] and shots.shots[0].solve == str(tmp_path / "track" / "shot.blend")


@pytest.mark.parametrize("shot, message", [
    ('footage = "f.png"\ndepth = "estimate"\nsolve = "track/other.blend"',
     "key 'solve': no such file: .*other.blend"),
    ('footage = "f.png"\ndepth = "estimate"\nsolve = "track/shot.txt"',
     "key 'solve' is 'track/shot.txt', not FILE.blend or FILE.blend:CLIP"),
    ('scene = "track/shot.blend"\nsolve = "track/shot.blend"',
     "key 'solve' anchors footage: add footage"),
])
def test_shot_list_solve_mistakes_name_the_key_and_the_fix(tmp_path, shot, message):
    _shots_list, errors = _shots(tmp_path, shot)
    assert len(errors) == 1 and re.search(message, errors[0]), errors
