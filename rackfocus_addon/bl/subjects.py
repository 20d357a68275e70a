"""What a pull looks at, resolved in one place: the camera, each mark's frame and subject.

Every subject kind resolves here: an object (its origin), a bone (its head), a world point, and a
footage pixel on the camera's depth plate (read from the plate's cached depth, riding on the
camera's ray through that pixel). Every caller (pull, readability, export, describe, presets, the
panel) goes through :func:`resolve_subject`, so a kind that works in one works in all.
Misspelt names get the closest names in the scene ("did you mean ...?").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

import bpy
import numpy as np

from .. import depth as depth_maths
from .. import plate_mesh
from ..errors import RackFocusError
from ..marks import Mark, SubjectRef, quote_name
from ..plan import PullPlan, make_plan
from ..request import PullRequest
from ..suggest import did_you_mean
from . import compat, plate, records
from . import footage as footage_io
from .evaluate import evaluated
from .scene_eval import is_animated


def resolve_camera(scene: bpy.types.Scene, name: str | None = None) -> bpy.types.Object:
    """The camera to pull focus on: ``name`` or the scene camera, checked to be usable."""
    if name:
        cam = scene.objects.get(name)
        if cam is None:
            cams = [o.name for o in scene.objects if o.type == "CAMERA"]
            raise RackFocusError(f"No camera named '{name}' in scene '{scene.name}'"
                                 f"{did_you_mean(name, cams)}")
    else:
        cam = scene.camera
        if cam is None:
            raise RackFocusError(f"Scene '{scene.name}' has no camera: add one or pass --camera")
    if cam.type != "CAMERA":
        raise RackFocusError(f"'{cam.name}' is a {cam.type.lower()}, not a camera")
    if cam.data.type != "PERSP":
        raise RackFocusError(
            f"Camera '{cam.name}' is {cam.data.type.lower()}: "
            "depth of field needs a perspective camera"
        )
    if compat.is_linked(cam) or compat.is_linked(cam.data):
        raise RackFocusError(
            f"Camera '{cam.name}' is linked from another file and read-only here: "
            "make it local (or a library override) first"
        )
    return cam


def marker_frame(scene: bpy.types.Scene, name: str) -> int:
    """Frame of the timeline marker ``name``."""
    marker = scene.timeline_markers.get(name)
    if marker is None:
        names = sorted(m.name for m in scene.timeline_markers)
        hint = did_you_mean(name, names) or f" (markers: {', '.join(names) or 'none'})"
        raise RackFocusError(f"No timeline marker named '{name}'{hint}")
    return int(marker.frame)


def mark_frame(scene: bpy.types.Scene, mark: Mark) -> int:
    """The frame of ``mark``: its number, or its timeline marker's frame."""
    return mark.frame if mark.marker is None else marker_frame(scene, mark.marker)


def resolve_marks(scene: bpy.types.Scene, marks: Iterable[Mark]) -> list[tuple[SubjectRef, int]]:
    """(subject, frame) for every mark, markers looked up."""
    return [(mark.subject, mark_frame(scene, mark)) for mark in marks]


def plan_for(scene: bpy.types.Scene, request: PullRequest) -> PullPlan:
    """The validated plan of ``request`` in ``scene`` (markers resolved)."""
    return make_plan(resolve_marks(scene, request.marks), request.easing, request.space)


class Subject:
    """A resolved subject: something with a world position at the current frame."""

    def __init__(self, ref: SubjectRef, obj: bpy.types.Object | None = None,
                 bone: str = "", point: Sequence[float] | None = None) -> None:
        self.ref = ref
        self.obj = obj
        self.bone = bone
        self.point = None if point is None else np.array(point, dtype=np.float64)

    def position(self, depsgraph: bpy.types.Depsgraph | None = None) -> np.ndarray:
        """World position (metres) at the evaluated frame: read from ``depsgraph`` when given
        (a scoped evaluation), else from the original objects (the active scene's frame)."""
        if self.obj is None:
            return self.point
        obj = evaluated(self.obj, depsgraph)
        if self.bone:
            pose_bone = obj.pose.bones[self.bone]
            return np.array(obj.matrix_world @ pose_bone.head, dtype=np.float64)
        return np.array(obj.matrix_world.translation, dtype=np.float64)

    def is_static(self) -> bool:
        return self.obj is None or not is_animated(self.obj)

    def objects(self) -> list[bpy.types.Object]:
        """The objects whose evaluation places this subject."""
        return [] if self.obj is None else [self.obj]


