"""Issue 8, "nothing lost, nothing silent": a user's mistake is one line on stderr and exit 2,
found before any work is done; nothing renders black with exit 0.

Root ignores file permissions, so read-only outputs are made real (a folder that is a file) or
by mocking ``os.access``, never by chmod alone.
"""

import json
import math
import os
import time

import bpy
import numpy as np
import pytest

from helpers import add_camera, create_pull, saved_two_subject_shot, two_subject_scene
from rackfocus_addon import cli
from rackfocus_addon.bl import pull as pull_engine
from rackfocus_addon.bl.files import save_blend
from rackfocus_addon.bl.render import load_rgba
from rackfocus_addon.cli import build_parser, join_dash_values, main
from rackfocus_addon.cli import plate as cli_plate
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.frames import MAX_FRAME
from rackfocus_addon.marks import parse_mark
from rackfocus_addon.plate_request import PlateRequest


@pytest.fixture
def shot(empty_scene, tmp_path):
    return saved_two_subject_shot(empty_scene, tmp_path)


def error_line(capsys) -> str:
    """The one stderr line of a refusal (fails unless there is exactly one, an error)."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rackfocus: error: "), err
    return err[0]


def _no_work(*_args, **_kwargs):
    raise AssertionError("the work ran before the output was checked")


# --- 1. frames outside Blender's range, unwritable outputs --------------------------------------

@pytest.mark.parametrize("marks", [
    ["Near@1", "Far@99999999999"],          # MemoryError once
    ["Near@1", f"Far@{MAX_FRAME + 1}"],
    ["Far@-1048575", "Near@1"],
    ["Near@1", "Far@10000000"],             # a 37 s pull once
])
def test_marks_outside_blenders_frame_range_are_refused_at_once(shot, tmp_path, capsys, marks):
    out = str(tmp_path / "out.blend")
    argv = ["pull", shot, "--mode", "bake", "--out", out]
    for mark in marks:
        argv += ["--mark", mark]
    start = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - start < 10.0
    line = error_line(capsys)
    assert "outside Blender's frame range -1048574..1048574" in line, line
    assert not os.path.exists(out)


def test_a_timeline_marker_outside_the_frame_range_is_refused(empty_scene):
    """Blender clamps markers when it loads a file, but Python can put one anywhere."""
    cam = two_subject_scene(empty_scene)
    empty_scene.timeline_markers.new("late", frame=10).frame = 2_000_000
    start = time.monotonic()
    with pytest.raises(RackFocusError, match=r"frame 2000000 is outside Blender's frame range "
                                             r"-1048574\.\.1048574"):
        create_pull(empty_scene, cam, [parse_mark("Near@1"), parse_mark("Far@marker:late")],
                    mode="bake")
    assert time.monotonic() - start < 10.0
    assert pull_engine.read_record(cam) is None


def test_out_under_a_regular_file_is_refused_before_the_pull(shot, tmp_path, capsys,
                                                             monkeypatch):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    monkeypatch.setattr(pull_engine, "write_pull", _no_work)
    out = str(blocker / "sub" / "out.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", out]) == 2
    line = error_line(capsys)
    assert f"{blocker} is a file, not a folder" in line, line
    assert blocker.read_text() == "not a folder"


def _read_only(monkeypatch, *paths):
    """Make ``os.access`` say ``paths`` (and what is below them) cannot be written."""
    real = os.access
    blocked = [os.path.abspath(str(p)) for p in paths]

    def access(path, mode, *args, **kwargs):
        full = os.path.abspath(os.fspath(path))
        if mode & os.W_OK and any(full == b or full.startswith(b + os.sep) for b in blocked):
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_out_in_a_read_only_folder_is_refused_before_the_pull(shot, tmp_path, capsys,
                                                              monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    _read_only(monkeypatch, folder)
    monkeypatch.setattr(pull_engine, "write_pull", _no_work)
    out = str(folder / "out.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", out]) == 2
    assert f"folder {folder} is read-only" in error_line(capsys)
    assert not os.listdir(folder)


@pytest.mark.parametrize("verb", ["pull", "clear"])
def test_out_onto_a_read_only_file_is_refused_before_the_work(shot, tmp_path, capsys,
                                                              monkeypatch, verb):
    existing = tmp_path / "old.blend"
    existing.write_bytes(b"keep me")
    _read_only(monkeypatch, existing)
    monkeypatch.setattr(pull_engine, "write_pull", _no_work)
    monkeypatch.setattr(pull_engine, "clear_pull", _no_work)
    marks = ["--mark", "Near@1", "--mark", "Far@9"] if verb == "pull" else []
    assert main([verb, shot, *marks, "--out", str(existing)]) == 2
    assert "the file is read-only" in error_line(capsys)
    assert existing.read_bytes() == b"keep me"


def test_export_and_describe_outputs_are_checked_before_the_work(shot, tmp_path, capsys):
    pulled = str(tmp_path / "pulled.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", pulled]) == 0
    capsys.readouterr()
    blocker = tmp_path / "flat"
    blocker.write_text("x")
    assert main(["export", pulled, "--out", str(blocker / "focus")]) == 2
    assert "is a file, not a folder" in error_line(capsys)
    assert main(["describe", pulled, "--out", str(blocker / "d.txt")]) == 2
    assert "is a file, not a folder" in error_line(capsys)
    # A folder that does not exist yet is made.
    assert main(["describe", pulled, "--out", str(tmp_path / "new" / "d.txt")]) == 0
    assert (tmp_path / "new" / "d.txt").read_text().strip()


def test_out_equal_to_the_input_keeps_exactly_one_backup(shot, tmp_path):
    original = open(shot, "rb").read()
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", shot]) == 0
    assert open(shot + "1", "rb").read() == original  # the input, as it was
    assert not os.path.exists(shot + "2")
    pulled = open(shot, "rb").read()
    bpy.ops.wm.open_mainfile(filepath=shot)
    assert pull_engine.read_record(bpy.context.scene.camera) is not None
    # Again: the backup is now the pulled file, and there is still one.
    assert main(["clear", shot, "--out", shot]) == 0
    assert open(shot + "1", "rb").read() == pulled
    assert not os.path.exists(shot + "2")
    bpy.ops.wm.open_mainfile(filepath=shot)
    assert pull_engine.read_record(bpy.context.scene.camera) is None


def test_render_out_onto_an_existing_file_is_refused(shot, tmp_path, capsys):
    target = tmp_path / "frames"
    target.write_bytes(b"a file")
    assert main(["render", shot, "--out", str(target), "--frames", "1", "--samples", "1",
                 "--resolution", "16x9"]) == 2
    assert "it is a file, not a folder" in error_line(capsys)
    assert target.read_bytes() == b"a file"


# --- 2. render refuses missing footage ----------------------------------------------------------

def _save_png(path, size=(4, 4), value=0.5):
    img = bpy.data.images.new("tmp_png", *size)
    img.pixels.foreach_set(np.full(size[0] * size[1] * 4, value, dtype=np.float32))
    img.filepath_raw = str(path)
    img.file_format = "PNG"
    img.save()
    bpy.data.images.remove(img)


def _textured_plane(scene, image, frames=None):
    """A plane in front of the camera whose material shows ``image`` (a sequence of
    ``frames`` frames when given)."""
    mesh = bpy.data.meshes.new("Plane")
    mesh.from_pydata([(-1, 3, -1), (1, 3, -1), (1, 3, 1), (-1, 3, 1)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("Plane", mesh)
    scene.collection.objects.link(obj)
    mat = bpy.data.materials.new("Footage")
    if mat.node_tree is None:
        mat.use_nodes = True
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = image
    if frames:
        image.source = "SEQUENCE"
        tex.image_user.frame_duration = frames
        tex.image_user.frame_start = 1
    mesh.materials.append(mat)
    return obj


def test_render_refuses_a_file_whose_footage_was_moved(empty_scene, tmp_path, capsys):
    two_subject_scene(empty_scene)
    os.makedirs(tmp_path / "footage")
    _save_png(tmp_path / "footage" / "plate.png")
    image = bpy.data.images.load(str(tmp_path / "footage" / "plate.png"))
    _textured_plane(empty_scene, image)
    shot = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=shot, relative_remap=True)
    bpy.ops.file.make_paths_relative()
    bpy.ops.wm.save_mainfile()
    os.rename(tmp_path / "footage", tmp_path / "moved")
    frames = tmp_path / "frames"
    assert main(["render", shot, "--out", str(frames), "--frames", "1", "--samples", "1",
                 "--resolution", "16x9"]) == 2
    line = error_line(capsys)
    assert "points to a missing file: //footage/plate.png" in line, line
    assert f"'rackfocus check {shot}' lists every missing file" in line, line
    assert not frames.exists()
    assert main(["check", shot]) == 3
    assert "missing file: //footage/plate.png" in capsys.readouterr().err


def test_render_refuses_a_sequence_with_a_missing_frame(empty_scene, tmp_path, capsys):
    two_subject_scene(empty_scene)
    for i in (1, 2, 3):
        _save_png(tmp_path / f"seq_{i:04d}.png", value=0.2 * i)
    image = bpy.data.images.load(str(tmp_path / "seq_0001.png"))
    _textured_plane(empty_scene, image, frames=3)
    shot = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=shot, relative_remap=True)
    os.remove(tmp_path / "seq_0002.png")
    assert main(["render", shot, "--out", str(tmp_path / "frames"), "--frames", "1",
                 "--samples", "1", "--resolution", "16x9"]) == 2
    line = error_line(capsys)
    assert "seq_0002.png" in line and "rackfocus check" in line, line
    assert main(["check", shot]) == 3


def test_render_refuses_a_plate_whose_cache_lost_a_frame(empty_scene, tmp_path, capsys):
    from rackfocus_addon.bl import footage, plate

    add_camera(empty_scene)
    for i in (1, 2):
        _save_png(tmp_path / f"color_{i:04d}.png", size=(8, 4))
        depth = np.ones((4, 8, 4), dtype=np.float32)
        depth[..., 0] = 3.0
        footage.write_exr(str(tmp_path / f"depth_{i:04d}.exr"), depth)
    shot = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=shot)
    plate.import_plate(empty_scene, PlateRequest(str(tmp_path / "color_0001.png"),
                      str(tmp_path / "depth_0001.exr"), cache_dir=str(tmp_path / "cache")))
    save_blend(shot)
    assert main(["check", shot]) == 0
    capsys.readouterr()
    cached = [os.path.join(root, f) for root, _dirs, files in os.walk(tmp_path / "cache")
              for f in files if f == "depth_0002.exr"]
    assert len(cached) == 1
    os.remove(cached[0])
    assert main(["render", shot, "--out", str(tmp_path / "frames"), "--frames", "1",
                 "--samples", "1", "--resolution", "16x9"]) == 2
    line = error_line(capsys)
    assert "depth_0002.exr" in line and "rackfocus check" in line, line


# --- 3. render --camera ---------------------------------------------------------------------------

def _two_camera_shot(scene, tmp_path):
    """'Cam' (the scene camera) looks at nothing; 'Side' looks at a white plane."""
    cam = add_camera(scene, "Cam")
    side = add_camera(scene, "Side", location=(0.0, 0.0, 50.0))
    side.rotation_euler = (0.0, 0.0, 0.0)  # looks down -Z at the plane below it
    side.data.type = "ORTHO"  # renders fine (pulls would refuse it)
    scene.camera = cam
    mesh = bpy.data.meshes.new("Floor")
    mesh.from_pydata([(-20, -20, 0), (20, -20, 0), (20, 20, 0), (-20, 20, 0)], [],
                     [(0, 1, 2, 3)])
    floor = bpy.data.objects.new("Floor", mesh)
    scene.collection.objects.link(floor)
    path = str(tmp_path / "two.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    return path


def _render(argv, folder, capsys):
    """Render frame 1 with workbench: (mean brightness, the --json result)."""
    capsys.readouterr()
    assert main(argv + ["--out", folder, "--frames", "1", "--engine", "workbench",
                        "--resolution", "16x9", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return float(load_rgba(os.path.join(folder, "frame_0001.png"))[..., :3].mean()), data


def test_render_camera_renders_from_that_camera(empty_scene, tmp_path, capsys):
    shot = _two_camera_shot(empty_scene, tmp_path)
    scene_cam, data = _render(["render", shot], str(tmp_path / "a"), capsys)
    assert data["camera"] == "Cam"
    side, data = _render(["render", shot, "--camera", "Side"], str(tmp_path / "b"), capsys)
    assert data["camera"] == "Side"
    assert abs(side - scene_cam) > 0.05, (scene_cam, side)
    # A timeline marker bound to the scene camera does not switch --camera back.
    bpy.ops.wm.open_mainfile(filepath=shot)
    marker = bpy.context.scene.timeline_markers.new("cut", frame=1)
    marker.camera = bpy.context.scene.objects["Cam"]
    bpy.ops.wm.save_mainfile()
    bound, _ = _render(["render", shot, "--camera", "Side"], str(tmp_path / "c"), capsys)
    assert math.isclose(bound, side, abs_tol=1e-6)
    bpy.ops.wm.open_mainfile(filepath=shot)
    assert bpy.context.scene.timeline_markers["cut"].camera.name == "Cam"


@pytest.mark.parametrize("name,needle", [
    ("Sied", "No camera named 'Sied' in scene 'Scene'; did you mean 'Side'?"),
    ("Floor", "'Floor' is a mesh object, not a camera (cameras: Cam, Side)"),
])
def test_render_camera_refuses_what_is_not_a_camera(empty_scene, tmp_path, capsys, name,
                                                     needle):
    shot = _two_camera_shot(empty_scene, tmp_path)
    folder = tmp_path / "frames"
    assert main(["render", shot, "--camera", name, "--out", str(folder)]) == 2
    assert needle in error_line(capsys)
    assert not folder.exists()


def test_render_help_says_which_camera_renders(capsys):
    assert main(["render", "--help"]) == 0
    assert "default: the scene camera" in " ".join(capsys.readouterr().out.split())


# --- 4. values that cannot be right fail at parse time, before the file is opened ----------------

@pytest.mark.parametrize("argv,message", [
    (["render", "--samples", "-5"], "--samples -5 is out of range: use 1 to 16777216"),
    (["render", "--samples", "0"], "--samples 0 is out of range: use 1 to 16777216"),
    (["render", "--samples", "2.5"], "--samples '2.5' is not a whole number"),
    (["pull", "--min-blur", "-3"], "--min-blur -3 is out of range: use 0.5 to 500"),
    (["pull", "--fstop", "-2"], "--fstop -2 is out of range: use 0.5 to 128"),
    (["pull", "--fstop", "nan"], "--fstop nan is out of range: use 0.5 to 128"),
    (["pull", "--fstop-ramp", "2.8:200"], "--fstop-ramp 200 is out of range: use 0.5 to 128"),
    (["pull", "--fstop-ramp", "2.8"], "--fstop-ramp '2.8' is not FROM:TO"),
    (["pull", "--breathing", "5"], "--breathing 5 is out of range: use -0.2 to 0.2"),
    (["pull", "--close-focus", "0"], "--close-focus 0 is out of range: use 0.01 to 100"),
    (["pull", "--hysteresis", "-1"], "--hysteresis -1 is out of range: use 0 to 2"),
    (["pull", "--hysteresis", "inf"], "--hysteresis inf is out of range: use 0 to 2"),
    (["demo", "--samples", "-1"], "--samples -1 is out of range"),
    (["presets", "show", "fg_to_bg", "--fps", "0"], "--fps 0 is out of range: use 1 to 1000"),
])
def test_impossible_values_name_the_flag_and_range(tmp_path, capsys, argv, message):
    verb, rest = argv[0], argv[1:]
    missing = str(tmp_path / "never_opened.blend")
    full = {"render": [verb, missing, "--out", str(tmp_path / "f")],
            "pull": [verb, missing, "--mark", "Near@1", "--out", str(tmp_path / "o.blend")],
            }.get(verb, [verb]) + rest
    assert main(full) == 2
    line = error_line(capsys)
    assert line.startswith(f"rackfocus: error: {message}"), line


def test_impossible_value_message_is_exactly_one_line(tmp_path, capsys):
    assert main(["pull", str(tmp_path / "x.blend"), "--mark", "A@1", "--fstop", "-2",
                 "--out", str(tmp_path / "o.blend")]) == 2
    assert error_line(capsys) == "rackfocus: error: --fstop -2 is out of range: use 0.5 to 128"


# --- 5. values that start with '-' ----------------------------------------------------------------

def test_values_that_start_with_a_dash_reach_their_option():
    parser = build_parser()
    argv = ["plate", "in.blend", "--footage", "f.png", "--depth", "d.exr", "--depth-kind",
            "inverse", "--anchor", "-1,5=2", "--anchor", "3,4=5", "--out", "o.blend"]
    args = parser.parse_args(join_dash_values(parser, argv))
    assert args.anchor == ["-1,5=2", "3,4=5"] and args.out == "o.blend"
    args = parser.parse_args(join_dash_values(parser, ["render", "s.blend", "--frames", "-3--1",
                                                       "--out", "f", "-q"]))
    assert args.frames == "-3--1" and args.out == "f" and args.quiet
    # An option is never swallowed as a value: '--mark --out x' still misses the mark.
    assert join_dash_values(parser, ["pull", "s", "--mark", "--out", "x"]) == \
        ["pull", "s", "--mark", "--out", "x"]
    assert join_dash_values(parser, ["pull", "s", "--mark", "-q"]) == ["pull", "s", "--mark",
                                                                       "-q"]


def test_negative_anchor_through_main_without_running_the_plate(monkeypatch, tmp_path):
    seen = {}

    def fake_plate(args, out):
        seen["anchor"] = list(args.anchor)
        return 0

    monkeypatch.setattr(cli_plate, "run_plate", fake_plate)
    assert main(["plate", str(tmp_path / "in.blend"), "--footage", "f.png", "--depth", "d.exr",
                 "--anchor", "-1,5=2", "--out", str(tmp_path / "o.blend")]) == 0
    assert seen["anchor"] == ["-1,5=2"]


def test_negative_frame_list_through_main(shot, tmp_path, capsys):
    pulled = str(tmp_path / "pulled.blend")
    assert main(["pull", shot, "--mark", "Near@1", "--mark", "Far@9", "--out", pulled]) == 0
    capsys.readouterr()
    base = str(tmp_path / "focus")
    assert main(["export", pulled, "--frames", "-3--1", "--out", base + ".json", "--json"]) == 0
    data = json.load(open(base + ".json"))
    assert [row["frame"] for row in data["frames"]] == [-3, -2, -1]
    capsys.readouterr()
    assert cli.main(["render", shot, "--frames", "-3--1", "--out", str(tmp_path / "r"),
                     "--samples", "0"]) == 2  # reached --samples: the frames parsed
    assert "--samples 0 is out of range" in error_line(capsys)


# --- issue 19: an output never lands on an input or on a .blend ------------------------------

def test_a_text_output_onto_the_input_or_a_blend_is_refused(shot, tmp_path, capsys):
    original = open(shot, "rb").read()
    assert main(["describe", shot, "--out", shot]) == 2
    assert "input" in error_line(capsys)
    assert open(shot, "rb").read() == original
    other = tmp_path / "other.blend"
    other.write_bytes(original)
    disguised = tmp_path / "notes.txt"
    disguised.write_bytes(original)  # a .blend under another name
    for target in (other, str(shot) + "1", disguised):
        if not os.path.exists(target):
            open(target, "wb").write(original)
        assert main(["describe", shot, "--out", str(target)]) == 2
        assert ".blend" in error_line(capsys)
        assert open(target, "rb").read() == original
    # export's CSV and JSON are checked the same way.
    csv = tmp_path / "focus.csv"
    csv.write_bytes(original)
    assert main(["export", shot, "--out", str(csv)]) == 2
    assert ".blend" in error_line(capsys)
    assert csv.read_bytes() == original


def test_render_never_writes_a_frame_over_the_footage_the_file_reads(empty_scene, tmp_path,
                                                                   capsys):
    """The scene plays an image sequence frame_0001.png ... from the folder render --out names:
    frame 2 rendered there would replace footage frame 2. Refused, every file kept."""
    two_subject_scene(empty_scene)
    for i in (1, 2, 3):
        _save_png(tmp_path / f"frame_{i:04d}.png", value=0.2 * i)
    image = bpy.data.images.load(str(tmp_path / "frame_0001.png"))
    _textured_plane(empty_scene, image, frames=3)
    shot = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=shot, relative_remap=True)
    kept = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    assert main(["render", shot, "--out", str(tmp_path), "--frames", "2", "--samples", "1",
                 "--resolution", "16x9"]) == 2
    line = error_line(capsys)
    assert "frame_0002.png: it is this command's input" in line, line
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == kept
    # Another folder renders.
    assert main(["render", shot, "--out", str(tmp_path / "out"), "--frames", "2", "--samples",
                 "1", "--resolution", "16x9"]) == 0
