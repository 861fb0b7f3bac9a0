# conf/nginx.conf as `make run` renders and starts it (scripts/stack.sh,
# the installation's own secrets), against the test stack's PostgreSQL
# and Redis: a hostile client meets its limits (requests in progress per
# address, request rate, writes per account or address, view posts
# without a key), its callbacks location, an access log that keeps no
# token or signature, and one Cache-Control on each media answer.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;

# this suite says who calls, each time
$VideoApi::KEY = q{};
use Test::More;
use IO::Socket::INET;
use Time::HiRes ();
use File::Temp ();
use JSON::PP ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $base = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 30;
my $run = "$ENV{PWD}/t/servroot-shipped";
my %env = (VIDEO_API_RUN_DIR => $run, VIDEO_API_HTTP_PORT => $base,
           VIDEO_API_RTMP_PORT => $base + 1, VIDEO_API_STORE_PORT => $base + 2,
           VIDEO_API_PG_PORT => $ENV{TEST_NGINX_PG_PORT},
           VIDEO_API_REDIS_PORT => $ENV{TEST_NGINX_REDIS_PORT});

sub stack_cmd {
    local @ENV{keys %env} = values %env;
    my $out = qx{scripts/stack.sh @_ 2>&1};
    return ($? >> 8, $out);
}

END { stack_cmd('stop', 'nginx') if $run; }

system('rm', '-rf', $run);
my ($rc, $out) = stack_cmd('start', 'nginx');
is $rc, 0, 'the shipped configuration starts' or diag $out;
ok wait_for(20, sub { (http_request($base, 'GET', '/health'))[0] == 200 }), 'and is healthy';

# two accounts' keys: writes are limited per account (below)

my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
my %key;
{
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    psql("DELETE FROM api_keys WHERE name LIKE 'shipped-%'");
    psql("INSERT INTO accounts (id, name) VALUES ('shippedX', 'X'), ('shippedY', 'Y') ON CONFLICT DO NOTHING");
    for my $k (['x1', 'shippedX'], ['x2', 'shippedX'], ['y', 'shippedY']) {
        chomp($key{$k->[0]} = qx{$bin keys create --account $k->[1] --role editor --name shipped-$k->[0] 2>/dev/null});
    }
}
like $key{$_}, qr/^vapi_/, "a key ($_)" for sort keys %key;

# -- at most 64 requests in progress per address ------------------------------

# requests that never send their declared body stay in progress (writes
# of two accounts: each account's writes have a burst of 40)
my @held;
for my $i (1 .. 64) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $base, Timeout => 5)
        or last;
    print $c "PATCH /api/videos/V1StGXR8_Z5jdHi6B-myT HTTP/1.1\r\nHost: x\r\n"
           . "Authorization: Bearer " . ($i % 2 ? $key{x1} : $key{y}) . "\r\n"
           . "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    push @held, $c;
}
is scalar(@held), 64, '64 slow requests are taken';
Time::HiRes::sleep(0.3);
my ($s, $b) = http_request($base, 'GET', '/api/videos');
is $s, 429, 'the 65th from the same address is a 429';
like $b, qr/"status":429,"code":"TOO_MANY_REQUESTS"/, 'as a TOO_MANY_REQUESTS envelope';
close $_ for @held;
ok wait_for(5, sub { (http_request($base, 'GET', '/api/videos'))[0] == 200 }),
    'and requests pass again once they are gone';

# -- 50 requests a second, bursts of 200 ------------------------------------------

# the requests above used some of the burst: at 50 a second it is whole
# again after 4 s
Time::HiRes::sleep(4.5);
my %codes;
for (1 .. 400) {
    my ($st) = http_request($base, 'GET', '/api/nope');
    $codes{$st}++;
}
ok $codes{429}, "a flood of 400 requests meets the rate limit ($codes{429} were 429)";
ok $codes{404} >= 200, "after a burst of 200 went through ($codes{404})";

# -- per caller: writes by account (or address), anonymous views ----------------

# count the 429s of n requests (the general limit's burst is whole again
# after 4 s at 50 a second)
sub flood {
    my ($n, $method, $path, $key) = @_;
    my $h = defined $key ? "Authorization: Bearer $key\r\n" : undef;
    my %c;
    for (1 .. $n) {
        my ($st) = http_request($base, $method, $path, $method eq 'PATCH' ? '{}' : undef, $h);
        $c{$st}++;
    }
    return \%c;
}

