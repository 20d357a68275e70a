"""Video depth models end to end: windows, keyframes, overlap, cross-fade (pure, numpy only).

Video Depth Anything sees a window of T = 32 frames at once; its temporal head makes the depth
of the frames inside a window consistent with each other. A clip longer than a window is cut
into windows that start 22 frames apart (T - overlap), as upstream's ``infer_video_depth`` does:

- Window 0 holds frames 0..31. Window k >= 1 holds, at positions 0..1, two *keyframes* seen
  before (the segment's first frame, and the frame at position 12 of window k-1), at positions
  2..9 the last 8 frames of window k-1 again (the *overlap*), and 22 new frames at 10..31. The
  network thus sees what it said before, and the clip's first frame in every window, which
  holds its scale. The last window is padded with copies of the last frame.
- Each window's output is mapped onto what is already stitched by one robust scale and shift
  of inverse depth (relative models), fitted on all 10 context positions: the keyframes against
  their final values, the overlap frames against window k-1's values. The pairs are the same
  frame at the same pixel, so camera motion does not bias this fit (unlike a chain of
  consecutive frames). Upstream fits on the two keyframes only; the overlap adds 8 frames of
  pixels to the same fit. Metric models (output in metres) are not refitted.
- The 8 overlap frames then cross-fade from window k-1 to window k (weight of the new window
  1/9, 2/9, ... 8/9), in inverse depth, so no frame steps from one window to the next.

Two kinds of export run through the same windows:

- a single ONNX file taking a whole window ``[1, T, 3, H, W] -> [1, T, H, W]``;
- a split export (:class:`SplitVideoModel`): a per-frame encoder (DINOv2) and the temporal head,
  two files in one folder (``registry.SplitExport``). The encoder runs once per frame; its
  features are kept only while a later window still needs them (at most T frames' worth, however
  long the clip), and the head runs once per window on the stacked features.

:class:`WindowRunner` streams a segment: footage is read, encoded and stitched window by window,
and each frame is handed back as soon as it is final. Its state (the next window, the overlap
frames waiting for their cross-fade) can be saved and restored, so a stopped run resumes; after
a resume the 10 context frames of the next window are encoded again (their features were not
saved: 15 MB a frame at 1080p).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import RackFocusError
from . import preprocess, registry
from .align import MAX_FIT_SAMPLES, Transform, robust_affine

Frames = list[tuple[int, np.ndarray]]
INPUT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


# --- the windows -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """One window of a segment: the frame (0-based, within the segment) at each position.

    Positions ``[0, keyframes)`` are keyframes, ``[keyframes, context)`` the overlap frames that
    cross-fade with the previous window, ``[context, final_end)`` frames final after this
    window, ``[final_end, len(frames))`` frames held for the next window's cross-fade (or, in
    the last window, padding).
    """

    index: int
    frames: tuple[int, ...]
    keyframes: int
    context: int
    final_end: int
    last: bool

    @property
    def held(self) -> tuple[int, ...]:
        """Frames whose values wait for the next window's cross-fade."""
        return () if self.last else self.frames[self.final_end:]


