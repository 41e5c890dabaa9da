#!/bin/sh
# The review screen in a terminal (tmux): the queue and an image drawn in
# coloured cells, the help, a resize to 80x24 and back that draws exactly
# what a fresh start at that size draws, a terminal too small for it, and
# the terminal restored on q and on SIGTERM.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
. "$TESTS_SRCDIR/tmux.sh"

"$TESTS_BUILDDIR/tools/shapes" ds 60 16 10 3
"$WINNOW" import p.db --csv ds/manifest.csv -q >/dev/null
"$WINNOW" score p.db --epochs 4 --threads 1 --quiet
review="'$WINNOW' review p.db"

tm_start 100 30 "$review"
tm_wait "showing: to review (60)"
ok "the screen opens on the queue" $?
tm_settle w
tm_screen >s100.txt
has "the queue has its header" s100.txt "rank"
has "the current sample is the top suspect" s100.txt "#1 of 60"
has "the status line counts the work" s100.txt "to review 60"
has "the scores come from the run" s100.txt "scores of run 1"
has "the key hints are shown" s100.txt "? help"
# The model's three likeliest classes (of disc, square, cross) as bars.
bars=$(grep -cE '(disc|square|cross) +[^ ]+ [01]\.[0-9]{2} *$' s100.txt)
is "the sample shows its three likeliest classes with probabilities" "$bars" 3
rows=$(grep -c '^ *[0-9][0-9]* 0\.[0-9][0-9] ' s100.txt)
awk -v n="$rows" 'BEGIN { exit !(n >= 20) }'
ok "the queue lists a screenful of ranked samples ($rows)" $?

# The image: half blocks whose colours are set per cell (256 colours in
# tmux-256color), many different ones.
tm_screen -e >s100e.txt
colours=$(grep -o '\[[34]8;5;[0-9]*m' s100e.txt | sort -u | wc -l)
awk -v n="$colours" 'BEGIN { exit !(n >= 8) }'
ok "the image is drawn in coloured cells ($colours colours)" $?
has "with half-block characters" s100.txt "▀"

# Resize to 80x24: the screen is what a fresh start at 80x24 draws.
tm resize-window -t w -x 80 -y 24
tm_settle w
tm_screen >s80.txt
w80=$(LC_ALL=C.UTF-8 wc -L <s80.txt)
ok "nothing is drawn past 80 columns ($w80)" $([ "$w80" -le 80 ]; echo $?)
is "24 lines" "$(wc -l <s80.txt)" 24
tm new-window -d -n fresh -c "$T" -e LC_ALL=C.UTF-8 -e LANG=C.UTF-8 \
  "'$WINNOW' review p.db"
tm resize-window -t fresh -x 80 -y 24
tm_settle fresh
tm capture-pane -p -t fresh >fresh80.txt
tm send-keys -t fresh q
what="the resized screen is a clean 80x24 screen"
if cmp -s s80.txt fresh80.txt; then ok "$what" 0; else
  ok "$what" 1
  diff s80.txt fresh80.txt | sed 's/^/# /' | head -40
fi

# Too small: a message, not a garbled screen; then back to 100x30.
tm resize-window -t w -x 60 -y 20
tm_wait "needs a terminal of at least 80x24"
ok "a terminal below 80x24 gets a message" $?
tm resize-window -t w -x 100 -y 30
tm_wait "showing: to review (60)" >/dev/null
tm_settle w
tm_screen >s100b.txt
what="back at 100x30 the screen is as before"
if cmp -s s100.txt s100b.txt; then ok "$what" 0; else
  ok "$what" 1
  diff s100.txt s100b.txt | sed 's/^/# /' | head -40
fi

# Help lists the keys; any key closes it.
tm_keys '?'
tm_wait "winnow review: keys"
ok "? shows the help" $?
tm_wait "Ctrl-R" >/dev/null
ok "the help names redo" $?
tm_wait "choose a class" >/dev/null
ok "the help names the picker" $?
tm_wait "Classes of the digit keys" >/dev/null
ok "the help names the digit keys' classes" $?
tm_keys x
tm_wait "showing: to review (60)"
ok "a key closes the help" $?

# The class picker filters as one types; Esc leaves it.
tm_keys c
tm_wait "Label as"
ok "c opens the class picker" $?
tm_keys d i
tm_wait "1 of 3"
ok "typing narrows the classes" $?
tm_wait "disc" >/dev/null
ok "to the one that matches" $?
tm_keys Escape
tm_wait_gone "Label as"
ok "Esc closes the picker" $?

# q quits at once and restores the terminal.
tm_keys q
st=$(tm_wait_exit)
is "q exits 0" "$st" 0
is "the terminal left the alternate screen" "$(tm_var alternate_on)" 0
tm_kill

# SIGTERM and SIGINT restore the terminal too.
for sig in TERM INT; do
  tm_start 100 30 "$review"
  tm_wait "showing: to review" >/dev/null
  kill -$sig "$(tm_pid)"
  st=$(tm_wait_exit)
  is "SIG$sig ends the review cleanly" "$st" 0
  is "SIG$sig restores the terminal" "$(tm_var alternate_on)" 0
  tm_kill
done

# Without a terminal: an error, not a hang.
run "$WINNOW" review p.db </dev/null
exits "review without a terminal fails" 1
has "and says why" "$T/err" "needs a terminal"
run "$WINNOW" review missing.db
exits "review of a missing file fails" 1
run "$WINNOW" review
exits "review without DB is a usage error" 2
done_testing
