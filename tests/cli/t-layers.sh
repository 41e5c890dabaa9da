#!/bin/sh
# The layers' include rules (HACKING, "The layers"): app -> ui -> engine ->
# data, and app -> data; the UI knows training only through engine.h and
# the project file only through store.h (and its near-duplicate groups
# through dups.h); a module's _internal.h stays in its module. One check
# per source file, so a failure names the file.
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"
top=$(cd "$TESTS_SRCDIR/.." && pwd)

# allowed LAYER HEADER: 0 when a file of LAYER may include HEADER.
allowed() {
  case $1:$2 in
  *:data/base.h) return 0 ;;
  data:data/*) return 0 ;;
  engine:data/*_internal.h) return 1 ;;
  engine:data/* | engine:engine/*) return 0 ;;
  ui:ui/* | ui:engine/engine.h | ui:data/store.h | ui:data/dups.h) return 0 ;;
  app:*_internal.h) return 1 ;;
  app:*) return 0 ;;
  esac
  return 1
}

for layer in data engine ui app; do
  for f in "$top/$layer"/*.c "$top/$layer"/*.h; do
    [ -f "$f" ] || continue
    bad=""
    for h in $(sed -n 's/^#include "\([a-z]*\/[a-z_0-9]*\.h\)".*/\1/p' "$f"); do
      allowed "$layer" "$h" || bad="$bad $h"
    done
    # Only ui/ draws: curses anywhere else would be a layer crossed.
    if [ "$layer" != ui ] && grep -q '^#include <n\{0,1\}curses' "$f"; then
      bad="$bad <curses.h>"
    fi
    is "$layer/${f##*/} keeps to its layer" "${bad# }" ""
  done
done
done_testing
