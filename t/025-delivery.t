# Delivery to players and to a cache in front of them (a CDN): each kind
# of file from /play/ and /live/ says how long it may be cached and by
# whom, revalidates (ETag, Last-Modified, 304), serves ranges (206, 416);
# what a token or an unlisted URL opens is never for a shared cache, and
# errors are never cached.  What allowed a video is kept by the node for
# the bound "video_api_playback cache=" sets: a video made private (or a
# token revoked) elsewhere stops playing within it, on this node at once.
# Run with the media location serving the local store's files, and
# proxying to storage as it would to MinIO or S3.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Time::HiRes ();
use Digest::SHA qw(hmac_sha256 hmac_sha256_base64);

my $dir = "$ENV{PWD}/t/servroot-delivery";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 85;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $live = "$dir/live";
my $base = "http://127.0.0.1:$port";

my $pub = 'dlvPUBAAAAAAAAAAAAAAA';   # PUBLIC
my $unl = 'dlvUNLAAAAAAAAAAAAAAA';   # UNLISTED
my $prv = 'dlvPRVAAAAAAAAAAAAAAA';   # PRIVATE
my $oth = 'dlvOTHAAAAAAAAAAAAAAA';   # PUBLIC, changed to flush the cache
my @ids = ($pub, $unl, $prv, $oth);

my $IMMUTABLE = 'max-age=31536000, immutable';

END { nginx_stop($dir) if $dir; }

system('rm', '-rf', $dir);
mkdir $dir;

# -- an HLS ladder and a thumbnail, as the transcoder leaves them ----------

my $hls = "$dir/hls";
mkdir $hls;
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=3:size=160x120:rate=25',
       '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
       '-g', '25', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
       '-master_pl_name', 'master.m3u8',
       '-hls_segment_filename', "$hls/%v/segment_%03d.ts",
       '-var_stream_map', 'v:0,name:120p', "$hls/%v/playlist.m3u8") == 0
    or die "ffmpeg (hls) failed";
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=size=160x120', '-frames:v', '1', "$hls/thumbnail.jpg") == 0
    or die "ffmpeg (thumbnail) failed";

system('rm', '-rf', $data, $live);
mkdir $data;
mkdir $live;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
for my $id (@ids) {
    mkdir "$data/videos-processed/$id";
    system('cp', '-r', "$hls/master.m3u8", "$hls/120p",
           "$data/videos-processed/$id/") == 0 or die;
    mkdir "$data/thumbnails/$id";
    system('cp', "$hls/thumbnail.jpg", "$data/thumbnails/$id/") == 0 or die;
    # as nginx-rtmp writes a stream's HLS (hls_nested)
    mkdir "$live/$id";
    system('cp', "$hls/120p/segment_000.ts", "$live/$id/$id-7.ts") == 0 or die;
    open my $fh, '>', "$live/$id/index.m3u8" or die;
    print $fh "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n"
              . "#EXT-X-TARGETDURATION:2\n#EXTINF:1.000,\n$id-7.ts\n";
    close $fh;
}
# what /play/ must never reach: a directory named like a file, uploads
mkdir "$data/videos-processed/$pub/120p.ts";
for my $f ("$data/videos-raw/raw.mp4", "$data/videos-raw/$pub.mp4") {
    open my $fh, '>', $f or die;
    print $fh "an original\n";
    close $fh;
}
system('chmod', '-R', 'a+rX', $dir);

sub redis {
    my @args = @_;
    my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @args};
    die "redis-cli @args failed" if $?;
    return $out;
}

sub seed {
    psql('TRUNCATE videos, outbox CASCADE');
    redis('DEL', map { "video:$_" } @ids);
    my %vis = ($pub => 'PUBLIC', $unl => 'UNLISTED', $prv => 'PRIVATE',
               $oth => 'PUBLIC');
    for my $id (@ids) {
        seed_video(id => $id, title => 'Delivered', status => 'READY',
                   visibility => $vis{$id}, video_type => 'VOD',
                   hls_manifest_key => "$id/master.m3u8",
                   thumbnail_key => "$id/thumbnail.jpg", duration => 3);
    }
}

