"""The shape of the product code: no function longer than :data:`MAX_LINES` lines.

A function longer than a screen usually holds two ideas; name them. Counted from the ``def`` line
to the last line of the body (docstring and comments included), nested functions on their own.
Run as a script to list every function over the limit: ``python tests/pure/test_code_shape.py``.
"""

from __future__ import annotations

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: The shipped code: the extension's registration, its operators and its engine.
PRODUCT = ("__init__.py", "operators", "rackfocus_addon")
MAX_LINES = 80
#: Functions allowed over the limit ('path:function' -> lines, the most they may have), each with
#: a comment saying why. None today: keep it so.
ALLOWED: dict[str, int] = {}


def product_files(root: str = ROOT) -> list[str]:
    """Every shipped .py file, relative to ``root`` with '/' separators."""
    found = []
    for entry in PRODUCT:
        path = os.path.join(root, entry)
        if os.path.isfile(path):
            found.append(entry)
            continue
        for folder, _dirs, files in os.walk(path):
            if "__pycache__" in folder:
                continue
            found += [os.path.relpath(os.path.join(folder, f), root).replace(os.sep, "/")
                      for f in files if f.endswith(".py")]
    return sorted(found)


def function_lengths(source: str) -> list[tuple[str, int]]:
    """(name, lines) of every function and method in ``source``, nested ones included."""
    tree = ast.parse(source)
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def long_functions(root: str = ROOT, limit: int = MAX_LINES) -> dict[str, int]:
    """'path:function' -> lines, for every product function over ``limit`` lines."""
    out = {}
    for rel in product_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as fh:
            source = fh.read()
        for name, lines in function_lengths(source):
            if lines > limit:
                out[f"{rel}:{name}"] = max(lines, out.get(f"{rel}:{name}", 0))
    return out


def test_no_product_function_is_over_the_limit():
    found = long_functions()
    new = {k: v for k, v in found.items() if k not in ALLOWED}
    grown = {k: v for k, v in found.items() if k in ALLOWED and v > ALLOWED[k]}
    assert new == {} and grown == {}


def test_the_allow_list_holds_only_long_functions():
    """An entry whose function was shrunk (or moved) goes from the list."""
    found = long_functions()
    assert sorted(k for k in ALLOWED if k not in found) == []


def test_the_count_can_fail(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))  # def line + 80: 81 lines
    (tmp_path / "rackfocus_addon").mkdir()
    (tmp_path / "rackfocus_addon" / "long.py").write_text(
        f"def long():\n{body}\n\n\ndef short():\n    return 1\n", encoding="utf-8")
    assert long_functions(str(tmp_path)) == {"rackfocus_addon/long.py:long": MAX_LINES + 1}
    assert function_lengths("def f():\n    def g():\n        pass\n") == [("f", 3), ("g", 2)]


if __name__ == "__main__":
    where = sys.argv[1] if len(sys.argv) > 1 else ROOT
    over = long_functions(where)
    print(f"functions over {MAX_LINES} lines: {len(over)}")
    for key, lines in sorted(over.items(), key=lambda kv: -kv[1]):
        print(f"  {lines:4d}  {key}")
