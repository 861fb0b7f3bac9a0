# A video transcoded in chunks plays while it is still PROCESSING: /play/
# answers its playlists from PostgreSQL (video_hls_file(), rendered from
# the chunks done so far), EVENT playlists that grow as chunks are marked
# done and end once all are, cached for a second; its segments come from
# storage.  The access rules are /play/'s (a private video needs its
# token).  A READY video's playlists, and those of a video with no chunk
# state, still come from storage.  The video object and its progress say
# since when it plays ("playableAt").  Run twice: the media location
# serving the local store's files, and proxying to storage.
#
# memcheck: yes (scripts/test.sh runs it again with nginx under valgrind)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

my $dir = "$ENV{PWD}/t/servroot-hls";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 38;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $base = "http://127.0.0.1:$port/play/";

my $pub = 'hlsPUBAAAAAAAAAAAAAAA';     # PUBLIC, transcoding in chunks
my $priv = 'hlsPRIVAAAAAAAAAAAAAA';    # PRIVATE, transcoding in chunks
my $other = 'hlsOTHERAAAAAAAAAAAAA';   # PRIVATE, another video
my $ready = 'hlsREADYAAAAAAAAAAAAA';   # PUBLIC, READY: storage's playlists
my $single = 'hlsSINGLEAAAAAAAAAAAA';  # PUBLIC, PROCESSING in one run
my $fresh = 'hlsFRESHAAAAAAAAAAAAA';   # PUBLIC, PROCESSING, not playable
my $failed = 'hlsFAILEDAAAAAAAAAAAA';  # PUBLIC, FAILED after it played

END { nginx_stop($dir) if $dir; }

system('rm', '-rf', $dir);
mkdir $dir;

my $master = join '', map { "$_\n" }
    '#EXTM3U', '#EXT-X-VERSION:3',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,'
        . 'AUTOSELECT=YES,URI="audio/playlist.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,AUDIO="aud"',
    '720p/playlist.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO="aud"',
    '360p/playlist.m3u8';

sub put_file {
    my ($path, $text) = @_;
    (my $d = $path) =~ s{/[^/]+$}{};
    system('mkdir', '-p', $d) == 0 or die;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

sub install {
    system('rm', '-rf', $data);
    mkdir $data;
    mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
    my $p = "$data/videos-processed";
    # segments are ordinary objects, whatever state the video is in
    put_file("$p/$pub/720p/c00000_000.ts", "\x47SEGMENT-720-0-0");
    put_file("$p/$pub/audio/a_00000.ts", "\x47AUDIO-0");
    # a READY video's final playlists, in storage: not what PostgreSQL
    # would render for it
    put_file("$p/$ready/master.m3u8", "#EXTM3U\n# FROM-STORAGE master\n");
    put_file("$p/$ready/720p/playlist.m3u8",
             "#EXTM3U\n# FROM-STORAGE 720p\n#EXT-X-ENDLIST\n");
    # a video transcoded in one run: no chunk state, its playlist in
    # storage already
    put_file("$p/$single/master.m3u8", "#EXTM3U\n# SINGLE-RUN master\n");
    put_file("$data/videos-raw/$pub/original.mp4", "RAW-ORIGINAL");
    system('chmod', '-R', 'a+rX', $dir);
}

sub redis {
    my @args = @_;
    my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @args};
    die "redis-cli @args failed" if $?;
    return $out;
}

# a video being transcoded in 3 chunks of 4 s to 720p and 360p: the first
# chunk done (two segments of 2 s), the audio's first two segments
# uploaded
sub seed_hls {
    my ($id) = @_;
    (my $m = $master) =~ s/'/''/g;
    psql(qq{INSERT INTO video_hls (video_id, master, rungs, has_audio, target,
            chunks) VALUES ('$id', '$m', '{720p,360p}', true, 2, 3)});
    psql(qq{INSERT INTO video_chunks (video_id, n, start_s, end_s, durations,
            done_at) VALUES
            ('$id', -1, 0, 12, '{2,2}', NULL),
            ('$id', 0, 0, 4, '{2,2}', now()),
            ('$id', 1, 4, 8, '{}', NULL),
            ('$id', 2, 8, 12, '{}', NULL)});
}

