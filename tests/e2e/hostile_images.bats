#!/usr/bin/env bats
# The hostile-image regression suite: one test per class of the NVIDIA Container Toolkit's
# advisories (CVE-2024-0132/0133/0134/0135/0136/0137, CVE-2025-23359/23266/23267) and the
# security review's findings, against every path by which nvbind touches a container root:
#  - nvbind-runtime with the real runc, the spec installed (with-cdi-specs; h100-host and
#    debian-4gpu fixture roots): the wrapper makes the links and the loader cache itself;
#  - podman applying the spec (the createContainer hook nvbind-hook runs with the container's
#    mounts, its /proc included, in place), where the class concerns the CDI path;
#  - the spec's hooks run directly, as runc runs them, with a crafted state on stdin;
#  - a legacy spec (`nvbind hook create-symlinks` / `update-ldcache --ldconfig`) where it applies.
# Each image aims at a sentinel directory on the host ($SENT, outside every bundle): the test
# compares its listing (type, size, mode, owner, mtime, ctime, link target, content hashes)
# before and after. A changed sentinel is an escape to report (with the image as reproducer),
# never a reason to weaken the test. Where an attack needs the image's code to run, a positive
# control shows first that the payload does run when something executes or preloads it.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle
load helpers/podman
load helpers/hostile

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
SWAP="$BATS_TEST_DIRNAME/helpers/swap-paths.py"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"

setup_file() {
	need_engine runc || return 0
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	# ROOT.json: every driver file a mount of its own, so nvbind writes SONAME links into the
	# image's library folders: the layout most of these classes attack (and a host's files
	# on another file system than /var/lib/nvbind still get it). ROOT-folder.json: the
	# driver folder (docs/cdi.md), whose own test is at the end.
	for root in h100-host debian-4gpu; do
		"$NVBIND" --root "$ROOTS/$root" cdi generate --no-driver-folder --output "$BATS_FILE_TMPDIR/$root.json" 2>/dev/null
		"$NVBIND" --root "$ROOTS/$root" cdi generate --output "$BATS_FILE_TMPDIR/$root-folder.json" 2>/dev/null
	done
	legacy_spec "$BATS_FILE_TMPDIR/h100-host.json" >"$BATS_FILE_TMPDIR/legacy-h100.json"
	# a real library of the host sentinel whose SONAME link is missing: what ldconfig creates
	printf 'int nvbind_sentinel(void) { return 1; }\n' |
		cc -shared -fPIC -Wl,-soname,libsentinel.so.1 -o "$BATS_FILE_TMPDIR/libsentinel.so.1.0" -x c -
	if command -v podman >/dev/null; then
		podman_setup
	fi
}

teardown_file() {
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	[ -d "$PODMAN_DIR" ] && podman_teardown
	return 0
}

setup() {
	engine_skip
	STATE="$BATS_TEST_TMPDIR/runc-state"
	export CONTAINERS_CONF="$BATS_FILE_TMPDIR/podman/containers.conf"
	PODMAN_DIR="$BATS_FILE_TMPDIR/podman"
	# no configuration file of this machine's
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/none.toml"
	: >"$NVBIND_CONFIG"
}

teardown() {
	local c
	[ -z "${SWAPPER:-}" ] || { touch "$BATS_TEST_TMPDIR/stop-swapping"; wait "$SWAPPER" || true; }
	[ -z "${REAL_LIB:-}" ] || umount "$REAL_LIB" 2>/dev/null || true
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
}

# legacy_spec SPEC: SPEC with the hooks of specs written before the loader-cache writer (and
# of NVIDIA's toolkit, same names): `nvbind hook create-symlinks` with the SONAME and extra
# links of SPEC's library hook, then `nvbind hook update-ldcache --ldconfig /sbin/ldconfig`
# over the library folders
legacy_spec() {
	jq --arg nvbind "$NVBIND" '
		(.containerEdits.hooks[0].args | map(select(contains("::")) | split("::"))) as $a
		| ([$a[] | select(length == 3) | (.[0] | split("/")) as $p
			| select($p[-1] != .[1]) | "\($p[-1])::\($p[:-1] | join("/"))/\(.[1])"]
		   + [$a[] | select(length == 2) | join("::")]) as $links
		| ([$a[] | select(length == 3) | .[0] | split("/") | .[:-1] | join("/")] | unique) as $dirs
		| .containerEdits.hooks = [
			{hookName: "createContainer", path: $nvbind, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
			 args: (["nvbind", "hook", "create-symlinks"] + [$links[] | ("--link", .)])},
			{hookName: "createContainer", path: $nvbind, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
			 args: (["nvbind", "hook", "update-ldcache", "--ldconfig", "/sbin/ldconfig"]
				+ [$dirs[] | ("--folder", .)])}]' "$1"
}

# ------------------------------------------------------------- CVE-2024-0132 / CVE-2025-23359

@test "CVE-2024-0132/CVE-2025-23359: library folders and /etc are absolute symlinks to host paths" {
	# Class: the toolkit followed symlinks the image controls, on the host. The image's
	# /usr/lib/x86_64-linux-gnu, /usr/local/nvidia/lib64 and /etc are absolute symlinks to the
	# host sentinel. A tool resolving them on the host (by path, or with a symlink-following
	# open) writes libcuda.so.1 into $SENT/lib and ld.so.cache / ld.so.conf.d/00-nvbind.conf into
	# $SENT/etc: the sentinel changes. Resolved inside the container root, the same writes land
	# in the container at <root>$SENT/..., where the container's own lookups find them.
	sentinel_init
	# (the targets exist in the image too, at the same path: its lookups work, and podman,
	# which refuses an image whose /etc leads nowhere, runs it)
	hostile_rootfs abs-links 'mkdir -p usr/lib usr/local/nvidia ".$SENT/lib" ".$SENT/conf" &&
		ln -s "$SENT/lib" usr/lib/x86_64-linux-gnu && ln -s "$SENT/lib" usr/local/nvidia/lib64 &&
		ln -s "$SENT/conf" usr/lib/i386-linux-gnu && mv etc ".$SENT/etc" && ln -s "$SENT/etc" etc'
	for root in h100-host debian-4gpu; do
		via_runtime $root 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
		# the link and the cache went where the symlinks lead inside the container
		[ -L "$BUNDLE/rootfs$SENT/lib/libcuda.so.1" ]
		[ -f "$BUNDLE/rootfs$SENT/etc/ld.so.cache" ]
	done
	via_spec_hooks "$BATS_FILE_TMPDIR/debian-4gpu.json"
	sentinel_unchanged "nvbind-hook run directly"
	[ "$status" -eq 0 ]
	[ "$(readlink "$HOOKED$SENT/lib/libcuda.so.1")" = libcuda.so.550.54.14 ]
	if have_podman; then
		for root in h100-host debian-4gpu; do
			via_podman "$BATS_FILE_TMPDIR/$root.json" 'probe-cuda && echo started'
			sentinel_unchanged "podman, $root"
			[ "$status" -eq 0 ]
			[[ "$output" == *"nvbind-standin libcuda"* ]]
		done
	fi
}

