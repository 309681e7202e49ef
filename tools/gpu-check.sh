#!/usr/bin/env bash
# The whole nvbind flow on a machine with a real NVIDIA GPU, in one run (docs/benchmarks.md).
#
#   tools/gpu-check.sh prepare [DIR]    on a build machine (this one): builds what the GPU host
#                                       needs into DIR (default gpu-check-prep/): release nvbind
#                                       binaries, a minimal glibc rootfs with busybox, nvidia-smi
#                                       is the host's own, a CUDA test program built with nvcc,
#                                       runc and libseccomp as Debian packages, unpacked
#   tools/gpu-check.sh run [DIR] [OUT]  on the GPU host (no internet, no runc installed needed):
#                                       uses DIR, writes OUT/report.md (default $OUT or ./gpu-check-out)
#   tools/gpu-check.sh [OUT]            both, on a machine that can build and has the GPU
#
#   NVB_GPU_CHECK_ROOT=DIR              rehearse on a fixture root (tests/fixtures) instead of the
#                                       real driver: the flow runs with the stand-in libraries, so
#                                       the CUDA program is expected to fail there
#
# The run: nvbind info (real driver), cdi generate + validate, a container through
# nvbind-runtime (runc from DIR) with GPU 0 running `nvidia-smi -L` and the CUDA program (a
# saxpy whose result is checked, then pinned host<->device bandwidth), the same program natively
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
	ninja -C "$dir/build" src/nvbind src/nvbind-runtime bench/measure >/dev/null || die "build failed"
	cp "$dir/build/src/nvbind" "$dir/build/src/nvbind-runtime" "$dir/build/bench/measure" "$dir/bin/"
	ln -sf nvbind-runtime "$dir/bin/nvidia-container-runtime-hook"
	# the libraries the binaries need beyond glibc (jansson, libyaml), beside them
	mkdir -p "$dir/lib"
	for lib in $(ldd "$dir/bin/nvbind" | awk '/=> \//{print $3}' | grep -E 'jansson|yaml'); do
		cp -L "$lib" "$dir/lib/"
	done
	# runc and libseccomp as Debian packages, unpacked when the check runs
	(cd "$dir/debs" && apt-get download runc libseccomp2 >/dev/null 2>&1) ||
		echo "gpu-check: warning: apt-get download runc failed; the GPU host must have runc"
	# minimal glibc rootfs: busybox, the loader, libc/libm/libstdc++/libgcc_s, the CUDA program
	local r=$dir/rootfs
	mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,usr/bin,lib64,lib/x86_64-linux-gnu}
	cp /bin/busybox "$r/bin/" || die "busybox-static is needed to prepare"
	for c in sh ls cat env echo true; do ln -sf busybox "$r/bin/$c"; done
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
	for l in libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1; do
		cp -L "/lib/x86_64-linux-gnu/$l" "$r/lib/x86_64-linux-gnu/"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	local nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
	if [ -x "$nvcc" ]; then
		"$nvcc" -O2 -cudart static -o "$r/usr/bin/cuda-check" "$REPO/tools/gpu-check/cuda_check.cu" ||
			die "nvcc failed"
		cp "$r/usr/bin/cuda-check" "$dir/bin/"
	else
		echo "gpu-check: warning: no nvcc: the CUDA program is skipped"
	fi
	echo "gpu-check: prepared $dir ($(du -sh "$dir" | cut -f1))"
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

run_check() {
	local dir=${1:-$REPO/gpu-check-prep} out=${2:-${OUT:-$PWD/gpu-check-out}}
	[ -d "$dir/bin" ] || die "$dir is not prepared: run 'tools/gpu-check.sh prepare $dir' first"
	dir=$(cd "$dir" && pwd)
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
	check "nvbind cdi generate" "$nvbind" cdi generate --output "$out/nvidia.com-gpu.json" --hook-path "$nvbind"
	check "nvbind cdi validate" "$nvbind" cdi validate "$out/nvidia.com-gpu.json"

	section "Container through nvbind-runtime"
	local runc
	runc=$(command -v runc || true)
	if [ -z "$runc" ] && ls "$dir"/debs/runc_*.deb >/dev/null 2>&1; then
		mkdir -p "$dir/unpacked"
		for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/unpacked"; done
		runc=$dir/unpacked/usr/sbin/runc
		export LD_LIBRARY_PATH=$dir/unpacked/usr/lib/x86_64-linux-gnu:$dir/unpacked/lib/x86_64-linux-gnu:$LD_LIBRARY_PATH
	fi
	if [ -z "$runc" ] || ! "$runc" --version >/dev/null 2>&1; then
		log "- FAILED: no usable runc (not installed, and none prepared)"
		FAILED=1
	else
		log "- runc: $runc ($("$runc" --version | head -1))"
		mkdir -p "$dir/lowlevel"
		ln -sf "$runc" "$dir/lowlevel/runc"
		local bundle=$out/bundle
		rm -rf "$bundle" && mkdir -p "$bundle"
		cp -a "$dir/rootfs" "$bundle/rootfs"
		oci_config "nvidia-smi -L; ls -l /dev/nvidia*; if [ -x /usr/bin/cuda-check ]; then cuda-check; fi" \
			>"$bundle/config.json"
		# the spec goes into a private mount namespace: the host's /etc/cdi is not touched
		check "container: nvidia-smi -L and the CUDA program" env PATH="$dir/lowlevel:$PATH" \
			unshare -m --propagation private sh -c "mkdir -p /etc/cdi && mount -t tmpfs gpucheck /etc/cdi && cp '$out/nvidia.com-gpu.json' /etc/cdi/ && exec '$runtime' --root '$out/runc-state' run -b '$bundle' gpucheck-$$"
		grep -A40 'container: nvidia-smi' "$REPORT" >"$out/container.txt"
		if ! grep -q 'saxpy ok' "$out/container.txt" && [ -x "$dir/bin/cuda-check" ]; then
			log "- FAILED: the CUDA program did not report a correct result in the container"
			FAILED=1
		fi
	fi

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
