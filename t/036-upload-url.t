# Upload from a URL (POST /api/upload/url) with the real stack: nginx, the
# relay and transcode workers, PostgreSQL, RabbitMQ and the store.  The
# sources are served by a server block of the suite's nginx on 127.0.0.1,
# reached by the name "localhost", which the workers' fetch_allow lets
# through: a clip (sent slowly, so the fetch is seen in the progress
# route) becomes a READY video that plays, its original in storage.  A
# URL that is malformed, not http(s), or names a literal address that is
# not public is a 400 that creates nothing; a redirect to a loopback
# address, a source over fetch_max_bytes or over the account's byte quota
# and a 404 make the video FAILED with the reason, never retried.  Only
# editors of an account create, in their own account, within its limits.
# sanitizers: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use JSON::PP ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-upload-url";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 115;
my $store = $port + 1;
my $src = $port + 2;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $S = "http://localhost:$src";
my %workers;

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
mkdir "$dir/www";
system('chown', '-R', 'nobody', $data) if $> == 0;

my %key = access_reset(
    accounts => [['urlA'], ['urlB'], ['urlQ', qw(--max-videos 1)],
                 ['urlBytes', qw(--max-bytes 1000)],
                 ['urlBytes2', qw(--max-bytes 10000000)]],
    keys => [['editorA', 'urlA', 'editor'], ['viewerA', 'urlA', 'viewer'],
             ['editorB', 'urlB', 'editor'], ['editorQ', 'urlQ', 'editor'],
             ['editorBytes', 'urlBytes', 'editor'],
             ['editorBytes2', 'urlBytes2', 'editor']]);
$VideoApi::KEY = $key{editorA};

psql('TRUNCATE outbox');
system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");
system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
    for qw(video-transcode video-cleanup);

# -- the sources ---------------------------------------------------------------

my $clip = "$dir/www/clip.mp4";
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=4:size=320x240:rate=25',
       '-f', 'lavfi', '-i', 'sine=duration=4',
       '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
       '-b:v', '400k', '-c:a', 'aac', $clip) == 0 or die "ffmpeg failed";
my $size = -s $clip;
open my $fh, '>', "$dir/www/big.bin" or die;
print $fh 'b' x 2_000_000;
close $fh;
chmod 0755, $dir, "$dir/www";
chmod 0644, glob("$dir/www/*");

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '100m')}
    server {
        listen 127.0.0.1:$src;
        root $dir/www;
        location /slow/ {
            alias $dir/www/;
            limit_rate 48k;
        }
        location = /to-loopback { return 302 http://127.0.0.2:$src/clip.mp4; }
        location = /missing.mp4 { return 404; }
    }
CONF
        location /play/ { video_api play; }
        location /_video_api/media/ {
            internal;
            alias $data/;
        }
${\ probe_location($endpoint)}
SERVER

my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_FETCH_ALLOW => '127.0.0.1/32',
                     VIDEO_WORKER_FETCH_MAX_BYTES => 1_000_000,
                     VIDEO_WORKER_FETCH_TIMEOUT => 60);
$workers{$_} = worker_start($dir, $_, %env) for qw(relay transcode);

# -- helpers -------------------------------------------------------------------

my $json = JSON::PP->new->allow_nonref;

sub decode {
    my ($b) = @_;
    return eval { $json->decode($b) } // {};
}

# a request as $who (a key's name; '' for none): (status, body, decoded)
sub call {
    my ($who, $method, $path, $body) = @_;
    local $VideoApi::KEY = $who eq '' ? '' : $key{$who};
    my ($s, $b) = http_request($port, $method, $path, $body);
    return ($s, $b, decode($b));
}

sub create {
    my ($who, $body) = @_;
    return call($who, 'POST', '/api/upload/url', $body);
}

sub counts {
    return psql('SELECT (SELECT count(*) FROM videos) || \' \''
                . ' || (SELECT count(*) FROM outbox)');
}

