#!/usr/bin/env bats
# Findings of the security review, end to end with the real runc: hooks never inherit the
# container's environment, uint64 rlimits survive the wrapper, FIFOs never block, runtime errors
# cannot forge log lines, pass-through commands never depend on the configuration, setup writes
# through a symlinked daemon.json, world-writable spec files and directories are reported.

bats_require_minimum_version 1.5.0
load helpers/common
load helpers/image
load helpers/bundle

WITH_SPECS="$BATS_TEST_DIRNAME/helpers/with-cdi-specs"
RUNTIME="${NVBIND_RUNTIME:-$(dirname "$NVBIND")/nvbind-runtime}"
UINT64_MAX=18446744073709551615

setup_file() {
	command -v runc >/dev/null || skip "runc is not installed"
	ensure_roots
	export ROOTS
	make_rootfs "$BATS_FILE_TMPDIR/rootfs"
	"$NVBIND" --root "$ROOTS/debian-4gpu" cdi generate --output "$BATS_FILE_TMPDIR/debian-4gpu.json" 2>/dev/null
}

setup() {
	STATE="$BATS_TEST_TMPDIR/runc-state"
	B="$BATS_TEST_TMPDIR/bundle"
	LOG=/var/log/nvbind-runtime.log
	# no configuration file of this machine's: each test says which one it uses
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/none.toml"
	: >"$NVBIND_CONFIG"
}

teardown() {
	local c
	for c in $(runc --root "$STATE" list -q 2>/dev/null); do
		runc --root "$STATE" delete --force "$c" >/dev/null 2>&1 || true
	done
}

# A spec of an older toolkit: its hooks have no env.
old_toolkit_spec() { # FILE HOOK
	cat >"$1" <<EOF
{"cdiVersion": "0.5.0", "kind": "example.com/dev",
 "devices": [{"name": "x", "containerEdits": {"env": ["FROM_SPEC=1"]}}],
 "containerEdits": {"hooks": [{"hookName": "createRuntime", "path": "$2", "args": ["hook"]}]}}
EOF
}

@test "a spec hook without env gets an explicit PATH-only env, never the image's LD_PRELOAD" {
	printf '#!/bin/sh\nenv >"%s"\n' "$BATS_TEST_TMPDIR/hook-env" >"$BATS_TEST_TMPDIR/hook"
	chmod +x "$BATS_TEST_TMPDIR/hook"
	old_toolkit_spec "$BATS_TEST_TMPDIR/old.json" "$BATS_TEST_TMPDIR/hook"
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'echo started'
	bundle_env "$B" LD_PRELOAD=/proc/self/cwd/evil.so
	bundle_edit "$B" '.annotations["cdi.k8s.io/x"] = "example.com/dev=x"'
	# (an NVIDIA spec installed too, or the wrapper would generate one from this machine)
	run "$WITH_SPECS" "$BATS_TEST_TMPDIR/old.json" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- \
		"$RUNTIME" --root "$STATE" run -b "$B" "c$BATS_TEST_NUMBER"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *started* ]]
	jq -e '.hooks.createRuntime[0].env == ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]' "$B/config.json"
	jq -e '.process.env | index("FROM_SPEC=1")' "$B/config.json"
	# the hook ran with that env
	[ -f "$BATS_TEST_TMPDIR/hook-env" ]
	! grep -q LD_PRELOAD "$BATS_TEST_TMPDIR/hook-env"
	grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$BATS_TEST_TMPDIR/hook-env"
	# and cdi validate warns about it, without failing
	run --separate-stderr "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/old.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"valid"* ]]
	[[ "$stderr" == *"containerEdits.hooks[0]: hook $BATS_TEST_TMPDIR/hook has no env"* ]]
}

@test "--ulimit memlock=-1 (uint64 rlimits): the container starts, with and without a GPU request" {
	# raising memlock to unlimited needs CAP_SYS_RESOURCE where its hard limit is lower: then
	# fsize, written the same way (--ulimit fsize=-1)
	local type=RLIMIT_MEMLOCK opt=l
	[ "$(ulimit -H -l)" = unlimited ] || { type=RLIMIT_FSIZE opt=f; }
	for gpu in "" 0; do
		rm -rf "$B"
		make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" "echo \"limit \$(ulimit -$opt)\""
		[ -z "$gpu" ] || bundle_env "$B" "NVIDIA_VISIBLE_DEVICES=$gpu"
		# what docker and podman write for --ulimit memlock=-1, byte for byte
		# (jq holds numbers as doubles: a placeholder, then the exact text)
		bundle_edit "$B" '.process.rlimits = [{"type": $t, "hard": 4242424242, "soft": 4242424242}, {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}]' --arg t "$type"
		sed -i "s/4242424242/$UINT64_MAX/g" "$B/config.json"
		grep -q "\"hard\": *$UINT64_MAX" "$B/config.json"
		cp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
		run "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" run -b "$B" "c$BATS_TEST_NUMBER"
		echo "NVIDIA_VISIBLE_DEVICES=$gpu: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"limit unlimited"* ]]
		if [ -z "$gpu" ]; then
			# nothing asked for: the file is not rewritten at all
			cmp "$B/config.json" "$BATS_TEST_TMPDIR/before.json"
		else
			grep -q "\"hard\":$UINT64_MAX,\"soft\":$UINT64_MAX" "$B/config.json"
			grep -q '"hard":4096,"soft":1024' "$B/config.json"
			jq -e '.linux.devices | map(.path) | index("/dev/nvidia2")' "$B/config.json"
		fi
	done
}