sub header {
    my ($h, $name) = @_;
    my @v = $h =~ /^\Q$name\E: ([^\r\n]*)/mgi;
    return join ' | ', @v;
}

# a token made the way the module makes them (t/022-playback.t), with the
# key derived from the storage secret when none is configured
sub mint {
    my ($id, $expires) = @_;
    my $secret = hmac_sha256('video-api playback tokens', 'videoapi-secret');
    my $gen = psql("SELECT token_gen FROM videos WHERE id = '$id'");
    (my $kid = hmac_sha256_base64('video-api playback key id', $secret)) =~ tr{+/}{-_};
    (my $sig = hmac_sha256_base64("$id/$expires/$gen", $secret)) =~ tr{+/}{-_};
    return "$expires-" . substr($kid, 0, 2) . $sig;
}

sub token_of {
    my ($id) = @_;
    my (undef, $b) = curl("$base/api/videos/$id");
    my ($tok) = $b =~ m{/play/\Q$id\E/(\d+-[A-Za-z0-9_-]{45})/master\.m3u8};
    return $tok;
}

my $live_alias = <<"LOC";
            alias $live/;
            types {
                application/vnd.apple.mpegurl  m3u8;
                video/mp2t                     ts;
            }
LOC

sub start {
    my ($media, $http, $live_loc) = @_;
    $live_loc //= $live_alias;
    nginx_stop($dir);
    nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url $base;
    $http
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '1m')}
CONF
        location /play/ { video_api play; }
        location /live/ { video_api play; }
        location /_video_api/live/ {
            internal;
$live_loc
        }
        location /_video_api/media/ {
            internal;
$media
        }
        location \@media_not_found {
            default_type application/json;
            return 404 '{"success":false,"error":{"message":"File not found","status":404,"code":"NOT_FOUND"}}';
        }
SERVER
}

my %mode = (
    local => {
        http => 'video_api_playback cache=400ms;',
        bound => 0.4,
        media => <<"LOC",
            alias $data/;
            error_page 404 = \@media_not_found;
LOC
    },
    # the files served by /play/ and /live/ themselves: the internal
    # locations are never reached (599 if they were)
    direct => {
        http => "video_api_playback cache=400ms root=$data/ live_root=$live;",
        bound => 0.4,
        media => "            return 599;\n",
        live => "            return 599;\n",
    },
    proxy => {
        http => '',
        bound => 1,
        media => <<"LOC",
            proxy_pass $endpoint/;
            proxy_pass_request_headers off;
            proxy_set_header Range \$http_range;
            proxy_set_header If-Range \$http_if_range;
            proxy_set_header If-None-Match \$http_if_none_match;
            proxy_set_header If-Modified-Since \$http_if_modified_since;
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_intercept_errors on;
            error_page 404 = \@media_not_found;
LOC
    },
);

# the files of one video as a player fetches them, with what each may be
# cached as (who: public or private)
sub objects {
    my ($id, $tok, $who) = @_;
    my $p = "$base/play/$id/" . ($tok ? "$tok/" : '');
    my $l = "$base/live/$id/" . ($tok ? "$tok/" : '');
    return (
        ['master playlist', "${p}master.m3u8", "$who, max-age=300"],
        ['variant playlist', "${p}120p/playlist.m3u8", "$who, max-age=300"],
        ['segment', "${p}120p/segment_001.ts", "$who, $IMMUTABLE"],
        ['thumbnail', "${p}thumbnail.jpg", "$who, $IMMUTABLE"],
        ['live playlist', "${l}index.m3u8", "$who, max-age=1"],
        ['live fragment', "${l}$id-7.ts", "$who, max-age=60"],
    );
}

