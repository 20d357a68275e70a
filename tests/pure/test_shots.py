"""Shot lists (rackfocus_addon/shots.py and shot_schema.py): the schema, every error at once
naming the shot and the key, output folders, defaults, the pull a shot asks for, resume
bookkeeping, and a fuzzed parser that never raises."""

from __future__ import annotations

import ast
import json
import os
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackfocus_addon import limits, presets, shots
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import parse_mark
from rackfocus_addon.request import PullRequest
from rackfocus_addon.shot_schema import load_shot_list, parse_shot_list
from rackfocus_addon.shots import ShotListError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "shots.toml")


@pytest.fixture
def folder(tmp_path):
    """A shot-list folder with an (empty) scene file and footage/depth files."""
    (tmp_path / "shot.blend").write_bytes(b"")
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "shot_0001.png").write_bytes(b"")
    (tmp_path / "depth_0001.exr").write_bytes(b"")
    return tmp_path


def parse(folder, text):
    return parse_shot_list(text, str(folder / "shots.toml"))


def errors_of(folder, text):
    shot_list, errors = parse(folder, text)
    assert shot_list is None and errors
    return errors


GOOD = """
output_root = "out"

[defaults]
space = "diopter"
[defaults.render]
samples = 16
resolution = "320x180"
[defaults.lens]
fstop = 2.8

[[shot]]
name = "sh010"
scene = "shot.blend"
camera = "Cam"
marks = ["Near@1", "\\"Fox:Rig\\":\\"b:Head\\"@12", "Far@marker:\\"beat 2\\""]
easing = "expo:out"
[shot.render]
frames = "1-24"
format = "exr"
movie = false

[[shot]]
name = "sh020"
footage = "clip/shot_0001.png"
depth = "depth_0001.exr"
preset = "fg_to_bg"
subjects = ["px:10,20", "px:30,5"]
start = 5
output = "elsewhere/sh020"
[shot.plate]
depth_kind = "normalized"
near_m = 1.0
far_m = 9.0
anchors = ["10,20=2.5"]
focal_mm = 35
[shot.lens]
fstop = 1.4
breathing = 0.02
solve_fstop = true
[shot.render]
resolution = [64, 36]
samples = 4
denoiser = "oidn"
"""


def test_a_good_shot_list_reads_into_shots(folder):
    shot_list, errors = parse(folder, GOOD)
    assert errors == []
    a, b = shot_list.shots
    assert a.name == "sh010" and a.index == 1
    assert a.scene == str(folder / "shot.blend")
    assert a.output == str(folder / "out" / "sh010")
    assert a.camera == "Cam"
    assert [m.spec() for m in a.marks] == ["Near@1", '"Fox:Rig":"b:Head"@12',
                                           "Far@marker:beat 2"]
    assert a.marks[2].marker == "beat 2"
    assert a.easing == Easing("expo", "out") and a.space == "diopter"
    assert a.render.samples == 16 and a.render.resolution == (320, 180)
    assert a.render.frames == tuple(range(1, 25)) and a.render.format == "exr"
    assert a.render.movie is False and a.render.plot is True
    assert dict(a.lens) == {"fstop": 2.8}

    assert b.output == str(folder / "elsewhere" / "sh020")
    assert b.footage == str(folder / "clip" / "shot_0001.png")
    assert b.depth == str(folder / "depth_0001.exr") and not b.estimates
    assert b.preset == "fg_to_bg" and [s.spec() for s in b.subjects] == ["px:10,20", "px:30,5"]
    assert b.start == 5 and b.marks == ()
    assert b.plate.depth_kind == "normalized" and b.plate.anchors == ("10,20=2.5",)
    assert b.plate.focal_mm == 35.0 and b.plate.sensor_mm == 36.0
    assert b.render.resolution == (64, 36) and b.render.samples == 4
    assert b.render.denoiser == "oidn" and b.render.resolution == (64, 36)
    assert dict(b.lens) == {"fstop": 1.4, "breathing": 0.02, "solve_fstop": True}
    assert shot_list.select(["sh020"]) == [b]
    assert shot_list.select(None) == [a, b]


