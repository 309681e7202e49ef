#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS] [TARGET...]: build the libFuzzer targets (clang, -Dfuzz=true, ASan +
# UBSan) and run every target, or the named ones (request or fuzz_request), for SECONDS each
# (default 60) from its committed corpus tests/fuzz/corpus/NAME. Inputs that reach new
# coverage are merged back into that directory (libFuzzer -merge=1), within a cap that keeps
# the committed corpus small. Prints executions, time, crashes and corpus size per target;
# exits 1 when a target crashed (the input is kept under the artifacts directory).
#
#   NVB_FUZZ_BUILD=DIR        build directory (default build-fuzz; configured when missing)
#   NVB_FUZZ_RUNS=N           stop each target after N executions instead (SECONDS is then an
#                             upper bound; 0 = none)
#   NVB_FUZZ_JOBS=N           targets run at once (default 1)
#   NVB_FUZZ_NICE=N           nice level of the fuzzers (default 10: leave the CPU to others)
#   NVB_FUZZ_MERGE=0          do not touch the committed corpus
#   NVB_FUZZ_CORPUS_FILES=N   at most N files in a target's corpus after a merge (default 128)
#   NVB_FUZZ_CORPUS_BYTES=N   ... and N bytes in all (default 131072)
#   NVB_FUZZ_MAX_LEN=N        new inputs longer than N bytes are not merged (default 8192)
#   NVB_FUZZ_ARTIFACTS=DIR    crash inputs and logs (default BUILD/fuzz-artifacts)
#   NVB_FUZZ_SKIP_BUILD=1     run the targets as last built (while a source file is mid-edit)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

seconds=${1:-60}
[ $# -gt 0 ] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
	echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]" >&2
	exit 2
