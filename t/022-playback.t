# Signed playback: the API's play URLs of a private video carry a token
# that opens its master playlist, variant playlists, segments and thumbnail
# (ffmpeg plays the whole HLS ladder through them), and nothing else;
# public and unlisted videos play without one.  Run twice: with the media
# location serving the local store's files, and proxying to storage with
# the presigned request as it would to MinIO or S3.
#
# memcheck: yes (scripts/test.sh runs it again with nginx under valgrind)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Digest::SHA qw(hmac_sha256 hmac_sha256_base64);
use File::Temp ();

my $dir = "$ENV{PWD}/t/servroot-play";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 17;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $base = "http://127.0.0.1:$port/play/";

my $vid = 'plyAAAAAAAAAAAAAAAAAA';     # private, transcoded
my $other = 'plyBBBBBBBBBBBBBBBBBB';   # private, another video
my $ghost = 'plyZZZZZZZZZZZZZZZZZZ';   # no such video

END { nginx_stop($dir) if $dir; }

system('rm', '-rf', $dir);
mkdir $dir;

# -- an HLS ladder and a thumbnail, as the transcoder leaves them ----------

my $hls = "$dir/hls";
mkdir $hls;
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=4:size=320x240:rate=25',
       '-f', 'lavfi', '-i', 'sine=duration=4',
       '-map', '0:v', '-map', '1:a', '-pix_fmt', 'yuv420p',
       '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac',
       '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
       '-master_pl_name', 'master.m3u8',
       '-hls_segment_filename', "$hls/%v/segment_%03d.ts",
       '-var_stream_map', 'v:0,a:0,name:240p', "$hls/%v/playlist.m3u8") == 0
    or die "ffmpeg (hls) failed";
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=320x240', '-frames:v', '1', "$hls/thumbnail.jpg") == 0
    or die "ffmpeg (thumbnail) failed";

sub install {
    system('rm', '-rf', $data);
    mkdir $data;
    for my $b (qw(videos-raw videos-processed thumbnails)) {
        mkdir "$data/$b";
    }
    mkdir "$data/videos-processed/$vid";
    system('cp', '-r', "$hls/master.m3u8", "$hls/240p",
           "$data/videos-processed/$vid/") == 0 or die;
    mkdir "$data/thumbnails/$vid";
    system('cp', "$hls/thumbnail.jpg", "$data/thumbnails/$vid/") == 0 or die;
    # the original must never be reachable through /play/
    mkdir "$data/videos-raw/$vid";
    open my $fh, '>', "$data/videos-raw/$vid/original.mp4" or die;
    print $fh "RAW-ORIGINAL";
    close $fh;
    system('chmod', '-R', 'a+rX', $dir);
}

sub seed {
    psql('TRUNCATE videos, outbox CASCADE');
    # a deleted video leaves a tombstone in the cache
    redis('DEL', "video:$vid", "video:$other");
    for my $id ($vid, $other) {
        seed_video(id => $id, title => 'Playable', status => 'READY',
                   visibility => 'PRIVATE', video_type => 'VOD',
                   hls_manifest_key => "$id/master.m3u8",
                   thumbnail_key => "$id/thumbnail.jpg", duration => 4);
    }
    psql(qq{INSERT INTO video_variants (id, video_id, resolution, width, height,
            bitrate, playlist_key) VALUES ('varPLAYAAAAAAAAAA240', '$vid', '240p',
            320, 240, 400, '$vid/240p/playlist.m3u8')});
}

sub redis {
    my @args = @_;
    my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @args};
    die "redis-cli @args failed" if $?;
    return $out;
}

# a token made the way the module makes them: the key's id, then an
# HMAC of the video, the expiry and the video's token generation
sub token {
    my ($secret, $id, $expires, $gen) = @_;
    $gen //= psql("SELECT token_gen FROM videos WHERE id = '$id'");
    (my $kid = hmac_sha256_base64('video-api playback key id', $secret)) =~ tr{+/}{-_};
    (my $sig = hmac_sha256_base64("$id/$expires/$gen", $secret)) =~ tr{+/}{-_};
    return "$expires-" . substr($kid, 0, 2) . $sig;
}

