"""Every Blender-version difference Rack Focus meets, in one place (4.2 LTS .. 5.2 LTS).

- Animation: 4.4 introduced slotted (layered) actions and 5.0 removed ``Action.fcurves``; one
  action can hold several slots (an object and its camera data), so F-curves are always looked up
  through the ID's own ``animation_data.action_slot``.
- EEVEE's engine id is ``BLENDER_EEVEE_NEXT`` in 4.2-4.5 and ``BLENDER_EEVEE`` from 5.0.
- Movie output: 5.0 added ``ImageFormatSettings.media_type`` that must be 'VIDEO' before 'FFMPEG'.
"""

from __future__ import annotations

import bpy

VERSION: tuple[int, int, int] = tuple(bpy.app.version)  # type: ignore[assignment]


def _channelbag(id_data: bpy.types.ID, create: bool = False):
    """The channelbag of ``id_data``'s own action slot, or None (legacy action or none yet)."""
    ad = id_data.animation_data
    if ad is None or ad.action is None:
        return None
    slot = getattr(ad, "action_slot", None)
    if slot is None:
        return None
    from bpy_extras import anim_utils

    if create and hasattr(anim_utils, "action_ensure_channelbag_for_slot"):
        return anim_utils.action_ensure_channelbag_for_slot(ad.action, slot)
    getter = getattr(anim_utils, "action_get_channelbag_for_slot", None)
    return getter(ad.action, slot) if getter else None


def fcurves(id_data: bpy.types.ID) -> list:
    """The F-curves animating ``id_data`` (empty when it has none), on every supported version."""
    ad = id_data.animation_data
    if ad is None or ad.action is None:
        return []
    bag = _channelbag(id_data)
    if bag is not None:
        return list(bag.fcurves)
    legacy = getattr(ad.action, "fcurves", None)
    return list(legacy) if legacy is not None else []


def find_fcurve(id_data: bpy.types.ID, data_path: str, index: int = 0):
    """The F-curve of ``data_path[index]`` on ``id_data``, or None."""
    for fc in fcurves(id_data):
        if fc.data_path == data_path and fc.array_index == index:
            return fc
    return None


def remove_fcurve(id_data: bpy.types.ID, fcurve) -> None:
    """Remove one F-curve from ``id_data``'s action (the action and its other curves stay)."""
    bag = _channelbag(id_data)
    if bag is not None and any(fc == fcurve for fc in bag.fcurves):
        bag.fcurves.remove(fcurve)
        return
    legacy = getattr(id_data.animation_data.action, "fcurves", None)
    if legacy is not None:
        legacy.remove(fcurve)


def ensure_fcurve(id_data: bpy.types.ID, data_path: str, index: int = 0, frame: int = 1):
    """The F-curve of ``data_path[index]``, created (with action and slot) if missing.

    Created by inserting one key through ``keyframe_insert``, the one call that makes the action,
    the slot and the channelbag correctly on every version; the caller then rewrites the points.
    """
    fc = find_fcurve(id_data, data_path, index)
    if fc is not None:
        return fc
    owner, prop = resolve_owner(id_data, data_path)
    owner.keyframe_insert(prop, index=index if is_array(owner, prop) else -1, frame=frame)
    fc = find_fcurve(id_data, data_path, index)
    if fc is None:  # pragma: no cover - would be a Blender API change
        raise RuntimeError(f"could not create an F-curve for {id_data.name}.{data_path}")
    return fc


def resolve_owner(id_data: bpy.types.ID, data_path: str):
    """(the struct that owns the animated property, its name) for ``data_path`` on ``id_data``."""
    head, _, prop = data_path.rpartition(".")
    owner = id_data.path_resolve(head) if head else id_data
    return owner, prop


def is_array(owner, prop: str) -> bool:
    """True when ``owner.prop`` is an array property (keyed per index)."""
    rna = owner.bl_rna.properties.get(prop)
    return bool(rna is not None and getattr(rna, "is_array", False))


