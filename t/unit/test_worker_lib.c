/*
 * The transcoder's pure parts: ladder selection, the master playlist,
 * ffmpeg progress, and job parsing.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "video_job.h"
#include "video_ladder.h"
#include "video_probe.h"
#include "video_progress.h"


#define VID  "V1StGXR8_Z5jdHi6B-myT"


START_TEST(a_ladder_never_goes_above_the_source)
{
    int           n;
    video_rung_t  r[VIDEO_LADDER_MAX];

    n = video_ladder_select(1920, 1080, r);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(r[0].name, "1080p");
    ck_assert_int_eq(r[0].width, 1920);
    ck_assert_str_eq(r[3].name, "360p");
    ck_assert_int_eq(r[3].width, 640);

    n = video_ladder_select(1280, 720, r);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(r[0].name, "720p");
    ck_assert_str_eq(r[1].name, "480p");
    ck_assert_int_eq(r[1].width, 854);
    ck_assert_str_eq(r[2].name, "360p");

    /* between rungs: the ones below it */

    n = video_ladder_select(1000, 600, r);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(r[0].name, "480p");
    ck_assert_int_eq(r[0].width, 800);

    /* a 240p source still gets one rung, at its own size */

    n = video_ladder_select(320, 240, r);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(r[0].name, "240p");
    ck_assert_int_eq(r[0].width, 320);
    ck_assert_int_eq(r[0].height, 240);
    ck_assert_int_gt(r[0].video_kbps, 0);
    ck_assert_int_lt(r[0].video_kbps, 800);

    /* odd sizes round to even; portrait keeps its shape */

    n = video_ladder_select(333, 201, r);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(r[0].width % 2, 0);
    ck_assert_int_eq(r[0].height, 200);

    n = video_ladder_select(720, 1280, r);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(r[0].height, 1080);
    ck_assert_int_eq(r[0].width, 608);

    ck_assert_int_eq(video_ladder_select(0, 720, r), -1);
    ck_assert_int_eq(video_ladder_select(1280, -1, r), -1);
    ck_assert_int_eq(video_ladder_select(1280, 100000, r), -1);
}
END_TEST


START_TEST(the_master_playlist_lists_every_rung)
{
    int           n, len;
    char          out[2048];
    video_rung_t  r[VIDEO_LADDER_MAX];

    n = video_ladder_select(1280, 720, r);
    len = video_ladder_master(r, n, 1, 25, out, sizeof(out));

    ck_assert_int_eq(len, (int) strlen(out));
    ck_assert_str_eq(out,
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=3124000,AVERAGE-BANDWIDTH=2928000,"
        "RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\","
        "FRAME-RATE=25.000\n720p/playlist.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1626000,AVERAGE-BANDWIDTH=1528000,"
        "RESOLUTION=854x480,CODECS=\"avc1.64001e,mp4a.40.2\","
        "FRAME-RATE=25.000\n480p/playlist.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=952000,AVERAGE-BANDWIDTH=896000,"
        "RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\","
        "FRAME-RATE=25.000\n360p/playlist.m3u8\n");

    /* no audio: no audio codec, no audio bitrate */

    n = video_ladder_select(640, 360, r);
    len = video_ladder_master(r, n, 0, 0, out, sizeof(out));
    ck_assert_int_gt(len, 0);
    ck_assert_ptr_null(strstr(out, "mp4a"));
    ck_assert_ptr_null(strstr(out, "FRAME-RATE"));
    ck_assert_ptr_nonnull(strstr(out, "BANDWIDTH=856000,"));

    ck_assert_int_eq(video_ladder_master(r, n, 1, 25, out, 40), -1);
}
END_TEST


static int arg_at(char **argv, const char *arg);


static int
has_arg(char **argv, const char *arg)
{
    int  i;

    for (i = 0; argv[i] != NULL; i++) {
        if (strcmp(argv[i], arg) == 0) {
            return 1;
        }
    }

    return 0;
}


