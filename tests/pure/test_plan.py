import pytest

from rackfocus_addon.easing import Easing
from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.marks import Mark, SubjectRef, parse_mark
from rackfocus_addon.optics import blend_focus
from rackfocus_addon.plan import Key, Span, fit_keys, influence_for, make_plan

A = SubjectRef("object", "A")
B = SubjectRef("object", "B")


def test_parse_marks():
    assert parse_mark("Cube@12") == Mark(A.__class__("object", "Cube"), frame=12)
    assert parse_mark("Rig:head@3").subject == SubjectRef("bone", "Rig", "head")
    assert parse_mark("point:1,2.5,-3@7").subject.coords == (1.0, 2.5, -3.0)
    assert parse_mark("px:640,360@1").subject == SubjectRef("pixel", coords=(640.0, 360.0))
    assert parse_mark("Cube@marker:line2") == Mark(SubjectRef("object", "Cube"), marker="line2")
    assert parse_mark("Cube@line2").marker == "line2"
    assert parse_mark("my@obj@4").subject.name == "my@obj"


@pytest.mark.parametrize("text,needle", [
    ("Cube", "has no frame"),
    ("@12", "names no subject"),
    ("point:1,2@3", "needs 3 numbers"),
    ("px:a,b@3", "needs 2 numbers"),
    ("Cube@1.5", "whole numbers"),
    (":bone@1", "ARMATURE:BONE"),
])
def test_bad_marks(text, needle):
    with pytest.raises(RackFocusError, match=needle):
        parse_mark(text)


def test_plan_validation():
    with pytest.raises(RackFocusError, match="Two marks on frame 5"):
        make_plan([(A, 5), (B, 5)])
    with pytest.raises(RackFocusError, match="out of order"):
        make_plan([(A, 10), (B, 5)])
    with pytest.raises(RackFocusError, match="at least one"):
        make_plan([])
    with pytest.raises(RackFocusError, match="space"):
        make_plan([(A, 1)], space="wavelength")


def test_runs_and_spans():
    plan = make_plan([(A, 1), (A, 10), (B, 30), (A, 40)])
    assert plan.subjects == (A, B)
    assert plan.runs() == [(0, 1, 10), (1, 30, 30), (0, 40, 40)]
    spans = plan.spans(-5, 50)
    assert spans[0] == Span(-5, 1, 0, 0)
    assert spans[-1] == Span(40, 50, 0, 0)
    assert [s.is_pull for s in spans] == [False, False, True, True, False]


@pytest.mark.parametrize("space,mid", [("distance", 5.0), ("diopter", 3.2)])
def test_midpoint_is_arithmetic_or_harmonic(space, mid):
    plan = make_plan([(A, 0), (B, 20)], Easing("sine", "in-out"), space)
    dist = {0: 2.0, 1: 8.0}
    assert plan.focus_m(10, dist.__getitem__) == pytest.approx(mid, rel=1e-12)
    assert plan.focus_m(0, dist.__getitem__) == 2.0
    assert plan.focus_m(20, dist.__getitem__) == 8.0
    assert plan.focus_m(-3, dist.__getitem__) == 2.0
    assert plan.focus_m(99, dist.__getitem__) == 8.0


def test_diopter_blend_is_even_in_inverse_distance():
    quarter = blend_focus(1.0, 4.0, 0.25, "diopter")
    assert 1.0 / quarter == pytest.approx(1.0 - 0.25 * 0.75)


def test_fit_keys_static_pull_is_two_native_keys():
    plan = make_plan([(A, 1), (A, 5), (B, 15)], Easing("expo", "out"))
    frames = list(range(1, 21))
    values = [plan.focus_m(f, {0: 2.0, 1: 8.0}.__getitem__) for f in frames]
    keys = fit_keys(frames, values, plan.spans(1, 20), plan.easing)
    assert keys == [
        Key(1, 2.0), Key(5, 2.0, "EXPO", "EASE_OUT"), Key(15, 8.0), Key(20, 8.0),
    ]


def test_fit_keys_moving_subject_keys_every_frame_of_its_span():
    plan = make_plan([(A, 1), (A, 10)])
    frames = list(range(1, 11))
    values = [2.0 + 0.1 * f * f for f in frames]  # accelerating: no two-key line fits
    keys = fit_keys(frames, values, plan.spans(1, 10), plan.easing)
    assert [k.frame for k in keys] == frames
    assert all(k.interpolation == "LINEAR" for k in keys)
    assert keys[3].value == pytest.approx(2.0 + 0.1 * 16)


def test_fit_keys_diopter_pull_needs_per_frame_keys():
    plan = make_plan([(A, 0), (B, 10)], Easing("linear"), "diopter")
    frames = list(range(0, 11))
    values = [plan.focus_m(f, {0: 1.0, 1: 10.0}.__getitem__) for f in frames]
    keys = fit_keys(frames, values, plan.spans(0, 10), plan.easing)
    assert len(keys) == 11


def test_influence_inverts_position_blend():
    assert influence_for(2.0, 8.0, 3.2, 0.5) == pytest.approx(0.2)
    assert influence_for(4.0, 4.0, 4.0, 0.37) == 0.37


def test_a_one_frame_shot_still_gets_its_key():
    """A still plate sets the range to one frame: the bake must still key the focus there."""
    plan = make_plan([(SubjectRef("object", name="A"), 1)])
    assert fit_keys([1], [8.0], plan.spans(1, 1), plan.easing) == [Key(1, 8.0)]


@pytest.mark.parametrize("frame", [1048575, -1048575, 99999999999, 10_000_000])
def test_frames_outside_blenders_range_are_refused_naming_the_limit(frame):
    with pytest.raises(RackFocusError, match=r"outside Blender's frame range "
                                             r"-1048574\.\.1048574"):
        make_plan([(A, 1), (B, frame)] if frame > 0 else [(A, frame), (B, 1)])


def test_frames_at_blenders_limits_are_fine():
    plan = make_plan([(A, -1048574), (B, 1048574)])
    assert (plan.first_frame, plan.last_frame) == (-1048574, 1048574)
