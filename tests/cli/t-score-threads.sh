#!/bin/sh
# The engine's thread team at work: a score with two threads finishes and
# repeats bit for bit for the same seed and thread count, and the review
# screen runs a two-thread engine beside its own thread through pause,
# resume and quit. Under `make check-tsan` this puts the team, the engine
# thread and the UI thread side by side under ThreadSanitizer.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
TM_DEADLINE=60

"$TESTS_BUILDDIR/tools/shapes" ds 90 16 10 5
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" import q.db --csv ds/manifest.csv -q >/dev/null
args="--epochs 4 --seed 2 --threads 2"

run "$WINNOW" score p.db $args
exits "a score with two threads exits 0" 0
has "and publishes its run" "$T/out" "run 1 done"
"$WINNOW" export p.db --scores s1.csv
run "$WINNOW" score p.db $args --quiet
exits "again" 0
"$WINNOW" export p.db --scores s2.csv
is "one row per sample" "$(($(wc -l <s1.csv) - 1))" 90
cmp -s s1.csv s2.csv
ok "the same seed and threads give the same scores bit for bit" $?
run "$WINNOW" info p.db
exits "info reads the runs" 0

tm_start 100 30 "'$WINNOW' review q.db --epochs 10000 --threads 2"
tm_wait "training" >/dev/null
ok "the review screen trains with two threads" $?
tm_keys Space
tm_wait "#2 of 90"
ok "and takes decisions meanwhile" $?
tm_keys t
tm_wait "paused:"
ok "t pauses the team" $?
tm_keys t
tm_wait "scoring resumed"
ok "t resumes it" $?
tm_keys q
is "q stops it and exits 0" "$(tm_wait_exit)" 0
tm_wait "scoring stopped with a checkpoint"
ok "with a checkpoint" $?
tm_kill
run "$WINNOW" info q.db
has "the run is interrupted, not lost" "$T/out" "interrupted"
done_testing
