/* The key map: every documented key does what the help says, vi keys and
 * arrows agree, no key has two meanings, digits name the first ten
 * classes, and the help lists every action that has a key. */
#include "config.h"

#include <curses.h>
#include <string.h>

#include "tests/tap.h"
#include "ui/keymap.h"

static enum keymap_action
act(int key)
{
    return keymap_lookup(key, NULL);
}

int
main(void)
{
    is_int(act('j'), ==, KEYMAP_DOWN);
    is_int(act(KEYMAP_FKEY(KEY_DOWN)), ==, KEYMAP_DOWN);
    is_int(act('k'), ==, KEYMAP_UP);
    is_int(act(KEYMAP_FKEY(KEY_UP)), ==, KEYMAP_UP);
    is_int(act(KEYMAP_FKEY(KEY_NPAGE)), ==, KEYMAP_PAGE_DOWN);
    is_int(act(KEYMAP_CTRL('f')), ==, KEYMAP_PAGE_DOWN);
    is_int(act(KEYMAP_FKEY(KEY_PPAGE)), ==, KEYMAP_PAGE_UP);
    is_int(act(KEYMAP_CTRL('b')), ==, KEYMAP_PAGE_UP);
    is_int(act('g'), ==, KEYMAP_FIRST);
    is_int(act(KEYMAP_FKEY(KEY_HOME)), ==, KEYMAP_FIRST);
    is_int(act('G'), ==, KEYMAP_LAST);
    is_int(act(KEYMAP_FKEY(KEY_END)), ==, KEYMAP_LAST);
    is_int(act('\r'), ==, KEYMAP_ACCEPT);
    is_int(act('\n'), ==, KEYMAP_ACCEPT);
    is_int(act(KEYMAP_FKEY(KEY_ENTER)), ==, KEYMAP_ACCEPT);
    is_int(act('a'), ==, KEYMAP_ACCEPT);
    is_int(act(' '), ==, KEYMAP_KEEP);
    is_int(act('v'), ==, KEYMAP_KEEP);
    is_int(act('c'), ==, KEYMAP_PICK);
    is_int(act('s'), ==, KEYMAP_SKIP);
    is_int(act('u'), ==, KEYMAP_UNDO);
    is_int(act(18), ==, KEYMAP_REDO); /* Ctrl-R */
    is_int(act('/'), ==, KEYMAP_FILTER_CLASS);
    is_int(act('f'), ==, KEYMAP_FILTER_SHOW);
    is_int(act('F'), ==, KEYMAP_FILTER_SCORE);
    is_int(act(27), ==, KEYMAP_FILTER_CLEAR);
    is_int(act('d'), ==, KEYMAP_DUPS);
    is_int(act('='), ==, KEYMAP_GROUP_LABEL);
    is_int(act('x'), ==, KEYMAP_GROUP_KEEP);
    is_int(act('p'), ==, KEYMAP_OFFER_NEAR);
    is_int(act('P'), ==, KEYMAP_OFFER_SIMILAR);
    is_int(act('o'), ==, KEYMAP_ORDER);
    is_int(act('t'), ==, KEYMAP_ENGINE);
    is_int(act('T'), ==, KEYMAP_ENGINE_STOP);
    is_int(act('?'), ==, KEYMAP_HELP);
    is_int(act(KEYMAP_FKEY(KEY_F(1))), ==, KEYMAP_HELP);
    is_int(act(12), ==, KEYMAP_REDRAW); /* Ctrl-L */
    is_int(act('q'), ==, KEYMAP_QUIT);
    is_int(act(KEYMAP_FKEY(KEY_MOUSE)), ==, KEYMAP_MOUSE);
    is_int(act(KEYMAP_FKEY(KEY_RESIZE)), ==, KEYMAP_RESIZE);
    /* Unbound keys, and a function key code that is also a character
     * (KEY_DOWN is 0402, the same number as U+0102). */
    is_int(act('z'), ==, KEYMAP_NONE);
    is_int(act('Q'), ==, KEYMAP_NONE);
    is_int(act(KEY_DOWN), ==, KEYMAP_NONE);

    int good = 1, arg;
    for (int d = 0; d < 10; d++) {
        int key = d == 9 ? '0' : '1' + d;
        good &= keymap_lookup(key, &arg) == KEYMAP_CLASS && arg == d;
    }
    ok(good, "1-9 and 0 choose classes 0-9");
    keymap_lookup('j', &arg);
    is_int(arg, ==, 0);

    size_t n;
    const struct keymap_binding *b = keymap_bindings(&n);
    int dup = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (b[i].key == b[j].key) {
                diag("key %#x bound twice", (unsigned)b[i].key);
                dup = 1;
            }
    ok(!dup, "no key has two meanings");

    /* Every key a person types is named in the help. */
    size_t nh;
    const struct keymap_help *h = keymap_help_lines(&nh);
    const char *must[] = {
        "j",      "k", "Down",  "Up", "PgDn", "PgUp", "g", "G",
        "Enter",  "a", "Space", "v",  "c",    "1-9",  "s", "u",
        "Ctrl-R", "/", "f",     "F",  "Esc",  "t",    "T", "?",
        "Ctrl-L", "q", "d",     "=",  "x",    "p",    "P", "o"};
    int all = 1;
    for (size_t m = 0; m < sizeof must / sizeof must[0]; m++) {
        int found = 0;
        for (size_t i = 0; i < nh && !found; i++) {
            if (h[i].keys == NULL)
                continue;
            /* Whole words of the keys column. */
            const char *p = h[i].keys;
            size_t len = strlen(must[m]);
            while ((p = strstr(p, must[m])) != NULL) {
                int start = p == h[i].keys || p[-1] == ' ';
                int end = p[len] == '\0' || p[len] == ' ';
                if (start && end) {
                    found = 1;
                    break;
                }
                p++;
            }
        }
        if (!found)
            diag("help does not name the key %s", must[m]);
        all &= found;
    }
    ok(all, "the help names every key");
    int short_enough = 1;
    for (size_t i = 0; i < nh; i++)
        short_enough &= strlen(h[i].what) <= 24;
    ok(short_enough, "help descriptions fit 24 columns");
    return done_testing();
}
