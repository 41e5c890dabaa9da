#!/bin/sh
# Decisions made with single keys in the review screen reach the store
# exactly: accept (Enter), keep (Space), a class from the picker (c), a
# class by number (1), skip (s, never stored), undo twice (u) and redo
# (Ctrl-R); each a human label event, undos naming what they revert. A
# reopened screen finds every decision.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 3
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score p.db --epochs 4 --threads 1 --quiet
"$WINNOW" export p.db --scores scores.csv
class0=$(sqlite3 p.db 'SELECT name FROM classes WHERE id = 0')
field() { # field PATH COLUMN FILE: a column of the row of PATH
  awk -F, -v p="$1" -v c="$2" '$1 == p { print $c; exit }' "$3"
}
labels() { "$WINNOW" export p.db --labels labels.csv --status -q; }
label_of() { labels; field "$1" 2 labels.csv; }
status_of() { field "$1" 3 labels.csv; }
given_of() { field "$1" 2 ds/manifest.csv; }
humans() {
  sqlite3 p.db "SELECT count(*) FROM label_events WHERE source = 'human'"
}

tm_start 100 30 "'$WINNOW' review p.db"
tm_wait "#1 of 60" >/dev/null
p1=$(tm_current)
ok "the first sample is shown ($p1)" $([ -n "$p1" ]; echo $?)

# Enter: accept the suggestion.
sugg1=$(field "$p1" 3 scores.csv)
tm_keys Enter
tm_wait_current_not "$p1"
p2=$(tm_current)
is "Enter gives the first sample its suggested label" "$(label_of "$p1")" \
  "$sugg1"
is "as a decision" "$(status_of "$p1")" \
  "$([ "$sugg1" = "$(given_of "$p1")" ] && echo kept || echo relabeled)"
is "one human event so far" "$(humans)" 1

# Space: keep the label.
tm_keys Space
tm_wait_current_not "$p2"
p3=$(tm_current)
is "Space keeps the second sample's label" "$(label_of "$p2")" \
  "$(given_of "$p2")"
is "and marks it kept" "$(status_of "$p2")" kept

# c: the picker, narrowed by typing, Enter chooses.
other=$(for c in cross disc square; do
  [ "$c" != "$(given_of "$p3")" ] && echo $c
done | head -1)
tm_keys c
tm_wait "Label as" >/dev/null
tm_keys -l "$other"
tm_wait "1 of 3" >/dev/null
tm_keys Enter
tm_wait_current_not "$p3"
p4=$(tm_current)
is "the picker relabels the third sample" "$(label_of "$p3")" "$other"
is "as relabeled" "$(status_of "$p3")" relabeled

# 1: the first class.
given4=$(given_of "$p4")
tm_keys 1
tm_wait_current_not "$p4"
p5=$(tm_current)
is "1 gives the fourth sample class 1 ($class0)" "$(label_of "$p4")" "$class0"
ev4=$(sqlite3 p.db "SELECT max(e.id) FROM label_events e
  JOIN samples s ON s.id = e.sample_id WHERE s.path = '$p4'")

# s: skip, stored nowhere.
before=$(humans)
tm_keys s
tm_wait_current_not "$p5"
is "a skip writes nothing" "$(humans)" "$before"

# u: undo the skip (back on p5), u: undo the class (back on p4).
tm_keys u
tm_wait "undone: skip"
ok "u undoes the skip" $?
is "and shows the skipped sample again" "$(tm_current)" "$p5"
is "undoing a skip writes nothing" "$(humans)" "$before"
tm_keys u
tm_wait_current_not "$p5"
is "u again goes back to the fourth sample" "$(tm_current)" "$p4"
is "its label is the imported one again" "$(label_of "$p4")" "$given4"
is "and it is unreviewed" "$(status_of "$p4")" unreviewed
undoes=$(sqlite3 p.db \
  "SELECT undoes FROM label_events ORDER BY id DESC LIMIT 1")
is "the undo is an event naming the decision it reverts" "$undoes" "$ev4"

# Ctrl-R: redo.
tm_keys C-r
tm_wait "redone"
ok "Ctrl-R redoes" $?
is "the fourth sample has class 1 again" "$(label_of "$p4")" "$class0"
note=$(sqlite3 p.db "SELECT note FROM label_events ORDER BY id DESC LIMIT 1")
is "recorded as a redo" "$note" redo
is "six human events: four decisions, an undo, a redo" "$(humans)" 6
tm_keys q
is "q exits 0" "$(tm_wait_exit)" 0
tm_kill

# Reopened (as `winnow DB`, short for review): every decision is there;
# decided samples are browsable.
tm_start 100 30 "'$WINNOW' p.db"
tm_wait "reviewed 4   to review 56"
ok "a reopened screen counts the four decisions" $?
tm_keys f
tm_wait "showing: decided (4)"
ok "f shows the decided samples" $?
tm_keys f f f
tm_wait "showing: to review (56)"
ok "and f comes back round to the queue" $?
tm_keys q
tm_wait_exit >/dev/null
run "$WINNOW" log p.db
has "winnow log shows the undo" "$T/out" "undoes #$ev4"
labels
kept=$(awk -F, '$3 == "kept" || $3 == "relabeled"' labels.csv | wc -l)
is "export --labels has the four decisions" "$kept" 4
done_testing
