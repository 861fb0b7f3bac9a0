# The page with a video that plays while it is still transcoded, in
# headless Chromium, driven by t/web/playable.mjs through playwright-core,
# then in Firefox ESR, driven by t/web/playable-firefox.mjs through
# puppeteer-core over WebDriver BiDi (the main flow, on a video of its
# own), against an nginx that serves the page, the API, /play/ and the local
# object store's files.  A video transcoded in chunks is PROCESSING with
# playableAt set once its start is transcoded; its master playlist is
# there and its media playlist is an EVENT playlist that grows, without
# EXT-X-ENDLIST until the video is READY.  Here the rows and the files
# are laid as the transcoder leaves them (an HLS of a 24 s clip made with
# ffmpeg, its playlist cut and grown by the script), so each state is
# reached when the script wants it:
#   - the library: "PROCESSING n%" and PLAYABLE on the playable card, not
#     on the others;
#   - watching: the player starts while the status shown is PROCESSING,
#     the progress shown follows the API's, the playlist growing plays
#     on past its first end, and READY shows without the player being
#     replaced or restarted (the same video element, one master playlist
#     request, the time going on);
#   - a PROCESSING video with playableAt null, and one with playableAt but
#     no playlist, do not play (no request under /play/ for them): they
#     show the transcoding progress as before;
#   - no console error and no uncaught exception.
# The store's playlists are answered with max-age=300, so each browser
# runs without an HTTP cache here to see the playlist grow (a growing
# playlist is served otherwise in production).
#
# Needs the API's video object to carry playableAt
# (conf/sql/0017_playable.sql); without it the playable video does not
# play and the suite fails, as it should.
#
# Each script line {"ok", "name", "diag"} becomes an ok() here.
# Screenshots go to t/servroot-playable/artifacts/.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO};
need_browsers(qw(firefox playwright-core puppeteer-core hls.js));

my ($dir, $port, $store, $endpoint, $data) = suite_places('playable', 98);
my $artifacts = "$dir/artifacts";

# playable while PROCESSING; PROCESSING with playableAt null (its files
# are there all the same, so a page that tried would play it); playableAt
# set but no playlist handed out; Firefox's, playable
my %id = (
    playable => 'pblPLAYABLEAAAAAAAAAA',
    firefox  => 'pblFIREFOXAAAAAAAAAAA',
    waiting  => 'pblWAITINGAAAAAAAAAAA',
    nokey    => 'pblNOKEYAAAAAAAAAAAAA',
);

END {
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $_ for $data, $artifacts, "$dir/hls";
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);

# -- the HLS a transcode in chunks serves: 2 s segments of a 24 s clip ------

my $hls = "$dir/hls";
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=24:size=426x240:rate=25',
       '-f', 'lavfi', '-i', 'sine=duration=24',
       '-map', '0:v', '-map', '1:a', '-pix_fmt', 'yuv420p',
       '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50',
       '-keyint_min', '50', '-sc_threshold', '0', '-c:a', 'aac',
       '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'event',
       '-master_pl_name', 'master.m3u8',
       '-hls_segment_filename', "$hls/%v/segment_%03d.ts",
       '-var_stream_map', 'v:0,a:0,name:240p', "$hls/%v/playlist.m3u8") == 0
    or die "ffmpeg (hls) failed";

# the whole playlist as ffmpeg ends it; the script writes the video's
# playlist from it, cut, grown, then ended
open my $pl, '<', "$hls/240p/playlist.m3u8" or die $!;
my $full = do { local $/; <$pl> };
close $pl;
like $full, qr/#EXT-X-PLAYLIST-TYPE:EVENT/, 'ffmpeg made an EVENT playlist';
my $segments = () = $full =~ /^#EXTINF:/mg;
cmp_ok $segments, '>=', 11, "of $segments segments";

for my $v (values %id) {
    system('mkdir', '-p', "$data/videos-processed/$v/240p") == 0 or die;
    system('cp', "$hls/master.m3u8", "$data/videos-processed/$v/") == 0
        or die;
    system("cp $hls/240p/*.ts $data/videos-processed/$v/240p/") == 0 or die;
}

open my $fh, '>', "$hls/full.m3u8" or die $!;
print $fh $full;
close $fh;

