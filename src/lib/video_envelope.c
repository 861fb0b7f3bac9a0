/*
 * Envelope construction.  Every function returns NULL only when memory
 * runs out.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "video_envelope.h"
#include "video_validate.h"


const char *
video_envelope_code(int status)
{
    switch (status) {
    case 400:
        return "BAD_REQUEST";
    case 401:
        return "UNAUTHORIZED";
    case 403:
        return "FORBIDDEN";
    case 404:
        return "NOT_FOUND";
    case 405:
        return "METHOD_NOT_ALLOWED";
    case 409:
        return "CONFLICT";
    case 413:
        return "PAYLOAD_TOO_LARGE";
    case 416:
        return "RANGE_NOT_SATISFIABLE";
    case 429:
        return "TOO_MANY_REQUESTS";
    case 501:
        return "NOT_IMPLEMENTED";
    case 502:
    case 503:
    case 504:
        return "UNAVAILABLE";
    }

    return (status >= 400 && status < 500) ? "BAD_REQUEST" : "INTERNAL";
}


json_t *
video_envelope_ok(json_t *data)
{
    if (data == NULL) {
        return NULL;
    }

    return json_pack("{s:b, s:o}", "success", 1, "data", data);
}


json_t *
video_envelope_error(int status, const char *code, const char *message,
    size_t len, json_t *details)
{
    json_t  *err, *msg;

    msg = video_json_string_lossy(message, len);
    if (msg == NULL) {
        json_decref(details);
        return NULL;
    }

    err = json_pack("{s:o, s:i, s:s}", "message", msg, "status", status,
                    "code", code ? code : video_envelope_code(status));
    if (err == NULL) {
        json_decref(details);
        return NULL;
    }

    if (details != NULL && json_object_set_new(err, "details", details) != 0)
    {
        json_decref(err);
        return NULL;
    }

    return json_pack("{s:b, s:o}", "success", 0, "error", err);
}


json_t *
video_json_string_lossy(const char *s, size_t len)
{
    char    *copy;
    size_t   i, n;
    json_t  *str;

    str = json_stringn(s, len);
    if (str != NULL || len == 0) {
        return str;
    }

    copy = malloc(len);
    if (copy == NULL) {
        return NULL;
    }

    memcpy(copy, s, len);

    for (i = 0; i < len; i += n) {
        n = video_utf8_seq((unsigned char *) copy + i, len - i);

        if (n == 0 || copy[i] == '\0') {
            copy[i] = '?';
            n = 1;
        }
    }

    str = json_stringn(copy, len);
    free(copy);

    return str;
}
