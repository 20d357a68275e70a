"""Tiny ONNX models with Video Depth Anything's split-export signature (not shipped), built here
with the ``onnx`` helper API, and a per-frame model of Depth Anything V2's signature made of the
same parts (for the bench's comparison). Nothing is downloaded.

- Encoder (``encoder.onnx``): ``pixel_values`` [N, 3, H, W] -> ``features`` [N, L, C, H/14, W/14]:
  a 14x14 stride-14 convolution (the patch embedding), optionally a tanh. ``weights=None``: every
  feature is the patch's mean over pixels and channels, so a test knows each value.
- Head (``head.onnx``): ``features`` [1, T, L, C, h, w] -> ``depth`` [1, T, 14h, 14w]: a
  projection over (L, C) (default: the mean), ``temporal`` of the window's mean over time mixed
  in, a softplus (g > 0), then ``g * m^-gain + m`` with m the window's mean of g: every window
  has its own scale and shift, as a relative network's windows have. Nearest (or linear)
  upsampling to pixels.
- Frame model: ``pixel_values`` [1, 3, H, W] -> ``predicted_depth`` [1, H, W], the same parts
  with the frame's own mean instead of the window's (scale and shift vary frame to frame).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rackfocus_addon.estimate import registry

try:
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper
except ImportError:
    onnx = onnxruntime = None

REQUIRED = bool(os.environ.get("RACKFOCUS_REQUIRE_ONNX"))
PATCH = 14
SPEC = registry.SPLIT_EXPORT


def need_onnx():
    """Skip (or, with RACKFOCUS_REQUIRE_ONNX, fail) a test that builds or runs a model."""
    if onnx is None:
        message = "needs onnx and onnxruntime (pip install onnx onnxruntime)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def _save(path, nodes, inputs, outputs, inits):
    need_onnx()
    graph = helper.make_graph(nodes, "tiny_video", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def _f(name, values, shape=None):
    arr = np.asarray(values, dtype=np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, list(shape or arr.shape), arr.ravel())


def _i(name, values):
    arr = np.asarray(values, dtype=np.int64)
    return helper.make_tensor(name, TensorProto.INT64, list(arr.shape), arr.ravel())


def patch_weights(layers, channels, weights=None):
    """Convolution weights [L*C, 3, 14, 14]: the given ones, or the patch mean for every
    feature."""
    if weights is not None:
        return np.asarray(weights, dtype=np.float32)
    return np.full((layers * channels, 3, PATCH, PATCH), 1.0 / (3 * PATCH * PATCH), np.float32)


def encoder_model(path, layers=4, channels=8, weights=None, tanh=False, static_hw=None,
                  out_rank=5):
    """The split export's encoder (see the module notes)."""
    need_onnx()
    hw = list(static_hw) if static_hw else ["height", "width"]
    grid = [d // PATCH for d in static_hw] if static_hw else ["h", "w"]
    x = helper.make_tensor_value_info(SPEC.encoder_input, TensorProto.FLOAT, ["n", 3] + hw)
    out_shape = (["n", layers, channels] + grid)[:out_rank]
    y = helper.make_tensor_value_info(SPEC.encoder_output, TensorProto.FLOAT, out_shape)
    conv_out = "c" if tanh else "conv"
    nodes = [helper.make_node("Conv", [SPEC.encoder_input, "wconv"], [conv_out],
                              kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])]
    if tanh:
        nodes.append(helper.make_node("Tanh", ["c"], ["conv"]))
    inits = [_f("wconv", patch_weights(layers, channels, weights))]
    _to_layers(nodes, inits, "conv", SPEC.encoder_output, layers, channels)
    if out_rank != 5:
        nodes[-1] = helper.make_node("Reshape", ["conv", "flat"], [SPEC.encoder_output])
        inits.append(_i("flat", [0, -1]))
    return _save(path, nodes, [x], [y], inits)


def _to_layers(nodes, inits, src, out, layers, channels):
    """[N, L*C, h, w] -> [N, L, C, h, w] (h and w dynamic)."""
    nodes += [helper.make_node("Shape", [src], ["shape"]),
              helper.make_node("Slice", ["shape", "s0", "s1"], ["n"]),
              helper.make_node("Slice", ["shape", "s2", "s4"], ["hw"]),
              helper.make_node("Concat", ["n", "lc", "hw"], ["target"], axis=0),
              helper.make_node("Reshape", [src, "target"], [out])]
    inits += [_i("s0", [0]), _i("s1", [1]), _i("s2", [2]), _i("s4", [4]),
              _i("lc", [layers, channels])]


