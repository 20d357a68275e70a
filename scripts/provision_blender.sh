#!/usr/bin/env bash
# Provide a real Blender 5.2 LTS binary for the binary test stage and print a command that runs it.
#
# If $BLENDER is set it is used as is. Otherwise Debian sid's packaged Blender is installed into a
# minbase chroot (needs root and debootstrap; about 1.4 GB, a minute on a warm package cache), kept in
# $RACKFOCUS_CACHE (default /var/cache/rackfocus) so later runs reuse it. The mirror is the one this
# machine's own apt sources use. Prints the path of a wrapper script `blender-sid` on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${BLENDER:-}" ]; then
  command -v "$BLENDER" >/dev/null || { echo "provision: \$BLENDER=$BLENDER is not executable" >&2; exit 2; }
  echo "$BLENDER"; exit 0
fi

CACHE=${RACKFOCUS_CACHE:-/var/cache/rackfocus}
ROOT=$CACHE/sid-root
WRAP=$CACHE/blender-sid
PKGS="blender python3-pytest python3-cattr python3-numpy python3-requests libegl1 libegl-mesa0 libgl1-mesa-dri xvfb xauth"

if [ -x "$WRAP" ] && [ -f "$ROOT/.rackfocus-ready" ] && [ "$(cat "$ROOT/.rackfocus-ready")" = "$PKGS" ]; then
  echo "$WRAP"; exit 0
fi

[ "$(id -u)" = 0 ] || { echo "provision: building the Blender chroot needs root (or set \$BLENDER)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
  echo "provision: installing debootstrap" >&2
  apt-get update -qq >&2 && apt-get install -y -qq debootstrap >&2
fi

mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
         | grep -v security | head -n1 | awk '{print $2}' || true)
mirror=${RACKFOCUS_MIRROR:-${mirror:-}}
[ -n "$mirror" ] || { echo "provision: no Debian mirror found in apt sources (set RACKFOCUS_MIRROR)" >&2; exit 2; }

mkdir -p "$CACHE"
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  echo "provision: debootstrap sid from $mirror" >&2
  rm -rf "$ROOT"
  debootstrap --variant=minbase sid "$ROOT" "$mirror" >&2
fi
# The chroot needs /proc and /dev for Blender; mount once (idempotent).
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
echo "provision: apt-get install $PKGS" >&2
chroot "$ROOT" apt-get -o Acquire::Check-Valid-Until=false update -qq >&2
DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get install -y -qq --no-install-recommends $PKGS >&2

cat > "$WRAP" <<WRAPEOF
#!/usr/bin/env bash
# Run the chroot's Blender. Paths must be inside the chroot: bind-mount the work folder at /work-bind.
set -euo pipefail
ROOT=$ROOT
mountpoint -q "\$ROOT/proc" || mount -t proc proc "\$ROOT/proc"
mountpoint -q "\$ROOT/dev" || mount --bind /dev "\$ROOT/dev"
exec chroot "\$ROOT" /usr/bin/env HOME=/root "\$@"
WRAPEOF
chmod +x "$WRAP"
echo "$PKGS" > "$ROOT/.rackfocus-ready"
chroot "$ROOT" blender --version 2>/dev/null | head -n1 >&2
echo "$WRAP"
