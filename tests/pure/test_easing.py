import math

import pytest

from rackfocus_addon.easing import KINDS, MODES, Easing, parse_easing
from rackfocus_addon.errors import RackFocusError


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_every_curve_starts_at_zero_and_ends_at_one(kind, mode):
    e = Easing(kind, mode)
    assert e(0.0, 24.0) == pytest.approx(0.0, abs=1e-9)
    assert e(1.0, 24.0) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("bezier", "elastic")])
def test_out_mirrors_in(kind):
    ein, eout = Easing(kind, "in"), Easing(kind, "out")
    for u in (0.1, 0.3, 0.5, 0.8):
        assert eout(u) == pytest.approx(1.0 - ein(1.0 - u), abs=1e-12)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "elastic"])
def test_in_out_is_half_way_at_the_middle(kind):
    assert Easing(kind, "in-out")(0.5) == pytest.approx(0.5, abs=1e-9)


def test_known_values():
    assert Easing("sine", "in")(0.5) == pytest.approx(1 - math.cos(math.pi / 4))
    assert Easing("quad", "out")(0.5) == pytest.approx(0.75)
    assert Easing("cubic", "in-out")(0.25) == pytest.approx(0.0625)
    assert Easing("bezier")(0.25) == pytest.approx(0.15625)
    # BACK overshoots below zero early in an ease-in.
    assert Easing("back", "in")(0.2) < 0.0
    assert Easing("expo", "in")(0.0) == 0.0


def test_value_scales_change_and_begin():
    e = Easing("quad", "in")
    assert e.value(5.0, 2.0, 6.0, 10.0) == pytest.approx(2.0 + 6.0 * 0.25)
    assert e.value(20.0, 2.0, 6.0, 10.0) == pytest.approx(8.0)
    assert e.value(3.0, 2.0, 6.0, 0.0) == pytest.approx(8.0)


def test_parse_easing_spellings():
    assert parse_easing("sine:in-out") == Easing("sine", "in-out")
    assert parse_easing("EXPO:out") == Easing("expo", "out")
    assert parse_easing("cubic:ease_in_out") == Easing("cubic", "in-out")
    assert parse_easing("bezier") == Easing("bezier", "in-out")
    assert parse_easing("quad:inout").spec() == "quad:in-out"


@pytest.mark.parametrize("text,needle", [
    ("wobble", "Unknown easing 'wobble'"),
    ("sine:sideways", "Unknown easing mode 'sideways'"),
    ("", "Empty easing"),
])
def test_parse_easing_errors(text, needle):
    with pytest.raises(RackFocusError, match=needle):
        parse_easing(text)


def test_blender_enums():
    e = Easing("circ", "out")
    assert (e.blender_interpolation, e.blender_easing) == ("CIRC", "EASE_OUT")


# --- known values, computed here from the textbook formulas (not by calling the module) --------
# Penner's easing equations as Blender's BLI_easing_* write them (time, begin 0, change 1,
# duration 1); Blender rescales EXPO so it starts at 0 and ends at 1 exactly.

_EXPO_MIN = 2.0 ** -10
_EXPO_SCALE = 1.0 / (1.0 - _EXPO_MIN)


def _penner(kind, mode, t):
    if kind == "quart":
        return {"in": t ** 4, "out": 1 - (1 - t) ** 4,
                "in-out": 8 * t ** 4 if t < 0.5 else 1 - (-2 * t + 2) ** 4 / 2}[mode]
    if kind == "circ":
        return {"in": 1 - math.sqrt(1 - t * t), "out": math.sqrt(1 - (t - 1) ** 2),
                "in-out": (1 - math.sqrt(1 - (2 * t) ** 2)) / 2 if t < 0.5
                else (math.sqrt(1 - (-2 * t + 2) ** 2) + 1) / 2}[mode]
    if kind == "expo":
        if mode == "in":
            return (2 ** (10 * (t - 1)) - _EXPO_MIN) * _EXPO_SCALE
        if mode == "out":
            return 1 - (2 ** (-10 * t) - _EXPO_MIN) * _EXPO_SCALE
        t2 = t * 2
        if t2 < 1:
            return 0.5 * (2 ** (10 * (t2 - 1)) - _EXPO_MIN) * _EXPO_SCALE
        return 0.5 * (2 - (2 ** (-10 * (t2 - 1)) - _EXPO_MIN) * _EXPO_SCALE)
    if kind == "back" and mode == "in-out":
        s = 1.70158 * 1.525
        t2 = t * 2
        if t2 < 1:
            return 0.5 * (t2 * t2 * ((s + 1) * t2 - s))
        t2 -= 2
        return 0.5 * (t2 * t2 * ((s + 1) * t2 + s) + 2)
    if kind == "bounce" and mode == "out":
        n, d = 7.5625, 2.75
        if t < 1 / d:
            return n * t * t
        if t < 2 / d:
            t -= 1.5 / d
            return n * t * t + 0.75
        if t < 2.5 / d:
            t -= 2.25 / d
            return n * t * t + 0.9375
        t -= 2.625 / d
        return n * t * t + 0.984375
    raise AssertionError(kind)


