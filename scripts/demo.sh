#!/usr/bin/env bash
# The main job on a fresh machine: set up, then build a scene, pull focus and render it.
# Writes out/demo/: frames/, pull.mp4, contact_sheet.png, demo.blend (and plate/ for footage).
# Extra arguments go to `python -m rackfocus_addon demo` (e.g. --frames 24 --samples 8).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_venvs.sh --main-only
exec .venv/bin/python -m rackfocus_addon demo --out out/demo "$@"
