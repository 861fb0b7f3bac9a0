# Live streams for real: ffmpeg publishes RTMP to nginx-rtmp, whose
# callbacks reach the module; the live playlist is served under /live/;
# the recording becomes a VOD through the relay and the transcoder.  The
# stream key must never show in a file name, a URL or the logs.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use POSIX ();
use Time::HiRes ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_AMQP_PORT};

my $dir = "$ENV{PWD}/t/servroot-rtmp";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 62;
my $rtmp = $port + 1;
my $store = $port + 2;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $hls = "$dir/hls";
my $rec = "$dir/rec";
my (@workers, @publishers);

END {
    kill 'KILL', @publishers;
    kill 'TERM', @workers;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $_ for $data, $hls, $rec;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
system('chown', '-R', 'nobody', $data, $hls, $rec) if $> == 0;

psql('TRUNCATE videos, outbox CASCADE');
system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");
system("scripts/stack.sh rabbitmqctl -q purge_queue video-transcode >/dev/null 2>&1");

# two nginx workers: a stop may reach a worker other than the publisher's,
# which then hears it through Redis
nginx_start($dir, $port, <<"CONF", <<"SERVER", workers => 2, main_log_level => 'notice', main => <<"MAIN");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    video_api_rtmp_url rtmp://127.0.0.1:$rtmp/live;
    video_api_live_record_path $rec;
    video_api_live_relay_secret $VideoApi::RELAY_SECRET;
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '500m')}
CONF
        location /_video_api/rtmp/ { internal; rtmp_control all; }
${\ callbacks_location()}        location /live/ { video_api play; }
        location /_video_api/live/ { internal; alias $hls/; }
${\ probe_location($endpoint)}
SERVER
${\ rtmp_block($rtmp, $port, $hls, $rec)}
MAIN

my %env = worker_env($dir, $port, $endpoint, VIDEO_WORKER_RECORD_PATH => $rec);
push @workers, worker_start($dir, $_, %env) for qw(relay transcode);

sub post { my ($path, $body) = @_; return http_request($port, 'POST', $path, $body) }

sub create {
    my ($body) = @_;
    my ($s, $b) = post('/api/live/create', $body);
    die "create: $s $b" unless $s == 201;
    my ($id) = $b =~ /"videoId":"([^"]+)"/;
    my ($key) = $b =~ /"streamKey":"([^"]+)"/;
    my ($url) = $b =~ /"playbackUrl":"([^"]+)"/;
    return ($id, $key, $url);
}

# ffmpeg publishing a test pattern and a tone for $seconds: its pid
sub publish {
    my ($key, $seconds) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$dir/ffmpeg.log";
        exec 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re',
             '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
             '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
             '-t', $seconds, '-c:v', 'libx264', '-preset', 'veryfast',
             '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p',
             '-c:a', 'aac', '-b:a', '64k', '-f', 'flv',
             "rtmp://127.0.0.1:$rtmp/live/$key"
            or POSIX::_exit(127);
    }
    push @publishers, $pid;
    return $pid;
}

# ffmpeg's exit code once it has exited within $seconds, else undef
sub exited {
    my ($pid, $seconds) = @_;
    my $code;
    wait_for($seconds, sub {
        my $r = waitpid($pid, POSIX::WNOHANG());
        $code = $? >> 8 if $r == $pid;
        return $r == $pid;
    });
    @publishers = grep { $_ != $pid } @publishers if defined $code;
    return $code;
}

sub row {
    my ($id) = @_;
    return psql("SELECT status || ' ' || CASE WHEN is_live_now THEN 't' ELSE 'f' END"
                . " FROM videos WHERE id = '$id'");
}

