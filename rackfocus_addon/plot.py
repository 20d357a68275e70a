"""Pictures of a pull without a plotting library: a focus-curve plot and a labelled contact sheet,
drawn with numpy into RGBA arrays, with a tiny built-in bitmap font (pure, numpy only).

Images are float32 arrays of shape (height, width, 4), RGBA from 0 to 1, top row first (what
``bl.render.save_png`` writes). Sizes and positions are in pixels; x grows to the right, y down.

- :func:`focus_plot`: focus distance (metres) over frames in the upper panel, each subject's
  blur (pixels at render resolution) over frames in the lower one, the marks as dashed lines
  through both, labelled with their subject.
- :func:`labelled_sheet`: frames in a grid with a caption under each (e.g. the frame number and
  the focus distance).
- :func:`draw_text` and :func:`text_size`: a 5x7 pixel font covering printable ASCII (any other
  character draws as a hollow box), scaled by whole numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Color = tuple[float, float, float]

#: 5x7 glyphs of printable ASCII: seven rows of five bits (0x10 is the leftmost pixel), written
#: as 14 hex digits, top row first.
_GLYPHS = {
    ' ': "00000000000000", '!': "04040404000004", '"': "0A0A0A00000000", '#': "0A0A1F0A1F0A0A",
    '$': "040F140E051E04", '%': "18190204081303", '&': "0C12140815120D", "'": "0C040800000000",
    '(': "02040808080402", ')': "08040202020408", '*': "0004150E150400", '+': "0004041F040400",
    ',': "000000000C0408", '-': "0000001F000000", '.': "00000000000C0C", '/': "00010204081000",
    '0': "0E11131519110E", '1': "040C040404040E", '2': "0E11010204081F", '3': "1F02040201110E",
    '4': "02060A121F0202", '5': "1F101E0101110E", '6': "0608101E11110E", '7': "1F010204080808",
    '8': "0E11110E11110E", '9': "0E11110F01020C", ':': "000C0C000C0C00", ';': "000C0C000C0408",
    '<': "02040810080402", '=': "00001F001F0000", '>': "08040201020408", '?': "0E110102040004",
    '@': "0E11010D15150E", 'A': "0E1111111F1111", 'B': "1E11111E11111E", 'C': "0E11101010110E",
    'D': "1C12111111121C", 'E': "1F10101E10101F", 'F': "1F10101E101010", 'G': "0E11101711110F",
    'H': "1111111F111111", 'I': "0E04040404040E", 'J': "0702020202120C", 'K': "11121418141211",
    'L': "1010101010101F", 'M': "111B1515111111", 'N': "11111915131111", 'O': "0E11111111110E",
    'P': "1E11111E101010", 'Q': "0E11111115120D", 'R': "1E11111E141211", 'S': "0F10100E01011E",
    'T': "1F040404040404", 'U': "1111111111110E", 'V': "11111111110A04", 'W': "1111111515150A",
    'X': "11110A040A1111", 'Y': "1111110A040404", 'Z': "1F01020408101F", '[': "0E08080808080E",
    '\\': "00100804020100", ']': "0E02020202020E", '^': "040A1100000000",
    '_': "0000000000001F", '`': "08040200000000", 'a': "00000E010F110F", 'b': "1010161911111E",
    'c': "00000E1010110E", 'd': "01010D1311110F", 'e': "00000E111F100E", 'f': "0609081C080808",
    'g': "000F11110F010E", 'h': "10101619111111", 'i': "04000C0404040E", 'j': "0200060202120C",
    'k': "10101214181412", 'l': "0C04040404040E", 'm': "00001A15151111", 'n': "00001619111111",
    'o': "00000E1111110E", 'p': "00001E111E1010", 'q': "00000D130F0101", 'r': "00001619101010",
    's': "00000E100E011E", 't': "08081C08080906", 'u': "0000111111130D", 'v': "00001111110A04",
    'w': "0000111115150A", 'x': "0000110A040A11", 'y': "000011110F010E", 'z': "00001F0204081F",
    '{': "02040408040402", '|': "04040404040404", '}': "08040402040408", '~': "00000815020000",
}
#: What a character outside the font draws as: a hollow box.
_UNKNOWN = "1F11111111111F"
GLYPH_W, GLYPH_H = 5, 7
#: Horizontal advance (a glyph and one pixel of spacing) and line height, at scale 1 (pixels).
ADVANCE, LINE_H = 6, 9


def _bitmap(hexrows: str) -> np.ndarray:
    rows = [int(hexrows[i:i + 2], 16) for i in range(0, 2 * GLYPH_H, 2)]
    return np.array([[(r >> (GLYPH_W - 1 - c)) & 1 for c in range(GLYPH_W)] for r in rows],
                    dtype=bool)


_FONT = {ch: _bitmap(rows) for ch, rows in _GLYPHS.items()}
_BOX = _bitmap(_UNKNOWN)


def glyph(ch: str) -> np.ndarray:
    """The (7, 5) boolean bitmap of ``ch``, top row first (a box outside the font)."""
    return _FONT.get(ch, _BOX)


def text_size(text: str, scale: int = 1) -> tuple[int, int]:
    """(width, height) in pixels that :func:`draw_text` covers for one line of ``text``."""
    if not text:
        return 0, GLYPH_H * scale
    return (len(text) * ADVANCE - 1) * scale, GLYPH_H * scale


def new_image(width: int, height: int, color: Color = (1.0, 1.0, 1.0)) -> np.ndarray:
    """An opaque RGBA image of ``width`` x ``height`` pixels filled with ``color``."""
    img = np.empty((height, width, 4), dtype=np.float32)
    img[..., :3] = color
    img[..., 3] = 1.0
    return img


def draw_text(img: np.ndarray, x: int, y: int, text: str, color: Color = (0.0, 0.0, 0.0),
              scale: int = 1) -> int:
    """Draw one line of ``text`` with its top-left corner at pixel (x, y), clipped to the image;
    returns the x just past the text."""
    h, w = img.shape[:2]
    x, y, scale = int(x), int(y), max(1, int(scale))
    for i, ch in enumerate(text):
        bits = glyph(ch)
        if scale > 1:
            bits = np.repeat(np.repeat(bits, scale, axis=0), scale, axis=1)
        gx = x + i * ADVANCE * scale
        x0, y0 = max(gx, 0), max(y, 0)
        x1, y1 = min(gx + bits.shape[1], w), min(y + bits.shape[0], h)
        if x0 >= x1 or y0 >= y1:
            continue
        sub = bits[y0 - y:y1 - y, x0 - gx:x1 - gx]
        region = img[y0:y1, x0:x1]
        region[sub, :3] = color
        region[sub, 3] = 1.0
    return x + text_size(text, scale)[0]


def fill_rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
    """Fill the pixels x0 <= x < x1, y0 <= y < y1 (clipped to the image)."""
    h, w = img.shape[:2]
    x0, x1 = max(int(x0), 0), min(int(x1), w)
    y0, y1 = max(int(y0), 0), min(int(y1), h)
    if x0 < x1 and y0 < y1:
        img[y0:y1, x0:x1, :3] = color
        img[y0:y1, x0:x1, 3] = 1.0


def draw_line(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, color: Color,
              width: int = 1, dash: int = 0) -> None:
    """A straight line from pixel (x0, y0) to (x1, y1), ``width`` pixels thick; ``dash`` > 0
    draws dashes and gaps that many pixels long. Clipped to the image."""
    h, w = img.shape[:2]
    length = math.hypot(x1 - x0, y1 - y0)
    steps = int(math.ceil(max(abs(x1 - x0), abs(y1 - y0)) * 2)) + 1
    t = np.linspace(0.0, 1.0, steps)
    xs = x0 + (x1 - x0) * t
    ys = y0 + (y1 - y0) * t
    if dash > 0:
        keep = (t * length // dash) % 2 == 0
        xs, ys = xs[keep], ys[keep]
    base_x = np.rint(xs).astype(np.int64)
    base_y = np.rint(ys).astype(np.int64)
    lo = -(width // 2)
    for dy in range(lo, lo + width):
        for dx in range(lo, lo + width):
            px, py = base_x + dx, base_y + dy
            ok = (px >= 0) & (px < w) & (py >= 0) & (py < h)
            img[py[ok], px[ok], :3] = color
            img[py[ok], px[ok], 3] = 1.0


def draw_polyline(img: np.ndarray, xs: Sequence[float], ys: Sequence[float | None],
                  color: Color, width: int = 2) -> None:
    """Connect consecutive points (pixels); a None in ``ys`` breaks the line."""
    for i in range(len(xs) - 1):
        if ys[i] is None or ys[i + 1] is None:
            continue
        draw_line(img, xs[i], ys[i], xs[i + 1], ys[i + 1], color, width)
    for i, y in enumerate(ys):  # a lone point between gaps still shows
        alone = (i == 0 or ys[i - 1] is None) and (i == len(ys) - 1 or ys[i + 1] is None)
        if y is not None and alone:
            fill_rect(img, xs[i] - 1, y - 1, xs[i] + 2, y + 2, color)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) covering [lo, hi]:
    the first at or below ``lo``, the last at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) if lo else 1.0)
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw * (1 - 1e-9))
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    n = int(round((last - first) / step))
    return [round(first + i * step, 10) for i in range(n + 1)]


def tick_label(value: float, step: float) -> str:
    """``value`` with as many decimals as a tick ``step`` needs (2.5 -> '2.5', 10 -> '10')."""
    decimals = max(0, -int(math.floor(math.log10(step) + 1e-9))) if step > 0 else 0
    if decimals and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear light (0..1) to sRGB-encoded values, for showing EXR frames in a PNG."""
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1.0 / 2.4) - 0.055)


