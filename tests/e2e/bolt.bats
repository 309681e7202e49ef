#!/usr/bin/env bats
# Bolt and embedders (docs/bolt.md): nvbind capsule setup|apply on the fixture roots, and the
# command lines nvbind run builds for bolt (and --isolation, CDI names of any vendor, for every
# engine). The library calls behind them are also what the Rust binding's tests (tests/run.sh,
# stage "rust") call.

bats_require_minimum_version 1.5.0
load helpers/common

setup_file() {
	ensure_roots
	export ROOTS
}

setup() {
	WORK="$BATS_TEST_TMPDIR"
	printf '%s' '{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["PATH=/bin","CUDA_MODULE_LOADING=EAGER"]},"root":{"path":"rootfs"},"linux":{}}' \
		>"$WORK/config.json"
	# no configuration of the machine, no engine: a user configuration with one profile
	export XDG_CONFIG_HOME="$WORK/xdg" NVBIND_CONFIG=
	unset NVBIND_CONFIG
	mkdir -p "$XDG_CONFIG_HOME/nvbind"
	cat >"$XDG_CONFIG_HOME/nvbind/config.toml" <<'CONF'
[profiles.render]
description = "test profile"
capabilities = "graphics,compute,utility"
devices = "1"
env = { RENDER_MODE = "offline" }
CONF
}

capsule() { # ROOT ARGS...: nvbind capsule on a fixture root, stdout only in $output
	local root=$1
	shift
	run --separate-stderr "$NVBIND" --root "$ROOTS/$root" capsule "$@"
}

minor_of() { # ROOT INDEX: the device minor of GPU INDEX of the root
	"$NVBIND" --root "$ROOTS/$1" info --json | jq -r ".gpus[] | select(.index == $2) | .minor"
}

@test "capsule setup --edits-only: GPU 0 of h100-host, the ai-ml profile, the capsule's annotations" {
	capsule h100-host setup --id train-1 --gpu 0 --profile ai-ml --env MODEL=llama --edits-only
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.linux.devices[] | select(.path == "/dev/nvidia0") | "\(.type) \(.major) \(.minor)"' <<<"$output")" = "c 195 0" ]
	jq -e '.linux.devices[] | select(.path == "/dev/nvidiactl")' <<<"$output" >/dev/null
	jq -e '.linux.resources.devices[] | select(.allow and .major == 195 and .minor == 0)' <<<"$output" >/dev/null
	# the driver's libraries from inside the root, and the hook that links them
	src=$(jq -r '.mounts[] | select(.destination == "/usr/lib/nvbind") | .source' <<<"$output")
	[[ "$src" == "$ROOTS/h100-host/var/lib/nvbind/driver/580.159.04-"* ]]
	[ "$(stat -c %d:%i "$src/lib/libcuda.so.580.159.04")" = "$(stat -c %d:%i "$ROOTS/h100-host/usr/local/nvidia/lib64/libcuda.so.580.159.04")" ]
	[ "$(jq '.hooks.createRuntime | length' <<<"$output")" -ge 1 ]
	jq -e '.process.env | index("CUDA_MODULE_LOADING=LAZY") and index("MODEL=llama")' <<<"$output" >/dev/null
	[ "$(jq -r '.annotations["nvbind.io/capsule"]' <<<"$output")" = train-1 ]
	[ "$(jq -r '.annotations["nvbind.io/profile"]' <<<"$output")" = ai-ml ]
	# edits only: nothing of a config that was not an edit
	[ "$(jq -r 'has("ociVersion") or has("root")' <<<"$output")" = false ]
}

