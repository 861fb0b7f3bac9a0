/*
 * Chunked transcoding's pure parts: the split's arguments and its list of
 * pieces, a piece's run, the audio's run, the segments read back from a
 * run's playlist, the master playlist with the audio as a group, and the
 * chunk job.
 */

#include <stdio.h>
#include <string.h>

#include <check.h>

#include "unit.h"
#include "video_job.h"
#include "video_ladder.h"


static int
has_arg(char **argv, int argc, const char *want)
{
    int  i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], want) == 0) {
            return 1;
        }
    }

    return 0;
}


/* the argument after "name", or NULL */

static const char *
arg_after(char **argv, int argc, const char *name)
{
    int  i;

    for (i = 0; i < argc - 1; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }

    return NULL;
}


/* where name is in argv first, or -1 */

static int
arg_index(char **argv, int argc, const char *name)
{
    int  i;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return i;
        }
    }

    return -1;
}


static char  buf[16384 + VIDEO_CHUNK_TIMES_LEN];


/* the split's cut times for a source of duration seconds */

static const char *
split_times(int first, int every, int ramp, double duration)
{
    int                   argc;
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    video_ladder_split_t  sj = { "original", "mov", "out", 0, 0, 0, 0, 0 };

    sj.first = first;
    sj.every = every;
    sj.ramp = ramp;
    sj.duration = duration;

    argc = video_ladder_split(&sj, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);

    return arg_after(argv, argc, "-segment_times");
}