#: Colours of the plot: background, grid, axes, text, the focus curve, the marks.
BACKGROUND: Color = (1.0, 1.0, 1.0)
GRID: Color = (0.88, 0.88, 0.88)
AXIS: Color = (0.35, 0.35, 0.35)
TEXT: Color = (0.1, 0.1, 0.1)
FOCUS: Color = (0.05, 0.25, 0.65)
MARK: Color = (0.85, 0.45, 0.05)
#: Subject colours, in order (then repeated).
PALETTE: tuple[Color, ...] = ((0.80, 0.15, 0.15), (0.10, 0.55, 0.25), (0.55, 0.20, 0.70),
                              (0.05, 0.55, 0.65), (0.60, 0.45, 0.10), (0.40, 0.40, 0.40))


#: Narrowest tile of a contact sheet (pixels): smaller renders are enlarged to at least this.
MIN_TILE_PX = 240


def subject_colors(names: Sequence[str]) -> dict[str, Color]:
    """One colour per subject name, by first appearance in ``names`` (a shot list's subjects
    in file order), so a subject has the same colour in every plot of the list."""
    colors: dict[str, Color] = {}
    for name in names:
        if name not in colors:
            colors[name] = PALETTE[len(colors) % len(PALETTE)]
    return colors


def frame_label(frame: int, focus_m: float) -> str:
    """A contact-sheet caption: frame number and focus distance (metres), 'f12  1.60 m'."""
    return f"f{frame}  {focus_m:.2f} m"


