#!/bin/sh
# The engine live in the review screen: it starts by itself when nothing
# is scored, decisions made meanwhile are saved, the queue re-ranks when
# the run is published without moving off the sample on screen; t pauses
# and resumes, T stops with a checkpoint, q stops it quickly, and the next
# session resumes it.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
TM_DEADLINE=60

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 3
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
humans() {
  "$WINNOW" export p.db --labels - --status -q | grep -c ',kept,\|,relabeled,'
}

# Nothing scored: the screen starts the engine and shows the samples in
# import order meanwhile.
tm_start 100 30 "'$WINNOW' review p.db --epochs 3 --threads 1"
tm_wait "#1 of 60  img/0000.png"
ok "unscored samples come in import order" $?
# The run may finish at any moment (a 3-epoch run on a fast or a busy
# machine), so wait for what lasts: the screen leaving the decided sample,
# and the status line naming the run, not its passing notice.
tm_keys Space
tm_wait_current_not "img/0000.png"
ok "a decision can be made before any score" $?
here=$(tm_current)
tm_wait "scores of run 1"
ok "the run started by the screen finishes and re-ranks the queue" $?
is "the screen stays on its sample" "$(tm_current)" "$here"
has "scores are shown" "$T/screen" "scores of run 1"
is "the early decision is saved" "$(humans)" 1
tm_keys q
is "q exits 0" "$(tm_wait_exit)" 0
tm_kill

# A long run: pause, resume, stop with T.
tm_start 100 30 "'$WINNOW' review p.db --epochs 2000 --threads 1"
tm_wait "scores of run 1" >/dev/null
tm_keys t
tm_wait "training"
ok "t starts a new run" $?
tm_keys t
tm_wait "paused:"
ok "t pauses it" $?
tm_keys t
tm_wait "scoring resumed"
ok "t resumes it" $?
tm_keys T
tm_wait "checkpoint is saved"
ok "T stops it with a checkpoint" $?
run "$WINNOW" info p.db
has "the run is recorded as interrupted" "$T/out" "interrupted"
tm_keys q
is "q exits 0" "$(tm_wait_exit)" 0
tm_kill

# q during training stops the engine quickly and says how to go on; the
# next session resumes the run from its checkpoint.
"$WINNOW" import q.db --csv ds/manifest.csv -q >/dev/null
tm_start 100 30 "'$WINNOW' review q.db --epochs 2000 --threads 1"
tm_wait "training" >/dev/null
t0=$(date +%s)
tm_keys q
st=$(tm_wait_exit)
t1=$(date +%s)
is "q during training exits 0" "$st" 0
# Stopping takes a batch and a checkpoint (well under a second here); the
# bound is loose so that a busy machine cannot fail it, while a q that
# waited for the 2000 epochs would still be caught.
ok "and quickly ($((t1 - t0)) s)" $([ $((t1 - t0)) -le 30 ]; echo $?)
tm_wait "scoring stopped with a checkpoint"
ok "it says the run goes on next time" $?
run "$WINNOW" info q.db
has "the run is interrupted, not lost" "$T/out" "interrupted"
tm_kill
tm_start 100 30 "'$WINNOW' review q.db --epochs 2000 --threads 1"
tm_wait "scoring resumes from its checkpoint"
ok "the next session resumes the run" $?
tm_keys q
tm_wait_exit >/dev/null
done_testing
