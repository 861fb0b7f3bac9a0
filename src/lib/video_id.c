/*
 * Id validation and generation.  The alphabet has 64 symbols, so masking a
 * random byte to 6 bits picks one without bias.
 */

#include <errno.h>
#include <sys/random.h>

#include "video_id.h"


static const char  video_id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";


int
video_id_valid(const char *s, size_t len)
{
    size_t  i;
    char    c;

    if (len != VIDEO_ID_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
video_id_generate(char *out)
{
    size_t         i, got;
    ssize_t        n;
    unsigned char  rnd[VIDEO_ID_LEN];

    for (got = 0; got < sizeof(rnd); got += (size_t) n) {
        n = getrandom(rnd + got, sizeof(rnd) - got, 0);

        if (n < 0) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            return -1;
        }
    }

    for (i = 0; i < VIDEO_ID_LEN; i++) {
        out[i] = video_id_alphabet[rnd[i] & 63];
    }

    return 0;
}