@test "a FIFO as config.json, spec file or daemon.json is an error at once" {
	mkdir -p "$B"
	mkfifo "$B/config.json"
	run timeout 20 "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" create -b "$B" fifo
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json is a FIFO, not a regular file"* ]]
	mkdir "$BATS_TEST_TMPDIR/specs"
	mkfifo "$BATS_TEST_TMPDIR/specs/x.json"
	run timeout 20 "$NVBIND" cdi validate "$BATS_TEST_TMPDIR/specs/x.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"x.json is a FIFO, not a regular file"* ]]
	run timeout 20 "$NVBIND" cdi list --spec-dir "$BATS_TEST_TMPDIR/specs"
	[ "$status" -eq 0 ]
	[[ "$output" == *"a FIFO"* ]]
	mkfifo "$BATS_TEST_TMPDIR/daemon.json"
	run timeout 20 "$NVBIND" setup docker --config "$BATS_TEST_TMPDIR/daemon.json" --runtime-path /usr/bin/true
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" == *"daemon.json is a FIFO"* ]]
}

@test "a device name from the container's environment cannot forge lines in runc's --log" {
	local log_size
	log_size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'echo started'
	bundle_env "$B" "NVIDIA_VISIBLE_DEVICES=0"$'\n''time="2000-01-01T00:00:00Z" level=info msg="forged \" quote'
	for format in text json; do
		rm -f "$BATS_TEST_TMPDIR/runc.log"
		run "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" \
			--log "$BATS_TEST_TMPDIR/runc.log" --log-format "$format" create -b "$B" inject
		[ "$status" -ne 0 ]
		cat "$BATS_TEST_TMPDIR/runc.log"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/runc.log")" -eq 1 ]
		! grep -q '^time="2000' "$BATS_TEST_TMPDIR/runc.log"
	done
	# text: logfmt, the value is one quoted string with its newline and quote escaped
	rm -f "$BATS_TEST_TMPDIR/runc.log"
	run "$WITH_SPECS" "$BATS_FILE_TMPDIR/debian-4gpu.json" -- "$RUNTIME" --root "$STATE" \
		--log "$BATS_TEST_TMPDIR/runc.log" create -b "$B" inject
	grep -q 'msg="nvbind: .*\\ntime=\\"2000-01-01T00:00:00Z\\" level=info msg=\\"forged \\\\\\" quote' "$BATS_TEST_TMPDIR/runc.log"
	# the runtime's own log (what this test added to it) keeps one line per message too
	tail -c +$((log_size + 1)) "$LOG" | grep -q 'forged'
	! tail -c +$((log_size + 1)) "$LOG" | grep -q '^time="2000'
}

