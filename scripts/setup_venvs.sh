#!/usr/bin/env bash
# Create the Python environments the demo and the tests use, idempotently.
#   .venv         Python 3.11 + bpy 5.0.1 (module stage, demo, ruff)
#   .venv-compat  Python 3.11 + bpy 4.2 LTS (compat stage: the oldest supported Blender)
#   .venv-4.5     Python 3.11 + bpy 4.5 LTS (compat stage: slotted actions beside Action.fcurves)
# Re-running is cheap: each venv is skipped once its marker file matches the wanted pins.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${RACKFOCUS_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 "$HOME/.pyenv/versions/3.11.7/bin/python3.11" python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Python 3.11 is required (the bpy wheels 4.2-5.0 are built for it)" >&2; exit 2; }

DEV_PKGS="pytest==8.3.5 hypothesis==6.122.3 ruff==0.8.6"
# Depth estimation: ONNX Runtime (what the extension bundles as wheels) and onnx (the tests build
# tiny models with it). Added on top of an existing venv without rebuilding it.
EXTRA_PKGS="onnx==1.23.2 onnxruntime==1.32.0"

make_venv() {  # dir, bpy pin, numpy pin
  local dir=$1 bpy=$2 numpy=$3
  local want="bpy==$bpy numpy$numpy $DEV_PKGS"
  if [ -f "$dir/.rackfocus-pins" ] && [ "$(cat "$dir/.rackfocus-pins")" = "$want" ]; then
    add_extras "$dir" "$numpy"
    return 0
  fi
  echo "setup: creating $dir ($want)" >&2
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --upgrade pip >/dev/null
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install -q "bpy==$bpy" "numpy$numpy" $DEV_PKGS
  echo "$want" > "$dir/.rackfocus-pins"
  add_extras "$dir" "$numpy"
}

add_extras() {  # dir, numpy pin
  local dir=$1 numpy=$2
  if [ -f "$dir/.rackfocus-extras" ] && [ "$(cat "$dir/.rackfocus-extras")" = "$EXTRA_PKGS" ]; then
    return 0
  fi
  echo "setup: adding $EXTRA_PKGS to $dir" >&2
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install -q $EXTRA_PKGS "numpy$numpy"
  echo "$EXTRA_PKGS" > "$dir/.rackfocus-extras"
}

make_venv .venv 5.0.1 "<2.0"
if [ "${1:-}" != "--main-only" ]; then
  make_venv .venv-compat 4.2.23 "<2.0"
  make_venv .venv-4.5 4.5.4 "<2.0"
fi