def test_every_error_in_the_file_is_reported_at_once_naming_shot_and_key(folder):
    errors = errors_of(folder, """
output_root = "out"
[defaults.render]
sampels = 3
engine = "cyclse"
[[shot]]
name = "a"
scene = "shot.blend"
marks = ["Near@1", "Far", "X@"]
space = "diopters"
mood = "rig"
[shot.lens]
fstop = "2"
breathing = 0.9
[shot.render]
movie = "yes"
resolution = "big"
frames = "9-2"
samples = 2.5
[[shot]]
name = "b"
scene = "shot.blend"
marks = "Near@1"
""")
    expected = [
        ("[defaults]", "unknown key 'render.sampels': [render] takes engine,"),
        ("[defaults]", "key 'render.engine' is 'cyclse': use one of \"cycles\""),
        ("shot 'a'", "key 'marks[2]': Mark 'Far' has no frame"),
        ("shot 'a'", "key 'marks[3]': Mark 'X@' has no frame after '@'"),
        ("shot 'a'", "key 'space' is 'diopters': use one of"),
        ("shot 'a'", "unknown key 'mood': a shot takes name,"),
        ("shot 'a'", "key 'lens.fstop' must be a number, not text: use an f-number"),
        ("shot 'a'", "key 'lens.breathing' is 0.9, out of range: use a fraction from -0.2"),
        ("shot 'a'", "key 'render.movie' must be true or false, not text"),
        ("shot 'a'", "key 'render.resolution' is 'big', not a resolution"),
        ("shot 'a'", "key 'render.frames': Frame list item '9-2' ends before it starts"),
        ("shot 'a'", "key 'render.samples' must be a whole number, not a number"),
        ("shot 'b'", "key 'marks' must be a list of quoted strings"),
    ]
    assert len(errors) == len(expected), "\n".join(errors)
    for (where, needle), line in zip(expected, errors):
        assert line.startswith(str(folder / "shots.toml") + ": " + where), line
        assert needle in line, line
    # Every typo ends with the one "did you mean" of suggest.py.
    for line, word in ((errors[0], "samples"), (errors[1], "cycles"), (errors[4], "diopter"),
                       (errors[5], "mode")):
        assert line.endswith("?") and f"; did you mean '{word}'" in line, line
    # No consequential noise: the bad marks are not also reported as missing marks.
    assert not any("has no focus marks" in e for e in errors)


