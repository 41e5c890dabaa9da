/* The class picker without a terminal: typing narrows the list (prefix
 * matches first, any case, numbers too), arrows move, Enter chooses, Esc
 * cancels, Backspace widens again, and "all classes" is offered for the
 * filter. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tests/tap.h"
#include "ui/keymap.h"
#include "ui/picker.h"

static const char *const names[] = {"airplane", "automobile", "bird",  "cat",
                                    "deer",     "dog",        "frog",  "horse",
                                    "ship",     "truck",      "Bobcat"};
#define N ((int)(sizeof names / sizeof names[0]))

static void
type(struct picker *p, const char *s)
{
    for (; *s; s++)
        picker_key(p, (unsigned char)*s);
}

int
main(void)
{
    struct picker *p = picker_new(names, N, "Label as:", 0, 3);
    is_int(picker_count(p), ==, N);
    is_int(picker_entry(p, picker_selected(p)), ==, 3);

    type(p, "CA");
    is_int(picker_count(p), ==, 2);
    is_int(picker_entry(p, 0), ==, 3);  /* cat: starts with it */
    is_int(picker_entry(p, 1), ==, 10); /* Bobcat: only contains it */
    is_str(picker_query(p), "CA");
    picker_key(p, KEYMAP_FKEY(KEY_DOWN));
    is_int(picker_selected(p), ==, 1);
    picker_key(p, KEYMAP_FKEY(KEY_DOWN)); /* stays on the last */
    is_int(picker_selected(p), ==, 1);
    is_int(picker_key(p, '\r'), ==, PICKER_CHOSEN);
    is_int(picker_choice(p), ==, 10);
    picker_free(p);

    /* Backspace widens the list again; no match chooses nothing. */
    p = picker_new(names, N, "Label as:", 0, -1);
    type(p, "dox");
    is_int(picker_count(p), ==, 0);
    is_int(picker_key(p, '\r'), ==, PICKER_OPEN);
    picker_key(p, 127);
    is_int(picker_count(p), ==, 1);
    is_int(picker_entry(p, 0), ==, 5);
    picker_key(p, KEYMAP_CTRL('u'));
    is_int(picker_count(p), ==, N);
    is_int(picker_key(p, 27), ==, PICKER_CANCELLED);
    picker_free(p);

    /* A number finds the class shown with it (1-based), first. */
    p = picker_new(names, N, "Label as:", 0, -1);
    type(p, "10");
    ok(picker_count(p) >= 1 && picker_entry(p, 0) == 9,
       "10 finds the tenth class");
    picker_free(p);

    /* The filter's picker offers "all classes" first; vi letters are
     * text here, not moves. */
    p = picker_new(names, N, "Show:", 1, PICKER_ALL);
    is_int(picker_count(p), ==, N + 1);
    is_int(picker_entry(p, 0), ==, PICKER_ALL);
    is_int(picker_selected(p), ==, 0);
    type(p, "j");
    is_int(picker_count(p), ==, 0);
    picker_key(p, 8);
    picker_key(p, KEYMAP_FKEY(KEY_END));
    is_int(picker_selected(p), ==, N);
    picker_key(p, KEYMAP_FKEY(KEY_HOME));
    is_int(picker_key(p, KEYMAP_FKEY(KEY_ENTER)), ==, PICKER_CHOSEN);
    is_int(picker_choice(p), ==, PICKER_ALL);
    picker_free(p);

    /* A thousand classes narrow as quickly. */
    static char buf[1000][16];
    const char *many[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf[i], sizeof buf[i], "class%03d", i);
        many[i] = buf[i];
    }
    p = picker_new(many, 1000, "Label as:", 0, -1);
    type(p, "class99");
    is_int(picker_count(p), ==, 10);
    type(p, "7");
    is_int(picker_count(p), ==, 1);
    is_int(picker_entry(p, 0), ==, 997);
    picker_free(p);
    return done_testing();
}