START_TEST(the_split_cuts_short_pieces_first_then_every_chunk)
{
    int                   argc;
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    video_ladder_split_t  sj = { "original", "mov", "out", 30.5, 4, 12, 0, 1 };

    argc = video_ladder_split(&sj, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_ptr_null(argv[argc]);

    /* the forced demuxer, a stream copy shifted by the offset */

    ck_assert_str_eq(arg_after(argv, argc, "-f"), "mov");
    ck_assert_str_eq(arg_after(argv, argc, "-i"), "file:original");
    ck_assert_str_eq(arg_after(argv, argc, "-c"), "copy");
    ck_assert_str_eq(arg_after(argv, argc, "-output_ts_offset"), "10");

    /* 4, 12 (a piece of 8), 24 on the original's timeline */

    ck_assert_str_eq(arg_after(argv, argc, "-segment_times"),
                     "14.000,22.000,34.000");

    ck_assert_str_eq(arg_after(argv, argc, "-segment_format"), "nut");
    ck_assert(has_arg(argv, argc, "out/p%05d.nut"));
    ck_assert(has_arg(argv, argc, "out/pieces.csv"));
    ck_assert(has_arg(argv, argc, "out/audio.nut"));

    /* no audio, and shorter than the first cut: one piece */

    sj.has_audio = 0;
    sj.duration = 3;
    argc = video_ladder_split(&sj, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_ptr_null(arg_after(argv, argc, "-segment_times"));
    ck_assert_str_eq(arg_after(argv, argc, "-segment_time"), "86400");
    ck_assert(!has_arg(argv, argc, "out/audio.nut"));

    /* a short first piece, then 2, 4, 8, 12, 12 */

    ck_assert_str_eq(split_times(1, 12, 0, 50),
                     "11.000,13.000,17.000,25.000,37.000,49.000");

    /* a first piece longer than every: the next ones are every long */

    ck_assert_str_eq(split_times(6, 4, 0, 15), "16.000,20.000,24.000");
    ck_assert_str_eq(split_times(6, 4, 60, 15), "16.000,20.000,24.000");

    /*
     * the ramp: pieces twice the first up to 9 s into the video (the
     * last of them crosses it), then doubling up to every
     */

    ck_assert_str_eq(split_times(1, 4, 9, 24),
                     "11.000,13.000,15.000,17.000,19.000,23.000,27.000,"
                     "31.000");
    ck_assert_str_eq(split_times(1, 12, 6, 30),
                     "11.000,13.000,15.000,17.000,21.000,29.000");
    ck_assert_str_eq(split_times(2, 4, 60, 13),
                     "12.000,16.000,20.000");
    ck_assert_str_eq(split_times(1, 1, 60, 4),
                     "11.000,12.000,13.000");

    /* the default's: 2 s pieces for the first minute, then 4 s */

    ck_assert_str_eq(split_times(1, 4, 60, 70),
                     "11.000,13.000,15.000,17.000,19.000,21.000,23.000,"
                     "25.000,27.000,29.000,31.000,33.000,35.000,37.000,"
                     "39.000,41.000,43.000,45.000,47.000,49.000,51.000,"
                     "53.000,55.000,57.000,59.000,61.000,63.000,65.000,"
                     "67.000,69.000,71.000,75.000,79.000");

    sj.ramp = -1;
    ck_assert_int_eq(video_ladder_split(&sj, argv, buf, sizeof(buf)), -1);
    sj.ramp = 0;
    sj.first = 0;
    ck_assert_int_eq(video_ladder_split(&sj, argv, buf, sizeof(buf)), -1);
    sj.first = 4;
    ck_assert_int_eq(video_ladder_split(&sj, argv, buf, 64), -1);
}
END_TEST


START_TEST(the_pieces_are_read_back_on_the_original_timeline)
{
    int     n;
    double  s[8], e[8];

    static const char  good[] =
        "p00000.nut,0.000000,14.004000\n"
        "p00001.nut,14.004000,26.026000\n"
        "p00002.nut,26.026000,40.500000\n";

    n = video_ladder_pieces(good, sizeof(good) - 1, s, e, 8);
    ck_assert_int_eq(n, 3);
    ck_assert(s[0] == 0 && e[0] > 4.003 && e[0] < 4.005);
    ck_assert(s[1] > 4.003 && s[1] < 4.005);
    ck_assert(e[2] > 30.49 && e[2] < 30.51);

    /* out of order, another name, times going back, junk, too many */

    ck_assert_int_eq(video_ladder_pieces("p00001.nut,0,1\n", 15, s, e, 8),
                     -1);
    ck_assert_int_eq(video_ladder_pieces("../x.nut,0,1\n", 13, s, e, 8), -1);
    ck_assert_int_eq(video_ladder_pieces(
                         "p00000.nut,0,20\np00001.nut,15,30\n", 33, s, e, 8),
                     -1);
    ck_assert_int_eq(video_ladder_pieces("p00000.nut,0,1e9\n", 17, s, e, 8),
                     -1);
    ck_assert_int_eq(video_ladder_pieces("p00000.nut,-1,2\n", 16, s, e, 8),
                     -1);
    ck_assert_int_eq(video_ladder_pieces(good, sizeof(good) - 1, s, e, 2),
                     -1);
    ck_assert_int_eq(video_ladder_pieces("", 0, s, e, 8), 0);
}
END_TEST


START_TEST(later_pieces_have_lower_priorities)
{
    /* the first second, then one less each time the start doubles */

    ck_assert_int_eq(video_ladder_priority(0, 9), 9);
    ck_assert_int_eq(video_ladder_priority(0.999, 9), 9);
    ck_assert_int_eq(video_ladder_priority(1, 9), 8);
    ck_assert_int_eq(video_ladder_priority(2.967, 9), 8);
    ck_assert_int_eq(video_ladder_priority(3, 9), 7);
    ck_assert_int_eq(video_ladder_priority(7, 9), 6);
    ck_assert_int_eq(video_ladder_priority(11, 9), 6);
    ck_assert_int_eq(video_ladder_priority(15, 9), 5);
    ck_assert_int_eq(video_ladder_priority(60, 9), 4);
    ck_assert_int_eq(video_ladder_priority(63, 9), 3);
    ck_assert_int_eq(video_ladder_priority(254, 9), 2);

    /* never below 1, whatever the start */

    ck_assert_int_eq(video_ladder_priority(255, 9), 1);
    ck_assert_int_eq(video_ladder_priority(86400, 9), 1);
    ck_assert_int_eq(video_ladder_priority(1e300, 9), 1);
    ck_assert_int_eq(video_ladder_priority(1e9, 1), 1);

    /* nothing before the start of the original */

    ck_assert_int_eq(video_ladder_priority(-5, 9), 9);
}
END_TEST


START_TEST(the_first_chunk_takes_every_core)
{
    ck_assert_int_eq(video_ladder_chunk_threads(0, 1, 2), 2);
    ck_assert_int_eq(video_ladder_chunk_threads(0, 1, 8), 8);
    ck_assert_int_eq(video_ladder_chunk_threads(0, 4, 2), 4);

    /* x264's own choice stays its own */

    ck_assert_int_eq(video_ladder_chunk_threads(0, 0, 2), 0);

    /* the others as encoder_threads says, and the audio's */

    ck_assert_int_eq(video_ladder_chunk_threads(1, 1, 2), 1);
    ck_assert_int_eq(video_ladder_chunk_threads(7, 1, 8), 1);
    ck_assert_int_eq(video_ladder_chunk_threads(-1, 1, 8), 1);

    /* a machine that says no cores */

    ck_assert_int_eq(video_ladder_chunk_threads(0, 1, -1), 1);
}
END_TEST


START_TEST(a_piece_is_encoded_on_the_shared_timeline)
{
    int                   argc, n;
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    const char           *graph;
    video_rung_t          r[VIDEO_LADDER_MAX];
    video_ladder_chunk_t  cj = { "original", "out", 7, 90, 0, 29.97, 4,
                                 "veryfast", 1, 0, -1, 30 };

    n = video_ladder_select(720, 1280, r);
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);

    ck_assert(has_arg(argv, argc, "-copyts"));
    ck_assert(has_arg(argv, argc, "-noautorotate"));
    ck_assert_str_eq(arg_after(argv, argc, "-f"), "nut");
    ck_assert_str_eq(arg_after(argv, argc, "-fps_mode"), "passthrough");
    ck_assert_str_eq(arg_after(argv, argc, "-enc_time_base:v"), "1:90000");
    ck_assert_str_eq(arg_after(argv, argc, "-force_key_frames"),
                     "expr:gte(t,n_forced*4)");
    ck_assert_str_eq(arg_after(argv, argc, "-crf:v:0"), "23");
    ck_assert_str_eq(arg_after(argv, argc, "-hls_segment_filename"),
                     "out/%v/c00007_%03d.ts");

    /* one thread: the decoder's (said before the input, so the first
       "-threads"), the filters' and the encoders' */

    ck_assert_str_eq(arg_after(argv, argc, "-filter_complex_threads"), "1");
    ck_assert_str_eq(arg_after(argv, argc, "-threads"), "1");
    ck_assert_int_lt(arg_index(argv, argc, "-threads"),
                     arg_index(argv, argc, "-i"));
    ck_assert_int_gt(arg_index(argv, argc, "-c:v"),
                     arg_index(argv, argc, "-i"));
    ck_assert_str_eq(argv[arg_index(argv, argc, "-c:v") - 1], "1");

    /* shifted back by the split's offset less the output's zero, turned
       by the probe's rotation; no thumbnail from this piece */

    graph = arg_after(argv, argc, "-filter_complex");
    ck_assert_ptr_nonnull(strstr(graph, "setpts=PTS-9/TB,transpose=clock,"));
    ck_assert_ptr_nonnull(strstr(graph, "[t]nullsink"));
    ck_assert(!has_arg(argv, argc, "out/thumbnail.jpg"));
    ck_assert(!has_arg(argv, argc, "-c:a"));

    /* the piece with the thumbnail's time */

    cj.thumb = 5;
    cj.rotation = 0;
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    graph = arg_after(argv, argc, "-filter_complex");
    ck_assert_ptr_nonnull(strstr(graph, "select='gte(t\\,6.000)'"));
    ck_assert_ptr_null(strstr(graph, "transpose"));
    ck_assert(has_arg(argv, argc, "out/thumbnail.jpg"));

    /* threads 0: ffmpeg's own choice everywhere */

    cj.threads = 0;
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert(!has_arg(argv, argc, "-threads"));
    ck_assert(!has_arg(argv, argc, "-filter_complex_threads"));

    /*
     * B-frames (x264's) but in a video shorter than a second, whose
     * first picture must be at its first decode time; an unknown
     * duration keeps them
     */

    ck_assert(!has_arg(argv, argc, "-bf"));
    cj.duration = 0.2;
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    ck_assert_str_eq(arg_after(argv, argc, "-bf"), "0");
    ck_assert_int_gt(arg_index(argv, argc, "-bf"),
                     arg_index(argv, argc, "-c:v"));
    cj.duration = 1;
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    ck_assert(!has_arg(argv, argc, "-bf"));
    cj.duration = 0;
    argc = video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf));
    ck_assert(!has_arg(argv, argc, "-bf"));

    cj.chunk = -1;
    ck_assert_int_eq(video_ladder_chunk(&cj, r, n, argv, buf, sizeof(buf)),
                     -1);
    cj.chunk = 1;
    ck_assert_int_eq(video_ladder_chunk(&cj, r, n, argv, buf, 200), -1);
}
END_TEST


