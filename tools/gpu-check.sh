#!/usr/bin/env bash
# The whole nvbind flow on a machine with a real NVIDIA GPU, in one run (docs/benchmarks.md).
#
#   tools/gpu-check.sh prepare [DIR]    on a build machine (this one): builds what the GPU host
#                                       needs into DIR (default gpu-check-prep/): release nvbind
#                                       binaries, a minimal glibc rootfs with busybox (libc, libm,
#                                       libdl, libpthread, librt, libstdc++, libgcc_s, a dlopen
#                                       probe), this machine's whole glibc beside it (DIR/glibc),
#                                       nvidia-smi is the host's own, a CUDA test program built
#                                       with nvcc, runc and libseccomp as Debian packages, unpacked
#   tools/gpu-check.sh run [DIR] [OUT]  on the GPU host (no internet, no runc installed needed):
#                                       uses DIR, writes OUT/report.md (default $OUT or ./gpu-check-out)
#   tools/gpu-check.sh [OUT]            both, on a machine that can build and has the GPU
#
#   NVB_GPU_CHECK_ROOT=DIR              rehearse on a fixture root (tests/fixtures) instead of the
#                                       real driver: the flow runs with the stand-in libraries, so
#                                       the CUDA program is expected to fail there
#   NVB_GPU_CHECK_CDI_ENGINE=podman|runc  how the CDI-only container starts (default: podman when
#                                       installed, else runc + tools/gpu-check/cdi-apply.py)
#
# The run: nvbind info (real driver), cdi generate + validate; the image: the prepared rootfs
# plus every library the driver's libcuda and libnvidia-ml need (DT_NEEDED, resolved by this
# host's loader) that glibc provides and the rootfs lacks, copied from DIR/glibc; a container
# through nvbind-runtime (runc from DIR) with GPU 0, and the same container from the CDI spec
# alone (podman --device nvidia.com/gpu=all, or runc with a config.json the spec's edits were
# applied to), each running `nvidia-smi -L`, dlopen of libcuda.so.1 and libnvidia-ml.so.1 by
# name and the CUDA program (a saxpy whose result is checked, then pinned host<->device
# bandwidth); any container check that fails fails the run. The same program natively
# (bandwidth ratio container/native), and the benchmark figures on the real host. On a machine
# without an NVIDIA GPU it says so, writes that into the report and exits 0. Finishes in under
# 5 minutes. Exit status: 0 when every check passed (or no GPU), 1 when one failed.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "gpu-check: $*" >&2; exit 1; }

