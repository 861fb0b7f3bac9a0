/*
 * What the libFuzzer harnesses of t/fuzz share: splitting one input into
 * the parts a parser takes, and NUL-terminated copies of them.  A harness
 * finds a bug by crashing: ASan and UBSan abort on their own, and a
 * broken promise of the code under test calls fuzz_assert().
 */

#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_NELTS(a)  (sizeof(a) / sizeof((a)[0]))

#define fuzz_assert(e)                                                        \
    do {                                                                      \
        if (!(e)) {                                                           \
            abort();                                                          \
        }                                                                     \
    } while (0)


typedef struct {
    const char  *data;
    size_t       len;
} fuzz_part_t;


/*
 * Splits [data, data + size) at the first n - 1 occurrences of sep into
 * parts; the last part takes the rest, separators included.  Parts that
 * are not there are empty (data points at the end).  Returns the number
 * of separators found.
 */

static inline size_t
fuzz_split(const uint8_t *data, size_t size, char sep, fuzz_part_t *parts,
    size_t n)
{
    size_t       i, found;
    const char  *p, *end, *s;

    p = (const char *) data;
    end = p + size;
    found = 0;

    for (i = 0; i < n; i++) {
        s = (i + 1 < n && p < end) ? memchr(p, sep, end - p) : NULL;

        parts[i].data = p;
        parts[i].len = (s != NULL ? s : end) - p;

        if (s != NULL) {
            p = s + 1;
            found++;

        } else {
            p = end;
        }
    }

    return found;
}


/* a malloc()ed NUL-terminated copy; NULL only when out of memory */

static inline char *
fuzz_strndup(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


/*
 * Which of n names the part is: its index, or, for a name that is none
 * of them, a stable choice from its bytes, so every input reaches a
 * parser and a seed can name its own
 */

static inline size_t
fuzz_pick(const fuzz_part_t *part, const char *const *names, size_t n)
{
    size_t    i;
    uint32_t  h;

    for (i = 0; i < n; i++) {
        if (strlen(names[i]) == part->len
            && memcmp(names[i], part->data, part->len) == 0)
        {
            return i;
        }
    }

    h = 0;

    for (i = 0; i < part->len; i++) {
        h = h * 31 + (unsigned char) part->data[i];
    }

    return h % n;
}


#endif /* _FUZZ_H_INCLUDED_ */
