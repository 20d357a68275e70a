"""Write a tiny depth network with Depth Anything V2's signature and a two-band still for it.

Usage: python make_tiny_estimate.py OUT_DIR   (needs numpy and onnx; no Blender)

The network maps each pixel's mean grey to a disparity (``pixel_values`` float32 [1,3,H,W] ->
``predicted_depth`` [1,H,W], dynamic H and W), so the binary stage can run the real estimator
inside Blender with the bundled ONNX Runtime and check the metres it writes.
"""

import os
import struct
import sys
import zlib

import numpy as np
from onnx import TensorProto, helper, save

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, "h", "w"])
y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, "h", "w"])
axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [2.0])
shift = helper.make_tensor("shift", TensorProto.FLOAT, [], [5.0])
graph = helper.make_graph(
    [helper.make_node("ReduceMean", ["pixel_values", "axes"], ["grey"], keepdims=0),
     helper.make_node("Mul", ["grey", "scale"], ["scaled"]),
     helper.make_node("Add", ["scaled", "shift"], ["predicted_depth"])],
    "tiny_da2", [x], [y], [axes, scale, shift])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
model.ir_version = 8
save(model, os.path.join(out, "tiny_da2.onnx"))

# A 48x27 still: a dark left half and a bright right half.
h, w = 27, 48
rgb = np.zeros((h, w, 3), dtype=np.uint8)
rgb[:, :24] = 40
rgb[:, 24:] = 220
raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))


def chunk(tag, body):
    return struct.pack(">I", len(body)) + tag + body + struct.pack(
        ">I", zlib.crc32(tag + body) & 0xFFFFFFFF)


png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
with open(os.path.join(out, "still.png"), "wb") as fh:
    fh.write(png)
print(os.path.join(out, "tiny_da2.onnx"))
