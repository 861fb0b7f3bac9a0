/*
 * ffprobe's JSON, read with jansson.
 */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "video_probe.h"


/* a JSON integer in 1..INT_MAX, else 0 */

static int
video_probe_size(json_t *v)
{
    json_int_t  n;

    if (!json_is_integer(v)) {
        return 0;
    }

    n = json_integer_value(v);

    return (n >= 1 && n <= INT_MAX) ? (int) n : 0;
}


/* a decimal integer in int range at s, up to the end or stop; else -1 */

static int
video_probe_int(const char *s, const char *end, long *v)
{
    char  *e;

    if (s == end || *s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    *v = strtol(s, &e, 10);

    if (errno != 0 || e != end || *v > INT_MAX) {
        return -1;
    }

    return 0;
}


/* "<num>/<den>", as ffprobe writes rates ("0/0" when it has none) */

static double
video_probe_rate(json_t *v)
{
    long         num, den;
    const char  *s, *slash;

    s = json_string_value(v);

    if (s == NULL || strlen(s) != json_string_length(v)) {
        return 0;
    }

    slash = strchr(s, '/');

    if (slash == NULL
        || video_probe_int(s, slash, &num) != 0
        || video_probe_int(slash + 1, s + strlen(s), &den) != 0
        || den == 0)
    {
        return 0;
    }

    return (double) num / den;
}


/*
 * The clockwise turn of a display matrix's "rotation" (ffprobe writes the
 * counter-clockwise angle, -90 for a clip a player turns a quarter
 * clockwise) or of a "rotate" tag (clockwise, "90"): 90, 180 or 270 when
 * within a degree of one, as ffmpeg's autorotation has it; else 0
 */

static int
video_probe_turn(double ccw)
{
    int     q;
    double  cw;

    if (!isfinite(ccw) || ccw > 1e6 || ccw < -1e6) {
        return 0;
    }

    /* in [0, 360), without libm */

    cw = -ccw - 360.0 * (long) (-ccw / 360);

    if (cw < 0) {
        cw += 360;
    }

    for (q = 90; q <= 270; q += 90) {
        if (cw > q - 1.0 && cw < q + 1.0) {
            return q;
        }
    }

    return 0;
}


static int
video_probe_rotation(json_t *stream)
{
    char         *e;
    size_t        i;
    json_t       *sd, *v;
    double        d;
    const char   *type, *s;

    json_array_foreach(json_object_get(stream, "side_data_list"), i, sd) {
        type = json_string_value(json_object_get(sd, "side_data_type"));

        if (type == NULL || strcmp(type, "Display Matrix") != 0) {
            continue;
        }

        v = json_object_get(sd, "rotation");

        if (json_is_number(v)) {
            return video_probe_turn(json_number_value(v));
        }
    }

    s = json_string_value(json_object_get(json_object_get(stream, "tags"),
                                          "rotate"));

    if (s == NULL || *s == '\0') {
        return 0;
    }

    d = strtod(s, &e);

    return (*e == '\0') ? video_probe_turn(-d) : 0;
}


/* PQ or HLG: pictures that look washed out unless tone-mapped */

static int
video_probe_hdr(json_t *stream)
{
    const char  *trc;

    trc = json_string_value(json_object_get(stream, "color_transfer"));

    return trc != NULL
           && (strcmp(trc, "smpte2084") == 0
               || strcmp(trc, "arib-std-b67") == 0);
}


/* the duration ffprobe writes as "%f" seconds; 0 when it is not one */

static double
video_probe_duration(json_t *v)
{
    char        *e;
    double       d;
    const char  *s;

    s = json_string_value(v);

    if (s == NULL || strlen(s) != json_string_length(v) || *s == '\0') {
        return 0;
    }

    d = strtod(s, &e);

    if (*e != '\0' || !isfinite(d) || d <= 0) {
        return 0;
    }

    return d;
}


/* a number ffprobe writes as a decimal string ("48000"), in int range;
   else 0 */

static int
video_probe_decimal(json_t *v)
{
    long         n;
    const char  *s;

    s = json_string_value(v);

    if (s == NULL || strlen(s) != json_string_length(v)
        || video_probe_int(s, s + strlen(s), &n) != 0)
    {
        return 0;
    }

    return (int) n;
}


static void
video_probe_audio(json_t *stream, video_probe_t *out)
{
    const char  *codec, *profile;

    codec = json_string_value(json_object_get(stream, "codec_name"));
    profile = json_string_value(json_object_get(stream, "profile"));

    out->audio_lc = codec != NULL && profile != NULL
                    && strcmp(codec, "aac") == 0 && strcmp(profile, "LC") == 0;
    out->audio_channels = video_probe_size(json_object_get(stream,
                                                           "channels"));
    out->audio_rate = video_probe_decimal(json_object_get(stream,
                                                          "sample_rate"));
    out->audio_bps = video_probe_decimal(json_object_get(stream,
                                                         "bit_rate"));
}


int
video_probe_audio_copy(const video_probe_t *p, int kbps)
{
    return p->has_audio && p->audio_lc
           && p->audio_channels >= 1 && p->audio_channels <= 2
           && (p->audio_rate == 44100 || p->audio_rate == 48000)
           && p->audio_bps > 0 && p->audio_bps <= kbps * 1020;
}


int
video_probe_parse(const char *json, size_t len, video_probe_t *out,
    const char **err)
{
    int           swap;
    size_t        i;
    json_t       *root, *s;
    const char   *type;
    json_error_t  jerr;

    memset(out, 0, sizeof(video_probe_t));

    root = json_loadb(json, len, 0, &jerr);

    json_array_foreach(json_object_get(root, "streams"), i, s) {
        type = json_string_value(json_object_get(s, "codec_type"));

        if (type == NULL) {
            continue;
        }

        if (strcmp(type, "video") == 0 && out->width == 0) {
            out->width = video_probe_size(json_object_get(s, "width"));
            out->height = video_probe_size(json_object_get(s, "height"));
            out->fps = video_probe_rate(json_object_get(s,
                                                        "avg_frame_rate"));

            if (out->width == 0 || out->height == 0) {
                out->width = 0;
                out->height = 0;
            }

            out->rotation = video_probe_rotation(s);
            out->hdr = video_probe_hdr(s);

            if (out->rotation == 90 || out->rotation == 270) {
                swap = out->width;
                out->width = out->height;
                out->height = swap;
            }

        } else if (strcmp(type, "audio") == 0 && !out->has_audio) {
            out->has_audio = 1;
            video_probe_audio(s, out);
        }
    }

    out->duration = video_probe_duration(
                        json_object_get(json_object_get(root, "format"),
                                        "duration"));

    json_decref(root);

    if (out->width == 0) {
        *err = "the file has no video stream";
        return -1;
    }

    if (out->duration == 0) {
        *err = "the video has no duration";
        return -1;
    }

    return 0;
}
