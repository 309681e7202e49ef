#!/usr/bin/env bash
# nvbind benchmark suite: one command, one table (docs/benchmarks.md explains every figure).
#
#   bench/run.sh [--quick] [--headline] [--rounds N] [--real-host] [--out FILE]
#
#   --quick      fewer runs per figure (a smoke test of the suite, about 30 s)
#   --headline   only the headline figure (H) and the wrapper's stub rows (2a)
#   --rounds N   rounds of the headline figure (default 600, as docs/benchmarks.md reports; about
#                12 minutes on a 2-vCPU VM; its confidence interval narrows
#                with the square root of N)
#   --real-host  also figure 1 on this machine's own root (/): for real GPU hosts; fails unless
#                nvbind info finds a GPU there
#   --out FILE   also write the table (Markdown) to FILE
#
# Builds a release tree (build-bench/: meson --buildtype=release, ninja), builds the fixture
# roots it needs (h100-host from ../shared/fixtures, and the scaling roots of
# bench/gen-manifests.py), then measures, each figure interleaved with its baseline (rounds
# alternate target and baseline, ABBA order) in the same run:
#
#   H  the headline: what a GPU adds to `runc create` with the real runc, in both ways a GPU
#      reaches a container, against `runc create` of the same config without a GPU: through
#      nvbind-runtime (NVIDIA_VISIBLE_DEVICES=all, the spec installed), and through the CDI
#      edits alone (the config.json an engine such as podman hands runc for
#      --device nvidia.com/gpu=all: the spec's mounts and nodes and its one nvbind-hook
#      hook, at createRuntime, made by nvb_runtime_prepare without a bundle). Breakdown: mounts
#      and nodes alone, the hook alone, the wrapper alone (against runc create of the config
#      it writes). Each run gets a fresh overlay root (lower: a pristine image; upper under
#      build-bench/), as containerd's snapshotter gives every container, so the links and the
#      loader cache are really written every time. The added median comes with the
#      interquartile range of the paired differences and a 95% confidence interval.
#   1  nvbind info --json [--no-nvml], nvbind cdi generate (to a file, and to stdout) on the
#      h100-host root; baseline: ldconfig -p -C ROOT/etc/ld.so.cache (merely reading the cache).
#   2  nvbind-runtime create alone (a stub "runc" first in PATH, so the wrapper's own time and
#      peak RSS) and its pass-through (`state`); a whole `runc run` of true with and without
#      nvbind (runc delete -f between runs, untimed). The GPU is requested with
#      NVIDIA_VISIBLE_DEVICES=0 (H: all). The CDI
#      spec is installed in a private mount namespace (tests/e2e/helpers/with-cdi-specs), so the
#      machine's /etc/cdi is never touched; runc state lives under build-bench/, bundles on a
#      tmpfs under /dev/shm (as containerd's), plus "on disk" variants under build-bench/.
#   3  in-process nvb_oci_apply_edits and nvb_runtime_prepare (bench/bench_apply.c), 10,000
#      iterations; baseline: reading and parsing the same config.json.
#   4  scaling: cdi generate and apply with 1, 8 and 64 GPUs and with 300 libraries.
#
# Every timed run is checked (exit status, the spec written, the GPU found by info, the device
# node inside each created container, the edit in config.json): work that did not happen exits
# non-zero with what went wrong. Slowness never fails: the table says which budgets are met.
# Wall time per run and peak RSS come from bench/measure.c (fork/exec, CLOCK_MONOTONIC, wait4's
# ru_maxrss), per process.
#
# Needs: root (mknod in fixture roots, runc, unshare -m), runc, jq, python3, cc, meson, ninja,
# busybox. Takes about 2 minutes on 2 cores (--quick: fewer runs, for a smoke test).
# Output: the table on stdout and in build-bench/bench-work/report.md (and --out FILE); raw
# samples in build-bench/bench-work/samples.tsv ("label round ns maxrss_kib").
# nvbind runs with a configuration file of the suite's own (NVBIND_CONFIG): defaults, except
# the wrapper's log file, build-bench/bench-work/logs/nvbind-runtime.log.
# Side effects outside build-bench/: a temporary /dev/shm/nvbind-bench.* (removed on exit) and
# runc cgroups while containers exist. NVB_BENCH_BUILD=DIR: another build tree.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${NVB_BENCH_BUILD:-$REPO/build-bench}
WORK=$BUILD/bench-work
OUT=
QUICK=0
HEAD_ONLY=0
REAL_HOST=0
ROUNDS=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--headline) HEAD_ONLY=1 ;;
	--real-host) REAL_HOST=1 ;;
	--rounds)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "bench/run.sh: --rounds needs a positive number" >&2; exit 2; }
		ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: bench/run.sh [--quick] [--headline] [--rounds N] [--real-host] [--out FILE]" >&2; exit 2 ;;
	esac
	shift
done

