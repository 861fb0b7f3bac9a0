# Live streams through their HTTP side: create and key rotation (the key
# is shown once, stored only as its SHA-256), nginx-rtmp's callbacks as it
# sends them (verify, unpublish, record) and hostile ones, and the
# routes start, stop, active, get, watch and visibility.  t/051 publishes
# for real with ffmpeg.

# memcheck: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Digest::SHA qw(sha256_hex);

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-live";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 60;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $rtmp = $port + 1;
my $open = $port + 2;
my $rec = "$dir/rec";

END { nginx_stop($dir) if $dir; }

psql('TRUNCATE videos, outbox CASCADE');
mkdir $dir;
mkdir $rec;

nginx_start($dir, $port, <<"CONF", <<"SERVER", main => <<"MAIN");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=5s;
    video_api_public_url http://videos.example.com:8080/;
    video_api_live_record_path $rec/;
    video_api_live_relay_secret relay-secret-for-the-live-suite;
    # a server that serves the whole API and names no callbacks location
    server {
        listen 127.0.0.1:$open;
        location /api/ { video_api all; }
    }
CONF
        location /_video_api/rtmp/ { internal; rtmp_control all; }
        location ~ ^/api/live/(verify|unpublish|record|relay) {
            allow 127.0.0.1;
            deny all;
            video_api live_callbacks;
        }
        location = /connection { return 200 \$connection; }
SERVER
rtmp { server { listen 127.0.0.1:$rtmp; application live { live on; } } }
MAIN
wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

sub post { my ($path, $body) = @_; return http_request($port, 'POST', $path, $body) }

# -- create ------------------------------------------------------------------

my ($s, $b) = post('/api/live/create', '{"title": "My stream", "description": "live!"}');
is $s, 201, 'create answers 201';
my ($id) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my ($key) = $b =~ /"streamKey":"([^"]*)"/;
ok $id, 'with a video id';
like $key, qr/^[A-Za-z0-9_-]{32}$/, 'a 32-character URL-safe key (192 bits)';
like $b, qr{"rtmpUrl":"rtmp://videos\.example\.com:1935/live"}, 'the RTMP server URL, without the key';
like $b, qr{"playbackUrl":"http://videos\.example\.com:8080/live/$id/index\.m3u8"}, 'the live playlist URL';
unlike $b, qr/"success":true,"data":\{[^}]*$key[^}]*$key/, 'the key appears once';

is psql("SELECT video_type || ' ' || status || ' ' || visibility || ' ' || title || ' ' || description FROM videos WHERE id = '$id'"),
    'LIVE PENDING PUBLIC My stream live!', 'a LIVE video, PENDING, PUBLIC by default';
is psql("SELECT encode(stream_key_hash, 'hex') FROM videos WHERE id = '$id'"), sha256_hex($key),
    'the row holds the key\'s SHA-256';
is psql("SELECT count(*) FROM videos WHERE row_to_json(videos)::text LIKE '%$key%'"), 0,
    'and never the key';
is psql("SELECT count(*) FROM outbox"), 0, 'no job is queued';

($s, $b) = http_request($port, 'GET', "/api/videos/$id");
is $s, 200, 'the stream is a video';
like $b, qr/"videoType" : "LIVE"/, 'of type LIVE';
unlike $b, qr/\Q$key\E/, 'whose answer does not carry the key';
is qx{redis-cli -p $rport SISMEMBER video:ids $id} + 0, 1, 'views of it count';

($s, $b) = post('/api/live/create', '{"title": "Private one", "visibility": "PRIVATE"}');
is $s, 201, 'visibility can be given';
my ($id2) = $b =~ /"videoId":"([^"]+)"/;
my ($key2) = $b =~ /"streamKey":"([^"]*)"/;
is psql("SELECT visibility FROM videos WHERE id = '$id2'"), 'PRIVATE', 'and is kept';
isnt $key2, $key, 'every stream has its own key';

# -- bad bodies change nothing -----------------------------------------------

