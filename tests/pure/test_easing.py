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