my %type = (m3u8 => 'application/vnd.apple.mpegurl', ts => 'video/mp2t',
            jpg => 'image/jpeg');

for my $mode (qw(local direct proxy)) {
    my $m = $mode{$mode};
    seed();
    start($m->{media}, $m->{http}, $m->{live});

    my $tok = token_of($prv);
    ok $tok, "$mode: the private video's URLs carry a token";
    (my $bad = $tok) =~ s/(.)$/$1 eq 'A' ? 'B' : 'A'/e;

    for my $case ([$pub, undef, 'public', 'PUBLIC'],
                  [$unl, undef, 'private', 'UNLISTED'],
                  [$prv, $tok, 'private', 'PRIVATE with its token'])
    {
        my ($id, $t, $who, $what) = @$case;
        for my $o (objects($id, $t, $who)) {
            my ($kind, $url, $cc) = @$o;
            my ($s, $b, $h) = curl($url);
            is $s, 200, "$mode, $what: the $kind";
            my ($ext) = $url =~ /\.(\w+)$/;
            is header($h, 'Content-Type'), $type{$ext}, "$mode, $what: the $kind is $type{$ext}";
            is header($h, 'Content-Length'), length($b), "$mode, $what: all of it";
            is header($h, 'Cache-Control'), $cc, "$mode, $what: the $kind is $cc";
            unlike $h, qr/^Cache-Control:.*public/mi, "$mode, $what: the $kind is never public"
                if $who eq 'private';
            unlike $h, qr/^Expires:/mi, "$mode, $what: the $kind has no Expires beside it";
            my $etag = header($h, 'ETag');
            my $lm = header($h, 'Last-Modified');
            like $etag, qr/^"[^"]+"$/, "$mode, $what: the $kind has an ETag";
            like $lm, qr/GMT$/, "$mode, $what: and a Last-Modified";
            like header($h, 'Accept-Ranges'), qr/^bytes$/, "$mode, $what: and takes ranges";

            ($s, $b, $h) = curl('-H', "If-None-Match: $etag", $url);
            is $s, 304, "$mode, $what: the $kind revalidates by ETag";
            is $b, '', "$mode, $what: with no body";
            is header($h, 'Cache-Control'), $cc, "$mode, $what: the 304 says the same";
            is header($h, 'ETag'), $etag, "$mode, $what: and the same ETag";

            ($s) = curl('-H', "If-Modified-Since: $lm", $url);
            is $s, 304, "$mode, $what: the $kind revalidates by date";

            ($s, $b, $h) = curl('-H', 'Range: bytes=0-6', $url);
            is $s, 206, "$mode, $what: a range of the $kind";
            is length($b), 7, "$mode, $what: seven bytes";
            like header($h, 'Content-Range'), qr{^bytes 0-6/\d+$}, "$mode, $what: with Content-Range";
            is header($h, 'Cache-Control'), $cc, "$mode, $what: cached as the whole";

            ($s, $b, $h) = curl('-H', 'Range: bytes=99999999-', $url);
            is $s, 416, "$mode, $what: a range past the ${kind}'s end: 416";
            like header($h, 'Content-Range'), qr{^bytes \*/\d+$}, "$mode, $what: naming its length";
            is header($h, 'Cache-Control'), 'no-store', "$mode, $what: and never cached";
            like $b, qr/\A\{"success":false,"error":\{.*"code":"RANGE_NOT_SATISFIABLE"/, "$mode, $what: as a JSON envelope, RANGE_NOT_SATISFIABLE";
        }
    }

    # -- errors: the envelope, never cached ----------------------------------

    for my $e (["$base/play/$prv/master.m3u8", 403, 'the private video without a token'],
               ["$base/live/$prv/index.m3u8", 403, 'its live playlist without a token'],
               ["$base/play/$prv/$bad/master.m3u8", 403, 'a tampered token'],
               ["$base/play/$pub/$tok/master.m3u8", 403, 'another video\'s token'],
               ["$base/play/$pub/120p/segment_999.ts", 404, 'a file the video does not have'],
               ["$base/live/$pub/$pub-99.ts", 404, 'a live fragment that is gone'],
               ["$base/play/$pub/.hidden.m3u8", 404, 'a name storage never holds'],
               ["$base/play/$pub/120p.ts", 404, 'a directory named like a file (never storage\'s redirect)'],
               ["$base/play/$pub/..%2F$prv%2Fmaster.m3u8", 403, 'an escaped ../ to a private video (nginx resolves it first)'],
               ["$base/play/dlvNONEAAAAAAAAAAAAAA/master.m3u8", 404, 'an unknown video'],
               ["$base/play/short/master.m3u8", 404, 'a malformed id'])
    {
        my ($url, $status, $what) = @$e;
        my ($s, $b, $h) = curl($url);
        is $s, $status, "$mode: $what: $status";
        is header($h, 'Cache-Control'), 'no-store', "$mode: $what: no-store";
        unlike $h, qr/^(ETag|Last-Modified|Expires):/mi, "$mode: $what: nothing to revalidate";
        like $b, qr/\A\{"success":false,"error":\{.*"code":"(FORBIDDEN|NOT_FOUND)"/,
             "$mode: $what: the JSON envelope";
        unlike $h, qr/^Location:/mi, "$mode: $what: no Location";
        unlike "$h$b", qr/_video_api|X-Amz/, "$mode: $what: nothing of the media location";
        ($s, $b, $h) = curl('-H', 'If-None-Match: *', $url);
        is $s, $status, "$mode: $what: not a 304 with If-None-Match either";
    }

    # paths out of the video's files: nginx resolves dot segments (escaped
    # or not) before any location, so they leave /play/ or stay in it, and
    # no spelling reaches the uploads bucket
    for my $path ("$pub/120p/%2E%2E/%2E%2E/%2E%2E/videos-raw/$pub.mp4",
                  "$pub/120p%2F..%2F..%2F..%2Fvideos-raw%2Fraw.mp4",
                  "$pub/..%2f..%2fvideos-raw%2fraw.mp4",
                  "$pub/%252E%252E/videos-raw/raw.mp4",
                  "$pub/120p/..%00.ts",
                  "../videos-raw/$pub.mp4")
    {
        my ($s, $b) = curl("$base/play/$path");
        isnt $s, 200, "$mode: /play/$path is no file";
        unlike $b, qr/an original/, "$mode: /play/$path: nothing of the uploads";
    }

    # -- visibility changes and revoked tokens -------------------------------

    # through this node's API: at once (the node forgets what it knew)
    my ($s) = curl("$base/play/$pub/120p/segment_000.ts");
    is $s, 200, "$mode: the PUBLIC video plays";
    ($s) = http_request($port, 'PATCH', "/api/videos/$pub", '{"visibility": "PRIVATE"}');
    is $s, 200, "$mode: made PRIVATE through the API";
    ($s) = curl("$base/play/$pub/120p/segment_000.ts");
    is $s, 403, "$mode: refused at once";
    my $ptok = token_of($pub);
    ($s) = curl("$base/play/$pub/$ptok/120p/segment_000.ts");
    is $s, 200, "$mode: its new token plays";
    http_request($port, 'PATCH', "/api/videos/$pub", '{"visibility": "PUBLIC"}');
    http_request($port, 'PATCH', "/api/videos/$pub", '{"visibility": "PRIVATE"}');
    ($s) = curl("$base/play/$pub/$ptok/120p/segment_000.ts");
    is $s, 403, "$mode: public and private again: that token is revoked at once";
    ($s) = curl("$base/play/$unl/master.m3u8");
    is $s, 200, "$mode: the UNLISTED video plays";
    ($s) = http_request($port, 'DELETE', "/api/videos/$unl");
    is $s, 200, "$mode: deleted through the API";
    ($s) = curl("$base/play/$unl/master.m3u8");
    is $s, 404, "$mode: 404 at once";

    # elsewhere (another node, or PostgreSQL itself): within the bound
    ($s) = curl("$base/play/$prv/$tok/120p/segment_000.ts");
    is $s, 200, "$mode: the private video plays with its token";
    ($s) = curl("$base/play/$oth/120p/segment_000.ts");
    is $s, 200, "$mode: another PUBLIC one without";
    psql("UPDATE videos SET token_gen = token_gen + 1 WHERE id = '$prv'");
    psql("UPDATE videos SET visibility = 'PRIVATE' WHERE id = '$oth'");
    redis('DEL', "video:$prv", "video:$oth");
    Time::HiRes::sleep($m->{bound} + 0.1);
    my ($s1, $b1, $h1) = curl("$base/play/$prv/$tok/120p/segment_000.ts");
    is $s1, 403, "$mode: a token revoked elsewhere is refused within $m->{bound} s";
    is header($h1, 'Cache-Control'), 'no-store', "$mode: and the refusal is not cached";
    ($s) = curl("$base/play/$oth/120p/segment_000.ts");
    is $s, 403, "$mode: a video made PRIVATE elsewhere too";

    # a refusal is never kept: made PUBLIC elsewhere, it plays at once
    psql("UPDATE videos SET visibility = 'PUBLIC' WHERE id = '$oth'");
    redis('DEL', "video:$oth");
    ($s) = curl("$base/play/$oth/120p/segment_000.ts");
    is $s, 200, "$mode: made PUBLIC elsewhere, it plays at once";

    # a token the worker verified before stops at its own expiry
    if ($mode eq 'local') {
        my $short = mint($prv, time + 2);
        ($s) = curl("$base/play/$prv/$short/120p/segment_000.ts");
        is $s, 200, "$mode: a token that expires in 2 s plays";
        ($s) = curl("$base/play/$prv/$short/120p/segment_001.ts");
        is $s, 200, "$mode: again (verified once)";
        Time::HiRes::sleep(3.1);
        my ($s2, $b2, $h2) = curl("$base/play/$prv/$short/120p/segment_000.ts");
        is $s2, 403, "$mode: refused once it has expired";
        like $b2, qr/has expired/, "$mode: saying so";
        is header($h2, 'Cache-Control'), 'no-store', "$mode: not cached";
    }

    my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
    unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, "$mode: no alerts, no crashed worker";
}

# -- the node's cache: what it read serves for the bound ----------------------

seed();
start($mode{local}{media}, 'video_api_playback cache=60s;');
my ($s) = curl("$base/play/$pub/120p/segment_000.ts");
is $s, 200, 'cache=60s: the PUBLIC video plays';
psql("UPDATE videos SET visibility = 'PRIVATE' WHERE id = '$pub'");
redis('DEL', "video:$pub");
($s) = curl("$base/play/$pub/120p/segment_000.ts");
is $s, 200, 'made PRIVATE behind the node\'s back: it still plays within the bound (no Redis read)';
like redis('EXISTS', "video:$pub"), qr/^0$/, '... which the cache entry Redis no longer has shows';
($s) = http_request($port, 'PATCH', "/api/videos/$oth", '{"title": "changed"}');
is $s, 200, 'any change to a video through this node';
($s) = curl("$base/play/$pub/120p/segment_000.ts");
is $s, 403, '... empties the node\'s cache: refused';

start($mode{local}{media}, 'video_api_playback cache=0;');
psql("UPDATE videos SET visibility = 'PUBLIC' WHERE id = '$pub'");
redis('DEL', "video:$pub");
($s) = curl("$base/play/$pub/120p/segment_000.ts");
is $s, 200, 'cache=0: plays';
psql("UPDATE videos SET visibility = 'PRIVATE' WHERE id = '$pub'");
redis('DEL', "video:$pub");
($s) = curl("$base/play/$pub/120p/segment_000.ts");
is $s, 403, '... and every request reads the video';

done_testing;
