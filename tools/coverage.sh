#!/usr/bin/env bash
# tools/coverage.sh: line and branch coverage of src/ by the unit and end-to-end suites.
# Builds with gcc and -Db_coverage=true (no sanitizers), runs tests/run.sh against that build
# (fuzzing off), then prints per folder of src/ the lines and branches covered (gcovr), and
# the total outside the front ends src/cli and src/runtime (the 90 % target of
# docs/testing.md). Needs root like tests/run.sh, and gcovr (tools/install-deps.sh).
#
#   NVB_COV_BUILD=DIR     build directory (default build-cov)
#   NVB_TEST_FILTER=RE    only these suites (tests/run.sh); the default runs all of them
#   NVB_COV_REPORT=0      only print the report of the counters already in DIR (no build, no run)
# Writes DIR/coverage/summary.json (gcovr's per-file summary) and DIR/coverage/index.html.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${NVB_COV_BUILD:-$here/build-cov}
out=$build/coverage
command -v gcovr >/dev/null || { echo "tools/coverage.sh: gcovr is missing (tools/install-deps.sh)" >&2; exit 1; }

suite_rc=0
if [ "${NVB_COV_REPORT:-1}" != 0 ]; then
	if [ ! -f "$build/build.ninja" ]; then
		CC=gcc meson setup "$build" --buildtype=debug -Db_coverage=true >/dev/null ||
			{ echo "meson setup failed" >&2; exit 1; }
	fi
	ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
	# counters of earlier runs would mix with this one's
	find "$build" -name '*.gcda' -delete
	NVB_TEST_BUILD=$build NVB_FUZZ_SECONDS=0 bash tests/run.sh
	suite_rc=$?
fi

mkdir -p "$out"
# --exclude-unreachable-branches: gcc's branches for lines without code (cleanup attributes,
# macros' do/while) are not branches a test could take
gcovr -r "$here" --object-directory "$build" --filter "$here/src/" \
	--exclude-unreachable-branches --gcov-ignore-parse-errors \
	--json-summary "$out/summary.json" --html-details "$out/index.html" "$build" >/dev/null ||
	{ echo "gcovr failed" >&2; exit 1; }

python3 - "$out/summary.json" <<'EOF'
import json, os, sys
files = json.load(open(sys.argv[1]))["files"]
front_ends = ("src/cli", "src/runtime")
folders, total, core = {}, [0, 0, 0, 0], [0, 0, 0, 0]
for f in files:
    name = f["filename"]
    folder = os.path.dirname(name) or "."
    n = [f["line_covered"], f["line_total"], f["branch_covered"], f["branch_total"]]
    acc = folders.setdefault(folder, [0, 0, 0, 0])
    for i in range(4):
        acc[i] += n[i]
        total[i] += n[i]
        if not folder.startswith(front_ends):
            core[i] += n[i]
def pct(a, b):
    return f"{100.0 * a / b:5.1f} %" if b else "    -  "
print()
print(f"| {'folder':<16} | {'lines':>17} | {'line %':>7} | {'branches':>17} | {'branch %':>8} |")
print(f"|{'-' * 18}|{'-' * 19}|{'-' * 9}|{'-' * 19}|{'-' * 10}|")
rows = sorted(folders.items()) + [("total", total), ("without cli, runtime", core)]
for name, (lc, lt, bc, bt) in rows:
    print(f"| {name:<16} | {lc:>8} / {lt:<6} | {pct(lc, lt):>7} | {bc:>8} / {bt:<6} | {pct(bc, bt):>8} |")
print()
print("least covered files (lines not run):")
for f in sorted(files, key=lambda f: f["line_covered"] - f["line_total"])[:12]:
    print(f"  {f['filename']}: {f['line_total'] - f['line_covered']} of {f['line_total']} lines not run"
          f" ({pct(f['line_covered'], f['line_total']).strip()} covered)")
EOF
echo "details: $out/index.html"
[ "$suite_rc" -eq 0 ] || echo "note: the test run had failures (exit $suite_rc): its coverage is still counted"
exit "$suite_rc"