START_TEST(one_ffmpeg_run_encodes_every_rung)
{
    int                 n, argc, i, inputs;
    char               *argv[VIDEO_LADDER_ARGS_MAX];
    char                buf[8192];
    video_rung_t        r[VIDEO_LADDER_MAX];
    video_ladder_job_t  job = { "original", "mov", "out", 1, 25, 10, 4,
                                "veryfast", 2, 0 };

    static const char  *tonemap =
        "[0:v:0]zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
        "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,"
        "format=yuv420p,split=2[c0][t];";

    n = video_ladder_select(1280, 720, r);
    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));

    ck_assert_int_gt(argc, 0);
    ck_assert_ptr_null(argv[argc]);
    ck_assert_str_eq(argv[0], "ffmpeg");

    /* the source is opened, so decoded, once */

    for (inputs = 0, i = 0; i < argc; i++) {
        inputs += (strcmp(argv[i], "-i") == 0);
    }

    ck_assert_int_eq(inputs, 1);
    ck_assert(has_arg(argv, "[0:v:0]split=2[c0][t];"
                            "[c0]scale=1280:720,setsar=1,split=2[v0][c1];"
                            "[c1]scale=854:480,setsar=1,split=2[v1][c2];"
                            "[c2]scale=640:360,setsar=1[v2];"
                            "[t]select='gte(t\\,3.333)',scale=640:-2[thumb]"));
    ck_assert(has_arg(argv, "v:0,a:0,name:720p v:1,a:1,name:480p "
                            "v:2,a:2,name:360p"));

    /* keyframes every segment (25 fps x 4 s), aligned across rungs */

    ck_assert(has_arg(argv, "100"));
    ck_assert(has_arg(argv, "expr:gte(t,n_forced*4)"));
    ck_assert(has_arg(argv, "out/%v/segment_%03d.ts"));
    ck_assert(has_arg(argv, "out/thumbnail.jpg"));
    ck_assert(has_arg(argv, "-threads"));
    ck_assert(has_arg(argv, "-filter_complex_threads"));
    ck_assert(has_arg(argv, "-b:v:2"));
    ck_assert(has_arg(argv, "800k"));

    /* no audio: no audio maps or encoder */

    job.has_audio = 0;
    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert(!has_arg(argv, "0:a:0"));
    ck_assert(!has_arg(argv, "aac"));
    ck_assert(has_arg(argv, "v:0,name:720p v:1,name:480p v:2,name:360p"));

    /* whatever the source's depth, 8-bit 4:2:0: High 10 plays nowhere */

    i = arg_at(argv, "-pix_fmt");
    ck_assert_int_gt(i, 0);
    ck_assert_str_eq(argv[i + 1], "yuv420p");

    /* SDR: no tone mapping; HDR: once, ahead of the split */

    ck_assert_ptr_null(strstr(argv[arg_at(argv, "-filter_complex") + 1],
                              "tonemap"));

    job.hdr = 1;
    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_str_eq(strstr(argv[arg_at(argv, "-filter_complex") + 1],
                            ";[c0]"),
                     ";[c0]scale=1280:720,setsar=1,split=2[v0][c1];"
                     "[c1]scale=854:480,setsar=1,split=2[v1][c2];"
                     "[c2]scale=640:360,setsar=1[v2];"
                     "[t]select='gte(t\\,3.333)',scale=640:-2[thumb]");
    ck_assert(strncmp(argv[arg_at(argv, "-filter_complex") + 1], tonemap,
                      strlen(tonemap)) == 0);

    /* x264's B-frames, but in a video shorter than a second */

    ck_assert(!has_arg(argv, "-bf"));
    job.duration = 0.2;
    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_str_eq(argv[arg_at(argv, "-bf") + 1], "0");

    ck_assert_int_eq(video_ladder_ffmpeg(&job, r, n, argv, buf, 100), -1);
    ck_assert_int_eq(video_ladder_ffmpeg(&job, r, 0, argv, buf, sizeof(buf)),
                     -1);
}
END_TEST


/* where arg is in argv, or -1 */

static int
arg_at(char **argv, const char *arg)
{
    int  i;

    for (i = 0; argv[i] != NULL; i++) {
        if (strcmp(argv[i], arg) == 0) {
            return i;
        }
    }

    return -1;
}


/* the input options, in order, right before the one input */

static void
forced_input(char **argv, const char *demuxer, int drefs)
{
    int  i, in;

    in = arg_at(argv, "-i");
    ck_assert_int_gt(in, 0);
    ck_assert_str_eq(argv[in + 1], "file:original");

    i = arg_at(argv, "-protocol_whitelist");
    ck_assert_int_ge(i, 0);
    ck_assert_int_lt(i, in);
    ck_assert_str_eq(argv[i + 1], "file");

    i = arg_at(argv, "-f");
    ck_assert_int_ge(i, 0);
    ck_assert_int_lt(i, in);
    ck_assert_str_eq(argv[i + 1], demuxer);

    i = arg_at(argv, "-enable_drefs");

    if (drefs) {
        ck_assert_int_ge(i, 0);
        ck_assert_int_lt(i, in);
        ck_assert_str_eq(argv[i + 1], "0");

    } else {
        ck_assert_int_eq(i, -1);
    }

    /* the source is named nowhere else */

    for (i = 0; argv[i] != NULL; i++) {
        ck_assert(i == in + 1 || strstr(argv[i], "original") == NULL);
    }
}