fi
build=${NVB_FUZZ_BUILD:-$here/build-fuzz}
runs=${NVB_FUZZ_RUNS:-0}
jobs=${NVB_FUZZ_JOBS:-1}
nice_level=${NVB_FUZZ_NICE:-10}
merge=${NVB_FUZZ_MERGE:-1}
cap_files=${NVB_FUZZ_CORPUS_FILES:-128}
cap_bytes=${NVB_FUZZ_CORPUS_BYTES:-131072}
max_len=${NVB_FUZZ_MAX_LEN:-8192}
artifacts=${NVB_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
if [ "$seconds" -eq 0 ] && [ "$runs" -eq 0 ]; then
	echo "tools/fuzz.sh: SECONDS is 0 and NVB_FUZZ_RUNS is unset: nothing would stop the fuzzers" >&2
	exit 2
fi
# sanitizer findings are crashes (the UBSan default would only print them)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
command -v clang >/dev/null || { echo "tools/fuzz.sh: clang is missing (tools/install-deps.sh)" >&2; exit 1; }

if [ "${NVB_FUZZ_SKIP_BUILD:-0}" = 1 ]; then
	echo "== targets as last built in $build"
elif [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" --buildtype=debug -Dfuzz=true -Dtests=false -Dmusl=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null || { echo "meson setup failed" >&2; exit 1; }
fi
if [ "${NVB_FUZZ_SKIP_BUILD:-0}" != 1 ]; then
	echo "== build in $build"
	ninja -C "$build" >"$build/fuzz-ninja.log" 2>&1 || { cat "$build/fuzz-ninja.log"; exit 1; }
fi

targets=()
if [ $# -eq 0 ]; then
	for f in "$build"/tests/fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] && targets+=("$(basename "$f")")
	done
else
	for t in "$@"; do
		t=fuzz_${t#fuzz_}
		[ -x "$build/tests/fuzz/$t" ] || { echo "tools/fuzz.sh: no target $t in $build/tests/fuzz" >&2; exit 2; }
		targets+=("$t")
	done
fi
[ ${#targets[@]} -gt 0 ] || { echo "tools/fuzz.sh: no fuzz targets built" >&2; exit 1; }
mkdir -p "$artifacts"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

count_files() { find "$1" -maxdepth 1 -type f | wc -l; }
count_bytes() { find "$1" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

# merge_back TARGET CORPUS WORK: add WORK's inputs that reach coverage CORPUS does not, the
# smallest first, while the corpus stays within the caps. Prints "added N (M over the cap)".
merge_back() {
	local bin=$1 corpus=$2 work=$3 tmp added=0 over=0 f size files bytes
	tmp=$(mktemp -d)
	cp -r "$corpus"/. "$tmp"/
	find "$work" -maxdepth 1 -type f -size +"$max_len"c -delete
	if ! "$bin" -merge=1 "$tmp" "$work" >"$tmp.log" 2>&1; then
		echo "merge failed (see $tmp.log)"
		rm -rf "$tmp"
		return 1
	fi
	files=$(count_files "$corpus") bytes=$(count_bytes "$corpus")
	# the files merge added to the copy, smallest first
	while read -r size f; do
		[ -e "$corpus/$f" ] && continue
		if [ $((files + 1)) -gt "$cap_files" ] || [ $((bytes + size)) -gt "$cap_bytes" ]; then
			over=$((over + 1))
			continue
		fi
		cp "$tmp/$f" "$corpus/$f"
		files=$((files + 1)) bytes=$((bytes + size)) added=$((added + 1))
	done < <(find "$tmp" -maxdepth 1 -type f -printf '%s %f\n' | sort -n)
	rm -rf "$tmp" "$tmp.log"
	if [ "$over" -gt 0 ]; then
		echo "added $added ($over more over the cap)"
	else
		echo "added $added"
	fi
}

# fuzz_one TARGET: run it, merge, and write one result line
fuzz_one() {
	local t=$1 name=${1#fuzz_} bin corpus work log start end rc execs crashes merged
	bin=$build/tests/fuzz/$t
	corpus=$here/tests/fuzz/corpus/$name
	mkdir -p "$corpus" "$artifacts/$name"
	work=$(mktemp -d)
	log=$artifacts/$name/fuzz.log
	local limits=(-max_total_time="$seconds")
	[ "$seconds" -eq 0 ] && limits=()
	[ "$runs" -gt 0 ] && limits+=(-runs="$runs")
	start=$(date +%s)
	touch "$artifacts/$name/.start"
	# new inputs go to the first directory (work); the committed corpus is only read
	nice -n "$nice_level" "$bin" "${limits[@]}" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name/" "$work" "$corpus" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# one artifact per crash, leak, timeout or out-of-memory input of this run
	crashes=$(find "$artifacts/$name" -maxdepth 1 -type f -newer "$artifacts/$name/.start" \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	merged="not merged"
	if [ "$merge" = 1 ] && [ "$crashes" -eq 0 ]; then
		merged=$(merge_back "$bin" "$corpus" "$work")
	fi
	rm -rf "$work"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${execs:-?}" "$((end - start))" "$crashes" \
		"$(count_files "$corpus")" "$(count_bytes "$corpus")" "$merged" >"$results/$name"
	if [ "$crashes" -gt 0 ]; then
		echo "not ok - $t crashed (exit $rc): $log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
	else
		echo "ok - $t: ${execs:-?} executions in $((end - start))s, corpus $merged"
	fi
}

limit="${seconds}s each"
[ "$runs" -gt 0 ] && limit="$limit, at most $runs executions"
echo "== fuzzing ${#targets[@]} target(s): $limit, $jobs at a time"
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$t" &
	running=$((running + 1))
done
wait

echo
printf '| %-12s | %12s | %7s | %7s | %14s | %s |\n' target executions seconds crashes "corpus (files/bytes)" merge
printf '|%s|%s|%s|%s|%s|%s|\n' -------------- -------------- --------- --------- ------------------------ -------
total_crashes=0
for f in "$results"/*; do
	IFS=$'\t' read -r name execs secs crashes files bytes merged <"$f"
	printf '| %-12s | %12s | %7s | %7s | %14s | %s |\n' "$name" "$execs" "$secs" "$crashes" "$files / $bytes" "$merged"
	total_crashes=$((total_crashes + crashes))
done
echo "$(date -u +%Y-%m-%d): ${#targets[@]} target(s), $total_crashes crash(es)"
[ "$total_crashes" -eq 0 ]