def eevee_engine_id() -> str:
    """The render engine id of EEVEE on this Blender."""
    return "BLENDER_EEVEE" if VERSION >= (5, 0, 0) else "BLENDER_EEVEE_NEXT"


def engine_id(name: str) -> str:
    """Blender's engine id for 'cycles', 'eevee' or 'workbench'."""
    name = name.lower()
    if name == "cycles":
        return "CYCLES"
    if name == "eevee":
        return eevee_engine_id()
    if name == "workbench":
        return "BLENDER_WORKBENCH"
    raise ValueError(f"unknown engine {name!r}: use cycles, eevee or workbench")


def set_movie_output(scene: bpy.types.Scene) -> None:
    """Make ``scene`` render an H.264 MP4."""
    settings = scene.render.image_settings
    if hasattr(settings, "media_type"):
        settings.media_type = "VIDEO"
    settings.file_format = "FFMPEG"
    scene.render.ffmpeg.format = "MPEG4"
    scene.render.ffmpeg.codec = "H264"


def set_image_output(scene: bpy.types.Scene, file_format: str = "PNG") -> None:
    """Make ``scene`` render still images of ``file_format`` ('PNG', 'OPEN_EXR')."""
    settings = scene.render.image_settings
    if hasattr(settings, "media_type"):
        multilayer = file_format == "OPEN_EXR_MULTILAYER"
        settings.media_type = "MULTI_LAYER_IMAGE" if multilayer else "IMAGE"
    settings.file_format = file_format


def is_linked(id_data: bpy.types.ID) -> bool:
    """True for data linked from another .blend (read-only here)."""
    return id_data.library is not None or bool(getattr(id_data, "is_linked", False))


def vse_strips(sequence_editor):
    """The top-level strips of a sequence editor (``strips`` from 4.4, ``sequences`` before)."""
    strips = getattr(sequence_editor, "strips", None)
    return strips if strips is not None else sequence_editor.sequences


def new_node_material(name: str) -> bpy.types.Material:
    """A new material with a node tree (5.0 deprecates ``use_nodes``: nodes are always on)."""
    mat = bpy.data.materials.new(name)
    if VERSION < (5, 0, 0) or mat.node_tree is None:
        mat.use_nodes = True
    return mat


def new_node_world(name: str) -> bpy.types.World:
    """A new world with a node tree (5.0 deprecates ``use_nodes``: nodes are always on)."""
    world = bpy.data.worlds.new(name)
    if VERSION < (5, 0, 0) or world.node_tree is None:
        world.use_nodes = True
    return world


def _modifier_inputs(mod):
    """5.2's typed Geometry Nodes modifier inputs (``mod.properties.inputs``), or None (4.2-5.1
    store them as ID properties on the modifier: ``mod[identifier]``)."""
    props = getattr(mod, "properties", None)
    return getattr(props, "inputs", None) if props is not None else None


def set_modifier_input(mod, identifier: str, value) -> None:
    """Set the Geometry Nodes modifier input ``identifier`` (e.g. 'Socket_2') to ``value``."""
    inputs = _modifier_inputs(mod)
    if inputs is not None and hasattr(inputs, identifier):
        getattr(inputs, identifier).value = value
    else:
        mod[identifier] = value


def get_modifier_input(mod, identifier: str):
    """The value of the Geometry Nodes modifier input ``identifier`` (None if unset)."""
    inputs = _modifier_inputs(mod)
    if inputs is not None and hasattr(inputs, identifier):
        return getattr(inputs, identifier).value
    return mod.get(identifier)


def modifier_input_values(mod) -> list:
    """The values of every input of a Geometry Nodes modifier (by its node group's interface)."""
    group = getattr(mod, "node_group", None)
    if group is None:
        return []
    return [get_modifier_input(mod, item.identifier) for item in group.interface.items_tree
            if getattr(item, "in_out", "") == "INPUT" and item.item_type == "SOCKET"]


def strip_source_frames(strip) -> int:
    """Frames of a sequencer strip's source (5.2 renames ``frame_duration``)."""
    if hasattr(strip, "content_duration"):
        return int(strip.content_duration)
    return int(strip.frame_duration)
