"""The extension zip installs into this Blender, enables, registers its CLI and unregisters."""

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from fnmatch import fnmatch

import bpy
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _excluded(rel: str, patterns) -> bool:
    for pat in patterns:
        if pat.endswith("/"):
            anchored = pat.startswith("/")
            name = pat.strip("/")
            parts = rel.split("/")[:-1]
            if (anchored and parts[:1] == [name]) or (not anchored and name in parts):
                return True
        elif pat.startswith("/"):
            if fnmatch(rel, pat[1:]):
                return True
        elif fnmatch(os.path.basename(rel), pat):
            return True
    return False


def build_zip(dest: str) -> str:
    """A zip of the extension as `extension build` makes it (same manifest excludes)."""
    with open(os.path.join(ROOT, "blender_manifest.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    patterns = manifest["build"]["paths_exclude_pattern"]
    if shutil.which("git") is None:
        pytest.skip("needs git to list the extension's files (the binary stage installs the "
                    "zip that `extension build` made instead)")
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    path = os.path.join(dest, f"{manifest['id']}-{manifest['version']}.zip")
    with zipfile.ZipFile(path, "w") as zf:
        for rel in listed.stdout.split("\n"):
            if rel and os.path.isfile(os.path.join(ROOT, rel)) and not _excluded(rel, patterns):
                zf.write(os.path.join(ROOT, rel), rel)
    return path


def test_zip_installs_enables_and_unregisters(tmp_path):
    zip_path = build_zip(str(tmp_path))
    names = zipfile.ZipFile(zip_path).namelist()
    assert "blender_manifest.toml" in names and "rackfocus_addon/plan.py" in names
    assert not any(n.startswith(("tests/", "bench/", "scripts/", ".ci/")) for n in names)
    script = textwrap.dedent(f"""
        import bpy, sys
        import addon_utils
        bpy.ops.extensions.package_install_files(
            repo="user_default", filepath={zip_path!r}, enable_on_install=True)
        mod = "bl_ext.user_default.rack_focus"
        ok = addon_utils.check(mod)[1] and hasattr(bpy.types.Scene, "rackfocus")
        addon_utils.disable(mod)
        gone = not hasattr(bpy.types.Scene, "rackfocus")
        addon_utils.enable(mod)
        again = hasattr(bpy.types.Scene, "rackfocus") and hasattr(bpy.ops.rackfocus, "create_pull")
        print("RESULT", ok, gone, again)
        sys.exit(0 if (ok and gone and again) else 1)
    """)
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "user")}
    if bpy.app.binary_path:
        cmd = [bpy.app.binary_path, "-b", "--factory-startup", "--python-expr", script]
    else:
        cmd = [sys.executable, "-c", script]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert "RESULT True True True" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