# runs per figure. N_HEAD: rounds of the headline figure; the paired differences of runc
# create spread over several milliseconds on a shared VM, so the median of 300 is needed for
# its confidence interval to be well under the 3 ms at stake (the table prints it).
if [ "$QUICK" = 1 ]; then
	N_CLI=30 N_WRAP=40 N_RUNC=10 N_HEAD=12 N_APPLY=1000 N_SCALE_GEN=20 N_SCALE_APPLY=300
else
	N_CLI=200 N_WRAP=200 N_RUNC=100 N_HEAD=600 N_APPLY=10000 N_SCALE_GEN=100 N_SCALE_APPLY=2000
fi
N_HEAD=${ROUNDS:-$N_HEAD}

die() { echo "bench: error: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }
T_START=$(date +%s)

[ "$(id -u)" = 0 ] || die "run as root: fixture roots need mknod, runc and unshare -m need root"
for tool in runc jq python3 cc meson ninja unshare busybox ldconfig; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done

# ------------------------------------------------------------------------------ build
step "release build in $BUILD"
mkdir -p "$BUILD"
if [ -f "$BUILD/build.ninja" ]; then
	meson configure "$BUILD" -Dbuildtype=release -Dtests=false >"$BUILD/bench-build.log" 2>&1
else
	rm -rf "$BUILD/meson-private" "$BUILD/meson-info" # an earlier setup that failed half-way
	meson setup "$BUILD" --buildtype=release -Dtests=false >"$BUILD/bench-build.log" 2>&1
fi || { tail -20 "$BUILD/bench-build.log" >&2; die "meson setup failed"; }
ninja -C "$BUILD" >>"$BUILD/bench-build.log" 2>&1 || { tail -40 "$BUILD/bench-build.log" >&2; die "build failed"; }
NVBIND=$BUILD/src/nvbind
RUNTIME=$BUILD/src/nvbind-runtime
# The glibc builds of the wrapper and the hook, measured beside the musl ones that an install
# puts on the start path (src/musl/meson.build) where musl-tools is installed
RUNTIME_GLIBC=$RUNTIME
HOOK_GLIBC=$BUILD/src/nvbind-hook
LIBC=glibc
if [ -x "$BUILD/src/musl/nvbind-runtime" ] && [ -x "$BUILD/src/musl/nvbind-hook" ]; then
	# as installed: nvbind beside them (a hard link), so the specs it writes name the musl hook
	ln -f "$NVBIND" "$BUILD/src/musl/nvbind"
	NVBIND=$BUILD/src/musl/nvbind
	RUNTIME=$BUILD/src/musl/nvbind-runtime
	LIBC=musl
fi
MEASURE=$BUILD/bench/measure
APPLY=$BUILD/bench/bench_apply
STUB=$BUILD/bench/stub-runc
for f in "$NVBIND" "$RUNTIME" "$MEASURE" "$APPLY" "$STUB"; do
	[ -x "$f" ] || die "$f was not built (is subdir('bench') in meson.build?)"
done

STATE=$WORK/runc-state
BT=
cleanup() {
	local id
	if [ -d "$STATE" ]; then
		for id in $(runc --root "$STATE" list -q 2>/dev/null); do
			runc --root "$STATE" delete -f "$id" >/dev/null 2>&1 || true
		done
	fi
	case $BT in /dev/shm/nvbind-bench.*) rm -rf "$BT" ;; esac
}
trap cleanup EXIT
cleanup
rm -rf "$WORK"
mkdir -p "$WORK"/{roots,specs,bundles,configs,bin,stubbin,logs}
# nvbind's configuration: a file of the suite's own, so that a /etc/nvbind/config.toml on this
# machine changes nothing measured, and the wrapper logs under bench-work/ instead of /var/log.
cat >"$WORK/config.toml" <<CONFIG
[runtime]
log_file = "$WORK/logs/nvbind-runtime.log"
CONFIG
export NVBIND_CONFIG=$WORK/config.toml
unset NVBIND_ROOT NVBIND_LOG_LEVEL XDG_CONFIG_HOME
SAMPLES=$WORK/samples.tsv
ROWS=$WORK/rows.tsv
: >"$SAMPLES"
: >"$ROWS"
export TMPDIR=$WORK/logs

# row FIG WHAT TARGET_LABEL BASELINE_LABEL BASELINE_WHAT UNIT BUDGET
row() { local IFS=$'\t'; echo "$*" >>"$ROWS"; }

# ------------------------------------------------------------------------------ machine
cpu=$(awk -F': ' '/^model name/ && !n++ {print $2}' /proc/cpuinfo)
[ -n "$cpu" ] || cpu=$(uname -m)
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu: $cpu"
	echo "cores: $(nproc) online ($(grep -c ^processor /proc/cpuinfo) listed)"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "kernel: $(uname -sr)"
	echo "os: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
	echo "runc: $(runc --version | awk 'NR == 1')"
	echo "cc: $(cc --version | awk 'NR == 1')"
	echo "nvbind: $("$NVBIND" --version 2>&1 | awk 'NR == 1'), release build ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD -- src include 2>/dev/null || echo ', src modified'))"
	echo "nvbind-runtime and nvbind-hook: static, $LIBC$([ "$LIBC" = musl ] && echo " (the glibc builds measured beside them in the headline)")"
	echo "mode: $([ "$QUICK" = 1 ] && echo "quick (fewer runs)" || echo full)$([ "$HEAD_ONLY" = 1 ] && echo ", headline figure only")"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/machine.txt"
