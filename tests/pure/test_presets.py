"""Pull presets: the shipped files, validation messages, schedules, and a fuzzed parser."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackfocus_addon import presets, validate
from rackfocus_addon.errors import RackFocusError

CLASSIC = {"fg_to_bg", "bg_to_fg", "reveal", "character_arrival", "dual_rack"}
WORKING = {"quick_snap", "slow_drift", "pull_with_settle"}

GOOD = """
[preset]
name = "Mine"
sequence = ["first", "second"]
[timing]
transition = 10
"""


def test_ships_the_five_classic_pulls_and_the_working_ones():
    keys = {p.key for p in presets.shipped_presets()}
    assert CLASSIC | WORKING <= keys


def test_shipped_presets_have_their_character():
    by = {p.key: p for p in presets.shipped_presets()}
    assert by["fg_to_bg"].roles == ("near", "far")
    assert by["bg_to_fg"].roles == ("far", "near")
    assert by["reveal"].roles[0] == "soft"
    assert by["dual_rack"].roles == ("first", "second", "first")
    assert by["quick_snap"].schedule(24)[2][1] - by["quick_snap"].schedule(24)[1][1] <= 6
    drift = by["slow_drift"].schedule(24)
    assert drift[2][1] - drift[1][1] >= 72
    assert by["pull_with_settle"].easing().kind == "back"
    assert by["character_arrival"].realism.fstop_ramp == (2.8, 2.0)
    for p in by.values():
        assert p.description, p.key


def test_schedule_in_seconds_converts_with_fps():
    p, errors = presets.parse_preset(
        '[preset]\nname="x"\nsequence=["near","far"]\n'
        '[timing]\nunit="seconds"\nhold_start=0.5\ntransition=1.0\nhold_end=0.25\n')
    assert not errors
    assert p.schedule(24) == [("near", 0), ("near", 12), ("far", 36), ("far", 42)]
    assert p.schedule(30) == [("near", 0), ("near", 15), ("far", 45), ("far", 53)]


def test_schedule_with_return_and_no_holds():
    p, _ = presets.parse_preset(
        '[preset]\nname="x"\nsequence=["first","second"]\nreturn_to_start=true\n'
        '[timing]\nhold_start=0\ntransition=8\nhold_middle=4\nhold_end=0\n')
    assert p.schedule(24) == [("first", 0), ("second", 8), ("second", 12), ("first", 20)]


def test_missing_hold_defaults_to_half_a_second_in_either_unit():
    p, _ = presets.parse_preset('[preset]\nname="x"\nsequence=["first","second"]\n'
                                '[timing]\nunit="seconds"\ntransition=1\n')
    assert p.timing.hold_middle == 0.5
    p, _ = presets.parse_preset(GOOD)
    assert p.timing.hold_start == 12.0


@pytest.mark.parametrize("text, expected", [
    (GOOD + "trasition = 3\n", ["key 'timing.trasition'", "did you mean 'transition'"]),
    (GOOD.replace("transition = 10", 'transition = "ten"'),
     ["key 'timing.transition' must be a number, not text", "use a number of frames"]),
    (GOOD.replace("transition = 10", "transition = 0"), ["is 0: a pull needs time"]),
    (GOOD.replace("transition = 10", "transition = -4"), ["timing.transition", "out of range"]),
    (GOOD + "[lens]\nfstop = 500\n", ["key 'lens.fstop' is 500, out of range",
                                      "an f-number from 0.5 to 128"]),
    (GOOD + "[lens]\nfstop_ramp = [2.8]\n", ["lens.fstop_ramp", "two f-numbers"]),
    (GOOD + "[easing]\nkind = \"wobble\"\n", ["easing.kind", 'one of "linear"']),
    (GOOD + "[easing]\nkind = \"sine\"\novershoot = 0.1\n", ["needs kind = \"back\""]),
    (GOOD.replace('["first", "second"]', '["first", "third"]'), ["unknown role 'third'"]),
    (GOOD.replace('["first", "second"]', '["first", "first"]'), ["twice in a row"]),
    (GOOD.replace('["first", "second"]', '["first"]'), ["at least two roles"]),
    (GOOD + "[bogus]\nx = 1\n", ["unknown section [bogus]"]),
    ("[preset]\nname = \"x\"\n", ["missing key 'preset.sequence'",
                                   "missing key 'timing.transition'"]),
    ("[preset\nname=", ["not valid TOML"]),
    ("preset = 3\n", ["'preset' must be a section"]),
])
def test_errors_name_file_key_and_fix(text, expected):
    preset, errors = presets.parse_preset(text, "presets/mine.toml")
    assert preset is None
    joined = " | ".join(errors)
    assert all(e.startswith("presets/mine.toml: ") for e in errors)
    for part in expected:
        assert part in joined, joined


def test_load_preset_raises_one_error_listing_every_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD + "[lens]\nfstop = 0\nbreathing = 3\n")
    with pytest.raises(RackFocusError) as err:
        presets.load_preset(str(bad))
    assert "lens.fstop" in str(err.value) and "lens.breathing" in str(err.value)
    assert str(bad) in str(err.value)


def test_discover_skips_bad_files_and_user_presets_win(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "fg_to_bg.toml").write_text(GOOD.replace('"Mine"', '"My FG"'))
    (user / "broken.toml").write_text("nonsense = [")
    (user / "notes.txt").write_text("ignored")
    found, errors = presets.discover([(presets.SHIPPED_DIR, False), (str(user), True)])
    assert len(errors) == 1 and "broken.toml" in errors[0]
    assert presets.find(found, "fg_to_bg").name == "My FG"
    assert presets.find(found, "Background to Foreground").key == "bg_to_fg"
    with pytest.raises(RackFocusError, match="did you mean 'reveal'"):
        presets.find(found, "reveel")


def test_dump_round_trips_every_shipped_preset():
    for p in presets.shipped_presets():
        again, errors = presets.parse_preset(p.to_toml(), p.path)
        assert not errors, errors
        assert again == p


def test_slug():
    assert presets.slug("  My Pull! v2 ") == "my_pull_v2"
    assert presets.slug("!!!") == "preset"


def test_shipped_folder_is_in_the_repository():
    assert os.path.isdir(presets.SHIPPED_DIR)
    assert os.path.basename(presets.SHIPPED_DIR) == "presets"


# --- fuzzing: the parser returns errors, never raises ------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=6)
_keys = st.sampled_from(["name", "sequence", "transition", "unit", "kind", "mode", "space",
                         "fstop", "fstop_ramp", "overshoot", "hold_start", "return_to_start",
                         "breathing", "soft_blur", "hysteresis_diopters", "weird"])
_sections = st.sampled_from(["preset", "timing", "easing", "lens", "tracking", "reveal", "x"])


def _toml(v) -> str:
    if v is None:
        return '""'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(v), repr(v))
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(v)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_sections, st.dictionaries(_keys, _values, max_size=6), max_size=6))
def test_fuzz_structured_documents_never_crash(doc):
    text = "\n".join(f"[{s}]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in body.items())
                     for s, body in doc.items())
    preset, errors = presets.parse_preset(text, "fuzz.toml")
    assert (preset is None) == bool(errors)
    if preset is not None:
        assert len(preset.roles) >= 2
        marks = preset.schedule(24.0)
        assert [f for _, f in marks] == sorted(f for _, f in marks)
        preset.easing()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_never_crashes(text):
    preset, errors = presets.parse_preset(text, "fuzz.toml")
    assert preset is None or not errors
    for e in errors:
        assert e.startswith("fuzz.toml: ")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_bytes_through_the_file_loader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fz") / "p.toml"
    path.write_bytes(data)
    try:
        presets.load_preset(str(path))
    except RackFocusError as err:
        assert str(path) in str(err)


_lengths = st.floats(0.0, 500.0, allow_nan=False)
_valid = st.builds(
    presets.Preset,
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                 max_size=20).filter(str.strip),
    key=st.just("fuzz"),
    sequence=st.lists(st.sampled_from(presets.ROLES), min_size=2, max_size=4).filter(
        lambda s: all(a != b for a, b in zip(s, s[1:]))).map(tuple),
    description=st.text(max_size=40),
    return_to_start=st.booleans(),
    timing=st.builds(presets.Timing, unit=st.just("frames"), hold_start=_lengths,
                     transition=st.floats(0.5, 500.0), hold_middle=_lengths,
                     hold_end=_lengths),
    easing_kind=st.sampled_from([k for k in presets.KINDS if k != "back"]),
    easing_mode=st.sampled_from(presets.MODES),
    space=st.sampled_from(presets.SPACES),
    realism=st.builds(presets.Realism,
                      fstop=st.one_of(st.none(), st.floats(0.5, 128.0)),
                      fstop_ramp=st.one_of(st.none(), st.tuples(st.floats(0.5, 128.0),
                                                                st.floats(0.5, 128.0))),
                      breathing=st.floats(-0.2, 0.2), close_focus_m=st.floats(0.01, 100.0),
                      overshoot=st.just(0.0), hysteresis_diopters=st.floats(0.0, 2.0),
                      soft_blur=st.floats(0.0, 0.5)),
    min_blur_px=st.floats(0.5, 500.0),
)


@settings(max_examples=200, deadline=None)
@given(_valid)
def test_fuzz_any_valid_preset_round_trips_through_toml(preset):
    again, errors = presets.parse_preset(preset.to_toml(), "<fuzz>", key="fuzz")
    assert not errors, errors
    assert again == preset
    frames = [f for _, f in again.schedule(24.0)]
    assert frames == sorted(frames) and frames[0] == 0


# --- every schema kind refuses an out-of-range value, naming the key --------------------------

def _doc(section: str, key: str, value: str) -> str:
    """GOOD with ``section.key = value`` set (TOML literal ``value``)."""
    body = {"preset": {"name": '"Mine"', "sequence": '["first", "second"]'},
            "timing": {"transition": "10"}}
    body.setdefault(section, {})[key] = value
    return "\n".join(f"[{s}]\n" + "\n".join(f"{k} = {v}" for k, v in keys.items())
                     for s, keys in body.items()) + "\n"


OUT_OF_RANGE = [
    # (kind, section, key, TOML value, extra keys in that section)
    ("length", "timing", "hold_start", "7200", {"unit": '"seconds"'}),
    ("length", "timing", "hold_end", "100000", {}),
    ("length", "timing", "hold_middle", "-1", {}),
    ("length", "timing", "transition", "0", {}),
    ("overshoot", "easing", "overshoot", "0.6", {}),
    ("soft_blur", "reveal", "soft_blur", "-0.01", {}),
    ("fstop", "lens", "fstop", "0.4", {}),
    ("fstop", "lens", "fstop", "nan", {}),
    ("fstop_pair", "lens", "fstop_ramp", "[0.1, 500]", {}),
    ("fstop_pair", "lens", "fstop_ramp", "[2.8, 200]", {}),
    ("breathing", "lens", "breathing", "0.5", {}),
    ("close_focus", "lens", "close_focus_m", "0", {}),
    ("close_focus", "lens", "close_focus_m", "inf", {}),
    ("min_blur", "lens", "min_blur_px", "0.1", {}),
    ("min_blur", "lens", "min_blur_px", "501", {}),
    ("hysteresis", "tracking", "hysteresis_diopters", "5", {}),
    ("hysteresis", "tracking", "hysteresis_diopters", "-0.1", {}),
    ("unit", "timing", "unit", '"minutes"', {}),
    ("kind", "easing", "kind", '"wobble"', {}),
    ("mode", "easing", "mode", '"sideways"', {}),
    ("space", "easing", "space", '"wavelength"', {}),
    ("roles", "preset", "sequence", '["first", "third"]', {}),
    ("roles", "preset", "sequence", '["near"]', {}),
    ("bool", "preset", "return_to_start", "1", {}),
    ("text", "preset", "name", "5", {}),
    ("text", "preset", "description", "[\"a\"]", {}),
]


def test_every_schema_kind_has_an_out_of_range_case():
    kinds = {kind for section in presets._SCHEMA.values() for kind in section.values()}
    assert kinds == {case[0] for case in OUT_OF_RANGE}


@pytest.mark.parametrize("kind,section,key,value,extra", OUT_OF_RANGE,
                         ids=[f"{c[1]}.{c[2]}={c[3]}" for c in OUT_OF_RANGE])
def test_out_of_range_values_are_refused_naming_the_key(tmp_path, kind, section, key, value,
                                                        extra):
    text = _doc(section, key, value)
    for k, v in extra.items():
        text = text.replace(f"[{section}]\n", f"[{section}]\n{k} = {v}\n", 1)
    preset, errors = presets.parse_preset(text, "mine.toml")
    assert preset is None, text
    assert any(f"key '{section}.{key}'" in e for e in errors), errors
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(RackFocusError, match=f"key '{section}.{key}'"):
        presets.load_preset(str(path))


def test_values_at_the_limits_load_and_make_a_valid_request():
    """The schema's ranges are the request's: a preset that loads is a pull that validates."""
    from rackfocus_addon.marks import parse_mark
    from rackfocus_addon.request import PullRequest

    for pick in (0, 1):
        r = {kind: validate.RANGES[kind][pick] for kind in validate.RANGES}
        text = GOOD + (
            f"[easing]\nkind = \"back\"\novershoot = {r['overshoot']}\n"
            f"[lens]\nfstop = {r['fstop']}\nfstop_ramp = [{r['fstop']}, {r['fstop']}]\n"
            f"breathing = {r['breathing']}\nclose_focus_m = {r['close_focus']}\n"
            f"min_blur_px = {r['min_blur']}\n"
            f"[tracking]\nhysteresis_diopters = {r['hysteresis']}\n"
            f"[reveal]\nsoft_blur = {r['soft_blur']}\n")
        preset, errors = presets.parse_preset(text, "limits.toml")
        assert not errors, errors
        request = preset.configure(PullRequest((parse_mark("A@1"), parse_mark("B@9"))))
        request.validate()


def test_hints_state_the_request_ranges_and_typos_end_with_one_suggestion():
    """Preset hints are written from request.py's ranges (no range typed twice), and a typo is
    answered by suggest.py's one wording, at the end of the line."""
    from rackfocus_addon import request

    lo, hi = request.FSTOP_RANGE
    preset, errors = presets.parse_preset(GOOD + "[lens]\nfstop = 500\n[easing]\nknd = 1\n",
                                          "mine.toml")
    assert preset is None
    assert f"an f-number from {lo:g} to {hi:g}, e.g. 2.8" in errors[0], errors
    assert errors[1].startswith("mine.toml: unknown key 'easing.knd': [easing] takes kind,")
    assert errors[1].endswith("; did you mean 'kind'?"), errors