@pytest.mark.parametrize("body,needle", [
    ('name = "a"\nmarks = ["A@1"]', "needs a source: add scene"),
    ('name = "a"\nfootage = "clip/shot_0001.png"\nmarks = ["px:1,1@1"]',
     "key 'footage' needs 'depth'"),
    ('name = "a"\nscene = "shot.blend"\ndepth = "depth_0001.exr"\nmarks = ["A@1"]',
     "key 'depth' needs 'footage'"),
    ('name = "a"\nscene = "shot.blend"\nmodel = "m.onnx"\nmarks = ["A@1"]',
     "key 'model' is only for estimated depth"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\n[shot.plate]\nfocal_mm = 35',
     "key 'plate.focal_mm' is for footage shots only"),
    ('name = "a"\nscene = "shot.blend"\nsubjects = ["A", "B"]', "needs a 'preset' to time"),
    ('name = "a"\nscene = "shot.blend"\npreset = "fg_to_bg"\nsubjects = ["A"]\nmarks = ["A@1"]',
     "has both 'marks' and 'subjects'"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\nstart = 3', "key 'start' times"),
    ('name = "a"\nscene = "shot.blend"', "has no focus marks"),
    ('scene = "shot.blend"\nmarks = ["A@1"]', "missing key 'name'"),
    ('name = "a b/c"\nscene = "shot.blend"\nmarks = ["A@1"]', "cannot name a folder"),
    ('name = "a"\nscene = "missing.blend"\nmarks = ["A@1"]', "key 'scene': no such file"),
    ('name = "a"\nscene = "shot.txt"\nmarks = ["A@1"]', "not a .blend file"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["px:3,4@1"]\n', None),
    ('name = "a"\nfootage = "clip/shot_0001.png"\ndepth = "depth_0001.exr"\nmarks = '
     '["px:1,1@1"]\n[shot.plate]\ndepth_kind = "normalized"', "normalized depth needs"),
    ('name = "a"\nfootage = "clip/shot_0001.png"\ndepth = "depth_0001.exr"\nmarks = '
     '["px:1,1@1"]\n[shot.plate]\ndepth_kind = "inverse"', "inverse depth needs"),
    ('name = "a"\nfootage = "clip/shot_0001.png"\ndepth = "depth_0001.exr"\nmarks = '
     '["px:1,1@1"]\n[shot.plate]\nnear_m = 5.0\nfar_m = 2.0', "must be nearer than"),
    ('name = "a"\nfootage = "clip/shot_0001.png"\ndepth = "estimate"\nmarks = ["px:1,1@1"]\n'
     '[shot.plate]\ndepth_kind = "inverse"', "estimated depth is metric"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\n[shot.plate]\nanchors = ["1,2"]',
     "key 'plate.anchors[1]': Bad anchor"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\nlens = 3', "must be a table"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\nsubjects = [1]',
     "key 'subjects' must be a list of quoted strings"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@99999999"]',
     "outside Blender's frame range"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\n[shot.render]\nresolution = "2x2"',
     "is 2x2, out of range"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\n[shot.render]\nformat = "jpg"',
     "key 'render.format' is 'jpg'"),
    ('name = "a"\nscene = "shot.blend"\nmarks = ["A@1"]\n[shot.lens]\nfstop_ramp = [2.8]',
     "must be a list of two numbers"),
])
def test_shot_rules(folder, body, needle):
    shot_list, errors = parse(folder, "[[shot]]\n" + body + "\n")
    if needle is None:  # a pixel mark in a scene that already holds a plate is fine
        assert errors == []
        return
    assert any(needle in e for e in errors), "\n".join(errors)
    assert all("shot '" in e or "shot #" in e for e in errors), errors


def test_two_shots_writing_to_one_folder_is_an_error(folder):
    errors = errors_of(folder, """
[[shot]]
name = "a"
scene = "shot.blend"
marks = ["A@1"]
output = "renders/b"
[[shot]]
name = "b"
scene = "shot.blend"
marks = ["A@1"]
""")
    assert len(errors) == 1
    assert "shot 'b': writes to the same folder as shot 'a'" in errors[0]
    assert str(folder / "renders" / "b") in errors[0]


def test_repeated_names_and_defaults_that_belong_to_one_shot(folder):
    errors = errors_of(folder, """
[defaults]
name = "x"
output = "all"
[[shot]]
name = "a"
scene = "shot.blend"
marks = ["A@1"]
[[shot]]
name = "a"
scene = "shot.blend"
marks = ["A@1"]
output = "other"
""")
    assert any("[defaults]: key 'name' cannot be a default" in e for e in errors)
    assert any("[defaults]: key 'output' cannot be a default" in e and "output_root" in e
               for e in errors)
    assert any("shot 'a': key 'name' repeats shot #1's name" in e for e in errors)


def test_an_output_folder_that_cannot_be_written(folder):
    (folder / "taken").write_text("a regular file, not a folder")
    errors = errors_of(folder, """
[[shot]]
name = "a"
scene = "shot.blend"
marks = ["A@1"]
output = "taken/renders/a"
""")
    assert len(errors) == 1
    assert "shot 'a': output folder" in errors[0]
    assert f"{folder / 'taken'} is a file, not a folder" in errors[0]
    assert limits.folder_problem(str(folder / "new" / "deeper")) is None


def test_top_level_problems(folder):
    errors = errors_of(folder, 'output_roots = "x"\nshots = 1\n')
    assert any("unknown top-level key 'output_roots': a shot list has output_root" in e
               and e.endswith("; did you mean 'output_root'?")
               for e in errors)
    assert any("no shots: add a [[shot]] table" in e for e in errors)
    errors = errors_of(folder, '[shot]\nname = "a"\n')
    assert any("write [[shot]] (double brackets)" in e for e in errors)
    errors = errors_of(folder, "[[shot]\nname = 1")
    assert len(errors) == 1 and "not valid TOML" in errors[0]


def test_missing_and_unreadable_shot_files(tmp_path):
    with pytest.raises(ShotListError, match="no such shot list"):
        load_shot_list(str(tmp_path / "nope.toml"))
    with pytest.raises(ShotListError, match="is a folder, not a shot list"):
        load_shot_list(str(tmp_path))
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[[shot]]\nname = "caf\xe9"\n')
    with pytest.raises(ShotListError, match="not UTF-8"):
        load_shot_list(str(bad))
    broken = tmp_path / "broken.toml"
    broken.write_text("[[shot]\n")
    with pytest.raises(ShotListError) as err:
        load_shot_list(str(broken))
    assert err.value.errors[0].startswith(f"{broken}: not valid TOML")


def test_select_names_unknown_shots(folder):
    shot_list, _ = parse(folder, GOOD)
    with pytest.raises(ShotListError) as err:
        shot_list.select(["sh010", "sh02"])
    assert err.value.errors == [f"{shot_list.path}: no shot named 'sh02': shots are sh010, "
                                "sh020; did you mean 'sh020' or 'sh010'?"]
    assert [s.name for s in shot_list.select(["sh020", "sh010"])] == ["sh010", "sh020"]


def test_estimated_depth_and_model_paths(folder):
    shot_list, errors = parse(folder, """
[[shot]]
name = "est"
footage = "clip/shot_0001.png"
depth = "estimate"
model = "models/tiny.onnx"
marks = ["px:1,1@1"]
[[shot]]
name = "reg"
footage = "clip/shot_0001.png"
depth = "estimate"
model = "da2-small"
marks = ["px:1,1@1"]
""")
    assert errors == []
    est, reg = shot_list.shots
    assert est.estimates and est.depth == shots.ESTIMATE
    assert est.model == str(folder / "models" / "tiny.onnx")
    assert reg.model == "da2-small"
    assert est.estimate_dir == str(folder / "renders" / "est" / "rackfocus_cache" /
                                   "shot_0001_estimated_depth")


def test_the_request_puts_the_shots_own_settings_over_the_presets(folder):
    shot_list, _ = parse(folder, GOOD)
    plain, preset_shot = shot_list.shots
    request = plain.request()
    assert request.marks == plain.marks
    assert request.easing == Easing("expo", "out") and request.space == "diopter"
    assert request.realism.fstop == 2.8 and request.mode == "rig"

    fg_to_bg = {p.key: p for p in presets.shipped_presets()}["fg_to_bg"]
    configured = fg_to_bg.configure(PullRequest(preset_shot.base_marks(1)))
    request = preset_shot.configure(configured)
    assert request.space == "diopter"  # [defaults] space wins over the preset's
    assert request.easing == configured.easing  # the shot sets no easing: the preset's
    assert request.realism.fstop == 1.4 and request.realism.breathing == 0.02
    assert request.readability.solve_fstop is True
    assert [m.frame for m in preset_shot.base_marks(1)] == [5, 5]  # start = 5
    assert request.validate() is request


def test_overshoot_turns_the_easing_into_back(folder):
    shot_list, _ = parse(folder, '[[shot]]\nname = "a"\nscene = "shot.blend"\n'
                                 'marks = ["A@1", "B@24"]\neasing = "cubic:out"\n'
                                 '[shot.lens]\novershoot = 0.06\n')
    request = shot_list.shots[0].request()
    assert request.easing.kind == "back" and request.easing.mode == "out"
    assert request.realism.overshoot == 0.06


def test_output_names_and_the_fingerprint(folder):
    shot_list, _ = parse(folder, GOOD)
    a = shot_list.shots[0]
    out = a.output
    assert a.blend_path == os.path.join(out, "sh010.blend")
    assert a.frame_path(7) == os.path.join(out, "frame_0007.exr")
    assert a.frame_path(12345) == os.path.join(out, "frame_12345.exr")
    partial = os.path.basename(a.partial_path(7))
    assert partial.startswith(".") and ".partial" in partial
    assert partial != os.path.basename(a.frame_path(7)) and not partial.startswith("frame_")
    tagged = os.path.basename(a.partial_path(7, "4242"))
    assert tagged == ".frame_0007.partial-4242.exr"
    assert a.is_partial_of(partial, 7) and a.is_partial_of(tagged, 7)
    assert not a.is_partial_of(tagged, 70) and not a.is_partial_of("frame_0007.exr", 7)
    assert a.media_paths() == {"contact_sheet": os.path.join(out, "contact_sheet.png"),
                               "plot": os.path.join(out, "focus_plot.png")}
    assert a.manifest_path == os.path.join(out, shots.MANIFEST)

    again, _ = parse(folder, GOOD)
    assert again.shots[0].fingerprint() == a.fingerprint()
    changed, _ = parse(folder, GOOD.replace("samples = 16", "samples = 17"))
    assert changed.shots[0].fingerprint() != a.fingerprint()


def test_the_fingerprint_follows_the_source_file(folder):
    shot_list, _ = parse(folder, GOOD)
    before = shot_list.shots[0].fingerprint()
    (folder / "shot.blend").write_bytes(b"a longer, edited scene")
    assert shot_list.shots[0].fingerprint() != before


def test_key_frames_keep_the_marks_and_spread_over_the_rest():
    frames = list(range(1, 49))
    picks = shots.key_frames(frames, [1, 12, 36, 48, 99])
    assert len(picks) == 12 and picks == sorted(set(picks))
    assert {1, 12, 36, 48} <= set(picks) and 99 not in picks
    assert shots.key_frames([3, 1, 2], [2]) == [1, 2, 3]
    assert shots.key_frames(range(1, 101), [], count=5) == [1, 26, 51, 75, 100]
    assert shots.restrict_frames([1, 2, 3, 4], [2, 4, 9]) == [2, 4]
    assert shots.restrict_frames([1, 2], None) == [1, 2]


def test_the_example_shot_list_reads(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "shots.toml")
    (tmp_path / "demo.blend").write_bytes(b"")
    shot_list = load_shot_list(str(tmp_path / "shots.toml"))
    assert [s.name for s in shot_list.shots] == ["near_to_far", "snap_to_near"]
    assert all(s.scene == str(tmp_path / "demo.blend") for s in shot_list.shots)


def test_shots_and_plot_import_no_blender():
    for name in ("shots", "plot"):
        path = os.path.join(ROOT, "rackfocus_addon", f"{name}.py")
        tree = ast.parse(open(path, encoding="utf-8").read())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add("." * node.level + (node.module or ""))
        assert not {"bpy", "mathutils", "bmesh"} & imported, name
        assert not [m for m in imported if m.startswith((".bl", ".cli", "importlib"))], name


# --- fuzz: the parser reports, it never raises -----------------------------------------------

_KEYS = ["name", "scene", "footage", "depth", "marks", "preset", "subjects", "start", "easing",
         "space", "mode", "output", "camera", "model", "lens", "plate", "render", "bogus"]
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["fstop", "samples", "frames", "format", "near_m", "x"]), inner,
        max_size=3),
    max_leaves=6)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()
                               if v is not None) + "}"
    return '""'


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6), max_size=3))
def test_fuzzed_shot_lists_never_raise(tables):
    text = "".join("[[shot]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in t.items()
                                          if v is not None) for t in tables)
    shot_list, errors = parse_shot_list(text, "/nonexistent/fuzz.toml")
    assert (shot_list is None) == bool(errors)
    assert all(isinstance(e, str) and e.startswith("/nonexistent/fuzz.toml: ") for e in errors)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_reported_not_raised(text):
    shot_list, errors = parse_shot_list(text, "<fuzz>")
    assert (shot_list is None) == bool(errors)


