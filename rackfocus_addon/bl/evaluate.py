"""Evaluating only what a pull needs, frame by frame.

``scene.frame_set`` evaluates every visible object of the scene: one heavy animated Geometry
Nodes surface made a 500-frame bake as slow as Blender's generic ``nla.bake``. A pull only needs
the camera, its subjects and what their transforms depend on (parents, constraint targets,
armatures, driver targets, hooks, Follow Path curves, ...). :class:`ScopedEvaluation` links just
that closure into a temporary scene (the same objects, not copies), sets *its* frame and reads
evaluated objects from *its* depsgraph; original objects are only updated by the active scene,
so the file and its current frame are left exactly as they were. The temporary scene is removed
afterwards, also on an error or Ctrl-C.

When a dependency cannot be followed (a driver reading a scene or another non-object ID, rigid
body or cloth simulation, a motion-tracking constraint on the scene's active clip, Geometry
Nodes on an object whose geometry a transform depends on) it evaluates the whole scene instead
and says so in :attr:`ScopedEvaluation.notes`.
"""

from __future__ import annotations

from collections.abc import Iterable

import bpy

SCENE_NAME = "RackFocus Eval"

#: Modifier properties that point at another object the modified geometry depends on.
_MODIFIER_OBJECTS = ("object", "target", "origin", "offset_object", "mirror_object",
                     "start_cap", "end_cap", "curve_object", "auxiliary_target")
#: Constraints whose result depends on the target's geometry, not only on its transform.
_GEOMETRY_CONSTRAINTS = {"SHRINKWRAP", "FOLLOW_PATH", "CLAMP_TO", "SPLINE_IK"}


def dependencies(objects: Iterable[bpy.types.Object]) -> tuple[list[bpy.types.Object], list[str]]:
    """The objects whose evaluation decides where ``objects`` are: (closure, unresolved).

    ``unresolved`` says, one line each, what the closure cannot capture.
    """
    todo = [o for o in objects if o is not None]
    seen: dict[str, bpy.types.Object] = {}
    geometry: set[str] = set()
    unresolved: list[str] = []
    while todo:
        obj = todo.pop()
        if obj.name_full in seen:
            continue
        seen[obj.name_full] = obj
        if obj.parent is not None:
            todo.append(obj.parent)
            if obj.parent_type in ("VERTEX", "VERTEX_3"):
                geometry.add(obj.parent.name_full)
        for con in _constraints(obj):
            for target in _constraint_targets(con):
                todo.append(target)
                if con.type in _GEOMETRY_CONSTRAINTS:
                    geometry.add(target.name_full)
            if con.type in ("FOLLOW_TRACK", "CAMERA_SOLVER", "OBJECT_SOLVER") and getattr(
                    con, "use_active_clip", False):
                unresolved.append(f"constraint '{con.name}' on '{obj.name}' follows the scene's "
                                  "active movie clip")
        for mod in obj.modifiers:
            for attr in _MODIFIER_OBJECTS:
                target = getattr(mod, attr, None)
                if isinstance(target, bpy.types.Object):
                    todo.append(target)
        for owner in (obj, obj.data):
            ad = getattr(owner, "animation_data", None)
            if ad is None:
                continue
            for fc in ad.drivers:
                for var in fc.driver.variables:
                    for t in var.targets:
                        if isinstance(t.id, bpy.types.Object):
                            todo.append(t.id)
                        elif t.id is not None and t.id not in (obj, obj.data):
                            unresolved.append(f"a driver on '{obj.name}' reads "
                                              f"{t.id_type.lower()} '{t.id.name}'")
        if obj.rigid_body is not None or obj.rigid_body_constraint is not None:
            unresolved.append(f"'{obj.name}' is simulated by the scene's rigid body world")
    for name in sorted(geometry):
        obj = seen[name]
        for mod in obj.modifiers:
            if mod.type == "NODES":
                unresolved.append(f"'{obj.name}' has Geometry Nodes that a subject's position "
                                  "depends on")
            elif mod.type in ("CLOTH", "SOFT_BODY", "FLUID", "DYNAMIC_PAINT", "OCEAN"):
                unresolved.append(f"'{obj.name}' is a {mod.type.lower().replace('_', ' ')} "
                                  "simulation a subject's position depends on")
    return list(seen.values()), unresolved


def _constraints(obj: bpy.types.Object):
    yield from obj.constraints
    if obj.type == "ARMATURE" and obj.pose is not None:
        for bone in obj.pose.bones:
            yield from bone.constraints


def _constraint_targets(con) -> list[bpy.types.Object]:
    found = []
    for attr in ("target", "pole_target", "space_object"):
        value = getattr(con, attr, None)
        if isinstance(value, bpy.types.Object):
            found.append(value)
    for item in getattr(con, "targets", ()) or ():  # the Armature constraint
        if isinstance(getattr(item, "target", None), bpy.types.Object):
            found.append(item.target)
    return found


class ScopedEvaluation:
    """Evaluate ``objects`` and their dependencies frame by frame, away from the heavy scene.

    Use as a context manager; :meth:`frame` returns the depsgraph to read evaluated objects from
    (``obj.evaluated_get(depsgraph)``), or None when the whole scene was evaluated and the
    original objects hold the values.
    """

    def __init__(self, scene: bpy.types.Scene, objects: Iterable[bpy.types.Object]) -> None:
        self.scene = scene
        self.closure, unresolved = dependencies(objects)
        self.notes = [f"Evaluating the whole scene for every frame: {reason}"
                      for reason in dict.fromkeys(unresolved)]
        self.tmp: bpy.types.Scene | None = None
        self._restore: tuple[int, float] | None = None

    @property
    def scoped(self) -> bool:
        return not self.notes

    def __enter__(self) -> ScopedEvaluation:
        if not self.scoped:
            self._restore = (self.scene.frame_current, self.scene.frame_subframe)
            return self
        tmp = bpy.data.scenes.new(SCENE_NAME)
        self.tmp = tmp
        try:
            # Time-based drivers and animation see the same frame rate as the shot.
            tmp.render.fps, tmp.render.fps_base = self.scene.render.fps, self.scene.render.fps_base
            for obj in self.closure:
                tmp.collection.objects.link(obj)
        except BaseException:
            self._remove()
            raise
        return self

    def frame(self, frame: int) -> bpy.types.Depsgraph | None:
        """Evaluate ``frame``; the depsgraph to read from (None: read the original objects)."""
        if self.tmp is None:
            self.scene.frame_set(int(frame))
            return None
        self.tmp.frame_set(int(frame))
        return self.tmp.view_layers[0].depsgraph

    def __exit__(self, *exc) -> None:
        if self._restore is not None:
            self.scene.frame_set(self._restore[0], subframe=self._restore[1])
        self._remove()

    def _remove(self) -> None:
        if self.tmp is not None:
            bpy.data.scenes.remove(self.tmp)
            self.tmp = None


def evaluated(obj: bpy.types.Object | None, depsgraph: bpy.types.Depsgraph | None):
    """``obj`` as ``depsgraph`` evaluated it (``obj`` itself when there is no depsgraph)."""
    if obj is None or depsgraph is None:
        return obj
    return obj.evaluated_get(depsgraph)
