# A video transcoded in chunks by two workers plays through every chunk
# boundary while it is still transcoded, in headless Chromium
# (t/web/chunks.mjs, playwright-core) and Firefox ESR
# (t/web/chunks-firefox.mjs, puppeteer-core over WebDriver BiDi), through
# the watch page of www/ and its hls.js, on real output: an nginx serving
# the page, the API and /play/ from the local object store, the relay
# and two transcode workers in chunk mode (the default pieces: 1 s, then
# 2 s for the first minute; one encoder thread each).  A 24 s source (854x480,
# 29.97 fps with B-frames, a keyframe a second, a sine) is uploaded once
# per browser; the page is opened while it is PROCESSING, its player
# attaches once the video is playable, and it plays from 0 through the
# growing EVENT playlists (the rungs' MPEG-TS segments c<chunk>_<k>.ts,
# the audio a rendition of its own) at normal speed, then at twice that
# once the playlist has ended, to the end.  What each browser checks is
# in t/web/chunks-common.mjs: currentTime crosses each chunk boundary of
# video_chunks while playing; no error event, no hls.js fatal error, no
# seek, no waiting and no stall but for the transcoder (the player at the
# end of the growing playlist while the next chunk was not done); the
# audio track buffered to the end and heard; the video ends.  The player
# attaches only if the API's video says playableAt while PROCESSING: the
# worker that makes the video playable puts it in the cache.
#
# hls.js is served at the URL the page imports it from as
# t/web/hls-spy.mjs, which imports the real one from /vendor/hls.js/real/
# and only listens to its events for the scripts.
#
# Each script line {"ok", "name", "diag"} becomes an ok() here.
# Screenshots go to t/servroot-chunks/artifacts/.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO};
need_browsers(qw(firefox playwright-core puppeteer-core hls.js));

my ($dir, $port, $store, $endpoint, $data) = suite_places('chunks', 131);
my $artifacts = "$dir/artifacts";
my $spy = "$ENV{PWD}/t/web/hls-spy.mjs";
my $duration = 24;
my @workers;

END {
    kill 'TERM', @workers;
    nginx_stop($dir) if $dir;
}

media_reset($dir, $data);
mkdir $artifacts;

# -- nginx: the page, the API, /play/ and the store ------------------------------

nginx_start($dir, $port, media_conf($port, $store, $data), <<"SERVER");
${\ media_locations($data, $endpoint)}
${\ page_locations(page_csp($endpoint), hls => '/vendor/hls.js/real/')}
        location = /vendor/hls.js/hls.min.mjs {
            alias $spy;
            default_type application/javascript;
        }
SERVER

wait_for(15, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die('nginx is not healthy: ' . join(' ', http_request($port, 'GET', '/health')));

# two transcoders of one encoder thread each, pieces of 1 s then 2 s
my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_CHUNK_SECONDS => 4,
                     VIDEO_WORKER_ENCODER_THREADS => 1);
push @workers, worker_start($dir, $_, %env) for qw(relay transcode transcode);

# -- the source ------------------------------------------------------------------

my $src = "$dir/source.mp4";
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30000/1001',
       '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
       '-t', $duration, '-c:v', 'libx264', '-preset', 'ultrafast',
       '-bf', '2', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
       '-c:a', 'aac', '-shortest', $src) == 0
    or BAIL_OUT('ffmpeg could not make the source');

# -- the browsers ------------------------------------------------------------------

my %browser_env = (
    BASE_URL => "http://127.0.0.1:$port",
    API_KEY => api_key(),
    ARTIFACTS => $artifacts,
    SOURCE_DURATION => $duration,
    PG_CONNINFO => $ENV{TEST_NGINX_PG_CONNINFO},
);

# uploads the source, then runs one browser script on it (browser_suite),
# then looks at what the workers made of it
sub chunks_suite {
    my ($script, $name, $deadline, $least) = @_;
    my $id = upload_video($port, $src, "In chunks, $name");
    browser_suite($script, deadline => $deadline, least => $least,
                  env => {%browser_env, VIDEO_ID => $id}, artifacts => $artifacts);

    # what the workers made of it
    ok wait_for(30, sub { video_column($id, 'status') =~ /^(READY|FAILED)$/ }),
       "$name: the video is done";
    is video_column($id, 'status'), 'READY', "$name: READY"
        or diag(video_column($id, 'processing_error'));
    my $chunks = psql("SELECT count(*) FROM video_chunks WHERE video_id = '$id'"
                      . " AND n >= 0");
    cmp_ok $chunks, '>=', 5, "$name: transcoded in $chunks chunks";
    my %pids;
    for (split /\n/, read_worker_log($dir, 'transcode')) {
        $pids{$1} = 1 if /\[(\d+)\].*transcoding video \Q$id\E, chunk/;
    }
    is scalar(keys %pids), 2, "$name: by both workers";
    like read_worker_log($dir, 'transcode'), qr/video \Q$id\E is playable/,
         "$name: a worker said when it became playable";
}

chunks_suite('t/web/chunks.mjs', 'chromium', 100, 20);
chunks_suite('t/web/chunks-firefox.mjs', 'firefox', 100, 20);

my $logs = join '', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob "$dir/logs/*.log";
unlike $logs, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed nginx worker';

done_testing();
