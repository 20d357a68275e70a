"""Depth plates lose nothing and say everything (issue 8): caches owned by one plate, failed
imports leaving no file, the user's camera never changed silently, whole sequences, anchors that
must agree, settings in range, and pixel marks only on measured depth inside the clip.

Footage is synthetic and tiny (48x27: a box at 2 m over a wall at 8 m), written here.
"""

from __future__ import annotations

import hashlib
import json
import os

import bpy
import numpy as np
import pytest

from helpers import add_camera
from rackfocus_addon import cli, plate_cache
from rackfocus_addon.bl import footage, plate
from rackfocus_addon.bl.subjects import check_pixel_marks, resolve_subject
from rackfocus_addon.depth import Anchor
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.marks import SubjectRef
from rackfocus_addon.plate_request import PlateRequest

W, H = 48, 27
BOX = (slice(8, 20), slice(10, 24))  # rows, columns of the near box
WALL_PX, BOX_PX = (5, 5), (16, 13)


def box_depth(wall=8.0, box=2.0, width=W, height=H) -> np.ndarray:
    z = np.full((height, width), wall, dtype=np.float32)
    z[BOX] = box
    return z


def write_png(path: str, rgb: np.ndarray) -> str:
    """An 8-bit RGB PNG of ``rgb`` (stored values in [0, 1], top row first)."""
    h, w = rgb.shape[:2]
    img = bpy.data.images.new("rf_test_png", w, h)
    px = np.ones((h, w, 4), dtype=np.float32)
    px[..., :3] = rgb
    img.pixels.foreach_set(px[::-1].ravel())
    img.filepath_raw = path
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)
    return path


def write_depth(path: str, z: np.ndarray) -> str:
    rgba = np.ones(z.shape + (4,), dtype=np.float32)
    rgba[..., 0] = z
    footage.write_exr(path, rgba)
    return path