sub get_video {
    my ($id, $headers) = @_;
    my ($s, $b, $h) = curl(@{ $headers // [] }, "http://127.0.0.1:$port/api/videos/$id");
    return ($s, $b, $h);
}

sub field {
    my ($json, $name) = @_;
    my ($v) = $json =~ /"$name" : "([^"]*)"/;
    return $v;
}

my %mode = (
    local => {
        # no secret configured: derived from the storage secret
        http => '',
        secret => hmac_sha256('video-api playback tokens', 'videoapi-secret'),
        media => <<'LOC',
            alias $DATA/;
            error_page 404 = @media_not_found;
LOC
    },
    proxy => {
        http => 'video_api_playback secret=configured-play-secret expires=2h;',
        secret => 'configured-play-secret',
        media => <<'LOC',
            proxy_pass $ENDPOINT/;
            proxy_pass_request_headers off;
            proxy_set_header Range $http_range;
            proxy_set_header If-Range $http_if_range;
            proxy_set_header If-None-Match $http_if_none_match;
            proxy_set_header If-Modified-Since $http_if_modified_since;
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_intercept_errors on;
            error_page 404 = @media_not_found;
LOC
    },
);

for my $mode (qw(local proxy)) {
    my $m = $mode{$mode};
    (my $media = $m->{media}) =~ s/\$DATA/$data/g;
    $media =~ s/\$ENDPOINT/$endpoint/g;

    nginx_stop($dir);
    install();
    seed();

    my $format = q{log_format redacted '$remote_addr "$video_api_request" $status';};
    nginx_start($dir, $port, <<"CONF", <<"SERVER", http_first => $format);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    $m->{http}
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '1m')}
CONF
        access_log $dir/logs/access.log redacted;
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

    # -- the URLs the API hands out ----------------------------------------

    my ($s, $b, $h) = get_video($vid);
    is $s, 200, "$mode: GET the private video";
    my $url = field($b, 'playbackUrl');
    my ($tok) = ($url // '') =~ m{^\Q$base$vid\E/(\d+-[A-Za-z0-9_-]{45})/master\.m3u8$};
    ok $tok, "$mode: its playbackUrl carries a token ($url)";
    my ($exp) = ($tok // '0-') =~ /^(\d+)-/;
    ok $exp >= time + ($mode eq 'local' ? 6 * 3600 : 2 * 3600) - 5,
       "$mode: valid for the configured lifetime";
    is $tok, token($m->{secret}, $vid, $exp), "$mode: an HMAC-SHA256 of id, expiry and generation";
    like $b, qr{"playlistKey" : "\Q$vid\E/240p/playlist.m3u8", "playbackUrl" : "\Q$base$vid/$tok\E/240p/playlist.m3u8"},
         "$mode: the variant's URL carries it too";
    is field($b, 'thumbnailUrl'), "$base$vid/$tok/thumbnail.jpg", "$mode: and the thumbnail's";

    my ($etag) = $h =~ /^ETag: (\S+)/mi;
    like $etag, qr{^"\d+\.$exp(/\d+\.\d+\.\d+)?"$}, "$mode: the ETag covers the token's expiry";
    ($s) = get_video($vid, ['-H', "If-None-Match: $etag"]);
    is $s, 304, "$mode: and revalidates";

    ($s, $b) = curl("http://127.0.0.1:$port/api/videos");
    like $b, qr{\Q$base$vid/$tok\E/master\.m3u8}, "$mode: the list signs the same way";
    like $b, qr{\Q$base$other\E/\d+-[A-Za-z0-9_-]{45}/master\.m3u8}, "$mode: each video with its own token";

    # -- playing them ------------------------------------------------------

    ($s, $b, $h) = curl($url);
    is $s, 200, "$mode: the master playlist";
    like $h, qr{^Content-Type: application/vnd\.apple\.mpegurl}mi, "$mode: as an HLS playlist";
    like $b, qr{\A#EXTM3U\n.*^240p/playlist\.m3u8$}sm, "$mode: naming its variant relatively";

    ($s, $b) = curl("$base$vid/$tok/240p/playlist.m3u8");
    is $s, 200, "$mode: the variant playlist, resolved against the master";
    my @segments = $b =~ /^(segment_\d+\.ts)$/mg;
    ok @segments >= 3, "$mode: lists the segments (@segments)";

    my $seg = "$base$vid/$tok/240p/$segments[0]";
    ($s, $b, $h) = curl($seg);
    is $s, 200, "$mode: a segment";
    like $h, qr{^Content-Type: video/mp2t}mi, "$mode: as MPEG-TS";
    is length($b), -s "$data/videos-processed/$vid/240p/$segments[0]", "$mode: all of it";
    is substr($b, 0, 1), "\x47", "$mode: starting with a TS sync byte";

    ($s, $b, $h) = curl('-H', 'Range: bytes=188-375', $seg);
    is $s, 206, "$mode: a range of a segment";
    is length($b), 188, "$mode: one TS packet";
    like $h, qr{^Content-Range: bytes 188-375/\d+}mi, "$mode: with Content-Range";

    ($s, undef, $h) = curl('-I', $url);
    is $s, 200, "$mode: HEAD";
    like $h, qr/^Content-Length: \d+/mi, "$mode: gives the length";

    ($s, $b, $h) = curl(field((get_video($vid))[1], 'thumbnailUrl'));
    is $s, 200, "$mode: the thumbnail";
    like $h, qr{^Content-Type: image/jpeg}mi, "$mode: a JPEG from the thumbnails bucket";

    ($s, undef, $h) = curl('-H', 'Origin: http://player.example.com', $url);
    my @acao = $h =~ /^Access-Control-Allow-Origin: (.*?)\r?$/mgi;
    is "@acao", '*', "$mode: players on other origins may read it, once";

    chomp(my $probe = qx{ffprobe -v error -show_entries format=duration -of csv=p=0 '$url' 2>&1});
    is $?, 0, "$mode: ffprobe reads the stream through the play URL";
    ok abs($probe - 4) < 0.5, "$mode: all four seconds of it ($probe)";
    my $decoded = system('ffmpeg', '-v', 'error', '-i', $url, '-f', 'null', '-');
    is $decoded, 0, "$mode: ffmpeg decodes every segment through the token";

    # -- what the token does not open ---------------------------------------

    ($s, $b) = curl("$base$vid/master.m3u8");
    is $s, 403, "$mode: the private video without a token: 403";
    like $b, qr/is private.*"code":"FORBIDDEN"/, "$mode: saying it is private";

    (my $tampered = $tok) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;
    ($s, $b) = curl("$base$vid/$tampered/master.m3u8");
    is $s, 403, "$mode: a tampered token: 403";
    like $b, qr/Invalid playback token/, "$mode: invalid";

    ($s, $b) = curl("$base$other/$tok/master.m3u8");
    is $s, 403, "$mode: the token of another video: 403";

    my $old = time - 10;
    ($s, $b) = curl("$base$vid/" . token($m->{secret}, $vid, $old) . "/master.m3u8");
    is $s, 403, "$mode: an expired token: 403";
    like $b, qr/has expired/, "$mode: saying so";

    my $later = time + 30 * 86400;
    ($s) = curl("$base$vid/" . token('guess', $vid, $later) . "/master.m3u8");
    is $s, 403, "$mode: a token made with another secret: 403";

    # signed with the right key, but valid far longer than any issued
    # token: refused, so a leaked key cannot mint lasting access
    ($s, $b) = curl("$base$vid/" . token($m->{secret}, $vid, time + 10 * 365 * 86400)
                    . "/master.m3u8");
    is $s, 403, "$mode: a 10-year token signed with the key: 403";
    like $b, qr/Invalid playback token/, "$mode: invalid";
    ($s) = curl("$base$vid/" . token($m->{secret}, $vid, $exp) . "/master.m3u8");
    is $s, 200, "$mode: while the token the API issued plays";

    # the access log keeps no URL that still opens the video
    ($s) = curl("$base$vid/$tok/master.m3u8?X-Amz-Signature=0123456789abcdef&a=b");
    is $s, 200, "$mode: a query does not change what plays";
    my $alog = do { local (@ARGV, $/) = ("$dir/logs/access.log"); <> } // '';
    like $alog, qr{"GET /play/$vid/-/master\.m3u8 HTTP/1\.1" 200}, "$mode: logged with the token as -";
    like $alog, qr{"GET /play/$vid/-/master\.m3u8\?X-Amz-Signature=-&a=b HTTP/1\.1" 200},
        "$mode: and a signature as -";
    unlike $alog, qr/\Q$tok\E|0123456789abcdef/, "$mode: neither shows in the access log";

    ($s, $b) = curl("$base$vid/$tok/240p/segment_999.ts");
    is $s, 404, "$mode: a file the video does not have: 404";
    like $b, qr/"code":"NOT_FOUND"/, "$mode: as JSON";

    for my $path ("$vid/$tok/../../../videos-raw/$vid/original.mp4",
                  "$vid/$tok/%2e%2e/%2e%2e/%2e%2e/videos-raw/$vid/original.mp4",
                  "$vid/$tok/..%2F..%2F..%2Fvideos-raw%2F$vid%2Foriginal.mp4",
                  "$vid/$tok/original.mp4",
                  "$vid/$tok/.hidden.m3u8",
                  "$vid/$tok/240p",
                  "$vid/$tok/240p/",
                  "$vid/$tok/a%00b.ts",
                  "$vid/$tok/a\\b.ts",
                  "$vid/$tok/",
                  "$vid/$tok")
    {
        ($s, $b) = curl("$base$path");
        like $s, qr/^40[034]$/, "$mode: $path is refused ($s)";
        unlike $b, qr/RAW-ORIGINAL|#EXTM3U/, "$mode: $path serves nothing";
    }

    ($s, $b) = curl("${base}short/master.m3u8");
    is $s, 404, "$mode: a malformed id: 404";
    ($s, $b) = curl("$base$ghost/master.m3u8");
    is $s, 404, "$mode: an unknown video: 404";
    like $b, qr/not found/, "$mode: not found";
    ($s, undef, $h) = curl('-X', 'POST', $url);
    is $s, 405, "$mode: POST: 405";
    like $h, qr/^Allow: GET, HEAD, OPTIONS/mi, "$mode: with Allow";

    # -- visibility decides for requests without a token --------------------

    ($s, $b) = http_request($port, 'PATCH', "/api/videos/$vid", '{"visibility": "PUBLIC"}');
    is $s, 200, "$mode: made PUBLIC";
    is field($b, 'playbackUrl'), "$base$vid/master.m3u8", "$mode: its URL has no token now";
    ($s) = curl("$base$vid/master.m3u8");
    is $s, 200, "$mode: and plays without one";
    ($s) = curl("$base$vid/240p/$segments[1]");
    is $s, 200, "$mode: segments too";
    ($s) = curl($url);
    is $s, 200, "$mode: the old token still works";

    http_request($port, 'PATCH', "/api/videos/$vid", '{"visibility": "UNLISTED"}');
    ($s) = curl("$base$vid/master.m3u8");
    is $s, 200, "$mode: UNLISTED plays without a token";

    my $gen = psql("SELECT token_gen FROM videos WHERE id = '$vid'");
    http_request($port, 'PATCH', "/api/videos/$vid", '{"visibility": "PRIVATE"}');
    ($s) = curl("$base$vid/master.m3u8");
    is $s, 403, "$mode: PRIVATE again: refused at once";
    is psql("SELECT token_gen FROM videos WHERE id = '$vid'"), $gen + 1,
       "$mode: its token generation moved on";
    ($s, $b) = curl($url);
    is $s, 403, "$mode: so the token minted before is dead";
    like $b, qr/Invalid playback token/, "$mode: invalid";
    ($s, $b) = get_video($vid);
    my $newurl = field($b, 'playbackUrl');
    isnt $newurl, $url, "$mode: the API hands out a new one";
    ($s) = curl($newurl);
    is $s, 200, "$mode: which plays";

    # the cache entry gone, PostgreSQL decides
    redis('DEL', "video:$vid", "video:$other");
    psql("UPDATE videos SET visibility = 'PUBLIC' WHERE id = '$other'");
    ($s) = curl("$base$other/master.m3u8");
    is $s, 404, "$mode: public, uncached, from PostgreSQL: allowed (and the file is absent)";
    like redis('EXISTS', "video:$other"), qr/^1$/, "$mode: which filled the cache for the next request";
    ($s) = curl("$base$vid/master.m3u8");
    is $s, 403, "$mode: private, uncached: refused";

    http_request($port, 'DELETE', "/api/videos/$vid");
    ($s) = curl("$base$vid/master.m3u8");
    is $s, 404, "$mode: a deleted video: 404";

    my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
    unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, "$mode: no alerts, no crashed worker";
}

done_testing;
