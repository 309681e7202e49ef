#!/usr/bin/env bats
# libnvbind as an embedding API (docs/api.md): the build under test is installed into a
# temporary DESTDIR, and programs are compiled against that installed copy with
# `pkg-config nvbind`, as a user of the library does: tests/api/example.c (the example of
# docs/api.md) and tests/api/check.c. They run on the fixture roots.

bats_require_minimum_version 1.5.0
load helpers/common

BUILD="${NVB_BUILD_ROOT:-$REPO/build}"

setup_file() {
	ensure_roots
	export ROOTS
	export DEST="$BATS_FILE_TMPDIR/dest"
	meson install -C "$BUILD" --destdir "$DEST" --quiet >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
	LIBDIR=$(dirname "$(find "$DEST" -name libnvbind.so.1 | head -1)")
	export LIBDIR
	# a sanitizer build's library needs the sanitizer runtimes in the program too
	SAN=
	if readelf -d "$LIBDIR/libnvbind.so.1" | grep -q 'NEEDED.*libasan'; then
		SAN="-fsanitize=address,undefined"
	fi
	export SAN
	export BIN="$BATS_FILE_TMPDIR/bin"
	mkdir -p "$BIN"
	# shellcheck disable=SC2046
	cc -Wall -Wextra -Werror $SAN "$REPO/tests/api/example.c" $(pc --cflags --libs nvbind) \
		-o "$BIN/example"
	# shellcheck disable=SC2046
	cc -Wall -Wextra -Werror $SAN "$REPO/tests/api/check.c" $(pc --cflags --libs nvbind) \
		-pthread -o "$BIN/check"
}

# pkg-config of the installed copy: its .pc names /usr/local paths, found under DESTDIR
pc() { PKG_CONFIG_PATH="$LIBDIR/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST" pkg-config "$@"; }

setup() {
	export LD_LIBRARY_PATH="$LIBDIR"
	H100="$ROOTS/h100-host"
	WORK="$BATS_TEST_TMPDIR"
	printf '%s' '{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["PATH=/bin"]},"root":{"path":"rootfs"},"linux":{}}' \
		>"$WORK/config.json"
	mkdir -p "$WORK/rootfs"
}

# last: the last line of $output (the edited config the programs print)
last() { tail -n 1 <<<"$output"; }

@test "api: the installed libnvbind.so.1 exports exactly nvbind.h's NVB_API functions, each as @@NVBIND_1 or a later node" {
	readelf -d "$LIBDIR/libnvbind.so.1" | grep -q 'SONAME.*\[libnvbind\.so\.1\]'
	header=$(grep -oE 'NVB_API[^(]*\(' "$DEST"/usr/local/include/nvbind/nvbind.h |
		grep -oE 'nvb_[a-z0-9_]+ *\($' | tr -d ' (' | sort)
	map=$(sed -n '/global:/,/local:/p' "$REPO/src/libnvbind.map" | grep -oE 'nvb_[a-z0-9_]+' | sort)
	run nm -D --defined-only "$LIBDIR/libnvbind.so.1"
	[ "$status" -eq 0 ]
	# the version nodes themselves, then only nvb_ functions, every one under NVBIND_1 or NVBIND_1.N
	bad=$(grep -vE '^[0-9a-f]+ A NVBIND_1(\.[0-9]+)?$' <<<"$output" |
		grep -vE '^[0-9a-f]+ T nvb_[a-z0-9_]+@@NVBIND_1(\.[0-9]+)?$' || true)
	[ -z "$bad" ] || { echo "unexpected exports: $bad"; false; }
	exported=$(grep -oE 'nvb_[a-z0-9_]+@@' <<<"$output" | tr -d @ | sort)
	diff <(echo "$header") <(echo "$exported")
	diff <(echo "$header") <(echo "$map")
	[ "$(wc -l <<<"$exported")" -ge 60 ]
	# a program linked against it asks for the versioned symbols
	run readelf --dyn-syms -W "$BIN/example"
	grep -q 'nvb_oci_apply_file@NVBIND_1' <<<"$output"
}

@test "api: libnvbind.so carries no front-end code (doctor, migrate, engine setup, configuration file)" {
	run nm "$LIBDIR/libnvbind.so.1"
	[ "$status" -eq 0 ]
	grep -q ' nvb_cdi_generate$' <<<"$output" # the symbol table is there: the check means something
	for sym in nvb_doctor_add nvb_migrate_target_parse nvb_docker_run_parse nvb_docker_edit \
		nvb_podman_register nvb_text_diff nvb_config_load nvb_toml_parse; do
		! grep -qE " $sym\$" <<<"$output" || { echo "$sym is in libnvbind.so"; false; }
	done
	# the internal archive is the front ends', never installed
	[ -z "$(find "$DEST" -name '*nvbind-internal*')" ]
}