START_TEST(every_run_forces_the_demuxer_and_the_file_protocol)
{
    int                 n, argc;
    char               *argv[VIDEO_LADDER_ARGS_MAX];
    char                buf[8192];
    video_rung_t        r[VIDEO_LADDER_MAX];
    video_ladder_job_t  job = { "original", "mov", "out", 1, 25, 10, 4,
                                "veryfast", 2, 0 };

    argc = video_ladder_ffprobe("original", "mov", argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_ptr_null(argv[argc]);
    ck_assert_str_eq(argv[0], "ffprobe");
    ck_assert(has_arg(argv, "-show_streams"));
    ck_assert(has_arg(argv, "json"));
    forced_input(argv, "mov", 1);

    argc = video_ladder_ffprobe("original", "matroska", argv, buf,
                                sizeof(buf));
    ck_assert_int_gt(argc, 0);
    forced_input(argv, "matroska", 0);

    n = video_ladder_select(640, 360, r);

    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    forced_input(argv, "mov", 1);

    job.demuxer = "ogg";
    argc = video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    forced_input(argv, "ogg", 0);

    /* no demuxer: no command, rather than one that guesses */

    ck_assert_int_eq(video_ladder_ffprobe("original", NULL, argv, buf,
                                          sizeof(buf)), -1);
    ck_assert_int_eq(video_ladder_ffprobe("original", "", argv, buf,
                                          sizeof(buf)), -1);
    ck_assert_int_eq(video_ladder_ffprobe("original", "mov", argv, buf, 40),
                     -1);

    job.demuxer = NULL;
    ck_assert_int_eq(video_ladder_ffmpeg(&job, r, n, argv, buf, sizeof(buf)),
                     -1);
}
END_TEST


static int
feed(video_progress_t *p, const char *line)
{
    return video_progress_line(p, line, strlen(line));
}


START_TEST(progress_follows_ffmpeg_blocks)
{
    video_progress_t  p;

    video_progress_init(&p);
    ck_assert_int_eq(video_progress_percent(&p, 10), 0);

    ck_assert_int_eq(feed(&p, "frame=50"), VIDEO_PROGRESS_NONE);
    ck_assert_int_eq(feed(&p, "out_time_us=2500000"), VIDEO_PROGRESS_NONE);
    ck_assert_int_eq(feed(&p, "out_time_ms=2500000"), VIDEO_PROGRESS_NONE);
    ck_assert_int_eq(feed(&p, "out_time=00:00:02.500000"),
                     VIDEO_PROGRESS_NONE);
    ck_assert_int_eq(feed(&p, "speed=1.5x\r"), VIDEO_PROGRESS_NONE);
    ck_assert_int_eq(feed(&p, "progress=continue"), VIDEO_PROGRESS_CONTINUE);

    ck_assert_int_eq(p.frame, 50);
    ck_assert(p.speed > 1.49 && p.speed < 1.51);
    ck_assert_int_eq(video_progress_percent(&p, 10), 25);

    /* N/A, garbage and going back are ignored */

    feed(&p, "out_time_us=N/A");
    feed(&p, "out_time_us=-5");
    feed(&p, "out_time_us=1000000");
    feed(&p, "out_time_us=12abc");
    feed(&p, "no equals sign");
    ck_assert_int_eq(video_progress_percent(&p, 10), 25);

    /* past the end of the source: 99 until the outputs are stored */

    feed(&p, "out_time_us=10400000");
    ck_assert_int_eq(feed(&p, "progress=end"), VIDEO_PROGRESS_END);
    ck_assert_int_eq(video_progress_percent(&p, 10), 99);

    ck_assert_int_eq(video_progress_percent(&p, 0), 0);
}
END_TEST


/* found by t/fuzz/progress: a duration of "nan" made (int) NaN */

START_TEST(a_duration_that_is_not_a_number_is_unknown)
{
    video_progress_t  p;

    video_progress_init(&p);
    feed(&p, "out_time_us=2500000");

    ck_assert_int_eq(video_progress_percent(&p, strtod("nan", NULL)), 0);
    ck_assert_int_eq(video_progress_percent(&p, -strtod("nan", NULL)), 0);
    ck_assert_int_eq(video_progress_percent(&p, strtod("-inf", NULL)), 0);

    /* an endless source never gets anywhere; a tiny one is all but done */
    ck_assert_int_eq(video_progress_percent(&p, strtod("inf", NULL)), 0);
    ck_assert_int_eq(video_progress_percent(&p, 1e-300), 99);
}
END_TEST


static int
parse(const char *json, video_job_t *job, const char **err)
{
    *err = NULL;
    return video_job_parse(json, strlen(json), job, err);
}


START_TEST(transcode_jobs_are_checked)
{
    video_job_t   job;
    const char   *err;

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original.mp4\"}",
                           &job, &err), 0);
    ck_assert_int_eq(job.type, VIDEO_JOB_TRANSCODE);
    ck_assert_str_eq(job.video_id, VID);
    ck_assert_str_eq(job.input_key, VID "/original.mp4");

    ck_assert_int_eq(parse("{\"type\":\"transcode\",", &job, &err), -1);
    ck_assert_str_eq(err, "not JSON");
    ck_assert_int_eq(parse("[1]", &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"encode\",\"videoId\":\"" VID "\"}",
                           &job, &err), -1);
    ck_assert_str_eq(err, "unknown job type");
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"short\","
                           "\"inputKey\":\"short/original.mp4\"}",
                           &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"other/original.mp4\"}",
                           &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/../x\"}",
                           &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/\"}", &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":42}", &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"videoId\":\"" VID "\",\"inputKey\":\"" VID
                           "/a.mp4\"}", &job, &err), -1);
}
END_TEST


START_TEST(a_source_url_is_in_its_normal_form)
{
    video_job_t   job;
    const char   *err;

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original\","
                           "\"sourceUrl\":\"https://example.com/a.mp4\"}",
                           &job, &err), 0);
    ck_assert_str_eq(job.source_url, "https://example.com/a.mp4");

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original\"}",
                           &job, &err), 0);
    ck_assert_str_eq(job.source_url, "");

    /* the module writes the normal form: anything else is not its job */

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original\","
                           "\"sourceUrl\":\"HTTPS://example.com:443/a\"}",
                           &job, &err), -1);
    ck_assert_str_eq(err, "\"sourceUrl\" is not in its normal form");
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original\","
                           "\"sourceUrl\":\"file:///etc/passwd\"}",
                           &job, &err), -1);
    ck_assert_str_eq(err, "\"sourceUrl\" is not a usable http(s) URL");
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original\","
                           "\"sourceUrl\":7}", &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/x.flv\","
                           "\"recording\":\"/rec/" VID ".flv\","
                           "\"sourceUrl\":\"https://example.com/\"}",
                           &job, &err), -1);
    ck_assert_str_eq(err, "a job with both \"recording\" and \"sourceUrl\"");
}
END_TEST