# race_setup: $RB, a bundle of an image whose library folder and /etc are exchanged, atomically
# and without pause, each with an absolute symlink to the host sentinel by a background loop
# (helpers/swap-paths.py, $SWAPPER) until the test stops it; config.json kept as config.orig
race_setup() {
	sentinel_init
	hostile_rootfs race 'mkdir -p usr/local/nvidia/lib64 &&
		ln -s "$SENT/lib" usr/local/nvidia/lib64.swap && ln -s "$SENT/etc" etc.swap'
	RB="$BATS_TEST_TMPDIR/race-bundle"
	make_bundle "$RB" "$IMG" 'sleep 30'
	bundle_env "$RB" NVIDIA_VISIBLE_DEVICES=all
	cp "$RB/config.json" "$RB/config.orig"
	"$SWAP" "$BATS_TEST_TMPDIR/stop-swapping" 150 \
		"$RB/rootfs/usr/local/nvidia/lib64" "$RB/rootfs/usr/local/nvidia/lib64.swap" \
		"$RB/rootfs/etc" "$RB/rootfs/etc.swap" >"$BATS_TEST_TMPDIR/swaps" 2>&1 &
	SWAPPER=$!
}

# race_stop: stop the swapper; it must have exchanged the paths many times
race_stop() {
	touch "$BATS_TEST_TMPDIR/stop-swapping"
	wait "$SWAPPER"
	SWAPPER=
	echo "$(cat "$BATS_TEST_TMPDIR/swaps") exchanges"
	[ "$(cat "$BATS_TEST_TMPDIR/swaps")" -gt 50 ]
}

# race_run WHAT COMMAND...: COMMAND under timeout 30, its output kept in a file (a created
# container keeps runc's stdio: not bats' pipe). A refusal is reported with its last line and
# returns 1; a time-out fails the test.
race_run() {
	local what=$1 rc=0
	shift
	timeout 30 "$@" >"$BATS_TEST_TMPDIR/race.log" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || return 0
	echo "$what refused ($rc): $(tail -1 "$BATS_TEST_TMPDIR/race.log")"
	[ "$rc" -ne 124 ] || { echo "$what: timed out"; exit 1; }
	return 1
}