@dataclass(frozen=True)
class Panel:
    """A plot area in pixels (left, top, right, bottom) and the data range it shows."""

    left: int
    top: int
    right: int
    bottom: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        lo, hi = self.x_range
        return self.left + (value - lo) / (hi - lo) * (self.right - self.left)

    def y(self, value: float) -> float:
        lo, hi = self.y_range
        return self.bottom - (value - lo) / (hi - lo) * (self.bottom - self.top)


def _frame_range(frames: Sequence[int]) -> tuple[float, float]:
    lo, hi = float(min(frames)), float(max(frames))
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def _draw_panel(img: np.ndarray, panel: Panel, y_ticks: Sequence[float],
                x_ticks: Sequence[float], title: str) -> None:
    y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    for value in y_ticks:
        y = round(panel.y(value))
        draw_line(img, panel.left, y, panel.right, y, GRID)
        label = tick_label(value, y_step)
        width, height = text_size(label)
        draw_text(img, panel.left - 6 - width, y - height // 2, label, TEXT)
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    for value in x_ticks:
        x = round(panel.x(value))
        draw_line(img, x, panel.top, x, panel.bottom, GRID)
        label = tick_label(value, x_step)
        width, _ = text_size(label)
        draw_text(img, x - width // 2, panel.bottom + 5, label, TEXT)
    draw_line(img, panel.left, panel.top, panel.left, panel.bottom, AXIS)
    draw_line(img, panel.left, panel.bottom, panel.right, panel.bottom, AXIS)
    draw_text(img, panel.left + 6, panel.top + 4, title, TEXT)


def focus_plot(frames: Sequence[int], focus_m: Sequence[float],
               blur_px: Mapping[str, Sequence[float | None]],
               marks: Sequence[tuple[int, str]] = (), title: str = "",
               width: int = 800, height: int = 480,
               colors: Mapping[str, Color] | None = None) -> np.ndarray:
    """The focus curve of a pull: focus distance (metres) and each subject's blur (pixels) per
    frame, marks as dashed vertical lines labelled with their subject.

    ``frames`` are frame numbers in order; ``focus_m[i]`` and ``blur_px[name][i]`` belong to
    ``frames[i]`` (None: no value, e.g. a subject behind the camera). ``marks`` are (frame,
    label) pairs; those outside the frames shown are left out. ``colors`` gives subjects their
    colours (:func:`subject_colors`; others take the palette in order). Returns an RGBA float
    image of ``width`` x ``height`` pixels.
    """
    if not frames:
        raise ValueError("focus_plot needs at least one frame")
    if len(focus_m) != len(frames) or any(len(v) != len(frames) for v in blur_px.values()):
        raise ValueError("focus_plot needs one focus and one blur value per frame")
    img = new_image(width, height, BACKGROUND)
    draw_text(img, 12, 8, title or "Focus pull", TEXT, scale=2)
    left, right = 70, width - 20
    top = 52
    legend_h, axis_h, gap = 22, 18, 34
    body = height - top - legend_h - axis_h - gap
    upper_h = body // 2
    x_range = _frame_range(frames)
    x_ticks = [t for t in nice_ticks(x_range[0], x_range[1], max(2, (right - left) // 80))
               if x_range[0] - 1e-9 <= t <= x_range[1] + 1e-9 and float(t).is_integer()]
    if not x_ticks:
        x_ticks = [float(frames[0])]

    focus_ticks = nice_ticks(0.0, max(max(focus_m), 1e-3), 4)
    upper = Panel(left, top, right, top + upper_h, x_range, (focus_ticks[0], focus_ticks[-1]))
    _draw_panel(img, upper, focus_ticks, x_ticks, "focus distance (m)")

    values = [v for series in blur_px.values() for v in series if v is not None]
    blur_ticks = nice_ticks(0.0, max(max(values, default=1.0), 1.0), 4)
    lower_top = upper.bottom + gap
    lower = Panel(left, lower_top, right, height - legend_h - axis_h, x_range,
                  (blur_ticks[0], blur_ticks[-1]))
    _draw_panel(img, lower, blur_ticks, x_ticks, "blur (px)")

    shown = [(f, label) for f, label in marks if x_range[0] <= f <= x_range[1]]
    for i, (frame, label) in enumerate(shown):
        x = upper.x(frame)
        draw_line(img, x, upper.top, x, lower.bottom, MARK, dash=4)
        lx = min(round(x) + 3, width - text_size(label)[0] - 2)
        draw_text(img, lx, top - 20 + (i % 2) * 10, label, MARK)

    xs = [upper.x(f) for f in frames]
    draw_polyline(img, xs, [upper.y(v) for v in focus_m], FOCUS, width=2)
    palette = {**subject_colors(list(blur_px)), **(colors or {})}
    for name, series in blur_px.items():
        draw_polyline(img, xs, [None if v is None else lower.y(v) for v in series],
                      palette[name], 2)

    # Legend: the subjects' colours, then the x axis name.
    x = left
    y = height - legend_h + 4
    for name in blur_px:
        fill_rect(img, x, y + 1, x + 12, y + 6, palette[name])
        x = draw_text(img, x + 16, y, name, TEXT) + 14
    label = "frame"
    draw_text(img, right - text_size(label)[0], height - legend_h + 4, label, TEXT)
    return img


def enlarge(tile: np.ndarray, min_width_px: int) -> np.ndarray:
    """``tile`` repeated by the smallest whole factor that makes it ``min_width_px`` wide or
    wider (each pixel a square block: the blur a supervisor judges is the render's own)."""
    factor = max(1, math.ceil(min_width_px / max(1, tile.shape[1])))
    return tile if factor == 1 else np.repeat(np.repeat(tile, factor, axis=0), factor, axis=1)


def labelled_sheet(tiles: Sequence[np.ndarray], labels: Sequence[str], columns: int = 4,
                   gap_px: int = 4, background: Color = (0.1, 0.1, 0.1),
                   text: Color = (0.95, 0.95, 0.95),
                   min_tile_px: int = MIN_TILE_PX) -> np.ndarray:
    """Tiles (RGBA images) in a grid of ``columns``, each with its label written under it.

    Tiles narrower than ``min_tile_px`` are enlarged (:func:`enlarge`), so a small preview
    render still shows its focus change. A cell is as wide as the widest tile or label; the
    text is scaled with the tiles (1 below 320 pixels wide, 2 up to 480, ...). Returns an RGBA
    float image.
    """
    if not tiles:
        raise ValueError("labelled_sheet needs at least one tile")
    if len(labels) != len(tiles):
        raise ValueError("labelled_sheet needs one label per tile")
    tiles = [enlarge(t, min_tile_px) for t in tiles]
    tile_h = max(t.shape[0] for t in tiles)
    tile_w = max(t.shape[1] for t in tiles)
    scale = max(1, min(4, tile_w // 160))
    label_w = max(text_size(label, scale)[0] for label in labels)
    cell_w = max(tile_w, label_w + 2 * scale)
    caption_h = (LINE_H + 2) * scale
    cell_h = tile_h + caption_h
    cols = max(1, min(columns, len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    sheet = new_image(cols * cell_w + (cols + 1) * gap_px, rows * cell_h + (rows + 1) * gap_px,
                      background)
    for i, (tile, label) in enumerate(zip(tiles, labels)):
        r, c = divmod(i, cols)
        x = gap_px + c * (cell_w + gap_px)
        y = gap_px + r * (cell_h + gap_px)
        h, w = tile.shape[:2]
        tx = x + (cell_w - w) // 2
        sheet[y:y + h, tx:tx + w, :3] = tile[..., :3]
        sheet[y:y + h, tx:tx + w, 3] = 1.0
        lw = text_size(label, scale)[0]
        draw_text(sheet, x + (cell_w - lw) // 2, y + tile_h + 2 * scale, label, text, scale)
    return sheet
