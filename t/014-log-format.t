# The shipped JSON access log (log_format video_api_json in
# conf/nginx.conf, as `make run` renders and starts it) against the test
# stack: every line is a JSON object; it names the route, the video, the
# caller's account and key id, the error envelope's code, and the time
# spent waiting on PostgreSQL and Redis; and it holds no key, play token,
# query string, presigned signature or cookie.  Then video-worker with
# log_format = json: every line of its log is a JSON object, and a job's
# lines name the job and the video.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;

# this suite says who calls, each time
$VideoApi::KEY = q{};
use Test::More;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $base = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 75;
my $run = "$ENV{PWD}/t/servroot-log";
my %env = (VIDEO_API_RUN_DIR => $run, VIDEO_API_HTTP_PORT => $base,
           VIDEO_API_RTMP_PORT => $base + 1, VIDEO_API_STORE_PORT => $base + 2,
           VIDEO_API_PG_PORT => $ENV{TEST_NGINX_PG_PORT},
           VIDEO_API_REDIS_PORT => $ENV{TEST_NGINX_REDIS_PORT});
my $redis = "redis-cli -p $ENV{TEST_NGINX_REDIS_PORT}";
my %workers;

sub stack_cmd {
    local @ENV{keys %env} = values %env;
    my $out = qx{scripts/stack.sh @_ 2>&1};
    return ($? >> 8, $out);
}

END {
    kill 'TERM', values %workers;
    stack_cmd('stop', 'nginx') if $run;
}

system('rm', '-rf', $run);
my ($rc, $out) = stack_cmd('start', 'nginx');
is $rc, 0, 'the shipped configuration starts' or diag $out;
ok wait_for(20, sub { (http_request($base, 'GET', '/health'))[0] == 200 }), 'and is healthy';

my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
my $key;
{
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    psql("DELETE FROM api_keys WHERE name = 'log-format'");
    chomp($key = qx{$bin keys create --account default --role admin --name log-format 2>/dev/null});
}
like $key, qr/^vapi_/, 'an admin key of the default account';
my $key_id = psql("SELECT id FROM api_keys WHERE name = 'log-format'");
like $key_id, qr/^[A-Za-z0-9_-]{21}$/, 'whose public id is known';
my $auth = "Authorization: Bearer $key\r\n";

# a video of the default account
my $id = 'logfmtAAAAAAAAAAAAAAA';
psql("DELETE FROM videos WHERE id = '$id'");
seed_video(id => $id, title => 'logged', status => 'READY', visibility => 'PRIVATE');
system("$redis DEL video:$id >/dev/null");