# runc_mount_targets: explain a sentinel change made of empty 0755 files named like the
# spec's mount destinations: what runc < 1.1.14 creates for a bind-mount target it resolved
# inside the root and then opened by path (CVE-2024-45310), not a write of nvbind's
runc_mount_targets() {
	local f made=()
	while IFS= read -r f; do
		[ -f "$f" ] && [ ! -s "$f" ] && [ "$(stat -c %a "$f")" = 755 ] &&
			jq -e --arg b "${f##*/}" '[.containerEdits.mounts[].containerPath | endswith("/" + $b)] | any' \
				"$BATS_FILE_TMPDIR/h100-host.json" >/dev/null && made+=("$f")
	done < <(find "$SENT" -newer "$BATS_TEST_TMPDIR/swaps" -type f)
	[ ${#made[@]} -gt 0 ] || return 0
	echo "runc ($(runc --version | head -1)) created mount targets on the host through the swapped"
	echo "folder: empty files, mode 0755, named like the spec's mount destinations: ${made[*]}"
	echo "This is runc's mount-target race (CVE-2024-45310, fixed in runc 1.1.14); it needs no nvbind:"
	echo "tests/e2e/helpers/runc-mount-race.sh reproduces it with runc alone."
}

@test "CVE-2024-0132/CVE-2025-23359 race, nvbind's own writes: 50 wrapper runs and 50 hook runs on swapping folders" {
	# Class: time-of-check to time-of-use. A tool that checks a path (a directory, no symlink)
	# and then uses it by name is redirected when the image swaps the name in between. While
	# the image's library folder and /etc are exchanged without pause with absolute symlinks to
	# the host sentinel, nvbind-runtime creates the container 50 times (links and loader cache
	# in the bundle; the low-level runtime here is /bin/true, so that only nvbind writes) and
	# the spec's nvbind-hook runs 50 times on the same root. A by-name implementation writes
	# libcuda.so.1, 00-nvbind.conf or ld.so.cache into the sentinel the first time a use falls
	# after a swap; resolved by descriptor inside the root, every write stays in the container
	# whichever way the swap fell.
	local spec="$BATS_FILE_TMPDIR/h100-host.json" i wrapped=0 hooked=0 hook
	race_setup
	printf '[runtime]\nlow_level = "/bin/true"\n' >"$NVBIND_CONFIG"
	hook_state "$RB/rootfs"
	mapfile -t hook_args < <(jq -r '.containerEdits.hooks[0].args[1:][]' "$spec")
	hook=$(jq -r '.containerEdits.hooks[0].path' "$spec")
	for ((i = 0; i < 50; i++)); do
		cp "$RB/config.orig" "$RB/config.json"
		if race_run "cycle $i: wrapper" "$WITH_SPECS" "$spec" -- "$RUNTIME" --root "$STATE" create -b "$RB" "race$i" </dev/null; then
			# (the wrapper did its work: the libraries are in config.json for runc)
			[ "$wrapped" -gt 0 ] || jq -e '.mounts | map(.destination) |
				index("/usr/local/nvidia/lib64/libcuda.so.580.159.04")' "$RB/config.json" >/dev/null
			wrapped=$((wrapped + 1))
		fi
		if race_run "cycle $i: hook" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$hook" "${hook_args[@]}" \
			<"$HOOK_STATE"; then
			hooked=$((hooked + 1))
		fi
		sentinel_unchanged "race, cycle $i"
	done
	race_stop
	echo "wrapper: $wrapped of 50 done, hook: $hooked of 50 done"
	sentinel_unchanged "race, after the swapper stopped"
	# the race really ran through the writes (a refusal with a message is allowed, not all)
	[ "$wrapped" -gt 0 ]
	[ "$hooked" -gt 0 ]
}

@test "CVE-2024-0132/CVE-2025-23359 race, the whole path: 50 nvbind-runtime create/delete cycles with the real runc" {
	# The same race through the real runc, which makes the mounts nvbind-runtime added to
	# config.json: a runtime that resolves a mount destination inside the root and then
	# creates the missing target by path follows the symlink swapped in meanwhile and creates
	# an empty file on the host. The sentinel must stay unchanged for the whole path to be
	# safe. When it changes, runc_mount_targets says whether runc made the files. Each cycle
	# starts without the mount targets of the last (removed through a bind mount of the real
	# folder, which follows it whatever its name), so that every cycle creates them again.
	local spec="$BATS_FILE_TMPDIR/h100-host.json" i ok=0 failed=0 v
	# runc before 1.1.14 loses this race by itself (CVE-2024-45310: helpers/runc-mount-race.sh
	# shows it with runc alone; nvbind's own writes are the previous test). On such a runc the
	# test cannot pass whatever nvbind does: skip, saying so; `nvbind doctor` warns about it.
	v=$(runc --version | sed -n 's/^runc version \([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1 \2 \3/p')
	if [ -n "$v" ] && read -r v1 v2 v3 <<<"$v" && ((v1 == 1 && (v2 < 1 || (v2 == 1 && v3 < 14)))); then
		skip "runc $v1.$v2.$v3 is affected by CVE-2024-45310 (mount race in runc itself; needs runc >= 1.1.14)"
	fi
	race_setup
	REAL_LIB="$BATS_TEST_TMPDIR/real-lib64"
	mkdir -p "$REAL_LIB" "$RB/rootfs$SENT/lib"
	mount --bind "$RB/rootfs/usr/local/nvidia/lib64" "$REAL_LIB"
	for ((i = 0; i < 50; i++)); do
		cp "$RB/config.orig" "$RB/config.json"
		find "$REAL_LIB" "$RB/rootfs$SENT/lib" -mindepth 1 -name '*.so.580.159.04' -delete
		if race_run "cycle $i: create" "$WITH_SPECS" "$spec" -- "$RUNTIME" --root "$STATE" create -b "$RB" "race$i" </dev/null; then
			ok=$((ok + 1))
		else
			failed=$((failed + 1))
		fi
		runc --root "$STATE" delete --force "race$i" >/dev/null 2>&1 || true
		if ! sentinel_unchanged "race through runc, cycle $i"; then
			runc_mount_targets
			race_stop
			return 1
		fi
	done
	race_stop
	echo "$ok containers created, $failed refused"
	sentinel_unchanged "race through runc, after the swapper stopped"
	[ "$ok" -gt 0 ]
}

# ---------------------------------------------------------------------------- CVE-2024-0133

@test "CVE-2024-0133: mount destinations are dangling absolute symlinks to host files" {
	# Class: empty files created on the host through image symlinks. Every mount destination of
	# both specs (libraries, programs, configuration files, firmware) and the extra links'
	# names are, in the image, absolute symlinks to files that do not exist in the host
	# sentinel. Creating a mount target, or an extra link "where the image has nothing", by
	# following the image's symlink on the host creates $SENT/made-* (an empty file): the
	# sentinel changes. Resolved inside the root they are created in the container.
	sentinel_init
	local paths
	paths=$(jq -r '.containerEdits.mounts[].containerPath,
		(.containerEdits.hooks[0].args[] | select(contains("::")) | split("::") | select(length == 2) | .[1])' \
		"$BATS_FILE_TMPDIR/h100-host.json" "$BATS_FILE_TMPDIR/debian-4gpu.json" | sort -u)
	hostile_rootfs dangling 'while read -r p; do
			mkdir -p ".${p%/*}"; ln -s "$SENT/made-${p//\//_}" ".$p"
		done <<<"$paths"'
	[ -L "$IMG/usr/local/nvidia/lib64/libcuda.so.580.159.04" ]
	[ ! -e "$IMG/usr/local/nvidia/lib64/libcuda.so.580.159.04" ]
	for root in h100-host debian-4gpu; do
		via_runtime $root 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
	done
	# the image's extra link is kept (it had one of that name), dangling as it was
	[ "$(readlink "$BUNDLE/rootfs/usr/lib/x86_64-linux-gnu/libcuda.so")" = "$SENT/made-_usr_lib_x86_64-linux-gnu_libcuda.so" ]
	via_spec_hooks "$BATS_FILE_TMPDIR/h100-host.json"
	sentinel_unchanged "nvbind-hook run directly"
	[ "$status" -eq 0 ]
	if have_podman; then
		for root in h100-host debian-4gpu; do
			via_podman "$BATS_FILE_TMPDIR/$root.json" 'probe-cuda && echo started'
			sentinel_unchanged "podman, $root"
			[ "$status" -eq 0 ]
		done
	fi
	[ -z "$(find "$SENT" -name 'made-*')" ]
}

# ---------------------------------------------------------------------------- CVE-2024-0134

@test "CVE-2024-0134: SONAME link names are symlinks to host files and folders, library folders climb with '..'" {
	# Class: a symlink-creating hook writing outside the container. In image "names" the
	# SONAME links' names are symlinks to host directories and files (libcuda.so.1 -> $SENT/lib,
	# libnvidia-ml.so.1 -> a '..'-climbing path to $SENT/lib, libnvidia-ptxjitcompiler.so.1 ->
	# $SENT/victim), and so are the extra links' and the loader configuration file's names. A
	# tool that creates the link through the existing name (`ln -sf` into a directory symlink,
	# open(O_CREAT) without O_NOFOLLOW) makes $SENT/lib/libcuda.so.580... or writes $SENT/victim.
	# In image "dotdot" the library folders and /etc/ld.so.conf.d are relative symlinks that
	# climb out with '..': resolved on the host they reach $SENT; inside the root, '..' stops at
	# the container's /. The SONAME link must replace the image's symlink, not write through it.
	sentinel_init
	local climb=../../../../../../../../../../../../../..
	hostile_rootfs names "mkdir -p usr/local/nvidia/lib64 usr/lib/x86_64-linux-gnu etc/ld.so.conf.d &&
		for d in usr/local/nvidia/lib64 usr/lib/x86_64-linux-gnu; do
			ln -s '$SENT/lib' \$d/libcuda.so.1
			ln -s '$climb$SENT/lib' \$d/libnvidia-ml.so.1
			ln -s '$SENT/victim' \$d/libnvidia-ptxjitcompiler.so.1
			ln -s '$SENT/victim2' \$d/libcuda.so
			ln -s '$SENT/lib' \$d/libGLX_indirect.so.0
		done && ln -s '$SENT/victim' etc/ld.so.conf.d/00-nvbind.conf"
	for root in h100-host debian-4gpu; do
		via_runtime $root 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root, names"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
	done
	# the SONAME link replaced the image's symlink; the configuration file is nvbind's
	[ "$(readlink "$BUNDLE/rootfs/usr/lib/x86_64-linux-gnu/libcuda.so.1")" = libcuda.so.550.54.14 ]
	[ ! -L "$BUNDLE/rootfs/etc/ld.so.conf.d/00-nvbind.conf" ]
	for spec in h100-host legacy-h100; do
		via_spec_hooks "$BATS_FILE_TMPDIR/$spec.json"
		sentinel_unchanged "$spec hooks run directly, names"
		[ "$status" -eq 0 ]
	done

	hostile_rootfs dotdot "mkdir -p usr/local/nvidia usr/lib etc &&
		ln -s '$climb$SENT/lib' usr/local/nvidia/lib64 &&
		ln -s '$climb$SENT/lib' usr/lib/x86_64-linux-gnu &&
		ln -s '$climb$SENT/conf' etc/ld.so.conf.d"
	for root in h100-host debian-4gpu legacy-h100; do
		via_runtime $root 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root, dotdot"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
	done
	[ -L "$BUNDLE/rootfs$SENT/lib/libcuda.so.1" ] # '..' stopped at the container's /
	for spec in h100-host legacy-h100; do
		via_spec_hooks "$BATS_FILE_TMPDIR/$spec.json"
		sentinel_unchanged "$spec hooks run directly, dotdot"
		[ "$status" -eq 0 ]
	done
	if have_podman; then
		for IMG in "$BATS_TEST_TMPDIR/img-names" "$BATS_TEST_TMPDIR/img-dotdot"; do
			for spec in h100-host legacy-h100; do
				via_podman "$BATS_FILE_TMPDIR/$spec.json" 'probe-cuda && echo started'
				sentinel_unchanged "podman, $spec, ${IMG##*/}"
				[ "$status" -eq 0 ]
			done
		done
	fi
}

# ---------------------------------------------------------------- CVE-2024-0135/0136/0137

@test "CVE-2024-0135/0136/0137: the image's own ldconfig (scripts and a static ELF) never runs" {
	# Class: ldconfig taken from the container. The image ships /sbin/ldconfig,
	# /usr/sbin/ldconfig, /bin/ldconfig and /usr/bin/ldconfig as shell scripts and
	# /sbin/ldconfig.real, /usr/sbin/ldconfig.real as a static ELF, each writing a marker into
	# the host sentinel ($SENT/ran-*) and into the root it runs in (/ldconfig-ran*). A tool that
	# runs "ldconfig" found in the container (chrooted or not), or the host's /sbin/ldconfig
	# wrapper chrooted into the root (it execs the image's ldconfig.real), leaves a marker;
	# nvbind runs no ldconfig at all, so no marker appears, on the host or in the container.
	sentinel_init
	build_marker program "$BATS_TEST_TMPDIR/ldconfig-elf" "$SENT/ran-ldconfig.real" /ldconfig-ran-real
	hostile_rootfs ldconfig "mkdir -p sbin usr/sbin usr/bin &&
		for p in sbin/ldconfig usr/sbin/ldconfig bin/ldconfig usr/bin/ldconfig; do
			rm -f \$p
			printf '#!/bin/sh\necho \"\$0 \$*\" >>%s/ran-ldconfig\necho \"\$0\" >>/ldconfig-ran\n' '$SENT' >\$p
			chmod 0755 \$p
		done &&
		cp '$BATS_TEST_TMPDIR/ldconfig-elf' sbin/ldconfig.real &&
		cp '$BATS_TEST_TMPDIR/ldconfig-elf' usr/sbin/ldconfig.real &&
		printf 'include /etc/ld.so.conf.d/*.conf\n' >etc/ld.so.conf"
	# positive control: the payloads run when executed in the root (a copy of it)
	cp -a "$IMG" "$BATS_TEST_TMPDIR/control"
	chroot "$BATS_TEST_TMPDIR/control" /sbin/ldconfig
	chroot "$BATS_TEST_TMPDIR/control" /sbin/ldconfig.real
	[ -s "$BATS_TEST_TMPDIR/control/ldconfig-ran" ]
	[ -s "$BATS_TEST_TMPDIR/control/ldconfig-ran-real" ]
	[ "$(head -c 4 "$IMG/sbin/ldconfig.real" | od -An -c | xargs)" = "177 E L F" ]
	file "$IMG/sbin/ldconfig.real" | grep -q 'statically linked'

	for root in h100-host debian-4gpu legacy-h100; do
		via_runtime $root 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
		[ -z "$(ls "$BUNDLE"/rootfs/ldconfig-ran* 2>/dev/null)" ]
		[ ! -e "$BUNDLE/rootfs$SENT" ]
	done
	for spec in h100-host debian-4gpu legacy-h100; do
		via_spec_hooks "$BATS_FILE_TMPDIR/$spec.json"
		sentinel_unchanged "$spec hooks run directly"
		[ "$status" -eq 0 ]
		[ -z "$(ls "$HOOKED"/ldconfig-ran* "$HOOKED$SENT" 2>/dev/null)" ]
	done
	[[ "$output" == *"--ldconfig /sbin/ldconfig ignored"* ]] # the legacy hook says so
	if have_podman; then
		for spec in h100-host legacy-h100; do
			via_podman "$BATS_FILE_TMPDIR/$spec.json" 'ls /ldconfig-ran* 2>/dev/null; probe-cuda && echo started'
			sentinel_unchanged "podman, $spec"
			[ "$status" -eq 0 ]
			[[ "$output" != *ldconfig-ran* ]]
		done
	fi
	[ -z "$(ls /ldconfig-ran* 2>/dev/null)" ] # nor in the host's /
}

# ---------------------------------------------------------------------------- CVE-2025-23266

@test "CVE-2025-23266: an env-less spec hook never inherits the image's LD_PRELOAD=/proc/self/cwd/evil.so" {
	# Class: a hook with an empty env inherits the container's environment. runc runs a
	# createContainer hook without env with the container's environment and the container
	# root as working directory, so an image with ENV LD_PRELOAD=/proc/self/cwd/evil.so gets its
	# evil.so loaded into a host process running as root (the positive control shows it with
	# plain runc). With an env-less hook in an installed spec, a wrapper that passes the hook on
	# as it is gets the marker written; nvbind-runtime gives such a hook an explicit PATH-only
	# env. Through podman, nvbind's own spec hook carries its env: the image's LD_PRELOAD never
	# reaches it either.
	sentinel_init
	build_marker library "$BATS_TEST_TMPDIR/evil.so" "$SENT/preloaded"
	hostile_rootfs preload "cp '$BATS_TEST_TMPDIR/evil.so' evil.so"
	local hook='{"hookName": "createContainer", "path": "/bin/sh", "args": ["sh", "-c", "echo ran >>'"$BATS_TEST_TMPDIR"'/hook-ran"]}'
	local b="$BATS_TEST_TMPDIR/preload-bundle"
	# positive control: plain runc, the env-less hook in config.json: evil.so runs on the host
	make_bundle "$b" "$IMG" 'echo started'
	bundle_env "$b" LD_PRELOAD=/proc/self/cwd/evil.so
	bundle_edit "$b" '.hooks.createContainer = [$h | del(.hookName)]' --argjson h "$hook"
	run timeout 60 runc --root "$STATE" run -b "$b" control
	echo "$output"
	[ "$status" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/hook-ran" ]
	grep -q 'hostile payload ran' "$SENT/preloaded"
	rm -f "$SENT/preloaded" "$BATS_TEST_TMPDIR/hook-ran"
	SENT_BEFORE=$(sentinel_listing "$SENT")

	# the same hook in an installed spec of another vendor, without env
	jq -n --argjson h "$hook" '{cdiVersion: "0.5.0", kind: "example.com/hostile",
		devices: [{name: "x", containerEdits: {env: ["FROM_SPEC=1"]}}], containerEdits: {hooks: [$h]}}' \
		>"$BATS_TEST_TMPDIR/hostile-vendor.json"
	rm -rf "$b"
	make_bundle "$b" "$IMG" 'echo started'
	bundle_env "$b" LD_PRELOAD=/proc/self/cwd/evil.so NVIDIA_VISIBLE_DEVICES=all
	bundle_edit "$b" '.annotations["cdi.k8s.io/x"] = "example.com/hostile=x"'
	run timeout 60 "$WITH_SPECS" "$BATS_TEST_TMPDIR/hostile-vendor.json" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- \
		"$RUNTIME" --root "$STATE" run -b "$b" preload
	echo "$output"
	[ ! -e "$SENT/preloaded" ]
	sentinel_unchanged "nvbind-runtime"
	[ "$status" -eq 0 ]
	[[ "$output" == *started* ]]
	[ -s "$BATS_TEST_TMPDIR/hook-ran" ] # the hook ran: evil.so would have been loaded into it
	jq -e '.hooks.createContainer[0].env == ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' "$b/config.json"

	if have_podman; then
		# nvbind's generated specs: every hook has an env of its own
		for root in h100-host debian-4gpu; do
			jq -e '[.containerEdits.hooks[] | (.env | length) > 0] | all' "$BATS_FILE_TMPDIR/$root.json"
			via_podman "$BATS_FILE_TMPDIR/$root.json" 'echo started' --change 'ENV LD_PRELOAD=/proc/self/cwd/evil.so'
			sentinel_unchanged "podman, $root"
			[ "$status" -eq 0 ]
			[[ "$output" == *started* ]]
		done
	fi
}

@test "CVE-2025-23266: the spec's nvbind-hook is static, LD_PRELOAD of a real evil.so is not loaded" {
	# Class: the same, for the hook engines run themselves. nvbind-hook is linked statically:
	# with no dynamic loader in the process, LD_PRELOAD (from any environment: an engine that
	# passes the container's, a spec edited by hand) loads nothing. A dynamically linked hook
	# loads evil.so and its constructor writes the marker (the positive control: /bin/true).
	local hook
	hook=$(jq -r '.containerEdits.hooks[0].path' "$BATS_FILE_TMPDIR/h100-host.json")
	[ "${hook##*/}" = nvbind-hook ]
	if readelf -d "$hook" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
		# the sanitizer build cannot link statically: take the release build setup.sh made
		# (and installed), which is what a host runs
		for h in "$NVB_SOURCE_ROOT/build/src/nvbind-hook" /usr/local/bin/nvbind-hook; do
			[ -x "$h" ] && ! readelf -d "$h" 2>/dev/null | grep -q 'NEEDED.*libasan' && hook=$h && break
		done
	fi
	run file -L "$hook"
	echo "$output"
	if readelf -d "$hook" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
		skip "$hook is a sanitizer build (ASan cannot link statically) and no release build is there: run ./setup.sh"
	fi
	[[ "$output" == *"statically linked"* || "$output" == *"static-pie linked"* ]]
	[ -z "$(readelf -l "$hook" | grep 'Requesting program interpreter')" ]
	sentinel_init
	build_marker library "$BATS_TEST_TMPDIR/evil.so" "$SENT/preloaded"
	# positive control: a dynamic program loads it
	env LD_PRELOAD="$BATS_TEST_TMPDIR/evil.so" /bin/true
	grep -q 'hostile payload ran' "$SENT/preloaded"
	rm -f "$SENT/preloaded"
	SENT_BEFORE=$(sentinel_listing "$SENT")
	hostile_rootfs static "cp '$BATS_TEST_TMPDIR/evil.so' evil.so"
	hook_state "$IMG"
	mapfile -t args < <(jq -r '.containerEdits.hooks[0].args[1:][]' "$BATS_FILE_TMPDIR/h100-host.json")
	for preload in "$BATS_TEST_TMPDIR/evil.so" /proc/self/cwd/evil.so; do
		run bash -c 'cd "$1" && p=$2 && shift 2 && exec env -i PATH=/usr/bin:/bin LD_PRELOAD="$p" "$@"' _ \
			"$IMG" "$preload" "$hook" "${args[@]}" <"$HOOK_STATE"
		echo "$output"
		[ "$status" -eq 0 ]
		[ ! -e "$SENT/preloaded" ]
		[ "$(readlink "$IMG/usr/local/nvidia/lib64/libcuda.so.1")" = libcuda.so.580.159.04 ]
	done
	sentinel_unchanged "nvbind-hook with LD_PRELOAD"
}

# ---------------------------------------------------------------------------- CVE-2025-23267

# the three images of CVE-2025-23267 and review finding 1, in $BATS_TEST_TMPDIR/img-*
#  cache-link: /etc/ld.so.cache an absolute symlink to a host cache; /etc/ld.so.conf lists
#              /proc/1/root$SENT/lib and /; libevil.so.1 (SONAME ../proc/1/root$SENT/x) in /,
#              /lib and both library folders, in which a file is at the name the SONAME gives
#  etc-host:   /etc an absolute symlink to the sentinel itself (which has an ld.so.cache)
#  proc-links: /etc/ld.so.cache, /etc/ld.so.conf.d and the library folders are symlinks
#              through /proc/1/root and /proc/self/root to the sentinel
make_23267_images() {
	local evil="../proc/1/root$SENT/x"
	printf 'int nvbind_evil(void) { return 1; }\n' |
		cc -shared -fPIC "-Wl,-soname,$evil" -o "$BATS_TEST_TMPDIR/libevil.so.1" -x c -
	readelf -d "$BATS_TEST_TMPDIR/libevil.so.1" | grep -qF "[$evil]"
	hostile_rootfs cache-link "ln -s '$SENT/ld.so.cache' etc/ld.so.cache &&
		printf 'include /etc/ld.so.conf.d/*.conf\n/proc/1/root%s/lib\n/\n/lib\n' '$SENT' >etc/ld.so.conf &&
		mkdir -p usr/local/nvidia/lib64 usr/lib/x86_64-linux-gnu &&
		for d in . lib usr/local/nvidia/lib64 usr/lib/x86_64-linux-gnu; do
			cp '$BATS_TEST_TMPDIR/libevil.so.1' \$d/
		done &&
		for d in usr/local/nvidia/lib64 usr/lib/x86_64-linux-gnu; do
			mkdir -p \"\$d/${evil%/x}\" && : >\"\$d/$evil\"
		done"
	hostile_rootfs etc-host "mkdir -p '.$SENT' && mv etc '.$SENT/etc' && ln -s '$SENT' etc"
	hostile_rootfs proc-links "mkdir -p usr/local/nvidia usr/lib &&
		ln -s '/proc/1/root$SENT/ld.so.cache' etc/ld.so.cache &&
		ln -s '/proc/1/root$SENT/conf' etc/ld.so.conf.d &&
		ln -s '/proc/1/root$SENT/lib' usr/local/nvidia/lib64 &&
		ln -s '/proc/self/root$SENT/lib' usr/lib/x86_64-linux-gnu &&
		printf '/proc/1/root%s/lib\n' '$SENT' >etc/ld.so.conf"
}

# the files these images aim at, one of which an error must name when the container is refused
FILES_23267="ld.so.cache ld.so.conf.d /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /etc"

# what runs in a container of these images: probe-cuda must load libcuda.so.1, except in
# proc-links, whose own library folders lead through /proc, which the container's procfs hides
# (its loader cannot follow them: the image's business; that the container starts is checked)
script_23267() {
	case "$IMG" in
	*proc-links) echo 'echo started; probe-cuda; true' ;;
	*) echo 'probe-cuda && echo started' ;;
	esac
}

# cache_clean ROOT: after a run that wrote the container's cache: in image cache-link the
# image's symlink was replaced (not written through), and no entry names the image's
# '../proc/1/root' SONAME, libevil or the host's libsentinel
cache_clean() {
	local root=$1
	[[ "$IMG" != *cache-link ]] || [ ! -L "$root/etc/ld.so.cache" ]
	[ -f "$root/etc/ld.so.cache" ] || return 0
	run ! grep -aqe 'proc/1/root' -e libevil -e libsentinel "$root/etc/ld.so.cache"
}

@test "CVE-2025-23267: ld.so.cache and /etc as links to the host, /proc/1/root in ld.so.conf, a '../proc' SONAME" {
	# Class: update-ldcache (ldconfig) following links the image planted. A tool running
	# ldconfig on the root reads the image's /etc/ld.so.conf, scans /proc/1/root$SENT/lib (the
	# host's, through the container's /proc) and creates $SENT/lib/libsentinel.so.1 there; it
	# makes libevil's SONAME link "/../proc/1/root$SENT/x" on the host; and it writes
	# /etc/ld.so.cache through the image's symlink (into $SENT/ld.so.cache, or $SENT/ld.so.cache
	# via /etc -> $SENT). nvbind reads no ld.so.conf, makes no link from a SONAME found in an
	# image file, and replaces the cache by renaming over the name: the sentinel is unchanged,
	# and the container starts (or is refused with an error naming the file).
	sentinel_init
	make_23267_images
	for IMG in "$BATS_TEST_TMPDIR"/img-{cache-link,etc-host,proc-links}; do
		for root in h100-host debian-4gpu legacy-h100; do
			via_runtime $root "$(script_23267)"
			sentinel_unchanged "nvbind-runtime, $root, ${IMG##*/}"
			expect_started_or_named $FILES_23267
			cache_clean "$BUNDLE/rootfs"
		done
		for spec in h100-host legacy-h100; do
			via_spec_hooks "$BATS_FILE_TMPDIR/$spec.json"
			sentinel_unchanged "$spec hooks run directly, ${IMG##*/}"
			[ "$status" -eq 0 ] || expect_started_or_named $FILES_23267
			# (the legacy hooks write no cache here: no driver library is mounted in $HOOKED)
			[ "$spec" = legacy-h100 ] || cache_clean "$HOOKED"
		done
	done
	[ -z "$(find "$SENT" -name 'libsentinel.so.1' -o -name x)" ]
}

@test "review finding 1: the /proc/1/root ld.so.conf escape through podman's CDI path (the hook sees the container's /proc)" {
	# The spec's hook works in the container's mount namespace, with the container's /proc
	# mounted in its root: there /proc/1/root is the host's / (the positive control, a hook of
	# the spec's own run first, at createRuntime too, in that mount namespace (nsenter), lists
	# the host sentinel through <root>/proc/1/root). An ldconfig run on that root following the
	# image's ld.so.conf, or a cache written through /etc/ld.so.cache -> /proc/1/root/..., writes
	# on the host. Through podman, with nvbind's spec and with a legacy spec, for the three
	# images of CVE-2025-23267: the sentinel is unchanged.
	have_podman || skip "podman is not installed"
	sentinel_init
	make_23267_images
	local probe="$BATS_TEST_TMPDIR/proc-view"
	for spec in h100-host legacy-h100; do
		# the control hook, before the spec's own: what the container's /proc shows of the host
		jq --arg out "$probe" --arg sent "$SENT" '.containerEdits.hooks = [{hookName: "createRuntime",
			path: "/bin/sh", env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], args: ["sh", "-c",
			"s=$(cat); r=$(jq -r .root.path \"$(echo \"$s\" | jq -r .bundle)/config.json\"); nsenter -t \"$(echo \"$s\" | jq -r .pid)\" -m ls \"$r/proc/1/root\($sent)/lib\" >>\($out) 2>&1; true"]}] + .containerEdits.hooks' \
			"$BATS_FILE_TMPDIR/$spec.json" >"$BATS_TEST_TMPDIR/$spec-probe.json"
		for IMG in "$BATS_TEST_TMPDIR"/img-{cache-link,etc-host,proc-links}; do
			rm -f "$probe"
			via_podman "$BATS_TEST_TMPDIR/$spec-probe.json" "$(script_23267)"
			sentinel_unchanged "podman, $spec, ${IMG##*/}"
			expect_started_or_named $FILES_23267
			# the control: through the container's /proc the hook reached the host sentinel
			grep -qx libsentinel.so.1.0 "$probe"
		done
	done
}