/* a transcode job for VID with this "recording" value (JSON text) */

static int
parse_recording(const char *recording, video_job_t *job, const char **err)
{
    char  json[4096];

    snprintf(json, sizeof(json),
             "{\"type\":\"transcode\",\"videoId\":\"" VID "\","
             "\"inputKey\":\"" VID "/recording.flv\","
             "\"recording\":%s}", recording);

    return parse(json, job, err);
}


START_TEST(a_recording_is_an_flv_of_the_video)
{
    video_job_t   job;
    const char   *err;

    ck_assert_int_eq(parse_recording("\"/abs/run/live-rec/" VID
                                     "-1732600000.flv\"", &job, &err), 0);
    ck_assert_str_eq(job.recording, "/abs/run/live-rec/" VID
                     "-1732600000.flv");
    ck_assert_str_eq(job.input_key, VID "/recording.flv");

    ck_assert_int_eq(parse_recording("\"/rec/" VID ".flv\"", &job, &err), 0);
    ck_assert_str_eq(job.recording, "/rec/" VID ".flv");

    ck_assert_int_eq(parse_recording("\"/" VID "-1.flv\"", &job, &err), 0);
    ck_assert_str_eq(job.recording, "/" VID "-1.flv");

    /* absent or null: the original is an upload */

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original.mp4\"}",
                           &job, &err), 0);
    ck_assert_str_eq(job.recording, "");
    ck_assert_int_eq(parse_recording("null", &job, &err), 0);
    ck_assert_str_eq(job.recording, "");
}
END_TEST


/* a transcode job for VID with this "etag" value (JSON text) */

static int
parse_etag(const char *etag, video_job_t *job, const char **err)
{
    char  json[4096];

    snprintf(json, sizeof(json),
             "{\"type\":\"transcode\",\"videoId\":\"" VID "\","
             "\"inputKey\":\"" VID "/original.mp4\",\"etag\":%s}", etag);

    return parse(json, job, err);
}


START_TEST(an_etag_names_the_original_to_read)
{
    size_t        i;
    char          json[512], *p;
    video_job_t   job;
    const char   *err;

    static const char  *bad[] = {
        "42", "[\"abc\"]", "{}", "true", "\"\"",
        "\"\\\"d41d8cd98f00b204e9800998ecf8427e\\\"\"",  /* quoted */
        "\"d41d8cd9 8f00\"", "\"abc\\r\\nX-Evil: 1\"",
        "\"abc\\tdef\"", "\"caf\\u00e9\"", "\"abc\\u007f\"",
    };

    ck_assert_int_eq(parse_etag("\"d41d8cd98f00b204e9800998ecf8427e\"",
                                &job, &err), 0);
    ck_assert_str_eq(job.etag, "d41d8cd98f00b204e9800998ecf8427e");

    ck_assert_int_eq(parse_etag("\"9b2cf535f27731c974343645a3985328-17\"",
                                &job, &err), 0);
    ck_assert_str_eq(job.etag, "9b2cf535f27731c974343645a3985328-17");

    /* absent or null: the original is read whatever its ETag */

    ck_assert_int_eq(parse_etag("null", &job, &err), 0);
    ck_assert_str_eq(job.etag, "");
    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/original.mp4\"}",
                           &job, &err), 0);
    ck_assert_str_eq(job.etag, "");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(parse_etag(bad[i], &job, &err) == -1,
                      "etag %s accepted", bad[i]);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, "\"etag\""));
    }

    /* a NUL inside is not even JSON to jansson */

    ck_assert_int_eq(parse_etag("\"abc\\u0000def\"", &job, &err), -1);

    /* 128 characters, not 129 */

    p = json;
    *p++ = '"';
    memset(p, 'a', VIDEO_JOB_ETAG_MAX);
    p += VIDEO_JOB_ETAG_MAX;
    strcpy(p, "\"");
    ck_assert_int_eq(parse_etag(json, &job, &err), 0);
    ck_assert_uint_eq(strlen(job.etag), VIDEO_JOB_ETAG_MAX);
    strcpy(p, "a\"");
    ck_assert_int_eq(parse_etag(json, &job, &err), -1);

    /* a recording is stored by the job: no ETag can be known before */

    ck_assert_int_eq(parse("{\"type\":\"transcode\",\"videoId\":\"" VID "\","
                           "\"inputKey\":\"" VID "/recording.flv\","
                           "\"recording\":\"/rec/" VID "-1.flv\","
                           "\"etag\":\"d41d8cd98f00b204e9800998ecf8427e\"}",
                           &job, &err), -1);
    ck_assert_str_eq(err, "\"etag\" with a \"recording\"");
}
END_TEST


