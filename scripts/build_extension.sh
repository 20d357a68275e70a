#!/usr/bin/env bash
# Build the extension zips with ONNX Runtime bundled as wheels, one zip per platform.
#
#   scripts/build_extension.sh [--platforms linux-x64,windows-x64,...] [--out DIR]
#
# Downloads onnxruntime and its dependencies (flatbuffers, packaging, protobuf; never numpy:
# Blender bundles its own) unmodified from PyPI for every Python the supported Blenders use
# (cp311 for 4.2-5.0, cp313 for 5.1+, cp314 for Debian's 5.2 build), into a copy of the
# repository (the repository itself is never changed and wheels are never committed), writes the
# copy's manifest `wheels` and `platforms` lists and runs `extension build --split-platforms`.
#
# Platforms: every one Blender's extension system lists. ONNX Runtime publishes wheels for
# windows-x64, windows-arm64, macos-arm64, linux-x64 and linux-arm64 (checked for 1.32.0 with
# `pip download --no-deps --only-binary=:all: --platform TAG --python-version 3.11`). Intel macOS
# (macos-x64) has none: its zip is built without ONNX Runtime, and there depth estimation says
# it is unavailable (everything else works).
#
# protobuf: ONE pure-Python wheel (py3-none-any) for every zip. Its compiled (abi3) wheels exist
# for Windows x64 and macOS only (not for the manylinux_2_28 tag, not for Windows on ARM, where
# pip falls back to the pure wheel); Blender puts a pure wheel in every platform's zip, so a
# compiled one beside it would put protobuf in a zip twice. ONNX Runtime's Python API runs
# models in its C++ core and needs no compiled protobuf.
#
# Uses $BLENDER or the chroot's Blender (scripts/provision_blender.sh); $RACKFOCUS_PIP,
# $RACKFOCUS_PYTHON and $RACKFOCUS_STAGE (the staging folder, default build/extension-src)
# replace the tools and folder it uses. Prints the zips' paths.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

PLATFORMS=linux-x64,linux-arm64,windows-x64,windows-arm64,macos-arm64,macos-x64
OUT=$REPO/build/dist
while [ $# -gt 0 ]; do
  case $1 in
    --platforms) PLATFORMS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "build_extension: unknown option $1" >&2; exit 2 ;;
  esac
done

ORT_VERSION=${RACKFOCUS_ORT_VERSION:-1.32.0}
PYTHONS="3.11 3.13 3.14"
declare -A TAGS=([linux-x64]=manylinux_2_28_x86_64 [linux-arm64]=manylinux_2_28_aarch64
                 [windows-x64]=win_amd64 [windows-arm64]=win_arm64
                 [macos-arm64]=macosx_14_0_arm64 [macos-x64]=macosx_14_0_x86_64)
PIP=${RACKFOCUS_PIP:-$REPO/.venv/bin/pip}
PYTHON=${RACKFOCUS_PYTHON:-$REPO/.venv/bin/python}
[ -x "$PIP" ] || { echo "build_extension: run scripts/setup_venvs.sh first (needs $PIP)" >&2; exit 2; }

STAGE=${RACKFOCUS_STAGE:-$REPO/build/extension-src}
rm -rf "$STAGE" && mkdir -p "$STAGE/wheels" "$OUT"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$STAGE"

built=()
for platform in ${PLATFORMS//,/ }; do
  tag=${TAGS[$platform]:-}
  [ -n "$tag" ] || { echo "build_extension: unknown platform $platform" >&2; exit 2; }
  for py in $PYTHONS; do
    # Not every Python has a wheel on every platform (Windows and macOS Blenders use 3.11/3.13).
    "$PIP" download -q --no-deps --only-binary=:all: --platform "$tag" --python-version "$py" \
        -d "$STAGE/wheels" "onnxruntime==$ORT_VERSION" 2>/dev/null \
      || echo "build_extension: no onnxruntime wheel for $platform, Python $py" >&2
  done
  built+=("$platform")
done
# The pure wheels, once for every zip (protobuf's pure one: see above).
"$PIP" download -q --no-deps --only-binary=:all: --platform any --implementation py --abi none \
    --python-version 3.11 -d "$STAGE/wheels" "protobuf>=4.25.8" flatbuffers packaging

"$PYTHON" - "$STAGE" "${built[@]}" <<'PY'
"""Write the staged manifest's wheels and platforms lists (Blender's TOML subset, by hand)."""
import os
import sys

stage, platforms = sys.argv[1], sys.argv[2:]
wheels = sorted(f"./wheels/{name}" for name in os.listdir(os.path.join(stage, "wheels"))
                if name.endswith(".whl"))
path = os.path.join(stage, "blender_manifest.toml")
text = open(path, encoding="utf-8").read()
head, sep, rest = text.partition("\n[")
extra = "platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]\n"
extra += "wheels = [\n" + "".join(f'  "{w}",\n' for w in wheels) + "]\n"
open(path, "w", encoding="utf-8").write(head.rstrip("\n") + "\n" + extra + sep + rest)
print(f"build_extension: {len(wheels)} wheels for {', '.join(platforms)}", file=sys.stderr)
PY

if [ -n "${BLENDER:-}" ]; then
  "$BLENDER" --factory-startup --command extension build --split-platforms \
      --source-dir "$STAGE" --output-dir "$OUT" >&2
else
  RUN=$(scripts/provision_blender.sh)
  ROOT=${RACKFOCUS_CACHE:-/var/cache/rackfocus}/sid-root
  INNER=/tmp/rackfocus-extension-build
  rm -rf "$ROOT$INNER" && mkdir -p "$ROOT$INNER/out"
  cp -a "$STAGE" "$ROOT$INNER/src"
  "$RUN" blender --factory-startup --command extension build --split-platforms \
      --source-dir "$INNER/src" --output-dir "$INNER/out" >&2
  cp "$ROOT$INNER"/out/*.zip "$OUT/"
  rm -rf "$ROOT$INNER"
fi
ls "$OUT"/*.zip