# -------------------------------------------------------------------- review finding 5

@test "review finding 5: an LD_ variable name of 200 characters does not hang 'nvbind hook create-symlinks'" {
	# An env-less legacy hook gets the container's environment from runc (see CVE-2025-23266):
	# the image chooses the names. The hook clears LD_* variables before anything else; one that
	# copies the name into a fixed buffer and unsets the truncated name never removes it and
	# loops for ever (or overflows): the run times out (124) or the sanitizer stops it. Names of
	# 200 and 5000 characters, one hundred of them, and one whose value holds another '='.
	local long200 long5000 envs=() i
	long200="LD_$(head -c 197 /dev/zero | tr '\0' A)"
	long5000="LD_$(head -c 4997 /dev/zero | tr '\0' B)"
	envs=("$long200=1" "$long5000=2" "${long200}x=a=b")
	for ((i = 0; i < 100; i++)); do envs+=("LD_${i}_$(head -c 190 /dev/zero | tr '\0' C)=$i"); done
	hostile_rootfs longenv :
	hook_state "$IMG"
	run timeout 10 env "${envs[@]}" "$NVBIND" hook create-symlinks \
		--link libcuda.so.580.159.04::/usr/local/nvidia/lib64/libcuda.so.1 <"$HOOK_STATE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(readlink "$IMG/usr/local/nvidia/lib64/libcuda.so.1")" = libcuda.so.580.159.04 ]
	# end to end: an env-less legacy hook, the image's ENV holding the 200-character name
	have_podman || return 0
	jq '.containerEdits.hooks |= map(del(.env))' "$BATS_FILE_TMPDIR/legacy-h100.json" \
		>"$BATS_TEST_TMPDIR/envless-legacy.json"
	via_podman "$BATS_TEST_TMPDIR/envless-legacy.json" 'readlink /usr/local/nvidia/lib64/libcuda.so.1; echo started' \
		--change "ENV $long200=1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libcuda.so.580.159.04"* ]]
	[[ "$output" == *started* ]]
}

