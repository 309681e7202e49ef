# Fault injection helpers for fault_injection.bats. Sourced by the suite and by the scripts
# it runs inside private mount namespaces (so: plain bash, no bats functions here).
# KILL_AFTER: the kill-after helper (helpers/kill-after.c), built by the suite's setup_file.

# random_below N: a uniformly spread random number in [0, N) (N up to 2^30)
random_below() {
	echo $(((RANDOM * 32768 + RANDOM) % $1))
}

# mean_us N COMMAND...: the mean wall time of N uninterrupted runs, in microseconds
mean_us() {
	local n=$1 i t0 t1
	shift
	t0=$(date +%s%N)
	for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1; done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / n / 1000))
}

# kill_trials TRIALS MAX_US TARGET OLD NEW TMP_PREFIX -- COMMAND...
# Each trial puts OLD's bytes in TARGET, runs COMMAND (which replaces TARGET with NEW's bytes)
# and kills it with SIGKILL after a random delay below MAX_US microseconds. After every trial
# TARGET must be byte-identical to OLD or to NEW: never torn, empty or missing. Files in
# TARGET's directory named TMP_PREFIX* (the writer's temporary files) are the debris of killed
# writers: the next writer must clear them, so there is never more than one.
# Prints one line of counts; returns 1 at the first broken trial (the file kept as TARGET.torn).
kill_trials() {
	local trials=$1 max=$2 target=$3 old=$4 new=$5 prefix=$6
	shift 7 # the "--" too
	local dir i delay rc n_old=0 n_new=0 n_killed=0 n_debris=0 debris
	dir=$(dirname "$target")
	for ((i = 1; i <= trials; i++)); do
		cp "$old" "$target"
		delay=$(random_below "$max")
		rc=0
		"$KILL_AFTER" "$delay" "$@" >/dev/null 2>&1 || rc=$?
		[ "$rc" -eq 137 ] && n_killed=$((n_killed + 1))
		if cmp -s "$target" "$old"; then
			n_old=$((n_old + 1))
		elif cmp -s "$target" "$new"; then
			n_new=$((n_new + 1))
		else
			cp "$target" "$target.torn" 2>/dev/null
			echo "trial $i (kill after ${delay}us, exit $rc): $target is neither the old nor the new file ($(stat -c %s "$target" 2>&1) bytes)"
			return 1
		fi
		# the killed writer's own temporary file may remain; any older one must be gone
		debris=$(find "$dir" -maxdepth 1 -name "$prefix*" | wc -l)
		if [ "$debris" -gt 1 ]; then
			echo "trial $i (kill after ${delay}us, exit $rc): $debris temporary files in $dir:"
			ls -A "$dir"
			return 1
		fi
		n_debris=$((n_debris + debris))
	done
	echo "$trials trials (kill within ${max}us): $n_killed killed, $n_old old file, $n_new new file, $n_debris left a temporary file"
}
