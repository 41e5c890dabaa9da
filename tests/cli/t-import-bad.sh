#!/bin/sh
# A folder mixing good images with bad files: the good ones are imported,
# each bad one is named with its reason, the summary counts them; --strict
# stops at the first and leaves the project exactly as it was.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

for i in 1 2 3; do png ds/cat/c$i.png; done
for i in 1 2; do png ds/dog/d$i.png; done
head -c 60 ds/cat/c1.png > ds/dog/truncated.png
echo "hello, I am text" > ds/dog/text.png
: > ds/cat/zero.png
png ds/cat/photo.gif
mkdir -p ds/empty
ln -s .. ds/cat/loop
ln -s /nonexistent/file.png ds/dog/dangling.png
ln -s self.png ds/dog/self.png
mkfifo ds/cat/fifo.png
png ds/stray.png
cp "$TESTS_SRCDIR"/data/bad/*.png ds/cat/ 2>/dev/null
nbad=$(ls "$TESTS_SRCDIR"/data/bad/*.png 2>/dev/null | wc -l)

run "$WINNOW" import p.db ds
exits "an import with bad files still succeeds" 0
has "the good images are imported" "$T/out" "imported 5 images"
has "truncated PNG is named" "$T/err" "winnow: import: ds/dog/truncated.png: "
has "text renamed .png is named as not an image" "$T/err" "winnow: import: ds/dog/text.png: not an image (PNG, JPEG or WebP)"
has "zero-byte file is named" "$T/err" "winnow: import: ds/cat/zero.png: "
has "unknown extension is named" "$T/err" "winnow: import: ds/cat/photo.gif: unknown extension (not .png, .jpg, .jpeg or .webp)"
has "empty class folder is named" "$T/err" "winnow: import: ds/empty: empty class folder"
has "a directory loop is named, not followed" "$T/err" "directory loop"
has "a dangling link is named" "$T/err" "winnow: import: ds/dog/dangling.png: No such file or directory"
has "a link to itself is named" "$T/err" "winnow: import: ds/dog/self.png: Too many levels of symbolic links"
has "a FIFO is named, not opened" "$T/err" "winnow: import: ds/cat/fifo.png: not a regular file"
has "an image beside the class folders is named" "$T/err" "winnow: import: ds/stray.png: image outside any class folder"
for f in "$TESTS_SRCDIR"/data/bad/*.png; do
  [ -e "$f" ] || continue
  has "bad fixture $(basename "$f") is reported" "$T/err" "ds/cat/$(basename "$f"): "
done
has "the summary counts the skipped files" "$T/out" "skipped: $((10 + nbad)) "
has "the summary gives reasons" "$T/out" "not an image"
run "$WINNOW" info p.db
has "the empty folder made no class" "$T/out" "classes:    2"

# --strict: the first bad file aborts, and an existing project is unchanged.
mkdir -p good/cat && png good/cat/a.png
run "$WINNOW" import s.db good
exits "a clean import works" 0
cp s.db s.before
run "$WINNOW" import s.db ds --strict
exits "--strict fails on a bad file" 1
has "--strict names the bad file" "$T/err" "winnow: import: ds/"
has "--strict says the project is unchanged" "$T/err" "s.db is as it was"
run "$WINNOW" info s.db
has "--strict imported nothing" "$T/out" "samples:    1"
has "--strict created no class" "$T/out" "classes:    1"
run "$WINNOW" import n.db ds --strict
exits "--strict into a new file fails" 1
test ! -e n.db
ok "--strict leaves no new project file behind" $?

# Bad project files are refused and left alone.
echo "plain text" > notdb.db
cp notdb.db notdb.before
run "$WINNOW" import notdb.db good
exits "a text file as project is refused" 1
has "the reason is clear" "$T/err" "winnow: notdb.db: not a winnow project file"
cmp -s notdb.db notdb.before
ok "the refused file is unchanged" $?

done_testing