# seconds until the live playlist of $url lists a fragment, or undef
sub playlist_within {
    my ($url, $seconds) = @_;
    my ($path) = $url =~ m{^https?://[^/]+(/.*)$};
    my $t0 = Time::HiRes::time();
    return wait_for($seconds, sub {
        my ($s, $b) = http_request($port, 'GET', $path);
        return $s == 200 && $b =~ /^#EXTM3U/ && $b =~ /\.ts\b/;
    }) ? Time::HiRes::time() - $t0 : undef;
}

# -- a wrong key is refused ------------------------------------------------------

my ($id, $key, $url) = create('{"title": "Live for real"}');
my $p = publish('A' x 32, 5);
my $code = exited($p, 20);
ok defined $code && $code != 0, 'ffmpeg with a wrong key is refused';
is row($id), 'PENDING f', 'and nothing changes';

# -- the right key: live, HLS under the video id ------------------------------------

my $t0 = Time::HiRes::time();
my $pub = publish($key, 60);
my $first = playlist_within($url, 30);
ok defined $first, 'the live playlist appears under /live/<id>/';
my $ready = Time::HiRes::time() - $t0;
diag sprintf 'publish start to first playable live playlist: %.1f s', $ready;
cmp_ok $ready, '<', 20, 'within 20 s of the publisher starting';
is row($id), 'LIVE t', 'the video is LIVE, isLiveNow';
my ($s, $b) = http_request($port, 'GET', "/api/live/$id");
like $b, qr/"isLiveNow":true/, 'the stream says so';
like $b, qr/"startedAt":"\d{4}-/, 'with its start';

my $probe = qx{ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '$url' 2>&1};
like $probe, qr/h264/, 'ffprobe reads the live video through nginx';
like $probe, qr/aac/, 'and its audio';

($s, $b) = http_request($port, 'GET', '/api/live/active');
like $b, qr/"id":"$id"/, 'the stream is active';

ok -f "$hls/$id/index.m3u8", 'nginx-rtmp writes HLS under the video id';
Time::HiRes::sleep(6);
my $live = (http_request($port, 'GET', "/live/$id/index.m3u8"))[1];
my ($after_first) = $live =~ /\.ts\n(.*)\z/s;
unlike $after_first // '', qr/DISCONTINUITY/, 'the live playlist runs without a break';
like $live, qr/#EXTINF:[12]\.\d+,/, 'in fragments of about 2 s';

# a second publisher with the same key
my $second = publish($key, 10);
$code = exited($second, 20);
ok defined $code && $code != 0, 'a second publisher with the same key is refused';
is row($id), 'LIVE t', 'and the stream goes on';
ok !defined exited($pub, 0), 'with its first publisher';

my @names = split /\n/, qx{find $hls $rec $data};
ok @names > 3, 'files were written';
is scalar(grep { index($_, $key) >= 0 } @names), 0, 'no file name holds the key';
my $playlist = (http_request($port, 'GET', "/live/$id/index.m3u8"))[1];
unlike $playlist, qr/\Q$key\E/, 'nor does the playlist';

# -- the publisher stops: the stream ends and becomes a VOD --------------------------

kill 'INT', $pub;
ok defined exited($pub, 15), 'the publisher stops';
ok wait_for(15, sub { row($id) =~ / f$/ }), 'isLiveNow turns false';
ok psql("SELECT live_ended_at IS NOT NULL FROM videos WHERE id = '$id'") eq 't', 'endedAt is set';
ok wait_for(180, sub { row($id) eq 'READY f' }), 'the recording is transcoded: READY';
cmp_ok psql("SELECT count(*) FROM video_variants WHERE video_id = '$id'"), '>=', 1, 'with variants';
cmp_ok psql("SELECT coalesce(duration, 0) FROM videos WHERE id = '$id'"), '>', 2, 'and a duration';
is psql("SELECT video_type FROM videos WHERE id = '$id'"), 'LIVE', 'still the stream it was';
ok -f "$data/videos-raw/$id/recording.flv", 'the recording is in the raw bucket';
is scalar(grep { /\.flv$/ } split /\n/, qx{find $rec -type f}), 0, 'and no longer on local disk';
($s, $b) = http_request($port, 'GET', "/api/live/$id/watch");
like $b, qr{"hlsUrl":"http://127\.0\.0\.1:$port/play/$id/}, 'watch now points at the VOD';
like $b, qr/"isLive":false/, 'not live';

$p = publish($key, 5);
$code = exited($p, 20);
ok defined $code && $code != 0, 'an ended stream cannot be published again';

# -- a private stream: the token rule, and stop drops the publisher ----------------------

my ($pid2, $key2, $url2) = create('{"title": "Private live", "visibility": "PRIVATE"}');
like $url2, qr{/live/$pid2/\d+-[A-Za-z0-9_-]{45}/index\.m3u8$}, 'a private stream\'s URL carries a token';
$pub = publish($key2, 60);
ok defined playlist_within($url2, 30), 'it plays with the token';
($s, $b) = http_request($port, 'GET', "/live/$pid2/index.m3u8");
is $s, 403, 'and not without';
like $b, qr/private/, 'saying why';
($s) = http_request($port, 'GET', "/live/$pid2/1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/index.m3u8");
is $s, 403, 'nor with a forged token';
($s) = http_request($port, 'GET', "/live/$pid2/..%2F..%2Fetc%2Fpasswd");
is $s, 404, 'paths cannot leave the stream';

($s, $b) = post("/api/live/$pid2/stop", '{"convertToVOD": false}');
is $s, 200, 'stop';
like $b, qr/"status":"READY"/, 'READY without converting';
ok defined exited($pub, 15), 'the publisher is dropped';
is row($pid2), 'READY f', 'the stream has ended';

# -- key rotation ------------------------------------------------------------------

my ($rid, $rkey) = create('{"title": "Rotated"}');
($s, $b) = post("/api/live/$rid/key");
my ($rkey2) = $b =~ /"streamKey":"([^"]+)"/;
$p = publish($rkey, 5);
$code = exited($p, 20);
ok defined $code && $code != 0, 'the old key no longer publishes';
is row($rid), 'PENDING f', 'and changes nothing';
$pub = publish($rkey2, 60);
ok wait_for(20, sub { row($rid) eq 'LIVE t' }), 'the new key does';
($s, $b) = post("/api/live/$rid/key");
is $s, 200, 'rotating the key while live';
my ($rkey3) = $b =~ /"streamKey":"([^"]+)"/;
ok defined exited($pub, 15), 'drops the publisher';
ok wait_for(15, sub { row($rid) =~ / f$/ }), 'and the stream ends';

