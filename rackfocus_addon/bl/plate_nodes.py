"""The light plate in Geometry Nodes: the adaptive branch of the plate node group.

The cache's mesh image (:mod:`plate_lod`, one per frame) lists the plate's faces, both layers:
two texels a face, its rectangle in pixels (x, y, width, height; the fill layer's width
negative) and its corners' depths (bottom-left, bottom-right, top-right, top-left), where torn
corners already hold their own side's depth and T-junctions already lie on the edges they split.
The branch makes one point a face of this layer, instances a unit quad on each, scaled to its
rectangle, and moves every corner along its camera ray to its depth. No full-resolution grid is
made, so the work and memory follow the faces, not the pixels; sampling images by frame keeps
it free of Python at render time.

``b`` is the plate module's node builder (``node``, ``math``, ``set``, ``on_domain``); ``inp``
the group input's sockets by name.
"""

from __future__ import annotations

import math

UV_ATTR = "rf_uv"


def _vec(b, op: str, a, c):
    n = b.node("ShaderNodeVectorMath", operation=op)
    b.set(n.inputs[0], a)
    if c is not None:
        b.set(n.inputs[1], c)
    return n.outputs[0]


def _xyz(b, x, y, z=0.0):
    return b.node("ShaderNodeCombineXYZ", x, y, z).outputs[0]


def _sample(b, image, coords, frame):
    """Closest texel of ``image`` at ``coords`` (texture units): (Color, Alpha) sockets."""
    tex = b.node("GeometryNodeImageTexture", image, coords, frame, interpolation="Closest",
                 extension="EXTEND")
    return tex.outputs["Color"], tex.outputs["Alpha"]


def _pick(b, fill, main_value, fill_value):
    sw = b.node("GeometryNodeSwitch", input_type="FLOAT")
    b.set(sw.inputs[0], fill)
    b.set(sw.inputs[1], main_value)
    b.set(sw.inputs[2], fill_value)
    return sw.outputs[0]


def tear_condition(b, inp, face_depth):
    """True on edges whose two faces differ in log depth by more than ln(1 + tear): the
    edge's mean of the faces' log depth squared less its squared mean, times 4, is the squared
    difference of the two."""
    ln = b.math("LOGARITHM", face_depth, math.e)
    mean = b.on_domain("FACE", ln)
    mean_sq = b.on_domain("FACE", b.math("MULTIPLY", ln, ln))
    var4 = b.math("MULTIPLY", b.math("SUBTRACT", mean_sq, b.math("MULTIPLY", mean, mean)), 4.0)
    limit = b.math("LOGARITHM", b.math("ADD", inp["Tear"], 1.0), math.e)
    return b.node("FunctionNodeCompare", var4, b.math("MULTIPLY", limit, limit),
                  data_type="FLOAT", operation="GREATER_THAN")


RECT_ATTR = "rf_rect"
#: Every face reaches this far (pixels) past its rectangle, under its neighbours: faces meet at
#: T-junctions whose vertex lies on the long edge only to float precision, and a ray through
#: such a hairline gap would see the world (without it: 1 lens sample in 16 at one pixel at a
#: 50 m focus in Blender 4.2 and 4.5, tests/bl/test_plate_light.py). A hundredth of a pixel
#: closes them and changes no pixel: the footage is looked up where each ray hits.
SKIRT_PX = 0.01
DEPTHS_ATTR = "rf_depths"


def _named(b, name: str, data_type: str):
    n = b.node("GeometryNodeInputNamedAttribute", data_type=data_type)
    n.inputs["Name"].default_value = name
    return n.outputs["Attribute"]


def _store(b, geometry, name: str, value, data_type: str, domain: str = "POINT"):
    n = b.node("GeometryNodeStoreNamedAttribute", geometry, None, data_type=data_type,
               domain=domain)
    n.inputs["Name"].default_value = name
    b.set(n.inputs["Value"], value)
    return n.outputs[0]


def _texel(b, image, frame, index, size):
    """(Color, Alpha) of texel ``index`` (row by row from the bottom) of ``image``."""
    col = b.math("MODULO", index, size.outputs["Width"])
    row = b.math("FLOOR", b.math("DIVIDE", index, size.outputs["Width"]))
    uv = _xyz(b, b.math("DIVIDE", b.math("ADD", col, 0.5), size.outputs["Width"]),
              b.math("DIVIDE", b.math("ADD", row, 0.5), size.outputs["Height"]))
    return _sample(b, image, uv, frame)


