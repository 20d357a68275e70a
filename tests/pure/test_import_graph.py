"""The extension's import graph: plain imports only, no cycles, dependencies pointing one way.

Run as a script to print the counts: ``python tests/pure/test_import_graph.py [ROOT]``.
"""

from __future__ import annotations

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: The shipped extension: the root package, the operators and the engine.
PACKAGES = ("operators", "rackfocus_addon")
#: Engine modules that may import bpy: the bpy layer, the CLI (it opens .blend files) and
#: ``python -m rackfocus_addon``. Every other engine module is pure (:func:`pure_modules`).
NOT_PURE = ("bl", "cli", "__main__")
#: Pure modules named here so that a slip in :func:`pure_modules` cannot empty the check.
KNOWN_PURE = ("atomic", "batch_report", "depth", "depth_fill", "describe", "easing", "errors",
              "estimate", "estimate.align", "estimate.model", "estimate.motion",
              "estimate.owned", "estimate.preprocess", "estimate.registry", "estimate.request",
              "estimate.solve", "estimate.temporal", "estimate.upsample", "estimate.video",
              "exr", "frames", "image_files", "limits", "marks", "optics", "plan", "plate_cache",
              "plate_mesh", "plate_request", "plot", "presets", "progress", "readability",
              "realism", "request", "resume", "schedule", "shot_schema", "shots", "suggest",
              "validate")


def extension_modules(root: str = ROOT) -> dict[str, str]:
    """Module name ('' for the root package) -> file path, for every shipped .py file."""
    found = {"": os.path.join(root, "__init__.py")}
    for package in PACKAGES:
        for folder, _dirs, files in os.walk(os.path.join(root, package)):
            if "__pycache__" in folder:
                continue
            for name in files:
                if not name.endswith(".py"):
                    continue
                rel = os.path.relpath(os.path.join(folder, name), root)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                found[".".join(rel)] = os.path.join(folder, name)
    return found


def pure_modules(root: str = ROOT) -> list[str]:
    """Every engine module outside :data:`NOT_PURE` ('' for the package), relative to it."""
    names = []
    for name in extension_modules(root):
        if name == "rackfocus_addon":
            names.append("")
        elif name.startswith("rackfocus_addon."):
            rel = name[len("rackfocus_addon."):]
            if rel.split(".")[0] not in NOT_PURE:
                names.append(rel)
    return sorted(names)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".") if module else []
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(p for p in base + ([target] if target else []) if p)


def imports(root: str = ROOT) -> tuple[dict[str, set[str]], list[str], dict[str, set[str]]]:
    """(graph of internal imports, importlib sites 'file:line', external modules per module)."""
    modules = extension_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    external: dict[str, set[str]] = {name: set() for name in modules}
    sites: list[str] = []
    for name, path in modules.items():
        is_package = os.path.basename(path) == "__init__.py"
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    external[name].add(alias.name.split(".")[0])
                    if alias.name.split(".")[0] == "importlib":
                        sites.append(f"{os.path.relpath(path, root)}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    external[name].add((node.module or "").split(".")[0])
                    if (node.module or "").split(".")[0] == "importlib":
                        sites.append(f"{os.path.relpath(path, root)}:{node.lineno}")
                    continue
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:
                    candidate = f"{base}.{alias.name}" if base else alias.name
                    graph[name].add(candidate if candidate in modules else base)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "__import__"):
                sites.append(f"{os.path.relpath(path, root)}:{node.lineno}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant)
                  and str(node.args[0].value).startswith(".")):
                # importlib.import_module(".x", __package__) is an import edge all the same.
                text = str(node.args[0].value)
                level = len(text) - len(text.lstrip("."))
                graph[name].add(_resolve(name, is_package, level, text.lstrip(".")))
    for name in graph:
        graph[name] = {t for t in graph[name] if t in modules and t != name}
    return graph, sites, external


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_module_imports_through_importlib():
    _graph, sites, _external = imports()
    assert sites == []


def test_the_import_graph_has_no_cycle():
    graph, _sites, _external = imports()
    assert cycles(graph) == []


def test_dependencies_point_one_way():
    graph, _sites, external = imports()
    for name, targets in graph.items():
        if name.startswith("rackfocus_addon"):
            assert not [t for t in targets if t == "" or t.startswith("operators")], name
    for pure in pure_modules():
        name = f"rackfocus_addon.{pure}" if pure else "rackfocus_addon"
        assert not {"bpy", "mathutils", "bmesh"} & external[name], name
        assert not [t for t in graph[name] if t.startswith(("rackfocus_addon.bl",
                                                            "rackfocus_addon.cli"))], name


def test_every_engine_module_outside_bl_and_cli_is_checked():
    found = pure_modules()
    assert set(KNOWN_PURE) <= set(found)
    assert not [n for n in found if n.split(".")[0] in NOT_PURE]


def test_the_checks_can_fail(tmp_path):
    """A cycle and an importlib site in a scratch tree are found."""
    (tmp_path / "__init__.py").write_text("from . import operators\n")
    ops = tmp_path / "operators"
    eng = tmp_path / "rackfocus_addon"
    ops.mkdir()
    eng.mkdir()
    (ops / "__init__.py").write_text("import importlib\nfrom . import a\n")
    (ops / "a.py").write_text("from . import b\n")
    (ops / "b.py").write_text("def f():\n    from .a import x\n")
    (eng / "__init__.py").write_text("")
    graph, sites, _external = imports(str(tmp_path))
    assert sites == [os.path.join("operators", "__init__.py") + ":1"]
    assert cycles(graph) == [["operators.a", "operators.b"]]


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else ROOT
    found_graph, found_sites, _ = imports(where)
    found_cycles = cycles(found_graph)
    print(f"modules: {len(found_graph)}")
    print(f"importlib sites: {len(found_sites)}", *found_sites, sep="\n  ")
    print(f"import cycles: {len(found_cycles)}", *[" <-> ".join(c) for c in found_cycles],
          sep="\n  ")