my $before = psql('SELECT count(*) FROM videos');
for my $case (['{}', qr/"path":"title","message":"title is required"/],
              ['{"description": "x"}', qr/"path":"title"/],
              ['{"title": ""}', qr/"path":"title"/],
              ['{"title": "' . ('x' x 256) . '"}', qr/"path":"title"/],
              ['{"title": 5}', qr/"path":"title"/],
              ['{"title": "t", "description": "' . ('d' x 2001) . '"}', qr/"path":"description"/],
              ['{"title": "t", "visibility": "SECRET"}', qr/"path":"visibility"/],
              ['{"visibility": "SECRET"}', qr/"path":"title".*"path":"visibility"/]) {
    ($s, $b) = post('/api/live/create', $case->[0]);
    is $s, 400, "400 for " . substr($case->[0], 0, 40);
    like $b, $case->[1], 'naming the field';
}
($s, $b) = post('/api/live/create', '{"title": ');
is $s, 400, 'malformed JSON is a 400';
($s, $b) = post('/api/live/create', '[1]');
is $s, 400, 'so is a body that is not an object';
is psql('SELECT count(*) FROM videos'), $before, 'and none of them created anything';

# -- key rotation ------------------------------------------------------------

($s, $b) = post("/api/live/$id/key");
is $s, 200, 'rotating the key';
my ($new) = $b =~ /"streamKey":"([A-Za-z0-9_-]{32})"/;
ok $new && $new ne $key, 'gives a new key';
like $b, qr/"videoId":"$id"/, 'for the stream';
is psql("SELECT encode(stream_key_hash, 'hex') FROM videos WHERE id = '$id'"), sha256_hex($new),
    'which replaces the old one';

($s, $b) = post('/api/live/NoSuchStreamXXXXXXXXX/key');
is $s, 404, 'an unknown stream is a 404';
like $b, qr/not found/, 'saying so';
($s) = post('/api/live/bad/key');
is $s, 404, 'so is a malformed id';
my $vod = 'vodAAAAAAAAAAAAAAAAAA';
seed_video(id => $vod, title => 'not live');
($s) = post("/api/live/$vod/key");
is $s, 404, 'and a video that is not live';
is psql("SELECT stream_key_hash IS NULL FROM videos WHERE id = '$vod'"), 't', 'which gets no key';


# -- nginx-rtmp's callbacks ----------------------------------------------------

# as nginx-rtmp posts them: (status, body, headers)
sub callback {
    my ($path, $body) = @_;
    return curl('-X', 'POST', '--data-binary', $body, '-H',
                'Content-Type: application/x-www-form-urlencoded',
                "http://127.0.0.1:$port$path");
}

sub row {
    my ($id) = @_;
    return psql("SELECT status || ' ' || is_live_now || ' ' || (live_started_at IS NOT NULL)"
                . " || ' ' || (live_ended_at IS NOT NULL) FROM videos WHERE id = '$id'");
}

sub publish_body {
    my ($k) = @_;
    return "app=live&flashver=FMLE%2F3.0&swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1%3A$rtmp%2Flive"
           . "&pageurl=&addr=127.0.0.1&clientid=5&call=publish&name=$k&type=live";
}

($s, $b) = post('/api/live/create', '{"title": "Callbacks"}');
my ($cid) = $b =~ /"videoId":"([^"]+)"/;
my ($ckey) = $b =~ /"streamKey":"([^"]+)"/;
my $snapshot = sub { psql("SELECT md5(string_agg(row_to_json(v)::text, ',' ORDER BY id)) FROM videos v") };

