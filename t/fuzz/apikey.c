/*
 * Authorization header values through the API key parser: a key it
 * accepts lies inside the value, has the key's length and prefix, passes
 * the checksum again, and one changed character of it never passes.
 */

#include "fuzz.h"
#include "video_apikey.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            k[VIDEO_APIKEY_LEN];
    size_t          len, i;
    const char     *key;
    unsigned char   h[VIDEO_APIKEY_HASH_LEN];

    if (video_apikey_from_header((const char *) data, size, &key, &len)
        != 0)
    {
        return 0;
    }

    fuzz_assert(key >= (const char *) data
                && key + len <= (const char *) data + size);
    fuzz_assert(len == VIDEO_APIKEY_LEN);
    fuzz_assert(memcmp(key, VIDEO_APIKEY_PREFIX,
                       VIDEO_APIKEY_PREFIX_LEN) == 0);
    fuzz_assert(video_apikey_valid(key, len));
    fuzz_assert(video_apikey_hash(key, len, h) == 0);

    i = size % VIDEO_APIKEY_LEN;
    memcpy(k, key, len);
    k[i] = (k[i] == '7') ? '8' : '7';
    fuzz_assert(!video_apikey_valid(k, len));

    return 0;
}
