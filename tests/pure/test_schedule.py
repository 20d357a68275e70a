"""Timing a first pull from a selection."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackfocus_addon.schedule import beats


def test_three_subjects_at_24_fps_hold_half_a_second_and_rack_for_one():
    assert beats(3, 24.0, 1, 250) == [(1, 13), (37, 49), (73, 85)]


def test_a_short_shot_squeezes_every_beat_to_end_on_its_last_frame():
    got = beats(3, 24.0, 1, 48)
    assert got[0][0] == 1 and got[-1][1] == 48
    assert all(a <= b for a, b in got)
    assert all(b1 < a2 for (_a1, b1), (a2, _b2) in zip(got, got[1:]))


def test_one_subject_is_one_beat():
    assert beats(1, 24.0, 10, 20) == [(10, 10)]
    assert beats(0, 24.0, 10, 20) == []


@pytest.mark.parametrize("fps", [23.976, 25.0, 30.0, 60.0])
def test_seconds_follow_the_frame_rate(fps):
    (a0, l0), (a1, _l1) = beats(2, fps, 1, 10_000)
    assert l0 - a0 == pytest.approx(0.5 * fps, abs=1) and a1 - l0 == pytest.approx(fps, abs=1)


@given(st.integers(1, 6), st.sampled_from([24.0, 25.0, 30.0]), st.integers(-50, 50),
       st.integers(0, 400))
def test_beats_always_increase_and_stay_in_the_shot_when_it_has_room(count, fps, start, length):
    end = start + length
    got = beats(count, fps, start, end)
    frames = [f for beat in got for f in beat]
    assert frames == sorted(frames) and got[0][0] == start
    assert all(b1 < a2 for (_a1, b1), (a2, _b2) in zip(got, got[1:]))
    if length >= 2 * count:
        assert frames[-1] <= end
