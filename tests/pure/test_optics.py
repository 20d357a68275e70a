"""Thin-lens optics against published depth-of-field tables (within 1 %)."""

import math

import pytest

from rackfocus_addon import optics

# (focal mm, f-stop, CoC mm, hyperfocal m) as DOF tables (DOFMaster, Wikipedia) print them.
HYPERFOCAL_TABLE = [
    (50.0, 2.8, 0.03, 29.8),
    (35.0, 8.0, 0.03, 5.14),
    (24.0, 11.0, 0.03, 1.77),
    (85.0, 1.4, 0.03, 172.1),
]

# (focal, f-stop, CoC, subject m, near m, far m) from DOFMaster's calculator.
LIMITS_TABLE = [
    (50.0, 2.8, 0.03, 3.0, 2.73, 3.33),
    (50.0, 2.8, 0.03, 10.0, 7.49, 15.0),
]


@pytest.mark.parametrize("focal, fstop, coc, table_m", HYPERFOCAL_TABLE)
def test_hyperfocal_matches_tables_within_one_percent(focal, fstop, coc, table_m):
    got = optics.hyperfocal_m(focal, fstop, coc)
    assert abs(got - table_m) / table_m < 0.01, got


def test_issue_figure_50mm_f28():
    assert optics.hyperfocal_m(50.0, 2.8, 0.03) == pytest.approx(29.81, abs=0.01)


@pytest.mark.parametrize("focal, fstop, coc, s, near, far", LIMITS_TABLE)
def test_near_far_limits_match_tables(focal, fstop, coc, s, near, far):
    n, f = optics.dof_limits_m(s, focal, fstop, coc)
    assert abs(n - near) / near < 0.01
    assert abs(f - far) / far < 0.01


def test_far_limit_is_infinite_from_hyperfocal_on():
    h = optics.hyperfocal_m(50.0, 2.8, 0.03)
    near, far = optics.dof_limits_m(h, 50.0, 2.8, 0.03)
    assert math.isinf(far)
    assert near == pytest.approx(h / 2.0, rel=0.01)  # focus at H: sharp from H/2 to infinity


@pytest.mark.parametrize("w, h, table", [(36.0, 24.0, 0.029), (23.6, 15.7, 0.019),
                                         (17.3, 13.0, 0.0144)])
def test_standard_coc_matches_tables(w, h, table):
    """Full frame 0.029 mm, APS-C (Nikon DX) 0.019 mm, Four Thirds 0.0144 mm (d/1500)."""
    assert abs(optics.standard_coc_mm(w, h) - table) / table < 0.01


def test_coc_equals_the_acceptable_coc_at_the_limits():
    """The DOF limits are by definition where the blur circle equals the CoC."""
    focal, fstop, coc = 50.0, 2.8, 0.03
    near, far = optics.dof_limits_m(3.0, focal, fstop, coc)
    assert optics.coc_mm(near, 3.0, focal, fstop) == pytest.approx(coc, rel=1e-9)
    assert optics.coc_mm(far, 3.0, focal, fstop) == pytest.approx(coc, rel=1e-9)
    h = optics.hyperfocal_m(focal, fstop, coc)
    assert optics.coc_mm(1e12, h, focal, fstop) == pytest.approx(coc, rel=1e-6)


def test_coc_in_pixels_scales_with_resolution_and_sensor():
    mm = optics.coc_mm(8.0, 2.0, 50.0, 2.0)
    # f^2 / (N (d - f)) * |s - d| / s = 2500 / (2 * 1950) * 6/8 mm
    assert mm == pytest.approx(2500.0 / (2.0 * 1950.0) * 0.75, rel=1e-12)
    assert optics.coc_px(8.0, 2.0, 50.0, 2.0, 36.0, 1920) == pytest.approx(mm * 1920 / 36.0)
    assert optics.coc_px(2.0, 2.0, 50.0, 2.0, 36.0, 1920) == 0.0


@pytest.mark.parametrize("subject, blur", [(8.0, 0.2), (2.0, 0.05), (30.0, 1.0)])
def test_focus_for_blur_puts_the_subject_at_that_blur(subject, blur):
    d = optics.focus_for_blur_m(subject, blur, 50.0, 2.0)
    assert d < subject
    assert optics.coc_mm(subject, d, 50.0, 2.0) == pytest.approx(blur, rel=1e-9)


def test_focus_for_blur_clamps_beyond_the_lens():
    d = optics.focus_for_blur_m(1.0, 1000.0, 50.0, 8.0)
    assert 0.05 < d < 0.051  # just beyond the focal length: as soft as the lens can make it


def test_diopter_blend_is_harmonic_mean_halfway():
    assert optics.blend_focus(2.0, 8.0, 0.5, "diopter") == pytest.approx(2 / (0.5 + 0.125))
    assert optics.blend_focus(2.0, 8.0, 0.5, "distance") == 5.0
