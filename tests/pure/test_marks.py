"""The mark grammar: old bare forms, quoted names, canonical specs that read back equal."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.marks import Mark, SubjectRef, parse_mark, parse_subject, quote_name

NAMES = ["Fox:Rig", "char:body", "a@b", 'say "hi"', "back\\slash", " padded ", "|pipe|", "a,b",
         "ünïcødé 名前", "point", "PX", "12", "marker:x", '"', "\\", "\\\"", "-3", "1e3", "inf",
         "\t tab", "line\nbreak", "Cube", "Cube.001"]

# Blender names: at most 63 bytes of UTF-8, no NUL.
names = st.text(min_size=1, max_size=63).filter(
    lambda s: "\x00" not in s and len(s.encode()) <= 63)


def obj(name):
    return SubjectRef("object", name=name)


def bone(arm, b):
    return SubjectRef("bone", name=arm, bone=b)


@pytest.mark.parametrize("text,mark", [
    ("Cube@12", Mark(obj("Cube"), frame=12)),
    ("  Cube @ 12 ", Mark(obj("Cube"), frame=12)),
    ("Rig:head@12", Mark(bone("Rig", "head"), frame=12)),
    ("Rig:head@marker:line2", Mark(bone("Rig", "head"), marker="line2")),
    ("point:0.5,6,1@12", Mark(SubjectRef("point", coords=(0.5, 6.0, 1.0)), frame=12)),
    ("POINT: 1, 2.5, -3@7", Mark(SubjectRef("point", coords=(1.0, 2.5, -3.0)), frame=7)),
    ("px:640,360@12", Mark(SubjectRef("pixel", coords=(640.0, 360.0)), frame=12)),
    ("Cube@marker:line2", Mark(obj("Cube"), marker="line2")),
    ("Cube@line2", Mark(obj("Cube"), marker="line2")),
    ("Cube@-4", Mark(obj("Cube"), frame=-4)),
    ("Cube@12.0", Mark(obj("Cube"), frame=12)),
    ("my@obj@4", Mark(obj("my@obj"), frame=4)),
    ("Rig:a:b@4", Mark(bone("Rig", "a:b"), frame=4)),
    ("Cube@marker:shot 1: start", Mark(obj("Cube"), marker="shot 1: start")),
    ('Rig:say"hi"@1', Mark(bone("Rig", 'say"hi"'), frame=1)),
    ("back\\slash@1", Mark(obj("back\\slash"), frame=1)),
])
def test_old_forms_parse_as_before(text, mark):
    assert parse_mark(text) == mark


@pytest.mark.parametrize("text,mark", [
    ('"Fox:Rig"@40', Mark(obj("Fox:Rig"), frame=40)),
    ('"Fox:Rig":"b_Head"@12', Mark(bone("Fox:Rig", "b_Head"), frame=12)),
    ('"Fox:Rig":b_Head@12', Mark(bone("Fox:Rig", "b_Head"), frame=12)),
    ('Rig:"b:Head"@12', Mark(bone("Rig", "b:Head"), frame=12)),
    ('Cube@marker:"shot 1: start"', Mark(obj("Cube"), marker="shot 1: start")),
    ('Cube@"line@2"', Mark(obj("Cube"), marker="line@2")),
    ('Cube@"12"', Mark(obj("Cube"), marker="12")),
    ('Cube@MARKER:"12"', Mark(obj("Cube"), marker="12")),
    ('"a@b"@"c@d"', Mark(obj("a@b"), marker="c@d")),
    ('"say \\"hi\\""@3', Mark(obj('say "hi"'), frame=3)),
    ('"back\\\\slash"@3', Mark(obj("back\\slash"), frame=3)),
    ('"back\\slash"@3', Mark(obj("back\\slash"), frame=3)),  # only \" and \\ are escapes
    ('" padded "@3', Mark(obj(" padded "), frame=3)),
    ('  "Cube"  :  "head"  @  5 ', Mark(bone("Cube", "head"), frame=5)),
    ('"point":head@1', Mark(bone("point", "head"), frame=1)),
    ('"px"@1', Mark(obj("px"), frame=1)),
])
def test_quoted_names(text, mark):
    assert parse_mark(text) == mark


@pytest.mark.parametrize("text,needle", [
    ('"Cube@1', "unterminated quote"),
    ('Cube@marker:"shot 1', "unterminated quote"),
    ('"A\\"@1', "unterminated quote"),
    ('"A"x@1', "text after a closing quote"),
    ('Rig:"head"s@1', "text after a closing quote"),
    ('""@1', "empty quotes"),
    ('Rig:""@1', "empty quotes"),
    ('Cube@""', "empty quotes"),
    ('Cube@marker:""', "empty quotes"),
    ('"a":"b":"c"@1', "':' goes inside quotes"),
    ('"a"@b@1', "'@' goes inside quotes"),
    ('Cube@"a":x', "@marker:\"NAME\""),
    (':"bone"@1', "ARMATURE:BONE"),
    ('"Rig":@1', "ARMATURE:BONE"),
    ('"Cube"', "has no frame"),
    ('"Cube@12"', "has no frame"),
    ("Cube@inf", "whole numbers"),
    ("Cube@nan", "whole numbers"),
    ("Cube", "has no frame"),
    ("@12", "names no subject"),
    ("Cube@", "no frame after"),
    ("Cube@marker:", "needs a timeline marker name"),
    ("Cube@1.5", "whole numbers"),
    (":bone@1", "ARMATURE:BONE"),
    ("point:1,2@3", "needs 3 numbers"),
])
def test_errors_say_how_to_fix(text, needle):
    with pytest.raises(RackFocusError, match=needle) as err:
        parse_mark(text)
    assert text.strip() in str(err.value)
    assert "\n" not in str(err.value)


def test_quote_name_only_when_needed():
    for plain in ["Cube", "Cube.001", "|pipe|", "a,b", "ünïcødé 名前", "12", "points", "in side"]:
        assert quote_name(plain) == plain
    assert quote_name("Fox:Rig") == '"Fox:Rig"'
    assert quote_name("a@b") == '"a@b"'
    assert quote_name('say "hi"') == '"say \\"hi\\""'
    assert quote_name("back\\slash") == '"back\\\\slash"'
    assert quote_name(" padded ") == '" padded "'
    assert quote_name("") == '""'
    assert quote_name("point") == '"point"' and quote_name("PX") == '"PX"'
    assert quote_name("point", "bone") == "point"
    assert quote_name("12", "marker") == '"12"' and quote_name("-1.5e3", "marker") == '"-1.5e3"'
    assert quote_name("line2", "marker") == "line2"


def test_specs_are_canonical():
    assert Mark(obj("Cube"), frame=12).spec() == "Cube@12"
    assert Mark(bone("Rig", "head"), marker="line2").spec() == "Rig:head@marker:line2"
    assert Mark(obj("Fox:Rig"), frame=40).spec() == '"Fox:Rig"@40'
    assert Mark(bone("Fox:Rig", "b_Head"), frame=12).spec() == '"Fox:Rig":b_Head@12'
    assert Mark(obj("Cube"), marker="shot 1: start").spec() == 'Cube@marker:"shot 1: start"'
    assert Mark(obj("Cube"), marker="12").spec() == 'Cube@marker:"12"'
    assert SubjectRef("point", coords=(0.5, 6.0, 1.0)).spec() == "point:0.5,6,1"
    assert SubjectRef("pixel", coords=(640.0, 360.0)).spec() == "px:640,360"
    # Labels stay plain for people.
    assert obj("Fox:Rig").label() == "'Fox:Rig'"
    assert bone("Fox:Rig", "b:Head").label() == "bone 'b:Head' of 'Fox:Rig'"


def test_parse_subject_reads_quotes():
    assert parse_subject('"Fox:Rig"') == obj("Fox:Rig")
    assert parse_subject("Rig:head") == bone("Rig", "head")


@pytest.mark.parametrize("name", NAMES)
def test_listed_names_round_trip(name):
    for mark in (Mark(obj(name), frame=1), Mark(bone(name, name), frame=-2),
                 Mark(obj("Cube"), marker=name), Mark(bone(name, "head"), marker=name)):
        assert parse_mark(mark.spec()) == mark
        assert parse_mark(mark.spec()).spec() == mark.spec()


@given(names, st.integers(-1048574, 1048574))
@example("Fox:Rig", 1)
@example("point", 1)
@example(" ", 1)
def test_object_refs_round_trip(name, frame):
    mark = Mark(obj(name), frame=frame)
    assert parse_mark(mark.spec()) == mark


@given(names, names, st.integers(-1048574, 1048574))
@example("char", "body:x", 1)
@example("PX", '"', 1)
def test_bone_refs_round_trip(arm, b, frame):
    mark = Mark(bone(arm, b), frame=frame)
    assert parse_mark(mark.spec()) == mark


@given(names, names)
@example("Cube", "12")
@example("Cube", "marker:x")
@example("a@b", "c@d")
def test_marker_marks_round_trip(name, marker):
    for mark in (Mark(obj(name), marker=marker), Mark(bone(name, name), marker=marker)):
        assert parse_mark(mark.spec()) == mark


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3))
def test_points_round_trip(coords):
    ref = SubjectRef("point", coords=tuple(coords))
    assert parse_mark(Mark(ref, frame=3).spec()).subject == ref


@pytest.mark.parametrize("text", ["Cube@99999999999", "Cube@1048575", "Cube@-1048575",
                                  "Cube@1e300"])
def test_frames_outside_blenders_range_are_refused_when_read(text):
    with pytest.raises(RackFocusError, match=r"outside Blender's frame range "
                                             r"-1048574\.\.1048574"):
        parse_mark(text)


def test_frames_at_blenders_limits_read():
    assert parse_mark("Cube@1048574").frame == 1048574
    assert parse_mark("Cube@-1048574").frame == -1048574
