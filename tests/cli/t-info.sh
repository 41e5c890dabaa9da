#!/bin/sh
# winnow info on projects good and bad.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

png ds/a/1.png; png ds/b/1.png
"$WINNOW" import p.db ds >/dev/null 2>&1
run "$WINNOW" info p.db
exits "info exits 0" 0
has "no runs yet" "$T/out" "runs:       none yet"
has "no decisions yet" "$T/out" "decisions:  0"
cp p.db p.copy
run "$WINNOW" info p.db
cmp -s p.db p.copy
ok "info leaves the project file unchanged" $?

echo "hello" > text.db
run "$WINNOW" info text.db
exits "a text file is refused" 1
has "the reason is given" "$T/err" "winnow: text.db: not a winnow project file"

if command -v sqlite3 >/dev/null; then
  sqlite3 foreign.db 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
  cp foreign.db foreign.before
  run "$WINNOW" info foreign.db
  exits "a foreign SQLite file is refused" 1
  has "as not a winnow project" "$T/err" "not a winnow project file"
  cmp -s foreign.db foreign.before
  ok "the foreign file is unchanged" $?
  cp p.db newer.db
  sqlite3 newer.db 'PRAGMA user_version = 99;'
  run "$WINNOW" info newer.db
  exits "a newer schema is refused" 1
  has "the newer schema is explained" "$T/err" "newer winnow"
fi

done_testing