# hostile bodies first: nothing may change
my $orig = $snapshot->();
my $outbox = psql('SELECT count(*) FROM outbox');
for my $case (['', 400, 'an empty body'],
              ['call=publish&app=live', 400, 'no name'],
              ["call=publish&name=$ckey&name=$ckey", 400, 'the name twice'],
              ["call=play&name=$ckey", 400, 'another call'],
              ["name=$ckey", 400, 'no call'],
              ['call=publish&name=%zz', 400, 'a broken escape'],
              ["call=publish&name=${ckey}%00", 400, 'an escaped NUL'],
              ['call=publish&name=' . ('A' x 2000), 400, 'a name too long to be one'],
              ["call=publish&name=$key", 403, 'the rotated-away key'],
              ['call=publish&name=' . ('A' x 32), 403, 'an unknown key'],
              ['call=publish&name=' . substr($ckey, 0, 31), 403, 'a key cut short'],
              ["call=publish&name=${ckey}x", 403, 'a key too long'],
              ['call=publish&name=' . lc($ckey) . ($ckey eq lc($ckey) ? 'x' : ''), 403, 'a key in another case'],
              ['call=publish&name=../../etc/passwd', 403, 'a path'],
              ["call=publish&name=$id", 403, 'a video id']) {
    my ($st, $bd, $hd) = callback('/api/live/verify', $case->[0]);
    is $st, $case->[1], "verify: $case->[1] for $case->[2]";
    unlike $hd, qr/^Location:/mi, 'and no rename';
    like $bd, qr/"success":false/, 'a JSON error';
}
# nginx-rtmp appends the publisher's query string raw: a field it names
# again (clientid=1 to escape a drop, name, addr) refuses the whole callback
for my $extra ('clientid=1', 'name=x', 'addr=10.0.0.1', 'call=publish', 'client%69d=1') {
    my ($st, $bd, $hd) = callback('/api/live/verify', publish_body($ckey) . "&$extra");
    is $st, 400, "verify: 400 for a publisher's '$extra'";
    unlike $hd, qr/^Location:/mi, 'and no rename';
}

# the callbacks are served only where a location names them: from another
# address, however the path is written, nginx's deny answers first; and a
# location serving "all" never reaches them
for my $path ('/api/live/verify', '/api/live/verify/', '/api/live/verify%2F',
              '/api/live/unpublish/', '/api/live/record/', '/api/live//verify') {
    my ($st, $bd) = curl('--interface', '127.0.0.2', '-X', 'POST', '--data-binary',
                         publish_body($ckey), "http://127.0.0.1:$port$path");
    ok $st == 403 || $st == 404, "$path from 127.0.0.2 is refused ($st)";
    like $bd, qr/"success":false/, 'with an envelope';
}
for my $path ('/api/live/verify', '/api/live/verify/', '/api/live/verify%2F',
              '/api/live/unpublish', '/api/live/record') {
    my ($st, $bd, $hd) = curl('-X', 'POST', '--data-binary', publish_body($ckey),
                              "http://127.0.0.1:$open$path");
    ok $st == 404 || $st == 405, "$path in a 'video_api all' location is no callback ($st)";
    unlike $hd, qr/^Location:/mi, 'and no rename';
}

# the hls application's on_publish: the push's flashVer is the secret
my $relay = 'app=hls&flashver=%s&swfurl=&tcurl=rtmp%%3A%%2F%%2F127.0.0.1%%3A1935%%2Fhls'
          . '&pageurl=&addr=127.0.0.1&clientid=9&call=publish&name=%s&type=live';
for my $case ([sprintf($relay, 'relay-secret-for-the-live-suite', $cid), 200, 'the push'],
              [sprintf($relay, 'LNX%2011,1,102,55', $cid), 403, 'another flashVer'],
              [sprintf($relay, 'relay-secret-for-the-live-suitE', $cid), 403, 'a secret one letter off'],
              [sprintf($relay, 'relay-secret-for-the-live-suit', $cid), 403, 'a secret cut short'],
              [sprintf($relay, '', $cid), 403, 'no flashVer'],
              [sprintf($relay, 'relay-secret-for-the-live-suite', '../x'), 403, 'a name that is no id'],
              [sprintf($relay, 'x', $cid) . '&flashver=relay-secret-for-the-live-suite', 400,
               'a flashVer appended by the publisher'],
              [sprintf($relay, 'relay-secret-for-the-live-suite', $cid) =~ s/call=publish/call=play/r, 400,
               'another call']) {
    my ($st, $bd, $hd) = callback('/api/live/relay', $case->[0]);
    is $st, $case->[1], "relay: $case->[1] for $case->[2]";
    unlike $hd, qr/^Location:/mi, 'and no rename';
}
my ($rst) = curl('--interface', '127.0.0.2', '-X', 'POST', '--data-binary',
                 sprintf($relay, 'relay-secret-for-the-live-suite', $cid),
                 "http://127.0.0.1:$port/api/live/relay");
is $rst, 403, 'the relay callback from another address is denied';

