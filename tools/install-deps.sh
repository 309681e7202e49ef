#!/usr/bin/env bash
# Install the Debian 12 packages nvbind needs to build and to run its whole test suite.
# Idempotent; run as root.
set -euo pipefail
packages=(
	# build
	build-essential meson ninja-build pkg-config libjansson-dev libyaml-dev
	# nvbind-runtime and nvbind-hook are built statically with musl (src/musl/meson.build)
	musl-tools
	# unit tests, fuzzing, 32-bit fixture libraries
	libcmocka-dev clang libclang-rt-14-dev gcc-multilib
	# end-to-end tests and fixture roots (tests/run.sh checks their programs before it starts:
	# keep its list in step): busybox-static is the shell of every test image, mount and
	# util-linux give the private mount namespaces, apt and dpkg build real_hosts' Debian image,
	# crun is the second OCI runtime of hook_stage.bats
	bats jq python3 runc crun podman docker.io uidmap iproute2 util-linux mount kmod file binutils
	busybox-static diffutils findutils tar coreutils apt dpkg
	# nvbind serve: the HTTP library, and Prometheus (promtool, a real server) and curl for
	# tests/e2e/serve.bats
	libmicrohttpd-dev prometheus curl
	# benchmarks
	hyperfine time
	# manual pages (man/*.scd) and their check (tests/e2e/man.bats)
	scdoc man-db bsdextrautils patch
	# coverage report (tools/coverage.sh)
	gcovr
	# the Rust binding (bindings/rust): Debian's toolchain, offline, no crate from outside
	cargo rustc
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "hint: run as root (sudo $0)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
