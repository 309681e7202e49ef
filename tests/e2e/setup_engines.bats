#!/usr/bin/env bats
# nvbind setup docker|podman on real files: only the lines it must change change (byte for
# byte against expected files), --dry-run prints a diff that patch(1) applies, --undo puts the
# original bytes back.

bats_require_minimum_version 1.5.0
load helpers/common

RT=/opt/nvbind/bin/nvbind-runtime

setup() {
	D=$BATS_TEST_TMPDIR
}

# check_setup NAME [SETUP OPTIONS...]: $D/NAME.in is set up with the options and must become
# $D/NAME.want exactly; the dry run's diff, applied with patch, gives the same bytes and has
# the hunks GNU diff -u has; --undo gives back $D/NAME.in byte for byte.
check_setup() {
	local name=$1 engine=docker
	shift
	[[ $name == *.conf ]] && engine=podman
	local f=$D/etc/$name
	mkdir -p "$D/etc"
	cp "$D/$name.in" "$f"
	chmod 0640 "$f"
	run --separate-stderr "$NVBIND" setup "$engine" --config "$f" --runtime-path "$RT" "$@" --dry-run
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$D/$name.diff"
	cmp "$f" "$D/$name.in" # a dry run writes nothing
	patch -s -o "$D/$name.patched" "$D/$name.in" <"$D/$name.diff"
	cmp "$D/$name.patched" "$D/$name.want"
	diff -u "$D/$name.in" "$D/$name.want" | tail -n +3 >"$D/$name.gnu" || true
	tail -n +3 "$D/$name.diff" | diff - "$D/$name.gnu"

	run "$NVBIND" setup "$engine" --config "$f" --runtime-path "$RT" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$f" "$D/$name.want"
	[ "$(stat -c %a "$f")" = 640 ]
	local backup
	backup=$(ls "$f".nvbind-backup-*)
	cmp "$backup" "$D/$name.in"
	[[ "$output" == *"backup: $backup"* ]]
	# a second run changes nothing
	run "$NVBIND" setup "$engine" --config "$f" --runtime-path "$RT" "$@"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing to do"* ]]

	run "$NVBIND" setup "$engine" --config "$f" --undo
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"restored $f from $backup"* ]]
	cmp "$f" "$D/$name.in"
	[ "$(stat -c %a "$f")" = 640 ]
}

@test "setup docker: a 2-space daemon.json keeps every line; --undo restores it" {
	cat >"$D/two.json.in" <<-'END'
	{
	  "log-level": "warn",
	  "runtimes": {
	    "crun": {
	      "path": "/usr/bin/crun",
	      "runtimeArgs": ["--debug"]
	    }
	  },
	  "data-root": "/var/lib/docker"
	}
	END
	cat >"$D/two.json.want" <<-END
	{
	  "log-level": "warn",
	  "runtimes": {
	    "crun": {
	      "path": "/usr/bin/crun",
	      "runtimeArgs": ["--debug"]
	    },
	    "nvbind": {
	      "path": "$RT"
	    }
	  },
	  "data-root": "/var/lib/docker"
	}
	END
	check_setup two.json
}

@test "setup docker --default: a 4-space daemon.json with an existing default-runtime" {
	cat >"$D/four.json.in" <<-'END'
	{
	    "default-runtime": "runc",
	    "max-concurrent-downloads": 3,
	    "x": 0.1,
	    "default-ulimits": {
	        "memlock": {"Name": "memlock", "Hard": 18446744073709551615, "Soft": -1}
	    }
	}
	END
	cat >"$D/four.json.want" <<-END
	{
	    "default-runtime": "nvbind",
	    "max-concurrent-downloads": 3,
	    "x": 0.1,
	    "default-ulimits": {
	        "memlock": {"Name": "memlock", "Hard": 18446744073709551615, "Soft": -1}
	    },
	    "runtimes": {
	        "nvbind": {
	            "path": "$RT"
	        }
	    }
	}
	END
	check_setup four.json --default
}

@test "setup docker --cdi: a tab-indented daemon.json, merged into its features" {
	printf '{\n\t"features": {\n\t\t"buildkit": true\n\t},\n\t"debug": true\n}\n' >"$D/tab.json.in"
	printf '{\n\t"features": {\n\t\t"buildkit": true,\n\t\t"cdi": true\n\t},\n\t"debug": true,\n\t"runtimes": {\n\t\t"nvbind": {\n\t\t\t"path": "%s"\n\t\t}\n\t}\n}\n' "$RT" >"$D/tab.json.want"
	check_setup tab.json --cdi
	run "$NVBIND" setup docker --config "$D/etc/tab.json" --runtime-path "$RT" --cdi
	[[ "$output" == *"Docker 25 or later"* ]]
	run "$NVBIND" setup podman --config "$D/etc/c.conf" --cdi
	[ "$status" -eq 2 ]
}

