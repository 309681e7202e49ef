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
