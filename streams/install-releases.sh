#!/usr/bin/env bash
# Installs the real QEMU releases other than the system's own into a cache directory, beside the
# system's 7.2 and never over it: Debian's packages are downloaded with a private apt sources
# list and unpacked with dpkg-deb, nothing is installed. Idempotent: a release already unpacked
# is left as it is, so a second run takes well under a second.
#
#   streams/install-releases.sh [--cache DIR] [RELEASE...]     (RELEASE: 5.2, 10.0; default both)
#
# The cache defaults to $VMSTATE_QEMU_CACHE, else ~/.cache/vmstate-lab/qemu. Each release lands
# in CACHE/RELEASE/root (the unpacked packages) with CACHE/RELEASE/ok written last. Run one with
# streams/qemu-release.sh RELEASE ARGS... (it knows the module-directory and library traps).
# 7.2 is Debian bookworm's qemu-system-x86, installed with apt-get as usual.
set -euo pipefail

cache="${VMSTATE_QEMU_CACHE:-$HOME/.cache/vmstate-lab/qemu}"
releases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    5.2|10.0) releases+=("$1"); shift ;;
    *) echo "install-releases: unknown release or flag '$1' (known: 5.2, 10.0)" >&2; exit 2 ;;
  esac
done
[ ${#releases[@]} -gt 0 ] || releases=(5.2 10.0)

# suite and packages of each release (the versions the project's streams were captured with)
suite_of() { case "$1" in 5.2) echo bullseye ;; 10.0) echo bookworm-backports ;; esac; }
packages_of() {
  case "$1" in
    5.2)
      local v='1:5.2+dfsg-11+deb11u3'
      echo "qemu-system-x86=$v qemu-system-data=$v qemu-system-common=$v" \
        "liburing1 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1" \
        "libxengnttab1 libxenmisc4.14 libxenstore3.0 libxentoolcore1 libxentoollog1"
      ;;
    10.0)
      local v='1:10.0.2+ds-2+deb13u1~bpo12+1'
      echo "qemu-system-x86=$v qemu-system-data=$v qemu-system-common=$v"
      ;;
  esac
}

todo=()
for r in "${releases[@]}"; do [ -f "$cache/$r/ok" ] || todo+=("$r"); done
if [ ${#todo[@]} -eq 0 ]; then
  echo "install-releases: ${releases[*]} already in $cache"
  exit 0
fi

# The mirror the system's apt sources already name.
mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "install-releases: no Debian mirror found in /etc/apt/sources" >&2; exit 1; }

apt_dir="$cache/.apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
sources="$apt_dir/sources.list"
: > "$sources"
for r in "${todo[@]}"; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $(suite_of "$r") main" >> "$sources"
done
apt_opts=(-o "Dir::Etc::sourcelist=$sources" -o Dir::Etc::sourceparts=/nonexistent
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o Dir::Cache::pkgcache=
  -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get -qq "${apt_opts[@]}" update

for r in "${todo[@]}"; do
  dir="$cache/$r"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp/debs"
  suite=$(suite_of "$r")
  pkgs=()
  for p in $(packages_of "$r"); do
    case "$p" in *=*) pkgs+=("$p") ;; *) pkgs+=("$p/$suite") ;; esac
  done
  (cd "$dir.tmp/debs" && apt-get -qq "${apt_opts[@]}" download "${pkgs[@]}")
  for deb in "$dir.tmp/debs"/*.deb; do dpkg-deb -x "$deb" "$dir.tmp/root"; done
  rm -rf "$dir.tmp/debs" "$dir"
  mv "$dir.tmp" "$dir"
  "$dir/root/usr/bin/qemu-system-x86_64" --version >/dev/null 2>&1 \
    || LD_LIBRARY_PATH="$dir/root/usr/lib/x86_64-linux-gnu" "$dir/root/usr/bin/qemu-system-x86_64" --version >/dev/null \
    || { echo "install-releases: $r was unpacked but does not run" >&2; exit 1; }
  date -u +%FT%TZ > "$dir/ok"
  echo "install-releases: $r in $dir"
done
