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

# need_engine PROGRAM: the one place where a suite gives way when a real engine (runc, podman,
# dockerd) is missing. Normally the tests skip; with CI=true the suite FAILS instead, because a
# CI machine that silently skips the container suites passes without testing containers.
# In a test it skips (or fails) that test. In setup_file (bats 1.8 cannot skip there) use
#   need_engine runc || return 0
# and call engine_skip first in setup(): every test of the file is then skipped.
need_engine() {
	PATH=$PATH:/usr/sbin:/sbin command -v "$1" >/dev/null && return 0
	if [ "${CI:-}" = true ]; then
		echo "$1 is not installed and CI=true: this suite must run (install it: tools/install-deps.sh)" >&2
		exit 1
	fi
	if [[ " ${FUNCNAME[*]} " == *" setup_file "* ]]; then
		export NVB_ENGINE_MISSING="$1 is not installed"
		return 1
	fi
	skip "$1 is not installed"
}

# engine_skip: in setup(), skip the test when setup_file found an engine missing
engine_skip() {
	[ -z "${NVB_ENGINE_MISSING:-}" ] || skip "$NVB_ENGINE_MISSING"
}
