#!/bin/sh
# winnow set and winnow undo: decisions from scripts, on the same
# append-only history as the review UI; unknown paths and classes are
# named; a path in two sources needs SOURCE:PATH; undo walks back.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

for i in 1 2 3; do png ds/cat/$i.png; png ds/dog/$i.png; done
"$WINNOW" import p.db ds -q >/dev/null

label() { "$WINNOW" export p.db --labels - -q | awk -F, -v p="$1" '$1 == p { print $2 }'; }
status() { "$WINNOW" export p.db --labels - --status -q | awk -F, -v p="$1" '$1 == p { print $3 }'; }

is "before any decision the label is the imported one" "$(status cat/1.png)" "unreviewed"
run "$WINNOW" set p.db cat/1.png dog
exits "set exits 0" 0
is "set says what changed" "$(cat "$T/out")" "cat/1.png: cat -> dog"
is "the label is changed" "$(label cat/1.png)" "dog"
is "the sample counts as relabeled" "$(status cat/1.png)" "relabeled"
run "$WINNOW" set p.db dog/2.png dog
exits "setting the label a sample has exits 0" 0
is "it says the label was kept" "$(cat "$T/out")" "dog/2.png: dog (kept)"
is "the sample counts as kept" "$(status dog/2.png)" "kept"
run "$WINNOW" log p.db dog/2.png
has "the verification is in the history" "$T/out" "dog -> dog  human"
"$WINNOW" set p.db dog/3.png cat --note "ears" >/dev/null
run "$WINNOW" log p.db dog/3.png
has "a note is kept" "$T/out" 'note "ears"'

run "$WINNOW" set p.db cat/9.png dog
exits "an unknown path fails" 1
is "the path is named" "$(cat "$T/err")" "winnow: set: no sample 'cat/9.png' in the project"
run "$WINNOW" set p.db cat/2.png bird
exits "an unknown class fails" 1
is "the class is named, with the known ones" "$(cat "$T/err")" \
  "winnow: set: no class 'bird' (classes: cat, dog)"
is "nothing was recorded for them" "$(label cat/2.png)" "cat"

# The same relative path from a second source (a manifest elsewhere).
mkdir -p other/cat
cp ds/cat/1.png other/cat/1.png
printf 'path,label\ncat/1.png,cat\n' > other/list.csv
"$WINNOW" import p.db --csv other/list.csv -q >/dev/null
run "$WINNOW" set p.db cat/1.png cat
exits "a path in two sources fails" 1
has "it asks which" "$T/err" "'cat/1.png' is in 2 sources: say which, as 1:cat/1.png"
has "naming both" "$T/err" "2:cat/1.png (csv "
run "$WINNOW" set p.db 2:cat/1.png dog
exits "SOURCE:PATH picks one" 0
is "and sets that one" "$(cat "$T/out")" "2:cat/1.png: cat -> dog"

run "$WINNOW" undo p.db
exits "undo exits 0" 0
has "undo says what it undid" "$T/out" ": cat/1.png: dog -> cat"
has "naming the decision" "$T/out" "undid #"
run "$WINNOW" log p.db 2:cat/1.png
has "the undo is an event of its own" "$T/out" "dog -> cat  human"
has "which names what it undoes" "$T/out" "undoes #"
has "and the decision is marked undone" "$T/out" "undone"
run "$WINNOW" undo p.db 2
exits "undo 2 exits 0" 0
is "it undoes the two before, newest first" "$(cut -d: -f2- "$T/out" | sed 's/^ //')" \
"dog/3.png: cat -> dog
dog/2.png: dog -> dog"
is "undone labels are back" "$(label dog/3.png)" "dog"
is "an undone verification is unreviewed again" "$(status dog/2.png)" "unreviewed"
run "$WINNOW" undo p.db 5
exits "undo past the start undoes what is left" 0
has "the first decision is undone" "$T/out" "cat/1.png: dog -> cat"
has "and says how many there were" "$T/err" "only 1 decision to undo"
is "the first label is back" "$(label cat/1.png | head -1)" "cat"
run "$WINNOW" undo p.db
exits "with nothing left, undo fails" 1
has "and says so" "$T/err" "nothing to undo"
n=$("$WINNOW" log p.db | wc -l)
is "nothing was deleted: 4 decisions and 4 undos" "$n" 8

run "$WINNOW" set p.db cat/2.png
exits "set without a label is a usage error" 2
run "$WINNOW" undo p.db 0
exits "undo 0 is a usage error" 2
run "$WINNOW" undo p.db x
exits "undo x is a usage error" 2
run "$WINNOW" set missing.db cat/1.png dog
exits "set on a missing project fails" 1
test ! -e missing.db
ok "and creates nothing" $?
for cmd in set undo; do
  run "$WINNOW" $cmd --help
  exits "$cmd --help exits 0" 0
  has "$cmd --help shows its usage" "$T/out" "usage: winnow $cmd"
done

done_testing
