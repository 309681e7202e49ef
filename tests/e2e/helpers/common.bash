# Shared set-up for the end-to-end suites. Sourced by every tests/e2e/*.bats.
# NVBIND: the nvbind binary under test (tests/run.sh exports the sanitizer build's).
# NVB_FIXTURE_ROOTS: where `nvbind-fixture build-all` put the fixture roots (built here if unset).

E2E_DIR="$BATS_TEST_DIRNAME"
REPO="$(cd "$E2E_DIR/../.." && pwd)"
NVBIND="${NVBIND:-$REPO/build/src/nvbind}"
FIXTURE_BUILDER="$REPO/tests/fixtures/nvbind-fixture"

# Build the fixture roots once per suite file when the runner did not.
ensure_roots() {
	if [ -n "${NVB_FIXTURE_ROOTS:-}" ] && [ -f "$NVB_FIXTURE_ROOTS/h100-host/.nvbind-fixture" ]; then
		ROOTS="$NVB_FIXTURE_ROOTS"
		return 0
	fi
	ROOTS="$BATS_FILE_TMPDIR/roots"
	python3 "$FIXTURE_BUILDER" build-all "$ROOTS" >/dev/null
}

# info_json ROOT [ARGS...]: nvbind info --json of a fixture root into $output, status in $status
info_json() {
	local root=$1
	shift
	run "$NVBIND" --root "$ROOTS/$root" info --json "$@"
}

# jqo FILTER: evaluate FILTER on $output
jqo() { jq -r "$1" <<<"$output"; }