# ------------------------------------------------------------ found while writing this suite

@test "hostile image: FIFOs at the names of the hook's temporary files never block it" {
	# runc runs createContainer hooks from `runc init`, inside the container's pid namespace
	# (runc init is pid 1 there): the hook's pid, and any file name made from it, is small and
	# known in advance. An image that plants FIFOs at those names, e.g.
	# /etc/ld.so.conf.d/.00-nvbind.conf.1 ... .64, makes a writer that opens its temporary file
	# with O_CREAT but without O_EXCL (or O_NONBLOCK) block for ever in open(), and with it runc
	# and the engine: `podman run` of such an image never returns. A safe writer makes its
	# temporary files with O_EXCL or replaces what is there, and never waits on a FIFO.
	# The hook is run directly with its pid known (exec keeps the shell's), under timeout 10:
	# it must finish, with the links and the loader configuration written, or fail naming the file.
	hostile_rootfs fifos 'mkdir -p etc/ld.so.conf.d usr/local/nvidia/lib64'
	hook_state "$IMG"
	local hook spec="$BATS_FILE_TMPDIR/h100-host.json"
	hook=$(jq -r '.containerEdits.hooks[0].path' "$spec")
	mapfile -t args < <(jq -r '.containerEdits.hooks[0].args[1:][]' "$spec")
	run timeout 10 bash -c 'root=$1; shift
		mkfifo "$root/etc/ld.so.conf.d/.00-nvbind.conf.$$" \
			"$root/usr/local/nvidia/lib64/.libcuda.so.1.nvbind-$$" \
			"$root/usr/local/nvidia/lib64/.libnvidia-ml.so.1.nvbind-$$"
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' _ "$IMG" "$hook" "${args[@]}" <"$HOOK_STATE"
	echo "status $status: $output"
	[ "$status" -ne 124 ] # 124: the hook blocked on a FIFO of the image until timeout killed it
	if [ "$status" -eq 0 ]; then
		[ "$(readlink "$IMG/usr/local/nvidia/lib64/libcuda.so.1")" = libcuda.so.580.159.04 ]
		grep -qx /usr/local/nvidia/lib64 "$IMG/etc/ld.so.conf.d/00-nvbind.conf"
	else
		[[ "$output" == *"00-nvbind.conf"* || "$output" == *"libcuda.so.1"* ]]
	fi
}