($s, $b) = callback('/api/live/verify', 'call=publish&name=' . ('x' x 70000));
is $s, 413, 'an oversized callback body is a 413';
for my $path (qw(/api/live/unpublish /api/live/record)) {
    for my $body ('', "call=publish&name=$ckey", 'call=publish_done&name=%',
                  "call=publish_done&name=$ckey&name=x",
                  "call=record_done&name=$ckey&path=$rec/$cid.flv&path=x") {
        ($s) = callback($path, $body);
        ok $s == 400 || $s == 403, "$path refuses '" . substr($body, 0, 30) . "': $s";
    }
}
is $snapshot->(), $orig, 'none of them changed a video';
is psql('SELECT count(*) FROM outbox'), $outbox, 'or queued a job';

# the real thing
my ($hd);
($s, $b, $hd) = callback('/api/live/verify', publish_body($ckey));
is $s, 302, 'the right key is accepted with a 3xx';
like $hd, qr/^Location: $cid\r?$/m, 'renaming the stream to the video id';
unlike "$b$hd", qr/\Q$ckey\E/, 'the answer does not carry the key';
is row($cid), 'LIVE true true false', 'the stream is LIVE, isLiveNow, startedAt set';
is psql("SELECT encode(live_key_hash, 'hex') FROM videos WHERE id = '$cid'"), sha256_hex($ckey),
    'the publisher\'s key hash is kept for the later callbacks';
($s, $b) = http_request($port, 'GET', "/api/videos/$cid");
like $b, qr/"isLiveNow" ?: ?true/, 'the cached video follows at once';
like $b, qr/"status" ?: ?"LIVE"/, 'status too';

($s) = callback('/api/live/verify', publish_body($ckey));
is $s, 403, 'a second publisher with the same key is refused';
is row($cid), 'LIVE true true false', 'and changes nothing';

is psql("SELECT live_client FROM videos WHERE id = '$cid'"), 5, 'and its connection';

($s, $b) = http_request($port, 'GET', '/api/live/active');
is $s, 200, 'active streams';
like $b, qr/"count":1\b/, 'one';
like $b, qr/"id":"$cid"/, 'this one';
unlike $b, qr/\Q$ckey\E|streamKey|stream_key|keyHash/i, 'never its key or hash';

($s, $b) = http_request($port, 'GET', "/api/live/$cid");
is $s, 200, 'the stream';
like $b, qr/"stream":\{/, 'as {stream}';
like $b, qr/"isLiveNow":true/, 'live now';
like $b, qr{"playbackUrl":"http://videos\.example\.com:8080/live/$cid/index\.m3u8"}, 'its live playlist';
unlike $b, qr/\Q$ckey\E|streamKey/, 'no key';

($s, $b) = http_request($port, 'GET', "/api/live/$cid/watch");
is $s, 200, 'watch';
like $b, qr/"videoId":"$cid"/, 'names the stream';
like $b, qr/"isLive":true/, 'live';
like $b, qr{"hlsUrl":"http://videos\.example\.com:8080/live/$cid/index\.m3u8"}, 'and its HLS URL';
like $b, qr/"status":"LIVE"/, 'and status';
($s, $b) = http_request($port, 'GET', "/api/live/$vod/watch");
is $s, 400, 'watch of a VOD is a 400';
($s) = http_request($port, 'GET', "/api/live/$vod");
is $s, 404, 'a VOD is no live stream';
($s) = http_request($port, 'GET', '/api/live/NoSuchStreamXXXXXXXXX/watch');
is $s, 404, 'an unknown id is a 404';

# the recording: only under the record path, named by the id
my $outbox_before = psql('SELECT count(*) FROM outbox');
for my $p ("/tmp/$cid.flv", "$rec/../$cid.flv", "$rec/sub/$cid.flv", "$rec/$cid.mp4",
           "$rec/$cid-12x.flv", "$rec/$ckey.flv", "$rec/$cid.flv/x.flv", "${rec}x/$cid.flv") {
    (my $e = $p) =~ s/([^A-Za-z0-9_.\/-])/sprintf('%%%02X', ord $1)/ge;
    ($s) = callback('/api/live/record', "call=record_done&recorder=&name=$ckey&path=$e");
    is $s, 403, "a recording at $p is refused";
}
($s, $b) = callback('/api/live/record', "call=record_done&recorder=&name=$new&path=$rec/$cid-1.flv");
is $s, 200, 'one named by another stream\'s key is answered';
like $b, qr/not converted/, 'but not converted';
is psql('SELECT count(*) FROM outbox'), $outbox_before, 'no job for any of them';

# the publisher goes: the stream ends and waits for its recording
($s) = callback('/api/live/unpublish', "app=live&addr=127.0.0.1&clientid=5&call=publish_done&name=$ckey");
is $s, 200, 'on_publish_done answers 200';
is row($cid), 'PENDING false true true', 'isLiveNow false, endedAt set, PENDING for its VOD';
($s) = callback('/api/live/unpublish', "call=publish_done&name=$ckey");
is $s, 200, 'a second one is answered too';
is row($cid), 'PENDING false true true', 'and changes nothing';
($s) = callback('/api/live/verify', publish_body($ckey));
is $s, 403, 'an ended stream cannot be published again';

($s, $b) = callback('/api/live/record', "call=record_done&recorder=&name=$ckey&path=$rec/$cid-1732600000.flv");
is $s, 200, 'on_record_done is taken';
like $b, qr/queued/, 'and the recording queued';
is psql("SELECT payload->>'type' || ' ' || (payload->>'videoId') || ' ' || (payload->>'inputKey')"
        . " || ' ' || (payload->>'recording') FROM outbox ORDER BY id DESC LIMIT 1"),
    "transcode $cid $cid/recording.flv $rec/$cid-1732600000.flv", 'as a transcode job naming the file';
is psql("SELECT status || ' ' || original_key FROM videos WHERE id = '$cid'"),
    "PENDING $cid/recording.flv", 'the video waits for it';

# -- start, stop, visibility ---------------------------------------------------

($s, $b) = post('/api/live/create', '{"title": "Routes", "visibility": "PRIVATE"}');
my ($rid) = $b =~ /"videoId":"([^"]+)"/;
my ($rkey) = $b =~ /"streamKey":"([^"]+)"/;
like $b, qr{"playbackUrl":"http://videos\.example\.com:8080/live/$rid/\d+-[A-Za-z0-9_-]{45}/index\.m3u8"},
    'a private stream\'s playback URL carries a token';

