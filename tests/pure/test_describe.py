"""Plain-text pull descriptions for AI video prompts, built from the plan and distances."""

from rackfocus_addon.describe import describe, duration_words, easing_words
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import SubjectRef
from rackfocus_addon.plan import make_plan
from rackfocus_addon.readability import LensSetup

NEAR, FAR = SubjectRef("object", "Anna"), SubjectRef("object", "Ben")


def test_foreground_to_background_sentence():
    plan = make_plan([(NEAR, 1), (NEAR, 13), (FAR, 37), (FAR, 49)], Easing("sine", "in-out"),
                     "distance")
    text = describe(plan, [2.0, 2.0, 8.0, 8.0], 24.0, LensSetup(50.0, 2.0, 36.0, 1920))
    assert text.startswith("Shallow depth of field (50 mm lens at f/2), foreground subject "
                           "'Anna' sharp, background subject 'Ben' soft, 6.0 m apart in depth")
    assert "then after half a second, rack focus to the background ('Ben') over one second " \
           "(24 frames at 24 fps), with a smooth ease in and out" in text
    assert text.endswith("and hold on 'Ben' for half a second.")


def test_background_to_foreground_and_back():
    plan = make_plan([(FAR, 1), (NEAR, 25), (NEAR, 61), (FAR, 79)], Easing("expo", "out"),
                     "diopter")
    text = describe(plan, [8.0, 2.0, 2.0, 8.0], 24.0)
    assert "background subject 'Ben' sharp, foreground subject 'Anna' soft" in text
    assert "rack focus to the foreground ('Anna') over one second" in text
    assert "after 1.5 seconds, rack back to the background ('Ben') over 18 frames" not in text
    assert "rack back to the background ('Ben') over 0.75 seconds" in text
    assert "snapping away fast and easing gently onto it" in text
    assert "interpolated in diopters" in text


def test_reveal_opens_soft():
    soft = SubjectRef("point", coords=(0.0, 1.2, 0.0))
    plan = make_plan([(soft, 1), (soft, 25), (FAR, 61)], Easing("cubic", "in-out"))
    text = describe(plan, [1.2, 1.2, 8.0], 24.0, visible=[False, True])
    assert "the shot opens soft: subject 'Ben' is an unreadable blur" in text
    assert "after one second, focus sharpens to reveal 'Ben' over 1.5 seconds" in text


def test_deep_focus_is_called_out():
    plan = make_plan([(NEAR, 1), (FAR, 25)])
    text = describe(plan, [20.0, 21.0], 24.0, LensSetup(18.0, 16.0, 36.0, 640))
    assert text.startswith("Moderate depth of field (subtle focus change)")


def test_words():
    assert duration_words(24, 24) == "one second"
    assert duration_words(48, 24) == "two seconds"
    assert duration_words(36, 24) == "1.5 seconds"
    assert duration_words(4, 24) == "4 frames (a snap)"
    assert duration_words(12, 24) == "half a second"
    assert easing_words(Easing("linear")) == "at a constant speed"
    assert "overshooting" in easing_words(Easing("back", "out"))
    assert "starting slowly" in easing_words(Easing("quad", "in"))


def test_locked_focus():
    assert describe(make_plan([(NEAR, 1)]), [2.0], 24.0).startswith("Locked focus on")
