#!/bin/sh
# Importing MNIST-style IDX files: plain and gzip, class names, bad headers.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

"$MKPNG" idx img.idx lab.idx 30 6 5 3
"$MKPNG" idx img.idx.gz lab.idx.gz 20 4 4 2

run "$WINNOW" import p.db --idx img.idx lab.idx
exits "plain IDX import exits 0" 0
has "all records are imported" "$T/out" "imported 30 images"
run "$WINNOW" info p.db
has "classes are named by label value" "$T/out" "classes:    3"
grep -E '^  0 +10$' "$T/out" >/dev/null
ok "label 0 has ten images" $?
has "IDX images are gray" "$T/out" "5x6 gray"

printf 'zero\none\n\n' > names.txt
run "$WINNOW" import g.db --idx img.idx.gz lab.idx.gz --class-names names.txt
exits "gzip IDX with class names exits 0" 0
run "$WINNOW" info g.db
grep -E '^  zero +10$' "$T/out" >/dev/null
ok "class names come from the file" $?

printf 'only\n' > short.txt
run "$WINNOW" import h.db --idx img.idx lab.idx --class-names short.txt
has "a label without a name is reported" "$T/err" "label 1 has no class name"

"$MKPNG" idx img2.idx lab2.idx 29 6 5 3
run "$WINNOW" import m.db --idx img.idx lab2.idx
exits "a count mismatch fails" 1
has "the mismatch is explained" "$T/err" "count mismatch: img.idx has 30 images but lab2.idx has 29 labels"
test ! -e m.db
ok "the failed import leaves no file" $?

printf 'not an idx file at all' > bad.idx
run "$WINNOW" import m.db --idx bad.idx lab.idx
exits "a wrong magic number fails" 1
has "the magic is named" "$T/err" "winnow: import: bad.idx: not an IDX file"

run "$WINNOW" import p.db --idx img.idx lab.idx
has "re-import adds nothing" "$T/out" "imported 0 images"

done_testing
