"""The light plate in Geometry Nodes: the adaptive branch of the plate node group.

The cache's mesh image (:mod:`plate_lod`, one per frame) holds each pixel's block level and each
pixel corner's depth, for both layers. For every level k the branch makes a grid of blocks of
``2**k`` pixels over the frame and its margin, keeps the faces whose block has that level (the
tiling), and joins the pieces. Full-density faces (level 0) are torn where depth jumps exactly as
the uniform plate tears them; their torn vertices take the mean depth of their own faces. Every
other vertex takes its depth from the corner map, where T-junctions already lie on the coarse
edges they split (no cracks from any point of the lens). Then, as in the uniform plate, every
vertex moves along its camera ray to that depth. Sampling images by frame keeps it free of Python
at render time.

``b`` is the plate module's node builder (``node``, ``math``, ``set``, ``on_domain``); ``inp``
the group input's sockets by name.
"""

from __future__ import annotations

import math

from .. import plate_lod

UV_ATTR = "rf_uv"
TORN_ATTR = "rf_torn"


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


def _texels(b, inp):
    """(Wp + 1, Hp + 1, 1): the mesh image's size in texels."""
    s = float(1 << plate_lod.MAX_LEVEL)

    def padded(n):
        return b.math("ADD", b.math("MULTIPLY", b.math("CEIL", b.math("DIVIDE", n, s)), s), 1.0)

    return _xyz(b, padded(inp["Width"]), padded(inp["Height"]), 1.0)


def _piece(b, inp, k: int, frame, texels):
    """Level ``k``'s faces: a grid of ``2**k`` px blocks, positions in pixels (bottom-left
    origin), only the blocks whose level is ``k``."""
    s = float(1 << k)
    margin = inp["Margin"]

    def lo(n):  # the block edge at or below -margin
        return b.math("MULTIPLY", b.math("FLOOR", b.math("DIVIDE", b.math("MULTIPLY", margin,
                                                                            -1.0), s)), s)

    def hi(n):  # the block edge at or above n + margin
        return b.math("MULTIPLY", b.math("CEIL", b.math("DIVIDE", b.math("ADD", n, margin), s)),
                      s)

    x0, x1, y0, y1 = lo(None), hi(inp["Width"]), lo(None), hi(inp["Height"])
    wide, high = b.math("SUBTRACT", x1, x0), b.math("SUBTRACT", y1, y0)
    grid = b.node("GeometryNodeMeshGrid", wide, high,
                  b.math("ADD", b.math("DIVIDE", wide, s), 1.0),
                  b.math("ADD", b.math("DIVIDE", high, s), 1.0))
    centre = _xyz(b, b.math("MULTIPLY", b.math("ADD", x0, x1), 0.5),
                  b.math("MULTIPLY", b.math("ADD", y0, y1), 0.5))
    pos = b.node("GeometryNodeInputPosition").outputs[0]
    snapped = _vec(b, "FLOOR", _vec(b, "ADD", _vec(b, "ADD", pos, centre), (0.5, 0.5, 0.0)), None)
    placed = b.node("GeometryNodeSetPosition", grid.outputs[0], None, snapped)
    # A block's level, read at its first pixel (the face centre + 1/4 px lies in it at any k).
    face_c = b.on_domain("FACE", b.node("GeometryNodeInputPosition").outputs[0], "FLOAT_VECTOR")
    at = _vec(b, "DIVIDE", _vec(b, "ADD", face_c, (0.25, 0.25, 0.0)), texels)
    color, alpha = _sample(b, inp["Mesh"], at, frame)
    levels = b.node("FunctionNodeSeparateColor", color)
    level = _pick(b, inp["Fill Layer"], levels.outputs["Blue"], alpha)
    other = b.node("FunctionNodeCompare", level, float(k), data_type="FLOAT",
                   operation="NOT_EQUAL")
    other.inputs["Epsilon"].default_value = 0.25
    kept = b.node("GeometryNodeDeleteGeometry", placed.outputs[0], other.outputs[0],
                  domain="FACE", mode="ALL")
    return kept.outputs[0]