START_TEST(a_bad_recording_rejects_the_job)
{
    size_t        i;
    video_job_t   job;
    const char   *err;
    char          json[2048], path[1100];

    static const struct {
        const char  *recording;
        const char  *err;
    } bad[] = {
        { "42", "\"recording\" is not a string" },
        { "[\"/rec/" VID "-1.flv\"]", "\"recording\" is not a string" },
        { "\"\"", "\"recording\" is not an absolute path" },
        { "\"rec/" VID "-1.flv\"", "\"recording\" is not an absolute path" },
        { "\"" VID "-1.flv\"", "\"recording\" is not an absolute path" },
        { "\"/rec/./" VID "-1.flv\"",
          "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/rec/../etc/" VID "-1.flv\"",
          "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/rec//" VID "-1.flv\"",
          "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/rec/" VID "-1.flv/\"",
          "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/\"", "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/rec/" VID "-1.flv/..\"",
          "\"recording\" has an empty, \".\" or \"..\" segment" },
        { "\"/rec/" VID "-1.mp4\"", "\"recording\" is not an \".flv\" file" },
        { "\"/rec/" VID "-1.FLV\"", "\"recording\" is not an \".flv\" file" },
        { "\"/rec/" VID "-1.flv.txt\"",
          "\"recording\" is not an \".flv\" file" },
        { "\"/rec/" VID "\"", "\"recording\" is not an \".flv\" file" },
        { "\"/rec/other-1.flv\"",
          "\"recording\" is not named \"<videoId>-...\" or \"<videoId>.flv\"" },
        { "\"/rec/" VID "1.flv\"",
          "\"recording\" is not named \"<videoId>-...\" or \"<videoId>.flv\"" },
        { "\"/rec/x" VID "-1.flv\"",
          "\"recording\" is not named \"<videoId>-...\" or \"<videoId>.flv\"" },
        { "\"/" VID "/rec.flv\"",
          "\"recording\" is not named \"<videoId>-...\" or \"<videoId>.flv\"" },
        { "\"/rec/.flv\"",
          "\"recording\" is not named \"<videoId>-...\" or \"<videoId>.flv\"" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_recording(bad[i].recording, &job, &err) == -1,
                      "accepted %s", bad[i].recording);
        ck_assert_str_eq(err, bad[i].err);
        ck_assert_str_eq(job.recording, "");
    }

    /* jansson refuses a NUL before the parser could see it */

    ck_assert_int_eq(parse_recording("\"/rec/" VID "\\u0000-1.flv\"", &job,
                                     &err), -1);

    /* the longest path that fits, and one byte more */

    memset(path, 'a', sizeof(path));
    memcpy(path, "/", 1);
    memcpy(path + VIDEO_JOB_PATH_MAX - 1 - VIDEO_ID_LEN - 6, "/" VID "-.flv",
           VIDEO_ID_LEN + 7);

    snprintf(json, sizeof(json), "\"%s\"", path);
    ck_assert_int_eq(strlen(path), VIDEO_JOB_PATH_MAX - 1);
    ck_assert_int_eq(parse_recording(json, &job, &err), 0);
    ck_assert_str_eq(job.recording, path);

    snprintf(json, sizeof(json), "\"/a%s\"", path);
    ck_assert_int_eq(parse_recording(json, &job, &err), -1);
    ck_assert_str_eq(err, "\"recording\" is too long");
}
END_TEST


START_TEST(cleanup_jobs_list_objects_of_their_video)
{
    video_job_t   job;
    const char   *err;

    ck_assert_int_eq(parse("{\"type\":\"cleanup\",\"videoId\":\"" VID "\","
                           "\"objects\":["
                           "{\"bucket\":\"videos-raw\",\"key\":\"" VID
                           "/original.mp4\"},"
                           "{\"bucket\":\"videos-processed\",\"prefix\":\""
                           VID "/\"},"
                           "{\"bucket\":\"thumbnails\",\"key\":null}]}",
                           &job, &err), 0);
    ck_assert_int_eq(job.type, VIDEO_JOB_CLEANUP);
    ck_assert_int_eq(job.nobjects, 2);
    ck_assert_str_eq(job.objects[0].bucket, "videos-raw");
    ck_assert_int_eq(job.objects[0].prefix, 0);
    ck_assert_str_eq(job.objects[1].key, VID "/");
    ck_assert_int_eq(job.objects[1].prefix, 1);

    /* nothing outside the video */

    ck_assert_int_eq(parse("{\"type\":\"cleanup\",\"videoId\":\"" VID "\","
                           "\"objects\":[{\"bucket\":\"videos-processed\","
                           "\"prefix\":\"\"}]}", &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"cleanup\",\"videoId\":\"" VID "\","
                           "\"objects\":[{\"bucket\":\"videos-raw\","
                           "\"key\":\"other/original.mp4\"}]}", &job, &err),
                     -1);
    ck_assert_int_eq(parse("{\"type\":\"cleanup\",\"videoId\":\"" VID "\"}",
                           &job, &err), -1);
    ck_assert_int_eq(parse("{\"type\":\"cleanup\",\"videoId\":\"" VID "\","
                           "\"objects\":[{\"key\":\"" VID "/a\"}]}",
                           &job, &err), -1);
}
END_TEST


/* ffprobe -print_format json -show_streams -show_format, trimmed */
#define PROBE(width, height, rate, duration)                                  \
    "{\"streams\": [{\"index\": 0, \"codec_name\": \"h264\", "                \
    "\"codec_type\": \"video\", \"width\": " width ", \"height\": " height    \
    ", \"r_frame_rate\": \"25/1\", \"avg_frame_rate\": " rate "}, "           \
    "{\"index\": 1, \"codec_name\": \"aac\", \"codec_type\": \"audio\", "     \
    "\"avg_frame_rate\": \"0/0\"}], \"format\": {\"format_name\": "           \
    "\"mov,mp4,m4a,3gp,3g2,mj2\", \"duration\": " duration "}}"


