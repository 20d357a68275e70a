"""Shared test set-up.

- ``tests/pure``: no bpy; import ``rackfocus_addon`` modules directly.
- ``tests/bl``: need ``bpy`` (PyPI module, or inside a real Blender through pytest-blender).
  Each test starts from an empty factory scene (``empty_scene``); ``addon`` registers the whole
  extension, loaded from the repository root under the fixed package name ``rack_focus``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

try:
    import bpy  # noqa: F401
    HAVE_BPY = True
except ImportError:
    HAVE_BPY = False

ADDON_NAME = "rack_focus"


def pytest_configure(config):
    # The module and compat stages exist to run the bpy tests: a bpy that fails to import there
    # must fail the stage, not skip half the suite into a green run.
    if os.environ.get("RACKFOCUS_REQUIRE_BPY") and not HAVE_BPY:
        raise pytest.UsageError("bpy does not import in this Python, and this stage needs it "
                                "(RACKFOCUS_REQUIRE_BPY is set)")


def pytest_collection_modifyitems(config, items):
    if HAVE_BPY:
        return
    skip = pytest.mark.skip(reason="needs bpy")
    for item in items:
        if f"{os.sep}bl{os.sep}" in str(item.fspath):
            item.add_marker(skip)


def load_addon():
    """Import the repository root as the package ``rack_focus`` (as Blender would, by its id)."""
    if ADDON_NAME in sys.modules:
        return sys.modules[ADDON_NAME]
    spec = importlib.util.spec_from_file_location(
        ADDON_NAME, os.path.join(ROOT, "__init__.py"), submodule_search_locations=[ROOT]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[ADDON_NAME] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def empty_scene():
    """A factory-empty file with one scene; returns the scene."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


@pytest.fixture
def addon(empty_scene):
    """The registered extension (unregistered after the test)."""
    module = load_addon()
    module.register()
    try:
        yield module
    finally:
        module.unregister()