class PixelSubject(Subject):
    """A footage pixel on a plate: a point at that pixel's depth, on the camera's ray.

    It moves with the camera and, on a sequence, with the depth under the pixel.
    """

    def __init__(self, ref: SubjectRef, scene, camera, reader: DepthReader) -> None:
        self.scene = scene
        self.camera = camera
        self.reader = reader
        self.ref = ref
        reader.watch(*ref.coords)
        super().__init__(ref, point=self.position())

    def camera_local(self, frame: int) -> np.ndarray:
        """The point in the camera's own space (metres) at ``frame``."""
        x, y = self.ref.coords
        z = self.reader.depth_at(frame, x, y)
        return plate_mesh.pixel_point(x, y, z, self.reader.width, self.reader.height,
                                      self.reader.sensor, self.reader.focal)

    def position(self, depsgraph: bpy.types.Depsgraph | None = None) -> np.ndarray:
        frame = self.scene.frame_current if depsgraph is None else depsgraph.scene.frame_current
        local = self.camera_local(frame)
        mw = np.array(evaluated(self.camera, depsgraph).matrix_world, dtype=np.float64)
        return mw[:3, :3] @ local + mw[:3, 3]

    def objects(self) -> list[bpy.types.Object]:
        return [self.camera]

    def is_static(self) -> bool:
        return self.reader.frames == 1 and not is_animated(self.camera)

    def check_mark(self, frame: int) -> None:
        """Refuse a mark on this pixel at ``frame``: outside the clip, or on unmeasured depth."""
        x, y = self.ref.coords
        self.reader.check_pixel(frame, x, y)


def check_pixel_marks(subjects: Sequence[Subject], marks: Iterable[tuple[int, int]]) -> None:
    """Refuse every pixel mark (subject index, frame) on a frame outside its clip or on a pixel
    whose depth was not measured (masked and filled from its neighbours); others pass."""
    for index, frame in marks:
        subject = subjects[index]
        if isinstance(subject, PixelSubject):
            subject.check_mark(frame)


