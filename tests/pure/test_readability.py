"""Readability: blur in pixels at each end of a pull, warnings and the solved f-stop."""

import pytest

from rackfocus_addon import optics
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import SubjectRef
from rackfocus_addon.plan import make_plan
from rackfocus_addon.readability import THIRD_STOPS, LensSetup, assess, real_stop_at_most

NEAR, FAR = SubjectRef("object", "Near"), SubjectRef("object", "Far")
DIST = {0: 2.0, 1: 8.0}


def plan():
    return make_plan([(NEAR, 1), (NEAR, 13), (FAR, 37), (FAR, 49)], Easing())


def test_reports_each_subjects_blur_at_start_and_end():
    lens = LensSetup(50.0, 2.0, 36.0, 1920)
    report = assess(plan(), lambda i, f: DIST[i], lens)
    assert [m.frame for m in report.moments] == [13, 37]
    start, end = report.moments
    assert start.blur_px[0] == 0.0
    assert start.blur_px[1] == pytest.approx(optics.coc_px(8.0, 2.0, 50.0, 2.0, 36.0, 1920))
    assert end.blur_px[1] == 0.0
    assert end.blur_px[0] == pytest.approx(optics.coc_px(2.0, 8.0, 50.0, 2.0, 36.0, 1920))
    assert report.readable and report.suggested_fstop is None
    assert "frame 13: focus 2.00 m on 'Near'" in report.lines()[0]


def test_warns_and_solves_the_fstop_that_makes_it_read():
    # A wide lens stopped down on a small render: the far subject barely blurs.
    lens = LensSetup(24.0, 11.0, 36.0, 640)
    report = assess(plan(), lambda i, f: DIST[i], lens, min_blur_px=3.0)
    assert not report.readable
    assert "is blurred by only" in report.warnings[0] and "'Far'" in report.warnings[0]
    n = report.suggested_fstop
    assert n is not None and n < 11.0
    # At the suggested stop every soft subject reaches the threshold.
    again = assess(plan(), lambda i, f: DIST[i], LensSetup(24.0, n, 36.0, 640), min_blur_px=3.0)
    assert [w for w in again.warnings if "blurred by only" in w] == []
    # ... it is a stop marked on a lens ring, and the tight one: the next third stop narrower
    # would not read.
    assert n in THIRD_STOPS
    narrower = THIRD_STOPS[THIRD_STOPS.index(n) + 1]
    worse = assess(plan(), lambda i, f: DIST[i], LensSetup(24.0, narrower, 36.0, 640), 3.0)
    assert not worse.readable


def test_same_depth_subjects_cannot_be_fixed_by_aperture():
    report = assess(plan(), lambda i, f: 4.0, LensSetup(50.0, 2.0, 36.0, 1920))
    assert any("same distance" in w for w in report.warnings)
    assert report.suggested_fstop is None


def test_points_that_are_only_a_place_to_focus_need_no_blur():
    soft = SubjectRef("point", coords=(0.0, 1.0, 0.0))
    p = make_plan([(soft, 1), (FAR, 20)])
    lens = LensSetup(50.0, 2.0, 36.0, 1920)
    report = assess(p, lambda i, f: [1.0, 8.0][i], lens, visible=[False, True])
    assert report.moments[0].must_be_soft == (1,)
    assert report.moments[1].must_be_soft == ()
    assert report.readable


def test_unrealistic_fstop_suggestion_says_how_else_to_fix_it():
    report = assess(plan(), lambda i, f: {0: 50.0, 1: 51.0}[i], LensSetup(35.0, 8.0, 36.0, 64))
    assert report.suggested_fstop < 0.95
    assert any("wider than real lenses" in w for w in report.warnings)


def test_an_fstop_ramp_is_measured_at_each_moments_fstop():
    lens = LensSetup(50.0, 4.0, 36.0, 1920)
    ramp = {13: 4.0, 37: 2.0}
    report = assess(plan(), lambda i, f: DIST[i], lens, fstop_at=ramp.__getitem__)
    start, end = report.moments
    assert start.blur_px[1] == pytest.approx(optics.coc_px(8.0, 2.0, 50.0, 4.0, 36.0, 1920))
    assert end.blur_px[0] == pytest.approx(optics.coc_px(2.0, 8.0, 50.0, 2.0, 36.0, 1920))
    # Unreadable at the start only: the suggestion scales the ramp's first f-stop.
    threshold = start.blur_px[1] * 1.5
    report = assess(plan(), lambda i, f: DIST[i], lens, threshold, fstop_at=ramp.__getitem__)
    assert len([w for w in report.warnings if "blurred by only" in w]) == 1
    assert report.suggested_fstop == 2.5  # f/2.67 needed: the third stop at or below it


def test_suggestions_are_real_third_stops():
    assert real_stop_at_most(11.1) == 11.0
    assert real_stop_at_most(10.99) == 10.0
    assert real_stop_at_most(5.6) == 5.6
    assert real_stop_at_most(3.3) == 3.2
    assert real_stop_at_most(0.97) == 0.9
