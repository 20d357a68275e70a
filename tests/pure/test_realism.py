"""Lens realism curves: overshoot, f-stop ramp, breathing, hysteresis, sparse keys."""

import pytest

from rackfocus_addon import realism
from rackfocus_addon.easing import Easing
from rackfocus_addon.marks import SubjectRef
from rackfocus_addon.plan import Key, make_plan

A, B = SubjectRef("object", "A"), SubjectRef("object", "B")


@pytest.mark.parametrize("mode", ["out", "in", "in-out"])
def test_back_peak_matches_the_easing_curve(mode):
    e = Easing("back", mode)
    samples = [e(u / 4000.0) for u in range(4001)]
    peak = max(max(samples) - 1.0, -min(samples))
    assert realism.back_peak(e.back, mode) == pytest.approx(peak, abs=1e-5)


def test_default_back_overshoots_ten_percent():
    assert realism.back_peak(1.70158, "out") == pytest.approx(0.100, abs=1e-4)


@pytest.mark.parametrize("overshoot", [0.02, 0.06, 0.2])
@pytest.mark.parametrize("mode", ["out", "in-out"])
def test_back_for_overshoot_hits_the_requested_overshoot(overshoot, mode):
    s = realism.back_for_overshoot(overshoot, mode)
    e = Easing("back", mode, back=s)
    peak = max(e(u / 4000.0) for u in range(4001)) - 1.0
    assert peak == pytest.approx(overshoot, abs=1e-5)


def test_back_for_overshoot_rejects_out_of_range():
    with pytest.raises(ValueError, match="0 to 0.5"):
        realism.back_for_overshoot(0.9)


def test_fstop_ramp_keys_span_the_pull_with_native_easing():
    plan = make_plan([(A, 1), (A, 13), (B, 37), (B, 49)], Easing("cubic", "out"))
    keys = realism.fstop_ramp_keys(plan, 2.8, 2.0)
    assert keys == [Key(13, 2.8, "CUBIC", "EASE_OUT"), Key(37, 2.0)]


def test_fstop_ramp_never_bounces_and_covers_a_return():
    plan = make_plan([(A, 1), (B, 10), (B, 20), (A, 30)], Easing("back", "out"))
    keys = realism.fstop_ramp_keys(plan, 4.0, 2.0)
    assert [k.frame for k in keys] == [1, 30]
    assert keys[0].interpolation == "SINE"


def test_fstop_ramp_needs_a_pull():
    with pytest.raises(ValueError, match="needs a pull"):
        realism.fstop_ramp_keys(make_plan([(A, 1)]), 2.0, 4.0)
    with pytest.raises(ValueError, match="out of range"):
        realism.fstop_ramp_keys(make_plan([(A, 1), (B, 5)]), 0.1, 4.0)


def test_breathing_model():
    assert realism.breathing_lens_mm(50.0, 1e9, 0.02, 0.45) == pytest.approx(50.0)
    assert realism.breathing_lens_mm(50.0, 0.45, 0.02, 0.45) == pytest.approx(51.0)
    assert realism.breathing_lens_mm(50.0, 0.9, 0.02, 0.45) == pytest.approx(50.5)
    assert realism.breathing_lens_mm(50.0, 0.2, -0.04, 0.45) == pytest.approx(48.0)  # clamped


def test_breathing_keys_are_native_for_a_diopter_pull():
    from rackfocus_addon.optics import blend_focus

    plan = make_plan([(A, 1), (B, 25)], Easing("sine", "in-out"), "diopter")
    frames = list(range(1, 26))
    focus = [blend_focus(2.0, 8.0, plan.easing((f - 1) / 24.0), "diopter") for f in frames]
    keys = realism.breathing_keys(frames, focus, plan.spans(), plan.easing, 50.0, 0.03, 0.5)
    assert len(keys) == 2
    assert keys[0].value == pytest.approx(50.0 * (1 + 0.03 * 0.25))
    assert keys[1].value == pytest.approx(50.0 * (1 + 0.03 * 0.0625))
    assert keys[0].interpolation == "SINE"


def test_hysteresis_ignores_jitter_inside_the_band():
    jitter = [2.0, 2.01, 1.99, 2.005, 1.995, 2.0]
    out = realism.hysteresis(jitter, band_diopters=0.02)
    assert out == [pytest.approx(2.0)] * len(jitter)


def test_hysteresis_follows_a_move_with_bounded_lag():
    moving = [2.0 + 0.1 * i for i in range(30)]
    band = 0.02
    out = realism.hysteresis(moving, band)
    for subject, focus in zip(moving, out):
        assert abs(1 / subject - 1 / focus) <= band + 1e-12
    assert out == sorted(out)
    assert realism.hysteresis(moving, 0.0) == pytest.approx(moving)
    with pytest.raises(ValueError):
        realism.hysteresis(moving, -1.0)


def test_sparse_keys_keep_only_bends():
    frames = list(range(1, 11))
    values = [1, 1, 1, 2, 3, 4, 4, 4, 4, 4]
    keys = realism.sparse_keys(frames, values)
    assert [(k.frame, k.value) for k in keys] == [(1, 1), (3, 1), (6, 4), (10, 4)]
    assert realism.sparse_keys([], []) == []
    assert [k.frame for k in realism.sparse_keys([5], [2.0])] == [5]


def test_fstop_at_matches_the_ramp_keys():
    plan = make_plan([(A, 1), (A, 13), (B, 37), (B, 49)], Easing("cubic", "out"))
    assert realism.fstop_at(plan, 2.8, 2.0, 1) == 2.8
    assert realism.fstop_at(plan, 2.8, 2.0, 40) == 2.0
    # Cubic ease-out is 87.5 % of the way at half time.
    assert realism.fstop_at(plan, 2.8, 2.0, 25) == pytest.approx(2.8 - 0.8 * 0.875)
    assert realism.fstop_at(make_plan([(A, 1)]), 2.8, 2.0, 5) == 2.8
