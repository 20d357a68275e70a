"""A depth network ready to run (pure: numpy, and ONNX Runtime imported on first use).

ONNX Runtime is the one optional third-party dependency: this is the only module that imports
it, guarded and lazily (importing it takes a while, and the panel must not wait for it). Without
it everything else works, and :func:`runtime_problem` says why estimation is unavailable and how
to get it. What a network takes and gives is read from its session (:func:`read_signature`),
never from its file name; :class:`LoadedModel` runs it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np

from ..errors import RackFocusError
from ..limits import usable_threads
from . import preprocess, registry, video

HASH_CHUNK = 1 << 22
_UNLOADED = object()
#: The ``onnxruntime`` module once imported, None when it cannot be (tests set None to see
#: what a user without it sees).
onnxruntime = _UNLOADED
_IMPORT_PROBLEM = ""


def runtime():
    """ONNX Runtime, imported on first use, or None when this Python cannot import it."""
    global onnxruntime, _IMPORT_PROBLEM
    if onnxruntime is _UNLOADED:
        try:  # The one optional third-party import, bundled as wheels in the extension.
            import onnxruntime as module
        except ImportError as err:
            module, _IMPORT_PROBLEM = None, str(err)
        onnxruntime = module
    return onnxruntime


def runtime_problem() -> str | None:
    """Why estimation is unavailable (one line), or None when ONNX Runtime imports."""
    if runtime() is not None:
        return None
    return ("Depth estimation needs ONNX Runtime, which this Python cannot import "
            f"({_IMPORT_PROBLEM or 'not installed'}): install the Rack Focus zip built for your "
            "platform (it bundles the onnxruntime wheels; Intel macOS has none), or run "
            "'pip install onnxruntime' for the Python that runs rackfocus")


def require_runtime() -> None:
    problem = runtime_problem()
    if problem:
        raise RackFocusError(problem)


def runtime_version() -> str:
    module = runtime()
    return getattr(module, "__version__", "") if module is not None else ""


# --- model files --------------------------------------------------------------------------------

def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(HASH_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()



@dataclass
class ModelChoice:
    """A model file to load, the rules it follows, and its published checksum (registry
    files) or None (a file the user brought)."""

    path: str
    entry: registry.ModelEntry | None
    sha256: str | None = None
    variant: str | None = None


def verify_file(path: str, expected_sha256: str, delete: bool = True) -> str:
    """Check ``path`` against its published sha256; a mismatch deletes it (when ``delete``)
    and raises. Returns the checksum."""
    actual = file_sha256(path)
    if actual != expected_sha256:
        if delete:
            os.remove(path)
        gone = "; it was deleted: download it again" if delete else ""
        raise RackFocusError(
            f"Checksum mismatch for {os.path.basename(path)}: sha256 {actual[:16]}..., expected "
            f"{expected_sha256[:16]}... (a damaged or different file){gone}")
    return actual



# --- a loaded network -------------------------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    """What a network takes and gives, read from the session (never from the file name).

    ``frames`` is the window length of a video model (None: dynamic); ``height``/``width`` are
    fixed input sizes (None: dynamic).
    """

    input_name: str
    output_name: str
    layout: str
    input_dtype: type
    frames: int | None = None
    height: int | None = None
    width: int | None = None


def read_signature(session, name: str = "the model") -> Signature:
    """The session's signature, or a :class:`RackFocusError` saying what is wrong with it."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    want = ("Depth Anything signature: one float input [1, 3, H, W] (or a video window "
            "[1, T, 3, H, W]) and a float depth output [1, H, W] (or [1, T, H, W])")
    if len(inputs) != 1 or not outputs:
        names = ", ".join(i.name for i in inputs) or "none"
        raise RackFocusError(f"{name} does not have the {want}: it takes {len(inputs)} "
                             f"input(s) ({names})")
    inp, out = inputs[0], outputs[0]
    shape = list(inp.shape)
    if inp.type not in video.INPUT_TYPES or out.type not in video.INPUT_TYPES:
        raise RackFocusError(f"{name} does not have the {want}: input '{inp.name}' is "
                             f"{inp.type}, output '{out.name}' is {out.type}")
    channels_at = {4: 1, 5: 2}.get(len(shape))
    ok = channels_at is not None and video.positive_dim(shape[0]) in (None, 1)
    if ok:
        ok = video.positive_dim(shape[channels_at]) in (None, 3)
    out_rank = len(out.shape)
    layout = "frame" if len(shape) == 4 else "video"
    if ok:
        ok = out_rank in ((3, 4) if layout == "frame" else (4, 5))
    if not ok:
        raise RackFocusError(f"{name} does not have the {want}: input '{inp.name}' is "
                             f"{shape}, output '{out.name}' is {list(out.shape)}")
    frames = video.positive_dim(shape[1]) if layout == "video" else None
    return Signature(inp.name, out.name, layout, video.INPUT_TYPES[inp.type], frames,
                     video.positive_dim(shape[-2]), video.positive_dim(shape[-1]))