def _relative(nodes, inits, src, axes, out, gain):
    """g = softplus(src); out = g * m^-gain + m, m = mean of g over ``axes`` (``gain`` makes
    the scale follow the mean more strongly; 0: slope 1, only the shift varies)."""
    nodes += [helper.make_node("Softplus", [src], ["g"]),
              helper.make_node("ReduceMean", ["g"], ["m"], axes=axes, keepdims=1),
              helper.make_node("Pow", ["m", "neg_gain"], ["s"]),
              helper.make_node("Mul", ["g", "s"], ["gm"]),
              helper.make_node("Add", ["gm", "m"], [out])]
    inits.append(_f("neg_gain", -float(gain), []))


def head_model(path, frames=32, layers=4, channels=8, projection=None, temporal=0.0, gain=1.0,
               mode="nearest"):
    """The split export's temporal head (see the module notes)."""
    need_onnx()
    proj = (np.full((layers, channels), 1.0 / (layers * channels)) if projection is None
            else np.asarray(projection))
    x = helper.make_tensor_value_info(SPEC.head_input, TensorProto.FLOAT,
                                      [1, frames, layers, channels, "h", "w"])
    y = helper.make_tensor_value_info(SPEC.head_output, TensorProto.FLOAT,
                                      [1, frames, "height", "width"])
    nodes = [helper.make_node("Einsum", [SPEC.head_input, "proj"], ["p"],
                              equation="btlchw,lc->bthw"),
             helper.make_node("ReduceMean", ["p"], ["pt"], axes=[1], keepdims=1),
             helper.make_node("Mul", ["p", "keep"], ["pk"]),
             helper.make_node("Mul", ["pt", "mix"], ["ptm"]),
             helper.make_node("Add", ["pk", "ptm"], ["q"])]
    inits = [_f("proj", proj), _f("keep", 1.0 - temporal, []), _f("mix", temporal, []),
             _f("scales", [1.0, 1.0, PATCH, PATCH])]
    _relative(nodes, inits, "q", [1, 2, 3], "low", gain)
    nodes.append(helper.make_node("Resize", ["low", "", "scales"], [SPEC.head_output],
                                  mode=mode))
    return _save(path, nodes, [x], [y], inits)


def split_export(folder, frames=32, layers=4, channels=8, **kw):
    """A folder holding encoder.onnx and head.onnx (the patch-mean kind); returns the folder."""
    os.makedirs(folder, exist_ok=True)
    encoder_model(os.path.join(folder, SPEC.encoder_file), layers, channels)
    head_model(os.path.join(folder, SPEC.head_file), frames, layers, channels, **kw)
    return str(folder)


def frame_model(path, layers=4, channels=8, weights=None, projection=None, tanh=False,
                gain=1.0, mode="nearest"):
    """A per-frame model of Depth Anything V2's signature from the same encoder and projection,
    its scale and shift set by the frame's own mean."""
    need_onnx()
    proj = (np.full((layers, channels), 1.0 / (layers * channels)) if projection is None
            else np.asarray(projection))
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, "H", "W"])
    conv_out = "c" if tanh else "conv"
    nodes = [helper.make_node("Conv", ["pixel_values", "wconv"], [conv_out],
                              kernel_shape=[PATCH, PATCH], strides=[PATCH, PATCH])]
    if tanh:
        nodes.append(helper.make_node("Tanh", ["c"], ["conv"]))
    inits = [_f("wconv", patch_weights(layers, channels, weights)), _f("proj", proj),
             _i("ax1", [1]), _f("scales", [1.0, 1.0, PATCH, PATCH])]
    _to_layers(nodes, inits, "conv", "f", layers, channels)
    nodes.append(helper.make_node("Einsum", ["f", "proj"], ["p"], equation="blchw,lc->bhw"))
    _relative(nodes, inits, "p", [1, 2], "low", gain)
    nodes += [helper.make_node("Unsqueeze", ["low", "ax1"], ["low4"]),
              helper.make_node("Resize", ["low4", "", "scales"], ["up"], mode=mode),
              helper.make_node("Squeeze", ["up", "ax1"], ["predicted_depth"])]
    return _save(path, nodes, [x], [y], inits)


def session(path):
    need_onnx()
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), sess_options=options,
                                        providers=["CPUExecutionProvider"])


class Counting:
    """A session that records the batch size of every run (encoder calls per frame)."""

    def __init__(self, inner):
        self.inner = inner
        self.batches: list[int] = []

    def get_inputs(self):
        return self.inner.get_inputs()

    def get_outputs(self):
        return self.inner.get_outputs()

    def run(self, names, feeds):
        self.batches.append(next(iter(feeds.values())).shape[0])
        return self.inner.run(names, feeds)
