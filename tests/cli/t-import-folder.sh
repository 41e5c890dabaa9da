#!/bin/sh
# Importing class folders: nested folders, sizes, re-import, duplicates.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

for i in 1 2 3; do png ds/cat/c$i.png 8 8 3; done
png ds/cat/sub/deeper/c4.png 8 8 3
for i in 1 2; do png ds/dog/d$i.png 16 8 1; done
png ds/bird/big.png 200 100 3
cp ds/cat/c1.png ds/dog/copy-of-c1.png
echo "not an image" > ds/README
mkdir -p ds/.hidden && png ds/.hidden/x.png

run "$WINNOW" import p.db ds
exits "folder import exits 0" 0
has "summary counts the images" "$T/out" "imported 8 images into p.db"
has "summary counts the classes" "$T/out" "classes: 3 (3 new)"
has "summary reports the duplicate" "$T/out" "exact duplicates of earlier samples: 1"
hasnt "a README at the top is not an error" "$T/err" "README"
hasnt "hidden folders are passed over" "$T/err" ".hidden"

run "$WINNOW" info p.db
exits "info exits 0" 0
has "info counts samples" "$T/out" "samples:    8"
has "info counts classes" "$T/out" "classes:    3"
grep -E '^  cat +4$' "$T/out" >/dev/null
ok "nested images belong to their class folder" $?
grep -E '^  dog +3$' "$T/out" >/dev/null
ok "dog has its three images" $?
grep -E '^  bird +1$' "$T/out" >/dev/null
ok "bird has its image" $?
has "info lists the sizes" "$T/out" "8x8 RGB"
has "info lists gray sizes" "$T/out" "16x8 gray"
has "large images keep their source size" "$T/out" "200x100 RGB"
has "info reports duplicates and the label conflict" "$T/out" "1 groups of identical images (2 samples), 1 with conflicting labels"
has "info names the source" "$T/out" "$(cd ds && pwd)"

run "$WINNOW" import p.db ds
exits "importing the same folder again exits 0" 0
has "nothing new is imported" "$T/out" "imported 0 images"
has "existing samples are counted" "$T/out" "already in the project: 8"
run "$WINNOW" info p.db
has "re-import does not duplicate samples" "$T/out" "samples:    8"

png ds/dog/d3.png 16 8 1
run "$WINNOW" import p.db ds
has "a new file is picked up by a re-import" "$T/out" "imported 1 images"

run "$WINNOW" import q.db ds --max-side 16 --threads 1 --quiet
exits "import with options exits 0" 0
is "--quiet prints no progress" "$(cat "$T/err")" ""

# Folder names ending in a carriage return (copies made on Windows) name
# the same class as without it.
mkdir -p "crlf/cat$(printf '\r')" crlf/cat
png "crlf/cat$(printf '\r')/a.png" 8 8 3 101
png crlf/cat/b.png 8 8 3 102
run "$WINNOW" import cr.db crlf
has "a trailing CR does not make a second class" "$T/out" "classes: 1 (1 new)"
run "$WINNOW" info cr.db
grep -E '^  cat +2$' "$T/out" >/dev/null
ok "both folders' images are in class cat" $?

run "$WINNOW" import p.db missing-folder
exits "a missing folder exits 1" 1
has "the missing folder is named" "$T/err" "winnow: import: missing-folder: No such file or directory"

mkdir empty-root
run "$WINNOW" import r.db empty-root
exits "a folder without class folders exits 1" 1
has "the reason is given" "$T/err" "no class folders"
test ! -e r.db
ok "a failed import into a new file leaves no file" $?

done_testing
