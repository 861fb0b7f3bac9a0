/*
 * WebRTC signaling: peers and their tokens, messages and the shape they
 * are kept in, and the limits that bound what a stream holds.
 */

#include <stdio.h>
#include <string.h>

#include "video_id.h"
#include "video_signal.h"
#include "video_validate.h"


#if (VIDEO_SIGNAL_PEER_LEN != VIDEO_ID_LEN                                    \
     || VIDEO_SIGNAL_TOKEN_LEN != VIDEO_STREAM_KEY_LEN                        \
     || VIDEO_SIGNAL_TOKEN_HASH_LEN != VIDEO_STREAM_KEY_HASH_LEN)
#error "peer ids are made as video ids, tokens as stream keys"
#endif


const char *const  video_signal_types[] = {
    "offer", "answer", "ice-candidate", NULL
};


int
video_signal_peer_valid(const char *s, size_t len)
{
    return video_id_valid(s, len);
}


int
video_signal_peer_generate(char *peer, char *token)
{
    if (video_id_generate(peer) != 0) {
        return -1;
    }

    return video_stream_key_generate(token);
}


int
video_signal_token_valid(const char *s, size_t len)
{
    return video_stream_key_valid(s, len);
}


int
video_signal_token_hash(const char *token, size_t len, char *out)
{
    return video_stream_key_hash(token, len, out);
}


static const char *
video_signal_peer(json_t *body, const char *key, json_t *details)
{
    json_t  *v;
    char     msg[128];

    v = json_object_get(body, key);

    if (v == NULL) {
        snprintf(msg, sizeof(msg), "%s is required", key);
        video_detail_add(details, key, msg);
        return NULL;
    }

    if (!json_is_string(v)
        || !video_signal_peer_valid(json_string_value(v),
                                    json_string_length(v)))
    {
        snprintf(msg, sizeof(msg), "%s must be a peer id: %d "
                 "characters of A-Z, a-z, 0-9, _ and -", key,
                 VIDEO_SIGNAL_PEER_LEN);
        video_detail_add(details, key, msg);
        return NULL;
    }

    return json_string_value(v);
}


int
video_signal_parse(json_t *body, video_signal_t *out, json_t **details)
{
    json_t  *d, *v;

    memset(out, 0, sizeof(video_signal_t));
    out->type = -1;

    d = json_array();
    if (d == NULL) {
        *details = NULL;
        return -1;
    }

    v = json_object_get(body, "type");

    if (v == NULL) {
        video_detail_add(d, "type", "type is required: offer, answer or "
                         "ice-candidate");

    } else if (!json_is_string(v)
               || (out->type = video_enum_index(video_signal_types,
                                                json_string_value(v),
                                                json_string_length(v)))
                  < 0)
    {
        video_detail_add(d, "type", "type must be one of offer, answer, "
                         "ice-candidate");
    }

    out->from = video_signal_peer(body, "from", d);
    out->to = video_signal_peer(body, "to", d);

    if (out->from != NULL && out->to != NULL
        && strcmp(out->from, out->to) == 0)
    {
        video_detail_add(d, "to", "to must be another peer than from");
    }

    out->data = json_object_get(body, "data");

    if (out->data == NULL) {
        video_detail_add(d, "data", "data is required: the SDP or the ICE "
                         "candidate");
    }

    if (json_array_size(d) > 0) {
        *details = d;
        return -1;
    }

    json_decref(d);
    *details = NULL;

    return 0;
}


json_t *
video_signal_message(const video_signal_t *s, const char *id,
    const char *created_at)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:O, s:s}",
                     "id", id,
                     "type", video_signal_types[s->type],
                     "from", s->from,
                     "to", s->to,
                     "data", s->data,
                     "createdAt", created_at);
}


int
video_signal_timeout(const char *s, size_t len, long max, long *seconds)
{
    long    n;
    size_t  i;

    if (len == 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        if (n <= max) {
            n = n * 10 + (s[i] - '0');
        }
    }

    *seconds = (n > max) ? max : n;

    return 0;
}


size_t
video_signal_key(char *buf, const char *stream, size_t stream_len,
    const char *name, size_t name_len)
{
    char  *p;

    p = buf;

    memcpy(p, VIDEO_SIGNAL_PREFIX, sizeof(VIDEO_SIGNAL_PREFIX) - 1);
    p += sizeof(VIDEO_SIGNAL_PREFIX) - 1;
    memcpy(p, stream, stream_len);
    p += stream_len;
    *p++ = ':';
    memcpy(p, name, name_len);
    p += name_len;

    return p - buf;
}


void
video_signal_limits_default(video_signal_limits_t *l)
{
    l->peers = VIDEO_SIGNAL_PEERS;
    l->bytes = VIDEO_SIGNAL_BYTES;
    l->queue = VIDEO_SIGNAL_QUEUE;
    l->queue_bytes = VIDEO_SIGNAL_QUEUE_BYTES;
    l->idle_ms = VIDEO_SIGNAL_IDLE_MS;
}


