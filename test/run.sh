#!/bin/sh
# The test runner behind `make test`: unit tests, then integration scripts.
# Prints one line per test and ends with "N passed, N failed[, N skipped]".
# Environment: BUILD (build dir), TESTS (space-separated name filter),
# TEST_TIMEOUT (seconds per test, default 300).
set -u
BUILD=${BUILD:-build}
export BUILD
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
logdir=$BUILD/test-logs
mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed=""

selected() {
	[ -z "${TESTS:-}" ] && return 0
	for t in $TESTS; do case "$1" in *"$t"*) return 0 ;; esac; done
	return 1
}

run_one() { # name command...
	name=$1
	shift
	selected "$name" || return 0
	log=$logdir/$name.log
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $name (${secs}s)"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1))
		echo "SKIP $name: $(tail -n 1 "$log")"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		[ $rc -eq 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
	fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/test/lsan.supp}

for t in "$BUILD"/test/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in test/integration/test_*.sh; do
	[ -f "$t" ] || continue
	run_one "integration/$(basename "$t" .sh)" sh "$t"
done

[ -n "$failed" ] && echo "failed:$failed"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
