#!/usr/bin/env bash
# Set up a fresh Debian 12 machine: install dependencies, build and install nvbind into
# /usr/local, then show what it finds on this host (`nvbind info`).
set -euo pipefail
cd "$(dirname "$0")"
bash tools/install-deps.sh
meson setup build --prefix=/usr/local --buildtype=release --wipe >/dev/null 2>&1 ||
	meson setup build --prefix=/usr/local --buildtype=release
ninja -C build
ninja -C build install >/dev/null
ldconfig
echo
/usr/local/bin/nvbind info
