#!/bin/sh
# winnow dups, info's near-duplicate lines, export's dup_group column and
# --dedupe, on made copies (tests/tools/blobpng): a resized copy with
# another label (a conflict), a brighter copy and a byte copy (one group),
# a flipped copy (not found: the hash does not see flips), a picture alone.
# And a project of schema 1 (before hashes were kept) gets them on first
# need, the same ones import keeps.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
  echo "Bail out! jq is needed to check the JSON (./setup installs it)"
  exit 1
fi
BLOB="$TESTS_BUILDDIR/tools/blobpng"
mkdir -p ds/cat ds/dog
"$BLOB" ds/cat/a.png 32 1
"$BLOB" ds/dog/a-small.png 32 1 resize 24
"$BLOB" ds/cat/b.png 32 2
"$BLOB" ds/cat/b-bright.png 32 2 bright 20
cp ds/cat/b.png ds/cat/b-copy.png
"$BLOB" ds/dog/c.png 32 3
"$BLOB" ds/dog/c-flip.png 32 3 flip
"$BLOB" ds/cat/d.png 32 4
"$WINNOW" import p.db ds -q >/dev/null 2>&1

run "$WINNOW" dups p.db
exits "dups exits 0" 0
cat >want <<'END'
2 groups of near-duplicates or exact copies (5 samples), 1 with conflicting labels; threshold 8 bits

group 1: 2 samples, near copies, label conflict
  cat  cat/a.png
  dog  dog/a-small.png

group 2: 3 samples, near and exact copies
  cat  cat/b-bright.png
  cat  cat/b-copy.png
  cat  cat/b.png  (same pixels as cat/b-copy.png)
END
cmp -s want "$T/out"
ok "groups in blocks, conflicts first, each member's label and path" $?
[ -s "$T/err" ]
ok "nothing on stderr (no hashes to compute)" $((! $?))

run "$WINNOW" dups p.db --conflicts
head -5 want >want-c
cmp -s want-c "$T/out"
ok "--conflicts shows only the conflicting group" $?

run "$WINNOW" dups p.db --json
exits "--json exits 0" 0
jq -e . "$T/out" >/dev/null
ok "--json is one JSON document" $?
is "with version, threshold and counts" \
  "$(jq -c '[.version, .threshold, .samples, .group_count, .conflict_count]' "$T/out")" \
  "[1,8,8,2,1]"
is "groups with their flags" \
  "$(jq -c '[.groups[] | [.id, .size, .conflict, .near, .exact]]' "$T/out")" \
  '[[1,2,true,true,false],[2,3,false,true,true]]'
is "members with path, label and their exact twin" \
  "$(jq -c '[.groups[1].members[] | [.path, .label, .same_pixels_as]]' "$T/out")" \
  '[["cat/b-bright.png","cat",null],["cat/b-copy.png","cat",null],["cat/b.png","cat","cat/b-copy.png"]]'
is "sample ids are the project's" \
  "$(jq -c '[.groups[0].members[].sample]' "$T/out")" "[1,6]"
run "$WINNOW" dups p.db --json --conflicts
is "--json --conflicts keeps the counts, lists one group" \
  "$(jq -c '[.group_count, (.groups | length)]' "$T/out")" "[2,1]"

run "$WINNOW" dups p.db --threshold 16
exits "a threshold past 15 is a usage error" 2
has "naming the range" "$T/err" "--threshold takes a whole number from 0 to 15"
run "$WINNOW" dups missing.db
exits "a missing project fails" 1
has "naming it" "$T/err" "winnow: missing.db: no such file"

run "$WINNOW" info p.db
has "info counts near-duplicate groups" "$T/out" \
  "near-duplicates: 2 groups of similar images (5 samples), threshold 8 bits"
has "and label conflicts" "$T/out" \
  "label conflicts: 1 groups of near or exact copies with different labels"
has "the exact duplicates line is as it was" "$T/out" \
  "duplicates: 1 groups of identical images (2 samples), 0 with conflicting labels"