sub worker_log {
    my ($role) = @_;
    return do { local (@ARGV, $/) = ("$dir/logs/worker-$role.log"); <> } // '';
}

# polls the progress route until READY or FAILED: every answer's data
sub wait_done {
    my ($id, $seconds, $who) = @_;
    my @seen;
    wait_for($seconds, sub {
        my (undef, undef, $d) = call($who // 'editorA', 'GET',
                                     "/api/videos/$id/progress");
        my $p = $d->{data} or return 0;
        push @seen, $p;
        return $p->{status} eq 'READY' || $p->{status} eq 'FAILED';
    });
    return @seen;
}

# -- a clip from a URL becomes a READY video ----------------------------------

my $before = counts();
my ($s, $b, $d) = create('editorA', qq({"url": "$S/slow/clip.mp4", "title": "From a URL", "description": "fetched"}));
is $s, 201, 'POST /api/upload/url: 201';
my $v = $d->{data}{video} // {};
my $id = $v->{id} // '';
like $id, qr/^[A-Za-z0-9_-]{21}$/, '... a new video id';
is $v->{status}, 'PENDING', '... PENDING';
is $v->{visibility}, 'PRIVATE', '... PRIVATE';
is $v->{title}, 'From a URL', '... with its title';
is psql("SELECT account_id || ' ' || original_key || ' ' || source_url FROM videos WHERE id = '$id'"),
   "urlA $id/original $S/slow/clip.mp4", '... in the caller\'s account, its original key and source recorded';
is psql("SELECT count(*) FROM outbox WHERE payload->>'videoId' = '$id' AND payload->>'type' = 'transcode'"
        . " AND payload->>'sourceUrl' = '$S/slow/clip.mp4' AND payload->>'inputKey' = '$id/original'"),
   1, '... and one transcode job naming the source, created with it';

my @seen = wait_done($id, 120);
my $last = $seen[-1] // {};
is $last->{status}, 'READY', 'the fetched clip becomes READY';
my @fetching = grep { $_->{status} eq 'PROCESSING' && $_->{fetch} && !$_->{fetch}{done}
                      && $_->{fetch}{bytes} > 0 && $_->{fetch}{bytes} < $size } @seen;
