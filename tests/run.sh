#!/usr/bin/env bash
# Run the whole nvbind test suite: unit tests (cmocka) and end-to-end suites (bats) against
# an AddressSanitizer + UndefinedBehaviorSanitizer build, plus a short run of every fuzz target.
# Two checks of src/ always run and count as tests: "layers" (tools/check-layers.sh: includes go
# only down the layers of docs/ARCHITECTURE.md) and "file-size" (no file over 1,300 lines).
# Needs root (fixture roots use mknod; end-to-end suites start runc, podman and dockerd).
# Ends with "N passed, N failed[, N skipped]", which counts tests only. Fuzz targets are reported
# before it on their own line, "fuzz: N targets ran, N crashed"; a crash (or a fuzz build that
# fails) makes the script exit non-zero all the same.
#
#   NVB_TEST_FILTER=REGEX   only run unit binaries / bats files whose name matches (and fuzz
#                           targets when "fuzz" matches)
#   NVB_FUZZ_SECONDS=N      seconds per fuzz target (default 10; 0 skips fuzzing)
#   CI=true                 a suite whose real engine (runc, podman, dockerd) is missing fails
#                           instead of skipping (tests/e2e/helpers/common.bash: need_engine)
#
# Before anything starts, every program the suites need is checked; when one is missing it
# stops with the Debian packages to install (tools/install-deps.sh installs them all).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${NVB_TEST_BUILD:-$here/build-test}
fuzz_build=$here/build-fuzz
filter=${NVB_TEST_FILTER:-.}
fuzz_seconds=${NVB_FUZZ_SECONDS:-10}

export NVB_SOURCE_ROOT=$here
export NVB_BUILD_ROOT=$build
export NVB_SHARED_FIXTURES=${NVB_SHARED_FIXTURES:-$here/../shared/fixtures}
export NVBIND=$build/src/nvbind
export NVB_FIXTURE_ROOTS=${NVB_FIXTURE_ROOTS:-$build/fixture-roots}
# the wrapper's container records and counters (docs/runtime.md) of the suites' containers stay
# in the build tree, not in the machine's /run/nvbind
export NVBIND_STATE_DIR=${NVBIND_STATE_DIR:-$build/nvbind-state}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}

pass=0 fail=0 skip=0
failed_names=()
log_dir=$build/test-logs

# Count a TAP stream: ok / not ok / "# skip".
count_tap() { # name file rc
	local name=$1 file=$2 rc=$3 p s f
	p=$(grep -Ec '^ok ' "$file" || true)
	s=$(grep -Eic '^ok .*# skip' "$file" || true)
	f=$(grep -Ec '^not ok ' "$file" || true)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or sanitizer error after its last test line
		echo "not ok - $name exited $rc (see $file)"
	fi
	pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + f))
	[ "$f" -gt 0 ] && failed_names+=("$name")
	grep -E '^not ok |^ok .*# skip' "$file" | while IFS= read -r l; do echo "  [$name] $l"; done
	echo "$name: $p passed, $f failed, $s skipped"
}

# A stage that cannot run here (its programs missing): a failure under CI=true, else a skip;
# "ok - NAME # skip WHY (HINT)" or "not ok - NAME: WHY and CI=true (HINT)".
stage_missing() { # name why hint
	if [ "${CI:-}" = true ]; then
		fail=$((fail + 1)); failed_names+=("$1")
		echo "not ok - $1: $2 and CI=true ($3)"
	else
		skip=$((skip + 1))
		echo "ok - $1 # skip $2 ($3)"
	fi
}