run "$WINNOW" export p.db --labels - --dedupe -q
cat >want <<'END'
path,label
cat/a.png,cat
cat/b-bright.png,cat
cat/d.png,cat
dog/c-flip.png,dog
dog/c.png,dog
END
cmp -s want "$T/out"
ok "--dedupe keeps the first of each group, in import order" $?
run "$WINNOW" export p.db --labels out.csv --dedupe
has "the summary counts what --dedupe left out" "$T/out" \
  "exported 5 samples: 0 relabeled, 0 kept, 0 auto-accepted, 5 unreviewed; 3 near-duplicates and copies left out"
run "$WINNOW" export p.db --scores s.csv --dedupe
exits "--dedupe without a label output is a usage error" 2

"$WINNOW" score p.db --epochs 1 --threads 1 --seed 1 -q
run "$WINNOW" export p.db --scores s.csv
exits "export --scores exits 0" 0
is "dup_group, then outlier, are the last columns" "$(head -1 s.csv)" \
  "path,given_label,suggested_label,score,flagged,self_confidence,margin,cl_flag,aum,elr,suggested_prob,knn,dup_group,outlier"
is "each sample's group, as dups numbers it; empty for none" \
  "$(tail -n +2 s.csv | awk -F, '{ print $1 "=" $13 }' | sort | tr '\n' ' ')" \
  "cat/a.png=1 cat/b-bright.png=2 cat/b-copy.png=2 cat/b.png=2 cat/d.png= dog/a-small.png=1 dog/c-flip.png= dog/c.png= "

# A decision ends the conflict.
"$WINNOW" set p.db dog/a-small.png cat >/dev/null
run "$WINNOW" dups p.db --conflicts
has "a relabeled copy is no longer a conflict" "$T/out" "no label conflicts"
run "$WINNOW" info p.db
has "info agrees" "$T/out" "label conflicts: 0 groups"

# A project of schema 1: the column dropped, the version set back.
if command -v sqlite3 >/dev/null; then
  hashes() { sqlite3 "$1" 'SELECT group_concat(phash) FROM (SELECT phash FROM samples ORDER BY id)'; }
  # What schema 1 lacked: the phash column (2) and the run arrays and
  # views (3).
  to_schema1() {
    sqlite3 "$1" 'DROP VIEW samples_v; DROP VIEW labels_v; DROP VIEW scores_v;
      DROP VIEW runs_v; DROP VIEW class_noise_v; DROP TABLE run_arrays;
      DROP INDEX label_events_follows; DROP TABLE run_pairs;
      ALTER TABLE label_events DROP COLUMN follows;
      ALTER TABLE label_events DROP COLUMN excluded;
      ALTER TABLE scores DROP COLUMN outlier;
      ALTER TABLE samples DROP COLUMN phash; PRAGMA user_version = 1;'
  }
  kept=$(hashes p.db)
  cp p.db old.db
  to_schema1 old.db
  run "$WINNOW" info old.db
  exits "info (read-only) refuses an older schema, as before" 1
  has "saying how to upgrade" "$T/err" "open it once for writing to upgrade"
  run "$WINNOW" dups old.db -q
  exits "dups upgrades it" 0
  "$WINNOW" dups p.db >want
  cmp -s want "$T/out"
  ok "and finds the same groups" $?
  is "every sample has its hash now" \
    "$(sqlite3 old.db 'SELECT count(*) FROM samples WHERE phash IS NULL')" 0
  is "the hashes from stored pixels are those import kept" "$(hashes old.db)" "$kept"
  is "the schema is 4" "$(sqlite3 old.db 'PRAGMA user_version')" 4
  # Migrated by another command, the hashes are missing until dups runs;
  # info computes them in memory meanwhile and writes nothing.
  cp p.db old2.db
  to_schema1 old2.db
  "$WINNOW" set old2.db cat/d.png dog >/dev/null
  run "$WINNOW" info old2.db
  has "info counts groups of a project whose hashes are not kept yet" \
    "$T/out" "near-duplicates: 2 groups of similar images (5 samples)"
  is "and keeps none" \
    "$(sqlite3 old2.db 'SELECT count(*) FROM samples WHERE phash IS NULL')" 8
fi

done_testing