@test "api: example.c, built with pkg-config against the installed library, gives GPU 0 of h100-host to a config.json" {
	run --separate-stderr "$BIN/example" --root "$H100" "$WORK/config.json"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"driver 580.159.04"* ]]
	[[ "$output" == *"gpu 0: NVIDIA H100 80GB HBM3 GPU-"* ]]
	[[ "$output" == *"spec: "*"bytes of YAML, starting cdiVersion:"* ]]
	cfg=$(last)
	# the device node, its cgroup rule, and the control nodes
	[ "$(jq -r '.linux.devices[] | select(.path == "/dev/nvidia0") | "\(.type) \(.major) \(.minor)"' <<<"$cfg")" = "c 195 0" ]
	jq -e '.linux.resources.devices[] | select(.allow and .major == 195 and .minor == 0)' <<<"$cfg" >/dev/null
	jq -e '.linux.devices[] | select(.path == "/dev/nvidiactl")' <<<"$cfg" >/dev/null
	# the driver folder, bind-mounted read-only from inside the host root: its libcuda is the
	# host's very file (a hard link)
	src=$(jq -r '.mounts[] | select(.destination == "/usr/lib/nvbind") | .source' <<<"$cfg")
	[[ "$src" == "$H100/var/lib/nvbind/driver/580.159.04-"* ]]
	[ "$(stat -c %d:%i "$src/lib/libcuda.so.580.159.04")" = "$(stat -c %d:%i "$H100/usr/local/nvidia/lib64/libcuda.so.580.159.04")" ]
	jq -e '.mounts[] | select(.destination == "/usr/lib/nvbind") | .options | index("ro")' <<<"$cfg" >/dev/null
	# no bundle given: the library links are left to one nvbind-hook hook, at createRuntime
	[ "$(jq '[.hooks.createRuntime[] | select(.path | endswith("/nvbind-hook"))] | length' <<<"$cfg")" -eq 1 ]
	[ "$(jq -r '.hooks.createRuntime[0].args[1:4] | join(" ")' <<<"$cfg")" = "libraries --stage createRuntime" ]
	[ "$(jq '.hooks.createContainer // [] | length' <<<"$cfg")" -eq 0 ]
	# the config itself is not written
	[ "$(cat "$WORK/config.json")" = '{"ociVersion":"1.0.2","process":{"args":["sh"],"env":["PATH=/bin"]},"root":{"path":"rootfs"},"linux":{}}' ]
	# the log callback got the library's message about the spec generated in memory
	[[ "$stderr" == *"example: nvbind runtime (level 2): no CDI spec installed for nvidia.com/gpu: generated one in memory"* ]]
}

