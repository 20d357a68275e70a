"""Does every text the Rack Focus panels draw fit its column? Run inside a real Blender window.

A panel's ``draw`` is called with a recording stand-in for ``UILayout`` that keeps the tree of
rows, columns, boxes and property splits and every text it would show (labels, operator and menu
texts, property names and enum values). Widths follow Blender's own layout rules closely enough
to catch a cut label: a column gives its children its full width; a row shares its width among
its items in proportion to what each needs, so when they need more than the row has, each text
item is squeezed and cut; a property split gives the label 40 % and the value the rest; a box
takes its border. Texts are measured with ``blf`` in the UI font at the interface scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blf
import bpy

#: Blender's property split: the label column's share of the width (UI_ITEM_PROP_SEP_DIVIDE).
SPLIT = 0.4
#: Pixels (at scale 1) an icon, a button's text margins, a box border and a dropdown arrow take,
#: and the fixed width of an icon-only button (measured on Blender 5.2's sidebar).
ICON, MARGIN, BOX, ARROW, CHECKBOX, ICON_BUTTON = 20.0, 10.0, 8.0, 12.0, 22.0, 18.0


@dataclass
class Leaf:
    text: str
    extra: float  # pixels besides the text (icon, margins, arrow, checkbox) at scale 1
    kind: str

    def need(self, scale: float) -> float:
        return text_width(self.text, scale) + self.extra * scale


@dataclass
class Node:
    kind: str  # 'column', 'row', 'box', 'split'
    factor: float = 0.0
    split: bool = False
    children: list = field(default_factory=list)


def text_width(text: str, scale: float) -> float:
    blf.size(0, 11 * scale)
    return blf.dimensions(0, text)[0]


class _Props:
    """What ``layout.operator`` returns: any property can be set on it."""

    def __setattr__(self, name, value) -> None:
        object.__setattr__(self, name, value)


class Recorder:
    """A stand-in for ``bpy.types.UILayout`` that records instead of drawing."""

    def __init__(self, node: Node) -> None:
        object.__setattr__(self, "node", node)
        object.__setattr__(self, "attrs", {"use_property_split": node.split})

    def __setattr__(self, name, value) -> None:
        if name == "use_property_split":
            self.node.split = bool(value)
        self.attrs[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "attrs")
        if name in attrs:
            return attrs[name]
        raise AttributeError(name)

    def _child(self, kind: str, factor: float = 0.0) -> Recorder:
        node = Node(kind, factor, self.node.split)
        self.node.children.append(node)
        return Recorder(node)

    def row(self, align=False, heading="", **_kw) -> Recorder:
        child = self._child("row")
        if heading and self.node.split:
            child.node.children.append(Leaf(heading, MARGIN, "heading"))
        return child

    def column(self, align=False, heading="", **_kw) -> Recorder:
        return self._child("column")

    def box(self) -> Recorder:
        return self._child("box")

    def split(self, factor=0.0, align=False) -> Recorder:
        return self._child("split", factor)

    def separator(self, **_kw) -> None:
        return None

    def template_list(self, *args, **kwargs) -> None:
        return None  # list rows are drawn by the UIList and checked on their own

    def _leaf(self, text: str, icon: str, extra: float, kind: str) -> None:
        if not text and icon not in ("NONE", "", None):
            self.node.children.append(Leaf("", ICON_BUTTON, "icon button"))
            return
        extra += MARGIN + (ICON if icon not in ("NONE", "", None) else 0.0)
        self.node.children.append(Leaf(text, extra, kind))

    def label(self, text="", icon="NONE", **_kw) -> None:
        self._leaf(text, icon, 0.0, "label")

    def operator(self, idname, text=None, icon="NONE", **_kw) -> _Props:
        if text is None:
            category, name = idname.split(".")
            text = getattr(getattr(bpy.ops, category), name).get_rna_type().name
        self._leaf(text, icon, 0.0, "operator")
        return _Props()

    def menu(self, menu, text=None, icon="NONE", **_kw) -> None:
        label = text if text is not None else getattr(bpy.types, menu).bl_label
        self._leaf(label, icon, ARROW, "menu")

    def prop(self, data, prop, text=None, icon="NONE", expand=False, **_kw) -> None:
        rna = data.bl_rna.properties[prop]
        name = rna.name if text is None else text
        value = getattr(data, prop)
        if rna.type == "ENUM" and expand:
            row = self._child("row")
            for item in rna.enum_items:
                row._leaf(item.name, "NONE", 0.0, "enum item")
            return
        if rna.type == "ENUM":
            shown = next((i.name for i in rna.enum_items if i.identifier == value), str(value))
            self._value(name, shown, icon, ARROW)
        elif rna.type == "POINTER":
            self._value(name, value.name if value is not None else "", "OBJECT_DATA", ARROW)
        elif rna.type == "BOOLEAN":
            # In a property split Blender draws a checkbox's name beside it, in the value
            # column, and leaves the label column empty.
            if self.node.split:
                split = self._child("split", SPLIT)
                split.node.children.append(Leaf("", MARGIN, "property label"))
                split._leaf(name, icon, CHECKBOX, "checkbox")
            else:
                self._leaf(name, icon, CHECKBOX, "checkbox")
        else:  # numbers and text show the name inside the field unless split
            self._value(name, "" if self.node.split else name, icon, 0.0)

    def prop_search(self, data, prop, search_data, search_prop, text=None, icon="NONE",
                    **_kw) -> None:
        name = data.bl_rna.properties[prop].name if text is None else text
        self._value(name, str(getattr(data, prop)), icon, 0.0)

    def _value(self, name: str, value: str, icon: str, extra: float) -> None:
        """A property: in a split, its name left (40 %) and its value right; else one field."""
        if self.node.split and name:
            split = self._child("split", SPLIT)
            split.node.children.append(Leaf(name, MARGIN, "property label"))
            split._leaf(value, icon, extra, "property value")
        else:
            self._leaf(value or name, icon, extra, "property")


def cut_texts(node, width: float, scale: float, where: str = "") -> list[str]:
    """Every text in ``node`` that does not fit the width the layout gives it."""
    out: list[str] = []
    items = node.children
    if node.kind == "box":
        width -= 2 * BOX * scale
    if node.kind == "split":
        first = width * (node.factor or 0.5)
        shares = [first] + [(width - first) / max(len(items) - 1, 1)] * (len(items) - 1)
    elif node.kind == "row":
        # Icon-only buttons keep their width; the rest share what is left in proportion to
        # what each needs.
        fixed = [isinstance(c, Leaf) and c.kind == "icon button" for c in items]
        needs = [_need(c, scale) for c in items]
        room = width - sum(n for n, f in zip(needs, fixed) if f)
        total = sum(n for n, f in zip(needs, fixed) if not f)
        shares = [n if f else (room * n / total if total > 0 else room)
                  for n, f in zip(needs, fixed)]
    else:
        shares = [width] * len(items)
    for child, share in zip(items, shares):
        if isinstance(child, Leaf):
            if child.text and child.need(scale) > share + 0.5:
                out.append(f"{where}'{child.text}' ({child.kind}) needs "
                           f"{child.need(scale):.0f} px, has {share:.0f} px")
        else:
            out += cut_texts(child, share, scale, where)
    return out


def texts(node) -> list[str]:
    """Every text in ``node``, in drawing order."""
    out: list[str] = []
    for child in node.children:
        if isinstance(child, Leaf):
            if child.text:
                out.append(child.text)
        else:
            out += texts(child)
    return out


def _need(item, scale: float) -> float:
    if isinstance(item, Leaf):
        return item.need(scale)
    needs = [_need(c, scale) for c in item.children]
    if item.kind == "row":
        return sum(needs)
    if item.kind == "split":
        return max([n / SPLIT for n in needs[:1]] + [n / (1 - SPLIT) for n in needs[1:]],
                   default=0.0)
    return max(needs, default=0.0) + (2 * BOX * scale if item.kind == "box" else 0.0)


def check_panels(context, panels, width: float) -> list[str]:
    """Cut texts of every panel class in ``panels`` drawn at ``width`` pixels (the panels lay
    themselves out for that width: ``panel.width_for_check``)."""
    from rack_focus.operators import panel

    scale = context.preferences.system.ui_scale
    problems = []
    panel.width_for_check = width
    try:
        for cls in panels:
            root = Node("column")
            stand_in = type("PanelStandIn", (), {"layout": Recorder(root)})()
            cls.draw(stand_in, context)
            problems += cut_texts(root, width, scale, f"{cls.bl_label}: ")
    finally:
        panel.width_for_check = None
    return problems