# the waiting video's playlist is whole: only playableAt keeps it from
# playing
system('cp', "$hls/full.m3u8",
       "$data/videos-processed/$id{waiting}/240p/playlist.m3u8") == 0 or die;
system('cp', "$hls/full.m3u8",
       "$data/videos-processed/$id{nokey}/240p/playlist.m3u8") == 0 or die;

# -- the rows ------------------------------------------------------------------

# the library holds this suite's videos only; lists and videos cached by
# other suites go with it
psql('SET client_min_messages = warning; TRUNCATE videos, outbox CASCADE');
system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");

seed_video(id => $id{playable}, title => 'Playable while transcoded',
           status => 'PROCESSING', visibility => 'PUBLIC',
           video_type => 'VOD', transcoding_progress => 40, duration => 24,
           hls_manifest_key => "$id{playable}/master.m3u8", age => 30);
seed_video(id => $id{firefox}, title => 'Playable in Firefox',
           status => 'PROCESSING', visibility => 'PUBLIC',
           video_type => 'VOD', transcoding_progress => 40, duration => 24,
           hls_manifest_key => "$id{firefox}/master.m3u8", age => 40);
psql("UPDATE videos SET playable_at = now() - interval '5 seconds',"
     . " processing_started_at = now() - interval '20 seconds'"
     . " WHERE id IN ('$id{playable}', '$id{firefox}')");
seed_video(id => $id{waiting}, title => 'Not playable yet',
           status => 'PROCESSING', visibility => 'PUBLIC',
           video_type => 'VOD', transcoding_progress => 10, duration => 24,
           hls_manifest_key => "$id{waiting}/master.m3u8", age => 20);
seed_video(id => $id{nokey}, title => 'Playable but no playlist',
           status => 'PROCESSING', visibility => 'PUBLIC',
           video_type => 'VOD', transcoding_progress => 20, duration => 24,
           age => 10);
psql("UPDATE videos SET playable_at = now() WHERE id = '$id{nokey}'");

# -- nginx ---------------------------------------------------------------------

my %key;
{
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    chomp($key{admin} = qx{build/video-worker keys create --account default --role admin --name web-playable 2>/dev/null});
    die 'no admin key made' unless $key{admin} =~ /^vapi_/;
}

system('chmod', '-R', 'a+rwX', $dir);

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    video_api_auth on;
    include /etc/nginx/mime.types;
CONF
${\ page_locations(page_csp($endpoint), hls => '/vendor/hls.js/')}
${\ media_locations($data, $endpoint, json_404 => 1)}
SERVER

wait_for(15, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die('nginx is not healthy: ' . join(' ', http_request($port, 'GET', '/health')));

# what the page reads: the API's video object with playableAt
my ($s, $body) = http_request($port, 'GET', "/api/videos/$id{playable}",
                              undef, "Authorization: Bearer $key{admin}\r\n");
like $body, qr/"playableAt"\s*:\s*"\d{4}-/,
     'the API gives the playable video its playableAt'
    or diag("GET /api/videos/$id{playable}: $s $body (needs conf/sql/0017_playable.sql)");

# -- the browser ---------------------------------------------------------------

my %browser_env = (
    BASE_URL => "http://127.0.0.1:$port",
    API_KEY => $key{admin},
    ARTIFACTS => $artifacts,
    PLAYABLE_ID => $id{playable},
    WAITING_ID => $id{waiting},
    NOKEY_ID => $id{nokey},
    FIREFOX_ID => $id{firefox},
    PLAYLIST => "$data/videos-processed/$id{playable}/240p/playlist.m3u8",
    FIREFOX_PLAYLIST => "$data/videos-processed/$id{firefox}/240p/playlist.m3u8",
    FULL_PLAYLIST => "$hls/full.m3u8",
    PG_CONNINFO => $ENV{TEST_NGINX_PG_CONNINFO},
    REDIS_PORT => $ENV{TEST_NGINX_REDIS_PORT},
);

browser_suite('t/web/playable.mjs', deadline => 120, least => 17,
              env => \%browser_env, artifacts => $artifacts);
browser_suite('t/web/playable-firefox.mjs', deadline => 90, least => 7,
              env => \%browser_env, artifacts => $artifacts);

my $logs = join '', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob "$dir/logs/*.log";
unlike $logs, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed nginx worker';

done_testing();