sed 's/^/   /' "$WORK/machine.txt" >&2

# ------------------------------------------------------------------------------ fixture roots
step "fixture roots"
CC_CACHE=$BUILD/bench-standin-cache # compiled stand-ins, kept between runs
FIXTURE=(python3 "$REPO/tests/fixtures/nvbind-fixture" -q --cache "$CC_CACHE")
export NVB_SHARED_FIXTURES=${NVB_SHARED_FIXTURES:-$REPO/../shared/fixtures}
"${FIXTURE[@]}" build h100-host "$WORK/roots/h100-host" >"$WORK/logs/fixture-h100.log" 2>&1 ||
	{ cat "$WORK/logs/fixture-h100.log" >&2; die "building the h100-host root failed"; }
python3 "$REPO/bench/gen-manifests.py" "$WORK/manifests"
diff -q <(grep -v '^#' "$REPO/bench/roots/gpus-1.toml") <(grep -v '^#' "$WORK/manifests/gpus-1.toml") >/dev/null ||
	echo "   note: bench/roots/gpus-1.toml differs from what gen-manifests.py writes; the latter is used" >&2
SCALE_ROOTS=(gpus-1 gpus-8 gpus-64 libs-300)
[ "$HEAD_ONLY" = 1 ] && SCALE_ROOTS=()
for r in ${SCALE_ROOTS[@]+"${SCALE_ROOTS[@]}"}; do
	"${FIXTURE[@]}" build "$WORK/manifests/$r.toml" "$WORK/roots/$r" >"$WORK/logs/fixture-$r.log" 2>&1 ||
		{ cat "$WORK/logs/fixture-$r.log" >&2; die "building the $r root failed"; }
done
H100=$WORK/roots/h100-host
for r in h100-host ${SCALE_ROOTS[@]+"${SCALE_ROOTS[@]}"}; do
	dn=$(jq -r .device_nodes "$WORK/roots/$r/.nvbind-fixture")
	[ "$dn" = created ] || die "$r: device nodes were not created ($dn)"
done
H100_UUID=$(jq -r '.gpus[0].uuid' "$H100/.nvbind-fixture")
case $H100_UUID in GPU-*) ;; *) die "h100-host has no GPU in its marker" ;; esac

# ------------------------------------------------------------------------------ 1: CLI
GEN_OUT=$WORK/specs/gen-h100.json
if [ "$HEAD_ONLY" = 1 ]; then
	"$NVBIND" --root "$H100" cdi generate --output "$GEN_OUT" || die "cdi generate failed on h100-host"
else
	step "1: info and cdi generate on h100-host ($N_CLI runs each, interleaved)"
	"$MEASURE" -n "$N_CLI" -w 3 -o "$SAMPLES" \
		true -- /bin/true --- \
		static-exit -- "$STUB" --- \
		version --expect-stdout "nvbind" -- "$NVBIND" --version --- \
		info --expect-stdout "\"uuid\": \"$H100_UUID\"" -- "$NVBIND" --root "$H100" info --json --- \
		info-nonvml --expect-stdout "\"uuid\": \"$H100_UUID\"" -- "$NVBIND" --root "$H100" info --json --no-nvml --- \
		generate --rm "$GEN_OUT" --expect-file "$GEN_OUT" -- "$NVBIND" --root "$H100" cdi generate --output "$GEN_OUT" --- \
		generate-stdout --expect-stdout "nvidia.com/gpu" -- "$NVBIND" --root "$H100" cdi generate --output - --- \
		ldconfig --expect-stdout "libcuda.so.1 " -- ldconfig -p -C "$H100/etc/ld.so.cache"
	row 0 "process floor: /bin/true (dynamic, libc only)" true static-exit "a static program that exits at once (stub-runc)" ms "-"
	row 1 "nvbind --version (start-up: loader, libc, jansson, libyaml)" version ldconfig "ldconfig -p -C ROOT/etc/ld.so.cache" ms "-"
	row 1 "nvbind info --json (h100-host)" info ldconfig "ldconfig -p -C ROOT/etc/ld.so.cache" ms "time:2,rss:4"
	row 1 "nvbind info --json --no-nvml" info-nonvml ldconfig "ldconfig -p -C ROOT/etc/ld.so.cache" ms "time:2,rss:4"
	row 1 "nvbind cdi generate --output FILE (fsync, rename)" generate ldconfig "ldconfig -p -C ROOT/etc/ld.so.cache" ms "time:2,rss:4"
	row 1 "nvbind cdi generate --output - (stdout)" generate-stdout ldconfig "ldconfig -p -C ROOT/etc/ld.so.cache" ms "time:2,rss:4"