START_TEST(the_audio_is_one_run_with_a_growing_playlist)
{
    int                   argc;
    char                 *argv[VIDEO_LADDER_ARGS_MAX];
    video_ladder_audio_t  aj = { "original", "out", 4, 128, 0 };

    argc = video_ladder_audio(&aj, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_str_eq(arg_after(argv, argc, "-f"), "nut");
    ck_assert_str_eq(arg_after(argv, argc, "-af"), "asetpts=PTS-9/TB");
    ck_assert_str_eq(arg_after(argv, argc, "-b:a"), "128k");
    ck_assert_str_eq(arg_after(argv, argc, "-hls_playlist_type"), "event");
    ck_assert_str_eq(arg_after(argv, argc, "-stats_period"), "0.1");
    ck_assert_str_eq(argv[argc - 1], "out/audio.m3u8");
    ck_assert(!has_arg(argv, argc, "-itsoffset"));

    /* copied: no filter, no encoder; moved back on the input */

    aj.copy = 1;
    argc = video_ladder_audio(&aj, argv, buf, sizeof(buf));
    ck_assert_int_gt(argc, 0);
    ck_assert_str_eq(arg_after(argv, argc, "-itsoffset"), "-9");
    ck_assert_int_lt(arg_index(argv, argc, "-itsoffset"),
                     arg_index(argv, argc, "-i"));
    ck_assert_str_eq(arg_after(argv, argc, "-c:a"), "copy");
    ck_assert(!has_arg(argv, argc, "-af"));
    ck_assert(!has_arg(argv, argc, "-b:a"));
    ck_assert(!has_arg(argv, argc, "aac"));
    ck_assert_str_eq(arg_after(argv, argc, "-hls_playlist_type"), "event");
    ck_assert_str_eq(argv[argc - 1], "out/audio.m3u8");
}
END_TEST


START_TEST(a_run_playlist_lists_its_own_segments_only)
{
    double  d[4];

    static const char  chunk[] =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:4.004000,\nc00003_000.ts\n"
        "#EXTINF:1.5,\r\nc00003_001.ts\r\n#EXT-X-ENDLIST\n";

    ck_assert_int_eq(video_ladder_segments(chunk, sizeof(chunk) - 1, 3, d, 4),
                     2);
    ck_assert(d[0] > 4.0039 && d[0] < 4.0041 && d[1] == 1.5);

    /* another chunk's name, a path, a missing duration, too many */

    ck_assert_int_eq(video_ladder_segments(chunk, sizeof(chunk) - 1, 4, d, 4),
                     -1);
    ck_assert_int_eq(video_ladder_segments("#EXTINF:4,\n../c00003_000.ts\n",
                                           28, 3, d, 4), -1);
    ck_assert_int_eq(video_ladder_segments("c00003_000.ts\n", 14, 3, d, 4),
                     -1);
    ck_assert_int_eq(video_ladder_segments("#EXTINF:4,\n", 11, 3, d, 4), -1);
    ck_assert_int_eq(video_ladder_segments("#EXTINF:-4,\nc00003_000.ts\n",
                                           26, 3, d, 4), -1);
    ck_assert_int_eq(video_ladder_segments(chunk, sizeof(chunk) - 1, 3, d, 1),
                     -1);

    /* the audio's */

    ck_assert_int_eq(video_ladder_segments("#EXTINF:4.010667,\na_00000.ts\n",
                                           29, -1, d, 4), 1);
}
END_TEST


START_TEST(the_master_names_the_audio_group)
{
    int           n, len;
    char          out[4096];
    video_rung_t  r[VIDEO_LADDER_MAX];

    n = video_ladder_select(1280, 720, r);
    len = video_ladder_master_group(r, n, 1, 128, 30, out, sizeof(out));
    ck_assert_int_gt(len, 0);
    ck_assert_ptr_nonnull(strstr(out,
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"Audio\","
        "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\","
        "URI=\"audio/playlist.m3u8\"\n"));

    /* 720p: its video ceiling plus the audio's rate, naming the group */

    ck_assert_ptr_nonnull(strstr(out,
        "#EXT-X-STREAM-INF:BANDWIDTH=3124000,AVERAGE-BANDWIDTH=2928000,"
        "RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\","
        "FRAME-RATE=30.000,AUDIO=\"audio\"\n720p/playlist.m3u8\n"));

    /* no audio: no group */

    len = video_ladder_master_group(r, n, 0, 128, 30, out, sizeof(out));
    ck_assert_int_gt(len, 0);
    ck_assert_ptr_null(strstr(out, "AUDIO"));
    ck_assert_ptr_null(strstr(out, "mp4a"));

    ck_assert_int_eq(video_ladder_master_group(r, n, 1, 0, 30, out,
                                               sizeof(out)), -1);
    ck_assert_int_eq(video_ladder_master_group(r, n, 1, 128, 30, out, 100),
                     -1);
}
END_TEST


START_TEST(chunk_jobs_are_checked)
{
    const char   *err;
    video_job_t   job;

    static const char  ok[] =
        "{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":12}";
    static const char  audio[] =
        "{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":-1}";

    ck_assert_int_eq(video_job_parse(ok, sizeof(ok) - 1, &job, &err), 0);
    ck_assert_int_eq(job.type, VIDEO_JOB_CHUNK);
    ck_assert_int_eq(job.chunk, 12);
    ck_assert_int_eq(video_job_parse(audio, sizeof(audio) - 1, &job, &err),
                     0);
    ck_assert_int_eq(job.chunk, -1);