for my $case (['{}', 400], ['{"streamKey": 5}', 400], ['{"streamKey": ""}', 400],
              ['{"streamKey": "' . ('A' x 32) . '"}', 401], ["{\"streamKey\": \"$ckey\"}", 401],
              ['{"streamKey": "' . $rkey . 'x"}', 401]) {
    ($s, $b) = post("/api/live/$rid/start", $case->[0]);
    is $s, $case->[1], "start: $case->[1] for $case->[0]";
}
is row($rid), 'PENDING false false false', 'a refused start changes nothing';
($s) = post('/api/live/NoSuchStreamXXXXXXXXX/start', qq({"streamKey": "$rkey"}));
is $s, 404, 'start of an unknown stream is a 404';
($s, $b) = post("/api/live/$rid/start", qq({"streamKey": "$rkey"}));
is $s, 200, 'start with the key';
like $b, qr/"message":"Stream started successfully"/, 'says so';
like $b, qr/"videoId":"$rid"/, 'names the stream';
like $b, qr/"status":"LIVE"/, 'LIVE';
is row($rid), 'LIVE false true false', 'LIVE, startedAt set; isLiveNow waits for the publisher';

for my $case (['{"visibility": "SECRET"}', 400], ['{}', 400], ['{"visibility": 1}', 400]) {
    ($s) = http_request($port, 'PATCH', "/api/live/$rid/visibility", $case->[0]);
    is $s, $case->[1], "visibility: $case->[1] for $case->[0]";
}
($s, $b) = http_request($port, 'PATCH', "/api/live/$rid/visibility", '{"visibility": "UNLISTED"}');
is $s, 200, 'visibility set';
like $b, qr/"visibility":"UNLISTED"/, 'to UNLISTED';
like $b, qr/"message":"[^"]+"/, 'with a message';
($s, $b) = http_request($port, 'GET', "/api/videos/$rid");
like $b, qr/"visibility" ?: ?"UNLISTED"/, 'the cached video follows';
($s) = http_request($port, 'PATCH', "/api/live/$vod/visibility", '{"visibility": "PUBLIC"}');
is $s, 404, 'not for a VOD';