fi
# the last spec written must be a complete one: one GPU by index and UUID, plus "all"
jq -e --arg u "$H100_UUID" '[.devices[].name] | index("0") != null and index($u) != null and index("all") != null' \
	"$GEN_OUT" >/dev/null || die "cdi generate wrote a spec without the H100: $GEN_OUT"
"$NVBIND" cdi validate "$GEN_OUT" >/dev/null || die "the generated spec does not validate"
[ "$("$NVBIND" --root "$H100" info --json | jq '.gpus | length')" = 1 ] || die "info does not find the one H100"

if [ "$REAL_HOST" = 1 ]; then
	step "1 (real host): info and cdi generate on / ($N_CLI runs each, interleaved)"
	n_real=$({ "$NVBIND" info --json 2>/dev/null || true; } | jq '.gpus | length' 2>/dev/null || true)
	[ "$n_real" -ge 1 ] 2>/dev/null || die "--real-host: nvbind info finds no GPU on this machine"
	REAL_OUT=$WORK/specs/gen-real-host.json
	"$MEASURE" -n "$N_CLI" -w 3 -o "$SAMPLES" \
		real-info --expect-stdout '"uuid": "GPU-' -- "$NVBIND" info --json --- \
		real-info-nonvml --expect-stdout '"uuid": "GPU-' -- "$NVBIND" info --json --no-nvml --- \
		real-generate --rm "$REAL_OUT" --expect-file "$REAL_OUT" -- "$NVBIND" cdi generate --output "$REAL_OUT" --- \
		real-ldconfig --expect-stdout "libcuda.so.1 " -- ldconfig -p
	jq -e '[.devices[].name] | index("all") != null' "$REAL_OUT" >/dev/null || die "--real-host: the spec has no devices"
	row 1 "real host: nvbind info --json ($n_real GPU)" real-info real-ldconfig "ldconfig -p" ms "time:2,rss:4"
	row 1 "real host: nvbind info --json --no-nvml" real-info-nonvml real-ldconfig "ldconfig -p" ms "time:2,rss:4"
	row 1 "real host: nvbind cdi generate --output FILE" real-generate real-ldconfig "ldconfig -p" ms "time:2,rss:4"
fi

# ------------------------------------------------------------------------------ 2: runtime wrapper
step "2: nvbind-runtime (spec installed in a private mount namespace)"
SPEC=$WORK/specs/nvidia.com-gpu.json
cp "$GEN_OUT" "$SPEC"
export E2E_DIR=$REPO/tests/e2e
# shellcheck source=tests/e2e/helpers/image.bash
. "$REPO/tests/e2e/helpers/image.bash"
make_rootfs "$WORK/rootfs"
WITH_SPECS=$REPO/tests/e2e/helpers/with-cdi-specs

# A typical config.json: runc spec, a shared rootfs, a few env vars of a CUDA image, the GPU
# requested with NVIDIA_VISIBLE_DEVICES=0 (docker run -e / --gpus path).
mkdir -p "$WORK/configs/spec"
(cd "$WORK/configs/spec" && runc spec)
jq --arg r "$WORK/rootfs" '.root.path = $r | .root.readonly = false | .process.terminal = false |
	.process.args = ["/bin/true"] |
	.process.env += ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility",
		"CUDA_VERSION=12.4.1", "LANG=C.UTF-8", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64",
		"NV_CUDA_LIB_VERSION=12.4.1-1", "NVARCH=x86_64"]' \
	"$WORK/configs/spec/config.json" >"$WORK/configs/orig.json"
# the same without a GPU request (figure 3 asks by CDI annotation instead)
jq '.process.env |= map(select(startswith("NVIDIA_VISIBLE_DEVICES=") | not))' \
	"$WORK/configs/orig.json" >"$WORK/configs/nogpu.json"

# Bundles: config.json is rewritten from configs/ before every run (the wrapper edits it in
# place). They live on tmpfs, as containerd's do (/run/containerd/...; /run is a tmpfs on most
# hosts), except the "-disk" ones on build-bench's file system (podman keeps config.json under
# /var/lib/containers): there a save that fsync()ed would pay for it (it no longer does).
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	BT=$(mktemp -d /dev/shm/nvbind-bench.XXXXXX)
	BT_FS=tmpfs
else
	BT=$WORK/bundles-mem
	BT_FS="$(stat -f -c %T "$WORK") (no tmpfs at /dev/shm)"
fi
DISK_FS=$(stat -f -c %T "$WORK")
echo "   bundles: $BT ($BT_FS); -disk bundles: $WORK/bundles ($DISK_FS)" >&2
echo "bundles: $BT_FS (containerd-like); \"on disk\" rows: $DISK_FS" >>"$WORK/machine.txt"
# nvbind's state directory (container records, the counters nvbind serve exports) is /run/nvbind,
# a tmpfs on every systemd host. Where this machine's /run is on its disk (a VM image without
# systemd), a tmpfs one stands in: a rename over the counters on ext4 starts a data flush
# (auto_da_alloc) that no real host pays.
RUN_FS=$(stat -f -c %T /run 2>/dev/null || echo unknown)
if [ "$RUN_FS" != tmpfs ] && [ "$BT_FS" = tmpfs ]; then
	export NVBIND_STATE_DIR=$BT/state
	echo "nvbind state dir: $NVBIND_STATE_DIR (tmpfs; this machine's /run is $RUN_FS)" >>"$WORK/machine.txt"