def test_marks_use_the_mark_grammar(folder):
    shot_list, errors = parse(folder, '[[shot]]\nname = "a"\nscene = "shot.blend"\n'
                                      "marks = ['\"Fox:Rig\"@40', 'point:0.5,6,1@12', "
                                      "'Rig:head@marker:line2']\n")
    assert errors == []
    assert shot_list.shots[0].marks == (parse_mark('"Fox:Rig"@40'),
                                        parse_mark("point:0.5,6,1@12"),
                                        parse_mark("Rig:head@marker:line2"))


def test_the_shot_lists_subjects_in_first_appearance_order(tmp_path):
    (tmp_path / "s.blend").write_bytes(b"")
    shot_list, errors = parse_shot_list(
        '[[shot]]\nname = "a"\nscene = "s.blend"\nmarks = ["Near@1", "Far@24", "Near@30"]\n'
        '[[shot]]\nname = "b"\nscene = "s.blend"\npreset = "quick_snap"\n'
        'subjects = ["Mid", "Far"]\n'
        '[[shot]]\nname = "c"\nscene = "s.blend"\nmarks = [\'"Fox:Rig"@1\', "point:0,5,1@9"]\n',
        str(tmp_path / "shots.toml"))
    assert not errors
    assert shot_list.subject_names() == ["Near", "Far", "Mid", '"Fox:Rig"', "point:0,5,1"]


