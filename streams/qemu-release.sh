#!/usr/bin/env bash
# Runs one real QEMU release:  streams/qemu-release.sh RELEASE QEMU-ARGS...
# 7.2 is the system's qemu-system-x86_64. 5.2 and 10.0 come from streams/install-releases.sh's
# cache, and run in a private mount namespace (unshare -m, as root) where the system's module
# directory is bind-mounted to the release's own: QEMU loads modules from that fixed path and
# aborts on a module of another build. -L points at the release's own data directory, and
# LD_LIBRARY_PATH at its unpacked libraries (5.2 needs bullseye's liburing1 and Xen libraries).
set -euo pipefail
release="${1:?usage: qemu-release.sh RELEASE QEMU-ARGS...}"
shift
case "$release" in
  7.2) exec qemu-system-x86_64 "$@" ;;
  5.2|10.0) ;;
  *) echo "qemu-release: unknown release '$release' (known: 5.2, 7.2, 10.0)" >&2; exit 2 ;;
esac
cache="${VMSTATE_QEMU_CACHE:-$HOME/.cache/vmstate-lab/qemu}"
root="$cache/$release/root"
[ -f "$cache/$release/ok" ] || { echo "qemu-release: $release is not installed (run streams/install-releases.sh)" >&2; exit 2; }
moddir=/usr/lib/x86_64-linux-gnu/qemu
[ -d "$moddir" ] || mkdir -p "$moddir"
# A release without modules of its own (5.2's packages ship none) gets an empty directory.
own="$root/usr/lib/x86_64-linux-gnu/qemu"
[ -d "$own" ] || own="$cache/$release/no-modules"
mkdir -p "$own"
export root
exec unshare -m -- /bin/sh -c '
  mount --bind "$1" "$2" || exit 125
  shift 2
  LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    exec "$root/usr/bin/qemu-system-x86_64" -L "$root/usr/share/qemu" "$@"
' qemu-release "$own" "$moddir" "$@"