#define VIDEO_SIGNAL_COUNT  0
#define VIDEO_SIGNAL_SIZE   1
#define VIDEO_SIGNAL_TIME   2


typedef struct {
    const char     *name;
    int             type;
    size_t          offset;
    unsigned long   min;
    unsigned long   max;
    const char     *range;       /* min and max as written */
} video_signal_limit_t;


static const video_signal_limit_t  video_signal_limits[] = {
    { "peers", VIDEO_SIGNAL_COUNT,
      offsetof(video_signal_limits_t, peers), 2, 1000, "2..1000" },
    { "bytes", VIDEO_SIGNAL_SIZE,
      offsetof(video_signal_limits_t, bytes), 1024, 1024 * 1024 * 1024,
      "1k..1024m" },
    { "queue", VIDEO_SIGNAL_COUNT,
      offsetof(video_signal_limits_t, queue), 1, 1000, "1..1000" },
    { "queue_bytes", VIDEO_SIGNAL_SIZE,
      offsetof(video_signal_limits_t, queue_bytes), 1024,
      1024 * 1024 * 1024, "1k..1024m" },
    { "idle", VIDEO_SIGNAL_TIME,
      offsetof(video_signal_limits_t, idle_ms), 1000, 3600 * 1000,
      "1s..1h" },
    { NULL, 0, 0, 0, 0, NULL }
};


/*
 * A count, a size (k, m: KiB, MiB) or a time (ms, s, m, h; seconds
 * without a unit, in ms) as nginx writes them; -1 when s is not one or
 * is larger than max.
 */

static int
video_signal_number(const char *s, size_t len, int type, unsigned long max,
    unsigned long *out)
{
    size_t          i, digits;
    unsigned long   n, unit;

    n = 0;

    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (n > max) {
            return -1;
        }

        n = n * 10 + (unsigned long) (s[i] - '0');
    }

    digits = i;

    if (digits == 0) {
        return -1;
    }

    s += digits;
    len -= digits;
    unit = 1;

    if (type == VIDEO_SIGNAL_SIZE && len == 1) {
        if (s[0] == 'k' || s[0] == 'K') {
            unit = 1024;

        } else if (s[0] == 'm' || s[0] == 'M') {
            unit = 1024 * 1024;

        } else {
            return -1;
        }

    } else if (type == VIDEO_SIGNAL_TIME) {
        if (len == 0 || (len == 1 && s[0] == 's')) {
            unit = 1000;

        } else if (len == 2 && s[0] == 'm' && s[1] == 's') {
            unit = 1;

        } else if (len == 1 && s[0] == 'm') {
            unit = 60 * 1000;

        } else if (len == 1 && s[0] == 'h') {
            unit = 3600 * 1000;

        } else {
            return -1;
        }

    } else if (len != 0) {
        return -1;
    }

    if (n > max / unit) {
        return -1;
    }

    *out = n * unit;

    return 0;
}


int
video_signal_limits_parse(video_signal_limits_t *l, int n,
    const char **params, const size_t *lens, char *err, size_t err_len)
{
    int                          i, k, seen;
    size_t                       name_len;
    const char                  *p, *eq;
    unsigned long                v;
    video_signal_limits_t        out;
    const video_signal_limit_t  *lim;

    out = *l;
    seen = 0;

    for (i = 0; i < n; i++) {
        p = params[i];
        eq = memchr(p, '=', lens[i]);
        name_len = eq ? (size_t) (eq - p) : lens[i];

        for (k = 0; video_signal_limits[k].name != NULL; k++) {
            lim = &video_signal_limits[k];

            if (strlen(lim->name) == name_len
                && memcmp(lim->name, p, name_len) == 0)
            {
                break;
            }
        }

        lim = &video_signal_limits[k];

        if (lim->name == NULL || eq == NULL) {
            snprintf(err, err_len, "invalid parameter \"%.*s\"",
                     (int) lens[i], p);
            return -1;
        }

        if (seen & (1 << k)) {
            snprintf(err, err_len, "duplicate parameter \"%s\"", lim->name);
            return -1;
        }

        seen |= 1 << k;

        if (video_signal_number(eq + 1, lens[i] - name_len - 1, lim->type,
                                lim->max, &v)
            != 0
            || v < lim->min || v > lim->max)
        {
            snprintf(err, err_len, "invalid \"%s\" value \"%.*s\", "
                     "expected %s", lim->name, (int) (lens[i] - name_len - 1),
                     eq + 1, lim->range);
            return -1;
        }

        *(unsigned long *) ((char *) &out + lim->offset) = v;
    }

    if (out.queue_bytes > out.bytes) {
        snprintf(err, err_len, "\"queue_bytes\" (%lu) is more than "
                 "\"bytes\" (%lu): a peer's messages are part of its "
                 "stream's", out.queue_bytes, out.bytes);
        return -1;
    }

    *l = out;

    return 0;
}