($s, $b) = post("/api/live/$rid/stop", '{"convertToVOD": "no"}');
is $s, 400, 'stop with a convertToVOD that is not a boolean is a 400';
($s, $b) = post("/api/live/$rid/stop", '{"convertToVOD": false}');
is $s, 200, 'stop';
like $b, qr/"message":"Stream stopped successfully"/, 'says so';
like $b, qr/"status":"READY"/, 'READY without converting';
is row($rid), 'READY false true true', 'ended';
($s, $b) = post("/api/live/$rid/start", qq({"streamKey": "$rkey"}));
is $s, 409, 'an ended stream cannot start again';
($s) = post('/api/live/NoSuchStreamXXXXXXXXX/stop', '{}');
is $s, 404, 'stop of an unknown stream is a 404';

($s, $b) = post('/api/live/create', '{"title": "Stopped live"}');
my ($sid) = $b =~ /"videoId":"([^"]+)"/;
my ($skey) = $b =~ /"streamKey":"([^"]+)"/;
($s) = callback('/api/live/verify', publish_body($skey));
is $s, 302, 'a third stream is published';
($s, $b) = http_request($port, 'POST', "/api/live/$sid/stop");
is $s, 200, 'stop without a body';
like $b, qr/"status":"PENDING"/, 'converts by default when recordings are taken';
is row($sid), 'PENDING false true true', 'the stream ended';
($s) = callback('/api/live/unpublish', "call=publish_done&name=$skey");
is row($sid), 'PENDING false true true', 'the publisher\'s own end changes nothing more';

# rotating the key of a live stream drops its publisher
($s, $b) = post('/api/live/create', '{"title": "Rotated live"}');
my ($kid) = $b =~ /"videoId":"([^"]+)"/;
my ($kkey) = $b =~ /"streamKey":"([^"]+)"/;
($s) = callback('/api/live/verify', publish_body($kkey));
is $s, 302, 'a fourth stream is published';
($s, $b) = post("/api/live/$kid/key");
is $s, 200, 'its key is rotated while live';
my ($kkey2) = $b =~ /"streamKey":"([^"]+)"/;
($s) = callback('/api/live/unpublish', "call=publish_done&name=$kkey");
is row($kid), 'PENDING false true true', 'and its end is still recorded';
($s) = callback('/api/live/verify', publish_body($kkey2));
is $s, 403, 'the new key cannot reopen an ended stream';

# a verify naming another connection's number (here an HTTP client's)
# cannot make stop close it: only connections nginx-rtmp accepted drop
my $victim = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 10)
    or die "connect: $!";
sub ask_victim {
    print $victim "GET /connection HTTP/1.1\r\nHost: localhost\r\n\r\n";
    my $resp = '';
    for (;;) {
        return $1 if $resp =~ /\r\n\r\n(\d+)$/;
        sysread($victim, $resp, 4096, length $resp) or return undef;
    }
}
my $vnum = ask_victim();
like $vnum // '', qr/^\d+$/, "an HTTP client holds connection *" . ($vnum // '?');
($s, $b) = post('/api/live/create', '{"title": "Forged client"}');
my ($fid) = $b =~ /"videoId":"([^"]+)"/;
my ($fkey) = $b =~ /"streamKey":"([^"]+)"/;
(my $forged = publish_body($fkey)) =~ s/clientid=5/clientid=$vnum/;
($s) = callback('/api/live/verify', $forged);
is $s, 302, 'a verify naming that connection is taken (the body is well formed)';
is psql("SELECT live_client FROM videos WHERE id = '$fid'"), $vnum, 'and its number kept';
($s, $b) = post("/api/live/$fid/stop", '{"convertToVOD": false}');
is $s, 200, 'stop of that stream';
Time::HiRes::sleep(0.5);
is ask_victim(), $vnum, 'leaves the HTTP connection open and serving';
close $victim;
like do { local (@ARGV, $/) = "$dir/logs/error.log"; <> },
    qr/live drop of \*$vnum refused: not an rtmp connection/, 'and says why';

($s, $b) = http_request($port, 'GET', '/api/live/active');
like $b, qr/"streams":\[\],"count":0/, 'no stream is live now';

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\Q$key\E|\Q$new\E|\Q$ckey\E|\Q$rkey\E|\Q$skey\E|\Q$kkey\E/, 'no key in the error log';
unlike $log, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed worker';

done_testing();