# -- the hls application takes the push and no one else --------------------------------

# a local publisher straight to the hls application (no key, the live
# stream's id as name) would overwrite the stream's live HLS
my ($hid, $hkey) = create('{"title": "Relay"}');
$pub = publish($hkey, 60);
ok wait_for(20, sub { row($hid) eq 'LIVE t' }), 'a stream is live';
ok defined playlist_within("http://127.0.0.1:$port/live/$hid/index.m3u8", 30), 'its live HLS is written';
$p = fork // die;
if ($p == 0) {
    open STDIN, '<', '/dev/null'; open STDOUT, '>', '/dev/null'; open STDERR, '>>', "$dir/ffmpeg.log";
    exec 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi',
         '-i', 'testsrc=size=320x240:rate=25', '-t', 5, '-c:v', 'libx264', '-g', 50,
         '-pix_fmt', 'yuv420p', '-f', 'flv', "rtmp://127.0.0.1:$rtmp/hls/$hid-x" or POSIX::_exit(127);
}
push @publishers, $p;
$code = exited($p, 20);
ok defined $code && $code != 0, 'a publisher to the hls application without the relay secret is refused';
ok !-e "$hls/$hid-x", 'and writes no HLS';
kill 'INT', $pub;
ok defined exited($pub, 15), 'the stream\'s publisher stops';
my $elog = do { local (@ARGV, $/) = ("$dir/logs/error.log"); <> } // '';
like $elog, qr/live relay refused: not the live application's push/, 'the refusal is logged';
unlike $elog, qr/\Q$VideoApi::RELAY_SECRET\E/, 'without the secret';
ok wait_for(15, sub { row($hid) =~ / f$/ }), 'the stream ends';

# -- a publisher cannot make itself undroppable ---------------------------------------

# nginx-rtmp appends the stream name's query string raw to the callback:
# a clientid of the publisher's own choosing is refused with the publish
my ($uid, $ukey) = create('{"title": "Injected"}');
$p = publish("$ukey?clientid=1", 5);
$code = exited($p, 20);
ok defined $code && $code != 0, 'a publisher naming its own clientid is refused';
is row($uid), 'PENDING f', 'and nothing changes';

# with two workers, a rotation reaches the publisher's worker or another
# one (through Redis): it drops the publisher every time
my @drop_keys;
for my $trial (1 .. 4) {
    my ($tid, $tkey) = create(qq({"title": "Drop $trial"}));
    $pub = publish($tkey, 60);
    ok wait_for(20, sub { row($tid) eq 'LIVE t' }), "trial $trial: live";
    ($s, $b) = post("/api/live/$tid/key");
    push @drop_keys, $tkey, $b =~ /"streamKey":"([^"]+)"/;
    ok defined exited($pub, 15), "trial $trial: the rotation drops the publisher";
    ok wait_for(15, sub { row($tid) =~ / f$/ }), "trial $trial: and the stream ends";
}

# -- the key shows nowhere --------------------------------------------------------

my $logs = join '', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob "$dir/logs/*.log";
for my $k ($key, $key2, $rkey, $rkey2, $rkey3, $ukey, @drop_keys) {
    unlike $logs, qr/\Q$k\E/, 'no log line holds a stream key';
}
my $urls = join "\n", grep { /https?:|rtmp:/ } split /"/, (http_request($port, 'GET', '/api/videos?limit=100'))[1];
unlike $urls, qr/\Q$key\E|\Q$key2\E|\Q$rkey2\E/, 'nor any URL the API gives';
unlike $logs, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed worker';

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

done_testing();