def _face_depth(b, inp, frame):
    """Each face's depth: its pixel's (the face centre's) in the depth image, this layer's."""
    face_c = b.on_domain("FACE", b.node("GeometryNodeInputPosition").outputs[0], "FLOAT_VECTOR")
    uv = _vec(b, "DIVIDE", face_c, _xyz(b, inp["Width"], inp["Height"], 1.0))
    color, _ = _sample(b, inp["Depth"], uv, frame)
    sep = b.node("FunctionNodeSeparateColor", color)
    return b.on_domain("FACE", _pick(b, inp["Fill Layer"], sep.outputs["Red"],
                                     sep.outputs["Green"]))


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


def _torn(b, inp, geometry, frame):
    """Full-density faces split where depth jumps by more than the tear ratio (as the uniform
    plate: the two faces of an edge differ in log depth by more than ln(1 + tear)); the torn
    edges are marked (``TORN_ATTR``) for the vertex depths."""
    torn = tear_condition(b, inp, _face_depth(b, inp, frame))
    mark = b.node("GeometryNodeStoreNamedAttribute", geometry, None, data_type="FLOAT",
                  domain="EDGE")
    mark.inputs["Name"].default_value = TORN_ATTR
    b.set(mark.inputs["Value"], torn.outputs[0])
    flag = b.node("GeometryNodeInputNamedAttribute", data_type="FLOAT")
    flag.inputs["Name"].default_value = TORN_ATTR
    split = b.node("GeometryNodeSplitEdges", mark.outputs[0], flag.outputs["Attribute"])
    return split.outputs[0]


def adaptive_plate(b, inp, frame):
    """The light plate's geometry (faces, ``UV_ATTR``, camera-space positions)."""
    texels = _texels(b, inp)
    pieces = [_piece(b, inp, k, frame, texels) for k in range(plate_lod.MAX_LEVEL + 1)]
    pieces[0] = _torn(b, inp, pieces[0], frame)
    join = b.node("GeometryNodeJoinGeometry")
    for piece in reversed(pieces):
        b.tree.links.new(piece, join.inputs[0])
    pos = b.node("GeometryNodeInputPosition").outputs[0]
    uv = _vec(b, "DIVIDE", pos, _xyz(b, inp["Width"], inp["Height"], 1.0))
    store = b.node("GeometryNodeStoreNamedAttribute", join.outputs[0], None,
                   data_type="FLOAT_VECTOR", domain="POINT")
    store.inputs["Name"].default_value = UV_ATTR
    b.set(store.inputs["Value"], uv)
    # Vertex depth: torn vertices the mean of their faces, the others the corner map.
    at = _vec(b, "DIVIDE", _vec(b, "ADD", pos, (0.5, 0.5, 0.0)), texels)
    color, _ = _sample(b, inp["Mesh"], at, frame)
    corner = b.node("FunctionNodeSeparateColor", color)
    corner_z = _pick(b, inp["Fill Layer"], corner.outputs["Red"], corner.outputs["Green"])
    flag = b.node("GeometryNodeInputNamedAttribute", data_type="FLOAT")
    flag.inputs["Name"].default_value = TORN_ATTR
    is_torn = b.node("FunctionNodeCompare", flag.outputs["Attribute"], 0.0, data_type="FLOAT",
                     operation="GREATER_THAN")
    z = b.node("GeometryNodeSwitch", input_type="FLOAT")
    b.set(z.inputs[0], is_torn.outputs[0])
    b.set(z.inputs[1], corner_z)
    b.set(z.inputs[2], _face_depth(b, inp, frame))
    z = z.outputs[0]
    slope = b.math("DIVIDE", inp["Sensor"], inp["Focal"])
    aspect = b.math("DIVIDE", inp["Height"], inp["Width"])
    xyz = b.node("ShaderNodeSeparateXYZ", uv)
    px = b.math("MULTIPLY", b.math("MULTIPLY", b.math("SUBTRACT", xyz.outputs[0], 0.5), slope), z)
    py = b.math("MULTIPLY", b.math("MULTIPLY", b.math("MULTIPLY", b.math(
        "SUBTRACT", xyz.outputs[1], 0.5), slope), aspect), z)
    final = b.node("GeometryNodeSetPosition", store.outputs[0], None,
                   _xyz(b, px, py, b.math("MULTIPLY", z, -1.0)))
    # The tear marks were for the vertex depths only (4 bytes an edge: 10 MB a 1080p layer).
    done = b.node("GeometryNodeRemoveAttribute", final.outputs[0])
    done.inputs["Name"].default_value = TORN_ATTR
    return done.outputs[0]