else
	echo "nvbind state dir: /run/nvbind ($RUN_FS)" >>"$WORK/machine.txt"
fi
for b in wrap stub run-nvb run-runc run-runc-edited probe edit; do
	mkdir -p "$BT/$b"
done
mkdir -p "$WORK/bundles/wrap-disk"
cp "$STUB" "$WORK/stubbin/runc"
STUBPATH=$WORK/stubbin:$PATH

# the config nvbind writes: the wrapper once with the stub runc
cp "$WORK/configs/orig.json" "$BT/edit/config.json"
"$WITH_SPECS" "$SPEC" -- env PATH="$STUBPATH" STUB_EXPECT=/dev/nvidia0 \
	"$RUNTIME" --root "$STATE" create -b "$BT/edit" c-edit ||
	die "nvbind-runtime did not edit the bundle"
cp "$BT/edit/config.json" "$WORK/configs/edited.json"
jq -e '[.linux.devices[].path] | index("/dev/nvidia0") != null' "$WORK/configs/edited.json" >/dev/null ||
	die "the edited config.json has no /dev/nvidia0"

# the container really gets the GPU: device node and the stand-in libcuda through ld.so.cache
jq '.process.args = ["/bin/sh", "-c", "test -c /dev/nvidia0 && probe-cuda"]' "$WORK/configs/orig.json" \
	>"$BT/probe/config.json"
probe_out=$("$WITH_SPECS" "$SPEC" -- "$RUNTIME" --root "$STATE" run -b "$BT/probe" c-probe 2>&1 </dev/null) ||
	die "a container run through nvbind-runtime failed: $probe_out"
[[ "$probe_out" == *"nvbind-standin libcuda"* ]] || die "the container did not load the injected libcuda: $probe_out"
echo "   container check: $probe_out" >&2

B=$BT
BD=$WORK/bundles
C=$WORK/configs

step "2a: wrapper alone, stub runc ($N_WRAP runs each)"
GLIBC_PASS=()
[ "$LIBC" = glibc ] || GLIBC_PASS=(--- wrapper-passthrough-glibc --env "PATH=$STUBPATH" -- "$RUNTIME_GLIBC" --root "$STATE" state c-stub)
"$WITH_SPECS" "$SPEC" -- "$MEASURE" -n "$N_WRAP" -w 3 -o "$SAMPLES" \
	wrapper-stub --before "cp $C/orig.json $B/wrap/config.json" --env "PATH=$STUBPATH" --env STUB_EXPECT=/dev/nvidia0 \
	-- "$RUNTIME" --root "$STATE" create -b "$B/wrap" c-wrap --- \
	wrapper-stub-disk --before "cp $C/orig.json $BD/wrap-disk/config.json" --env "PATH=$STUBPATH" --env STUB_EXPECT=/dev/nvidia0 \
	-- "$RUNTIME" --root "$STATE" create -b "$BD/wrap-disk" c-wrap --- \
	stub --before "cp $C/edited.json $B/stub/config.json" --env STUB_EXPECT=/dev/nvidia0 \
	-- "$STUB" --root "$STATE" create -b "$B/stub" c-stub --- \
	wrapper-passthrough --env "PATH=$STUBPATH" -- "$RUNTIME" --root "$STATE" state c-stub \
	"${GLIBC_PASS[@]}"
row 2 "nvbind-runtime create, stub runc (wrapper alone)" wrapper-stub stub "the stub runc alone (edited bundle)" ms "added:1,rss:2"
row 2 "the same, bundle on disk (atomic save, no fsync)" wrapper-stub-disk stub "the stub runc alone (edited bundle)" ms "added:1,rss:2"
row 2 "nvbind-runtime state, stub runc (pass-through: start-up + exec)" wrapper-passthrough stub "the stub runc alone" ms "-"

logged=$(grep -c "create .*devices: nvidia.com/gpu=0" "$WORK/logs/nvbind-runtime.log" || true)
[ "$logged" -ge $((2 * N_WRAP)) ] ||
	die "the wrapper logged $logged GPU creates, expected at least $((2 * N_WRAP)) ($WORK/logs/nvbind-runtime.log)"

# ------------------------------------------------------------------------------ H: headline
step "H: what a GPU adds to runc create, both paths ($N_HEAD rounds, interleaved)"
# The image: a pristine copy of the test rootfs (the wrapper wrote links and a cache into
# $WORK/rootfs above) with a loader cache of its own, as a real image has. Every run gets a
# fresh overlay mount of it (fresh-bundle), so that runc creates the mount points and the
# wrapper or the hook writes the links, 00-nvbind.conf and ld.so.cache every time, as for
# any new container.
IMAGE=$WORK/image
make_rootfs "$IMAGE"
ldconfig -r "$IMAGE" 2>/dev/null || true
# one config for every headline bundle: root.path "rootfs" (relative: the bundle's overlay)
jq '.root.path = "rootfs" | .process.env |= map(if startswith("NVIDIA_VISIBLE_DEVICES=") then
	"NVIDIA_VISIBLE_DEVICES=all" else . end)' "$C/orig.json" >"$C/h-all.json"
