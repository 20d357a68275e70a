"""The extension ships only what users run: test oracles stay in tests/ (and bench/), never in
the ``rackfocus_addon`` package that goes into the zip."""

import os
import re

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), "rackfocus_addon")

#: Oracles (tests/oracles.py, tests/bl_oracles.py) and the patterns that would define them.
ORACLES = {
    "psnr": r"\bdef\s+psnr\b",
    "ssim": r"\bdef\s+ssim\b",
    "reference_vertices": r"\breference_vertices\b",
    "render_truth": r"\brender_truth\b",
    "defocus_node": r"\bdefocus_node\b",
    "compositor_tree": r"\bcompositor_tree\b",
}


def package_sources():
    """(relative path, source text) of every Python module under rackfocus_addon/."""
    out = []
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    out.append((os.path.relpath(path, PACKAGE), f.read()))
    return out


def test_the_package_is_found():
    names = {path for path, _ in package_sources()}
    assert {"plate_mesh.py", os.path.join("bl", "demo_plate.py"),
            os.path.join("bl", "compat.py")} <= names


@pytest.mark.parametrize("oracle", sorted(ORACLES))
def test_no_oracle_in_the_product(oracle):
    pattern = re.compile(ORACLES[oracle])
    found = [path for path, text in package_sources() if pattern.search(text)]
    assert not found, f"{oracle} belongs in tests/, found in rackfocus_addon/{found}"
