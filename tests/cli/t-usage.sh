#!/bin/sh
# The command line's contract: help, version, and usage errors (exit 2).
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

run "$WINNOW" --help
exits "--help exits 0" 0
has "--help lists import" "$T/out" "import"
has "--help lists info" "$T/out" "info"

run "$WINNOW" --version
exits "--version exits 0" 0
has "--version names winnow" "$T/out" "winnow "

run "$WINNOW"
exits "no arguments is a usage error" 2
has "no arguments prints the usage" "$T/err" "usage: winnow"

run "$WINNOW" frobnicate
exits "unknown command exits 2" 2
has "unknown command is named" "$T/err" "winnow: unknown command 'frobnicate'"

run "$WINNOW" --frobnicate
exits "unknown global option exits 2" 2
has "unknown global option is named" "$T/err" "winnow: unknown option '--frobnicate'"

for cmd in import info; do
  run "$WINNOW" $cmd --help
  exits "$cmd --help exits 0" 0
  has "$cmd --help shows its usage" "$T/out" "usage: winnow $cmd"
  run "$WINNOW" help $cmd
  exits "help $cmd exits 0" 0
  run "$WINNOW" $cmd --bogus x.db
  exits "$cmd with an unknown option exits 2" 2
  has "$cmd names the unknown option" "$T/err" "winnow: $cmd: unknown option '--bogus'"
  has "$cmd prints its usage after the error" "$T/err" "usage: winnow $cmd"
done

run "$WINNOW" import
exits "import without DB exits 2" 2
has "import says what is missing" "$T/err" "missing project file DB"
run "$WINNOW" import p.db
exits "import without a dataset exits 2" 2
run "$WINNOW" import p.db --idx images
exits "--idx with one file exits 2" 2
run "$WINNOW" import p.db --max-side 0 dir
exits "--max-side out of range exits 2" 2
has "--max-side range is stated" "$T/err" "--max-side takes a whole number"
run "$WINNOW" import p.db --csv a.csv --idx b c
exits "--csv with --idx exits 2" 2
test ! -e p.db
ok "usage errors create no project file" $?

run "$WINNOW" info
exits "info without DB exits 2" 2
run "$WINNOW" info missing.db
exits "info on a missing file exits 1" 1
has "info names the missing file" "$T/err" "winnow: missing.db: "
test ! -e missing.db
ok "info does not create the file" $?

done_testing
