#!/usr/bin/env bats
# nvbind serve: /metrics (checked by promtool and scraped by a real Prometheus), /healthz and
# /readyz on a fixture root; /readyz names the failing check (stale spec, missing node); a hung
# NVML call (the stand-in's NVB_STANDIN_NVML_HANG) costs a scrape at most the deadline. Loopback
# only; every daemon is stopped by its pid.

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	export ROOTS
	: >"$BATS_FILE_TMPDIR/empty.toml"
	export NVBIND_CONFIG="$BATS_FILE_TMPDIR/empty.toml"
	unset NVBIND_ROOT
}

setup() {
	PIDS=()
	export NVBIND_STATE_DIR="$BATS_TEST_TMPDIR/state"
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ready_root DIR: debian-4gpu with a fresh CDI spec
ready_root() {
	cp -a "$ROOTS/debian-4gpu" "$1"
	"$NVBIND" --root "$1" cdi generate 2>/dev/null
}

# start_serve ROOT [serve options]: the daemon in the background on a free loopback port; sets
# PORT, waits (bounded) until it answers /healthz
start_serve() {
	local root=$1 i
	shift
	PORT=$(free_port)
	"$NVBIND" --root "$root" serve --listen "127.0.0.1:$PORT" "$@" \
		>"$BATS_TEST_TMPDIR/serve.out" 2>"$BATS_TEST_TMPDIR/serve.err" &
	PIDS+=($!)
	for i in $(seq 100); do
		curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/serve.err" >&2
	return 1
}

get() { curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "http://127.0.0.1:$PORT$1"; }

@test "serve: /metrics passes promtool, names every GPU; /healthz and /readyz answer 200" {
	ready_root "$BATS_TEST_TMPDIR/r"
	start_serve "$BATS_TEST_TMPDIR/r"
	grep -q 'listening on http://127.0.0.1:' "$BATS_TEST_TMPDIR/serve.out"
	[ "$(get /metrics)" = 200 ]
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	grep -qx 'nvbind_up 1' "$m"
	grep -qx 'nvbind_nvml_up 1' "$m"
	grep -qx 'nvbind_gpus 4' "$m"
	grep -qx 'nvbind_cdi_spec_stale 0' "$m"
	grep -q '^nvbind_driver_info{version="550.54.14",' "$m"
	[ "$(grep -c '^nvbind_gpu_info{gpu="[0-3]",uuid="GPU-.*",vendor="nvidia",model="NVIDIA A100-SXM4-80GB"} 1$' "$m")" = 4 ]
	[ "$(grep -c '^nvbind_gpu_memory_total_bytes{.*} 85899345920$' "$m")" = 4 ]
	[ "$(grep -c '^nvbind_gpu_sample_age_seconds{' "$m")" = 4 ]
	grep -q '^# TYPE nvbind_runtime_added_latency_seconds histogram$' "$m"
	[ "$(get /healthz)" = 200 ]
	jq -e '.alive == true' "$BATS_TEST_TMPDIR/body"
	[ "$(get /readyz)" = 200 ]
	jq -e '.ready == true and ([.checks[].ok] | all) and
		([.checks[].name] == ["driver", "device_nodes", "cdi_spec", "nvml"])' "$BATS_TEST_TMPDIR/body"
	[ "$(get /nope)" = 404 ]
}

@test "serve: container records and wrapper counters appear in /metrics" {
	ready_root "$BATS_TEST_TMPDIR/r"
	mkdir -p "$NVBIND_STATE_DIR/containers"
	now=$(date +%s)
	# a record whose container the low-level runtime still knows (its state folder exists)
	mkdir -p "$BATS_TEST_TMPDIR/runc/c1"
	jq -n --arg rr "$BATS_TEST_TMPDIR/runc" --argjson t "$now" '{version: 1, id: "c1",
		bundle: "/b", engine: "podman", runtime_root: $rr, devices: ["nvidia.com/gpu=0"],
		gpus: ["GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41"], created: "x", created_unix: $t}' \
		>"$NVBIND_STATE_DIR/containers/c1.json"
	start_serve "$BATS_TEST_TMPDIR/r"
	[ "$(get /metrics)" = 200 ]
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	grep -qx 'nvbind_container_gpu_info{container_id="c1",gpu_uuid="GPU-4b0d1a5e-6a3c-9f2e-8d71-0c5a3e9b2f41",engine="podman"} 1' "$m"
	grep -qx 'nvbind_container_records{state="active"} 1' "$m"
	grep -qx 'nvbind_runtime_creates_total 0' "$m"
}

