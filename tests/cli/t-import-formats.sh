#!/bin/sh
# A folder and a manifest mixing PNG, JPEG and WebP, in any letter case of
# their extensions, some named for another format: each is read by its
# content; text or a cut file under an image's name is named and skipped.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

png mix/cat/a.png 8 8 3
png mix/cat/b.JPG 12 10 3
png mix/cat/c.jpeg 10 12 1
png mix/cat/sub/d.Jpeg 9 9 3
png mix/dog/e.webp 14 8 3
png mix/dog/f.WEBP 8 14 3
# Named for another format: a JPEG as .png, a WebP as .jpg, a PNG as .webp.
png tmp/g.jpg 16 6 3 && mv tmp/g.jpg mix/dog/g.png
png tmp/h.webp 6 16 3 && mv tmp/h.webp mix/dog/h.jpg
png tmp/i.png 7 7 1 && mv tmp/i.png mix/dog/i.webp
# A photo bigger than --max-side: decoded at a reduced scale, stored
# shrunk, listed at its own size.
png mix/bird/big.jpg 640 480 3
echo "not an image at all" > mix/bird/text.jpg
png tmp/cut.jpg 64 64 3 && head -c 300 tmp/cut.jpg > mix/bird/cut.jpg
png tmp/cut.webp 64 64 3 && head -c 100 tmp/cut.webp > mix/bird/cut.webp
png mix/bird/other.gif 8 8 3

run "$WINNOW" import p.db mix
exits "a mixed folder imports" 0
has "every image is imported, whatever its format" "$T/out" "imported 10 images"
has "the bad ones are counted" "$T/out" "skipped: 4 "
has "text named .jpg is not an image" "$T/err" \
  "winnow: import: mix/bird/text.jpg: not an image (PNG, JPEG or WebP)"
has "a cut JPEG is named as truncated" "$T/err" \
  "winnow: import: mix/bird/cut.jpg: truncated JPEG data"
has "a cut WebP is named as truncated" "$T/err" \
  "winnow: import: mix/bird/cut.webp: truncated WebP data"
has "another extension is passed over by name" "$T/err" \
  "winnow: import: mix/bird/other.gif: unknown extension (not .png, .jpg, .jpeg or .webp)"
hasnt "a JPEG named .png is not an error" "$T/err" "g.png"
hasnt "a WebP named .jpg is not an error" "$T/err" "h.jpg"
hasnt "a PNG named .webp is not an error" "$T/err" "i.webp"

run "$WINNOW" info p.db
grep -E '^  cat +4$' "$T/out" >/dev/null
ok "cat has its PNG and three JPEGs" $?
grep -E '^  dog +5$' "$T/out" >/dev/null
ok "dog has its WebPs and the misnamed files" $?
has "a gray JPEG stays gray" "$T/out" "10x12 gray"
has "a JPEG named .png keeps its size" "$T/out" "16x6 RGB"
has "a large JPEG is listed at its own size" "$T/out" "640x480 RGB"
if command -v sqlite3 >/dev/null; then
  # The default --max-side: a photo's longest side to 128, its aspect
  # kept; a small image at its own size, never enlarged.
  is "a 640x480 photo is kept at 128x96" "$(sqlite3 p.db \
    "SELECT stored_width || 'x' || stored_height FROM samples
     WHERE path LIKE '%big.jpg'")" "128x96"
  is "a 16x6 image is kept at its size" "$(sqlite3 p.db \
    "SELECT stored_width || 'x' || stored_height FROM samples
     WHERE path LIKE '%g.png'")" "16x6"
fi

# The same files through a manifest, with no filter by name at all.
printf 'path,label\ncat/a.png,cat\ndog/g.png,dog\nbird/text.jpg,bird\nbird/other.gif,bird\n' \
  > mix/m.csv
run "$WINNOW" import q.db --csv mix/m.csv
exits "a manifest of mixed files imports" 0
has "the manifest's images are imported, a PNG named .gif too" "$T/out" \
  "imported 3 images"
has "a manifest row naming text is not an image" "$T/err" \
  "winnow: import: mix/bird/text.jpg: not an image (PNG, JPEG or WebP)"

done_testing