sub seed {
    psql('TRUNCATE videos, outbox CASCADE');
    redis('DEL', map { "video:$_" } $pub, $priv, $other, $ready, $single,
          $fresh, $failed);
    my %common = (title => 'Chunked', video_type => 'VOD', duration => 12);
    for my $v ([$pub, 'PUBLIC'], [$priv, 'PRIVATE'], [$other, 'PRIVATE']) {
        seed_video(id => $v->[0], visibility => $v->[1], status => 'PROCESSING',
                   hls_manifest_key => "$v->[0]/master.m3u8",
                   transcoding_progress => 33, %common);
        psql("UPDATE videos SET playable_at = now() WHERE id = '$v->[0]'");
        seed_hls($v->[0]);
    }
    seed_video(id => $ready, visibility => 'PUBLIC', status => 'READY',
               hls_manifest_key => "$ready/master.m3u8",
               transcoding_progress => 100, %common);
    psql("UPDATE videos SET playable_at = now() WHERE id = '$ready'");
    # the worker may leave the chunk state of a video it made READY
    seed_hls($ready);
    seed_video(id => $single, visibility => 'PUBLIC', status => 'PROCESSING',
               hls_manifest_key => "$single/master.m3u8", %common);
    seed_video(id => $fresh, visibility => 'PUBLIC', status => 'PROCESSING',
               transcoding_progress => 5, %common);
    # a chunk failed for good: its chunk state stays, nothing grows
    seed_video(id => $failed, visibility => 'PUBLIC', status => 'FAILED',
               hls_manifest_key => "$failed/master.m3u8", %common);
    psql("UPDATE videos SET playable_at = now() WHERE id = '$failed'");
    seed_hls($failed);
}

sub header {
    my ($h, $name) = @_;
    my @v = $h =~ /^\Q$name\E: (.*?)\r?$/mgi;
    return join ', ', @v;
}

sub field {
    my ($json, $name) = @_;
    my ($v) = $json =~ /"$name" ?: ?("[^"]*"|null)/;
    $v =~ s/^"|"$//g if defined $v;
    return $v;
}

my $time = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

my %mode = (
    local => <<'LOC',
            alias $DATA/;
            error_page 404 = @media_not_found;
LOC
    proxy => <<'LOC',
            proxy_pass $ENDPOINT/;
            proxy_pass_request_headers off;
            proxy_set_header Range $http_range;
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_intercept_errors on;
            error_page 404 = @media_not_found;
LOC
);

for my $mode (qw(local proxy)) {
    (my $media = $mode{$mode}) =~ s/\$DATA/$data/g;
    $media =~ s/\$ENDPOINT/$endpoint/g;

    nginx_stop($dir);
    install();
    seed();

    nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '1m')}
CONF
        location /play/ { video_api play; }
        location /_video_api/media/ {
            internal;
$media
        }
        location \@media_not_found {
            default_type application/json;
            return 404 '{"success":false,"error":{"message":"File not found","status":404,"code":"NOT_FOUND"}}';
        }