@test "serve: a real Prometheus scrapes it on loopback and finds nvbind_up" {
	ready_root "$BATS_TEST_TMPDIR/r"
	start_serve "$BATS_TEST_TMPDIR/r"
	ppp=$(free_port)
	cat >"$BATS_TEST_TMPDIR/prom.yml" <<-EOC
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: nvbind
	    static_configs:
	      - targets: ['127.0.0.1:$PORT']
	EOC
	prometheus --config.file="$BATS_TEST_TMPDIR/prom.yml" \
		--storage.tsdb.path="$BATS_TEST_TMPDIR/tsdb" \
		--web.listen-address="127.0.0.1:$ppp" >"$BATS_TEST_TMPDIR/prom.log" 2>&1 &
	PIDS+=($!)
	found=
	for i in $(seq 120); do
		if curl -s "http://127.0.0.1:$ppp/api/v1/query?query=nvbind_up" >"$BATS_TEST_TMPDIR/q" &&
			jq -e '.data.result[0].value[1] == "1"' "$BATS_TEST_TMPDIR/q" >/dev/null; then
			found=1
			break
		fi
		sleep 0.5
	done
	[ -n "$found" ] || { tail -20 "$BATS_TEST_TMPDIR/prom.log"; false; }
	curl -s "http://127.0.0.1:$ppp/api/v1/query?query=nvbind_gpu_info" |
		jq -e '.data.result | length == 4'
}

@test "serve: /readyz is 503 and names cdi_spec when the installed spec is of another driver" {
	ready_root "$BATS_TEST_TMPDIR/r"
	sed -i 's/550\.54\.14/535.104.05/g' "$BATS_TEST_TMPDIR/r/etc/cdi/nvidia.com-gpu.json"
	start_serve "$BATS_TEST_TMPDIR/r"
	[ "$(get /readyz)" = 503 ]
	b=$BATS_TEST_TMPDIR/body
	jq -e '.ready == false' "$b"
	jq -e '.checks[] | select(.name == "cdi_spec") | .ok == false' "$b"
	jq -r '.checks[] | select(.name == "cdi_spec") | .message' "$b" | grep -q 'stale: .* of driver 535.104.05'
	jq -e '[.checks[] | select(.name != "cdi_spec") | .ok] | all' "$b"
	[ "$(get /metrics)" = 200 ]
	grep -qx 'nvbind_cdi_spec_stale 1' "$BATS_TEST_TMPDIR/body"
}

@test "serve: /readyz is 503 and names device_nodes when a GPU node is missing" {
	ready_root "$BATS_TEST_TMPDIR/r"
	start_serve "$BATS_TEST_TMPDIR/r"
	[ "$(get /readyz)" = 200 ]
	rm "$BATS_TEST_TMPDIR/r/dev/nvidia1"
	[ "$(get /readyz)" = 503 ]
	jq -e '.checks[] | select(.name == "device_nodes") | .ok == false' "$BATS_TEST_TMPDIR/body"
	jq -r '.checks[] | select(.name == "device_nodes") | .message' "$BATS_TEST_TMPDIR/body" |
		grep -q '/dev/nvidia1'
}