class LoadedModel(preprocess.NetworkInput):
    """A depth network ready to run: its session, signature, rules (registry entry) and
    checksum. ``session`` is an ONNX Runtime ``InferenceSession`` (or anything with the same
    ``get_inputs``/``get_outputs``/``run``)."""

    def __init__(self, session, entry: registry.ModelEntry | None, path: str = "",
                 sha256: str = "", published: bool = False) -> None:
        self.session = session
        self.path = path
        self.sha256 = sha256
        self.published = published
        label = f"Model file {os.path.basename(path)}" if path else "The model"
        self.signature = read_signature(session, label)
        if entry is None:
            entry = registry.find_entry("vda-small" if self.signature.layout == "video"
                                        else registry.DEFAULT_MODEL)
        if entry.layout != self.signature.layout:
            takes = "a window of frames" if self.signature.layout == "video" else "one frame"
            raise RackFocusError(f"{label} takes {takes} but the {entry.key} rules are for "
                                 f"{entry.layout} models: pick a matching --model-kind")
        self.entry = entry

    @property
    def credit(self) -> str:
        """How results name this model (see :func:`model_credit`)."""
        return registry.model_credit(self.entry, self.path, self.published)

    @property
    def window_frames(self) -> int:
        return self.signature.frames or self.entry.window_frames or 1

    def predict(self, tensor: np.ndarray) -> np.ndarray:
        """Run the network: ``tensor`` (1, 3, H, W) or (1, T, 3, H, W) -> (frames, h, w)."""
        sig = self.signature
        try:
            out = self.session.run([sig.output_name],
                                   {sig.input_name: tensor.astype(sig.input_dtype)})[0]
        except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors have no common base
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise RackFocusError(f"The model failed on a {tensor.shape[-1]}x{tensor.shape[-2]} "
                                 f"input: {first[:300]}") from None
        out = np.asarray(out, dtype=np.float32)
        frames = tensor.shape[1] if sig.layout == "video" else 1
        if out.ndim < 2 or out.size % frames:
            raise RackFocusError(f"The model returned an output of shape {list(out.shape)}")
        # NaN marks masked pixels; a frame with nothing else is no estimate at all.
        for frame in out.reshape(frames, -1):
            if not np.isfinite(frame).any():
                bad = "NaN" if np.isnan(frame).any() else "infinite values"
                raise RackFocusError(
                    f"The model returned {bad} for every pixel of a {tensor.shape[-1]}x"
                    f"{tensor.shape[-2]} input: it is not a depth model Rack Focus can use (or "
                    "not in this precision): try another --model")
        return out.reshape(frames, out.shape[-2], out.shape[-1])


def model_sha256(path: str) -> str:
    """A model file's sha256, or one for both files of a split video export (a folder)."""
    pair = video.split_paths(path)
    return video.combined_sha256([file_sha256(p) for p in pair]) if pair else file_sha256(path)


def _session(path: str, threads: int = 0):
    """An ONNX Runtime session on the CPU, or a clear error when the file is no model."""
    ort = runtime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:  # never more than the cores: 100000 threads crashed ONNX Runtime
        options.intra_op_num_threads = usable_threads(int(threads))[0]
    try:
        return ort.InferenceSession(path, sess_options=options,
                                    providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - InvalidProtobuf, Fail, ...: not a loadable model
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RackFocusError(f"{os.path.basename(path)} is not an ONNX model ONNX Runtime can "
                             f"load ({first[:200]})") from None


def load_model(choice: ModelChoice, threads: int = 0) -> LoadedModel | video.SplitVideoModel:
    """Verify (registry files), open and check a model file (or a split video export's
    folder: :mod:`.video`)."""
    require_runtime()
    path = choice.path
    pair = video.split_paths(path)
    if pair:
        return video.SplitVideoModel(*(_session(p, threads) for p in pair), choice.entry,
                                     path, model_sha256(path))
    if choice.sha256:
        sha = verify_file(path, choice.sha256, delete=True)
    else:
        sha = file_sha256(path)
    return LoadedModel(_session(path, threads), choice.entry, path, sha,
                       published=choice.sha256 is not None)