# --- issue 19: a shot never writes onto its own inputs ----------------------------------------

@pytest.mark.parametrize("shot,fix", [
    # The shot's .blend would replace its own scene (and a second run its backup).
    ('name = "sh010"\nscene = "sh010.blend"\noutput = "."', "key 'scene'"),
    # Rendered frames would replace the footage.
    ('name = "sh020"\nfootage = "frame_0001.png"\ndepth = "depth_0001.exr"\noutput = "."',
     "key 'footage'"),
    # The plate cache is the shot's own folder, emptied when it is rebuilt.
    ('name = "sh030"\nfootage = "clip/shot_0001.png"\n'
     'depth = "rackfocus_cache/depth_0001.exr"\noutput = "."', "key 'depth'"),
])
def test_a_shot_whose_outputs_would_overwrite_its_inputs_is_refused(folder, shot, fix):
    for name in ("sh010.blend", "sh010.blend1", "frame_0001.png"):
        (folder / name).write_bytes(b"mine")
    (folder / "rackfocus_cache").mkdir()
    (folder / "rackfocus_cache" / "depth_0001.exr").write_bytes(b"mine")
    errors = errors_of(folder, f'[[shot]]\n{shot}\nmarks = ["px:1,1@1", "px:2,2@9"]\n'
                       if "footage" in shot else
                       f'[[shot]]\n{shot}\nmarks = ["Near@1", "Far@9"]\n')
    assert len(errors) == 1, errors
    assert fix in errors[0] and "would overwrite" in errors[0], errors
    assert "'output'" in errors[0]  # the fix