prepare() {
	local dir=${1:-$REPO/gpu-check-prep}
	rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/debs" "$dir/rootfs" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	echo "gpu-check: preparing $dir"
	meson setup "$dir/build" "$REPO" --buildtype=release -Dtests=false >/dev/null || die "meson setup failed"
	# nvbind-hook: the static createRuntime hook of generated CDI specs (the spec runs
	# `nvbind-hook libraries`, a command only that program has: it is required)
	local musl=()
	command -v musl-gcc >/dev/null && musl=(src/musl/nvbind-runtime src/musl/nvbind-hook)
	ninja -C "$dir/build" src/nvbind src/nvbind-runtime src/nvbind-hook bench/measure "${musl[@]}" >/dev/null ||
		die "build failed"
	cp "$dir/build/src/nvbind" "$dir/build/bench/measure" "$dir/bin/"
	if [ ${#musl[@]} -gt 0 ]; then
		# as installed (docs/runtime.md, "Static builds"): the musl wrapper and hook, and the
		# glibc wrapper where the musl one looks for it in a tree (../nvbind-runtime)
		cp "$dir/build/src/musl/nvbind-runtime" "$dir/build/src/musl/nvbind-hook" "$dir/bin/"
		cp "$dir/build/src/nvbind-runtime" "$dir/nvbind-runtime"
	else
		cp "$dir/build/src/nvbind-runtime" "$dir/build/src/nvbind-hook" "$dir/bin/"
	fi
	cp "$REPO/tools/gpu-check/cdi-apply.py" "$dir/bin/"
	ln -sf nvbind-runtime "$dir/bin/nvidia-container-runtime-hook"
	# the libraries the binaries need beyond glibc (jansson, libyaml), beside them
	mkdir -p "$dir/lib"
	for lib in $(ldd "$dir/bin/nvbind" | awk '/=> \//{print $3}' | grep -E 'jansson|yaml'); do
		cp -L "$lib" "$dir/lib/"
	done
	# runc and libseccomp as Debian packages, unpacked when the check runs
	(cd "$dir/debs" && apt-get download runc libseccomp2 >/dev/null 2>&1) ||
		echo "gpu-check: warning: apt-get download runc failed; the GPU host must have runc"
	# every shared library of this machine's glibc, beside the rootfs: when the GPU host's driver
	# needs one the rootfs lacks, the run copies it from here (same glibc build as the rootfs)
	mkdir -p "$dir/glibc"
	local lib
	for lib in $(glibc_libs); do cp -L "$lib" "$dir/glibc/"; done
	[ -f "$dir/glibc/libc.so.6" ] || die "cannot find this machine's glibc libraries"
	# minimal glibc rootfs: busybox, the loader, libc and the glibc libraries CUDA programs and
	# the driver's libcuda need (libcuda.so.580 has DT_NEEDED libdl.so.2), libstdc++/libgcc_s,
	# a dlopen probe and the CUDA program
	local r=$dir/rootfs
	mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,usr/bin,lib64,lib/x86_64-linux-gnu}
	cp /bin/busybox "$r/bin/" || die "busybox-static is needed to prepare"
	for c in sh ls cat env echo true; do ln -sf busybox "$r/bin/$c"; done
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
	for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
		cp "$dir/glibc/$l" "$r/lib/x86_64-linux-gnu/" || die "glibc has no $l here"
	done
	for l in libstdc++.so.6 libgcc_s.so.1; do
		cp -L "/lib/x86_64-linux-gnu/$l" "$r/lib/x86_64-linux-gnu/"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	cc -O2 -o "$r/usr/bin/dlopen-probe" "$REPO/tests/e2e/helpers/dlopen-probe.c" ||
		die "cc failed on the dlopen probe"
	local nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
	if [ -x "$nvcc" ]; then
		"$nvcc" -O2 -cudart static -o "$r/usr/bin/cuda-check" "$REPO/tools/gpu-check/cuda_check.cu" ||
			die "nvcc failed"
		cp "$r/usr/bin/cuda-check" "$dir/bin/"
		# the GPU snapshot check's CUDA process (docs/snapshot.md), run natively
		"$nvcc" -O2 -cudart static -o "$dir/bin/snapshot-check" \
			"$REPO/tools/gpu-check/snapshot_check.cu" || die "nvcc failed on snapshot_check.cu"
		# the MPS client of the virtual isolation check (docs/isolation.md), in the image
		"$nvcc" -O2 -cudart static -o "$r/usr/bin/mps-check" "$REPO/tools/gpu-check/mps_check.cu" ||
			die "nvcc failed on mps_check.cu"
	else
		echo "gpu-check: warning: no nvcc: the CUDA program is skipped"
	fi
	echo "gpu-check: prepared $dir ($(du -sh "$dir" | cut -f1))"
}

# This machine's glibc shared libraries (the libc6 package's, else the known sonames beside libc).
glibc_libs() {
	if dpkg -L libc6 >/dev/null 2>&1; then
		dpkg -L libc6 | grep -E '^/lib[^ ]*/lib[^/]*\.so\.[0-9]+$' | grep -v '/ld-linux'
		return
	fi
	local d n
	d=$(dirname "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)")
	for n in libc.so.6 libm.so.6 libmvec.so.1 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 \
		libutil.so.1 libanl.so.1 libnsl.so.1 libBrokenLocale.so.1 libthread_db.so.1 \
		libc_malloc_debug.so.0 libnss_files.so.2 libnss_dns.so.2 libnss_compat.so.2; do
		[ -e "$d/$n" ] && echo "$d/$n"
	done
}

# ---------------------------------------------------------------- the run on the GPU host

# A config.json for runc (the shape of `runc spec`), running SCRIPT with GPU 0 requested the
# way Docker users do; written here because the GPU host may have neither jq nor python.
oci_config() {
	local script=${1//\\/\\\\}
	script=${script//\"/\\\"}
	cat <<JSON
{"ociVersion": "1.0.2",
 "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
  "args": ["/bin/sh", "-c", "$script"],
  "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"],
  "capabilities": {"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
   "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
   "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]},
  "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
  "noNewPrivileges": true},
 "root": {"path": "rootfs", "readonly": false},
 "hostname": "gpu-check",
 "mounts": [
  {"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
  {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
  {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
  {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}],
 "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]},
  "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
  "maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"]}}
JSON
}

REPORT=
log() { echo "$*"; echo "$*" >>"$REPORT"; }
section() { log ""; log "## $*"; log ""; }
FAILED=0
check() { # check NAME CMD...: run, record ok / FAILED with the output
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then log "- ok: $name"; else log "- FAILED ($rc): $name"; FAILED=1; fi
	printf '```\n%s\n```\n' "$(head -c 4000 <<<"$out")" >>"$REPORT"
	return $rc
}

# What every GPU container runs: the driver's tools and libraries by name, then the CUDA program.
CONTAINER_SCRIPT="nvidia-smi -L && ls -l /dev/nvidia* && dlopen-probe libcuda.so.1 libnvidia-ml.so.1 && if [ -x /usr/bin/cuda-check ]; then cuda-check; fi"

# driver_libs INFO_JSON: the driver's 64-bit libcuda and libnvidia-ml (paths under the host root)
driver_libs() {
	awk -F'"' '/"path":/ {p = $4} /"soname":/ {s = $4}
		/"elf_class": *64/ && (s == "libcuda.so.1" || s == "libnvidia-ml.so.1") {print p; s = ""}' "$1"
}

# image_rootfs PREP ROOT INFO_JSON DEST: the prepared rootfs, plus every library that the
# driver's libcuda and libnvidia-ml need (DT_NEEDED and theirs, as this host's loader resolves
# them) which glibc provides and the rootfs lacks, copied from PREP/glibc: the same glibc build
# as the rootfs's libc, so a future driver needing another glibc library still loads.
image_rootfs() {
	local prep=$1 root=$2 info=$3 dest=$4 loader=/lib64/ld-linux-x86-64.so.2 lib name
	local needs=() glibc=() copied=() others=() libs
	cp -a "$prep/rootfs" "$dest"
	libs=$(driver_libs "$info")
	if [ -z "$libs" ]; then
		log "- FAILED: nvbind info --json names no 64-bit libcuda.so.1 or libnvidia-ml.so.1"
		FAILED=1
		return
	fi
	for lib in $libs; do
		[ -f "$root$lib" ] || { log "- FAILED: $root$lib does not exist"; FAILED=1; continue; }
		needs+=($("$loader" --list "$root$lib" 2>/dev/null | awk '$2 == "=>" {print $1}'))
	done
	for name in $(printf '%s\n' "${needs[@]}" | sort -u); do
		if [ -f "$prep/glibc/$name" ]; then
			glibc+=("$name")
			[ -e "$dest/lib/x86_64-linux-gnu/$name" ] && continue
			cp "$prep/glibc/$name" "$dest/lib/x86_64-linux-gnu/" && copied+=("$name")
		else
			others+=("$name") # not glibc's: the driver's own, which nvbind mounts
		fi
	done
	log "- driver libraries: $(echo $libs)"
	log "- glibc libraries they need: ${glibc[*]:-none}"
	log "- copied into the image: ${copied[*]:-none (the image had them all)}"
	log "- other libraries they need (from the driver): ${others[*]:-none}"
}

# container_result NAME FILE: the check NAME's output into FILE; FAILED when the CUDA program
# is there and did not report a correct result
container_result() {
	grep -A40 -- "- [A-Za-z (0-9)]*: $1" "$REPORT" >"$2"
	if [ -x "$PREP_DIR/bin/cuda-check" ] && ! grep -q 'saxpy ok' "$2"; then
		log "- FAILED: the CUDA program did not report a correct result in the $1"
		FAILED=1
	fi
}

# cdi_container PREP OUT RUNC: the same container started from the CDI spec alone, by podman
# (--device nvidia.com/gpu=all), else by runc with a config.json the spec's edits were applied
# to (cdi-apply.py). NVB_GPU_CHECK_CDI_ENGINE=podman|runc picks one.
cdi_container() {
	local dir=$1 out=$2 runc=$3 engine=${NVB_GPU_CHECK_CDI_ENGINE:-} spec=$2/nvidia.com-gpu.json
	if [ -z "$engine" ]; then
		if command -v podman >/dev/null; then engine=podman
		elif command -v python3 >/dev/null && [ -n "$runc" ]; then engine=runc
		fi
	fi
	local name="container through the CDI spec ($engine): nvidia-smi -L, libcuda and the CUDA program"
	case $engine in
	podman)
		local pm=(podman --root "$out/podman/storage" --runroot "$out/podman/run" --storage-driver vfs
			--cgroup-manager cgroupfs --events-backend file)
		# podman's own settings: no default ulimits (raising them fails in some sandboxes)
		mkdir -p "$out/podman"
		printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' >"$out/podman/containers.conf"
		export CONTAINERS_CONF=$out/podman/containers.conf
		tar -C "$out/rootfs" -cf "$out/image.tar" . &&
			"${pm[@]}" import -q "$out/image.tar" localhost/nvbind-gpu-check:latest >/dev/null
		# the spec in a private mount namespace's /etc/cdi: the host's is not touched
		check "$name" unshare -m --propagation private sh -c 'mkdir -p /etc/cdi /var/run/cdi &&
			mount -t tmpfs gpucheck /etc/cdi && mount -t tmpfs gpucheck /var/run/cdi &&
			cp "$0" /etc/cdi/ && exec "$@"' "$spec" "${pm[@]}" run --rm --network none \
			--device nvidia.com/gpu=all localhost/nvbind-gpu-check:latest /bin/sh -c "$CONTAINER_SCRIPT"
		"${pm[@]}" rmi -af >/dev/null 2>&1
		rm -rf "$out/podman"
		;;
	runc)
		local bundle=$out/bundle-cdi
		rm -rf "$bundle" && mkdir -p "$bundle"
		cp -a "$out/rootfs" "$bundle/rootfs"
		oci_config "$CONTAINER_SCRIPT" >"$bundle/config.json"
		if ! python3 "$dir/bin/cdi-apply.py" "$spec" all "$bundle/config.json" >>"$REPORT" 2>&1; then
			log "- FAILED: cdi-apply.py could not apply $spec to the container's config.json"
			FAILED=1
			return
		fi
		check "$name" "$runc" --root "$out/runc-state" run -b "$bundle" "gpucheck-cdi-$$"
		;;
	*)
		log "- FAILED: neither podman nor python3 and runc: the CDI spec cannot be checked alone"
		FAILED=1
		return
		;;
	esac
	container_result "container through the CDI spec ($engine)" "$out/container-cdi.txt"
}