@test "serve: a hung NVML call costs a scrape the deadline; the last values come with their age" {
	ready_root "$BATS_TEST_TMPDIR/r"
	hang=$BATS_TEST_TMPDIR/hang
	NVB_STANDIN_NVML_HANG=$hang start_serve "$BATS_TEST_TMPDIR/r" --deadline 200
	[ "$(get /metrics)" = 200 ]
	grep -qx 'nvbind_nvml_up 1' "$BATS_TEST_TMPDIR/body"
	touch "$hang"
	sleep 1
	start=$(date +%s%N)
	[ "$(get /metrics)" = 200 ]
	took=$((($(date +%s%N) - start) / 1000000))
	echo "scrape with NVML hung took ${took} ms" >&3
	[ "$took" -lt 1000 ]
	m=$BATS_TEST_TMPDIR/body
	grep -qx 'nvbind_nvml_up 0' "$m"
	age=$(sed -n 's/^nvbind_gpu_sample_age_seconds{gpu="0",.*} //p' "$m")
	awk -v a="$age" 'BEGIN { exit !(a >= 0.9) }'
	[ "$(get /readyz)" = 503 ]
	jq -r '.checks[] | select(.name == "nvml") | .message' "$BATS_TEST_TMPDIR/body" |
		grep -q 'did not answer within 200 ms'
	# the driver answers again: the next sample is fresh
	rm "$hang"
	for i in $(seq 20); do
		get /metrics >/dev/null
		grep -qx 'nvbind_nvml_up 1' "$BATS_TEST_TMPDIR/body" && break
		sleep 0.1
	done
	grep -qx 'nvbind_nvml_up 1' "$BATS_TEST_TMPDIR/body"
}

@test "serve: --socket alone listens on a Unix socket and no TCP port; bad options are usage errors" {
	ready_root "$BATS_TEST_TMPDIR/r"
	sock=$BATS_TEST_TMPDIR/s.sock
	"$NVBIND" --root "$BATS_TEST_TMPDIR/r" serve --socket "$sock" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	PIDS+=($!)
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	curl -s --unix-socket "$sock" http://localhost/metrics | grep -qx 'nvbind_up 1'
	! grep -q 'listening on http' "$BATS_TEST_TMPDIR/out"
	run -2 "$NVBIND" serve --deadline 0
	run -2 "$NVBIND" serve --listen none
	run -2 "$NVBIND" --root "$BATS_TEST_TMPDIR/r" serve --listen 127.0.0.1
	[[ $output == *"ADDRESS:PORT"* ]]
}

# gpu_values FILE: the per-GPU value series of a scrape (utilization, memory, temperature,
# power, clock, energy), in the order served
gpu_values() {
	grep -E '^nvbind_gpu_(utilization_ratio|memory_utilization_ratio|memory_used_bytes|memory_total_bytes|temperature_celsius|power_watts|sm_clock_hertz|energy_joules_total)\{' "$1" || true
}