def _faces(b, inp, frame):
    """One point a face of this layer at its rectangle's centre, with the rectangle (x, y,
    width, height) and its corner depths stored as colour attributes."""
    size = b.node("GeometryNodeImageInfo", inp["Mesh"], frame)
    count = b.math("FLOOR", b.math("MULTIPLY", b.math(
        "MULTIPLY", size.outputs["Width"], size.outputs["Height"]), 0.5))
    points = b.node("GeometryNodePoints", count)
    first = b.math("MULTIPLY", b.node("GeometryNodeInputIndex").outputs[0], 2.0)
    rect, rect_a = _texel(b, inp["Mesh"], frame, first, size)
    depth, depth_a = _texel(b, inp["Mesh"], frame, b.math("ADD", first, 1.0), size)
    xywh = b.node("FunctionNodeSeparateColor", rect)
    width = xywh.outputs["Blue"]
    rect = b.node("FunctionNodeCombineColor", xywh.outputs["Red"], xywh.outputs["Green"],
                  b.math("ABSOLUTE", width), rect_a).outputs[0]
    depth = b.node("FunctionNodeCombineColor", *b.node(
        "FunctionNodeSeparateColor", depth).outputs[:3], depth_a).outputs[0]
    geometry = _store(b, points.outputs[0], RECT_ATTR, rect, "FLOAT_COLOR")
    geometry = _store(b, geometry, DEPTHS_ATTR, depth, "FLOAT_COLOR")
    # This layer's faces: width > 0 on the plate, < 0 on its fill (0: unused texels).
    side = b.math("MULTIPLY", width, _pick(b, inp["Fill Layer"], 1.0, -1.0))
    other = b.node("FunctionNodeCompare", side, 0.0, data_type="FLOAT", operation="LESS_EQUAL")
    kept = b.node("GeometryNodeDeleteGeometry", geometry, other.outputs[0], domain="POINT",
                  mode="ALL")
    r = b.node("FunctionNodeSeparateColor", _named(b, RECT_ATTR, "FLOAT_COLOR"))
    x, y, w, h = (r.outputs[k] for k in ("Red", "Green", "Blue", "Alpha"))
    centre = _xyz(b, b.math("ADD", x, b.math("MULTIPLY", w, 0.5)),
                  b.math("ADD", y, b.math("MULTIPLY", h, 0.5)))
    placed = b.node("GeometryNodeSetPosition", kept.outputs[0], None, centre)
    return placed.outputs[0], _xyz(b, b.math("ADD", w, 2 * SKIRT_PX),
                                   b.math("ADD", h, 2 * SKIRT_PX), 1.0)


def adaptive_plate(b, inp, frame):
    """The light plate's geometry (faces, ``UV_ATTR``, camera-space positions)."""
    points, scale = _faces(b, inp, frame)
    quad = b.node("GeometryNodeMeshGrid", 1.0, 1.0, 2, 2)
    faces = b.node("GeometryNodeInstanceOnPoints", points, None, quad.outputs[0])
    b.set(faces.inputs["Scale"], scale)
    real = b.node("GeometryNodeRealizeInstances", faces.outputs[0])
    pos = b.node("GeometryNodeInputPosition").outputs[0]
    uv = _vec(b, "DIVIDE", pos, _xyz(b, inp["Width"], inp["Height"], 1.0))
    store = _store(b, real.outputs[0], UV_ATTR, uv, "FLOAT_VECTOR")
    # Each corner's depth: which corner it is of its rectangle (bottom-left, bottom-right,
    # top-right, top-left), from its place in it.
    r = b.node("FunctionNodeSeparateColor", _named(b, RECT_ATTR, "FLOAT_COLOR"))
    d = b.node("FunctionNodeSeparateColor", _named(b, DEPTHS_ATTR, "FLOAT_COLOR"))
    p = b.node("ShaderNodeSeparateXYZ", pos)
    right = b.node("FunctionNodeCompare", b.math("SUBTRACT", p.outputs[0], r.outputs["Red"]),
                   b.math("MULTIPLY", r.outputs["Blue"], 0.5), data_type="FLOAT",
                   operation="GREATER_THAN")
    top = b.node("FunctionNodeCompare", b.math("SUBTRACT", p.outputs[1], r.outputs["Green"]),
                 b.math("MULTIPLY", r.outputs["Alpha"], 0.5), data_type="FLOAT",
                 operation="GREATER_THAN")
    bottom_z = _pick(b, right.outputs[0], d.outputs["Red"], d.outputs["Green"])
    top_z = _pick(b, right.outputs[0], d.outputs["Alpha"], d.outputs["Blue"])
    z = _pick(b, top.outputs[0], bottom_z, top_z)
    slope = b.math("DIVIDE", inp["Sensor"], inp["Focal"])
    aspect = b.math("DIVIDE", inp["Height"], inp["Width"])
    xyz = b.node("ShaderNodeSeparateXYZ", uv)
    px = b.math("MULTIPLY", b.math("MULTIPLY", b.math("SUBTRACT", xyz.outputs[0], 0.5), slope), z)
    py = b.math("MULTIPLY", b.math("MULTIPLY", b.math("MULTIPLY", b.math(
        "SUBTRACT", xyz.outputs[1], 0.5), slope), aspect), z)
    final = b.node("GeometryNodeSetPosition", store, None,
                   _xyz(b, px, py, b.math("MULTIPLY", z, -1.0)))
    out = final.outputs[0]
    for name in (RECT_ATTR, DEPTHS_ATTR):  # read, no longer needed (16 bytes a vertex each)
        done = b.node("GeometryNodeRemoveAttribute", out)
        done.inputs["Name"].default_value = name
        out = done.outputs[0]
    return out