static int
probe(const char *json, video_probe_t *p, const char **err)
{
    *err = NULL;
    return video_probe_parse(json, strlen(json), p, err);
}


START_TEST(a_probe_gives_size_rate_audio_and_duration)
{
    video_probe_t   p;
    const char     *err;

    ck_assert_int_eq(probe(PROBE("640", "360", "\"25/1\"", "\"2.000000\""),
                           &p, &err), 0);
    ck_assert_int_eq(p.width, 640);
    ck_assert_int_eq(p.height, 360);
    ck_assert_int_eq(p.has_audio, 1);
    ck_assert(p.fps == 25);
    ck_assert(p.duration == 2);

    ck_assert_int_eq(probe(PROBE("1920", "1080", "\"30000/1001\"",
                                 "\"63.5\""), &p, &err), 0);
    ck_assert(p.fps > 29.97 && p.fps < 29.98);

    /* no rate ("0/0") is an unknown rate, not a failure */
    ck_assert_int_eq(probe(PROBE("320", "240", "\"0/0\"", "\"1\""), &p,
                           &err), 0);
    ck_assert(p.fps == 0);
}
END_TEST


/* a video stream, then audio streams as ffprobe 5.1 prints them */
#define PROBE_AUDIO(audio)                                                    \
    "{\"streams\": [{\"codec_type\": \"video\", \"width\": 640, "           \
    "\"height\": 360}" audio "], \"format\": {\"duration\": \"2.0\"}}"

#define AUDIO(codec, profile, channels, rate, bps)                            \
    ", {\"codec_name\": \"" codec "\", \"profile\": \"" profile "\", "        \
    "\"codec_type\": \"audio\", \"channels\": " channels ", "              \
    "\"sample_rate\": " rate ", \"bit_rate\": " bps "}"


START_TEST(audio_that_fits_the_rendition_is_copied)
{
    size_t          i;
    video_probe_t   p;
    const char     *err;

    static const struct {
        const char  *json;
        int          copy;
    } cases[] = {
        /* a phone's or a camera's: AAC-LC stereo 48 or 44.1 kHz, mono */
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"128000\"")),
          1 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "1", "\"44100\"", "\"96000\"")),
          1 },
        /* 2% above the rendition's 128 kb/s, no more */
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"130560\"")),
          1 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"130561\"")),
          0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"256000\"")),
          0 },
        /* HE-AAC, 5.1, 96 or 32 kHz, another codec: encoded */
        { PROBE_AUDIO(AUDIO("aac", "HE-AAC", "2", "\"48000\"",
                            "\"64000\"")), 0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "6", "\"48000\"", "\"128000\"")),
          0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"96000\"", "\"128000\"")),
          0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"32000\"", "\"128000\"")),
          0 },
        { PROBE_AUDIO(AUDIO("mp3", "LC", "2", "\"48000\"", "\"128000\"")),
          0 },
        { PROBE_AUDIO(AUDIO("opus", "", "2", "\"48000\"", "\"96000\"")),
          0 },
        /* no rate known (Matroska's streams say none), or not a number */
        { PROBE_AUDIO(", {\"codec_name\": \"aac\", \"profile\": \"LC\", "
                      "\"codec_type\": \"audio\", \"channels\": 2, "
                      "\"sample_rate\": \"48000\"}"), 0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"N/A\"")), 0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "48000", "128000")), 0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"-1\"")), 0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "\"2\"", "\"48000\"",
                            "\"128000\"")), 0 },
        /* the first audio stream is the one copied, and said */
        { PROBE_AUDIO(AUDIO("mp3", "LC", "2", "\"48000\"", "\"128000\"")
                      AUDIO("aac", "LC", "2", "\"48000\"", "\"128000\"")),
          0 },
        { PROBE_AUDIO(AUDIO("aac", "LC", "2", "\"48000\"", "\"128000\"")
                      AUDIO("mp3", "LC", "2", "\"48000\"", "\"128000\"")),
          1 },
        /* no audio */
        { PROBE_AUDIO(""), 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(probe(cases[i].json, &p, &err) == 0, "case %zu", i);
        ck_assert_msg(video_probe_audio_copy(&p, 128) == cases[i].copy,
                      "case %zu: copy %d", i, cases[i].copy);
    }

    /* what the copy is measured by */

    ck_assert_int_eq(probe(PROBE_AUDIO(AUDIO("aac", "LC", "1", "\"44100\"",
                                             "\"96000\"")), &p, &err), 0);
    ck_assert_int_eq(p.audio_lc, 1);
    ck_assert_int_eq(p.audio_channels, 1);
    ck_assert_int_eq(p.audio_rate, 44100);
    ck_assert_int_eq(p.audio_bps, 96000);
}
END_TEST


START_TEST(a_file_without_video_or_duration_is_refused)
{
    video_probe_t   p;
    const char     *err;

    ck_assert_int_eq(probe("{\"streams\": [{\"codec_type\": \"audio\"}], "
                           "\"format\": {\"duration\": \"2.0\"}}", &p, &err),
                     -1);
    ck_assert_str_eq(err, "the file has no video stream");

    ck_assert_int_eq(probe(PROBE("640", "360", "\"25/1\"", "\"N/A\""), &p,
                           &err), -1);
    ck_assert_str_eq(err, "the video has no duration");

    ck_assert_int_eq(probe("ffprobe crashed", &p, &err), -1);
    ck_assert_str_eq(err, "the file has no video stream");
    ck_assert_int_eq(probe("", &p, &err), -1);
}
END_TEST


