"""Blender-style frame lists: parsing, errors, and the format/parse round trip."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackfocus_addon.errors import RackFocusError
from rackfocus_addon.frames import MAX_FRAME, MIN_FRAME, format_frame_list, parse_frame_list


@pytest.mark.parametrize("text,frames", [
    ("1,12,40-48", [1, 12, *range(40, 49)]),
    ("5", [5]),
    (" 5 , 1 ,3 ", [1, 3, 5]),
    ("3,1,2,3,1-2", [1, 2, 3]),
    ("-3--1", [-3, -2, -1]),
    ("-5-3", list(range(-5, 4))),
    ("-2", [-2]),
    ("0", [0]),
    ("7-7", [7]),
    ("40 - 42", [40, 41, 42]),
    ("-3 - -1", [-3, -2, -1]),
    (f"{MIN_FRAME},{MAX_FRAME}", [MIN_FRAME, MAX_FRAME]),
    (f"{MAX_FRAME - 1}-{MAX_FRAME}", [MAX_FRAME - 1, MAX_FRAME]),
])
def test_parse(text, frames):
    assert parse_frame_list(text) == frames


@pytest.mark.parametrize("text,needle", [
    ("", "empty item"),
    ("   ", "empty item"),
    ("1,,3", "empty item"),
    ("1,2,", "empty item"),
    ("48-40", "'48-40' ends before it starts \\(write 40-48\\)"),
    ("1--1", "ends before it starts"),
    ("1.5", "'1.5' is not a frame"),
    ("abc", "'abc' is not a frame"),
    ("1-2-3", "'1-2-3' is not a frame"),
    ("1-", "'1-' is not a frame"),
    ("+3", "not a frame"),
    ("1 2", "not a frame"),
    ("٣", "not a frame"),  # Arabic-Indic digit three: frames are ASCII digits
    (f"{MAX_FRAME + 1}", "outside Blender's frame range -1048574..1048574"),
    (f"{MIN_FRAME - 1}-0", "outside Blender's frame range -1048574..1048574"),
    ("1-" + "9" * 5000, "outside Blender's frame range"),
])
def test_bad_lists(text, needle):
    with pytest.raises(RackFocusError, match=needle) as err:
        parse_frame_list(text)
    message = str(err.value)
    assert "use A-B or N, separated by commas, e.g. 1,12,40-48" in message
    assert "\n" not in message


def test_format():
    assert format_frame_list([1, 2, 3, 7]) == "1-3,7"
    assert format_frame_list([7, 3, 1, 2, 2]) == "1-3,7"
    assert format_frame_list([5]) == "5"
    assert format_frame_list([]) == ""
    assert format_frame_list([-3, -2, -1, 1]) == "-3--1,1"
    assert format_frame_list([-5, -4, 0, 1, 2]) == "-5--4,0-2"
    assert format_frame_list(range(40, 49)) == "40-48"


frames = st.integers(MIN_FRAME, MAX_FRAME)


@given(st.lists(frames, min_size=1, max_size=40))
def test_round_trip_any(values):
    assert parse_frame_list(format_frame_list(values)) == sorted(set(values))


@given(st.lists(st.tuples(st.integers(-60, 60), st.integers(0, 6)), min_size=1, max_size=12))
def test_round_trip_runs(runs):
    values = [start + k for start, length in runs for k in range(length + 1)]
    text = format_frame_list(values)
    assert parse_frame_list(text) == sorted(set(values))
    # Canonical: formatting what was parsed gives the same text back.
    assert format_frame_list(parse_frame_list(text)) == text