# ------------------------------------------------------------------ the driver folder

@test "driver folder: the places of programs, configuration files and firmware, /usr/lib/nvbind and /etc are absolute symlinks to host paths" {
	# The driver folder layout writes no library link into the image; it links each program,
	# configuration and firmware file at its place (/usr/bin/nvidia-smi, /usr/share/...,
	# /lib/firmware/...) and mounts the folder at /usr/lib/nvbind. Here all of those places
	# are absolute symlinks into the host sentinel. Resolved inside the root, the links land at
	# <root>$SENT/..., and the folder's mount too (runc resolves destinations in the root).
	sentinel_init
	hostile_rootfs folder-links 'mkdir -p ".$SENT/conf" ".$SENT/lib" ".$SENT/fw" lib usr/lib &&
		mv usr/bin/* ".$SENT/" && rmdir usr/bin && ln -s "$SENT" usr/bin &&
		rm -rf usr/share && ln -s "$SENT/conf" usr/share &&
		rm -rf lib/firmware && ln -s "$SENT/fw" lib/firmware &&
		ln -s "$SENT/lib" usr/lib/nvbind &&
		mv etc ".$SENT/etc" && ln -s "$SENT/etc" etc'
	for root in h100-host debian-4gpu; do
		jq -e '.containerEdits.mounts[] | select(.containerPath == "/usr/lib/nvbind")' "$BATS_FILE_TMPDIR/$root-folder.json" >/dev/null
		via_runtime $root-folder 'probe-cuda && echo started'
		sentinel_unchanged "nvbind-runtime, $root, driver folder"
		[ "$status" -eq 0 ]
		[[ "$output" == *"nvbind-standin libcuda"* ]]
		# the program's link and the cache went where the symlinks lead inside the container
		[ "$(readlink "$BUNDLE/rootfs$SENT/nvidia-smi")" = /usr/lib/nvbind/bin/nvidia-smi ]
		[ -f "$BUNDLE/rootfs$SENT/etc/ld.so.cache" ]
	done
	via_spec_hooks "$BATS_FILE_TMPDIR/debian-4gpu-folder.json"
	sentinel_unchanged "nvbind-hook run directly, driver folder"
	[ "$status" -eq 0 ]
	[ "$(readlink "$HOOKED$SENT/nvidia-smi")" = /usr/lib/nvbind/bin/nvidia-smi ]
	if have_podman; then
		for root in h100-host debian-4gpu; do
			via_podman "$BATS_FILE_TMPDIR/$root-folder.json" 'probe-cuda && nvidia-smi -L && echo started'
			sentinel_unchanged "podman, $root, driver folder"
			[ "$status" -eq 0 ]
			[[ "$output" == *"nvbind-standin libcuda"* ]]
		done
	fi
}

@test "driver folder: an image's own files at the links' places are replaced in the container, a directory there is named" {
	sentinel_init
	# a stale nvidia-smi of another driver, an empty mount point left by docker commit
	hostile_rootfs folder-stale 'printf "#!/bin/sh\necho stale nvidia-smi\n" >usr/bin/nvidia-smi &&
		chmod +x usr/bin/nvidia-smi && : >usr/bin/nvidia-debugdump'
	via_runtime h100-host-folder 'nvidia-smi -L && echo started'
	[ "$status" -eq 0 ]
	[[ "$output" != *"stale nvidia-smi"* ]]
	[[ "$output" == *"GPU 0: NVIDIA H100"* ]]
	[ "$(readlink "$BUNDLE/rootfs/usr/bin/nvidia-debugdump")" = /usr/lib/nvbind/bin/nvidia-debugdump ]
	hostile_rootfs folder-dir 'mkdir -p usr/bin/nvidia-smi/x'
	via_runtime h100-host-folder 'echo started'
	[ "$status" -ne 0 ]
	[[ "$output" == *"/usr/bin/nvidia-smi"* ]]
	sentinel_unchanged "stale files"
}