/* a video stream with its side data and tags, as ffprobe 5.1 prints them */
#define PROBE_ROTATED(side_data, tags)                                        \
    "{\"streams\": [{\"index\": 0, \"codec_name\": \"h264\", "              \
    "\"codec_type\": \"video\", \"width\": 640, \"height\": 360, "          \
    "\"avg_frame_rate\": \"30/1\", \"tags\": {" tags "}, "                  \
    "\"side_data_list\": [" side_data "]}], "                               \
    "\"format\": {\"duration\": \"2.000000\"}}"

#define DISPLAY_MATRIX(rotation)                                              \
    "{\"side_data_type\": \"Display Matrix\", \"displaymatrix\": "          \
    "\"\\n00000000:            0       65536           0\\n\", "            \
    "\"rotation\": " rotation "}"


START_TEST(a_rotated_picture_is_measured_as_shown)
{
    size_t          i;
    video_probe_t   p;
    const char     *err;

    static const struct {
        const char  *json;
        int          rotation;
        int          width;
    } cases[] = {
        /* a phone held upright: a landscape picture turned a quarter */
        { PROBE_ROTATED(DISPLAY_MATRIX("-90"), "\"rotate\": \"90\""), 90, 360 },
        { PROBE_ROTATED(DISPLAY_MATRIX("90"), ""), 270, 360 },
        { PROBE_ROTATED(DISPLAY_MATRIX("-270"), ""), 270, 360 },
        { PROBE_ROTATED(DISPLAY_MATRIX("180"), ""), 180, 640 },
        { PROBE_ROTATED(DISPLAY_MATRIX("-180.00"), ""), 180, 640 },
        { PROBE_ROTATED(DISPLAY_MATRIX("-89.6"), ""), 90, 360 },
        { PROBE_ROTATED(DISPLAY_MATRIX("0"), ""), 0, 640 },

        /* no side data: the tag, clockwise */
        { PROBE_ROTATED("", "\"rotate\": \"90\""), 90, 360 },
        { PROBE_ROTATED("", "\"rotate\": \"270\""), 270, 360 },
        { PROBE_ROTATED("", "\"rotate\": \"-90\""), 270, 360 },

        /* the side data wins over the tag */
        { PROBE_ROTATED(DISPLAY_MATRIX("0"), "\"rotate\": \"90\""), 0, 640 },

        /* not a quarter turn: ffmpeg keeps the frame's size */
        { PROBE_ROTATED(DISPLAY_MATRIX("-45"), ""), 0, 640 },
        { PROBE_ROTATED(DISPLAY_MATRIX("-92"), ""), 0, 640 },

        /* nonsense is no turn */
        { PROBE_ROTATED(DISPLAY_MATRIX("\"-90\""), ""), 0, 640 },
        { PROBE_ROTATED(DISPLAY_MATRIX("1e308"), ""), 0, 640 },
        { PROBE_ROTATED(DISPLAY_MATRIX("-1e300"), ""), 0, 640 },
        { PROBE_ROTATED("", "\"rotate\": \"90x\""), 0, 640 },
        { PROBE_ROTATED("", "\"rotate\": \"nan\""), 0, 640 },
        { PROBE_ROTATED("", "\"rotate\": \"\""), 0, 640 },
        { PROBE_ROTATED("", "\"rotate\": 90"), 0, 640 },
        { PROBE_ROTATED("{\"side_data_type\": \"Stereo 3D\", "
                        "\"rotation\": -90}", ""), 0, 640 },
        { PROBE_ROTATED("42, null", ""), 0, 640 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(probe(cases[i].json, &p, &err) == 0, "refused %s",
                      cases[i].json);
        ck_assert_msg(p.rotation == cases[i].rotation, "%s: rotation %d",
                      cases[i].json, p.rotation);
        ck_assert_int_eq(p.width, cases[i].width);
        ck_assert_int_eq(p.height, cases[i].width == 640 ? 360 : 640);
        ck_assert_int_eq(p.hdr, 0);
    }

    /* a portrait source turned: the ladder is landscape again */

    ck_assert_int_eq(probe("{\"streams\": [{\"codec_type\": \"video\", "
                           "\"width\": 1080, \"height\": 1920, "
                           "\"side_data_list\": [" DISPLAY_MATRIX("90")
                           "]}], \"format\": {\"duration\": \"1\"}}",
                           &p, &err), 0);
    ck_assert_int_eq(p.width, 1920);
    ck_assert_int_eq(p.height, 1080);
}
END_TEST


START_TEST(pq_and_hlg_are_hdr)
{
    char            json[1024];
    size_t          i;
    video_probe_t   p;
    const char     *err;

    static const struct {
        const char  *trc;
        int          hdr;
    } cases[] = {
        { "\"smpte2084\"", 1 },
        { "\"arib-std-b67\"", 1 },
        { "\"bt709\"", 0 },
        { "\"bt2020-10\"", 0 },
        { "\"unknown\"", 0 },
        { "\"SMPTE2084\"", 0 },
        { "2084", 0 },
        { "null", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"streams\": [{\"codec_type\": \"video\", "
                 "\"codec_name\": \"hevc\", \"width\": 640, "
                 "\"height\": 360, \"pix_fmt\": \"yuv420p10le\", "
                 "\"color_space\": \"bt2020nc\", \"color_transfer\": %s, "
                 "\"color_primaries\": \"bt2020\"}], "
                 "\"format\": {\"duration\": \"2\"}}", cases[i].trc);
        ck_assert_int_eq(probe(json, &p, &err), 0);
        ck_assert_msg(p.hdr == cases[i].hdr, "%s", cases[i].trc);
    }

    /* a transfer of another stream than the first video is not its own */

    ck_assert_int_eq(probe("{\"streams\": [{\"codec_type\": \"video\", "
                           "\"width\": 64, \"height\": 36}, "
                           "{\"codec_type\": \"video\", \"width\": 64, "
                           "\"height\": 36, "
                           "\"color_transfer\": \"smpte2084\"}], "
                           "\"format\": {\"duration\": \"2\"}}",
                           &p, &err), 0);
    ck_assert_int_eq(p.hdr, 0);
}
END_TEST


/*
 * What a hostile file could make ffprobe print.  When the probe lived in
 * the transcoder, a duration of "nan" passed its "<= 0" check and
 * reached the progress percentage (t/fuzz/progress found that (int) NaN),
 * a width beyond int was cut to another int, and a rate beyond int
 * overflowed sscanf's %d
 */

START_TEST(hostile_probe_values_are_refused)
{
    char            json[1024];
    size_t          i;
    video_probe_t   p;
    const char     *err;

    static const char  *bad_duration[] = {
        "\"nan\"", "\"-nan\"", "\"inf\"", "\"1e400\"", "\"-2.0\"", "\"0\"",
        "\"2.0s\"", "\"\"", "2.0", "null"
    };

    for (i = 0; i < sizeof(bad_duration) / sizeof(bad_duration[0]); i++) {
        snprintf(json, sizeof(json),
                 PROBE("640", "360", "\"25/1\"", "%s"), bad_duration[i]);
        ck_assert_msg(probe(json, &p, &err) == -1, "accepted %s",
                      bad_duration[i]);
        ck_assert_str_eq(err, "the video has no duration");
    }

    /* 2^32 + 640 is not 640, nor is -640 or 640.5 */

    ck_assert_int_eq(probe(PROBE("4294967936", "360", "\"25/1\"", "\"2\""),
                           &p, &err), -1);
    ck_assert_str_eq(err, "the file has no video stream");
    ck_assert_int_eq(probe(PROBE("-640", "360", "\"25/1\"", "\"2\""), &p,
                           &err), -1);
    ck_assert_int_eq(probe(PROBE("640.5", "360", "\"25/1\"", "\"2\""), &p,
                           &err), -1);

    /* rates that are not two ints are unknown */

    ck_assert_int_eq(probe(PROBE("640", "360", "\"2147483648/1\"", "\"2\""),
                           &p, &err), 0);
    ck_assert(p.fps == 0);
    ck_assert_int_eq(probe(PROBE("640", "360", "\"25/0\"", "\"2\""), &p,
                           &err), 0);
    ck_assert(p.fps == 0);
    ck_assert_int_eq(probe(PROBE("640", "360", "\"-25/1\"", "\"2\""), &p,
                           &err), 0);
    ck_assert(p.fps == 0);
    ck_assert_int_eq(probe(PROBE("640", "360", "\"25/1x\"", "\"2\""), &p,
                           &err), 0);
    ck_assert(p.fps == 0);
    ck_assert_int_eq(probe(PROBE("640", "360", "25", "\"2\""), &p, &err), 0);
    ck_assert(p.fps == 0);
}
END_TEST


Suite *
unit_worker_lib_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("worker-lib");
    tc = tcase_create("transcode");

    tcase_add_test(tc, a_ladder_never_goes_above_the_source);
    tcase_add_test(tc, the_master_playlist_lists_every_rung);
    tcase_add_test(tc, one_ffmpeg_run_encodes_every_rung);
    tcase_add_test(tc, every_run_forces_the_demuxer_and_the_file_protocol);
    tcase_add_test(tc, progress_follows_ffmpeg_blocks);
    tcase_add_test(tc, a_duration_that_is_not_a_number_is_unknown);
    tcase_add_test(tc, transcode_jobs_are_checked);
    tcase_add_test(tc, a_source_url_is_in_its_normal_form);
    tcase_add_test(tc, a_recording_is_an_flv_of_the_video);
    tcase_add_test(tc, a_bad_recording_rejects_the_job);
    tcase_add_test(tc, an_etag_names_the_original_to_read);
    tcase_add_test(tc, cleanup_jobs_list_objects_of_their_video);
    tcase_add_test(tc, a_probe_gives_size_rate_audio_and_duration);
    tcase_add_test(tc, audio_that_fits_the_rendition_is_copied);
    tcase_add_test(tc, a_file_without_video_or_duration_is_refused);
    tcase_add_test(tc, hostile_probe_values_are_refused);
    tcase_add_test(tc, a_rotated_picture_is_measured_as_shown);
    tcase_add_test(tc, pq_and_hlg_are_hdr);
    suite_add_tcase(s, tc);

    return s;
}