#define BAD(s)                                                               \
    err = NULL;                                                              \
    ck_assert_int_eq(video_job_parse(s, sizeof(s) - 1, &job, &err), -1);     \
    ck_assert_ptr_nonnull(err)

    BAD("{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\"}");
    BAD("{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":-2}");
    BAD("{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":20000}");
    BAD("{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":\"1\"}");
    BAD("{\"type\":\"chunk\",\"videoId\":\"abcdefghijklmnopqrstu\","
        "\"chunk\":1.5}");
    BAD("{\"type\":\"chunk\",\"videoId\":\"../etc\",\"chunk\":1}");

#undef BAD
}
END_TEST


Suite *
unit_chunk_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("chunk");
    tc = tcase_create("core");

    tcase_add_test(tc, the_split_cuts_short_pieces_first_then_every_chunk);
    tcase_add_test(tc, the_pieces_are_read_back_on_the_original_timeline);
    tcase_add_test(tc, later_pieces_have_lower_priorities);
    tcase_add_test(tc, the_first_chunk_takes_every_core);
    tcase_add_test(tc, a_piece_is_encoded_on_the_shared_timeline);
    tcase_add_test(tc, the_audio_is_one_run_with_a_growing_playlist);
    tcase_add_test(tc, a_run_playlist_lists_its_own_segments_only);
    tcase_add_test(tc, the_master_names_the_audio_group);
    tcase_add_test(tc, chunk_jobs_are_checked);
    suite_add_tcase(s, tc);

    return s;
}
