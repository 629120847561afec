#!/usr/bin/env bash
# Build fastact with FASTACT_DEBUG_BUILD=1 (Cython bounds/wraparound checks,
# -O0 -g) in a temporary copy of the committed tree and run the test suite
# on it once.  The working tree and its in-place build are not touched.
#
#   tools/debug_build_test.sh [pytest args...]
#       (default: -q -m "not slow and not stress" tests, as .ci/run: the stress
#       tests, repeated large or concurrent calls, take minutes unoptimized and
#       reach no kernel path the others do not; pass "-q tests" for all)
#
# FASTACT_HYPOTHESIS_EXAMPLES defaults to 30 here (unoptimized kernels).
#
# Uses the current Python (its numpy, Cython, pytest, hypothesis).  Committed
# files only (git archive HEAD); falls back to copying the tree outside git.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-python}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/fastact-debug.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$here" archive HEAD | tar -x -C "$tmp"
else
    (cd "$here" && tar --exclude='./build' --exclude='*.so' --exclude='*.c' -cf - .) | tar -x -C "$tmp"
fi
cd "$tmp"
echo "debug build in $tmp"
FASTACT_DEBUG_BUILD=1 "$py" setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log; exit 1; }
built=$(date +%s)
echo "built in $((built - start)) s"
# the tree is imported from the copy (tests/conftest.py imports fastact)
[ $# -gt 0 ] || set -- -q -m "not slow and not stress" tests
status=0
PYTHONPATH="$tmp" FASTACT_HYPOTHESIS_EXAMPLES="${FASTACT_HYPOTHESIS_EXAMPLES:-30}" \
    "$py" -m pytest -p no:cacheprovider "$@" || status=$?
PYTHONPATH="$tmp" "$py" -c "import fastact, sys; assert fastact.__file__.startswith('$tmp'), fastact.__file__" || status=1
echo "debug build test: built in $((built - start)) s, tests in $(( $(date +%s) - built )) s, exit $status"
exit $status
