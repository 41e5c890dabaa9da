#!/bin/sh
# One decision, many samples, in the review screen, checked in the store
# exactly: a relabel offered to the sample's near-duplicates (p) and
# accepted (Enter), each carried event following the decision; `u` takes
# the whole propagation back as one step. The duplicates view (d): the
# whole group takes a member's label (=), then one member is kept and the
# rest dropped (x), which export --labels and --dedupe honour and
# `winnow undo` takes back as one step. Made copies as in t-dups.sh.
# And o ranks a scored project by outlier score.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}

BLOB="$TESTS_BUILDDIR/tools/blobpng"
mkdir -p ds/cat ds/dog
"$BLOB" ds/cat/a.png 32 1
"$BLOB" ds/dog/a-small.png 32 1 resize 24
"$BLOB" ds/cat/b.png 32 2
"$BLOB" ds/cat/b-bright.png 32 2 bright 20
cp ds/cat/b.png ds/cat/b-copy.png
"$BLOB" ds/dog/c.png 32 3
"$BLOB" ds/cat/d.png 32 4
"$WINNOW" import p.db ds -q >/dev/null 2>&1

q() { sqlite3 p.db "$1"; }
# Every label as "path=label", in import order.
labels() {
  q "SELECT group_concat(path || '=' || label, ' ') FROM
     (SELECT path, label FROM samples_v ORDER BY sample_id)"
}
# The human events after event $1: "sample:old>new:follows:excluded:undoes".
events_after() {
  q "SELECT group_concat(sample_id || ':' || old_label || '>' || new_label
       || ':' || coalesce(follows, '-') || ':' || excluded || ':'
       || coalesce(undoes, '-'), ' ')
     FROM (SELECT * FROM label_events WHERE source = 'human' AND id > $1
           ORDER BY id)"
}
last_event() { q "SELECT coalesce(max(id), 0) FROM label_events"; }
start=$(last_event)
orig=$(labels)

tm_start 100 30 "'$WINNOW' review p.db --no-engine"
tm_wait "#1 of 7" >/dev/null
is "the queue starts at the first sample" "$(tm_current)" cat/a.png

# cat/b-bright.png (sample 2) becomes a dog; its two copies are offered.
tm_keys j
tm_wait "#2 of 7" >/dev/null
tm_keys 2
tm_wait "2 near-duplicates (p)" >/dev/null
ok "the decision offers its near-duplicates" $?
tm_keys p
tm_wait "for its near-duplicates too?" >/dev/null
ok "p shows them as a list" $?
tm_wait "[x] cat           cat/b-copy.png" >/dev/null
ok "  with the copy" $?
tm_keys Enter
tm_wait "2 more samples labeled dog" >/dev/null
ok "Enter applies the decision to both" $?
d=$((start + 1))
is "three human events: the decision and two that follow it" \
  "$(events_after "$start")" "2:0>1:-:0:- 3:0>1:$d:0:- 4:0>1:$d:0:-"
is "with a note naming the decision" \
  "$(q "SELECT note FROM label_events WHERE id = $((d + 1))")" \
  "as event $d, its near-duplicate"
is "the three are dogs now" "$(labels)" \
  "cat/a.png=cat cat/b-bright.png=dog cat/b-copy.png=dog cat/b.png=dog cat/d.png=cat dog/a-small.png=dog dog/c.png=dog"

tm_keys u
tm_wait "undone: 3 decisions in one step" >/dev/null
ok "u undoes the propagation as one step" $?
is "every label is back" "$(labels)" "$orig"
is "three undo events, newest first" \
  "$(events_after "$((d + 2))")" "4:1>0:-:0:$((d + 2)) 3:1>0:-:0:$((d + 1)) 2:1>0:-:0:$d"

# The duplicates view of cat/a.png: its resized copy says dog.
mark=$(last_event)
tm_keys g
tm_wait "#1 of 7  cat/a.png" >/dev/null
tm_keys d
tm_wait "a group of 2, labels disagree" >/dev/null
ok "d shows the group, its labels disagreeing" $?
# The group's lines come below its images: wait for them too, since a
# capture can fall between the heading's and the lines' drawing.
tm_wait "> 1 cat" >/dev/null
ok "  each member with its label" $?
tm_wait "  2 dog" >/dev/null
ok "  the other one too" $?
tm_keys j
tm_wait "> 2 dog" >/dev/null
tm_keys =
tm_wait "the whole group is dog now" >/dev/null
ok "= gives the group the chosen member's label" $?
g=$((mark + 1))
is "the chosen member's decision and one that follows it" \
  "$(events_after "$mark")" "6:1>1:-:0:- 1:0>1:$g:0:-"
