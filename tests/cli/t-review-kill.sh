#!/bin/sh
# Nothing a person decided is lost: not to kill -9 right after a decision
# or an undo, not to a second winnow process writing the same project
# meanwhile; and the project file passes integrity_check after each kill.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"
command -v sqlite3 >/dev/null 2>&1 || {
  echo "1..0 # SKIP sqlite3 is not installed"
  exit 0
}

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 3
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score p.db --epochs 4 --threads 1 --quiet
humans() {
  sqlite3 p.db "SELECT count(*) FROM label_events WHERE source = 'human'"
}
tm_start 100 30 "'$WINNOW' review p.db"
tm_wait "#1 of 60" >/dev/null
p1=$(tm_current)
tm_keys Enter
tm_wait_current_not "$p1"
kill -9 "$(tm_pid)"
is "killed with SIGKILL" "$(tm_wait_exit)" 137
is "the decision shown is in the store" "$(humans)" 1
is "with the label it showed: the suggestion" "$(sqlite3 p.db "SELECT
  e.new_label = sc.suggested FROM label_events e
  JOIN samples s ON s.id = e.sample_id
  JOIN scores sc ON sc.sample_id = s.id AND sc.run_id = 1
  WHERE e.source = 'human' AND s.path = '$p1'")" 1
is "the project file is sound after the kill" \
  "$(sqlite3 p.db 'PRAGMA integrity_check')" ok
tm_kill

# Three keys at once, killed as soon as the screen counts them.
tm_start 100 30 "'$WINNOW' review p.db"
tm_wait "reviewed 1" >/dev/null
tm_keys Enter Space Enter
tm_wait "reviewed 4"
ok "three quick decisions are shown" $?
kill -9 "$(tm_pid)"
tm_wait_exit >/dev/null
is "all three are in the store" "$(humans)" 4
is "the project file is sound" "$(sqlite3 p.db 'PRAGMA integrity_check')" ok
tm_kill

# Another process writes while the screen is open: both keep their
# changes, and the screen picks up a run published elsewhere without
# moving off its sample.
tm_start 100 30 "'$WINNOW' review p.db"
tm_wait "reviewed 4" >/dev/null
last=$(sqlite3 p.db "SELECT path FROM samples WHERE id NOT IN
  (SELECT sample_id FROM label_events WHERE source = 'human')
  ORDER BY id DESC LIMIT 1")
run "$WINNOW" set p.db "$last" disc
exits "winnow set works beside the open screen" 0
tm_keys j j
tm_wait "#7 of 60" >/dev/null
cur=$(tm_current)
tm_keys Space
tm_wait_current_not "$cur"
is "both the screen's and set's decisions are stored" "$(humans)" 6
before=$(tm_current)
tm_keys k
tm_wait_current_not "$before"
here=$(tm_current)
run "$WINNOW" score p.db --epochs 2 --threads 1 --seed 9 --quiet
exits "winnow score works beside the open screen" 0
tm_wait "run 2 finished"
ok "the screen notices the new run" $?
is "and stays on its sample" "$(tm_current)" "$here"
tm_wait "scores of run 2" >/dev/null
ok "it shows the new run's scores" $?
tm_keys q
is "q exits 0" "$(tm_wait_exit)" 0
run "$WINNOW" export p.db --labels out.csv --status
exits "export after all that works" 0
sqlite3 p.db "SELECT e.id, s.path, e.old_label, e.new_label, e.note
  FROM label_events e JOIN samples s ON s.id = e.sample_id
  WHERE source = 'human'" >humans.txt
decided=$(awk -F, '$3 == "kept" || $3 == "relabeled"' out.csv | wc -l)
is "export --labels has every decision" "$decided" 6
[ "$decided" -eq 6 ] || sed 's/^/# /' humans.txt
tm_kill

# A relabel by class key, then u, then kill -9: the undo is as durable as
# the decision. Both events are stored and the sample has its label back.
label_of() {
  sqlite3 p.db "SELECT e.new_label FROM label_events e
    JOIN samples s ON s.id = e.sample_id WHERE s.path = '$1'
    ORDER BY e.id DESC LIMIT 1"
}
tm_start 100 30 "'$WINNOW' review p.db"
tm_wait "reviewed 6" >/dev/null
p2=$(tm_current)
was=$(label_of "$p2")
to=$(((was + 1) % 3))
tm_keys $((to + 1))
tm_wait_current_not "$p2"
is "the class key relabels the sample" "$(label_of "$p2")" $to
tm_keys u
tm_wait "undone:"
ok "u says the decision is undone" $?
kill -9 "$(tm_pid)"
is "killed with SIGKILL after the undo" "$(tm_wait_exit)" 137
is "the undo is in the store: the label is back" "$(label_of "$p2")" "$was"
is "as an event that names the one it undoes" "$(sqlite3 p.db "SELECT
  count(*) FROM label_events u JOIN label_events d ON d.id = u.undoes
  JOIN samples s ON s.id = d.sample_id
  WHERE s.path = '$p2' AND d.new_label = $to AND u.new_label = $was")" 1
is "the project file is sound after that kill" \
  "$(sqlite3 p.db 'PRAGMA integrity_check')" ok
run "$WINNOW" log p.db "$p2"
exits "winnow log reads the sample's history" 0
done_testing
