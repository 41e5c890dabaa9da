#!/bin/sh
# Importing a CSV manifest: quoting, extra columns, bad rows.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

png data/img/a.png; png data/img/b.png; png "data/img/with, comma.png"
png data/img/c.png; png data/other/d.png
printf 'id,path,note,label\r\n' > data/m.csv
printf '1,img/a.png,x,cat\r\n' >> data/m.csv
printf '2,./img/b.png,"a ""quoted""\r\nnote",dog\r\n' >> data/m.csv
printf '3,"img/with, comma.png",,cat\r\n' >> data/m.csv
printf '4,img/c.png,,\r\n' >> data/m.csv
printf '5,,,dog\r\n' >> data/m.csv
printf '6,../outside.png,,dog\r\n' >> data/m.csv
printf '7,/etc/passwd.png,,dog\r\n' >> data/m.csv
printf '8,img/a.png,,dog\r\n' >> data/m.csv
printf '9,img/missing.png,,dog\r\n' >> data/m.csv
printf '10,img/../other/d.png,,bird\r\n' >> data/m.csv
printf '11,notes.txt,,bird\r\n' >> data/m.csv
echo "some notes" > data/notes.txt

run "$WINNOW" import p.db --csv data/m.csv
exits "CSV import exits 0" 0
has "good rows are imported" "$T/out" "imported 4 images"
has "missing label names the line" "$T/err" "winnow: import: data/m.csv:6: missing label"
has "missing path names the line" "$T/err" "winnow: import: data/m.csv:7: missing path"
has "an escaping path is refused" "$T/err" "data/m.csv:8: path '../outside.png' leaves the manifest's folder"
has "an absolute path is read as named" "$T/err" "winnow: import: /etc/passwd.png: No such file or directory"
has "a path listed twice is refused" "$T/err" "data/m.csv:10: path 'img/a.png' listed again (first on line 2)"
has "a missing file is named" "$T/err" "winnow: import: data/img/missing.png: No such file or directory"
has "a path to a non-image is named" "$T/err" "winnow: import: data/notes.txt: not an image (PNG, JPEG or WebP)"
run "$WINNOW" info p.db
has "three classes from the labels" "$T/out" "classes:    3"
grep -E '^  cat +2$' "$T/out" >/dev/null
ok "cat has the quoted-path image" $?

printf 'name,kind\nimg/a.png,cat\n' > data/nohdr.csv
run "$WINNOW" import q.db --csv data/nohdr.csv
exits "a manifest without path/label columns fails" 1
has "the names tried and the header's are named" "$T/err" "winnow: import: data/nohdr.csv: no path column (tried path, filename, file, image, image_path) in the header; split at ',', its columns are 'name', 'kind'; name it with --path-column, or give --no-header if the first line is a row"

printf 'path,label\n"img/a.png,cat\n' > data/unterminated.csv
run "$WINNOW" import q.db --csv data/unterminated.csv
exits "an unterminated quote fails" 1
has "the line is named" "$T/err" "data/unterminated.csv: line 2"

printf '\357\273\277path,label\nimg/a.png,cat\n' > data/bom.csv
run "$WINNOW" import b.db --csv data/bom.csv
exits "a manifest with a byte-order mark imports" 0
has "the BOM manifest's row is imported" "$T/out" "imported 1 images"

run "$WINNOW" import p.db --csv data/m.csv
has "re-importing the manifest adds nothing" "$T/out" "imported 0 images"

run "$WINNOW" import s.db --csv data/m.csv --strict
exits "--strict stops at the first bad row" 1
has "--strict names the first bad row" "$T/err" "data/m.csv:6: missing label"
test ! -e s.db
ok "--strict leaves no project file" $?

done_testing
