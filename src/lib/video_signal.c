/*
 * WebRTC signaling messages: checks and the shape they are kept in.
 */

#include <stdio.h>
#include <string.h>

#include "video_signal.h"
#include "video_validate.h"


const char *const  video_signal_types[] = {
    "offer", "answer", "ice-candidate", NULL
};


int
video_signal_peer_valid(const char *s, size_t len)
{
    size_t         i;
    unsigned char  ch;

    if (len == 0 || len > VIDEO_SIGNAL_PEER_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        ch = (unsigned char) s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
              || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
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
        snprintf(msg, sizeof(msg), "%s must be a peer id: 1 to %d "
                 "characters of A-Z, a-z, 0-9, _ and -", key,
                 VIDEO_SIGNAL_PEER_MAX);
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
    const char *peer, size_t peer_len)
{
    char  *p;

    p = buf;

    memcpy(p, VIDEO_SIGNAL_PREFIX, sizeof(VIDEO_SIGNAL_PREFIX) - 1);
    p += sizeof(VIDEO_SIGNAL_PREFIX) - 1;
    memcpy(p, stream, stream_len);
    p += stream_len;
    *p++ = ':';
    memcpy(p, peer, peer_len);
    p += peer_len;

    return p - buf;
}
