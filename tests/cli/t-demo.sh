#!/bin/sh
# winnow demo: imports the shipped CIFAR-10 sample with its planted label
# errors once, reopens it after, opens the review (scoring in the
# background), and on quit counts the planted errors found.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
TM_DEADLINE=60

run "$WINNOW" demo d.db </dev/null
exits "demo without a terminal fails" 1
has "after importing the demo set" "$T/out" \
  "imported 2000 CIFAR-10 images into d.db"
has "and says to run it in a terminal" "$T/err" "needs a terminal"
run "$WINNOW" info d.db
has "the demo project has 10 classes" "$T/out" "classes:    10"
run "$WINNOW" demo d.db </dev/null
has "a second demo reopens the project" "$T/out" "reopening d.db"
run env WINNOW_DEMO_DATA="$T/nowhere" "$WINNOW" demo x.db </dev/null
exits "missing demo data fails" 1
has "and says where it looked" "$T/err" "the demo data is not in $T/nowhere"

# Fix one planted error by hand: the first flipped sample, in import order
# since nothing is scored (--no-engine keeps it so).
first=$(awk -F, 'NR == 2 { print $1 }' "$TESTS_SRCDIR/../data/demo/truth.csv")
truth=$(awk -F, 'NR == 2 { print $2 }' "$TESTS_SRCDIR/../data/demo/truth.csv")
index=${first##*#}
digit=$(awk -v c="$truth" '$0 == c { print NR % 10 }' \
  "$TESTS_SRCDIR/../data/demo/classes.txt")
tm_start 100 30 "'$WINNOW' demo d.db --no-engine"
tm_wait "showing: to review (2000)"
ok "the demo opens the review" $?
[ "$index" -gt 0 ] && tm_keys -N "$index" j
tm_wait "#$((index + 1)) of 2000"
is "on the first flipped sample" "$(tm_current)" "$first"
tm_keys "$digit"
tm_wait "relabeled"
ok "relabeled to its true class ($truth)" $?
tm_keys q
is "q exits 0" "$(tm_wait_exit)" 0
tm_wait "found and fixed 1"
ok "the demo counts the planted error found" $?
has "and those left" "$T/screen" "199 are still unreviewed"

# With the engine: it starts, and q stops it with a checkpoint.
tm_kill
tm_start 100 30 "'$WINNOW' demo d.db --threads 1"
tm_wait "training"
ok "the demo scores in the background" $?
tm_keys q
is "q exits 0 while training" "$(tm_wait_exit)" 0
tm_wait "scoring stopped with a checkpoint"
ok "and the run is kept for next time" $?
done_testing
