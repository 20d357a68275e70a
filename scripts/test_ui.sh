#!/usr/bin/env bash
# Real-UI test: Blender 5.2 with a window (not background) under Xvfb in the Debian sid chroot.
# Registers the extension, opens the sidebar's Rack Focus tab and runs the artist's flow through
# the panel's operators (marks from a 3-object selection, preset, create, the focus display and
# its switches, scrub, readability, Use f/N, bake, clear, undo, import a plate, a footage mark),
# with a screenshot of each step in out/ui/ and the focus display with the panel as
# out/ui/panel.png. Fails on any Python error (drawing included), on a label the panels cut at the
# sidebar's default width or a narrow one, on marks outside the scene's frame range, and on each
# check tests/ui/ui_screenshot.py makes (Overlays off, DOF off, a stale readout, a dialog that
# forgets what was typed).
# A run leaves the checkout as it was: the tracked docs/panel.png changes only on request.
#   scripts/test_ui.sh [--refresh-docs] [OUT.png]   (default: out/ui/panel.png;
#                                                   --refresh-docs also copies it to docs/panel.png)
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="${RACKFOCUS_SID_ROOT:-/var/cache/rackfocus/sid-root}"
RUN="${RACKFOCUS_SID_RUN:-/var/cache/rackfocus/blender-sid}"
REFRESH_DOCS=0
if [ "${1:-}" = "--refresh-docs" ]; then REFRESH_DOCS=1; shift; fi
OUT="${1:-$HERE/out/ui/panel.png}"
INNER="/tmp/rf-ui-$$"
LOG="$(mktemp /tmp/rf-ui-log.XXXXXX)"

[ -n "${RACKFOCUS_SID_RUN:-}" ] || "$HERE/scripts/provision_blender.sh" >/dev/null
rm -rf "$ROOT$INNER"
trap 'rm -rf "$ROOT$INNER" "$LOG"' EXIT
mkdir -p "$ROOT$INNER/fb" "$ROOT$INNER/out/steps" "$ROOT$INNER/tmp"
tar -C "$HERE" --exclude='./.venv*' --exclude=./.git \
    --exclude='*/__pycache__' --exclude=./build --exclude=./out -cf - . | tar -C "$ROOT$INNER" -xf -

set +e
timeout 300 "$RUN" env RACKFOCUS_USER_PRESETS="$INNER/user_presets" TMPDIR="$INNER/tmp" \
    xvfb-run -a -s "-screen 0 1600x900x24 -fbdir $INNER/fb" \
    blender --factory-startup --python "$INNER/tests/ui/ui_screenshot.py" \
    -- --out "$INNER/out/panel.png" --shots "$INNER/out/steps" --fb "$INNER/fb/Xvfb_screen0" \
    >"$LOG" 2>&1
code=$?
set -e
# Python errors after our script started (Blender's own start-up noise comes before it):
# tracebacks, and the UI's own complaints (a panel drawing a property that does not exist).
if sed -n '/RF-UI: start/,$p' "$LOG" \
        | grep -q -E "Traceback|property not found|Python script error|not found in"; then
    echo "test_ui: Python error in the UI:" >&2
    sed -n '/RF-UI: start/,$p' "$LOG" >&2
    exit 1
fi
if [ "$code" -ne 0 ] || ! grep -q "RF-UI: ok" "$LOG"; then
    echo "test_ui: Blender exited with $code" >&2
    tail -40 "$LOG" >&2
    exit 1
fi
mkdir -p "$(dirname "$OUT")" "$HERE/out/ui"
cp "$ROOT$INNER/out/panel.png" "$OUT"
cp "$ROOT$INNER"/out/steps/*.png "$HERE/out/ui/"
grep "RF-UI:" "$LOG"
if [ "$REFRESH_DOCS" -eq 1 ]; then
    cp "$OUT" "$HERE/docs/panel.png"
    echo "test_ui: docs/panel.png refreshed"
fi
echo "test_ui: ok, screenshot $OUT"