Time::HiRes::sleep(4.5);
my $c = flood(60, 'PATCH', '/api/videos/V1StGXR8_Z5jdHi6B-myT', $key{x1});
ok $c->{429} && ($c->{400} // 0) >= 40, "one account's writes meet its limit after a burst of 40 ($c->{429} of 60 were 429)";
# x2's own bucket, were it one, would be whole (burst 40): a 429 for one of
# its few requests can only be the account's. Each try sends it right
# after a 429 of x1's; a slow machine may let a token (50 ms) refill
# between the two, so up to five tries
my $shared = 0;
for my $try (1 .. 5) {
    my ($st) = (0);
    for (1 .. 60) {
        ($st) = http_request($base, 'PATCH', '/api/videos/V1StGXR8_Z5jdHi6B-myT', '{}', "Authorization: Bearer $key{x1}\r\n");
        last if $st == 429;
    }
    ($s) = http_request($base, 'PATCH', '/api/videos/V1StGXR8_Z5jdHi6B-myT', '{}', "Authorization: Bearer $key{x2}\r\n");
    if ($s == 429) { $shared = $try; last }
}
ok $shared, "another key of the same account shares it (429 at try $shared)";
($s) = http_request($base, 'PATCH', '/api/videos/V1StGXR8_Z5jdHi6B-myT', '{}', "Authorization: Bearer $key{y}\r\n");
is $s, 400, 'another account does not';
($s) = http_request($base, 'GET', '/api/videos', undef, "Authorization: Bearer $key{x1}\r\n");
is $s, 200, 'and reads are not writes';

Time::HiRes::sleep(2.5);
$c = flood(60, 'PATCH', '/api/videos/V1StGXR8_Z5jdHi6B-myT');
ok $c->{429} && ($c->{401} // 0) >= 40, "without a key, writes are limited by address ($c->{429} of 60 were 429, the others 401)";

Time::HiRes::sleep(2.5);
$c = flood(40, 'POST', '/api/analytics/view/V1StGXR8_Z5jdHi6B-myT');
ok $c->{429} && ($c->{404} // 0) >= 20, "view posts without a key meet theirs after a burst of 20 ($c->{429} of 40 were 429)";
($s) = http_request($base, 'POST', '/api/analytics/view/V1StGXR8_Z5jdHi6B-myT', undef, "Authorization: Bearer $key{y}\r\n");
is $s, 404, 'a caller with a key is not held to it';

# -- the callbacks and the log ---------------------------------------------------

($s, $b) = curl('--interface', '127.0.0.2', '-X', 'POST', '--data-binary',
                'call=publish&name=x', "http://127.0.0.1:$base/api/live/verify/");
is $s, 403, 'a callback from another address is denied, trailing slash or not';

# -- the OpenAPI document and the API reference page ---------------------------

my $hdr;
($s, $b, $hdr) = curl("http://127.0.0.1:$base/api/openapi.json");
is $s, 200, 'GET /api/openapi.json';
like $hdr, qr{^Content-Type: application/json\r?$}mi, 'as application/json';
my $doc = eval { JSON::PP->new->decode($b) };
is $doc && $doc->{openapi}, '3.1.0', 'an OpenAPI 3.1 document';
ok $doc && $doc->{paths}{'/api/videos/{id}'}{get}, 'with the routes';
my $file = do { local (@ARGV, $/) = ('docs/openapi.json'); <> };
ok defined $b && $b eq $file, 'docs/openapi.json as it is';
($s, $b) = http_request($base, 'GET', '/api/openapi.json/', undef,
                        "Accept: application/json\r\n");
is $s, 404, 'GET /api/openapi.json/ is no alias of it';
like $b, qr/"code":"NOT_FOUND"/, 'but the API\'s 404 envelope';
($s, $b) = http_request($base, 'POST', '/api/openapi.json', '{}',
                        "Accept: application/json\r\n");
is $s, 405, 'POST /api/openapi.json is refused';
like $b, qr/"code":"METHOD_NOT_ALLOWED"/, 'as the 405 envelope';

($s, $b) = curl("http://127.0.0.1:$base/api.html");
is $s, 200, 'the API reference page';
like $b, qr{src="vendor/swagger-ui/swagger-ui-bundle\.js"}, 'with Swagger UI';
for my $f (['swagger-ui-bundle.js', 'application/javascript'],
           ['swagger-ui.css', 'text/css'])
{
    ($s, undef, $hdr) = curl("http://127.0.0.1:$base/vendor/swagger-ui/$f->[0]");
    is $s, 200, "/vendor/swagger-ui/$f->[0] from node_modules";
    like $hdr, qr{^Content-Type: \Q$f->[1]\E}mi, "as $f->[1]";
}
($s) = curl("http://127.0.0.1:$base/vendor/swagger-ui/package.json");
is $s, 404, 'and nothing else of the package';
($s) = curl('--path-as-is',
            "http://127.0.0.1:$base/vendor/swagger-ui/swagger-ui.css/../../../package.json");
isnt $s, 200, 'not even through ../';

# -- outside /api/: a JSON client gets the envelope, a browser the page ---------

($s, $b) = http_request($base, 'GET', '/unknown-route', undef,
                        "Accept: application/json\r\n");
is $s, 404, 'an unknown path outside /api/ is a 404';
like $b, qr/"status":404,"code":"NOT_FOUND"/, 'to a JSON client, as the 404 envelope';
unlike $b, qr/<html>/i, 'not a page';
($s, $b) = http_request($base, 'GET', '/unknown-route', undef,
                        "Accept: text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8\r\n");
is $s, 404, 'and to a browser';
like $b, qr/<html>/i, 'as a page';
($s, $b) = http_request($base, 'GET', '/unknown-route');
like $b, qr/<html>/i, 'and without Accept, as a page';

# -- the metrics: loopback only ------------------------------------------------

($s, $b) = http_request($base, 'GET', '/metrics');
is $s, 200, '/metrics answers loopback';
like $b, qr/^video_api_http_requests_total\{route="unmatched",method="GET",status="4xx"\} \d+$/m,
    'with the requests above';
{
    my $f = File::Temp->new;
    print $f $b;
    close $f;
    my $out = qx{promtool check metrics < $f 2>&1};
    is $?, 0, 'in a text promtool accepts' or diag $out;
}
($s) = curl('--interface', '127.0.0.2', "http://127.0.0.1:$base/metrics");
is $s, 403, 'and no other address';

my $token = '1790000000-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__dTwE';
http_request($base, 'GET', "/play/V1StGXR8_Z5jdHi6B-myT/$token/master.m3u8");
http_request($base + 2, 'GET', '/videos-raw/a/original.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256'
             . '&X-Amz-Signature=0123456789abcdef0123456789abcdef');
my $log = do { local (@ARGV, $/) = ("$run/logs/nginx-access.log"); <> } // '';
like $log, qr{"GET /play/V1StGXR8_Z5jdHi6B-myT/-/master\.m3u8 HTTP/1\.0"}, 'the access log writes a token as -';
like $log, qr{X-Amz-Signature=- HTTP/1\.0"}, 'and a signature';
unlike $log, qr/\Q$token\E|0123456789abcdef0123456789abcdef/, 'neither is in the log';

# -- what players and caches in front are told (README: Caching) ------------

my $vid = 'shipDLVAAAAAAAAAAAAAA';
psql("DELETE FROM videos WHERE id = '$vid'");
seed_video(id => $vid, title => 'Shipped', status => 'READY', visibility => 'PUBLIC',
           video_type => 'VOD', hls_manifest_key => "$vid/master.m3u8");
qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} DEL video:$vid};
system('mkdir', '-p', "$run/store/videos-processed/$vid", "$run/live/$vid") == 0 or die;
for my $f (["$run/store/videos-processed/$vid/master.m3u8", "#EXTM3U\n"],
           ["$run/store/videos-processed/$vid/a.ts", 'G' x 376],
           ["$run/live/$vid/index.m3u8", "#EXTM3U\n"],
           ["$run/live/$vid/$vid-1.ts", 'G' x 376]) {
    open my $fh, '>', $f->[0] or die "$f->[0]: $!";
    print $fh $f->[1];
    close $fh;
}
for my $c (["/play/$vid/master.m3u8", 200, 'public, max-age=300'],
           ["/play/$vid/a.ts", 200, 'public, max-age=31536000, immutable'],
           ["/live/$vid/index.m3u8", 200, 'public, max-age=1'],
           ["/live/$vid/$vid-1.ts", 200, 'public, max-age=60'],
           ["/play/$vid/b.ts", 404, 'no-store'],
           ["/live/$vid/$vid-2.ts", 404, 'no-store']) {
    my ($st, $bd, $hd) = curl("http://127.0.0.1:$base$c->[0]");
    is $st, $c->[1], "$c->[0]: $c->[1]";
    is join('|', $hd =~ /^Cache-Control: ([^\r\n]*)/mgi), $c->[2],
       "$c->[0]: one Cache-Control, $c->[2]";
    like $hd, qr/^ETag: "/mi, "$c->[0]: with an ETag" if $c->[1] == 200;
    like $bd, qr/"code":"NOT_FOUND"/, "$c->[0]: the envelope" if $c->[1] == 404;
}
psql("DELETE FROM videos WHERE id = '$vid'");

done_testing;
