"""Pictures without a plotting library (rackfocus_addon/plot.py): the bitmap font, lines, ticks,
the focus plot's curves and marks where the numbers put them, and the labelled contact sheet."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackfocus_addon import plot

WHITE = (1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0)


def mask_of(img, color, tol=1e-4):
    return np.all(np.abs(img[..., :3] - np.array(color, dtype=np.float32)) < tol, axis=-1)


def test_the_font_covers_printable_ascii_with_distinct_glyphs():
    seen = {}
    for code in range(32, 127):
        ch = chr(code)
        bits = plot.glyph(ch)
        assert bits.shape == (plot.GLYPH_H, plot.GLYPH_W) and bits.dtype == bool
        assert (ch == " ") == (not bits.any()), ch
        key = bits.tobytes()
        assert key not in seen, f"{ch!r} looks like {seen.get(key)!r}"
        seen[key] = ch
    box = plot.glyph("é")
    assert box[0].all() and box[-1].all() and box[:, 0].all() and box[:, -1].all()
    assert not box[1:-1, 1:-1].any()


def test_glyph_bitmaps_read_top_row_first_leftmost_pixel_first():
    assert plot.glyph("L")[:, 0].all() and plot.glyph("L")[-1].all()
    assert plot.glyph("L")[:-1, 1:].sum() == 0
    assert plot.glyph("T")[0].all() and plot.glyph("T")[1:, 2].all()
    assert plot.glyph("1")[0].tolist() == [False, False, True, False, False]


def test_text_is_drawn_inside_its_box_and_scales():
    img = plot.new_image(60, 20, WHITE)
    end = plot.draw_text(img, 3, 4, "A1", BLACK)
    w, h = plot.text_size("A1")
    assert (w, h) == (11, 7) and end == 3 + w
    ink = mask_of(img, BLACK)
    ys, xs = np.nonzero(ink)
    assert xs.min() >= 3 and xs.max() < 3 + w and ys.min() >= 4 and ys.max() < 4 + h
    assert np.array_equal(ink[4:11, 3:8], plot.glyph("A"))
    big = plot.new_image(60, 30, WHITE)
    plot.draw_text(big, 0, 0, "A", BLACK, scale=2)
    assert np.array_equal(mask_of(big, BLACK)[:14, :10],
                          np.kron(plot.glyph("A"), np.ones((2, 2), dtype=bool)))
    assert plot.text_size("A", 3) == (15, 21) and plot.text_size("") == (0, 7)


def test_text_and_lines_are_clipped_at_the_edges():
    img = plot.new_image(10, 6, WHITE)
    plot.draw_text(img, -4, -3, "WWWWWW", BLACK, scale=2)
    plot.draw_text(img, 50, 50, "X", BLACK)
    plot.draw_line(img, -20, 3, 40, 3, BLACK, width=3)
    plot.fill_rect(img, -5, -5, 100, 1, BLACK)
    assert mask_of(img, BLACK)[2:5].all()


def test_lines_dashes_and_polylines():
    img = plot.new_image(40, 20, WHITE)
    plot.draw_line(img, 2, 5, 30, 5, BLACK)
    ink = mask_of(img, BLACK)
    assert ink[5, 2:31].all() and ink.sum() == 29
    dashed = plot.new_image(40, 20, WHITE)
    plot.draw_line(dashed, 0, 10, 39, 10, BLACK, dash=4)
    row = mask_of(dashed, BLACK)[10]
    assert row[:4].all() and not row[5:8].any() and row[8:12].all()
    poly = plot.new_image(40, 20, WHITE)
    plot.draw_polyline(poly, [0, 10, 20, 30], [2, 2, None, 15], BLACK, width=1)
    ink = mask_of(poly, BLACK)
    assert ink[2, :11].all() and not ink[:, 12:29].any()
    assert ink[14:17, 29:32].all()  # the lone last point still shows


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), st.floats(1e-3, 1e6), st.integers(2, 10))
def test_nice_ticks_cover_the_range_in_round_steps(lo, span, count):
    hi = lo + span
    ticks = plot.nice_ticks(lo, hi, count)
    step = ticks[1] - ticks[0]
    assert ticks[0] <= lo + 1e-8 * step and ticks[-1] >= hi - 1e-8 * step
    mantissa = step / 10 ** math.floor(math.log10(step))
    # Ticks are rounded to 10 decimals and far from 0 carry the float error of their size: a
    # step read back from two of them is exact only to that (lo = 393543.8, span 1e-3 was
    # 1.3e-6 off).
    slack = (2e-10 + 4e-16 * max(abs(lo), abs(hi))) / step
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6 + slack
    assert len(ticks) <= 2 * count + 2


def test_tick_labels():
    assert plot.nice_ticks(0, 8.3) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert plot.nice_ticks(0, 0.37, 4) == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert plot.nice_ticks(5, 5) == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert plot.tick_label(2.5, 0.5) == "2.5"
    assert plot.tick_label(10.0, 5.0) == "10"
    assert plot.tick_label(0.25, 0.25) == "0.25"


def test_linear_to_srgb():
    values = plot.linear_to_srgb(np.array([0.0, 0.0031308, 0.5, 1.0, 2.0, -1.0]))
    assert values[0] == 0.0 and values[3] == pytest.approx(1.0)
    assert values[1] == pytest.approx(0.04045, abs=1e-5)
    assert values[2] == pytest.approx(0.7354, abs=1e-3)
    assert values[4] == pytest.approx(1.0) and values[5] == 0.0


def focus_plot_fixture():
    frames = list(range(1, 41))
    focus = [2.0 + 6.0 * (f - 1) / 39 for f in frames]  # 2 m to 8 m, a straight ramp
    blur = {"Near": [0.5 * (f - 1) for f in frames],
            "Far": [None if 18 <= f <= 22 else 10.0 for f in frames]}
    marks = [(1, "Near@1"), (20, "Far@20"), (40, "Far@40"), (90, "Gone@90")]
    return frames, focus, blur, marks


def test_the_focus_plot_draws_each_curve_where_its_numbers_put_it():
    frames, focus, blur, marks = focus_plot_fixture()
    img = plot.focus_plot(frames, focus, blur, marks, title="sh010", width=640, height=400)
    assert img.shape == (400, 640, 4) and img.dtype == np.float32
    assert np.all(img[..., 3] == 1.0)

    # The focus curve: in every column it covers, its pixels sit at the focus's height.
    curve = mask_of(img, plot.FOCUS)
    left, right, top = 70, 640 - 20, 52
    body = 400 - top - 22 - 18 - 34
    bottom = top + body // 2
    ticks = plot.nice_ticks(0.0, 8.0, 4)  # the axis runs 0 .. 8 m
    for frame in (1, 10, 25, 40):
        x = round(left + (frame - 1) / 39 * (right - left))
        ys = np.nonzero(curve[:, x])[0]
        assert len(ys), frame
        expected = bottom - focus[frame - 1] / ticks[-1] * (bottom - top)
        assert abs(ys.mean() - expected) <= 1.5, (frame, ys, expected)

    # Marks: dashed vertical lines in the mark colour at their frames, through both panels;
    # a mark outside the frames shown is left out.
    mark = mask_of(img, plot.MARK)
    x20 = round(left + 19 / 39 * (right - left))
    column = mark[top:bottom, x20]
    assert 0.3 < column.mean() < 0.8  # dashed
    assert mark[bottom + 40:bottom + 120, x20].any()
    assert not mark[:, right + 2:].any() or mark[:, right + 2:].sum() < 200

    # Subjects in their palette colours; the gap (None) leaves a hole in Far's curve.
    near = mask_of(img, plot.PALETTE[0])
    far = mask_of(img, plot.PALETTE[1])
    assert near[bottom:, left:right].sum() > 100 and far[bottom:, left:right].sum() > 100
    x_gap = round(left + 19 / 39 * (right - left))
    assert not far[bottom + 34:400 - 40, x_gap - 3:x_gap + 4].any()
    # The legend names the subjects, the title is drawn large.
    assert mask_of(img, plot.TEXT)[8:22, 12:60].any()


def test_the_focus_plot_takes_a_single_frame_and_refuses_mismatched_input():
    img = plot.focus_plot([7], [3.0], {"A": [None]}, [(7, "A@7")])
    assert img.shape == (480, 800, 4)
    with pytest.raises(ValueError):
        plot.focus_plot([], [], {})
    with pytest.raises(ValueError):
        plot.focus_plot([1, 2], [1.0], {})
    with pytest.raises(ValueError):
        plot.focus_plot([1, 2], [1.0, 2.0], {"A": [1.0]})


def test_the_labelled_sheet_puts_each_tile_over_its_caption():
    tiles = []
    for i in range(5):
        tile = np.zeros((18, 32, 4), dtype=np.float32)
        tile[..., 0] = (i + 1) / 10
        tile[..., 3] = 1.0
        tiles.append(tile)
    labels = [f"f{i}  2.00 m" for i in range(5)]
    sheet = plot.labelled_sheet(tiles, labels, columns=3, gap_px=4, min_tile_px=1)
    label_w = plot.text_size(labels[0])[0]
    cell_w = max(32, label_w + 2)
    cell_h = 18 + plot.LINE_H + 2
    assert sheet.shape == (2 * cell_h + 3 * 4, 3 * cell_w + 4 * 4, 4)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, 3)
        x = 4 + c * (cell_w + 4) + (cell_w - 32) // 2
        y = 4 + r * (cell_h + 4)
        assert np.allclose(sheet[y:y + 18, x:x + 32], tile)
        caption = sheet[y + 18:y + cell_h, 4 + c * (cell_w + 4):4 + c * (cell_w + 4) + cell_w]
        assert mask_of(caption, (0.95, 0.95, 0.95)).sum() > 20
    big = plot.labelled_sheet([np.ones((90, 320, 4), np.float32)], ["f1  2.00 m"],
                              min_tile_px=1)
    assert mask_of(big, (0.95, 0.95, 0.95))[90:, :].sum() >= 4 * 20  # scale 2 text
    with pytest.raises(ValueError):
        plot.labelled_sheet([], [])
    with pytest.raises(ValueError):
        plot.labelled_sheet(tiles, labels[:2])


def test_small_renders_are_enlarged_to_240_px_tiles_pixel_for_pixel():
    """A 96x54 preview (the example shot list's size) becomes a 288x162 tile (x3, each pixel
    a 3x3 block: the render's own blur, not a resampler's); 240 px and wider stay as they are."""
    rng = np.random.default_rng(3)
    tile = np.ones((54, 96, 4), np.float32)
    tile[..., :3] = rng.random((54, 96, 3), dtype=np.float32)
    label = plot.frame_label(12, 1.6)
    assert label == "f12  1.60 m"
    sheet = plot.labelled_sheet([tile], [label], gap_px=4)
    big = sheet[4:4 + 162, 4:4 + 288]
    assert sheet.shape[1] == 288 + 2 * 4
    assert np.array_equal(big[::3, ::3, :3], tile[..., :3])
    assert np.array_equal(big[2::3, 1::3, :3], tile[..., :3])
    assert mask_of(sheet[4 + 162:, :], (0.95, 0.95, 0.95)).sum() > 20  # the caption
    assert plot.enlarge(tile, 240).shape == (162, 288, 4)
    assert plot.enlarge(np.ones((10, 250, 4)), 240).shape == (10, 250, 4)
    assert plot.enlarge(np.ones((10, 239, 4)), 240).shape == (20, 478, 4)


def test_a_subject_keeps_its_colour_in_every_plot():
    """Colours follow the shot list's subjects, not each plot's order: 'Far' drawn first in
    one plot and second in another is the same colour in both."""
    colors = plot.subject_colors(["Near", "Far", "Near", "Mid"])
    assert colors == {"Near": plot.PALETTE[0], "Far": plot.PALETTE[1], "Mid": plot.PALETTE[2]}
    frames, focus = [1, 2, 3], [2.0, 3.0, 4.0]
    first = plot.focus_plot(frames, focus, {"Near": [1.0, 5.0, 9.0], "Far": [9.0, 5.0, 1.0]},
                            colors=colors)
    second = plot.focus_plot(frames, focus, {"Far": [1.0, 5.0, 9.0], "Near": [9.0, 5.0, 1.0]},
                             colors=colors)
    for img in (first, second):
        assert mask_of(img, colors["Near"]).sum() > 50
        assert mask_of(img, colors["Far"]).sum() > 50
        assert mask_of(img, plot.PALETTE[2]).sum() == 0
    # Near rises in the first plot and falls in the second: its colour follows it.
    assert np.array_equal(mask_of(first, colors["Near"])[:, :400].any(axis=1)[:300],
                          mask_of(second, colors["Far"])[:, :400].any(axis=1)[:300])
    # Without colours the palette goes in order, as before.
    plain = plot.focus_plot(frames, focus, {"Far": [1.0, 5.0, 9.0]})
    assert mask_of(plain, plot.PALETTE[0]).sum() > 50


def test_a_mark_on_the_last_frame_is_drawn_at_the_right_edge():
    frames = list(range(1, 41))
    img = plot.focus_plot(frames, [3.0] * 40, {"A": [1.0] * 40}, [(40, "A@40"), (41, "B@41")],
                          width=640, height=400)
    mark = mask_of(img, plot.MARK)
    right, top = 640 - 20, 52
    bottom = 400 - 22 - 18
    column = mark[top:bottom, right]
    assert 0.3 < column.mean() < 0.8  # dashed, through both panels
    assert mark[top:top + 80, right].any() and mark[bottom - 80:bottom, right].any()