jq '.process.env |= map(select(startswith("NVIDIA_VISIBLE_DEVICES=") | not))' "$C/h-all.json" \
	>"$C/h-nogpu.json"
cat >"$WORK/bin/fresh-bundle" <<EOF
#!/bin/sh
# fresh-bundle NAME CONFIG: bundle $BT/NAME with CONFIG and a new overlay root (upper on disk)
set -e
b=$BT/\$1 o=$WORK/overlay/\$1
if mountpoint -q "\$b/rootfs"; then umount "\$b/rootfs"; fi
rm -rf "\$o"
mkdir -p "\$o/upper" "\$o/work" "\$b/rootfs"
mount -t overlay -o "lowerdir=$IMAGE,upperdir=\$o/upper,workdir=\$o/work" nvbind-bench "\$b/rootfs"
cp "\$2" "\$b/config.json"
EOF
chmod +x "$WORK/bin/fresh-bundle"
FRESH=$WORK/bin/fresh-bundle
# check-h ID NODE CACHE: the created container sees /dev/nvidia0 (NODE 1) or not (0), and its
# /etc/ld.so.cache lists libcuda.so.1 (CACHE 1: the wrapper or the hook wrote it in this run's
# fresh root) or not (0); then it is deleted
cat >"$WORK/bin/check-h" <<EOF
#!/bin/sh
id=\$1 node=\$2 cache=\$3
pid=\$(runc --root "$STATE" state "\$id" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
rc=0
if [ -z "\$pid" ] || [ "\$pid" = 0 ]; then
	echo "container \$id was not created" >&2; rc=1
else
	r=/proc/\$pid/root
	if [ "\$node" = 1 ] && [ ! -c \$r/dev/nvidia0 ]; then
		echo "container \$id does not see /dev/nvidia0" >&2; rc=1
	elif [ "\$node" = 0 ] && [ -e \$r/dev/nvidia0 ]; then
		echo "container \$id sees /dev/nvidia0 without asking" >&2; rc=1
	fi
	if [ "\$cache" = 1 ] && ! grep -q libcuda.so.1 \$r/etc/ld.so.cache; then
		echo "container \$id: libcuda.so.1 is not in its /etc/ld.so.cache" >&2; rc=1
	elif [ "\$cache" = 0 ] && grep -q libcuda.so.1 \$r/etc/ld.so.cache; then
		echo "container \$id: libcuda.so.1 is in its /etc/ld.so.cache without a hook" >&2; rc=1
	fi
fi
runc --root "$STATE" delete -f "\$id" >/dev/null 2>&1 || { echo "runc delete \$id failed" >&2; rc=1; }
exit \$rc
EOF
chmod +x "$WORK/bin/check-h"
CHECK_H=$WORK/bin/check-h

# The config the wrapper writes for NVIDIA_VISIBLE_DEVICES=all (the stub runc keeps it), and
# the one a CDI-aware engine writes for --device nvidia.com/gpu=all (bench_apply
# --write-config: nvbind's own apply, the library work left to the spec's one hook), with
# and without that hook.
"$WITH_SPECS" "$SPEC" -- sh -c "'$FRESH' h-edit '$C/h-all.json' && PATH='$STUBPATH' STUB_EXPECT=/dev/nvidia0 \
	'$RUNTIME' --root '$STATE' create -b '$BT/h-edit' c-h-edit && cp '$BT/h-edit/config.json' '$C/h-wrapped.json' &&
	umount '$BT/h-edit/rootfs'" || die "nvbind-runtime did not edit the headline bundle"
mkdir -p "$WORK/bundles/h-cdi" "$WORK/specs/h-cdi"
cp "$C/h-nogpu.json" "$WORK/bundles/h-cdi/config.json"
cp "$SPEC" "$WORK/specs/h-cdi/"
"$APPLY" --write-config "$C/h-cdi.json" --bundle "$WORK/bundles/h-cdi" --spec-dir "$WORK/specs/h-cdi" \
	--device nvidia.com/gpu=all >&2 || die "bench_apply could not write the CDI config"
# the spec's one hook, at its stage (generated specs: createRuntime)
STAGE=$(jq -r '.hooks | keys[0]' "$C/h-cdi.json")
jq 'del(.hooks)' "$C/h-cdi.json" >"$C/h-cdi-nohook.json"
# the same CDI config with the glibc build of the hook
jq --arg s "$STAGE" --arg h "$HOOK_GLIBC" '.hooks[$s][0].path = $h' "$C/h-cdi.json" >"$C/h-cdi-glibc.json"
hook=$(jq -r --arg s "$STAGE" '.hooks[$s][0].path' "$C/h-cdi.json")
[ "$(basename "$hook")" = nvbind-hook ] && [ -x "$hook" ] || die "the CDI config's hook is not an nvbind-hook: $hook"
[ "$(jq '[.hooks // {} | .[] | .[]] | length' "$C/h-wrapped.json")" = 0 ] ||
	die "the wrapper left a hook in the config it writes"
n_mounts() { echo $(($(jq '.mounts | length' "$1") - $(jq '.mounts | length' "$C/h-all.json"))); }
n_nodes() { jq '.linux.devices // [] | length' "$1"; }
M_WRAP=$(n_mounts "$C/h-wrapped.json") D_WRAP=$(n_nodes "$C/h-wrapped.json")
M_CDI=$(n_mounts "$C/h-cdi.json") D_CDI=$(n_nodes "$C/h-cdi.json")
echo "   wrapper's config: $M_WRAP mounts, $D_WRAP nodes, no hook; CDI config: $M_CDI mounts, $D_CDI nodes, 1 hook ($hook, $STAGE)" >&2

# The glibc builds, where the musl ones are measured: the same two paths, in the same rounds
GLIBC_SPECS=()
if [ "$LIBC" = musl ]; then
	GLIBC_SPECS=(--- h-nvb-glibc --before "$FRESH h-nvb-glibc $C/h-all.json" --after "$CHECK_H c-h-nvb-glibc 1 1"
		-- "$RUNTIME_GLIBC" --root "$STATE" create -b "$BT/h-nvb-glibc" c-h-nvb-glibc ---
		h-cdi-glibc --before "$FRESH h-cdi-glibc $C/h-cdi-glibc.json" --after "$CHECK_H c-h-cdi-glibc 1 1"
		-- runc --root "$STATE" create -b "$BT/h-cdi-glibc" c-h-cdi-glibc)
fi
# Order: each breakdown pair is adjacent, the headline pairs one apart; odd rounds reverse it.
"$WITH_SPECS" "$SPEC" -- "$MEASURE" -n "$N_HEAD" -w 3 -o "$SAMPLES" \
	h-nvb --before "$FRESH h-nvb $C/h-all.json" --after "$CHECK_H c-h-nvb 1 1" \
	-- "$RUNTIME" --root "$STATE" create -b "$BT/h-nvb" c-h-nvb --- \
	h-wrapped --before "$FRESH h-wrapped $C/h-wrapped.json" --after "$CHECK_H c-h-wrapped 1 0" \
	-- runc --root "$STATE" create -b "$BT/h-wrapped" c-h-wrapped --- \
	h-base --before "$FRESH h-base $C/h-all.json" --after "$CHECK_H c-h-base 0 0" \
	-- runc --root "$STATE" create -b "$BT/h-base" c-h-base --- \
	h-cdi-nohook --before "$FRESH h-cdi-nohook $C/h-cdi-nohook.json" --after "$CHECK_H c-h-cdi-nohook 1 0" \
	-- runc --root "$STATE" create -b "$BT/h-cdi-nohook" c-h-cdi-nohook --- \
	h-cdi --before "$FRESH h-cdi $C/h-cdi.json" --after "$CHECK_H c-h-cdi 1 1" \
	-- runc --root "$STATE" create -b "$BT/h-cdi" c-h-cdi "${GLIBC_SPECS[@]}"
BASE_WHAT="runc create, same config, no GPU"
row H "GPU through nvbind-runtime: nvbind-runtime create, NVIDIA_VISIBLE_DEVICES=all ($M_WRAP mounts, $D_WRAP nodes; links and cache in process, no hook)" \
	h-nvb h-base "$BASE_WHAT" ms "added:3"
row H "GPU through the CDI edits alone: runc create of the spec's edits for nvidia.com/gpu=all ($M_CDI mounts, $D_CDI nodes, 1 nvbind-hook)" \
	h-cdi h-base "$BASE_WHAT" ms "added:3"
row Hb "mounts and nodes alone: the CDI config without its hook" h-cdi-nohook h-base "$BASE_WHAT" ms "-"
row Hb "the nvbind-hook $STAGE hook alone" h-cdi h-cdi-nohook "runc create of the CDI config without the hook" ms "-"
row Hb "wrapper: nvbind-runtime create" h-nvb h-wrapped "runc create of the config the wrapper writes" ms "-"
row Hb "runc's share on the wrapper path: the config the wrapper writes" h-wrapped h-base "$BASE_WHAT" ms "-"
row Hb "wrapper pass-through: nvbind-runtime state (stub runc)" wrapper-passthrough stub "the stub runc alone" ms "added:1"
if [ "$LIBC" = musl ]; then
	row Hb "the glibc builds, same rounds: nvbind-runtime create" h-nvb-glibc h-base "$BASE_WHAT" ms "-"
	row Hb "the glibc builds, same rounds: the CDI edits with the glibc nvbind-hook" h-cdi-glibc h-base "$BASE_WHAT" ms "-"
	row Hb "the glibc builds: wrapper pass-through (stub runc)" wrapper-passthrough-glibc stub "the stub runc alone" ms "-"
fi

if [ "$HEAD_ONLY" = 0 ]; then
	step "2c: runc run of true ($N_RUNC runs each)"
	"$WITH_SPECS" "$SPEC" -- "$MEASURE" -n "$N_RUNC" -w 2 -o "$SAMPLES" \
		nvb-run --before "cp $C/orig.json $B/run-nvb/config.json" \
		-- "$RUNTIME" --root "$STATE" run -b "$B/run-nvb" c-run-nvb --- \
		runc-run --before "cp $C/orig.json $B/run-runc/config.json" \
		-- runc --root "$STATE" run -b "$B/run-runc" c-run-runc --- \
		runc-run-edited --before "cp $C/edited.json $B/run-runc-edited/config.json" \
		-- runc --root "$STATE" run -b "$B/run-runc-edited" c-run-runc-edited
	row 2 "nvbind-runtime run true (GPU 0)" nvb-run runc-run "runc run true, same bundle (no GPU)" ms "-"
	row 2 "nvbind-runtime run true (GPU 0)" nvb-run runc-run-edited "runc run of the config.json nvbind writes" ms "-"

	# ---------------------------------------------------------------------- 3: in-process apply
	step "3: in-process apply and prepare ($N_APPLY iterations)"
	mkdir -p "$WORK/bundles/apply" "$WORK/specs/h100"
	cp "$C/nogpu.json" "$WORK/bundles/apply/config.json"
	cp "$SPEC" "$WORK/specs/h100/"
	"$APPLY" --bundle "$WORK/bundles/apply" --spec-dir "$WORK/specs/h100" --device nvidia.com/gpu=0 \
		-n "$N_APPLY" -o "$SAMPLES" --label h100 >&2
	row 3 "nvb_oci_apply_edits, nvidia.com/gpu=0 (h100-host spec)" h100-apply h100-load "nvb_oci_config_load (read + parse config.json)" us "p99:100"
	row 3 "nvb_runtime_prepare (registry load + resolve + apply)" h100-prepare h100-load "nvb_oci_config_load (read + parse config.json)" us "-"

	# ---------------------------------------------------------------------- 4: scaling
	step "4: scaling: 1, 8, 64 GPUs and 300 libraries"
	for r in "${SCALE_ROOTS[@]}"; do
		R=$WORK/roots/$r
		F=$WORK/specs/gen-$r.json
		n_gpus=$(jq '.gpus | length' "$R/.nvbind-fixture")
		"$MEASURE" -n "$N_SCALE_GEN" -w 2 -o "$SAMPLES" \
			"gen-$r" --rm "$F" --expect-file "$F" -- "$NVBIND" --root "$R" cdi generate --output "$F" --- \
			"ldconfig-$r" --expect-stdout "libcuda.so.1 " -- ldconfig -p -C "$R/etc/ld.so.cache"
		got=$(jq '[.devices[] | select(.name != "all")] | length' "$F")
		[ "$got" = $((2 * n_gpus)) ] || die "$r: the spec has $got devices, expected $((2 * n_gpus))"
		libs=$(ldconfig -p -C "$R/etc/ld.so.cache" | awk 'NR == 1 {print $1}') # awk reads it all: no SIGPIPE
		mounts=$(jq '.containerEdits.mounts | length' "$F")
		row 4 "cdi generate --output FILE, $r ($n_gpus GPU, $libs libs in cache, $((2 * n_gpus + 1)) devices, $mounts mounts)" \
			"gen-$r" "ldconfig-$r" "ldconfig -p -C ROOT/etc/ld.so.cache" ms "time:2,rss:4"
	done
	for r in "${SCALE_ROOTS[@]}"; do
		mkdir -p "$WORK/specs/scale-$r"
		cp "$WORK/specs/gen-$r.json" "$WORK/specs/scale-$r/nvidia.com-gpu.json"
		dev=nvidia.com/gpu=all
		[ "$r" = libs-300 ] && dev=nvidia.com/gpu=0
		"$APPLY" --bundle "$WORK/bundles/apply" --spec-dir "$WORK/specs/scale-$r" --device "$dev" \
			-n "$N_SCALE_APPLY" -o "$SAMPLES" --label "scale-$r" >&2
		row 4 "nvb_oci_apply_edits, $dev, $r" "scale-$r-apply" "scale-$r-load" "nvb_oci_config_load" us "p99:100"
		row 4 "nvb_runtime_prepare, $dev, $r" "scale-$r-prepare" "scale-$r-load" "nvb_oci_config_load" us "-"
	done
fi

# ------------------------------------------------------------------------------ report
T_END=$(date +%s)
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/machine.txt"
echo "suite: $((T_END - T_START)) s wall, including build and fixture roots" >>"$WORK/machine.txt"
step "report"
python3 "$REPO/bench/report.py" "$WORK/machine.txt" "$ROWS" "$SAMPLES" >"$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
cat "$WORK/report.md"