class DepthReader:
    """Metric depth per frame from a plate's cached depth EXRs, read on demand.

    The cache's blue channel is 1 where the depth was not measured (NaN, inf, <= 0 in the source:
    filled from neighbours); caches written before it existed read as measured everywhere.

    Only the last :data:`KEEP_FRAMES` frames' planes stay in memory, and every value read is
    remembered: a pull walks the clip frame by frame (once to key the point, again to measure
    the focus), and kept whole frames grew by 20 MB a 1080p frame per pixel mark (2.3 GB for
    two marks on a 48-frame clip, so a minute of footage would not fit). The pixels of every
    subject sharing the reader (:meth:`watch`) are sampled when a frame is read, so marks on
    one plate read each file once between them.
    """

    #: Frames whose depth and unmeasured planes are kept (a pull reads them in order).
    KEEP_FRAMES = 2

    def __init__(self, plate_obj: bpy.types.Object) -> None:
        record = records.read(plate_obj, plate.RECORD) or {}
        self.width = int(record["width"])
        self.height = int(record["height"])
        self.sensor = float(record["sensor_mm"])
        self.focal = float(record["focal_mm"])
        self.frames = int(record["frames"])
        self.frame_start = int(record["frame_start"])
        image = plate.depth_image(plate_obj)
        if image is None:
            raise RackFocusError(f"Plate '{plate_obj.name}' has lost its depth image")
        self.first = os.path.abspath(bpy.path.abspath(image.filepath, library=image.library))
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # oldest first
        self._values: dict[tuple[int, int, float, float], float] = {}
        self._watched: dict[tuple[float, float], None] = {}

    @property
    def frame_range(self) -> tuple[int, int]:
        """The scene frames the clip covers (first, last)."""
        return self.frame_start, self.frame_start + self.frames - 1

    def index(self, frame: int) -> int:
        """The 1-based cache file number that holds ``frame``, clamped to the clip: focus held
        before the first or after the last frame reads the nearest end (marks are refused there:
        :meth:`check_frame`)."""
        return min(max(frame - self.frame_start + 1, 1), self.frames)

    def file_for(self, frame: int) -> str:
        index = self.index(frame)
        return re.sub(r"(\d+)(\.exr)$", lambda m: f"{index:0{len(m.group(1))}d}{m.group(2)}",
                      self.first)

    def check_frame(self, frame: int) -> None:
        """Refuse a mark at ``frame`` outside the clip (a still holds at every frame)."""
        first, last = self.frame_range
        if self.frames > 1 and not first <= frame <= last:
            raise RackFocusError(
                f"Frame {frame} is outside the footage (frames {first}-{last}): put pixel marks "
                "on a frame of the clip")

    def check_pixel(self, frame: int, x: float, y: float) -> None:
        """Refuse a mark on pixel (x, y) at ``frame``: off the footage, outside the clip, or on
        depth that was not measured there."""
        self._check_inside(x, y)
        self.check_frame(frame)
        if not self.measured_at(frame, x, y):
            raise RackFocusError(
                f"Pixel ({x:g}, {y:g}) has no measured depth at frame {frame} (it was filled "
                "from its neighbours): pick a measured pixel")

    def depth_at(self, frame: int, x: float, y: float) -> float:
        """Planar depth (metres) under pixel (x, y) (origin top-left) at ``frame``."""
        return self._value(frame, 0, x, y)

    def measured_at(self, frame: int, x: float, y: float) -> bool:
        """Whether the depth under pixel (x, y) at ``frame`` was measured (not filled in)."""
        return self._value(frame, 1, x, y) < 0.5

    def watch(self, x: float, y: float) -> None:
        """Sample pixel (x, y) in every frame read from now on (a subject on this plate)."""
        self._check_inside(x, y)
        self._watched[(x, y)] = None

    def _value(self, frame: int, plane: int, x: float, y: float) -> float:
        self._check_inside(x, y)
        key = (self.index(frame), plane, x, y)
        if key not in self._values:
            planes = self._frame(frame)
            for px, py in (*self._watched, (x, y)):
                for k, values in enumerate(planes):
                    self._values[(key[0], k, px, py)] = depth_maths.sample_at(values, px, py)
        return self._values[key]

    def _check_inside(self, x: float, y: float) -> None:
        if not (0 <= round(x) < self.width and 0 <= round(y) < self.height):
            raise RackFocusError(
                f"Pixel ({x:g}, {y:g}) is outside the {self.width}x{self.height} footage")

    def _frame(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """(depth, filled) of the cache file holding ``frame``."""
        index = self.index(frame)
        if index not in self._cache:
            path = self.file_for(frame)
            if not os.path.isfile(path):
                raise RackFocusError(f"Plate depth file is missing: {path}")
            px, _ = footage_io.read_pixels(path, data=True)
            while len(self._cache) >= self.KEEP_FRAMES:
                del self._cache[next(iter(self._cache))]
            self._cache[index] = (px[..., 0].copy(), px[..., 2].copy())
        return self._cache[index]


def resolve_subject(scene: bpy.types.Scene, camera: bpy.types.Object,
                    ref: SubjectRef, readers: dict | None = None) -> Subject:
    """Find the scene thing that ``ref`` names, or raise a :class:`RackFocusError` that says why.
    ``readers``: depth readers by plate name, shared by the pixel marks resolved with it."""
    if ref.kind == "point":
        return Subject(ref, point=ref.coords)
    if ref.kind == "pixel":
        return _pixel_subject(scene, camera, ref, {} if readers is None else readers)
    if ref.kind == "bone":
        whole = scene.objects.get(f"{ref.name}:{ref.bone}")
        if scene.objects.get(ref.name) is None and whole is not None:
            # 'Fox:Rig@40' written unquoted names the object 'Fox:Rig' when there is no 'Fox'.
            return _checked(camera, SubjectRef("object", name=whole.name), whole)
        split = _split_bone(scene, ref)
        if split is not None:
            ref = split
    obj = scene.objects.get(ref.name)
    if obj is None:
        raise RackFocusError(_missing_object(scene, ref))
    if ref.kind == "bone":
        if obj.type != "ARMATURE":
            raise RackFocusError(f"'{ref.name}' is a {obj.type.lower()}, not an armature: "
                                 f"'{ref.spec()}' needs ARMATURE:BONE")
        if ref.bone not in obj.pose.bones:
            bones = [b.name for b in obj.pose.bones]
            raise RackFocusError(f"Armature '{ref.name}' has no bone named '{ref.bone}'"
                                 f"{did_you_mean(ref.bone, bones)}")
        return _checked(camera, ref, obj, ref.bone)
    return _checked(camera, ref, obj)


def resolve_subjects(scene: bpy.types.Scene, camera: bpy.types.Object,
                     refs: Iterable[SubjectRef]) -> list[Subject]:
    """:func:`resolve_subject` of each; pixel marks on one plate share its depth reader."""
    readers: dict[str, DepthReader] = {}
    return [resolve_subject(scene, camera, ref, readers) for ref in refs]


def _checked(camera, ref: SubjectRef, obj, bone: str = "") -> Subject:
    if obj == camera:
        raise RackFocusError(
            f"Camera '{camera.name}' cannot focus on itself: pick a subject in front of it"
        )
    return Subject(ref, obj=obj, bone=bone)


def _split_bone(scene, ref: SubjectRef) -> SubjectRef | None:
    """'Fox:Rig:b_Head' unquoted: the armature is the longest existing prefix ('Fox:Rig')."""
    whole = f"{ref.name}:{ref.bone}"
    parts = whole.split(":")
    for cut in range(len(parts) - 1, 0, -1):
        name, bone = ":".join(parts[:cut]), ":".join(parts[cut:])
        obj = scene.objects.get(name)
        if obj is not None and obj.type == "ARMATURE" and bone in obj.pose.bones:
            return SubjectRef("bone", name=name, bone=bone)
    return None


def _missing_object(scene, ref: SubjectRef) -> str:
    """Why ``ref``'s object is not found, with the closest names and, for a bone, the fix."""
    if bpy.data.objects.get(ref.name) is not None:
        return (f"No object named '{ref.name}' in scene '{scene.name}' (it exists in the file "
                "but not in this scene)")
    names = [o.name for o in scene.objects]
    message = f"No object named '{ref.name}' in scene '{scene.name}'"
    if ref.kind == "object":
        owners = [o.name for o in scene.objects
                  if o.type == "ARMATURE" and ref.name in o.pose.bones]
        if owners:
            specs = " or ".join(f"{quote_name(a)}:{quote_name(ref.name)}" for a in owners)
            return (f"{message}: '{ref.name}' is a bone of {', '.join(map(repr, owners))}; "
                    f"write ARMATURE:BONE, e.g. {specs}")
    return message + did_you_mean(ref.name, names)


def _pixel_subject(scene, camera, ref: SubjectRef, readers: dict) -> PixelSubject:
    if len(ref.coords) != 2:
        raise RackFocusError(f"{ref.label()} is not a pixel mark: write px:X,Y@FRAME")
    found = [p for p in plate.plates(camera) if scene.objects.get(p.name) is not None]
    if not found:
        raise RackFocusError(
            f"Mark on {ref.label()} needs a depth plate in front of camera '{camera.name}': "
            "import one first (rackfocus plate / Import Plate)")
    if found[0].name not in readers:
        readers[found[0].name] = DepthReader(found[0])
    return PixelSubject(ref, scene, camera, readers[found[0].name])