@test "api: the spec the library writes is byte for byte nvbind cdi generate's, and the device resolves in it" {
	mkdir -p "$WORK/specs" "$WORK/cli"
	run --separate-stderr "$BIN/example" --root "$H100" --spec-dir "$WORK/specs" "$WORK/config.json"
	[ "$status" -eq 0 ]
	hook=$(jq -r '[.. | objects | select(has("hookName")) | .path][0]' "$WORK/specs/nvidia.com-gpu.json")
	[[ "$hook" == /*/nvbind-hook ]]
	"$NVBIND" --root "$H100" cdi generate --hook-path "$hook" --output "$WORK/cli/nvidia.com-gpu.json" 2>/dev/null
	cmp "$WORK/specs/nvidia.com-gpu.json" "$WORK/cli/nvidia.com-gpu.json"
	[ "$(stat -c %a "$WORK/specs/nvidia.com-gpu.json")" = 644 ]
	# resolved in that spec: no spec generated in memory this time
	[[ "$stderr" != *"generated one in memory"* ]]
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$(last)" >/dev/null
	# every generate option, as text: the library's string is the command's output
	for opts in "yaml" "json --naming type-index --caps utility,compute --kind example.com/gpu" \
		"yaml --naming index,uuid,type-index --caps all"; do
		set -- $opts
		fmt=$1
		shift
		cli=(--format "$fmt")
		lib=("$fmt")
		while [ $# -gt 0 ]; do
			case $1 in
			--naming) cli+=(--device-name-strategy "$2") lib+=(--naming "$2") ;;
			--caps) cli+=(--driver-capabilities "$2") lib+=(--caps "$2") ;;
			--kind) cli+=(--kind "$2") lib+=(--kind "$2") ;;
			esac
			shift 2
		done
		diff <("$BIN/check" spec "$H100" "${lib[@]}" --hook /opt/x/nvbind-hook) \
			<("$NVBIND" --root "$H100" cdi generate --output - --hook-path /opt/x/nvbind-hook "${cli[@]}")
	done
}

@test "api: with a bundle the libraries are linked and the loader cache written in its root, and no hook is left" {
	mkdir -p "$WORK/rootfs/etc"
	cp "$WORK/config.json" "$WORK/before.json"
	run --separate-stderr "$BIN/example" --root "$H100" --bundle "$WORK"
	echo "$stderr"
	[ "$status" -eq 0 ]
	cfg=$(last)
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$cfg" >/dev/null
	[ "$(jq '[.hooks // {} | .[][] | select(.path | endswith("nvbind-hook"))] | length' <<<"$cfg")" -eq 0 ]
	# the SONAME links are in the driver folder, made once: nothing under /usr/lib/nvbind here
	[ ! -e "$WORK/rootfs/usr/lib/nvbind" ]
	[ "$(readlink "$WORK/rootfs/usr/bin/nvidia-smi")" = /usr/lib/nvbind/bin/nvidia-smi ]
	[ -s "$WORK/rootfs/etc/ld.so.cache" ]
	ldconfig -p -C "$WORK/rootfs/etc/ld.so.cache" | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/lib/nvbind/lib/libcuda.so.1' 
	cmp "$WORK/config.json" "$WORK/before.json" # the caller writes the config, not the library
}

@test "api: string and file give the same config; NVIDIA_VISIBLE_DEVICES-style requests follow the capabilities" {
	a=$("$BIN/check" apply "$H100" "$WORK/config.json" --device nvidia.com/gpu=0)
	b=$("$BIN/check" apply "$H100" "$WORK/config.json" --string --device nvidia.com/gpu=0)
	[ -n "$a" ] && [ "$a" = "$b" ]
	# utility only: nvidia-smi and NVML, not libcuda
	run "$BIN/check" apply "$H100" "$WORK/config.json" --visible 0 --caps utility
	[ "$status" -eq 0 ]
	jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$output" >/dev/null
	# (the driver folder holds every file; the hook registers and links only the wanted ones)
	args=$(jq -r '.hooks.createRuntime[0].args | join(" ")' <<<"$output")
	[[ "$args" == *"--link /usr/lib/nvbind/bin/nvidia-smi::/usr/bin/nvidia-smi"* ]]
	[[ "$args" == *"libnvidia-ml.so.1"* ]]
	[[ "$args" != *"libcuda"* ]]
	# the default capabilities (utility, compute) bring libcuda
	run "$BIN/check" apply "$H100" "$WORK/config.json" --visible GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a
	[[ "$(jq -r '.hooks.createRuntime[0].args | join(" ")' <<<"$output")" == *"--lib /usr/lib/nvbind/lib/libcuda.so.580.159.04::libcuda.so.1::x86-64"* ]]
	# none: the driver's files and control nodes, no GPU
	run "$BIN/check" apply "$H100" "$WORK/config.json" --visible none
	[ "$status" -eq 0 ]
	! jq -e '.linux.devices[] | select(.path == "/dev/nvidia0")' <<<"$output" >/dev/null
	jq -e '.linux.devices[] | select(.path == "/dev/nvidiactl")' <<<"$output" >/dev/null
	# no spec directory at all (an empty list): generated from the host, as without specs
	run "$BIN/check" apply "$H100" "$WORK/config.json" --no-spec-dirs --device nvidia.com/gpu=0
	[ "$output" = "$a" ]
}

@test "api: the config's own requests count only with NVB_APPLY_CONFIG_REQUESTS, env ones of unprivileged containers only with NVB_APPLY_ENV_UNPRIVILEGED" {
	jq -c '.process.env += ["NVIDIA_VISIBLE_DEVICES=0"]' "$WORK/config.json" >"$WORK/env.json"
	jq -c '.annotations = {"cdi.k8s.io/gpu": "nvidia.com/gpu=0"}' "$WORK/config.json" >"$WORK/ann.json"
	has_gpu() { jq -e '.linux.devices[]? | select(.path == "/dev/nvidia0")' <<<"$1" >/dev/null; }
	out=$("$BIN/check" apply "$H100" "$WORK/env.json")
	! has_gpu "$out"
	out=$("$BIN/check" apply "$H100" "$WORK/env.json" --flags 1)
	! has_gpu "$out"
	out=$("$BIN/check" apply "$H100" "$WORK/env.json" --flags 3)
	has_gpu "$out"
	out=$("$BIN/check" apply "$H100" "$WORK/ann.json")
	! has_gpu "$out"
	out=$("$BIN/check" apply "$H100" "$WORK/ann.json" --flags 1)
	has_gpu "$out"
	# a config without requests comes back as it was
	out=$("$BIN/check" apply "$H100" "$WORK/config.json")
	[ "$out" = "$(cat "$WORK/config.json")" ]
}

@test "api: misuse gives documented error codes; accessors take NULL and indexes out of range" {
	run "$BIN/check" errors "$H100" "$WORK"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "errors: all checks passed" ]
}

@test "api: the log callback receives the messages, honours the level, and can be removed" {
	run --separate-stderr "$BIN/check" log "$H100"
	echo "$output / $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == "log: "*"runtime no CDI spec installed for nvidia.com/gpu: generated one in memory" ]]
	# after nvb_log_set_callback(NULL, NULL) the message goes to stderr again
	[[ "$stderr" == *"info  runtime: no CDI spec installed"* ]]
}

@test "api: threads with a host each get the same spec and config (ThreadSanitizer where the compiler has it)" {
	mkdir -p "$WORK/specs"
	"$BIN/example" --root "$H100" --spec-dir "$WORK/specs" "$WORK/config.json" >/dev/null 2>&1
	run "$BIN/check" threads "$H100" "$WORK/config.json" 8 "$WORK/specs"
	echo "$output"
	[ "$status" -eq 0 ]
	echo 'int main(void){return 0;}' >"$WORK/t.c"
	cc -fsanitize=thread "$WORK/t.c" -o "$WORK/t" 2>/dev/null && "$WORK/t" ||
		skip "the compiler cannot build ThreadSanitizer programs"
	# the library's own sources, as the build compiles them into libnvbind.so
	mapfile -t srcs < <(meson introspect "$BUILD" --targets |
		jq -r '.[] | select(.name == "nvbind" and .type == "shared library") | .target_sources[].sources[]')
	[ "${#srcs[@]}" -gt 10 ]
	# shellcheck disable=SC2046
	cc -O1 -g -fsanitize=thread -D_GNU_SOURCE -DNVBIND_VERSION_STRING='"tsan"' \
		-DNVBIND_BINDIR='"/usr/local/bin"' -I"$REPO/include" -I"$REPO/src" "${srcs[@]}" \
		"$REPO/tests/api/check.c" $(pkg-config --cflags --libs jansson yaml-0.1) -ldl -pthread \
		-o "$WORK/check-tsan"
	run env TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$WORK/check-tsan" threads "$H100" \
		"$WORK/config.json" 8 "$WORK/specs"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *ThreadSanitizer* ]]
}

@test "api: source compatibility: a 0.1 program reading the structs builds and runs; NVBIND_OPAQUE hides them" {
	cat >"$WORK/old.c" <<-'EOF'
		#include <nvbind/nvbind.h>
		#include <stdio.h>
		#include <stdlib.h>
		int main(int argc, char **argv)
		{
			struct nvb_error err;
			struct nvb_host *host = nvb_host_open(argc > 1 ? argv[1] : "/", &err);
			if (!host)
				return 1;
			struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
			for (size_t i = 0; inv && i < inv->n_gpus; i++)
				printf("%u %s %s\n", inv->gpus[i].index, inv->gpus[i].uuid, inv->gpus[i].pci_bus_id);
			char *json = inv ? nvb_inventory_to_json(inv, &err) : NULL;
			free(json);
			nvb_inventory_free(inv);
			nvb_host_free(host);
			return inv ? 0 : 1;
		}
	EOF
	# shellcheck disable=SC2046
	cc -Wall -Werror $SAN "$WORK/old.c" $(pc --cflags --libs nvbind) -o "$WORK/old"
	run "$WORK/old" "$H100"
	[ "$status" -eq 0 ]
	[ "$output" = "0 GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a 0000:00:06.0" ]
	# shellcheck disable=SC2046
	run cc -DNVBIND_OPAQUE -c "$WORK/old.c" $(pc --cflags nvbind) -o "$WORK/old.o"
	[ "$status" -ne 0 ]
	[[ "$output" == *"undefined type"* || "$output" == *"incomplete type"* ]]
}

@test "api: docs/api.md names every exported function and its example is tests/api/example.c" {
	doc="$REPO/docs/api.md"
	for f in $(grep -oE 'NVB_API[^(]*\(' "$REPO/include/nvbind/nvbind.h" | grep -oE 'nvb_[a-z0-9_]+ *\($' | tr -d ' ('); do
		grep -qE "\\b$f\\b" "$doc" || { echo "$f is not in docs/api.md"; false; }
	done
	# the one C block of "## Complete example", byte for byte the file the suite builds and runs
	awk '/^## Complete example/ {s = 1} s && /^```c$/ {c = 1; next} c && /^```/ {exit} c' "$doc" >"$WORK/doc-example.c"
	diff "$WORK/doc-example.c" "$REPO/tests/api/example.c"
}