tm_keys u
tm_wait "undone: 2 decisions in one step" >/dev/null
is "u takes both back" "$(labels)" "$orig"

# x with dog/a-small.png chosen: it stays, cat/a.png is dropped.
mark=$(last_event)
tm_keys x
tm_wait "1 duplicate dropped from exports" >/dev/null
ok "x keeps the chosen member and drops the rest" $?
k=$((mark + 1))
is "a keep, and a drop that follows it" \
  "$(events_after "$mark")" "6:1>1:-:0:- 1:0>0:$k:1:-"
tm_keys d
tm_wait_gone "Near-duplicates:" >/dev/null
tm_keys q
is "the screen quits" "$(tm_wait_exit)" 0

run "$WINNOW" export p.db --labels l.csv
exits "export exits 0" 0
has "  and says what it left out" "$T/out" "1 dropped as duplicates in review left out"
hasnt "the dropped sample is not exported" l.csv "cat/a.png"
has "its kept duplicate is" l.csv "dog/a-small.png"
run "$WINNOW" export p.db --labels dd.csv --dedupe
has "--dedupe keeps the member a person kept, not the first" dd.csv \
  "dog/a-small.png"
hasnt "  and drops the other" dd.csv "cat/a.png"
is "  and one of the other group" "$(grep -c 'cat/b' dd.csv)" 1

run "$WINNOW" log p.db --json
is "log --json: the drop follows the keep" \
  "$(grep '"dropped":true' "$T/out" | sed 's/.*"follows":\([0-9]*\).*/\1/')" "$k"

run "$WINNOW" undo p.db
exits "winnow undo exits 0" 0
is "and takes the keep and the drop back as one" "$(grep -c '^undid' "$T/out")" 2
"$WINNOW" export p.db --labels l2.csv -q
has "the dropped sample is exported again" l2.csv "cat/a.png"
run "$WINNOW" undo p.db
is "the next undo reaches the decisions before (nothing left)" \
  "$(cat "$T/err")" "winnow: undo: nothing to undo (no decisions by a person)"

# o: a scored project ranked by outlier score, the least like any class
# first, and back.
"$TESTS_BUILDDIR/tools/shapes" sh 60 16 10 3 >/dev/null
"$WINNOW" import s.db --csv sh/manifest.csv -q >/dev/null
"$WINNOW" score s.db --epochs 2 --threads 1 -q
top=$(sqlite3 s.db 'SELECT path FROM scores_v ORDER BY outlier DESC,
  sample_id LIMIT 1')
tm_kill
tm_start 100 30 "'$WINNOW' review s.db --no-engine"
tm_wait "#1 of 60" >/dev/null
tm_keys o
tm_wait "ranked by outlier score" >/dev/null
ok "o ranks by outlier score" $?
tm_wait "#1 of 60  $top" >/dev/null
ok "  the likeliest outlier first" $?
tm_wait "by outlier" >/dev/null
ok "  the title says so" $?
tm_keys o
tm_wait "ranked by noise score" >/dev/null
ok "o again: by noise score" $?

# Enter on the top suspect, then P: the same for its most similar
# suspects (its old label, the same suggestion), one step for u.
tm_keys g
first=$(tm_current)
fq() { sqlite3 s.db "$1"; }
mark=$(fq 'SELECT max(id) FROM label_events')
tm_keys Enter
tm_wait "similar suspect" >/dev/null
ok "accepting a suggestion offers its similar suspects" $?
tm_keys P
tm_wait "its most similar suspects too?" >/dev/null
ok "P lists them" $?
tm_keys Enter
tm_wait "(u undoes them all)" >/dev/null
d=$((mark + 1))
is "the decision is on the sample shown" \
  "$(fq "SELECT s.path FROM label_events e JOIN samples s ON s.id = e.sample_id WHERE e.id = $d")" "$first"
is "each carried event follows it, with the same new label, to the same old one" \
  "$(fq "SELECT count(*) = sum(follows = $d AND new_label = (SELECT new_label FROM label_events WHERE id = $d) AND old_label = (SELECT old_label FROM label_events WHERE id = $d) AND note = 'as event $d, a similar suspect') FROM label_events WHERE id > $d")" 1
carried=$(fq "SELECT count(*) FROM label_events WHERE follows = $d")
ok "  ($carried of them, at most 20)" $([ "$carried" -ge 1 ] && [ "$carried" -le 20 ]; echo $?)
tm_keys u
tm_wait "undone: $((carried + 1)) decisions in one step" >/dev/null
ok "u takes them all back" $?
is "  every label as before" \
  "$(fq "SELECT count(*) FROM samples_v WHERE label_source = 'human' AND label <> given_label")" 0
tm_keys q
is "the screen quits" "$(tm_wait_exit)" 0

done_testing