@test "capsule setup CONFIG -o: the config edited in place, its own variables kept over the profile's" {
	capsule debian-4gpu setup --id c2 --gpu nvidia.com/gpu=1 --profile ai-ml -o "$WORK/config.json" "$WORK/config.json"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	cfg=$(cat "$WORK/config.json")
	m=$(minor_of debian-4gpu 1)
	jq -e --arg p "/dev/nvidia$m" '.linux.devices[] | select(.path == $p)' <<<"$cfg" >/dev/null
	# GPU 1 only
	[ "$(jq '[.linux.devices[] | select(.path | test("^/dev/nvidia[0-9]+$"))] | length' <<<"$cfg")" -eq 1 ]
	jq -e '.process.env | index("PATH=/bin") and index("CUDA_MODULE_LOADING=EAGER")' <<<"$cfg" >/dev/null
	! jq -e '.process.env | index("CUDA_MODULE_LOADING=LAZY")' <<<"$cfg" >/dev/null
	[ "$(jq -r '.process.args[0]' <<<"$cfg")" = sh ]
}

@test "capsule setup: the edits alone and the edited config carry the same devices and mounts" {
	capsule debian-4gpu setup --id c3 --gpu 0,2 --edits-only
	edits=$output
	capsule debian-4gpu setup --id c3 --gpu 0,2 "$WORK/config.json"
	[ "$status" -eq 0 ]
	diff <(jq -S .linux.devices <<<"$edits") <(jq -S .linux.devices <<<"$output")
	diff <(jq -S .mounts <<<"$edits") <(jq -S .mounts <<<"$output")
	[ "$(jq '[.linux.devices[] | select(.path | test("^/dev/nvidia[0-9]+$"))] | length' <<<"$edits")" -eq 2 ]
}

@test "capsule setup: a profile of the configuration file gives its variables, devices and capabilities" {
	capsule debian-4gpu setup --id r1 --profile render --edits-only
	echo "$stderr"
	[ "$status" -eq 0 ]
	jq -e '.process.env | index("RENDER_MODE=offline")' <<<"$output" >/dev/null
	m=$(minor_of debian-4gpu 1)
	jq -e --arg p "/dev/nvidia$m" '.linux.devices[] | select(.path == $p)' <<<"$output" >/dev/null
	# graphics: the GLX library is registered (it is in the driver folder)
	[[ "$(jq -r '.hooks.createRuntime[0].args | join(" ")' <<<"$output")" == *"/usr/lib/nvbind/lib/libGLX_nvidia.so."*"::libGLX_nvidia.so.0::"* ]]
	# only built-in profiles are recorded by name (the library knows no configuration file)
	[ "$(jq -r '.annotations["nvbind.io/profile"] // "none"' <<<"$output")" = none ]
}

@test "capsule setup: errors name what is wrong" {
	capsule h100-host setup --gpu 0 --edits-only
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--id ID is required"* ]]
	capsule h100-host setup --id ../x --edits-only
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"capsule id '../x' is not a plain name"* ]]
	capsule h100-host setup --id a --profile ai-lm --edits-only
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"hint: did you mean 'ai-ml'?"* ]]
	capsule h100-host setup --id a --edits-only "$WORK/config.json"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"either CONFIG or --edits-only"* ]]
	capsule h100-host setup --id a --gpu 3 --edits-only
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"3"* ]]
	capsule h100-host setup --id a --gpu vendor/x= --edits-only
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"not a qualified CDI name"* ]]
	capsule h100-host setup --id a "$WORK/missing.json"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"missing.json"* ]]
}

@test "capsule apply: qualified CDI names through the runtime's apply, bad names refused" {
	capsule h100-host apply --device nvidia.com/gpu=0 "$WORK/config.json"
	echo "$stderr"
	[ "$status" -eq 0 ]
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$output" >/dev/null
	jq -e '.process.env | index("PATH=/bin")' <<<"$output" >/dev/null
	# the same edits as the library's nvb_oci_apply gives nvbind-runtime: the uuid name too
	uuid=$("$NVBIND" --root "$ROOTS/h100-host" info --json | jq -r '.gpus[0].uuid')
	capsule h100-host apply --device "nvidia.com/gpu=$uuid" "$WORK/config.json"
	[ "$status" -eq 0 ]
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$output" >/dev/null
	capsule h100-host apply --device gpu0 "$WORK/config.json"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"'gpu0' is not a qualified CDI device name"* ]]
	capsule h100-host apply --device nvidia.com/gpu=9 "$WORK/config.json"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"nvidia.com/gpu=9"* ]]
	capsule h100-host apply "$WORK/config.json"
	[ "$status" -eq 2 ]
	capsule h100-host apply --device nvidia.com/gpu=0 --id x "$WORK/config.json"
	[ "$status" -eq 2 ]
}

