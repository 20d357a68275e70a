#!/usr/bin/env bash
# A camera solve made by Blender's own solver in the real Blender 5.2, with a window (Xvfb, the
# Debian sid chroot, as scripts/test_ui.sh runs it): tests/ui/make_solve.py writes tiny frames
# and a solved .blend (two clips: scale on the solve, scale on the camera) into OUT (default
# out/solve), then reads their anchors with the extension's reader and fails unless every one
# is within 0.2 % of the true depth. The bpy tests (tests/bl/test_solve_anchors.py) make the
# same solve in background mode in every stage; this proves the artist's path, a window.
#   scripts/make_solve_fixture.sh [OUT]
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="${RACKFOCUS_SID_ROOT:-/var/cache/rackfocus/sid-root}"
RUN="${RACKFOCUS_SID_RUN:-/var/cache/rackfocus/blender-sid}"
OUT="${1:-$HERE/out/solve}"
INNER="/tmp/rf-solve-$$"
LOG="$(mktemp /tmp/rf-solve-log.XXXXXX)"

[ -n "${RACKFOCUS_SID_RUN:-}" ] || "$HERE/scripts/provision_blender.sh" >/dev/null
rm -rf "$ROOT$INNER"
trap 'rm -rf "$ROOT$INNER" "$LOG"' EXIT
mkdir -p "$ROOT$INNER/tmp"
tar -C "$HERE" --exclude='./.venv*' --exclude=./.git \
    --exclude='*/__pycache__' --exclude=./build --exclude=./out -cf - . | tar -C "$ROOT$INNER" -xf -

set +e
timeout 300 "$RUN" env TMPDIR="$INNER/tmp" xvfb-run -a -s "-screen 0 1280x720x24" \
    blender --factory-startup --python "$INNER/tests/ui/make_solve.py" \
    -- --out "$INNER/out/solve" --check >"$LOG" 2>&1
code=$?
set -e
if [ "$code" -ne 0 ] || ! grep -q "RF-SOLVE: ok" "$LOG"; then
    echo "make_solve_fixture: Blender exited with $code" >&2
    tail -40 "$LOG" >&2
    exit 1
fi
mkdir -p "$OUT"
cp -r "$ROOT$INNER/out/solve/." "$OUT/"
grep "RF-SOLVE:" "$LOG"
echo "make_solve_fixture: ok, $OUT"