SERVER

    # the pool's first connections (slow under valgrind)
    wait_for(30, sub { (curl("http://127.0.0.1:$port/health"))[0] == 200 })
        or diag 'the API did not become ready';

    # -- the video object says it plays --------------------------------------

    my ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$pub");
    is $s, 200, "$mode: GET the video being transcoded";
    is field($b, 'status'), 'PROCESSING', "$mode: PROCESSING";
    like field($b, 'playableAt'), $time, "$mode: with playableAt";
    is field($b, 'playbackUrl'), "$base$pub/master.m3u8", "$mode: and its play URL";
    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$pub/progress");
    is $s, 200, "$mode: its progress";
    like field($b, 'playableAt'), $time, "$mode: says playableAt too";

    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$fresh");
    is field($b, 'playableAt'), 'null', "$mode: a video not yet playable: playableAt null";
    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$fresh/progress");
    is field($b, 'playableAt'), 'null', "$mode: in its progress too";
    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$ready");
    like field($b, 'playableAt'), $time, "$mode: a READY video has it";
    ($s, $b) = curl("http://127.0.0.1:$port/api/videos?limit=100");
    my $n = () = $b =~ /"playableAt"/g;
    is $n, 7, "$mode: every video of the list has the field";

    # -- its playlists, from PostgreSQL ---------------------------------------

    my $h;
    ($s, $b, $h) = curl('-H', 'Origin: http://player.example.com',
                        "$base$pub/master.m3u8");
    is $s, 200, "$mode: the master playlist of a PROCESSING video";
    is $b, $master, "$mode: the one the worker wrote";
    like header($h, 'Content-Type'), qr{^application/vnd\.apple\.mpegurl$}, "$mode: as an HLS playlist";
    is header($h, 'Cache-Control'), 'public, max-age=1', "$mode: cached for a second";
    is header($h, 'Access-Control-Allow-Origin'), '*', "$mode: readable by players on other origins";
    is header($h, 'Content-Length'), length($master), "$mode: with its length";

    ($s, $b, $h) = curl("$base$pub/720p/playlist.m3u8");
    is $s, 200, "$mode: a rung's playlist";
    like $b, qr/\A#EXTM3U\n/, "$mode: an HLS playlist";
    like $b, qr/^#EXT-X-PLAYLIST-TYPE:EVENT$/m, "$mode: of type EVENT";
    like $b, qr/^#EXT-X-TARGETDURATION:2$/m, "$mode: with the target duration";
    is join(' ', $b =~ /^(c\d+_\d+\.ts)$/mg), 'c00000_000.ts c00000_001.ts',
       "$mode: listing the first chunk's segments";
    unlike $b, qr/ENDLIST/, "$mode: not ended";
    is header($h, 'Cache-Control'), 'public, max-age=1', "$mode: cached for a second";

    ($s, $b) = curl("$base$pub/audio/playlist.m3u8");
    is $s, 200, "$mode: the audio playlist";
    is join(' ', $b =~ /^(a_\d+\.ts)$/mg), 'a_00000.ts a_00001.ts', "$mode: its segments so far";
    unlike $b, qr/ENDLIST/, "$mode: not ended";

    ($s, undef, $h) = curl('-I', "$base$pub/720p/playlist.m3u8");
    is $s, 200, "$mode: HEAD of a growing playlist";
    like header($h, 'Content-Length'), qr/^\d+$/, "$mode: gives its length";

    # segments are storage's, immutable
    ($s, $b, $h) = curl("$base$pub/720p/c00000_000.ts");
    is $s, 200, "$mode: a segment, from storage";
    is $b, "\x47SEGMENT-720-0-0", "$mode: all of it";
    is header($h, 'Cache-Control'), 'public, max-age=31536000, immutable', "$mode: immutable, a year";
    ($s, $b) = curl("$base$pub/720p/c00001_000.ts");
    is $s, 404, "$mode: a segment not uploaded yet: 404";
    like $b, qr/"code":"NOT_FOUND"/, "$mode: as JSON";

    # -- the playlists grow -----------------------------------------------------

    psql(qq{UPDATE video_chunks SET durations = '{2,1.5}', done_at = now()
            WHERE video_id = '$pub' AND n = 2});
    ($s, $b) = curl("$base$pub/720p/playlist.m3u8");
    is join(' ', $b =~ /^(c\d+_\d+\.ts)$/mg), 'c00000_000.ts c00000_001.ts',
       "$mode: a later chunk done: the picture still stops at the first not done";

    psql(qq{UPDATE video_chunks SET durations = '{2,2}', done_at = now()
            WHERE video_id = '$pub' AND n = 1});
    ($s, $b, $h) = curl("$base$pub/720p/playlist.m3u8");
    is $s, 200, "$mode: the rung's playlist again";
    is join(' ', $b =~ /^(c\d+_\d+\.ts)$/mg),
       'c00000_000.ts c00000_001.ts c00001_000.ts c00001_001.ts c00002_000.ts c00002_001.ts',
       "$mode: grown by the chunks done";
    like $b, qr/^#EXTINF:1\.500000,\nc00002_001\.ts$/m, "$mode: with their durations";
    like $b, qr/#EXT-X-ENDLIST\n\z/, "$mode: ended once every chunk is done";
    ($s, $b) = curl("$base$pub/360p/playlist.m3u8");
    like $b, qr/#EXT-X-ENDLIST\n\z/, "$mode: every rung's";
    ($s, $b) = curl("$base$pub/audio/playlist.m3u8");
    unlike $b, qr/ENDLIST/, "$mode: the audio's not, until it is done";
    psql(qq{UPDATE video_chunks SET durations = '{2,2,2,2,2,2}', done_at = now()
            WHERE video_id = '$pub' AND n = -1});
    ($s, $b) = curl("$base$pub/audio/playlist.m3u8");
    is scalar(() = $b =~ /^a_\d+\.ts$/mg), 6, "$mode: the audio's segments, all";
    like $b, qr/#EXT-X-ENDLIST\n\z/, "$mode: and ended";

    # -- what PostgreSQL has no playlist for: storage, as before -------------

    for my $path ('1080p/playlist.m3u8', '720P/playlist.m3u8',
                  'MASTER.M3U8', 'Master.m3u8', 'abcdefghi/playlist.m3u8',
                  '720p/other.m3u8', '720p/sub/playlist.m3u8')
    {
        ($s, $b, $h) = curl("$base$pub/$path");
        is $s, 404, "$mode: $path, no such playlist: 404";
        like $b, qr/\A\{"success":false,.*"code":"NOT_FOUND"/, "$mode: $path: as JSON";
        is header($h, 'Cache-Control'), 'no-store', "$mode: $path: not cached";
    }

    ($s, $b, $h) = curl("$base$ready/master.m3u8");
    is $s, 200, "$mode: a READY video's master playlist";
    is $b, "#EXTM3U\n# FROM-STORAGE master\n", "$mode: from storage, whatever chunk state is left";
    is header($h, 'Cache-Control'), 'public, max-age=300', "$mode: cached as a final playlist";
    ($s, $b) = curl("$base$ready/720p/playlist.m3u8");
    is $b, "#EXTM3U\n# FROM-STORAGE 720p\n#EXT-X-ENDLIST\n", "$mode: its rungs' too";
    ($s, $b) = curl("$base$ready/360p/playlist.m3u8");
    is $s, 404, "$mode: and what storage lacks is missing, though PostgreSQL could render it";

    ($s, $b, $h) = curl("$base$single/master.m3u8");
    is $s, 200, "$mode: a PROCESSING video with no chunk state";
    is $b, "#EXTM3U\n# SINGLE-RUN master\n", "$mode: plays from storage";
    is header($h, 'Cache-Control'), 'public, max-age=300', "$mode: as before";
    ($s, $b) = curl("$base$fresh/master.m3u8");
    is $s, 404, "$mode: a video not playable yet: 404";
    like $b, qr/"code":"NOT_FOUND"/, "$mode: as JSON";
    ($s, $b) = curl("$base$failed/720p/playlist.m3u8");
    is $s, 404, "$mode: a FAILED video's playlist: storage's, none";
    like $b, qr/"code":"NOT_FOUND"/, "$mode: as JSON, though its chunk state is left";

    # -- a private video needs its token --------------------------------------

    ($s, $b) = curl("$base$priv/master.m3u8");
    is $s, 403, "$mode: the private video's playlist without a token: 403";
    like $b, qr/is private.*"code":"FORBIDDEN"/, "$mode: saying it is private";
    unlike $b, qr/#EXTM3U/, "$mode: nothing of it";
    ($s, $b) = curl("$base$priv/720p/playlist.m3u8");
    is $s, 403, "$mode: nor its rungs'";

    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$priv");
    my ($tok) = (field($b, 'playbackUrl') // '') =~ m{^\Q$base$priv\E/(\d+-[A-Za-z0-9_-]{45})/master\.m3u8$};
    ok $tok, "$mode: its play URL carries a token";
    ($s, $b) = curl("http://127.0.0.1:$port/api/videos/$other");
    my ($otok) = (field($b, 'playbackUrl') // '') =~ m{/(\d+-[A-Za-z0-9_-]{45})/master\.m3u8$};
    ok $otok, "$mode: and another video's its own";

    ($s, $b) = curl("$base$priv/$otok/master.m3u8");
    is $s, 403, "$mode: another video's token: 403";
    like $b, qr/Invalid playback token.*"code":"FORBIDDEN"/, "$mode: invalid";
    unlike $b, qr/#EXTM3U/, "$mode: nothing of it";
    (my $tampered = $tok) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;
    ($s) = curl("$base$priv/$tampered/720p/playlist.m3u8");
    is $s, 403, "$mode: a tampered token: 403";

    ($s, $b, $h) = curl("$base$priv/$tok/master.m3u8");
    is $s, 200, "$mode: its token opens the master playlist";
    is $b, $master, "$mode: from PostgreSQL";
    is header($h, 'Cache-Control'), 'private, max-age=1', "$mode: the viewer's alone, for a second";
    ($s, $b, $h) = curl("$base$priv/$tok/720p/playlist.m3u8");
    is $s, 200, "$mode: and a rung's";
    like $b, qr/^c00000_001\.ts$/m, "$mode: relative segment URIs keep the token";
    is header($h, 'Cache-Control'), 'private, max-age=1', "$mode: private";
    ($s, $b) = curl("$base$priv/$tok/1080p/playlist.m3u8");
    is $s, 404, "$mode: with the token, a rung not in the ladder: 404";

    psql("UPDATE videos SET visibility = 'UNLISTED' WHERE id = '$other'");
    redis('DEL', "video:$other");
    ($s, $b, $h) = curl("$base$other/master.m3u8");
    is $s, 200, "$mode: an UNLISTED video plays without a token";
    is header($h, 'Cache-Control'), 'private, max-age=1', "$mode: not in shared caches";

    # -- hostile paths ------------------------------------------------------

    # nginx resolves dot segments, escapes and doubled slashes (and the
    # router a trailing slash) before any route: a trick is answered as
    # the path it spells, never with anything beside it
    my %canon = ("$pub/master.m3u8" => [ "$pub/720p/../master.m3u8",
                                         "$pub/720p/%2e%2e/master.m3u8",
                                         "$pub/..%2f$pub/master.m3u8",
                                         "$pub/720p/..%2Fmaster.m3u8",
                                         "$pub/./master.m3u8" ],
                 "$pub/720p/playlist.m3u8" => [ "$pub/720p//playlist.m3u8",
                                                "$pub/720p%2fplaylist.m3u8",
                                                "$pub/audio/../720p/playlist.m3u8",
                                                "$pub/720p/playlist.m3u8/" ]);
    for my $c (sort keys %canon) {
        my ($cs, $cb) = curl("$base$c");
        is $cs, 200, "$mode: $c";
        for my $path (@{ $canon{$c} }) {
            ($s, $b) = curl("$base$path");
            is "$s $b", "$cs $cb", "$mode: $path is $c";
        }
    }

    # into another video: its own rules
    ($s, $b) = curl("$base$pub/720p/../../$priv/master.m3u8");
    is $s, 403, "$mode: dot segments into a private video: 403";
    like $b, qr/is private.*"code":"FORBIDDEN"/, "$mode: it is private";
    ($s, $b) = curl("$base$pub/720p/..%2f..%2f$priv%2f720p%2fplaylist.m3u8");
    is $s, 403, "$mode: escaped, too";

    # out of /play/: no route, nothing served
    ($s, $b) = curl("$base$pub/..%2F..%2Fvideos-raw%2F$pub%2Foriginal.mp4");
    is $s, 404, "$mode: escaped out of /play/: 404";
    unlike $b, qr/RAW-ORIGINAL/, "$mode: not the original";
    ($s, $b) = curl("$base$pub/720p/playlist.m3u8%00.ts");
    is $s, 400, "$mode: a NUL: nginx refuses the request";
    unlike $b, qr/#EXTM3U/, "$mode: nothing of the playlist";

    # what reaches the route is checked before anything is asked of
    # PostgreSQL or storage
    my $long = ('a' x 600) . '/playlist.m3u8';
    for my $path ("$pub/.master.m3u8", "$pub/720p/.playlist.m3u8",
                  "$pub/%20master.m3u8", "$pub/720p'--/playlist.m3u8",
                  "$pub/720p%3Bselect/playlist.m3u8", "$pub/$long",
                  "$pub/720p/playlist", "$pub/a\\b.m3u8")
    {
        my $name = substr($path, 0, 60);
        ($s, $b, $h) = curl("$base$path");
        is $s, 404, "$mode: $name is refused";
        like $b, qr/\A\{"success":false,.*"code":"NOT_FOUND"/, "$mode: $name: as JSON";
        unlike $b, qr/#EXTM3U/, "$mode: $name: serving nothing";
        is header($h, 'Cache-Control'), 'no-store', "$mode: $name: not cached";
    }

    my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
    unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, "$mode: no alerts, no crashed worker";
}

# -- PostgreSQL unreachable: READY videos and segments play on ------------
# (the video from the Redis cache, its files from storage: no statement);
# a growing playlist, which only PostgreSQL has, is a quick 503

{
    (my $media = $mode{local}) =~ s/\$DATA/$data/g;
    my $dead = $port + 2;
    nginx_stop($dir);
    nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "host=127.0.0.1 port=$dead dbname=video user=video connect_timeout=1" pool=1 timeout=2s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    include /etc/nginx/mime.types;
CONF
        location /play/ { video_api play; }
        location /_video_api/media/ {
            internal;
$media
        }
        location \@media_not_found {
            default_type application/json;
            return 404 '{"success":false,"error":{"message":"File not found","status":404,"code":"NOT_FOUND"}}';
        }
SERVER

    like redis('EXISTS', "video:$ready", "video:$pub"), qr/^2$/, 'both videos are in the Redis cache';
    my ($s, $b, $h) = curl("$base$ready/master.m3u8");
    is $s, 200, 'PostgreSQL down: a READY video\'s playlist plays';
    is $b, "#EXTM3U\n# FROM-STORAGE master\n", 'from storage';
    ($s, $b) = curl("$base$pub/720p/c00000_000.ts");
    is $s, 200, 'and a PROCESSING video\'s segment';
    ($s, $b, $h) = curl("$base$pub/720p/playlist.m3u8");
    is $s, 503, 'its growing playlist: 503';
    like $b, qr/\A\{"success":false,.*"code":"UNAVAILABLE"/, 'as JSON';
    is header($h, 'Cache-Control'), 'no-store', 'not cached';
}

done_testing;