@test "pass-through commands never depend on the configuration; create and run fail loudly" {
	make_bundle "$B" "$BATS_FILE_TMPDIR/rootfs" 'sleep 30'
	"$RUNTIME" --root "$STATE" create -b "$B" pt </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
	# a typo in the configuration: create refuses, naming the key
	printf '[runtime]\nlow_levl = "/usr/sbin/runc"\n' >"$NVBIND_CONFIG"
	run "$RUNTIME" --root "$STATE" create -b "$B" other
	[ "$status" -ne 0 ]
	[[ "$output" == *"low_levl"* ]]
	# ... while the existing container can still be inspected, started, killed and deleted
	run --separate-stderr "$RUNTIME" --root "$STATE" state pt
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = created ]
	"$RUNTIME" --root "$STATE" start pt
	# not even TOML, or a file that cannot be read: the same
	printf 'this is [not toml\n' >"$NVBIND_CONFIG"
	run "$RUNTIME" --root "$STATE" kill pt KILL
	[ "$status" -eq 0 ]
	grep -q "kill: ignoring the configuration (only create and run use it): $NVBIND_CONFIG:1" "$LOG"
	sleep 0.5
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/missing.toml"
	run "$RUNTIME" --root "$STATE" delete --force pt
	[ "$status" -eq 0 ]
	run "$RUNTIME" --root "$STATE" state pt
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]] # runc's own message
	# runtime.low_level is still honoured beside a typo elsewhere
	printf '#!/bin/sh\necho "low-level wrapper"\nexec runc "$@"\n' >"$BATS_TEST_TMPDIR/my-runc"
	chmod +x "$BATS_TEST_TMPDIR/my-runc"
	export NVBIND_CONFIG="$BATS_TEST_TMPDIR/typo.toml"
	printf '[runtime]\nlow_level = "%s"\nlog_levle = "debug"\n' "$BATS_TEST_TMPDIR/my-runc" >"$NVBIND_CONFIG"
	run "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "$output" == *"low-level wrapper"* ]]
	[[ "$output" == *"runc version"* ]]
	# a runtime.low_level that cannot run: PATH's runc, and the reason in the log
	printf '[runtime]\nlow_level = "/nonexistent/runc"\n' >"$NVBIND_CONFIG"
	run "$RUNTIME" --version
	[ "$status" -eq 0 ]
	[[ "$output" == *"runc version"* ]]
	grep -q "runtime.low_level /nonexistent/runc" "$LOG"
}

@test "setup docker writes through a symlinked daemon.json, keeping owner, mode and numbers" {
	mkdir -p "$BATS_TEST_TMPDIR/managed" "$BATS_TEST_TMPDIR/etc-docker"
	printf '{\n    "max-concurrent-downloads": 3,\n    "shutdown-timeout": 0.1,\n    "default-ulimits": {"memlock": {"Name": "memlock", "Hard": -1, "Soft": %s}}\n}\n' \
		"$UINT64_MAX" >"$BATS_TEST_TMPDIR/managed/daemon.json"
	chown 4321:8765 "$BATS_TEST_TMPDIR/managed/daemon.json"
	chmod 0640 "$BATS_TEST_TMPDIR/managed/daemon.json"
	ln -s ../managed/daemon.json "$BATS_TEST_TMPDIR/etc-docker/daemon.json"
	run "$NVBIND" setup docker --config "$BATS_TEST_TMPDIR/etc-docker/daemon.json" --runtime-path /usr/local/bin/nvbind-runtime
	echo "$output"
	[ "$status" -eq 0 ]
	[ -L "$BATS_TEST_TMPDIR/etc-docker/daemon.json" ]
	[ "$(stat -c '%u:%g %a' "$BATS_TEST_TMPDIR/managed/daemon.json")" = "4321:8765 640" ]
	jq -e '.runtimes.nvbind.path == "/usr/local/bin/nvbind-runtime"' "$BATS_TEST_TMPDIR/managed/daemon.json"
	grep -q '"shutdown-timeout": 0.1,' "$BATS_TEST_TMPDIR/managed/daemon.json"
	grep -q "\"Soft\": $UINT64_MAX" "$BATS_TEST_TMPDIR/managed/daemon.json"
	# the backup sits beside the link, and holds the old text
	ls "$BATS_TEST_TMPDIR/etc-docker/" | grep -q 'daemon.json.nvbind-backup-'
}

@test "world-writable spec files and directories are reported by cdi validate and cdi list" {
	mkdir -p "$BATS_TEST_TMPDIR/specs"
	cp "$BATS_FILE_TMPDIR/debian-4gpu.json" "$BATS_TEST_TMPDIR/specs/nvidia.json"
	chmod 0755 "$BATS_TEST_TMPDIR/specs"
	chmod 0644 "$BATS_TEST_TMPDIR/specs/nvidia.json"
	run --separate-stderr "$NVBIND" cdi list --spec-dir "$BATS_TEST_TMPDIR/specs"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"world-writable"* ]]
	chmod 0777 "$BATS_TEST_TMPDIR/specs"
	chmod 0666 "$BATS_TEST_TMPDIR/specs/nvidia.json"
	run --separate-stderr "$NVBIND" cdi list --spec-dir "$BATS_TEST_TMPDIR/specs"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nvidia.com/gpu=0"* ]] # a warning, the specs still count
	[[ "$stderr" == *"CDI spec directory $BATS_TEST_TMPDIR/specs is world-writable"* ]]
	[[ "$stderr" == *"CDI spec $BATS_TEST_TMPDIR/specs/nvidia.json is world-writable"* ]]
	run --separate-stderr "$NVBIND" cdi validate --spec-dir "$BATS_TEST_TMPDIR/specs"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"CDI spec $BATS_TEST_TMPDIR/specs/nvidia.json is world-writable"* ]]
	[[ "$stderr" == *"directory $BATS_TEST_TMPDIR/specs is world-writable"* ]]
}