# Every program the build, the fixture builder, the suites and their helpers run, with the
# Debian package that has it (the list tools/install-deps.sh installs). Checked before anything
# starts: a fresh machine gets one message naming the packages, not six failed suites.
required=(
	cc:build-essential meson:meson ninja:ninja-build pkg-config:pkg-config musl-gcc:musl-tools
	bats:bats jq:jq python3:python3 file:file readelf:binutils ldconfig:libc-bin
	runc:runc crun:crun podman:podman docker:docker.io dockerd:docker.io newuidmap:uidmap
	/bin/busybox:busybox-static unshare:util-linux setsid:util-linux flock:util-linux
	mount:mount umount:mount mknod:coreutils sha256sum:coreutils timeout:coreutils
	cmp:diffutils diff:diffutils find:findutils xargs:findutils tar:tar awk:mawk
	promtool:prometheus prometheus:prometheus curl:curl
	useradd:passwd userdel:passwd setpriv:util-linux pgrep:procps
	apt-get:apt dpkg-deb:dpkg scdoc:scdoc man:man-db col:bsdextrautils patch:patch
)
# libraries the build links (pkg-config names)
required_pc=(jansson:libjansson-dev yaml-0.1:libyaml-dev cmocka:libcmocka-dev libmicrohttpd:libmicrohttpd-dev)
[ "$fuzz_seconds" -gt 0 ] && required+=(clang:clang)