def colour(width=W, height=H, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rgb = np.zeros((height, width, 3), dtype=np.float32)
    rgb[..., 0] = np.linspace(0.1, 0.9, width)[None, :]
    rgb[..., 1] = rng.uniform(0.2, 0.8, (height, width))
    rgb[BOX] = (0.9, 0.2, 0.1)
    return rgb


def make_shot(folder, frames=(1,), wall=8.0, size=(W, H)) -> tuple[str, str]:
    """Footage ``f_####.png`` and depth ``d_####.exr`` numbered ``frames`` in ``folder``;
    returns the first of each."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for k, n in enumerate(frames):
        paths.append((write_png(os.path.join(folder, f"f_{n:04d}.png"), colour(*size, seed=k)),
                      write_depth(os.path.join(folder, f"d_{n:04d}.exr"),
                                  box_depth(wall + k, 2.0, *size))))
    return paths[0]


def snapshot(folder) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def nothing_imported(scene) -> None:
    assert not plate.plates()
    assert plate.GROUP_NAME not in bpy.data.node_groups
    assert not [img for img in bpy.data.images if img.filepath]
    assert (scene.render.resolution_x, scene.render.resolution_y) != (W, H)


# --- 1. one cache per plate ------------------------------------------------------------------

def test_alike_named_footage_in_two_blend_files_keeps_two_caches(empty_scene, tmp_path):
    """shotA/f_0001.png and shotB/f_0001.png, plated into a.blend and b.blend in one folder:
    each plate keeps its own depth (B's import used to overwrite A's cache)."""
    a = make_shot(str(tmp_path / "shotA"), wall=8.0)
    b = make_shot(str(tmp_path / "shotB"), wall=12.0)
    proj = tmp_path / "proj"
    proj.mkdir()
    folders = {}
    for name, (color, depth) in (("a", a), ("b", b)):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.wm.save_as_mainfile(filepath=str(proj / f"{name}.blend"))
        result = plate.import_plate(bpy.context.scene, PlateRequest(color, depth))
        folders[name] = result.cache_dir
        bpy.ops.wm.save_as_mainfile(filepath=str(proj / f"{name}.blend"))
    assert folders["a"] != folders["b"]
    assert sorted(os.listdir(proj / "rackfocus_cache")) == sorted(
        os.path.basename(f) for f in folders.values())
    assert all(os.path.basename(f).startswith("f_Plate_") for f in folders.values())
    for name, wall in (("a", 8.0), ("b", 12.0)):
        bpy.ops.wm.open_mainfile(filepath=str(proj / f"{name}.blend"))
        scene = bpy.context.scene
        subject = resolve_subject(scene, scene.camera, SubjectRef("pixel", coords=WALL_PX))
        assert subject.reader.depth_at(1, *WALL_PX) == pytest.approx(wall)
    # Identical inputs share their folder (a re-import rewrites the same content).
    again = plate.import_plate(bpy.context.scene, PlateRequest(*b))
    assert again.cache_dir == folders["b"]
    assert len(os.listdir(proj / "rackfocus_cache")) == 2


# --- 2. a failed import leaves nothing --------------------------------------------------------

def test_cli_bad_fps_writes_nothing(empty_scene, tmp_path, capsys):
    color, depth = make_shot(str(tmp_path / "shot"), frames=(1, 2))
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    out = tmp_path / "new" / "plate.blend"
    capsys.readouterr()
    assert cli.main(["plate", base, "--footage", color, "--depth", depth, "--fps", "nan",
                     "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--fps" in err[0], err
    assert not (tmp_path / "new").exists()


def test_failed_import_keeps_an_existing_cache_and_leaves_no_partial_folder(empty_scene,
                                                                           tmp_path,
                                                                           monkeypatch):
    scene = empty_scene
    color, depth = make_shot(str(tmp_path / "seq"), frames=(1, 2, 3))
    cache = tmp_path / "cache"
    first = plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(cache)))
    before = snapshot(cache)
    assert len(before) == 9, before  # depth, fill and mesh for 3 frames
    # Re-importing the same inputs fails half-way through writing (the disk fills up after
    # frame 1): the existing cache is kept as it was and the partial one goes.
    real_write, written = plate_cache.write_cache_exr, []

    def full_disk(path, planes, types):
        if len(written) == 2:
            raise OSError(28, "No space left on device", path)
        written.append(path)
        real_write(path, planes, types)

    monkeypatch.setattr(plate_cache, "write_cache_exr", full_disk)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    with pytest.raises(RackFocusError, match=f"disk full: 1 MB needed in {cache}$"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(cache)))
    assert len(written) == 2 and not any(os.path.exists(p) for p in written)
    assert snapshot(cache) == before
    assert os.listdir(cache) == [os.path.basename(first.cache_dir)]
    nothing_imported(scene)
    monkeypatch.undo()
    # The last footage frame changes size: refused before anything is written.
    write_png(str(tmp_path / "seq" / "f_0003.png"), colour(W + 2, H))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    with pytest.raises(RackFocusError, match=r"Footage frame .*f_0003\.png is 50x27 but "
                                             r"the sequence's first frame \(f_0001\.png\) is "
                                             "48x27"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(cache)))
    assert snapshot(cache) == before  # same files, same bytes: never overwritten
    assert os.listdir(cache) == [os.path.basename(first.cache_dir)]  # no partial folder
    nothing_imported(scene)
    # Into a folder that did not exist: nothing is left, not even the folder.
    fresh = tmp_path / "fresh" / "rackfocus_cache"
    with pytest.raises(RackFocusError, match="f_0003"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(fresh)))
    assert not (tmp_path / "fresh").exists()


# --- 3. the user's camera ---------------------------------------------------------------------

def test_orthographic_or_shifted_camera_is_refused_untouched(empty_scene, tmp_path):
    scene = empty_scene
    color, depth = make_shot(str(tmp_path / "shot"))
    cam = add_camera(scene)
    cam.data.type = "ORTHO"
    with pytest.raises(RackFocusError, match="perspective camera"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(tmp_path / "cache")))
    assert cam.data.type == "ORTHO"
    cam.data.type = "PERSP"
    cam.data.shift_x = 0.1
    with pytest.raises(RackFocusError, match="lens shift.*set shift to 0 or use another camera"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(tmp_path / "cache")))
    assert cam.data.shift_x == pytest.approx(0.1)
    nothing_imported(scene)
    assert not (tmp_path / "cache").exists()


def test_camera_values_the_plate_sets_are_reported(empty_scene, tmp_path):
    scene = empty_scene
    color, depth = make_shot(str(tmp_path / "shot"))
    cam = add_camera(scene, lens=50.0)  # sensor 36 mm, fit AUTO, the plate's defaults
    result = plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(tmp_path / "c")))
    assert not [w for w in result.warnings if "Camera" in w]
    cam.data.lens = 35.0
    cam.data.sensor_width = 24.0
    cam.data.sensor_fit = "VERTICAL"
    cam.data.sensor_height = 10.0
    result = plate.import_plate(scene, PlateRequest(color, depth, sensor_mm=30.0,
                                                    cache_dir=str(tmp_path / "c")))
    changed = [w for w in result.warnings if "Camera 'Cam'" in w]
    assert len(changed) == 1, result.warnings
    # VERTICAL fit kept: the sensor height is what frames the footage (30 mm * 27 / 48).
    assert "sensor height 10 -> 16.875 mm" in changed[0] and "focal length 35 -> 50 mm" in \
        changed[0]
    assert "sensor width" not in changed[0]
    assert cam.data.sensor_fit == "VERTICAL" and cam.data.sensor_width == pytest.approx(24.0)
    assert cam.data.sensor_height == pytest.approx(16.875) and cam.data.lens == 50.0


# --- 4. sequences -----------------------------------------------------------------------------

def test_sequence_gaps_other_sizes_and_tiny_footage_are_refused(empty_scene, tmp_path):
    scene = empty_scene
    cache = tmp_path / "cache"
    color, depth = make_shot(str(tmp_path / "gap"), frames=(1, 2, 4))
    with pytest.raises(RackFocusError, match=r"gaps: frame\(s\) 3 missing"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(cache)))
    write_png(str(tmp_path / "gap" / "f_1.png"), colour())  # frame 1 twice: f_1 and f_0001
    with pytest.raises(RackFocusError, match=r"numbers frame\(s\) 1 twice"):
        footage.find_clip(str(tmp_path / "gap" / "f_0002.png"))
    color, depth = make_shot(str(tmp_path / "sizes"), frames=(1, 2, 3))
    write_depth(str(tmp_path / "sizes" / "d_0002.exr"), box_depth(width=24, height=13))
    with pytest.raises(RackFocusError, match=r"Depth frame .*d_0002\.exr is 24x13 but .*d_0001"
                                             r"\.exr\) is 48x27"):
        plate.import_plate(scene, PlateRequest(color, depth, cache_dir=str(cache)))
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    write_png(str(tiny / "t.png"), np.full((3, 3, 3), 0.5, np.float32))
    write_depth(str(tiny / "t.exr"), np.full((3, 3), 2.0, np.float32))
    with pytest.raises(RackFocusError, match="3x3 pixels: Blender renders at least 4x4"):
        plate.import_plate(scene, PlateRequest(str(tiny / "t.png"), str(tiny / "t.exr"),
                                               cache_dir=str(cache)))
    nothing_imported(scene)
    assert not cache.exists()


# --- 5. anchors -------------------------------------------------------------------------------

def inverse_shot(folder) -> tuple[str, str]:
    color, _ = make_shot(folder)
    z = box_depth()
    return color, write_depth(os.path.join(folder, "inv.exr"), 2.0 / z)


def test_contradictory_anchors_are_refused_and_residuals_reported(empty_scene, tmp_path,
                                                                 capsys):
    scene = empty_scene
    color, inv = inverse_shot(str(tmp_path / "shot"))
    with pytest.raises(RackFocusError, match=r"worst is anchor 5,5=2: fitted 3 m, residual "
                                             r"\+1 m \(\+50 %\), beyond the 10 % tolerance"):
        plate.import_plate(scene, PlateRequest(color, inv, "inverse",
                                               anchors=[Anchor(5, 5, 2.0), Anchor(5, 5, 6.0)],
                                               cache_dir=str(tmp_path / "cache")))
    with pytest.raises(RackFocusError, match=r"Anchor 60,5=8: pixel \(60, 5\) is outside"):
        plate.import_plate(scene, PlateRequest(color, inv, "inverse", anchors=[Anchor(60, 5, 8.0)],
                                               cache_dir=str(tmp_path / "cache")))
    holes = 2.0 / box_depth()
    holes[5, 5] = np.nan
    write_depth(str(tmp_path / "shot" / "holes.exr"), holes)
    with pytest.raises(RackFocusError, match=r"Anchor 5,5=8 lies on an unmeasured depth pixel"):
        plate.import_plate(scene, PlateRequest(color, str(tmp_path / "shot" / "holes.exr"),
                                               "inverse",
                                               anchors=[Anchor(5, 5, 8.0), Anchor(*BOX_PX, 2.0)],
                                               cache_dir=str(tmp_path / "cache")))
    nothing_imported(scene)
    assert not (tmp_path / "cache").exists()
    # Consistent anchors: each one's residual is reported (the CLI's notes and --json).
    base = str(tmp_path / "base.blend")
    bpy.ops.wm.save_as_mainfile(filepath=base)
    capsys.readouterr()
    assert cli.main(["plate", base, "--footage", color, "--depth", inv, "--depth-kind",
                     "inverse", "--anchor", "5,5=8", "--anchor", "16,13=2.02", "--anchor",
                     "30,3=7.9", "--json", "--out", str(tmp_path / "out" / "p.blend")]) == 0
    printed = capsys.readouterr()
    result = json.loads(printed.out)
    fits = {fit["anchor"]: fit for fit in result["anchors"]}
    assert set(fits) == {"5,5=8", "16,13=2.02", "30,3=7.9"}
    assert all(abs(fit["residual_pct"]) < 5.0 for fit in fits.values()), fits
    assert fits["5,5=8"]["residual_pct"] == pytest.approx(-0.63, abs=0.01)  # 7.95 m fitted
    assert fits["16,13=2.02"]["residual_m"] == pytest.approx(
        fits["16,13=2.02"]["fitted_m"] - 2.02)
    assert "anchor 16,13=2.02: fitted" in printed.err and " %)" in printed.err


# --- 6. settings out of range -----------------------------------------------------------------

@pytest.mark.parametrize("flag, value", [
    ("--focal", "inf"), ("--sensor", "inf"), ("--fps", "0"), ("--fps", "nan"),
    ("--fill-px", "-5"), ("--density", "0"), ("--density", "9"), ("--tear", "nan"),
    ("--tear", "0"), ("--near", "-1"), ("--far", "inf"), ("--near", "nan"),
])
def test_cli_settings_out_of_range_fail_before_reading_a_file(tmp_path, capsys, flag, value):
    """The .blend, footage and depth do not even exist: the setting is refused first."""
    out = tmp_path / "out" / "p.blend"
    code = cli.main(["plate", str(tmp_path / "missing.blend"), "--footage", "nope.png",
                     "--depth", "nope.exr", flag, value, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and f"{flag} must be" in err[0] and "missing.blend" not in err[0], err
    assert not (tmp_path / "out").exists()


def test_import_plate_operator_refuses_out_of_range_settings(addon, tmp_path):
    from rack_focus.operators import plate as plate_ops

    color, depth = make_shot(str(tmp_path / "shot"))
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "op.blend"))
    for props, label in (({"focal": float("inf")}, "Focal Length"),
                         ({"sensor": 0.0}, "Sensor Width"), ({"fill_px": -5}, "Fill Behind"),
                         ({"density": 100.0}, "Grid Density"), ({"fps": -1.0}, "Frame Rate"),
                         ({"near": 5.0, "far": 2.0}, "Near must be nearer than Far")):
        with pytest.raises(RuntimeError, match=label):
            bpy.ops.rackfocus.import_plate(footage=color, depth=depth, **props)
        assert not plate.plates()
        # A refused dialog comes back as typed (Blender keeps only a finished one's values).
        assert plate_ops._typed["footage"] == color and plate_ops._typed["depth"] == depth
        for name, value in props.items():
            if np.isfinite(value):  # Blender stores infinity as the largest float
                assert plate_ops._typed[name] == value
    assert not (tmp_path / "rackfocus_cache").exists()


# --- 7. pixel marks on unmeasured depth or outside the clip -----------------------------------

def test_pixel_marks_on_unmeasured_depth_are_refused(addon, tmp_path):
    color, _ = make_shot(str(tmp_path / "shot"))
    z = box_depth()
    z[2:6, 30:36] = np.nan  # unmeasured: filled from neighbours in the plate
    depth = write_depth(str(tmp_path / "shot" / "holes.exr"), z)
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "p.blend"))
    assert bpy.ops.rackfocus.import_plate(footage=color, depth=depth) == {"FINISHED"}
    scene = bpy.context.scene
    hole = resolve_subject(scene, scene.camera, SubjectRef("pixel", coords=(32, 3)))
    assert hole.reader.depth_at(1, 32, 3) == pytest.approx(8.0)  # filled, so the plate is whole
    with pytest.raises(RackFocusError, match=r"Pixel \(32, 3\) has no measured depth at frame 1 "
                                             r"\(it was filled from its neighbours\)"):
        hole.check_mark(1)
    resolve_subject(scene, scene.camera, SubjectRef("pixel", coords=WALL_PX)).check_mark(1)
    resolve_subject(scene, scene.camera, SubjectRef("pixel", coords=BOX_PX)).check_mark(40)
    with pytest.raises(RuntimeError, match="no measured depth"):
        bpy.ops.rackfocus.add_pixel_mark(x=32, y=3)
    assert bpy.ops.rackfocus.add_pixel_mark(x=5, y=5) == {"FINISHED"}


def test_pixel_marks_outside_the_clip_are_refused(empty_scene, tmp_path):
    scene = empty_scene
    scene.frame_start = 10
    color, depth = make_shot(str(tmp_path / "seq"), frames=(1, 2, 3))
    result = plate.import_plate(scene, PlateRequest(color, depth,
                                                    cache_dir=str(tmp_path / "cache")))
    cam = scene.objects[result.camera]
    subjects = [resolve_subject(scene, cam, SubjectRef("pixel", coords=WALL_PX)),
                resolve_subject(scene, cam, SubjectRef("pixel", coords=BOX_PX))]
    check_pixel_marks(subjects, [(0, 10), (1, 12)])
    for frame in (9, 13):
        with pytest.raises(RackFocusError, match=rf"Frame {frame} is outside the footage "
                                                 r"\(frames 10-12\)"):
            check_pixel_marks(subjects, [(0, 10), (1, frame)])
    # Focus held past the clip still reads its last frame (the wall of frame 3 is at 10 m).
    assert subjects[0].reader.depth_at(20, *WALL_PX) == pytest.approx(10.0)


def test_pull_refuses_pixel_marks_outside_the_clip_or_on_unmeasured_depth(empty_scene,
                                                                          tmp_path):
    from rackfocus_addon.bl import pull as pull_engine
    from rackfocus_addon.marks import Mark
    from rackfocus_addon.request import PullRequest

    scene = empty_scene
    color, depth = make_shot(str(tmp_path / "seq"), frames=(1, 2, 3))
    z = box_depth(9.0)
    z[2:6, 30:36] = np.nan  # frame 2 has a hole where frames 1 and 3 are measured
    write_depth(str(tmp_path / "seq" / "d_0002.exr"), z)
    result = plate.import_plate(scene, PlateRequest(color, depth,
                                                    cache_dir=str(tmp_path / "cache")))
    cam = scene.objects[result.camera]

    def pull(*marks):
        request = PullRequest(tuple(Mark(SubjectRef("pixel", coords=xy), frame=f)
                                    for xy, f in marks), mode="bake")
        return pull_engine.write_pull(scene, cam, request)

    with pytest.raises(RackFocusError, match=r"Frame 5 is outside the footage \(frames 1-3\)"):
        pull((WALL_PX, 1), (BOX_PX, 5))
    with pytest.raises(RackFocusError, match=r"Pixel \(32, 3\) has no measured depth at frame 2"):
        pull((BOX_PX, 1), ((32, 3), 2))
    assert pull_engine.read_record(cam) is None  # refused before anything was written
    assert pull((BOX_PX, 1), ((32, 3), 3)).mark_distances_m[1] == pytest.approx(10.0)