def keyframe_positions(window: int, overlap: int, crossfade: int) -> list[int]:
    """Positions in a window whose frames become the next window's keyframes: ``overlap -
    crossfade`` of them, spread over the window's final part (32, 10, 8 -> [0, 12], upstream's
    KEYFRAMES [0, 12] before its overlap)."""
    count = overlap - crossfade
    return [j * (window - crossfade) // count for j in range(count)] if count else []


def plan_windows(count: int, window: int = 32, overlap: int = 10, crossfade: int = 8
                 ) -> list[Window]:
    """The windows over ``count`` frames (see the module notes): window k starts at frame
    ``k * (window - overlap)``; a window exists while it brings new frames."""
    if count < 1:
        raise RackFocusError("A clip needs at least one frame")
    if not 0 <= crossfade <= overlap < window:
        raise RackFocusError(f"Video windows need 0 <= cross-fade <= overlap < window (got "
                             f"{crossfade}, {overlap}, {window})")
    stride = window - overlap
    keys = keyframe_positions(window, overlap, crossfade)
    plans: list[Window] = []
    k = 0
    while k == 0 or k * stride + overlap < count:
        start = k * stride
        first_new = 0 if k == 0 else overlap
        natural = [min(start + p, count - 1) for p in range(window)]
        frames = natural if k == 0 else [plans[-1].frames[p] for p in keys] + natural[len(keys):]
        last = (k + 1) * stride + overlap >= count
        real = min(window, count - start)  # positions holding a frame of the clip
        final_end = real if last else window - crossfade
        plans.append(Window(k, tuple(frames), 0 if k == 0 else len(keys),
                            0 if k == 0 else overlap, max(final_end, first_new), last))
        k += 1
    return plans


# --- stitching --------------------------------------------------------------------------------

class Stitcher:
    """Stitches the windows of :func:`plan_windows` into one sequence in window 0's units.

    ``relative``: the output is relative inverse depth (each window fitted by scale and shift);
    otherwise metres (no fit; the cross-fade is done in inverse depth).
    """

    def __init__(self, plans: Sequence[Window], crossfade: int, relative: bool = True) -> None:
        self.plans = list(plans)
        self.crossfade = crossfade
        self.relative = relative
        self.next_window = 0
        #: Held frames of the last window (frame -> values), waiting for their cross-fade.
        self.pending: dict[int, np.ndarray] = {}
        #: Final values of the next window's keyframes (frame -> values).
        self.refs: dict[int, np.ndarray] = {}
        self.fits: list[Transform] = []

    @property
    def done(self) -> bool:
        return self.next_window >= len(self.plans)

    def restore(self, next_window: int, load_pending: Callable[[int], np.ndarray],
                load_final: Callable[[int], np.ndarray]) -> None:
        """Resume before window ``next_window``: its overlap frames' held values and its
        keyframes' final values are loaded (frame index -> values)."""
        self.next_window = next_window
        self.pending, self.refs = {}, {}
        if 0 < next_window < len(self.plans):
            plan = self.plans[next_window]
            self.refs = {f: load_final(f) for f in plan.frames[:plan.keyframes]}
            self.pending = {f: load_pending(f) for f in plan.frames[plan.keyframes:plan.context]}

    def _fit(self, plan: Window, preds: Sequence[np.ndarray]) -> Transform:
        """Scale and shift of this window onto the stitched sequence, on the context positions
        (same frame, same pixel), robustly; identity when it cannot be fitted."""
        if not (self.relative and plan.context):
            return Transform()
        ref = np.stack([self.refs[f] if p < plan.keyframes else self.pending[f]
                        for p, f in enumerate(plan.frames[:plan.context])])
        new = np.stack(list(preds[:plan.context]))
        if ref.shape != new.shape:
            raise RackFocusError(f"Windows of different output sizes cannot be stitched "
                                 f"({ref.shape[1:]} and {new.shape[1:]})")
        step = max(1, -(-ref.size // MAX_FIT_SAMPLES))
        a = new.ravel()[::step].astype(np.float64)
        b = ref.ravel()[::step].astype(np.float64)
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 2:
            return Transform()
        scale, shift, _w = robust_affine(a[ok], b[ok])
        if not (np.isfinite(scale) and np.isfinite(shift)) or scale <= 0.0:
            return Transform()
        return Transform(scale, shift)

    def blend(self, old: np.ndarray, new: np.ndarray, weight: float) -> np.ndarray:
        """``weight`` of ``new`` and the rest of ``old``, in inverse depth."""
        if self.relative:
            return ((1.0 - weight) * old + weight * new).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = (1.0 - weight) / old + weight / new
            return (1.0 / inv).astype(np.float32)

    def add(self, preds: Sequence[np.ndarray]) -> Frames:
        """The next window's output (one map per position) -> the frames now final, in order."""
        plan = self.plans[self.next_window]
        if len(preds) != len(plan.frames):
            raise RackFocusError(f"The video model returned {len(preds)} frame(s) for a window "
                                 f"of {len(plan.frames)}")
        fit = self._fit(plan, preds)
        self.fits.append(fit)
        aligned = [np.asarray(fit.apply(np.asarray(p, dtype=np.float32)), dtype=np.float32)
                   for p in preds]
        out: Frames = []
        for n, p in enumerate(range(plan.keyframes, plan.context)):
            f = plan.frames[p]
            out.append((f, self.blend(self.pending.pop(f), aligned[p],
                                      (n + 1.0) / (self.crossfade + 1.0))))
        out += [(plan.frames[p], aligned[p]) for p in range(plan.context, plan.final_end)]
        self.pending = {f: aligned[p] for p, f in enumerate(plan.frames)
                        if p >= plan.final_end and not plan.last}
        self.next_window += 1
        final = dict(out)
        nxt = self.plans[self.next_window] if not self.done else None
        self.refs = {f: final[f] if f in final else self.refs[f]
                     for f in (nxt.frames[:nxt.keyframes] if nxt else ())}
        return out


# --- the runner --------------------------------------------------------------------------------

class WindowRunner:
    """Runs one segment of ``count`` frames through a video model, window by window.

    ``per_frame(j)`` makes what a window stacks for frame j (the input tensor, or the encoder's
    features); ``per_window(items)`` runs the window and returns one map per position. A frame's
    item is made once and dropped when no later window needs it.
    """

    def __init__(self, count: int, per_frame: Callable[[int], np.ndarray],
                 per_window: Callable[[list[np.ndarray]], np.ndarray], window: int,
                 overlap: int, crossfade: int, relative: bool = True) -> None:
        self.plans = plan_windows(count, window, overlap, crossfade)
        self.stitcher = Stitcher(self.plans, crossfade, relative)
        self.per_frame, self.per_window = per_frame, per_window
        self.cache: dict[int, np.ndarray] = {}
        #: Most per-frame items held at once, and per-frame calls made (each frame once).
        self.peak_items = 0
        self.calls: list[int] = []

    def restore(self, next_window: int, load_pending: Callable[[int], np.ndarray],
                load_final: Callable[[int], np.ndarray]) -> None:
        self.stitcher.restore(next_window, load_pending, load_final)

    def windows(self) -> Iterator[Frames]:
        """Run the remaining windows; after each, the frames it made final (in order)."""
        st = self.stitcher
        while not st.done:
            plan = self.plans[st.next_window]
            items = []
            for f in plan.frames:
                if f not in self.cache:
                    self.cache[f] = self.per_frame(f)
                    self.calls.append(f)
                items.append(self.cache[f])
            self.peak_items = max(self.peak_items, len(self.cache))
            final = st.add(list(self.per_window(items)))
            keep = set()
            if not st.done:
                nxt = self.plans[st.next_window]
                keep = set(nxt.frames[:nxt.context])
            self.cache = {f: v for f, v in self.cache.items() if f in keep}
            yield final


# --- a split export: encoder + temporal head -----------------------------------------------------

def split_paths(path: str) -> tuple[str, str] | None:
    """(encoder, head) when ``path`` is a folder holding a split export, or its encoder file
    (what a file browser picks), else None."""
    spec = registry.SPLIT_EXPORT
    if os.path.basename(path) == spec.encoder_file:
        path = os.path.dirname(path)
    elif not os.path.isdir(path):
        return None
    pair = (os.path.join(path, spec.encoder_file), os.path.join(path, spec.head_file))
    return pair if all(os.path.isfile(p) for p in pair) else None


def combined_sha256(checksums: Sequence[str]) -> str:
    """One checksum for several files (the encoder's and the head's sha256, in order)."""
    return hashlib.sha256("+".join(checksums).encode()).hexdigest()


def positive_dim(value) -> int | None:
    """A fixed, positive tensor dimension, or None (dynamic or unknown)."""
    return int(value) if isinstance(value, int | np.integer) and value > 0 else None


@dataclass(frozen=True)
class SplitSignature:
    """What a split export takes and gives, read from its two sessions."""

    input_name: str        # the encoder's input [N, 3, H, W]
    features_name: str     # the encoder's output [N, L, C, h, w]
    head_input: str        # the head's input [1, T, L, C, h, w]
    output_name: str       # the head's output [1, T, H', W']
    input_dtype: type
    head_dtype: type
    frames: int | None = None
    height: int | None = None
    width: int | None = None
    layout: str = "video"


def _io(session, what: str, label: str):
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or not outputs:
        raise RackFocusError(f"{label} does not have the {what}: it takes {len(inputs)} "
                             "input(s)")
    inp, out = inputs[0], outputs[0]
    if inp.type not in INPUT_TYPES or out.type not in INPUT_TYPES:
        raise RackFocusError(f"{label} does not have the {what}: input '{inp.name}' is "
                             f"{inp.type}, output '{out.name}' is {out.type}")
    return inp, out


def read_split_signature(encoder, head, label: str = "The video model") -> SplitSignature:
    """Check an encoder and a head session against :data:`registry.SPLIT_EXPORT`'s shapes."""
    spec = registry.SPLIT_EXPORT
    enc_in, enc_out = _io(encoder, spec.encoder_signature, f"{label}'s encoder")
    head_in, head_out = _io(head, spec.head_signature, f"{label}'s head")
    e_shape, f_shape = list(enc_in.shape), list(enc_out.shape)
    h_shape, o_shape = list(head_in.shape), list(head_out.shape)
    if len(e_shape) != 4 or positive_dim(e_shape[1]) not in (None, 3) or len(f_shape) != 5:
        raise RackFocusError(f"{label}'s encoder does not have the {spec.encoder_signature}: "
                             f"input '{enc_in.name}' is {e_shape}, output '{enc_out.name}' is "
                             f"{f_shape}")
    if len(h_shape) != 6 or positive_dim(h_shape[0]) not in (None, 1) or len(o_shape) not in (4, 5):
        raise RackFocusError(f"{label}'s head does not have the {spec.head_signature}: input "
                             f"'{head_in.name}' is {h_shape}, output '{head_out.name}' is "
                             f"{o_shape}")
    for axis, name in ((1, "layers"), (2, "channels")):
        a, b = positive_dim(f_shape[axis]), positive_dim(h_shape[axis + 1])
        if a and b and a != b:
            raise RackFocusError(f"{label}: the encoder gives {a} {name} a frame but the head "
                                 f"takes {b}: the two files are not from one export")
    return SplitSignature(enc_in.name, enc_out.name, head_in.name, head_out.name,
                          INPUT_TYPES[enc_in.type], INPUT_TYPES[head_in.type],
                          positive_dim(h_shape[1]), positive_dim(e_shape[2]),
                          positive_dim(e_shape[3]))


def _run(session, output: str, feeds: dict, what: str) -> np.ndarray:
    try:
        return np.asarray(session.run([output], feeds)[0], dtype=np.float32)
    except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors have no common base
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RackFocusError(f"The video model's {what} failed: {first[:300]}") from None


class SplitVideoModel(preprocess.NetworkInput):
    """A video model exported as encoder + temporal head, ready to run (the same attributes
    the estimation reads from a single-file model: ``entry``, ``signature``, ``path``,
    ``sha256``, ``window_frames``, :meth:`input_size`)."""

    def __init__(self, encoder, head, entry: registry.ModelEntry | None, path: str = "",
                 sha256: str = "") -> None:
        label = f"Model folder {os.path.basename(path.rstrip(os.sep))}" if path else \
            "The video model"
        self.signature = read_split_signature(encoder, head, label)
        entry = entry or registry.find_entry("vda-small")
        if entry.layout != "video":
            raise RackFocusError(f"{label} is a video model (encoder + head) but the "
                                 f"{entry.key} rules are for frame models: pick a matching "
                                 "--model-kind")
        self.encoder, self.head, self.entry = encoder, head, entry
        self.path, self.sha256 = path, sha256

    @property
    def credit(self) -> str:
        """How results name it: an export is always the user's own (see
        :func:`registry.model_credit`)."""
        return registry.model_credit(self.entry, self.path, False)

    @property
    def window_frames(self) -> int:
        return self.signature.frames or self.entry.window_frames

    def encode(self, tensor: np.ndarray) -> np.ndarray:
        """One frame's input (1, 3, H, W) -> its features (L, C, h, w)."""
        sig = self.signature
        out = _run(self.encoder, sig.features_name,
                   {sig.input_name: tensor.astype(sig.input_dtype)}, "encoder")
        return out.reshape(out.shape[-4:])

    def head_window(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """A window's features, one (L, C, h, w) per position -> depth (T, H', W')."""
        sig = self.signature
        stack = np.stack(list(features))[None].astype(sig.head_dtype)
        out = _run(self.head, sig.output_name, {sig.head_input: stack}, "head")
        if out.size % len(features) or out.ndim < 3:
            raise RackFocusError(f"The video model's head returned an output of shape "
                                 f"{list(out.shape)}")
        return out.reshape(len(features), out.shape[-2], out.shape[-1])


def runner_for(model, count: int, tensor: Callable[[int], np.ndarray]) -> WindowRunner:
    """A :class:`WindowRunner` for ``model`` (a :class:`SplitVideoModel`, or a single-file
    model whose ``predict`` takes a window ``[1, T, 3, H, W]``) over ``count`` frames;
    ``tensor(j)`` is frame j's network input (1, 3, H, W)."""
    entry = model.entry
    window = model.window_frames
    overlap = min(entry.overlap_frames, window - 1)
    crossfade = min(entry.crossfade_frames, overlap)
    split = isinstance(model, SplitVideoModel)

    def per_frame(j: int) -> np.ndarray:
        return model.encode(tensor(j)) if split else tensor(j)[0]

    def per_window(items: list[np.ndarray]) -> np.ndarray:
        return model.head_window(items) if split else model.predict(np.stack(items)[None])

    return WindowRunner(count, per_frame, per_window, window, overlap, crossfade,
                        relative=entry.relative)
