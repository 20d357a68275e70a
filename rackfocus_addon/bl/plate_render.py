"""Render settings made for depth plates: what a picture of emission seen by camera rays only
allows, set when a plate is imported or rendered, every change reported and saved with the shot.

A plate's material is the footage as emission for camera rays and transparent for every other
ray, and its objects are invisible to diffuse, glossy, transmission, volume and shadow rays. So
where the plates are all the scene renders (no other mesh, curve, light or volume), a camera ray
ends on its first hit and nothing bounces: light bounces, transparent bounces, caustics and the
light tree change nothing in the picture, only what Cycles prepares and traces. The plate's
emission never lights anything, so its materials are no lights either (``emission_sampling``
None): without that Cycles builds a light distribution over every triangle of the plate, millions
of them, every frame. Persistent data keeps a still's scene prepared between renders. Adaptive
sampling, samples, seed, tiles and the pixel filter are left as they are (they change pixels, or
their noise). Measured: bench/bench_plate.py ``--render``; tests/bl/test_plate_render.py renders a
plate with and without these settings and compares the pixels.

Denoising (OpenImageDenoise) changes pixels by design, so it is never switched on here: the
bench measures how many samples a clean frame needs with it, and :func:`has_denoiser` says
whether this Blender has it (Debian's is built without).
"""

from __future__ import annotations

from collections.abc import Sequence

import bpy

from . import records

#: Scene custom property (JSON, saved with the .blend) holding what the last plate set up changed.
RECORD = "rackfocus_plate_render"

#: Object types that render (or light) something besides the plates.
_RENDERED = {"MESH", "CURVE", "CURVES", "SURFACE", "META", "FONT", "VOLUME", "POINTCLOUD",
             "LIGHT", "GPENCIL", "GREASEPENCIL"}

#: (attribute of ``scene.cycles``, label, value) safe where the plates are all that renders.
_ONLY_PLATES = (
    ("max_bounces", "light bounces", 0),
    ("transparent_max_bounces", "transparent bounces", 0),
    ("caustics_reflective", "reflective caustics", False),
    ("caustics_refractive", "refractive caustics", False),
    ("use_light_tree", "light tree", False),
)


def others_rendered(scene: bpy.types.Scene, plates: Sequence[bpy.types.Object]) -> list[str]:
    """Names of the objects besides ``plates`` that render or light something in ``scene``."""
    keep = {o.name for o in plates}
    return sorted(o.name for o in scene.objects
                  if o.type in _RENDERED and o.name not in keep and not o.hide_render)


def apply(scene: bpy.types.Scene, plates: Sequence[bpy.types.Object],
          still: bool | None = None) -> list[str]:
    """Set what a render of ``plates`` allows; returns one line per changed setting
    ('Cycles light bounces 12 -> 0') and saves them in the scene's :data:`RECORD`.

    ``still``: persistent data on (default: when the scene's frame range is one frame). Nothing
    that changes the picture: bounces, caustics and the light tree only where the plates are all
    that renders (else one line says which objects kept them).
    """
    changes: list[tuple[str, object, object]] = []
    cycles = getattr(scene, "cycles", None)
    others = others_rendered(scene, plates)
    if cycles is not None and not others:
        for attr, label, value in _ONLY_PLATES:
            _set(cycles, attr, value, f"Cycles {label}", changes)
    if still is None:
        still = scene.frame_start == scene.frame_end
    if still:
        _set(scene.render, "use_persistent_data", True, "persistent data", changes)
    for mat in _materials(plates):
        if hasattr(mat, "cycles") and hasattr(mat.cycles, "emission_sampling"):
            _set(mat.cycles, "emission_sampling", "NONE",
                 f"material '{mat.name}' emission sampling", changes)
    lines = [f"{label} {_show(old)} -> {_show(new)}" for label, old, new in changes]
    saved = records.read(scene, RECORD) or {"changed": {}}
    for label, old, new in changes:
        first = saved["changed"].get(label, [old, new])[0]  # the value before Rack Focus
        saved["changed"][label] = [first, new]
    saved["kept_for"] = others[:10]
    records.write(scene, RECORD, saved)
    if others and cycles is not None:
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        lines.append(f"Cycles bounces, caustics and light tree kept: '{', '.join(others[:3])}'"
                     f"{more} render(s) besides the plates")
    return lines


def _set(owner, attr: str, value, label: str, changes: list) -> None:
    old = getattr(owner, attr)
    if old != value:
        setattr(owner, attr, value)
        changes.append((label, old, getattr(owner, attr)))


def _show(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value).title() if isinstance(value, str) else str(value)


def _materials(plates: Sequence[bpy.types.Object]) -> list[bpy.types.Material]:
    seen: dict[str, bpy.types.Material] = {}
    for obj in plates:
        for slot in obj.material_slots:
            if slot.material is not None:
                seen.setdefault(slot.material.name, slot.material)
    return list(seen.values())


def has_denoiser() -> bool:
    """Whether this Blender's Cycles was built with OpenImageDenoise (Debian's is not)."""
    try:
        import _cycles  # Cycles' own module: present wherever the Cycles add-on is
    except ImportError:
        return False
    return bool(getattr(_cycles, "with_openimagedenoise", False))
