"""scripts/build_extension.sh, run offline: PyPI replaced by a stand-in pip that gives the wheels
PyPI gave on 2026-12-06 (``pip download --no-deps --only-binary=:all: --platform TAG
--python-version 3.11 onnxruntime==1.32.0`` and the same for protobuf), Blender's
``extension build --split-platforms`` by the real ``blender_ext.py`` of the bpy package's
bl_pkg add-on (a standalone program, run by this Python). Every platform Blender lists gets a
zip; each zip holds exactly one protobuf wheel; ONNX Runtime is in every zip but Intel macOS's.
"""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "build_extension.sh")

#: What PyPI gives for `pip download --platform TAG` (checked 2026-12-06): onnxruntime 1.32.0
#: has no Intel-macOS wheel; protobuf has compiled abi3 wheels for Windows x64 and macOS only,
#: and pip falls back to its pure wheel elsewhere.
FAKE_PIP = r'''
import os, re, sys, zipfile
args = sys.argv[2:]
def value(flag):
    return args[args.index(flag) + 1] if flag in args else None
platform, dest = value("--platform"), value("-d")
py = (value("--python-version") or "3.11").replace(".", "")
flags = {"--platform", "--python-version", "-d", "--implementation", "--abi"}
pkgs = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in flags]
for pkg in pkgs:
    name = re.split(r"[=<>]", pkg)[0]
    if name == "onnxruntime":
        if platform.startswith("macosx") and platform.endswith("x86_64"):
            sys.exit("ERROR: No matching distribution found for " + pkg)
        wheel = f"onnxruntime-1.32.0-cp{py}-cp{py}-{platform}.whl"
    elif name == "protobuf" and platform == "win_amd64":
        wheel = "protobuf-7.36.2-cp310-abi3-win_amd64.whl"
    elif name == "protobuf" and platform.startswith("macosx"):
        wheel = "protobuf-7.36.2-cp310-abi3-macosx_10_9_universal2.whl"
    else:
        wheel = {"protobuf": "protobuf-7.36.2-py3-none-any.whl",
                 "flatbuffers": "flatbuffers-25.12.19-py2.py3-none-any.whl",
                 "packaging": "packaging-26.4-py3-none-any.whl"}[name]
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(os.path.join(dest, wheel), "w") as zf:
        zf.writestr(name + "/__init__.py", "")
'''

#: Blender's `--command extension build ...`, by its own standalone blender_ext.py.
FAKE_BLENDER = r'''
import subprocess, sys
args = sys.argv[1:]
args = args[args.index("build"):]
sys.exit(subprocess.call([sys.executable, {ext!r}, *args]))
'''

PLATFORMS = ["linux-x64", "linux-arm64", "windows-x64", "windows-arm64", "macos-arm64",
             "macos-x64"]


def blender_ext() -> str:
    spec = importlib.util.find_spec("bpy")  # finds the package, does not import Blender
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the bpy package is not installed (its bl_pkg/cli/blender_ext.py builds)")
    for folder in spec.submodule_search_locations:
        for dirpath, _dirs, files in os.walk(folder):
            if dirpath.endswith(os.path.join("bl_pkg", "cli")) and "blender_ext.py" in files:
                return os.path.join(dirpath, "blender_ext.py")
    pytest.fail("no bl_pkg/cli/blender_ext.py in the bpy package")


def tool(path, body: str) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"#!{sys.executable}\n{body}")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_every_platform_gets_a_zip_with_one_protobuf_and_onnxruntime_where_pypi_has_it(tmp_path):
    env = dict(os.environ,
               RACKFOCUS_PIP=tool(tmp_path / "pip", FAKE_PIP),
               RACKFOCUS_PYTHON=sys.executable,
               RACKFOCUS_STAGE=str(tmp_path / "stage"),
               BLENDER=tool(tmp_path / "blender", FAKE_BLENDER.format(ext=blender_ext())))
    proc = subprocess.run(["bash", SCRIPT, "--out", str(tmp_path / "dist")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Blender names them rack_focus-0.1.0-linux_x64.zip ...
    zips = {re.search(r"-([a-z]+)_([a-z0-9]+)\.zip$", name).expand(r"\1-\2"):
            tmp_path / "dist" / name for name in os.listdir(tmp_path / "dist")}
    assert sorted(zips) == sorted(PLATFORMS)
    assert "no onnxruntime wheel for macos-x64, Python 3.11" in proc.stderr
    for platform, path in zips.items():
        wheels = [os.path.basename(n) for n in zipfile.ZipFile(path).namelist()
                  if n.endswith(".whl")]
        protobuf = [w for w in wheels if w.startswith("protobuf-")]
        assert protobuf == ["protobuf-7.36.2-py3-none-any.whl"], (platform, wheels)
        ort = sorted(w for w in wheels if w.startswith("onnxruntime-"))
        if platform == "macos-x64":
            assert ort == []
        else:
            assert [w.split("-")[2] for w in ort] == ["cp311", "cp313", "cp314"], (platform, ort)
        assert sum(w.startswith(("flatbuffers-", "packaging-")) for w in wheels) == 2
    assert not os.path.exists(os.path.join(ROOT, "build", "extension-src", "wheels",
                                           "protobuf-7.36.2-cp310-abi3-win_amd64.whl"))