missing_packages() {
	local entry prog pkg miss=()
	for entry in "${required[@]}"; do
		prog=${entry%%:*} pkg=${entry#*:}
		if [[ $prog == /* ]]; then
			[ -x "$prog" ] && continue
		else
			PATH=$PATH:/usr/sbin:/sbin command -v "$prog" >/dev/null 2>&1 && continue
		fi
		miss+=("$pkg ($prog)")
	done
	if command -v pkg-config >/dev/null 2>&1; then
		for entry in "${required_pc[@]}"; do
			pkg-config --exists "${entry%%:*}" || miss+=("${entry#*:} (${entry%%:*}.pc)")
		done
	fi
	local -A seen=()
	for entry in "${miss[@]}"; do
		[ -n "${seen[$entry]:-}" ] || echo "$entry"
		seen[$entry]=1
	done
}

missing=$(missing_packages)
if [ -n "$missing" ]; then
	echo "tests/run.sh: programs the suites need are missing; Debian packages to install:"
	sed 's/^/  /' <<<"$missing"
	echo "hint: run tools/install-deps.sh as root (it installs every one of them)"
	echo "0 passed, 1 failed"
	exit 1
fi

echo "== build (ASan + UBSan) in $build"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
		>/dev/null || { echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build" >"$build/ninja.log" 2>&1; then
	cat "$build/ninja.log"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$log_dir"

echo "== fixture roots in $NVB_FIXTURE_ROOTS"
if ! python3 tests/fixtures/nvbind-fixture build-all "$NVB_FIXTURE_ROOTS" >"$log_dir/fixtures.log" 2>&1; then
	cat "$log_dir/fixtures.log"
	echo "fixture roots could not be built: end-to-end suites will fail"
	fail=$((fail + 1)); failed_names+=("fixture-build")
fi

echo "== unit tests"
for t in "$build"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	[[ $name =~ $filter ]] || continue
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$log_dir/$name.tap" 2>&1
	count_tap "$name" "$log_dir/$name.tap" $?
done

# The layer rule (docs/ARCHITECTURE.md): every include under src/ goes down the layers, never
# across vendors' probe folders. Counted like a suite; its output is shown when it fails.
# This check and the next take a second and read only src/: they run whatever the filter.
echo "== layers"
if bash tools/check-layers.sh "$here/src" >"$log_dir/layers.log" 2>&1; then
	pass=$((pass + 1)); echo "ok - layers: $(tail -1 "$log_dir/layers.log")"
else
	fail=$((fail + 1)); failed_names+=("layers"); echo "not ok - layers (tools/check-layers.sh)"
	sed 's/^/  /' "$log_dir/layers.log"
fi

# No source file over max_lines lines (docs/ARCHITECTURE.md): a file that grows past it is
# split by what it does, not trimmed.
max_lines=1300
echo "== file size (at most $max_lines lines per file under src/)"
long=$(find src -name '*.[ch]' -exec wc -l {} + | awk -v max="$max_lines" \
	'$2 != "total" && $1 > max { print "  " $2 ": " $1 " lines" }' | sort)
if [ -z "$long" ]; then
	pass=$((pass + 1)); echo "ok - file-size"
else
	fail=$((fail + 1)); failed_names+=("file-size")
	echo "not ok - file-size: files under src/ over $max_lines lines (split them by what they do)"
	echo "$long"
fi

echo "== end-to-end suites"
for b in tests/e2e/*.bats; do
	[ -f "$b" ] || continue
	name=$(basename "$b" .bats)
	[[ $name =~ $filter ]] || continue
	bats --tap "$b" >"$log_dir/$name.tap" 2>&1
	count_tap "e2e/$name" "$log_dir/$name.tap" $?
done

# The musl builds of nvbind-runtime and nvbind-hook (src/musl/meson.build) are what an install
# puts on the container start path; the suites above ran the sanitizer builds. The suites that
# start containers run again with the musl programs: a hard link of the nvbind command beside
# them makes every spec the suites generate name the musl nvbind-hook (nvbind names the hook
# beside its own executable), and NVBIND_RUNTIME the musl wrapper, which hands what needs NVML
# or libcuda to the sanitizer build of the wrapper (its ../nvbind-runtime).
musl_suites=(runtime hostile_images real_hosts cdi_podman docker isolation records snapshot
	wrapper_scripts security mig run hook_stage)
musl_dir=$build/src/musl
if [[ musl =~ $filter || $filter == . ]]; then
	echo "== end-to-end suites with the musl nvbind-runtime and nvbind-hook"
	if [ -x "$musl_dir/nvbind-runtime" ] && [ -x "$musl_dir/nvbind-hook" ]; then
		ln -f "$build/src/nvbind" "$musl_dir/nvbind"
		for name in "${musl_suites[@]}"; do
			NVBIND=$musl_dir/nvbind NVBIND_RUNTIME=$musl_dir/nvbind-runtime \
				bats --tap "tests/e2e/$name.bats" >"$log_dir/musl-$name.tap" 2>&1
			count_tap "e2e-musl/$name" "$log_dir/musl-$name.tap" $?
		done
	else
		stage_missing musl "the musl programs were not built in $musl_dir" \
			"tools/install-deps.sh installs musl-tools; see $build/ninja.log"
	fi
fi

# The Rust binding (bindings/rust, docs/bolt.md): `cargo test --offline` with Debian's cargo and
# rustc (/usr/bin first: a newer toolchain elsewhere on PATH is not what CI has) against this
# build's libnvbind.so and the fixture roots, counted from cargo's "test result:" lines. Without
# cargo it is skipped with the reason, and fails under CI=true.
if [[ cargo =~ $filter || rust =~ $filter || $filter == . ]]; then
	echo "== rust binding (cargo test --offline)"
	cargo_bin=/usr/bin/cargo rustc_bin=/usr/bin/rustc
	[ -x "$cargo_bin" ] || cargo_bin=$(command -v cargo || true)
	[ -x "$rustc_bin" ] || rustc_bin=$(command -v rustc || true)
	if [ -z "$cargo_bin" ] || [ -z "$rustc_bin" ]; then
		stage_missing rust "cargo or rustc is not installed" \
			"tools/install-deps.sh installs Debian's cargo and rustc"
	else
		# a sanitizer build's library needs the sanitizer runtimes loaded first in the tests
		# (only in them: cargo and rustc themselves must not get them)
		runner=
		if readelf -d "$build/src/libnvbind.so.1" | grep 'NEEDED.*libasan' >/dev/null; then
			runner="env LD_PRELOAD=$(cc -print-file-name=libasan.so):$(cc -print-file-name=libubsan.so)"
		fi
		triple=$("$rustc_bin" -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
		(cd bindings/rust && env RUSTC="$rustc_bin" RUSTDOC="${rustc_bin%rustc}rustdoc" \
			NVBIND_LIB_DIR="$build/src" LD_LIBRARY_PATH="$build/src" \
			CARGO_TARGET_DIR="$build/cargo-target" "CARGO_TARGET_${triple}_RUNNER=$runner" \
			"$cargo_bin" test --offline) >"$log_dir/rust.log" 2>&1
		rc=$?
		p=$(awk '/^test result:/ { n += $4 } END { print n + 0 }' "$log_dir/rust.log")
		f=$(awk '/^test result:/ { n += $6 } END { print n + 0 }' "$log_dir/rust.log")
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1 # did not build, or crashed
		pass=$((pass + p)) fail=$((fail + f))
		echo "rust: $p passed, $f failed, 0 skipped"
		if [ "$f" -gt 0 ]; then
			failed_names+=("rust")
			grep -E '^test .*FAILED|panicked|^error' "$log_dir/rust.log" | head -40 | sed 's/^/  [rust] /'
			tail -30 "$log_dir/rust.log" | sed 's/^/  [rust] /'
		fi
	fi
fi

# Fuzz targets are not tests: they are reported on a line of their own and kept out of the
# passed/failed counts, but a crash (or a fuzz build that fails) still fails the run.
fuzz_ran=0 fuzz_crashed=0 fuzz_failed=()
if [ "$fuzz_seconds" -gt 0 ] && [[ fuzz =~ $filter || $filter == . ]]; then
	echo "== fuzz targets (${fuzz_seconds}s each)"
	if [ ! -f "$fuzz_build/build.ninja" ]; then
		CC=clang meson setup "$fuzz_build" --buildtype=debug -Dfuzz=true -Dtests=false -Dmusl=disabled \
			-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	if ninja -C "$fuzz_build" >"$log_dir/fuzz-build.log" 2>&1; then
		for f in "$fuzz_build"/tests/fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			name=$(basename "$f")
			corpus=tests/fuzz/corpus/${name#fuzz_}
			work=$(mktemp -d)
			[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
			fuzz_ran=$((fuzz_ran + 1))
			if "$f" -max_total_time="$fuzz_seconds" -timeout=10 "$work" >"$log_dir/$name.log" 2>&1; then
				echo "fuzz ok - $name"
			else
				fuzz_crashed=$((fuzz_crashed + 1)); fuzz_failed+=("$name")
				echo "fuzz CRASHED - $name (log: $log_dir/$name.log)"
				tail -30 "$log_dir/$name.log"
			fi
			rm -rf "$work"
		done
	else
		cat "$log_dir/fuzz-build.log"
		fuzz_failed+=("fuzz-build")
	fi
fi

# What each failed test printed (bats puts it under its "not ok" line as "# " lines): CI keeps
# only this output, not the log folder, so a failure there must be readable from it alone.
show_failures() { # file
	awk '/^not ok /{on=1; n=0; print; next} /^(ok|not ok) /{on=0} on && /^#/ && n < 120 {print; n++}' "$1"
}
for name in "${failed_names[@]}"; do
	file=$log_dir/${name##*/}.tap
	[ -f "$file" ] || continue
	echo
	echo "== what failed in $name ($file)"
	show_failures "$file"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $log_dir)"
if [ "$fuzz_ran" -gt 0 ] || [ ${#fuzz_failed[@]} -gt 0 ]; then
	echo "fuzz: $fuzz_ran targets ran, $fuzz_crashed crashed"
	[ ${#fuzz_failed[@]} -gt 0 ] &&
		echo "fuzz failed: ${fuzz_failed[*]}: the run exits non-zero (not counted as tests below)"
fi
summary="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && summary="$summary, $skip skipped"
echo "$summary"
[ "$fail" -eq 0 ] && [ ${#fuzz_failed[@]} -eq 0 ]