# each request names itself in its User-Agent
sub req {
    my ($name, $method, $path, $body, $headers) = @_;
    return http_request($base, $method, $path, $body,
                        "User-Agent: t014/$name\r\n" . ($headers // ''));
}

my ($s, $b);
($s) = req('get', 'GET', "/api/videos/$id", undef, $auth);
is $s, 200, 'GET a video with the key';
($s) = req('cached', 'GET', "/api/videos/$id", undef, $auth);
is $s, 200, 'and again, from the cache';
($s) = req('missing', 'GET', '/api/videos/logfmtZZZZZZZZZZZZZZZ', undef, $auth);
is $s, 404, 'a video that is not there';
($s) = req('badid', 'GET', '/api/videos/not-an-id', undef, $auth);
is $s, 404, 'an id that is no id';
($s) = req('noroute', 'GET', '/api/nope', undef, $auth);
is $s, 404, 'no such route';
($s) = req('outside', 'GET', '/unknown-route', undef, "Accept: application/json\r\n");
is $s, 404, 'outside /api/, a JSON client (the error filter)';
my $bogus = 'vapi_' . ('Q' x 40);
($s) = req('badkey', 'GET', "/api/videos/$id", undef, "Authorization: Bearer $bogus\r\n");
is $s, 401, 'a key that is no key';
($s, $b) = req('badjson', 'PATCH', "/api/videos/$id", '{"title":', $auth);
is $s, 400, 'malformed JSON';
my ($badjson_code) = $b =~ /"code":"([A-Z_]+)"/;

# hostile text where the log writes what the client sent: quotes,
# backslashes and control bytes in the path and the User-Agent, a long path
http_request($base, 'GET', qq{/api/videos/a"b\\c%22%5C%0A\xff\xc3}, undef,
             qq{User-Agent: t014/"quoted\\" \x01\x7f\xff\xc3\r\n$auth});
http_request($base, 'GET', "/api/videos/caf\xc3\xa9", undef,
             "User-Agent: t014/caf\xc3\xa9\r\n$auth");
($s) = req('hostile', 'GET', '/api/videos/' . ('%22' x 1000) . '?' . ('x' x 2000), undef, $auth);
is $s, 404, 'a long path of escaped quotes';

# secrets in the query, a cookie, a play token in the path
my $qtoken = 'QTOKENsecret0123456789abcdefQTOKEN';
my $cookie = 'COOKIEsecret0123456789abcdefCOOKIE';
($s) = req('query', 'GET', "/api/videos/$id?token=$qtoken&x=1", undef,
           "${auth}Cookie: session=$cookie\r\n");
is $s, 200, 'a query that carries a token, and a cookie';
my $ptoken = '1790000000-P70eCuw1miR4W5iOe9pDwaKHO_3bealrVyBUVNu__dTwE';
req('play', 'GET', "/play/$id/$ptoken/master.m3u8");

# a public video's playlist, served from the store after an internal
# redirect: the line is still the route's
my $pub = 'logfmtPUBLICAAAAAAAAA';
psql("DELETE FROM videos WHERE id = '$pub'");
seed_video(id => $pub, title => 'public', status => 'READY', visibility => 'PUBLIC',
           hls_manifest_key => "$pub/master.m3u8");
system("$redis DEL video:$pub >/dev/null");
system('mkdir', '-p', "$run/store/videos-processed/$pub");
{ open my $fh, '>', "$run/store/videos-processed/$pub/master.m3u8" or die $!; print $fh "#EXTM3U\n"; }
($s, $b) = req('served', 'GET', "/play/$pub/master.m3u8");
is $s, 200, 'a public playlist is served';
like $b, qr/^#EXTM3U/, 'from the store';

# a presigned upload: the store's line keeps the path only
($s, $b) = req('presign', 'POST', '/api/upload/presign',
               q({"fileName": "a.mp4", "fileSize": 4, "contentType": "video/mp4"}), $auth);
is $s, 201, 'presign';
my ($url) = $b =~ /"uploadUrl":"([^"]+)"/;
my ($sig) = ($url // '') =~ /X-Amz-Signature=([0-9a-f]+)/;
my ($cred) = ($url // '') =~ /X-Amz-Credential=([^&]+)/;
ok $sig && $cred, 'its URL is signed';
my $file = "$run/four.bin";
{ open my $fh, '>', $file or die $!; print $fh 'abcd'; }
($s) = curl('-X', 'PUT', '--upload-file', $file, '-A', 't014/put',
            '-H', 'Content-Type: video/mp4', '-H', 'If-None-Match: *', $url);
is $s, 200, 'and the PUT to storage';

# PostgreSQL holds the row: the PATCH waits for it
my $locker = fork // die "fork: $!";
if ($locker == 0) {
    { exec 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, qw(-XAtq -c),
          "BEGIN; SELECT 1 FROM videos WHERE id = '$id' FOR UPDATE; "
          . "SELECT pg_sleep(3.0); COMMIT;"; }
    POSIX::_exit(127);
}
wait_for(5, sub { psql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                       . "AND state = 'active' AND query LIKE '%pg_sleep(3.0)%'") > 0 });
($s) = req('patch', 'PATCH', "/api/videos/$id", '{"title":"logged again"}', $auth);
is $s, 200, 'a PATCH while another transaction holds the row';
waitpid $locker, 0;

# Redis holds its clients: the GET waits for it
system("$redis CLIENT PAUSE 500 ALL >/dev/null");
($s) = req('paused', 'GET', "/api/videos/$id", undef, $auth);
is $s, 200, 'a GET while Redis is paused';

# -- the lines ---------------------------------------------------------------

my $logfile = "$run/logs/nginx-access-json.log";
ok wait_for(5, sub { my $l = do { local (@ARGV, $/) = ($logfile); <> } // ''; $l =~ m{t014/paused} }),
    'the JSON access log has the lines';
my $raw = do { local (@ARGV, $/) = ($logfile); <> } // '';
my (%line, $bad);
for my $l (split /\n/, $raw) {
    my $j = eval { JSON::PP::decode_json($l) };
    if (ref $j ne 'HASH') {
        $bad //= $l;
        next;
    }
    $line{$1} = [$j, $l] if ($j->{user_agent} // '') =~ m{^t014/(\w+)$};
}
ok !defined $bad, 'every line is a JSON object' or diag $bad;

for my $n (qw(get cached missing badid noroute outside badkey badjson hostile query
              play served presign put patch paused))
{
    ok $line{$n}, "the line of $n is there" or next;
    my ($j, $l) = @{$line{$n}};
    like $l, qr/"pg_time":\d+\.\d{3},"redis_time":\d+\.\d{3}[,}]/, "$n: the times are seconds.milliseconds";
    like $j->{time}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, "$n: an ISO 8601 time";
    like $j->{request_id}, qr/^[0-9a-f]{32}$/, "$n: a request id";
    like $j->{request_time}, qr/^\d+(\.\d+)?$/, "$n: a request time";
    unlike $j->{path}, qr/\?/, "$n: no query in the path";
}

my ($j);
$j = $line{get}[0];
is_deeply [@$j{qw(method path status route video_id account key_id role error_code)}],
          ['GET', "/api/videos/$id", 200, '/api/videos/:id', $id, 'default', $key_id, 'admin', ''],
          'GET: route, video, account, key id, role, no error code';
$j = $line{missing}[0];
is_deeply [@$j{qw(status route video_id error_code)}],
          [404, '/api/videos/:id', 'logfmtZZZZZZZZZZZZZZZ', 'NOT_FOUND'],
          'a missing video: its id, NOT_FOUND';
$j = $line{badid}[0];
is_deeply [@$j{qw(status route video_id error_code)}], [404, '/api/videos/:id', '', 'NOT_FOUND'],
          'an id that is no id is not written as one';
$j = $line{noroute}[0];
is_deeply [@$j{qw(status route video_id error_code)}], [404, '', '', 'NOT_FOUND'],
          'no route: NOT_FOUND, no route';
$j = $line{outside}[0];
is_deeply [@$j{qw(status path error_code)}], [404, '/unknown-route', 'NOT_FOUND'],
          "nginx's own 404, as an envelope: NOT_FOUND";
$j = $line{badkey}[0];
is_deeply [@$j{qw(status account key_id error_code)}], [401, '', '', 'UNAUTHORIZED'],
          'a refused key: UNAUTHORIZED, no account, no key id';
$j = $line{badjson}[0];
is $j->{error_code}, $badjson_code, "malformed JSON: the envelope's code ($badjson_code)";
$j = $line{hostile}[0];
is_deeply [@$j{qw(path video_id error_code)}], ['/api/videos/' . ('%22' x 1000), '', 'NOT_FOUND'],
          'a long path of escaped quotes: as sent, no query';
ok scalar(grep { m{"user_agent":"t014/\\"quoted\\\\\\" \\u0001\x7f\?\?"} } split /\n/, $raw),
   'quotes and control bytes in the User-Agent are escaped, what is not UTF-8 is "?"';
ok scalar(grep { m{"path":"/api/videos/a\\"b\\\\c%22%5C%0A\?\?"} } split /\n/, $raw),
   'and in the path';
ok scalar(grep { m{"path":"/api/videos/caf\xc3\xa9".*"user_agent":"t014/caf\xc3\xa9"} } split /\n/, $raw),
   'UTF-8 is kept as it is';
$j = $line{query}[0];
is $j->{path}, "/api/videos/$id", 'the path, without its query';
$j = $line{play}[0];
is_deeply [@$j{qw(path route video_id)}], ["/play/$id/-/master.m3u8", '/play/:id/*', $id],
          'a play path: the token as -';
$j = $line{served}[0];
is_deeply [@$j{qw(status path route video_id error_code)}],
          [200, "/play/$pub/master.m3u8", '/play/:id/*', $pub, ''],
          'a playlist served after an internal redirect: the route and video kept';
$j = $line{presign}[0];
is_deeply [@$j{qw(status route error_code)}], [201, '/api/upload/presign', ''], 'presign';
$j = $line{put}[0];
like $j->{path}, qr{^/videos-raw/[A-Za-z0-9_-]{21}/original\.mp4$}, 'the PUT to storage: its path only';
is $j->{status}, 200, 'and its status';
$j = $line{patch}[0];
cmp_ok $j->{pg_time}, '>=', 0.5, "PATCH: the wait on the held row is in pg_time ($j->{pg_time})";
cmp_ok $j->{pg_time}, '<=', $j->{request_time} + 0.001, 'and within the request time';
$j = $line{paused}[0];
cmp_ok $j->{redis_time}, '>=', 0.2, "GET: the wait on the paused Redis is in redis_time ($j->{redis_time})";
$j = $line{cached}[0];
is $j->{pg_time}, 0, 'a cached GET waited on no statement';

for my $secret ($key, $bogus, $qtoken, $cookie, $ptoken, $sig, $cred) {
    next unless defined $secret;
    unlike $raw, qr/\Q$secret\E/, 'no secret in the log: ' . substr($secret, 0, 8) . '...';
}
unlike $raw, qr/vapi_|Bearer|X-Amz-|token=|session=/i, 'no key, header, signature or query';

# -- the worker's JSON log ---------------------------------------------------------

my $dir = "$run/worker";
mkdir $dir; mkdir "$dir/logs";
system("scripts/stack.sh rabbitmqctl -q purge_queue video-cleanup >/dev/null 2>&1");
my %wenv = worker_env($dir, $base, 'http://127.0.0.1:1',
                      VIDEO_WORKER_LOG_FORMAT => 'json', VIDEO_WORKER_MAX_ATTEMPTS => 1);
$workers{$_} = worker_start($dir, $_, %wenv) for qw(relay cleanup);

($s) = req('delete', 'DELETE', "/api/videos/$id", undef, $auth);
is $s, 200, 'DELETE: a cleanup job';

sub wlog { return do { local (@ARGV, $/) = ("$dir/logs/worker-$_[0].log"); <> } // '' }
ok wait_for(20, sub { wlog('cleanup') =~ /\Q$id\E/ }), 'the cleanup worker takes the job';
Time::HiRes::sleep(0.5);
kill 'TERM', values %workers;
waitpid $_, 0 for values %workers;
%workers = ();

for my $role (qw(relay cleanup)) {
    my @lines = split /\n/, wlog($role);
    ok @lines >= 2, "$role: lines (" . scalar(@lines) . ')';
    my @bad = grep { my $o = eval { JSON::PP::decode_json($_) }; ref $o ne 'HASH'
                     || !defined $o->{time} || !defined $o->{message}
                     || ($o->{level} // '') !~ /^(error|warn|info)$/
                     || ($o->{role} // '') ne $role } @lines;
    is scalar(@bad), 0, "$role: every line is a JSON object with time, level, role and message"
        or diag $bad[0];
}
my ($job) = grep { ($_->{video_id} // '') eq $id }
            map { eval { JSON::PP::decode_json($_) } || () } split /\n/, wlog('cleanup');
ok $job, 'the job\'s line names its video';
like $job->{job_id} // '', qr/^\d+$/, 'and its job (the outbox row)';
my $outbox = psql("SELECT id FROM outbox WHERE topic = 'video-cleanup' AND payload->>'videoId' = '$id' ORDER BY id DESC LIMIT 1");
is $job->{job_id}, $outbox, 'the outbox row of the DELETE' if $outbox ne '';
like wlog('relay'), qr/"message":"starting \(video-worker/, 'the relay starts in JSON';

done_testing;
