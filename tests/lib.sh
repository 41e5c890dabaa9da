# tests/lib.sh: sourced by the command tests. A scratch folder removed on
# exit, TAP output, and helpers that run winnow and compare.
set -u
: "${WINNOW:?run through make check, or set WINNOW to the binary}"
: "${TESTS_BUILDDIR:=$(dirname "$WINNOW")/tests}"
: "${TESTS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
MKPNG="$TESTS_BUILDDIR/tools/mkpng"
T=$(mktemp -d "${TMPDIR:-/tmp}/winnow-t.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
tap_n=0
tap_failed=0

# ok DESCRIPTION STATUS: passes when STATUS is 0.
ok() {
  tap_n=$((tap_n + 1))
  if [ "$2" -eq 0 ]; then
    echo "ok $tap_n - $1"
  else
    echo "not ok $tap_n - $1"
    tap_failed=$((tap_failed + 1))
  fi
}

diag() { printf '# %s\n' "$@"; }

# run CMD...: runs it with stdout in $T/out, stderr in $T/err, status in rc.
run() {
  rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# is DESCRIPTION ACTUAL EXPECTED
is() {
  if [ "$2" = "$3" ]; then ok "$1" 0; else
    ok "$1" 1
    diag "got:      $2" "expected: $3"
  fi
}

# exits DESCRIPTION STATUS: the last run exited with STATUS.
exits() {
  if [ "$rc" -eq "$2" ]; then ok "$1" 0; else
    ok "$1" 1
    diag "exit status $rc, expected $2" "stderr:"
    sed 's/^/#   /' "$T/err" | head -20
  fi
}

# has DESCRIPTION FILE FIXED-STRING: FILE contains the string.
has() {
  if grep -qF -- "$3" "$2"; then ok "$1" 0; else
    ok "$1" 1
    diag "no '$3' in $2:"
    sed 's/^/#   /' "$2" | head -20
  fi
}

# hasnt DESCRIPTION FILE FIXED-STRING
hasnt() {
  if grep -qF -- "$3" "$2"; then
    ok "$1" 1
    diag "unexpected '$3' in $2"
  else ok "$1" 0; fi
}

# png PATH [W H C SEED]: a fixture image.
png() {
  mkdir -p "$(dirname "$1")"
  "$MKPNG" "$1" "${2:-8}" "${3:-8}" "${4:-3}" \
    "${5:-$(printf %s "$1" | cksum | cut -d' ' -f1)}"
}

done_testing() {
  echo "1..$tap_n"
  [ "$tap_failed" -eq 0 ]
}