@test "capsule apply: a spec directory given with --spec-dir is the one read" {
	mkdir -p "$WORK/cdi"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$WORK/cdi/gpu.json" 2>/dev/null
	# the spec of debian-4gpu has GPU 3; h100-host, whose own spec would be generated, has not
	capsule h100-host apply --spec-dir "$WORK/cdi" --device nvidia.com/gpu=3 "$WORK/config.json"
	echo "$stderr"
	[ "$status" -eq 0 ]
	m=$(minor_of debian-4gpu 3)
	jq -e --arg p "/dev/nvidia$m" '.linux.devices[] | select(.path == $p)' <<<"$output" >/dev/null
}

@test "run --runtime bolt --dry-run: 'bolt run IMAGE --runtime nvbind --gpu SEL -e K=V'" {
	run "$NVBIND" run --runtime bolt --gpu 0,1 --profile ai-ml -e A=b --dry-run img
	[ "$status" -eq 0 ]
	[ "$output" = "bolt run img --runtime nvbind --gpu 0,1 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility -e CUDA_MODULE_LOADING=LAZY -e CUDA_CACHE_MAXSIZE=4294967296 -e PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True -e TF_FORCE_GPU_ALLOW_GROWTH=true -e XLA_PYTHON_CLIENT_PREALLOCATE=false -e A=b" ]
	run "$NVBIND" run --runtime bolt --gpu amd.com/gpu=0 --dry-run img
	[ "$output" = "bolt run img --runtime nvbind --gpu amd.com/gpu=0 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility" ]
	run "$NVBIND" run --runtime bolt --gpu none --dry-run img
	[ "$output" = "bolt run img --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=void" ]
	run "$NVBIND" run --runtime bolt --gpu all --isolation exclusive --dry-run img
	[ "$output" = "bolt run img --runtime nvbind --gpu all -e NVIDIA_DRIVER_CAPABILITIES=compute,utility -e NVBIND_ISOLATION=exclusive" ]
	# Bolt's run takes no command
	run "$NVBIND" run --runtime bolt --dry-run img nvidia-smi -L
	[ "$status" -eq 2 ]
	[[ "$output" == *"'bolt run' takes no CMD ('nvidia-smi' given)"* ]]
}

@test "run --isolation: the annotation nvbind.io/isolation for docker and podman, checked words" {
	run "$NVBIND" run --runtime podman --gpu 0 --isolation virtual --dry-run img true
	[ "$status" -eq 0 ]
	[[ "$output" == "podman run --device nvidia.com/gpu=0 "*" --annotation nvbind.io/isolation=virtual img true" ]]
	run "$NVBIND" run --runtime docker --gpu 0 --isolation shared --dry-run img true
	[ "$status" -eq 0 ]
	[[ "$output" == "docker run --runtime nvbind "*" --annotation nvbind.io/isolation=shared img true" ]]
	run "$NVBIND" run --isolation private --dry-run img
	[ "$status" -eq 2 ]
	[[ "$output" == *"--isolation 'private' is not shared, exclusive or virtual"* ]]
}

@test "run --gpu with CDI names of another vendor, for every engine" {
	run "$NVBIND" run --runtime podman --gpu amd.com/gpu=0,intel.com/gpu=1 --dry-run img
	[ "$status" -eq 0 ]
	[[ "$output" == "podman run --device amd.com/gpu=0 --device intel.com/gpu=1 -e NVIDIA_VISIBLE_DEVICES=void "* ]]
	run "$NVBIND" run --runtime docker --gpu amd.com/gpu=0 --dry-run img
	[ "$status" -eq 0 ]
	[[ "$output" == "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=amd.com/gpu=0 "* ]]
	run "$NVBIND" run --runtime bolt --gpu intel.com/gpu=0 --dry-run img
	[ "$status" -eq 0 ]
	[[ "$output" == "bolt run img --runtime nvbind --gpu intel.com/gpu=0 "* ]]
}