@test "setup docker --default --cdi: a one-line daemon.json gets the new keys on its line" {
	printf '{"debug": true, "log-opts": {"max-size": "10m"}}' >"$D/inline.json.in"
	printf '{"debug": true, "log-opts": {"max-size": "10m"}, "runtimes": {"nvbind": {"path": "%s"}}, "default-runtime": "nvbind", "features": {"cdi": true}}' "$RT" >"$D/inline.json.want"
	check_setup inline.json --default --cdi
}

@test "setup docker: odd spacing and CRLF line ends stay" {
	printf '{ "a" :1 ,\n   "b":   [ 1,2 ] }\n' >"$D/odd.json.in"
	printf '{ "a" :1 ,\n   "b":   [ 1,2 ],\n   "runtimes" :{\n       "nvbind" :{\n           "path" :"%s"\n       }\n   } }\n' "$RT" >"$D/odd.json.want"
	check_setup odd.json
	printf '{\r\n  "debug": true\r\n}\r\n' >"$D/crlf.json.in"
	printf '{\r\n  "debug": true,\r\n  "runtimes": {\r\n    "nvbind": {\r\n      "path": "%s"\r\n    }\r\n  }\r\n}\r\n' "$RT" >"$D/crlf.json.want"
	check_setup crlf.json
}

@test "setup podman: containers.conf keeps its comments and layout; --undo restores it" {
	cat >"$D/c.conf.in" <<-'END'
	# containers.conf
	[containers]
	default_ulimits = []

	[engine]
	  cgroup_manager = "cgroupfs"   # managed
	  runtime = "crun"  # the default

	[engine.runtimes]
	# nvbind was here
	nvbind = [ "/old/nvbind-runtime" ]   # old
	crun = ["/usr/bin/crun"]
	END
	cat >"$D/c.conf.want" <<-END
	# containers.conf
	[containers]
	default_ulimits = []

	[engine]
	  cgroup_manager = "cgroupfs"   # managed
	  runtime = "nvbind"  # the default

	[engine.runtimes]
	# nvbind was here
	nvbind = ["$RT"]   # old
	crun = ["/usr/bin/crun"]
	END
	check_setup c.conf --default
}

@test "setup --undo through a symlinked daemon.json: the link stays, its file gets the bytes back" {
	mkdir "$D/managed"
	printf '{\n  "debug": true\n}\n' >"$D/managed/daemon.json"
	cp "$D/managed/daemon.json" "$D/orig.json"
	chmod 0600 "$D/managed/daemon.json"
	ln -s managed/daemon.json "$D/daemon.json"
	run "$NVBIND" setup docker --config "$D/daemon.json" --runtime-path "$RT" --default
	[ "$status" -eq 0 ]
	[ -L "$D/daemon.json" ]
	jq -e '.runtimes.nvbind.path and ."default-runtime" == "nvbind"' "$D/managed/daemon.json"
	run "$NVBIND" setup docker --config "$D/daemon.json" --undo --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *'-  "default-runtime": "nvbind"'* ]]
	run "$NVBIND" setup docker --config "$D/daemon.json" --undo
	[ "$status" -eq 0 ]
	[ -L "$D/daemon.json" ]
	cmp "$D/managed/daemon.json" "$D/orig.json"
	[ "$(stat -c %a "$D/managed/daemon.json")" = 600 ]
}

@test "setup --undo without a backup fails and says so; an unparsable file is never rewritten" {
	printf '{"debug": true}\n' >"$D/daemon.json"
	run "$NVBIND" setup docker --config "$D/daemon.json" --undo
	[ "$status" -eq 1 ]
	[[ "$output" == *"no backup $D/daemon.json.nvbind-backup-"*"nothing to undo"* ]]
	run "$NVBIND" setup podman --config "$D/daemon.json" --undo --default
	[ "$status" -eq 2 ]
	printf '{\n  "a": 1,\n  "b" 2\n}\n' >"$D/broken.json"
	cp "$D/broken.json" "$D/broken.orig"
	run "$NVBIND" setup docker --config "$D/broken.json" --runtime-path "$RT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$D/broken.json:3:"*"refusing to rewrite a file nvbind cannot parse"* ]]
	cmp "$D/broken.json" "$D/broken.orig"
	! ls "$D"/broken.json.nvbind-backup-* 2>/dev/null
}
