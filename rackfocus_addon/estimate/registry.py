"""The depth models Rack Focus knows: files, checksums, input and output rules, licences.

Only models whose code and weights are Apache-2.0, MIT or BSD are listed in :data:`MODELS`.
Models under non-commercial licences are in :data:`EXCLUDED`, so a user asking for one is told
why it is not offered (instead of "unknown model").

An entry's rules are what the runtime needs to use any ONNX file of that family, so a user can
bring a fine-tuned or quantised variant (``--model PATH``): the input and output names and shapes
are read from the file itself; the entry supplies the normalisation, the resize rule and what the
output means (:data:`OUTPUT_KINDS`).

Output kinds:

- ``disparity``: relative inverse depth (near = large) up to an unknown scale and shift, aligned
  to metres against anchors (:mod:`.align`).
- ``metric``: planar depth in metres, used as is (anchors may still refine it).
- ``metric_focal300``: Depth Anything 3 Metric's canonical depth: ``metres = focal_px * output /
  300``, where ``focal_px`` is the focal length in pixels of the image the network saw
  (:func:`canonical_to_metres`, :func:`focal_px`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import RackFocusError

OUTPUT_KINDS = ("disparity", "metric", "metric_focal300")
#: ``frame``: one image in ([1, 3, H, W] -> [1, H, W]); ``video``: a window of T frames in
#: ([1, T, 3, H, W] -> [1, T, H, W]).
LAYOUTS = ("frame", "video")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Depth Anything's canonical focal length (pixels) of DA3 Metric's output.
DA3_CANONICAL_FOCAL_PX = 300.0

HF = "https://huggingface.co"


@dataclass(frozen=True)
class ModelFile:
    """One downloadable file of a model: where it lives, its size and checksum."""

    variant: str          # 'fp32', 'fp16', 'int8'
    path: str             # path inside the model's repository, e.g. 'onnx/model.onnx'
    size_mb: float        # as published (MB = 10^6 bytes); the sha256 is what is checked
    sha256: str
    url: str


@dataclass(frozen=True)
class SplitExport:
    """How Rack Focus takes a video model exported in two ONNX files (one folder holding
    both), so the per-frame encoder runs once per frame and only the temporal head sees windows.

    The runtime reads the real input and output names from the files and checks the ranks; the
    names and sizes here are what the documented export script writes for Video Depth Anything
    Small (DINOv2 ViT-S/14: features of 4 layers of 384 channels on the 14-pixel patch grid).

    - ``encoder.onnx``: ``pixel_values`` float32 [N, 3, H, W] (N frames, H and W multiples of
      14, normalised as :attr:`ModelEntry.mean`/``std``) -> ``features`` float32 or float16
      [N, 4, 384, H/14, W/14] (the patch tokens of DINOv2 blocks 2, 5, 8 and 11, class token
      dropped: the Small head does not use it).
    - ``head.onnx``: ``features`` [1, T, 4, 384, H/14, W/14] (T = 32 frames) -> ``depth``
      float32 [1, T, H, W]: relative inverse depth (near = large, >= 0) for every frame.
    """

    encoder_file: str = "encoder.onnx"
    head_file: str = "head.onnx"
    encoder_input: str = "pixel_values"
    encoder_output: str = "features"
    head_input: str = "features"
    head_output: str = "depth"
    layers: int = 4
    channels: int = 384
    dino_blocks: tuple[int, ...] = (2, 5, 8, 11)

    @property
    def encoder_signature(self) -> str:
        return (f"encoder signature: one float input {self.encoder_input} [N, 3, H, W] and a "
                f"float output {self.encoder_output} [N, {self.layers}, {self.channels}, H/14, "
                "W/14]")

    @property
    def head_signature(self) -> str:
        return (f"head signature: one float input {self.head_input} [1, T, {self.layers}, "
                f"{self.channels}, H/14, W/14] and a float output {self.head_output} [1, T, H, "
                "W]")


SPLIT_EXPORT = SplitExport()


@dataclass(frozen=True)
class ModelEntry:
    """A model family: its rules, its licences, and the verified files that can be downloaded.

    ``files`` is empty when no ONNX export with a published checksum is known: the entry's rules
    still apply to a file the user brings (``--model PATH --model-kind KEY``).
    """

    key: str
    title: str
    output: str                       # one of OUTPUT_KINDS
    layout: str = "frame"             # one of LAYOUTS
    input_name: str = "pixel_values"  # as exported; the runtime reads the real name
    output_name: str = "predicted_depth"
    short_side_px: int = 518          # resize: aspect kept, short side to this
    multiple_px: int = 14             # H and W rounded to multiples of the ViT patch
    resize: str = "bicubic"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    window_frames: int = 0            # video: frames per window (0 for per-frame models)
    overlap_frames: int = 0           # video: frames shared by consecutive windows
    crossfade_frames: int = 0         # video: frames blended from one window into the next
    split: SplitExport | None = None  # video: the encoder + head export it may come as
    parameters_m: float = 0.0
    licence_code: str = ""
    licence_weights: str = ""
    source: str = ""
    files: tuple[ModelFile, ...] = field(default_factory=tuple)
    notes: str = ""

    @property
    def relative(self) -> bool:
        """True when the output needs anchors (or near/far) to become metres."""
        return self.output == "disparity"

    def file(self, variant: str | None = None) -> ModelFile:
        """The downloadable file of ``variant`` (default: the first, full precision)."""
        if not self.files:
            raise RackFocusError(
                f"Model '{self.key}' has no verified download: export it to ONNX yourself and "
                f"pass --model PATH --model-kind {self.key}")
        if variant is None:
            return self.files[0]
        for f in self.files:
            if f.variant == variant:
                return f
        names = ", ".join(f.variant for f in self.files)
        raise RackFocusError(f"Model '{self.key}' has no variant '{variant}' (variants: {names})")

    def describe(self) -> str:
        files = ", ".join(f"{f.variant} {f.size_mb:g} MB" for f in self.files) or "bring your own"
        return (f"{self.key}: {self.title} ({self.output}, {self.layout}; code "
                f"{self.licence_code}, weights {self.licence_weights}; {files})")


@dataclass(frozen=True)
class ExcludedModel:
    """A model Rack Focus does not offer, and why (its licence)."""

    name: str
    licence: str
    reason: str = "non-commercial licence: cannot ship with or be fetched by a GPL add-on"


_DA2S_REPO = f"{HF}/onnx-community/depth-anything-v2-small/resolve/main"

MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        key="da2-small",
        title="Depth Anything V2 Small",
        output="disparity",
        parameters_m=24.8,
        licence_code="Apache-2.0",
        licence_weights="Apache-2.0",
        source="https://huggingface.co/onnx-community/depth-anything-v2-small",
        files=(
            ModelFile("fp32", "onnx/model.onnx", 99.1,
                      "afb6a5c28f3b6bf1618c6e43f02073ef9dfdc70e937502d51603e57b0a1df10c",
                      f"{_DA2S_REPO}/onnx/model.onnx"),
            ModelFile("fp16", "onnx/model_fp16.onnx", 49.6,
                      "2df6223f206b5164e21f664ace61dabeb9bb6a49b8b5a3e00510b4807d0f5b04",
                      f"{_DA2S_REPO}/onnx/model_fp16.onnx"),
            ModelFile("int8", "onnx/model_int8.onnx", 27.3,
                      "01aa7a23de3f4a0ee1a2bb9997e6918104c85a9f95dea46d27b9b3fb0c6b9001",
                      f"{_DA2S_REPO}/onnx/model_int8.onnx"),
        ),
        notes="The default. One frame at a time; Rack Focus stabilises the frames of a clip "
              "against each other and aligns them to metres once per shot.",
    ),
    ModelEntry(
        key="vda-small",
        title="Video Depth Anything Small",
        output="disparity",
        layout="video",
        window_frames=32,
        overlap_frames=10,
        crossfade_frames=8,
        parameters_m=28.4,
        licence_code="Apache-2.0",
        licence_weights="Apache-2.0",
        source="https://github.com/DepthAnything/Video-Depth-Anything",
        split=SPLIT_EXPORT,
        notes="Temporally consistent within a window of 32 frames; windows start 22 frames "
              "apart and carry 2 keyframes and 8 frames of the previous window, are fitted to "
              "it (robust scale and shift) and cross-fade over 8 frames, as upstream's "
              "inference does. No export with a published checksum: export it yourself "
              "(docs/video-models.md) as a folder holding encoder.onnx ([N, 3, H, W] -> "
              "features [N, 4, 384, H/14, W/14]) and head.onnx ([1, 32, 4, 384, H/14, W/14] "
              "-> [1, 32, H, W]), or as one file ([1, T, 3, H, W] -> [1, T, H, W]).",
    ),
    ModelEntry(
        key="metric-vda-small",
        title="Metric Video Depth Anything Small",
        output="metric",
        layout="video",
        window_frames=32,
        overlap_frames=10,
        crossfade_frames=8,
        parameters_m=28.4,
        licence_code="Apache-2.0",
        licence_weights="Apache-2.0",
        source="https://github.com/DepthAnything/Video-Depth-Anything",
        split=SPLIT_EXPORT,
        notes="Depth in metres (windows are not refitted, only cross-faded in inverse "
              "depth). Export it yourself as for vda-small (docs/video-models.md): the head's "
              "output is metres instead of relative inverse depth.",
    ),
    ModelEntry(
        key="da3-metric-large",
        title="Depth Anything 3 Metric Large",
        output="metric_focal300",
        input_name="pixel_values",
        output_name="predicted_depth",
        parameters_m=350.0,
        licence_code="Apache-2.0",
        licence_weights="Apache-2.0",
        source="https://github.com/ByteDance-Seed/Depth-Anything-3",
        notes="Canonical depth: metres = focal_px * output / 300, focal_px from the camera "
              "(lens mm / sensor mm x width px, honouring sensor fit) at the network's input "
              "size. Bring your own single-image ONNX export ([1, 3, H, W] -> [1, H, W]).",
    ),
)

EXCLUDED: tuple[ExcludedModel, ...] = (
    ExcludedModel("Depth Anything V2 Base", "CC-BY-NC-4.0"),
    ExcludedModel("Depth Anything V2 Large", "CC-BY-NC-4.0"),
    ExcludedModel("Video Depth Anything Base", "CC-BY-NC-4.0"),
    ExcludedModel("Video Depth Anything Large", "CC-BY-NC-4.0"),
    ExcludedModel("Depth Anything 3 Large", "CC-BY-NC-4.0"),
    ExcludedModel("Depth Anything 3 Giant", "CC-BY-NC-4.0"),
    ExcludedModel("DepthCrafter", "non-commercial (Tencent research licence)"),
    ExcludedModel("UniDepth", "CC-BY-NC-4.0"),
)

DEFAULT_MODEL = "da2-small"


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def find_entry(name: str) -> ModelEntry:
    """The entry called ``name`` (its key, e.g. 'da2-small', or its title, any case).

    A model in :data:`EXCLUDED` gets an error naming its licence; an unknown name lists the keys.
    """
    wanted = _norm(name)
    for entry in MODELS:
        if wanted in (_norm(entry.key), _norm(entry.title)):
            return entry
    for ex in EXCLUDED:
        if wanted == _norm(ex.name):
            raise RackFocusError(
                f"{ex.name} is not offered: {ex.licence} ({ex.reason}); use "
                f"{DEFAULT_MODEL} or another model from 'estimate --models'")
    keys = ", ".join(e.key for e in MODELS)
    raise RackFocusError(f"Unknown model '{name}': use one of {keys}, or a path to an .onnx file")


def split_spec(spec: str) -> tuple[str, str | None]:
    """``'da2-small:fp16'`` -> ('da2-small', 'fp16'); ``'da2-small'`` -> ('da2-small', None)."""
    name, sep, variant = spec.partition(":")
    return name, (variant or None) if sep else None


def focal_px(lens_mm: float, sensor_mm: float, width_px: int, height_px: int,
             sensor_fit: str = "AUTO") -> float:
    """The focal length in pixels of a Blender camera rendering ``width_px`` x ``height_px``.

    Blender's sensor fit says which image side the sensor size spans: ``HORIZONTAL`` the width,
    ``VERTICAL`` the height, ``AUTO`` the larger side. Square pixels.
    """
    if not (lens_mm > 0 and sensor_mm > 0 and width_px > 0 and height_px > 0):
        raise RackFocusError("Focal length, sensor size and image size must be positive")
    fit = sensor_fit.upper()
    if fit not in ("AUTO", "HORIZONTAL", "VERTICAL"):
        raise RackFocusError(f"Unknown sensor fit '{sensor_fit}': use AUTO, HORIZONTAL or "
                             "VERTICAL")
    if fit == "AUTO":
        fit = "HORIZONTAL" if width_px >= height_px else "VERTICAL"
    spanned = width_px if fit == "HORIZONTAL" else height_px
    return lens_mm / sensor_mm * spanned


def canonical_to_metres(output, focal_px_at_input: float):
    """Depth Anything 3 Metric's output to metres: ``focal_px * output / 300``.

    ``focal_px_at_input`` is the focal length in pixels at the size the network saw (the footage's
    focal length in pixels scaled by network width / footage width).
    """
    return output * (focal_px_at_input / DA3_CANONICAL_FOCAL_PX)


def model_credit(entry: ModelEntry | None, path: str, published: bool) -> str:
    """The name a result credits: the registry's title for a file it publishes; the user's own
    file by its file name, with the rules it ran under (a file of DA2's signature is not DA2)."""
    if published or not path:
        return entry.title if entry else os.path.basename(path)
    name = os.path.basename(os.path.normpath(path))
    return f"{name} (as {entry.title})" if entry else name
