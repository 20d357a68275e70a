#!/usr/bin/env bash
# Binary stage: the real Blender 5.2 LTS binary.
#   1. `extension validate` and `extension build` on the repository;
#   2. `extension install-file` of the built zip into a fresh user folder, enabled;
#   3. `blender -b FILE -c rackfocus pull ...` on a saved file (exit codes, focus values);
#   4. the bpy tests (tests/bl) inside Blender through pytest-blender.
# Uses $BLENDER if set, else Debian's Blender 5.2 in a chroot (scripts/provision_blender.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

BLENDER_CMD=$(scripts/provision_blender.sh)
if [ -n "${BLENDER:-}" ]; then
  WORK_HOST=$(mktemp -d /tmp/rackfocus-bin.XXXXXX)
  WORK=$WORK_HOST
  bl() { "$BLENDER" "$@"; }
  py() { "$REPO/.venv/bin/python" "$@"; }
else
  ROOT=${RACKFOCUS_CACHE:-/var/cache/rackfocus}/sid-root
  WORK=/tmp/rackfocus-bin
  WORK_HOST=$ROOT$WORK
  bl() { "$BLENDER_CMD" blender "$@"; }
  # pytest-blender goes into the chroot's system site-packages: both the outer pytest and
  # Blender's Python (Debian's Blender uses the system Python) must import it.
  site=$ROOT/usr/lib/python3/dist-packages
  if [ ! -d "$site/pytest_blender" ]; then
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps -d "$tmp" pytest-blender==3.0.8 2>/dev/null
    python3 -m zipfile -e "$tmp"/pytest_blender-*.whl "$site"
  fi
fi
rm -rf "$WORK_HOST"
mkdir -p "$WORK_HOST/src" "$WORK_HOST/build" "$WORK_HOST/user"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$WORK_HOST/src"

echo "== binary: $(bl --version 2>/dev/null | head -n1)"
echo "== binary: extension validate"
bl --factory-startup --command extension validate "$WORK/src"
echo "== binary: extension build"
bl --factory-startup --command extension build --source-dir "$WORK/src" --output-dir "$WORK/build"
zip=$(cd "$WORK_HOST/build" && ls rack_focus-*.zip)
if unzip -l "$WORK_HOST/build/$zip" | grep -qE ' (tests|bench|scripts|\.ci)/'; then
  echo "binary: the built zip contains development files" >&2; exit 1
fi
echo "== binary: extension install-file $zip"
export BLENDER_USER_RESOURCES=$WORK/user
user_env() { bl "$@"; }
if [ -z "${BLENDER:-}" ]; then
  user_env() { "$BLENDER_CMD" env BLENDER_USER_RESOURCES="$WORK/user" blender "$@"; }
fi
user_env --factory-startup --command extension install-file -r user_default -e "$WORK/build/$zip"
user_env -b --python-expr "import addon_utils, bpy, sys; \
ok = addon_utils.check('bl_ext.user_default.rack_focus')[1] and hasattr(bpy.ops.rackfocus, 'create_pull'); \
print('installed extension enabled:', ok); sys.exit(0 if ok else 1)"

echo "== binary: blender -b FILE -c rackfocus pull"
bl -b --factory-startup --python "$WORK/src/tests/binary/make_shot.py" -- "$WORK/shot.blend" >/dev/null
user_env -b "$WORK/shot.blend" -c rackfocus pull --mark Near@1 --mark Far@25 \
  --space diopter --mode bake --out "$WORK/pulled.blend"
bl -b "$WORK/pulled.blend" --factory-startup --python "$WORK/src/tests/binary/check_pull.py" -- 2 8 3.2
set +e
user_env -b "$WORK/shot.blend" -c rackfocus pull --mark Ghost@1 --out "$WORK/bad.blend" 2>"$WORK_HOST/err.txt"
code=$?
set -e
if [ "$code" != 2 ] || ! grep -q "No object named 'Ghost'" "$WORK_HOST/err.txt"; then
  echo "binary: bad input gave exit $code: $(cat "$WORK_HOST/err.txt")" >&2; exit 1
fi
echo "bad mark: exit 2, $(grep 'rackfocus: error' "$WORK_HOST/err.txt")"

echo "== binary: the extension with ONNX Runtime wheels estimates depth inside Blender"
# The linux zip that scripts/build_extension.sh makes (wheels unmodified from PyPI), installed
# into a fresh user folder; a tiny network with Depth Anything V2's signature runs through the
# real estimator and writes metric EXRs.
mkdir -p "$WORK_HOST/user-ort" "$WORK_HOST/ort"
scripts/build_extension.sh --platforms linux-x64 --out "$WORK_HOST/dist" >/dev/null
ort_zip=$(cd "$WORK_HOST/dist" && ls rack_focus-*linux_x64.zip)
"$REPO/.venv/bin/python" tests/binary/make_tiny_estimate.py "$WORK_HOST/ort" >/dev/null
ort_env() { BLENDER_USER_RESOURCES="$WORK/user-ort" bl "$@"; }
if [ -z "${BLENDER:-}" ]; then
  ort_env() { "$BLENDER_CMD" env BLENDER_USER_RESOURCES="$WORK/user-ort" blender "$@"; }
fi
ort_env --factory-startup --command extension install-file -r user_default -e "$WORK/dist/$ort_zip"
ort_env -b --python-expr "import sys, onnxruntime; \
print('onnxruntime', onnxruntime.__version__, 'in Blender', sys.version.split()[0])"
ort_env -b -c rackfocus estimate --footage "$WORK/ort/still.png" --model "$WORK/ort/tiny_da2.onnx" \
  --anchor 5,13=6 --anchor 40,13=2 --out "$WORK/ort/depth" --json > "$WORK_HOST/ort/result.json"
"$REPO/.venv/bin/python" - "$WORK_HOST/ort/result.json" "$WORK_HOST/ort/depth/depth_0001.exr" <<'PY'
import json, os, sys
text = open(sys.argv[1]).read()
data = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]  # Blender prints its banner
assert data["frames"] == 1 and os.path.getsize(sys.argv[2]) > 0, data
print("estimated inside Blender:", data["model"], [round(f["fitted_m"], 3)
      for seg in data["alignment"] for f in seg.get("anchors", [])])
PY

echo "== binary: bpy tests inside Blender (pytest-blender)"
unset BLENDER_USER_RESOURCES
log="$WORK_HOST/pytest.log"
set +e
if [ -n "${BLENDER:-}" ]; then
  (cd "$WORK/src" && py -m pytest -p pytest_blender --blender-executable "$BLENDER" tests/bl -q \
    -p no:cacheprovider) 2>&1 | tee "$log"
else
  "$BLENDER_CMD" sh -c "cd $WORK/src && python3 -m pytest \
    -p pytest_blender --blender-executable /usr/bin/blender tests/bl -q -p no:cacheprovider" \
    2>&1 | grep -vE '^[0-9:.]+ +[a-z_.]+ +\|' | tee "$log"
fi
set -e
# pytest-blender has exited 0 without running anything: trust only the summary line.
summary=$(grep -E '^=*\s*[0-9]+ passed' "$log" | tail -n1 || true)
[ -z "$summary" ] && summary=$(grep -E '[0-9]+ passed' "$log" | tail -n1 || true)
if [ -z "$summary" ] || echo "$summary" | grep -qE 'failed|error'; then
  echo "binary: pytest inside Blender did not pass: ${summary:-no summary line}" >&2; exit 1
fi
echo "binary stage: $summary"