# compute_app_mib PID: the GPU memory (MiB) nvidia-smi lists for PID, empty when not listed
compute_app_mib() {
	nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null |
		awk -F', *' -v p="$1" '$1 == p {print $2}'
}

# snapshot_check PREP OUT ROOT: a CUDA process fills GPU memory with a pattern; nvbind gpu
# checkpoint --pid must release its GPU memory (nvidia-smi lists it no more, or with 0 MiB),
# nvbind gpu restore bring it back, and the process then finds its pattern intact.
snapshot_check() {
	local dir=$1 out=$2 root=$3 prog=$1/bin/snapshot-check nvbind=$1/bin/nvbind pid mib
	if [ -n "$root" ]; then
		log "- rehearsal: the snapshot check needs the real driver's checkpoint API: skipped"
		return 0
	fi
	if [ ! -x "$prog" ]; then
		log "- skipped: no snapshot program (nvcc was missing when preparing)"
		return 0
	fi
	local txt=$out/snapshot.txt
	"$prog" 1024 >"$txt" 2>&1 &
	pid=$!
	for _ in $(seq 300); do grep -q '^ready ' "$txt" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if ! grep -q '^ready ' "$txt"; then
		log "- FAILED: the snapshot program did not get ready: $(head -c 500 "$txt")"
		FAILED=1
		kill "$pid" 2>/dev/null
		return 1
	fi
	log "- CUDA process $pid, $(awk '/^ready/{print $3}' "$txt") bytes of GPU memory in a pattern; nvidia-smi: $(compute_app_mib "$pid") MiB"
	check "nvbind gpu state --pid (running)" sh -c "'$nvbind' gpu state --pid $pid | grep -x 'pid $pid: running'"
	if check "nvbind gpu checkpoint --pid" "$nvbind" gpu checkpoint --pid "$pid"; then
		check "nvbind gpu state --pid (checkpointed)" sh -c "'$nvbind' gpu state --pid $pid | grep -x 'pid $pid: checkpointed'"
		mib=$(compute_app_mib "$pid")
		if [ -z "$mib" ] || [ "$mib" = 0 ]; then
			log "- ok: GPU memory released while checkpointed (nvidia-smi: ${mib:-not listed})"
		else
			log "- FAILED: the checkpointed process still holds $mib MiB of GPU memory"
			FAILED=1
		fi
		check "nvbind gpu restore --pid" "$nvbind" gpu restore --pid "$pid"
		log "- after restore: nvidia-smi lists $(compute_app_mib "$pid") MiB"
	fi
	kill -USR1 "$pid" 2>/dev/null
	# a process left locked blocks in its next CUDA call: give it 60 s, then kill it
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null && log "- the snapshot program hung after SIGUSR1: killed"
	local rc=0
	wait "$pid" || rc=$?
	if [ $rc -eq 0 ] && grep -q '^pattern ok' "$txt"; then
		log "- ok: the pattern in GPU memory survived checkpoint and restore; a kernel ran after"
	else
		log "- FAILED ($rc): the snapshot program's check: $(head -c 800 "$txt")"
		FAILED=1
	fi
	printf '```\n%s\n```\n' "$(head -c 2000 "$txt")" >>"$REPORT"
}