def test_the_fingerprint_reads_every_frame_of_a_sequence(folder):
    """Issue 19, item 5: replacing frame 3 of the footage (or of the depth) rebuilds the shot;
    it used to read the first file only."""
    for i in (2, 3):
        (folder / "clip" / f"shot_{i:04d}.png").write_bytes(b"")
        (folder / f"depth_{i:04d}.exr").write_bytes(b"")
    shot_list, errors = parse(folder, GOOD)
    assert errors == []
    shot = shot_list.shots[1]
    before = shot.fingerprint()
    assert shot.fingerprint() == before
    (folder / "clip" / "shot_0003.png").write_bytes(b"another frame 3")
    after_footage = shot.fingerprint()
    assert after_footage != before
    (folder / "depth_0002.exr").write_bytes(b"another depth 2")
    assert shot.fingerprint() != after_footage
    # Same size, new modification time: a frame copied over another of the same size.
    stamp = os.stat(folder / "clip" / "shot_0002.png").st_mtime_ns
    before = shot.fingerprint()
    os.utime(folder / "clip" / "shot_0002.png", ns=(stamp + 10**9, stamp + 10**9))
    assert shot.fingerprint() != before


@pytest.mark.parametrize("marks,needle", [
    ('["Far@12", "Near@1"]', "Marks out of order: 'Near' at frame 1 comes after 'Far' at frame 12"),
    ('["Far@12", "Near@12"]', "Two marks on frame 12"),
])
def test_marks_out_of_order_are_found_at_validation(folder, marks, needle):
    """Issue 19, item 16: they passed validation and failed at build, after the shot's folder
    was made."""
    errors = errors_of(folder, f'[[shot]]\nname = "a"\nscene = "shot.blend"\nmarks = {marks}\n')
    assert len(errors) == 1 and "key 'marks'" in errors[0] and needle in errors[0], errors


def test_reordering_shots_keeps_each_shots_fingerprint(folder):
    """A shot's fingerprint decides whether its saved build is reused: moving it in the list
    must not rebuild it."""
    first, _ = parse(folder, GOOD)
    head, _sep, rest = GOOD.partition("[[shot]]")
    sh010, _sep, sh020 = rest.partition("[[shot]]")
    swapped, errors = parse(folder, head + "[[shot]]" + sh020 + "[[shot]]" + sh010)
    assert errors == [] and [s.name for s in swapped.shots] == ["sh020", "sh010"]
    assert [s.index for s in swapped.shots] == [1, 2]
    by_name = {s.name: s.fingerprint() for s in swapped.shots}
    assert by_name == {s.name: s.fingerprint() for s in first.shots}


@pytest.mark.parametrize("samples,ok", [(0, False), (-1, False), (1, True),
                                        (shots.MAX_SAMPLES, True), (shots.MAX_SAMPLES + 1, False)])
def test_samples_run_from_one(folder, samples, ok):
    text = GOOD.replace("samples = 16", f"samples = {samples}")
    shot_list, errors = parse(folder, text)
    if ok:
        assert errors == [] and shot_list.shots[0].render.samples == samples
    else:
        assert len(errors) == 1 and "key 'render.samples'" in errors[0] \
            and f"is {samples}, out of range" in errors[0], errors