KNOWN = [(k, m) for k in ("quart", "circ", "expo") for m in ("in", "out", "in-out")]
KNOWN += [("back", "in-out"), ("bounce", "out")]


@pytest.mark.parametrize("kind,mode", KNOWN)
@pytest.mark.parametrize("u", [0.25, 0.5, 0.75])
def test_known_values_from_pen_and_paper(kind, mode, u):
    assert Easing(kind, mode)(u, 24.0) == pytest.approx(_penner(kind, mode, u), abs=1e-9)


def test_a_few_literal_values():
    """Values worked out by hand, so a wrong reference above cannot hide a wrong curve."""
    assert Easing("quart", "in")(0.25) == pytest.approx(0.00390625)
    assert Easing("quart", "out")(0.75) == pytest.approx(0.99609375)
    assert Easing("quart", "in-out")(0.75) == pytest.approx(0.96875)
    assert Easing("bounce", "out")(0.25) == pytest.approx(0.47265625)
    assert Easing("bounce", "out")(0.5) == pytest.approx(0.765625)
    assert Easing("bounce", "out")(0.75) == pytest.approx(0.97265625)
    assert Easing("circ", "out")(0.5) == pytest.approx(math.sqrt(0.75))
    assert Easing("back", "in-out")(0.25) == pytest.approx(-0.0996818, abs=1e-6)


def _blender_elastic_out(time, change, duration, amplitude, period):
    """BLI_easing_elastic_ease_out (begin 0): ``time``, ``duration`` and ``period`` in frames,
    ``amplitude`` in value units; an amplitude below the change damps the swing near the key."""
    if time == 0:
        return 0.0
    time /= duration
    if time == 1:
        return change
    time = -time
    f = 1.0
    if not period:
        period = duration * 0.3
    if not amplitude or amplitude < abs(change):
        s = period / 4
        if change:  # elastic_blend()
            f = amplitude / abs(change) if amplitude else 0.0
            if abs(time * duration) < abs(s):
                lerp = abs(time * duration) / abs(s)
                f = f * lerp + (1 - lerp)
        amplitude = change
    else:
        s = period / (2 * math.pi) * math.asin(change / amplitude)
    return f * (amplitude * 2 ** (10 * time)
                * math.sin((time * duration - s) * (2 * math.pi) / period)) + change


@pytest.mark.parametrize("amplitude,period", [(0.8, 4.1), (0.0, 0.0), (2.0, 6.0)])
@pytest.mark.parametrize("u", [0.25, 0.5, 0.75])
def test_elastic_out_with_blenders_amplitude_and_period(amplitude, period, u):
    duration = 24.0
    e = Easing("elastic", "out", amplitude=amplitude, period=period)
    truth = _blender_elastic_out(u * duration, 1.0, duration, amplitude, period)
    assert e(u, duration) == pytest.approx(truth, abs=1e-9)
    # Amplitude is absolute: a change of 3 with amplitude 0.8 is damped differently.
    truth3 = _blender_elastic_out(u * duration, 3.0, duration, amplitude, period)
    assert e.value(u * duration, 1.0, 3.0, duration) == pytest.approx(1.0 + truth3, abs=1e-9)
