"""Tiny ONNX networks with the registry's signatures, for the estimation tests (not shipped).

Building them needs the onnx package, running them ONNX Runtime; :func:`need_onnx` skips a test
without them (or fails it when CI sets RACKFOCUS_REQUIRE_ONNX).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rackfocus_addon.estimate import model as estimate_model
from rackfocus_addon.estimate import registry

#: The tiny model's output: ``A`` times the mean of its normalised input plus ``B``.
A, B = 0.5, 2.0

try:  # Building the tiny models needs the onnx package, running them ONNX Runtime.
    import onnx
    from onnx import TensorProto, helper
except ImportError:
    onnx = None
#: CI sets this: a missing package must fail the stage, not skip the tests.
REQUIRED = bool(os.environ.get("RACKFOCUS_REQUIRE_ONNX"))
MISSING = ", ".join(name for name, mod in (("onnx", onnx), ("onnxruntime",
                                                            estimate_model.runtime()))
                    if mod is None)


# --- tiny models --------------------------------------------------------------------------------

def need_onnx():
    """Skip (or, with RACKFOCUS_REQUIRE_ONNX, fail) a test that builds or runs a model."""
    if MISSING:
        message = f"needs {MISSING} (pip install onnx onnxruntime)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def save_model(path, nodes, inputs, outputs, inits=()):
    need_onnx()
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def tiny_model(path, entry=None, a=A, b=B, static_hw=None, frames=None, op=None, channels=3,
               out_rank=None):
    """A model with ``entry``'s names: input [1, 3, H, W] (or [1, T, 3, H, W]), output the mean
    over channels times ``a`` plus ``b`` ([1, H, W] or [1, T, H, W]). ``op`` adds a unary op
    (e.g. 'Sqrt': NaN where the mean is negative)."""
    need_onnx()
    entry = entry or registry.find_entry("da2-small")
    hw = list(static_hw) if static_hw else ["height", "width"]
    video = entry.layout == "video"
    in_shape = [1, frames or "frames", channels] + hw if video else [1, channels] + hw
    axis = 2 if video else 1
    out_shape = ([1, frames or "frames"] + hw) if video else [1] + hw
    if out_rank == 2:
        out_shape = [1, "n"]
    x = helper.make_tensor_value_info(entry.input_name, TensorProto.FLOAT, in_shape)
    y = helper.make_tensor_value_info(entry.output_name, TensorProto.FLOAT, out_shape)
    nodes = [helper.make_node("ReduceMean", [entry.input_name], ["m"], axes=[axis],
                              keepdims=0),
             helper.make_node("Mul", ["m", "a"], ["ma"]),
             helper.make_node("Add", ["ma", "b"], ["s" if op or out_rank == 2 else
                                                   entry.output_name])]
    if op:
        nodes.append(helper.make_node(op, ["s"], [entry.output_name]))
    if out_rank == 2:
        nodes.append(helper.make_node("ReduceMean", ["s"], [entry.output_name], axes=[2],
                                      keepdims=0))
    inits = [helper.make_tensor("a", TensorProto.FLOAT, [], [a]),
             helper.make_tensor("b", TensorProto.FLOAT, [], [b])]
    return save_model(path, nodes, [x], [y], inits)


def two_input_model(path):
    need_onnx()
    x1 = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, "h", "w"])
    x2 = helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, 3, "h", "w"])
    return save_model(path, [helper.make_node("Add", ["pixel_values", "mask"],
                                              ["predicted_depth"])], [x1, x2], [y])


def expected_output(grey, a=A, b=B, stored=True):
    """The tiny model's output for a uniform sRGB grey (``stored``: as an 8-bit file holds it)."""
    grey = round(grey * 255) / 255 if stored else grey
    mean = np.array(registry.IMAGENET_MEAN)
    std = np.array(registry.IMAGENET_STD)
    return a * float(np.mean((grey - mean) / std)) + b
