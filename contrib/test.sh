#!/bin/bash
# README command 2: install dependencies, build, run the unit tests (ctest)
# and the end-to-end tests (spec-tests, pytest), then print one closing line:
#   N passed, N failed, N skipped
# (totals across both) and exit non-zero if anything failed. Results and logs
# go to <build>/test-results/ (unit.xml, e2e.xml as JUnit; unit.log, e2e.log).
#
#   BERTH_BUILD_DIR, BERTH_SANITIZE   as for contrib/build.sh
#   BERTH_BIN      runtime for the e2e tests (default: the one just built)
#   PYTEST_ARGS    extra pytest arguments, e.g. "-k lifecycle -x"
#   BERTH_E2E_TIMEOUT  seconds for the whole e2e run (default 3600)
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export BERTH_BUILD_DIR=$BUILD
RESULTS=$BUILD/test-results

fail_early() {
  echo "test: $*" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
}

bash "$REPO/contrib/install-deps.sh" || fail_early "installing dependencies failed"
bash "$REPO/contrib/build.sh" || fail_early "build failed"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

echo "== raw syscalls outside berth::sys"
bash "$REPO/tools/check-raw-syscalls.sh" || fail_early "raw syscalls outside berth::sys (tools/check-raw-syscalls.sh)"

echo "== unit tests (ctest)"
(cd "$BUILD" && ctest --output-on-failure --timeout 300 --output-junit "$RESULTS/unit.xml") \
  2>&1 | tee "$RESULTS/unit.log"

echo "== end-to-end tests (spec-tests)"
# Debian's python3 and python3-pytest, whatever python3 is first in PATH.
# -p no:cacheprovider keeps the source tree clean; the outer timeout is a last
# resort (each test also has its own, see spec-tests/conftest.py).
timeout --kill-after=30 "${BERTH_E2E_TIMEOUT:-3600}" \
  /usr/bin/python3 -m pytest "$REPO/spec-tests" -p no:cacheprovider \
  --junitxml="$RESULTS/e2e.xml" ${PYTEST_ARGS:-} </dev/null 2>&1 | tee "$RESULTS/e2e.log"
e2e_rc=${PIPESTATUS[0]}
# 0 all passed, 1 some failed (counted from the XML), 5 nothing collected;
# anything else (interrupted, internal error, timeout) is a failure of its own.
case $e2e_rc in
  0|1|5) extra_failure=0 ;;
  *) echo "test: pytest exited $e2e_rc" >&2; extra_failure=1 ;;
esac

summary=$(/usr/bin/python3 "$REPO/contrib/test-summary.py" "$RESULTS/unit.xml" "$RESULTS/e2e.xml")
echo "$summary" | head -n -1 | tee "$RESULTS/summary.txt"
read -r passed _ failed _ skipped _ <<<"$(echo "$summary" | tail -n 1)"
failed=$((failed + extra_failure))
echo "$passed passed, $failed failed, $skipped skipped" | tee -a "$RESULTS/summary.txt"
[ "$failed" -eq 0 ]