# mps_check PREP OUT RUNC ROOT: virtual isolation on the real driver (docs/isolation.md): a
# container through nvbind-runtime with nvbind.io/isolation=virtual and a 1G memory limit; its
# CUDA client must allocate 256 MiB and fail to allocate 4096 MiB (the MPS server enforces
# the limit); delete must stop the MPS control daemon nvbind started.
mps_check() {
	local dir=$1 out=$2 runc=$3 root=$4 runtime=$1/bin/nvbind-runtime state bundle=$2/mps-bundle id=gpucheck-mps-$$
	if [ -n "$root" ]; then
		log "- rehearsal: MPS needs the real driver: skipped"
		return 0
	fi
	if [ -z "$runc" ] || [ ! -x "$out/rootfs/usr/bin/mps-check" ]; then
		log "- skipped: no runc, or no MPS program (nvcc was missing when preparing)"
		return 0
	fi
	# short: the daemon's control socket path must fit in 108 bytes
	state=$(mktemp -d /tmp/nvb-mps.XXXXXX)
	rm -rf "$bundle" && mkdir -p "$bundle" && cp -a "$out/rootfs" "$bundle/rootfs"
	oci_config "mps-check 256; echo under=\$?; mps-check 4096; echo over=\$?" |
		sed '1s|^{|{"annotations": {"nvbind.io/isolation": "virtual", "nvbind.io/gpu-memory-limit": "1G", "nvbind.io/gpu-compute-limit": "50"},|' \
			>"$bundle/config.json"
	check "MPS container through nvbind-runtime (limit 0=1G)" env PATH="$dir/lowlevel:$PATH" NVBIND_STATE_DIR="$state" \
		unshare -m --propagation private sh -c "mkdir -p /etc/cdi && mount -t tmpfs gpucheck /etc/cdi && cp '$out/nvidia.com-gpu.json' /etc/cdi/ && exec '$runtime' --root '$out/runc-state' run -b '$bundle' $id"
	grep -A40 -- "- [A-Za-z (0-9=)]*: MPS container" "$REPORT" >"$out/mps.txt"
	if grep -q '^under=0' "$out/mps.txt" && grep -q '^over=1' "$out/mps.txt" && grep -q 'failed' "$out/mps.txt"; then
		log "- ok: under MPS the client allocated 256 MiB and was refused 4096 MiB (limit 1G)"
	else
		log "- FAILED: the MPS memory limit was not enforced as expected (see the output above)"
		FAILED=1
	fi
	check "nvbind-runtime delete of the MPS container" env NVBIND_STATE_DIR="$state" PATH="$dir/lowlevel:$PATH" \
		"$runtime" --root "$out/runc-state" delete "$id"
	if ls "$state"/isolation/mps/*/daemon.json >/dev/null 2>&1; then
		log "- FAILED: the MPS control daemon was not stopped with its last client"
		FAILED=1
	else
		log "- ok: the MPS control daemon stopped with its last client"
	fi
	rm -rf "$state"
}

run_check() {
	local dir=${1:-$REPO/gpu-check-prep} out=${2:-${OUT:-$PWD/gpu-check-out}}
	[ -d "$dir/bin" ] || die "$dir is not prepared: run 'tools/gpu-check.sh prepare $dir' first"
	dir=$(cd "$dir" && pwd)
	PREP_DIR=$dir
	mkdir -p "$out" || die "cannot create $out"
	out=$(cd "$out" && pwd)
	REPORT=$out/report.md
	local start=$SECONDS
	echo "# nvbind GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$REPORT"
	log ""
	log "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, kernel $(uname -r)"
	export LD_LIBRARY_PATH=$dir/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	local nvbind=$dir/bin/nvbind runtime=$dir/bin/nvbind-runtime
	local root=${NVB_GPU_CHECK_ROOT:-}
	if [ -n "$root" ]; then
		export NVBIND_ROOT=$root
		log "Rehearsal on the fixture root $root (stand-in driver libraries)"
	fi

	if [ ! -r "$root/proc/driver/nvidia/version" ]; then
		log ""
		log "No NVIDIA GPU: /proc/driver/nvidia/version does not exist on this machine (no driver"
		log "loaded). Nothing to check; nvbind info says:"
		"$nvbind" info >>"$REPORT" 2>&1
		echo "gpu-check: no NVIDIA GPU on this machine: nothing to check (report: $REPORT)"
		return 0
	fi
	log "Driver: $(head -1 "$root/proc/driver/nvidia/version")"

	section "Discovery"
	check "nvbind info" "$nvbind" info
	"$nvbind" info --json >"$out/info.json" 2>/dev/null
	local gpus
	gpus=$(grep -c '"uuid": "GPU-' "$out/info.json")
	[ "$gpus" -ge 1 ] || { log "- FAILED: nvbind info --json lists no GPU"; FAILED=1; }
	log "- GPUs found: $gpus"

	section "CDI"
	# the hook the spec names: the static nvbind-hook where prepared (engines run hooks with
	# only the spec's environment: a dynamic nvbind would miss jansson on the GPU host)
	local hook=$dir/bin/nvbind-hook
	check "nvbind cdi generate" "$nvbind" cdi generate --output "$out/nvidia.com-gpu.json" --hook-path "$hook"
	check "nvbind cdi validate" "$nvbind" cdi validate "$out/nvidia.com-gpu.json"

	section "Image"
	local runc
	runc=$(command -v runc || true)
	if [ -z "$runc" ] && ls "$dir"/debs/runc_*.deb >/dev/null 2>&1; then
		mkdir -p "$dir/unpacked"
		for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/unpacked"; done
		runc=$dir/unpacked/usr/sbin/runc
		export LD_LIBRARY_PATH=$dir/unpacked/usr/lib/x86_64-linux-gnu:$dir/unpacked/lib/x86_64-linux-gnu:$LD_LIBRARY_PATH
	fi
	rm -rf "$out/rootfs"
	image_rootfs "$dir" "$root" "$out/info.json" "$out/rootfs"

	section "Container through nvbind-runtime"
	if [ -z "$runc" ] || ! "$runc" --version >/dev/null 2>&1; then
		log "- FAILED: no usable runc (not installed, and none prepared)"
		FAILED=1
		runc=
	else
		log "- runc: $runc ($("$runc" --version | head -1))"
		mkdir -p "$dir/lowlevel"
		ln -sf "$runc" "$dir/lowlevel/runc"
		local bundle=$out/bundle
		rm -rf "$bundle" && mkdir -p "$bundle"
		cp -a "$out/rootfs" "$bundle/rootfs"
		oci_config "$CONTAINER_SCRIPT" >"$bundle/config.json"
		# the spec goes into a private mount namespace: the host's /etc/cdi is not touched
		check "container through nvbind-runtime: nvidia-smi -L, libcuda and the CUDA program" \
			env PATH="$dir/lowlevel:$PATH" \
			unshare -m --propagation private sh -c "mkdir -p /etc/cdi && mount -t tmpfs gpucheck /etc/cdi && cp '$out/nvidia.com-gpu.json' /etc/cdi/ && exec '$runtime' --root '$out/runc-state' run -b '$bundle' gpucheck-$$"
		container_result "container through nvbind-runtime" "$out/container.txt"
	fi

	section "Container through the CDI spec alone (no nvbind-runtime)"
	cdi_container "$dir" "$out" "$runc"

	section "Bandwidth, container / native"
	if [ -x "$dir/bin/cuda-check" ]; then
		check "native CUDA program" "$dir/bin/cuda-check"
		local n_h2d c_h2d n_d2h c_d2h
		n_h2d=$(grep -A20 'native CUDA program' "$REPORT" | awk '/^h2d_gbps/{print $2}' | head -1)
		n_d2h=$(grep -A20 'native CUDA program' "$REPORT" | awk '/^d2h_gbps/{print $2}' | head -1)
		c_h2d=$(awk '/^h2d_gbps/{print $2}' "$out/container.txt" | head -1)
		c_d2h=$(awk '/^d2h_gbps/{print $2}' "$out/container.txt" | head -1)
		log ""
		log "| copy | native GB/s | container GB/s | ratio |"
		log "|---|---|---|---|"
		for pair in "h2d $n_h2d $c_h2d" "d2h $n_d2h $c_d2h"; do
			set -- $pair
			if [ -n "${2:-}" ] && [ -n "${3:-}" ]; then
				log "| $1 | $2 | $3 | $(awk -v a="$3" -v b="$2" 'BEGIN{printf "%.3f", a/b}') |"
			else
				log "| $1 | ${2:-?} | ${3:-?} | ? |"
			fi
		done
	else
		log "- skipped: no CUDA program (nvcc was missing when preparing)"
	fi

	section "MPS (virtual isolation)"
	mps_check "$dir" "$out" "$runc" "$root"

	section "GPU snapshot (CUDA checkpoint)"
	snapshot_check "$dir" "$out" "$root"

	section "Benchmarks on this host"
	local m=$dir/bin/measure
	if [ -x "$m" ]; then
		# interleaved with the baseline: reading the cache (ldconfig -p)
		check "nvbind info --json and cdi generate against ldconfig -p (wall time, peak RSS)" \
			"$m" -n 30 "nvbind info --json" -- "$nvbind" info --json --no-nvml \
			--- "nvbind cdi generate" -- "$nvbind" cdi generate --output "$out/bench-spec.json" \
			--- "ldconfig -p" -- /sbin/ldconfig -p
	fi
	if [ -n "$root" ]; then
		log "- rehearsal: bench/run.sh --real-host needs the real driver: skipped"
	elif command -v meson >/dev/null && command -v ninja >/dev/null && command -v cc >/dev/null; then
		check "bench/run.sh --real-host --quick" "$REPO/bench/run.sh" --real-host --quick --out "$out/bench.md"
	else
		log "- the full bench/run.sh table needs meson, ninja and cc on this host: skipped"
	fi

	section "Summary"
	log "- duration: $((SECONDS - start)) s"
	if [ $FAILED -eq 0 ]; then log "- result: every check passed"; else log "- result: some checks FAILED (above)"; fi
	echo "gpu-check: report in $REPORT"
	return $FAILED
}

case ${1:-all} in
prepare) prepare "${2:-}" ;;
run) run_check "${2:-}" "${3:-}" ;;
-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*)
	out=${1:-}
	[ "$out" = all ] && out=
	prepare "$REPO/gpu-check-prep" && run_check "$REPO/gpu-check-prep" "$out"
	;;
esac
