"""The one place that writes keyframes: plan :class:`Key` lists into native F-curves."""

from __future__ import annotations

from collections.abc import Sequence

import bpy

from ..plan import Key
from . import compat


def read_keys(fcurve) -> list[dict]:
    """A plain copy of every point of ``fcurve`` (for backups that a later restore writes back)."""
    out = []
    for kp in fcurve.keyframe_points:
        out.append({
            "co": list(kp.co), "interpolation": kp.interpolation, "easing": kp.easing,
            "handle_left": list(kp.handle_left), "handle_right": list(kp.handle_right),
            "handle_left_type": kp.handle_left_type, "handle_right_type": kp.handle_right_type,
            "back": kp.back, "amplitude": kp.amplitude, "period": kp.period,
        })
    return out


def write_keys(id_data: bpy.types.ID, data_path: str, keys: Sequence[Key], index: int = 0):
    """Replace the F-curve of ``data_path[index]`` on ``id_data`` with exactly ``keys``.

    Interpolation and easing are native keyframe settings, so the Graph Editor shows and edits the
    pull; BEZIER keys get flat handles a third of the way to their neighbour (a smoothstep).
    """
    fc = compat.ensure_fcurve(id_data, data_path, index, frame=keys[0].frame if keys else 1)
    points = fc.keyframe_points
    points.clear()
    points.add(len(keys))
    co = []
    for key in keys:
        co.extend((float(key.frame), float(key.value)))
    points.foreach_set("co", co)
    for kp, key in zip(points, keys):
        kp.interpolation = key.interpolation
        kp.easing = key.easing
        if key.back is not None:
            kp.back = key.back
        if key.amplitude is not None:
            kp.amplitude = key.amplitude
        if key.period is not None:
            kp.period = key.period
        kp.handle_left_type = kp.handle_right_type = "AUTO_CLAMPED"
    for i, key in enumerate(keys[:-1]):
        if key.interpolation == "BEZIER":
            a, b = points[i], points[i + 1]
            third = (b.co.x - a.co.x) / 3.0
            a.handle_right_type = b.handle_left_type = "FREE"
            a.handle_right = (a.co.x + third, a.co.y)
            b.handle_left = (b.co.x - third, b.co.y)
    fc.update()
    return fc


def restore_keys(id_data: bpy.types.ID, data_path: str, saved: Sequence[dict], index: int = 0):
    """Write back points saved by :func:`read_keys`, settings and handles included."""
    if not saved:
        return None
    fc = compat.ensure_fcurve(id_data, data_path, index, frame=int(saved[0]["co"][0]))
    points = fc.keyframe_points
    points.clear()
    points.add(len(saved))
    for kp, data in zip(points, saved):
        kp.co = data["co"]
        kp.interpolation = data["interpolation"]
        kp.easing = data["easing"]
        kp.back, kp.amplitude, kp.period = data["back"], data["amplitude"], data["period"]
        kp.handle_left_type = data["handle_left_type"]
        kp.handle_right_type = data["handle_right_type"]
        kp.handle_left = data["handle_left"]
        kp.handle_right = data["handle_right"]
    fc.update()
    return fc


def remove_curve(id_data: bpy.types.ID, data_path: str, index: int = 0) -> bool:
    """Remove the F-curve of ``data_path[index]`` if there is one; True if one was removed."""
    fc = compat.find_fcurve(id_data, data_path, index)
    if fc is None:
        return False
    compat.remove_fcurve(id_data, fc)
    return True


def prune_animation(id_data: bpy.types.ID) -> None:
    """Drop ``id_data``'s animation data once nothing animates it, and its action if unused.

    For IDs that had no animation before Rack Focus keyed them: clearing leaves them as found.
    """
    ad = id_data.animation_data
    if ad is None or compat.fcurves(id_data) or len(ad.drivers) or len(ad.nla_tracks):
        return
    action = ad.action
    id_data.animation_data_clear()
    if action is not None and action.users == 0:
        bpy.data.actions.remove(action)


def remove_object(obj: bpy.types.Object) -> None:
    """Remove an object Rack Focus created, with its action when nothing else uses it."""
    ad = obj.animation_data
    action = ad.action if ad is not None else None
    bpy.data.objects.remove(obj)
    if action is not None and action.users == 0:
        bpy.data.actions.remove(action)


def show_frame(id_data: bpy.types.ID, frame: float) -> None:
    """Set every property ``id_data``'s F-curves animate to its value at ``frame``.

    What the panel and the properties show right after keys are written, without
    ``scene.frame_set``, which would evaluate the whole (possibly heavy) scene.
    """
    for fc in compat.fcurves(id_data):
        try:
            owner, prop = compat.resolve_owner(id_data, fc.data_path)
        except (ValueError, AttributeError):
            continue
        value = fc.evaluate(frame)
        if compat.is_array(owner, prop):
            getattr(owner, prop)[fc.array_index] = value
        else:
            setattr(owner, prop, value)
