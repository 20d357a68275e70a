#!/usr/bin/env bash
# All tests, three stages; sets up everything it needs on a fresh machine.
#   module  pytest with bpy 5.0.1 (pure tests + bpy tests)         .venv
#   compat  pytest with bpy 4.2 LTS, the oldest supported Blender  .venv-compat
#           and with bpy 4.5 LTS (slotted actions beside the legacy API) .venv-4.5
#   binary  the real Blender 5.2 LTS: validate, build, install, CLI, tests inside Blender
#   ui      the real Blender 5.2 with a window under Xvfb: the panel drawn, a screenshot
# Usage: scripts/test.sh [module|compat|binary|ui ...]   (default: all stages)
# Exits non-zero if any stage fails or runs no test.
set -uo pipefail
cd "$(dirname "$0")/.."

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(module compat binary ui)
failed=()
summaries=()

need_venvs() {
  scripts/setup_venvs.sh || { echo "test: setting up the Python environments failed" >&2; exit 1; }
}

run_pytest() {  # stage, python, test paths...
  local stage=$1 py=$2; shift 2
  local log
  log=$(mktemp)
  echo "== $stage: $("$py" -c 'import bpy; print("bpy", bpy.app.version_string)' 2>/dev/null)"
  RACKFOCUS_REQUIRE_BPY=1 RACKFOCUS_REQUIRE_ONNX=1 "$py" -m pytest -p no:pytest_blender -p no:cacheprovider -q "$@" 2>&1 \
    | grep -vE '^\s*[0-9:.]+ +[a-z_.]+ +\|' | tee "$log"
  local rc=${PIPESTATUS[0]}
  local summary
  summary=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -n1)
  rm -f "$log"
  if [ "$rc" -ne 0 ] || ! echo "$summary" | grep -qE '[1-9][0-9]* passed'; then
    failed+=("$stage (exit $rc: ${summary:-no test ran})")
  fi
  summaries+=("$stage: ${summary:-no summary}")
}

for stage in "${stages[@]}"; do
  case $stage in
    module) need_venvs; run_pytest module .venv/bin/python tests ;;
    compat)
      need_venvs
      run_pytest "compat-4.2" .venv-compat/bin/python tests
      run_pytest "compat-4.5" .venv-4.5/bin/python tests ;;
    binary)
      if scripts/test_binary.sh; then summaries+=("binary: passed")
      else failed+=("binary"); summaries+=("binary: FAILED"); fi ;;
    ui)
      if [ ! -x scripts/test_ui.sh ]; then summaries+=("ui: not present")
      elif scripts/test_ui.sh; then summaries+=("ui: passed")
      else failed+=("ui"); summaries+=("ui: FAILED"); fi ;;
    *) echo "test: unknown stage '$stage' (module, compat, binary, ui)" >&2; exit 2 ;;
  esac
done

echo
echo "== summary"
printf '%s\n' "${summaries[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
