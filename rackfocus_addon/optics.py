"""Thin-lens optics for focus pulls (pure Python).

Units: distances in metres, focal length and sensor width in millimetres, circle of confusion (CoC)
on the sensor in millimetres, blur in pixels. Blender's camera DOF is a thin lens with aperture
diameter ``focal / fstop``; these formulas are the ones depth-of-field tables use.
"""

from __future__ import annotations

import math

#: Below this a distance is treated as the lens itself (Blender clamps focus distance the same way).
MIN_DISTANCE_M = 1e-5


def to_diopters(distance_m: float) -> float:
    """Diopters (1/m) of a distance in metres."""
    return 1.0 / max(distance_m, MIN_DISTANCE_M)


def from_diopters(diopters: float) -> float:
    """Metres of a focus in diopters; 0 diopters (infinity) gives ``inf``."""
    return math.inf if diopters <= 0.0 else 1.0 / diopters


def blend_focus(from_m: float, to_m: float, weight: float, space: str) -> float:
    """Focus distance (metres) a fraction ``weight`` of the way from ``from_m`` to ``to_m``.

    ``space='distance'`` blends metres linearly; ``space='diopter'`` blends 1/d, so blur changes
    evenly and the half-way point of a symmetric pull is the harmonic mean of the two distances.
    """
    if space == "distance":
        return from_m + (to_m - from_m) * weight
    if space == "diopter":
        inv = to_diopters(from_m) + (to_diopters(to_m) - to_diopters(from_m)) * weight
        return 1.0 / max(inv, 1e-9)
    raise ValueError(f"unknown interpolation space {space!r}")


def hyperfocal_m(focal_mm: float, fstop: float, coc_mm: float) -> float:
    """Hyperfocal distance in metres: H = f^2 / (N c) + f."""
    return (focal_mm * focal_mm / (fstop * coc_mm) + focal_mm) / 1000.0


def dof_limits_m(focus_m: float, focal_mm: float, fstop: float, coc_mm: float
                 ) -> tuple[float, float]:
    """Near and far limits of acceptable sharpness (metres) when focused at ``focus_m``.

    The far limit is ``inf`` at or beyond the hyperfocal distance.
    """
    f = focal_mm / 1000.0
    h = hyperfocal_m(focal_mm, fstop, coc_mm)
    s = focus_m
    near = s * (h - f) / (h + s - 2.0 * f)
    far = math.inf if s >= h else s * (h - f) / (h - s)
    return near, far


def coc_mm(subject_m: float, focus_m: float, focal_mm: float, fstop: float) -> float:
    """Blur-circle diameter on the sensor (mm) of a point at ``subject_m``, focused at ``focus_m``.

    Thin lens: c = A * |s - d| / s * f / (d - f), with aperture diameter A = f / N, focus distance
    d and subject distance s, all measured from the lens.
    """
    f = focal_mm / 1000.0
    d = max(focus_m, f * 1.0001)
    s = max(subject_m, MIN_DISTANCE_M)
    aperture = f / fstop
    return aperture * abs(s - d) / s * f / (d - f) * 1000.0


def coc_px(subject_m: float, focus_m: float, focal_mm: float, fstop: float,
           sensor_width_mm: float, width_px: int) -> float:
    """Blur-circle diameter in pixels on a ``width_px``-wide render of a ``sensor_width_mm``
    sensor."""
    return coc_mm(subject_m, focus_m, focal_mm, fstop) * width_px / sensor_width_mm


#: Depth-of-field tables take the acceptable circle of confusion as the sensor diagonal / 1500
#: (0.029 mm on a 36 x 24 mm full frame; many tables round it to 0.03 mm).
COC_DIAGONAL_DIVISOR = 1500.0


def standard_coc_mm(sensor_width_mm: float, sensor_height_mm: float) -> float:
    """The acceptable circle of confusion (mm) DOF tables use for a sensor: its diagonal / 1500."""
    return math.hypot(sensor_width_mm, sensor_height_mm) / COC_DIAGONAL_DIVISOR


def focus_for_blur_m(subject_m: float, blur_mm: float, focal_mm: float, fstop: float) -> float:
    """Focus distance in front of ``subject_m`` at which the subject blurs by ``blur_mm`` (sensor).

    Solves c = A f (s - d) / (s (d - f)) for d: d = f s (A + c) / (c s + A f), with aperture
    diameter A = f / N. A blur larger than the lens can give (focus at the lens itself) returns
    the closest focus, just beyond the focal length.
    """
    f = focal_mm / 1000.0
    c = max(blur_mm, 0.0) / 1000.0
    s = max(subject_m, f * 1.0001)
    aperture = f / fstop
    d = f * s * (aperture + c) / (c * s + aperture * f)
    return max(min(d, s), f * 1.0001)