ok scalar @fetching, 'the fetch is seen in the progress route as it goes ('
   . join(' ', map { $_->{fetch} ? $_->{fetch}{bytes} : '-' } @seen[0 .. ($#seen < 12 ? $#seen : 12)]) . ' ...)';
ok !(grep { $_->{progress} != 0 } @fetching), '... transcoding progress 0 while fetching';
ok((grep { $_->{fetch}{total} && $_->{fetch}{total} == $size } @fetching),
   '... the total the source announced');
my ($back_p, $back_f) = (0, 0);
for my $i (1 .. $#seen) {
    $back_p++ if $seen[$i]{progress} < $seen[$i - 1]{progress};
    $back_f++ if ($seen[$i]{fetch}{bytes} // 0) < ($seen[$i - 1]{fetch}{bytes} // 0);
}
is $back_p, 0, 'progress never goes back, from fetching to READY';
is $back_f, 0, 'nor do the fetched bytes';
is_deeply $last->{fetch}, { bytes => $size, total => $size, done => JSON::PP::true },
   "READY: the whole source fetched ($size bytes)";
is -s "$data/videos-raw/$id/original", $size, 'the original is in storage as fetched';
is psql("SELECT original_size FROM videos WHERE id = '$id'"), $size,
   'its size is the original\'s';
is quota_drift(), '', 'the account counts it';

($s, $b, $d) = call('editorA', 'GET', "/api/videos/$id");
is $s, 200, 'GET the video';
my @rungs = map { $_->{resolution} } @{$d->{data}{video}{variants} // $d->{data}{variants} // []};
ok scalar @rungs, "with variants (@rungs)";
my $url = $d->{data}{video}{playbackUrl} // $d->{data}{playbackUrl} // '';
like $url, qr{^http://127\.0\.0\.1:$port/play/$id/.+/master\.m3u8$}, 'a signed play URL';
my ($ms, $master) = curl($url);
is $ms, 200, 'the master playlist plays';
my ($rung) = $master =~ /^(\d+p\/playlist\.m3u8)$/m;
$rung //= 'none';
(my $rurl = $url) =~ s{master\.m3u8$}{$rung};
my $probe = qx{ffprobe -v error -show_entries format=duration -of default=nw=1 '$rurl' 2>&1};
my ($dur) = $probe =~ /^duration=([\d.]+)$/m;
ok defined $dur && abs($dur - 4) <= 0.5, 'ffprobe plays a rung of it, 4 s long (' . ($dur // $probe) . ')';

# -- a video deleted while its source is fetched -----------------------------------

($s, $b, $d) = create('editorA', qq({"url": "$S/slow/clip.mp4", "title": "Deleted early"}));
my $del = $d->{data}{video}{id} // '';
ok wait_for(30, sub {
    my (undef, undef, $p) = call('editorA', 'GET', "/api/videos/$del/progress");
    return (($p->{data}{fetch} // {})->{bytes} // 0) > 0;
}), 'a second fetch under way';
($s) = call('editorA', 'DELETE', "/api/videos/$del");
is $s, 200, '... its video deleted meanwhile';
ok wait_for(30, sub { worker_log('transcode') =~ /video $del FAILED: the video was deleted while its source was fetched/ }),
   '... stops the fetch';
ok !-e "$data/videos-raw/$del/original", '... and nothing is left in storage';

# -- Idempotency-Key ------------------------------------------------------------

my $ibody = qq({"url": "$S/missing.mp4", "title": "Once"});
my @idem = ('-X', 'POST', '-H', 'Content-Type: application/json',
            '-H', 'Idempotency-Key: url-suite-once', '--data-binary', $ibody,
            "http://127.0.0.1:$port/api/upload/url");
$before = counts();
my ($s1, $b1) = curl(@idem);
my ($s2, $b2, $h2) = curl(@idem);
is $s1, 201, 'with an Idempotency-Key: 201';
is $s2, 201, '... again: 201';
is $b2, $b1, '... the same answer';
like $h2, qr/^Idempotent-Replayed: true\r?$/mi, '... replayed';
my ($v1, $o1) = split ' ', $before;
is counts(), ($v1 + 1) . ' ' . ($o1 + 1), '... one video and one job';
$idem[-2] = qq({"url": "$S/clip.mp4", "title": "Once"});
my ($s3, $b3) = curl(@idem);
is $s3, 409, '... the same key with another URL: 409';
is counts(), ($v1 + 1) . ' ' . ($o1 + 1), '... nothing more created';
my $once = decode($b1)->{data}{video}{id} // '';

# -- refused by the route: 400, nothing created -----------------------------------

my @bad = (
    [qq({"url": "http://127.0.0.1:$src/clip.mp4"}), qr/^url refused: source address 127\.0\.0\.1 is not public \(loopback\)$/, 'a loopback address'],
    [qq({"url": "http://[::1]:$src/clip.mp4"}), qr/^url refused: source address ::1 is not public \(loopback\)$/, 'IPv6 loopback'],
    [qq({"url": "http://2130706433:$src/clip.mp4"}), qr/^url refused: source address 127\.0\.0\.1 is not public/, 'loopback as a number'],
    [qq({"url": "http://[::ffff:127.0.0.1]/"}), qr/^url refused: source address .*127\.0\.0\.1 is not public \(loopback, IPv4-mapped\)$/, 'IPv4-mapped loopback'],
    [qq({"url": "http://169.254.169.254/latest/meta-data/"}), qr/^url refused: .*\(link-local\)$/, 'the metadata address'],
    [qq({"url": "http://10.1.2.3/clip.mp4"}), qr/^url refused: .*\(private\)$/, 'a private address'],
    [qq({"url": "http://100.64.0.1/clip.mp4"}), qr/^url refused: .*\(carrier-grade NAT\)$/, 'a CGNAT address'],
    [qq({"url": "ftp://example.com/clip.mp4"}), qr/^url is not a usable http\(s\) URL: only http and https/, 'ftp'],
    [qq({"url": "file:///etc/passwd"}), qr/^url is not a usable http\(s\) URL/, 'file'],
    [qq({"url": "gopher://example.com/"}), qr/^url is not a usable http\(s\) URL/, 'gopher'],
    [qq({"url": "not a url"}), qr/^url is not a usable http\(s\) URL/, 'not a URL'],
    [qq({"url": "http://user:pass\@example.com/clip.mp4"}), qr/user name or password/, 'a user name and password'],
    [qq({"url": "http://exa mple.com/"}), qr/^url is not a usable http\(s\) URL/, 'a space'],
    [qq({"url": ""}), qr/^url is not a usable http\(s\) URL: empty URL$/, 'empty'],
    [qq({"url": "http://example.com/}) . ('a' x 2100) . qq("}), qr/^url must be at most 2048 characters$/, 'over 2048 characters'],
    [qq({"url": 42}), qr/^url must be a string$/, 'not a string'],
    [qq({"title": "no url"}), qr/^url is required$/, 'no url'],
    [qq({"url": "https://example.com/a.mp4", "title": ""}), qr/^title must be 1 to 255 characters$/, 'an empty title'],
    [qq({"url": "https://example.com/a.mp4", "title": "}) . ('t' x 256) . qq("}), qr/^title must be 1 to 255 characters$/, 'a title too long'],
    [qq({"url": "https://example.com/a.mp4", "description": 7}), qr/^description must be a string or null$/, 'a description not a string'],
);
$before = counts();
for my $t (@bad) {
    my ($body, $re, $name) = @$t;
    ($s, $b, $d) = create('editorA', $body);
    is $s, 400, "$name: 400";
    is $d->{error}{code}, 'VALIDATION_ERROR', '... VALIDATION_ERROR';
    my @m = map { $_->{message} } @{$d->{error}{details} // []};
    ok((grep { $_ =~ $re } @m), "... saying why (@m)");
}
($s, $b, $d) = create('editorA', '[1]');
is $s, 400, 'a body that is not an object: 400';
($s, $b, $d) = create('editorA', '{"url": ');
is $s, 400, 'a body that is not JSON: 400';
is counts(), $before, 'none of them created a video or a job';

# -- refused or failed by the worker: FAILED with the reason, no retry ------------

my %failed = (
    "$S/to-loopback" => [qr/^source URL refused: .*source address 127\.0\.0\.2 is not public \(loopback\)/, 'a redirect to 127.0.0.2'],
    "$S/big.bin" => [qr/^source larger than fetch_max_bytes \(1000000 bytes\)$/, 'a source over fetch_max_bytes'],
    "$S/missing.mp4" => [qr/^source answered HTTP 404$/, 'a 404'],
    "http://localhost:1/clip.mp4" => [qr/^gave up after 3 attempts: source fetch failed: cannot connect to the source/, 'nothing listening (retried: the network may come back)'],
);
my %fid;
for my $u (sort keys %failed) {
    ($s, $b, $d) = create('editorA', qq({"url": "$u"}));
    is $s, 201, "$failed{$u}[1]: created (the route cannot know)";
    $fid{$u} = $d->{data}{video}{id} // '';
}
for my $u (sort keys %failed) {
    my ($re, $name) = @{$failed{$u}};
    my $fv = $fid{$u};
    my @p = wait_done($fv, $u =~ /:1\// ? 90 : 60);
    my $p = $p[-1] // {};
    is $p->{status}, 'FAILED', "$name: FAILED";
    like $p->{error} // '', $re, "... with the reason ($p->{error})";
    ok !-e "$data/videos-raw/$fv/original", '... nothing in storage';
    is psql("SELECT COALESCE(original_size, -1) FROM videos WHERE id = '$fv'"), -1,
       '... no size counted';
    if ($u !~ /:1\//) {
        unlike worker_log('transcode'), qr/video $fv, attempt/, '... not retried';
    }
}
ok wait_for(30, sub { psql("SELECT status FROM videos WHERE id = '$once'") eq 'FAILED' }),
   'the idempotent 404 ends FAILED too';
is quota_drift(), '', 'the counts agree after the failures';

# -- who may create, and see ------------------------------------------------------

$before = counts();
($s, $b, $d) = create('', qq({"url": "$S/clip.mp4"}));
is $s, 401, 'no key: 401';
is $d->{error}{code}, 'UNAUTHORIZED', '... UNAUTHORIZED';
($s, $b, $d) = create('viewerA', qq({"url": "$S/clip.mp4"}));
is $s, 403, 'a viewer: 403';
is $d->{error}{code}, 'FORBIDDEN', '... FORBIDDEN';
is counts(), $before, '... neither created anything';

($s) = call('editorB', 'GET', "/api/videos/$id");
is $s, 404, 'another account\'s editor does not see the video';
($s) = call('editorB', 'GET', "/api/videos/$id/progress");
is $s, 404, '... nor its progress';
($s) = call('editorB', 'DELETE', "/api/videos/$id");
is $s, 404, '... nor deletes it';
is psql("SELECT status FROM videos WHERE id = '$id'"), 'READY', '... which stays as it was';

# -- quotas ------------------------------------------------------------------------

($s, $b, $d) = create('editorQ', qq({"url": "$S/missing.mp4"}));
is $s, 201, 'an account with room for one video: the first, 201';
my $qid = $d->{data}{video}{id} // '';
$before = counts();
($s, $b, $d) = create('editorQ', qq({"url": "$S/clip.mp4"}));
is $s, 403, '... the second: 403';
is $d->{error}{code}, 'QUOTA_EXCEEDED', '... QUOTA_EXCEEDED';
is $d->{error}{details}[0]{limit}, 'maxVideos', '... naming maxVideos';
is counts(), $before, '... nothing created';
is psql("SELECT used_videos FROM accounts WHERE id = 'urlQ'"), 1, '... one video counted';

($s, $b, $d) = create('editorBytes', qq({"url": "$S/clip.mp4"}));
is $s, 201, 'an account with 1000 bytes left: created';
my $bid = $d->{data}{video}{id} // '';
my @p = wait_done($bid, 60, 'editorBytes');
is $p[-1]{status}, 'FAILED', '... the fetch of a larger source: FAILED';
is $p[-1]{error}, "source larger than what the account's byte quota has left (1000 bytes)",
   '... saying so';
is psql("SELECT used_bytes FROM accounts WHERE id = 'urlBytes'"), 0, '... no bytes counted';
# the limit lowered while the source is fetched: checked again once its
# size is known
($s, $b, $d) = create('editorBytes2', qq({"url": "$S/slow/clip.mp4"}));
my $lowered = $d->{data}{video}{id} // '';
ok wait_for(30, sub {
    my (undef, undef, $p) = call('editorBytes2', 'GET', "/api/videos/$lowered/progress");
    return (($p->{data}{fetch} // {})->{bytes} // 0) > 0;
}), 'an account with 10 MB left: its fetch under way';
psql("UPDATE accounts SET max_bytes = 1000 WHERE id = 'urlBytes2'");
@p = wait_done($lowered, 60, 'editorBytes2');
is $p[-1]{status}, 'FAILED', '... its limit lowered to 1000 bytes meanwhile: FAILED';
is $p[-1]{error}, "source larger than what the account's byte quota has left (1000 bytes)",
   '... once the size is known';
ok !-e "$data/videos-raw/$lowered/original", '... the original removed from storage';
is psql("SELECT used_bytes FROM accounts WHERE id = 'urlBytes2'"), 0, '... no bytes counted';

wait_done($qid, 60, 'editorQ');
is quota_drift(), '', 'the counts agree at the end';

done_testing();