@test "serve: AMD GPUs from amdgpu sysfs (amd-host): exact series, partitions once per device" {
	start_serve "$ROOTS/amd-host"
	[ "$(get /metrics)" = 200 ]
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	grep -qx 'nvbind_gpus 10' "$m"
	[ "$(grep -c '^nvbind_gpu_info{gpu="[0-9]",uuid="[^"]*",vendor="amd",model="AMD Instinct MI[23]' "$m")" = 10 ]
	grep -qx 'nvbind_driver_info{version="6.7.0",kernel_module="amdgpu",vendor="amd"} 1' "$m"
	a='gpu="0",uuid="0x25bc3339d0ea0007",vendor="amd",model="AMD Instinct MI210"'
	b='gpu="1",uuid="0x8838290a7af1b009",vendor="amd",model="AMD Instinct MI210"'
	c='gpu="2",uuid="",vendor="amd",model="AMD Instinct MI300X (partition 0)"'
	# MI210 #2 has no mem_busy_percent, power or sclk file; MI300X partitions 1..7 share
	# partition 0's PCI device and get no series of their own
	diff -u - <(gpu_values "$m") <<-EOX
	nvbind_gpu_utilization_ratio{$a} 0.37
	nvbind_gpu_utilization_ratio{$b} 0
	nvbind_gpu_utilization_ratio{$c} 0.91
	nvbind_gpu_memory_utilization_ratio{$a} 0.12
	nvbind_gpu_memory_utilization_ratio{$c} 0.54
	nvbind_gpu_memory_used_bytes{$a} 12884901888
	nvbind_gpu_memory_used_bytes{$b} 0
	nvbind_gpu_memory_used_bytes{$c} 103079215104
	nvbind_gpu_memory_total_bytes{$a} 68702699520
	nvbind_gpu_memory_total_bytes{$b} 68702699520
	nvbind_gpu_memory_total_bytes{$c} 206158430208
	nvbind_gpu_temperature_celsius{$a} 45
	nvbind_gpu_temperature_celsius{$b} 38.5
	nvbind_gpu_temperature_celsius{$c} 62
	nvbind_gpu_power_watts{$a} 87
	nvbind_gpu_power_watts{$c} 612
	nvbind_gpu_sm_clock_hertz{$a} 1700000000
	nvbind_gpu_sm_clock_hertz{$c} 2100000000
	EOX
	# NVML's families exist but have no AMD series
	! grep -q '^nvbind_gpu_\(ecc_errors_total\|throttle_reason\|sample_age_seconds\){.*vendor="amd"' "$m"
	! grep -q 'warn' "$BATS_TEST_TMPDIR/serve.err"
}

@test "serve: Intel GPUs from i915/xe sysfs (intel-host): GT clock, energy counter, xe temperature" {
	start_serve "$ROOTS/intel-host"
	[ "$(get /metrics)" = 200 ]
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	grep -qx 'nvbind_gpus 4' "$m"
	grep -q '^nvbind_gpu_info{gpu="3",uuid="",vendor="intel",model="ATS-M \[Data Center GPU Flex 170\]"} 1$' "$m"
	grep -q '^# TYPE nvbind_gpu_energy_joules_total counter$' "$m"
	u='gpu="0",uuid="0000-00-02-0-0xa780",vendor="intel",model="Raptor Lake-S GT1 [UHD Graphics 770]"'
	a='gpu="1",uuid="0000-03-00-0-0x56a0",vendor="intel",model="DG2 [Arc A770]"'
	x='gpu="2",uuid="0000-06-00-0-0xe20b",vendor="intel",model="Battlemage G21 [Arc B580]"'
	# no utilization, memory or power for Intel; the vfio-pci Flex 170 has nothing
	diff -u - <(gpu_values "$m") <<-EOX
	nvbind_gpu_temperature_celsius{$x} 51
	nvbind_gpu_sm_clock_hertz{$u} 1450000000
	nvbind_gpu_sm_clock_hertz{$a} 2400000000
	nvbind_gpu_sm_clock_hertz{$x} 2850000000
	nvbind_gpu_energy_joules_total{$a} 123456.789012
	nvbind_gpu_energy_joules_total{$x} 98765.4321
	EOX
}

@test "serve: NVIDIA and AMD side by side (mixed-nvidia-amd): NVML series keep their labels" {
	start_serve "$ROOTS/mixed-nvidia-amd"
	[ "$(get /metrics)" = 200 ]
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	grep -qx 'nvbind_gpus 2' "$m"
	grep -qx 'nvbind_driver_info{version="570.124.06",kernel_module="open",vendor="nvidia"} 1' "$m"
	n='gpu="0",uuid="GPU-3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d",vendor="nvidia",model="NVIDIA L4"'
	a='gpu="0",uuid="0x25bc3339d0ea0007",vendor="amd",model="AMD Instinct MI210"'
	grep -qx "nvbind_gpu_info{$n} 1" "$m"
	grep -qx "nvbind_gpu_info{$a} 1" "$m"
	grep -qx "nvbind_gpu_memory_total_bytes{$n} 24152899584" "$m"
	grep -q "^nvbind_gpu_sample_age_seconds{$n} " "$m"
	diff -u - <(gpu_values "$m" | grep 'vendor="amd"') <<-EOX
	nvbind_gpu_utilization_ratio{$a} 0.05
	nvbind_gpu_memory_utilization_ratio{$a} 0.01
	nvbind_gpu_memory_used_bytes{$a} 1073741824
	nvbind_gpu_memory_total_bytes{$a} 68702699520
	nvbind_gpu_temperature_celsius{$a} 33
	nvbind_gpu_power_watts{$a} 41
	nvbind_gpu_sm_clock_hertz{$a} 500000000
	EOX
}

@test "serve: missing and malformed sysfs files export nothing for them, logged once, never read outside the root" {
	r=$BATS_TEST_TMPDIR/r
	cp -a "$ROOTS/amd-host" "$r"
	m0=$r/sys/bus/pci/devices/0000:03:00.0
	m1=$r/sys/bus/pci/devices/0000:43:00.0
	echo abc >"$m0/gpu_busy_percent"
	echo 101 >"$m0/mem_busy_percent"
	echo 68702699520x >"$m0/mem_info_vram_total"
	: >"$m0/hwmon/hwmon2/temp1_input"
	echo 99999999999999999999999 >"$m0/hwmon/hwmon2/power1_average"
	rm "$m0/hwmon/hwmon2/freq1_input"
	mkfifo "$m0/hwmon/hwmon2/freq1_input"
	printf '4\0002\n' >"$m1/gpu_busy_percent"
	head -c 100000 /dev/zero | tr '\0' 7 >"$m1/mem_busy_percent"
	# a link out of the root: resolved inside it, where /proc/sys does not exist (the real
	# pid_max, beside the valid mem_info_vram_total, would make a memory series)
	cat /proc/sys/kernel/pid_max
	rm "$m1/mem_info_vram_used"
	ln -s /proc/sys/kernel/pid_max "$m1/mem_info_vram_used"
	rm -r "$m1/hwmon"
	start_serve "$r"
	for i in 1 2 3; do [ "$(get /metrics)" = 200 ]; done
	m=$BATS_TEST_TMPDIR/body
	promtool check metrics <"$m"
	# only the untouched MI300X is left
	c='gpu="2",uuid="",vendor="amd",model="AMD Instinct MI300X (partition 0)"'
	diff -u - <(gpu_values "$m") <<-EOX
	nvbind_gpu_utilization_ratio{$c} 0.91
	nvbind_gpu_memory_utilization_ratio{$c} 0.54
	nvbind_gpu_memory_used_bytes{$c} 103079215104
	nvbind_gpu_memory_total_bytes{$c} 206158430208
	nvbind_gpu_temperature_celsius{$c} 62
	nvbind_gpu_power_watts{$c} 612
	nvbind_gpu_sm_clock_hertz{$c} 2100000000
	EOX
	e=$BATS_TEST_TMPDIR/serve.err
	cat "$e"
	for f in 0000:03:00.0/gpu_busy_percent 0000:03:00.0/mem_busy_percent \
		0000:03:00.0/mem_info_vram_total 0000:03:00.0/hwmon/hwmon2/temp1_input \
		0000:03:00.0/hwmon/hwmon2/power1_average 0000:03:00.0/hwmon/hwmon2/freq1_input \
		0000:43:00.0/gpu_busy_percent 0000:43:00.0/mem_busy_percent; do
		[ "$(grep -c "/sys/bus/pci/devices/$f " "$e")" = 1 ]
	done
	grep -q 'freq1_input is not a regular file' "$e"
	grep -q '0000:43:00.0/gpu_busy_percent holds a NUL byte' "$e"
	grep -q '0000:43:00.0/mem_busy_percent is longer than 64 bytes' "$e"
	grep -q '0000:03:00.0/gpu_busy_percent is not a number from 0 to 100' "$e"
	! grep -q 'mem_info_vram_used' "$e"
}
