# The Prometheus metrics of a location with "video_api_metrics", in one
# nginx lifetime with two workers: exact counts of known traffic by route
# template, method and status class, histograms that add up, gauges back
# at rest, text promtool accepts, every worker's requests in every scrape,
# counters kept and gauges right across a reload and a killed worker.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use Time::HiRes ();
use POSIX ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-metrics";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 8;
my $spread = $port + 1;     # reuseport: connections spread over the workers
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $id = 'metricsAAAAAAAAAAAAAA';
my $missing = 'metricsZZZZZZZZZZZZZZ';
my $pool = 2;

END {
    nginx_stop($dir) if $dir;
    if ($ENV{TEST_NGINX_PG_CONNINFO}) { stack(qw(start pg)); stack(qw(start redis)); }
}

psql("DELETE FROM videos WHERE id LIKE 'metrics%'");
seed_video(id => $id, title => 'counted');
# the view route's set of ids, which an earlier run's analytics worker may
# have marked complete without this video: filled again from PostgreSQL
qx{redis-cli -p $rport DEL video:$id video:$missing video:ids video:ids:complete};

my $rtmp = $port + 2;
my $main = "rtmp { server { listen 127.0.0.1:$rtmp; application live { live on; } } }";
nginx_start($dir, $port, <<"CONF", <<'SERVER', workers => 2, main => $main);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=$pool timeout=2s;
    video_api_redis 127.0.0.1:$rport timeout=1s cache_ttl=30s;
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=metrics-suite-secret;

    server {
        listen 127.0.0.1:$spread reuseport;
        add_header X-Worker \$pid always;
        location /api/ { video_api all; }
    }
CONF
        location = /metrics {
            video_api_metrics;
            allow 127.0.0.1;
            deny all;
        }
        location /_video_api/rtmp/ { internal; rtmp_control all; }
        location ~ ^/api/live/(verify|unpublish|record|relay) {
            allow 127.0.0.1;
            deny all;
            video_api live_callbacks;
        }
SERVER

ok wait_for(10, sub { (http_request($port, 'GET', '/health'))[0] == 200 }), 'nginx is healthy';

# the text of a scrape, and its samples: "name{labels}" => value
sub scrape {
    my ($status, $body) = http_request($port, 'GET', '/metrics');
    die "scrape: $status\n" unless $status == 200;
    my %m;
    for (split /\n/, $body) {
        next if /^#/ || !/\S/;
        my ($k, $v) = /^(\S+(?:\{[^}]*\})?) (\S+)$/ or die "bad line: $_\n";
        $m{$k} = $v;
    }
    return (\%m, $body);
}
sub delta {
    my ($a, $b, $k) = @_;
    return ($b->{$k} // 0) - ($a->{$k} // 0);
}
sub req { qq{video_api_http_requests_total{route="$_[0]",method="$_[1]",status="$_[2]"}} }
sub promtool_ok {
    my ($text) = @_;
    my $f = File::Temp->new;
    print $f $text;
    close $f;
    my $out = qx{promtool check metrics < $f 2>&1};
    return ($? == 0, $out);
}

# -- known traffic, exact deltas -------------------------------------------------

# Redis answers the first read's cache miss after the scrape below
http_request($port, 'GET', "/api/videos/$id");

my ($m0) = scrape();
my @s;
push @s, (http_request($port, 'GET', "/api/videos/$id"))[0] for 1 .. 3;
is "@s", '200 200 200', 'three reads of a video';
my ($st) = http_request($port, 'GET', "/api/videos/$missing");
is $st, 404, 'a video that does not exist';
($st) = http_request($port, 'GET', '/api/nope/12345');
is $st, 404, 'a path no route has';
($st) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": ');
is $st, 400, 'a PATCH with broken JSON';
($st) = http_request($port, 'DELETE', '/api/videos');
is $st, 405, 'a method the path does not have';

my ($m1, $text) = scrape();

is delta($m0, $m1, req('/api/videos/:id', 'GET', '2xx')), 3, 'the route template counts the three reads, by method and class';
is delta($m0, $m1, req('/api/videos/:id', 'GET', '4xx')), 1, 'the 404 of a missing video, under its route';
is delta($m0, $m1, req('/api/videos/:id', 'PATCH', '4xx')), 1, 'the broken JSON as a 4xx of PATCH';
is delta($m0, $m1, req('unmatched', 'GET', '4xx')), 1, 'a path no route has is "unmatched"';
is delta($m0, $m1, req('unmatched', 'DELETE', '4xx')), 1, 'and so is a method no route of the path has';
my $all = 0;
$all += delta($m0, $m1, $_) for grep { /^video_api_http_requests_total/ } keys %$m1;
is $all, 7, 'and nothing else was counted (the scrapes are not API requests)';

my $hist = 'video_api_http_request_duration_seconds';
is delta($m0, $m1, qq{${hist}_count{route="/api/videos/:id"}}), 5, 'the latency histogram counts the five answers of the route';
my $bad = '';
for my $k (grep { /^${hist}_count/ } keys %$m1) {
    my ($route) = $k =~ /route="([^"]*)"/;
    my @b = map { $m1->{qq{${hist}_bucket{route="$route",le="$_"}}} }
            qw(0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 +Inf);
    $bad .= "$route: a bucket missing " if grep { !defined } @b;
    next if grep { !defined } @b;
    $bad .= "$route: +Inf $b[-1] count $m1->{$k} " if $b[-1] != $m1->{$k};
    for my $i (1 .. $#b) { $bad .= "$route: not cumulative " if $b[$i] < $b[$i - 1] }
    my $sum = $m1->{qq{${hist}_sum{route="$route"}}};
    $bad .= "$route: sum $sum " unless defined $sum && $sum >= 0;
}
is $bad, '', 'every histogram: cumulative buckets, +Inf equal to _count, a sum';
ok $m1->{qq{${hist}_bucket{route="/api/videos/:id",le="+Inf"}}} >= 5, 'the +Inf bucket of the route';

is $m1->{video_api_http_requests_in_flight}, 0, 'no request in flight (a scrape is not one)';
is $m1->{video_api_worker_processes}, 2, 'two workers count';

# -- the dependencies -------------------------------------------------------------

cmp_ok $m1->{video_api_pg_connections_open}, '>', 0, 'PostgreSQL connections open';
cmp_ok $m1->{video_api_pg_connections_open}, '<=', 2 * $pool, 'at most the two pools';
is $m1->{video_api_pg_connections_busy}, 0, 'none busy at rest';
is $m1->{video_api_pg_queue_length}, 0, 'nothing queued';
cmp_ok delta($m0, $m1, 'video_api_pg_statements_total'), '>=', 1, 'statements were sent (the missing video\'s read)';
is $m1->{video_api_redis_up}, 1, 'Redis is up in every worker';
is $m1->{video_api_redis_connections_open}, 2, 'one Redis connection per worker';
cmp_ok delta($m0, $m1, 'video_api_redis_commands_total'), '>=', 4, 'Redis commands were sent';
is delta($m0, $m1, 'video_api_redis_errors_total'), 0, 'no Redis errors';
is delta($m0, $m1, 'video_api_cache_hits_total{cache="video"}'), 3, 'the three reads came from the video cache';
is delta($m0, $m1, 'video_api_cache_misses_total{cache="video"}'), 1, 'the missing video missed it';

# -- the text ----------------------------------------------------------------------

my ($ok, $out) = promtool_ok($text);
ok $ok, 'promtool check metrics accepts the scrape' or diag $out;
unlike $text, qr/\Q$id\E|\Q$missing\E|12345|nope/, 'no raw path or id is a label value';
my @routes = $text =~ /route="([^"]*)"/g;
is join(' ', grep { !m{^(?:unmatched|/[\w/:.*-]*)$} } @routes), '', 'every route label is a template';
for my $name (qw(video_api_http_requests_total video_api_http_request_duration_seconds
                 video_api_http_requests_in_flight video_api_pg_connections_open
                 video_api_pg_connections_busy video_api_pg_queue_length video_api_pg_waits_total
                 video_api_pg_statement_timeouts_total video_api_pg_reconnects_total
                 video_api_pg_errors_total video_api_redis_up video_api_redis_commands_total
                 video_api_redis_errors_total video_api_redis_reconnects_total
                 video_api_cache_hits_total video_api_cache_misses_total video_api_views_total
                 video_api_uploads_presigned_total video_api_uploads_completed_total
                 video_api_live_publishers video_api_signal_long_polls)) {
    like $text, qr/^# HELP \Q$name\E \S.*\n# TYPE \Q$name\E (?:counter|gauge|histogram)$/m, "$name has HELP and TYPE";
}

my ($s, $b, $h) = curl('-X', 'POST', "http://127.0.0.1:$port/metrics");
is $s, 405, 'POST /metrics is a 405';
like $b, qr/"code":"METHOD_NOT_ALLOWED"/, 'as the envelope';
like $h, qr/^Allow: GET, HEAD\r?$/mi, 'with Allow';
($s, $b, $h) = curl('-I', "http://127.0.0.1:$port/metrics");
is $s, 200, 'HEAD /metrics';
like $h, qr{^Content-Type: text/plain; version=0\.0\.4}mi, 'the exposition format 0.0.4';
($s) = curl('--interface', '127.0.0.2', "http://127.0.0.1:$port/metrics");
is $s, 403, 'a caller not allowed gets a 403';

# -- what the routes did ---------------------------------------------------------------

my ($v0) = scrape();
($s, $b) = http_request($port, 'POST', "/api/analytics/view/$id");
is $s, 200, 'a view';
my $tracked = $b =~ /View tracked successfully/ ? 1 : 0;
($s) = http_request($port, 'POST', "/api/analytics/view/$missing");
is $s, 404, 'a view of a video that does not exist';
($s, $b) = http_request($port, 'POST', '/api/upload/presign',
                        '{"fileName": "m.mp4", "fileSize": 1048576, "contentType": "video/mp4"}');
is $s, 201, 'an upload presigned';
($s) = http_request($port, 'POST', '/api/upload/presign', '{"fileName": "m.mp4"}');
is $s, 400, 'and one refused';
my ($v1) = scrape();
is delta($v0, $v1, 'video_api_views_total'), $tracked, 'the view counted, as its answer says, and the 404 did not';
is delta($v0, $v1, 'video_api_uploads_presigned_total'), 1, 'one upload presigned, not the refused one';
is delta($v0, $v1, 'video_api_uploads_completed_total'), 0, 'none completed';
is delta($v0, $v1, req('/api/upload/presign', 'POST', '2xx')), 1, 'the presign route: one 2xx';
is delta($v0, $v1, req('/api/upload/presign', 'POST', '4xx')), 1, 'and one 4xx';

# -- a signaling long poll is a gauge while it waits ----------------------------------

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "metrics"}');
is $s, 201, 'a live stream';
my ($live) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
($s, $b) = http_request($port, 'POST', "/api/live/$live/signal/join");
my ($peer, $token) = $b =~ /"peerId":"([^"]+)","peerToken":"([^"]+)"/;
ok $peer, 'a peer joins';
my $poller = fork // die $!;
if ($poller == 0) {
    http_request($port, 'GET', "/api/live/$live/signal?peer=$peer&timeout=3", undef,
                 "X-Peer-Token: $token\r\n");
    POSIX::_exit(0);
}
ok wait_for(5, sub { (scrape())[0]{video_api_signal_long_polls} == 1 }), 'the long poll is counted while it waits';
is((scrape())[0]{video_api_http_requests_in_flight}, 1, 'and is the one request in flight');
waitpid $poller, 0;
my ($lp) = scrape();
is $lp->{video_api_signal_long_polls}, 0, 'no long poll once it is answered';
is $lp->{video_api_http_requests_in_flight}, 0, 'nothing in flight';
cmp_ok $lp->{qq{${hist}_bucket{route="/api/live/:id/signal",le="2.5"}}}, '<', $lp->{qq{${hist}_bucket{route="/api/live/:id/signal",le="5"}}},
    'the 3 s poll is in the histogram between 2.5 and 5 s';
psql("DELETE FROM videos WHERE id = '$live'");

# -- live publishers: on_publish, on_publish_done, a stop -------------------------------

sub callback {
    my ($path, $body) = @_;
    return curl('-X', 'POST', '--data-binary', $body, '-H',
                'Content-Type: application/x-www-form-urlencoded',
                "http://127.0.0.1:$port$path");
}
sub publish_body {
    return "app=live&addr=127.0.0.1&clientid=5&call=$_[1]&name=$_[0]&type=live";
}
sub publishers { (scrape())[0]{video_api_live_publishers} }

my ($l0) = scrape();
my (%lid, %lkey);
for my $n (qw(a b)) {
    ($s, $b) = http_request($port, 'POST', '/api/live/create', qq({"title": "metrics $n"}));
    ($lid{$n}) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
    ($lkey{$n}) = $b =~ /"streamKey":"([^"]+)"/;
}
ok $lkey{a} && $lkey{b}, 'two live streams';
($s) = callback('/api/live/verify', publish_body($lkey{a}, 'publish'));
is $s, 302, 'a publish is accepted';
is publishers(), 1, 'one publisher';
($s) = callback('/api/live/verify', publish_body($lkey{a}, 'publish'));
is $s, 403, 'a second publish of the stream is refused';
($s) = callback('/api/live/verify', publish_body('x' x 32, 'publish'));
is $s, 403, 'and an unknown key';
is publishers(), 1, 'still one publisher';
($s) = callback('/api/live/unpublish', publish_body($lkey{a}, 'publish_done'));
is $s, 200, 'its publish ends';
is publishers(), 0, 'no publisher';
($s) = callback('/api/live/unpublish', publish_body('x' x 32, 'publish_done'));
is $s, 200, 'the end of a refused publish';
($s) = callback('/api/live/unpublish', publish_body($lkey{a}, 'publish_done'));
is publishers(), 0, 'ends nothing, nor does the end of an ended one';
($s) = callback('/api/live/verify', publish_body($lkey{b}, 'publish'));
is $s, 302, 'another publish';
is publishers(), 1, 'one publisher';
($s) = http_request($port, 'POST', "/api/live/$lid{b}/stop", '{"convertToVOD": false}');
is $s, 200, 'its stream is stopped by the API';
is publishers(), 0, 'which ends its publish';
callback('/api/live/unpublish', publish_body($lkey{b}, 'publish_done'));
my ($l1) = scrape();
is $l1->{video_api_live_publishers}, 0, 'and nginx-rtmp\'s on_publish_done after it ends nothing more';
is delta($l0, $l1, 'video_api_live_publishes_total'), 2, 'two publishes accepted';
is delta($l0, $l1, 'video_api_live_unpublishes_total'), 2, 'two ended';
is delta($l0, $l1, req('/api/live/verify', 'POST', '3xx')), 2, 'the callbacks are API requests too';
psql("DELETE FROM videos WHERE id IN ('$lid{a}', '$lid{b}')");

# -- PostgreSQL under pressure: busy, queued, timed out ----------------------------------

# a row lock held longer than the 2 s statement timeout: six PATCHes of
# the row fill both workers' pools of two and queue the rest
my $locker = fork // die $!;
if ($locker == 0) {
    open STDOUT, '>', '/dev/null';
    exec 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, '-Xq', '-c',
         "BEGIN; SELECT 1 FROM videos WHERE id = '$id' FOR UPDATE; SELECT pg_sleep(4); COMMIT;";
}
wait_for(5, sub { psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                       . "WHERE c.relname = 'videos' AND l.mode = 'RowShareLock' "
                       . "AND l.pid <> pg_backend_pid()") > 0 });
my ($p0) = scrape();
my @kids;
for (1 .. 6) {
    my $pid = fork // die $!;
    if ($pid == 0) {
        http_request($spread, 'PATCH', "/api/videos/$id", '{"title": "under pressure"}');
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
# the highest of each while the six wait (each waits up to the 2 s
# statement timeout after it arrives; a loaded machine may take a second
# to fork and connect the last of them): sampled until all are seen
my ($busy, $queued, $flight) = (0, 0, 0);
wait_for(3, sub {
    my ($m) = scrape();
    $busy = $m->{video_api_pg_connections_busy} if $m->{video_api_pg_connections_busy} > $busy;
    $queued = $m->{video_api_pg_queue_length} if $m->{video_api_pg_queue_length} > $queued;
    $flight = $m->{video_api_http_requests_in_flight} if $m->{video_api_http_requests_in_flight} > $flight;
    $flight >= 6 && $queued >= 2 && $busy >= 2;
});
waitpid $_, 0 for @kids;
waitpid $locker, 0;
my ($p1, $ptext) = scrape();
ok $busy >= 2 && $busy <= 4, "connections busy ($busy), at most both pools' four";
cmp_ok $queued, '>=', 2, "statements queued ($queued)";
is $flight, 6, 'six requests in flight';
cmp_ok delta($p0, $p1, 'video_api_pg_waits_total'), '>=', 2, 'the waits are counted';
cmp_ok delta($p0, $p1, 'video_api_pg_statement_timeouts_total'), '>=', 1, 'and the statements cancelled at the timeout';
is $p1->{video_api_pg_connections_busy}, 0, 'no connection busy afterwards';
is $p1->{video_api_pg_queue_length}, 0, 'nothing queued';
is $p1->{video_api_http_requests_in_flight}, 0, 'nothing in flight';
my $patches = 0;
$patches += delta($p0, $p1, $_) for grep { m{^video_api_http_requests_total\{route="/api/videos/:id",method="PATCH"} } keys %$p1;
is $patches, 6, 'the six PATCHes are counted, whatever they answered';
($ok, $out) = promtool_ok($ptext);
ok $ok, 'promtool accepts the scrape' or diag $out;

# -- two workers, one sum ------------------------------------------------------------

my ($before) = scrape();
my %pids;
for (1 .. 40) {
    my ($code, undef, $hdr) = curl("http://127.0.0.1:$spread/api/videos/$id");
    $pids{$1}++ if $hdr =~ /^X-Worker: (\d+)/mi;
}
is scalar(keys %pids), 2, 'both workers served some of 40 requests (' . join(' ', map { "$_:$pids{$_}" } sort keys %pids) . ')';
my %seen;
for (1 .. 6) {
    my ($after) = scrape();
    $seen{delta($before, $after, req('/api/videos/:id', 'GET', '2xx'))}++;
}
is join(' ', keys %seen), '40', 'every scrape, whichever worker answers it, counts all 40';

# -- a reload keeps the counters and the gauges right --------------------------------------

my $master = VideoApi::read_pid("$dir/logs/nginx.pid");
my %old = map { $_ => 1 } split ' ', qx{pgrep -P $master};
my ($r0) = scrape();
kill 'HUP', $master;
ok wait_for(15, sub {
    my @now = split ' ', qx{pgrep -P $master};
    @now == 2 && !grep { $old{$_} } @now;
}), 'the reload replaced both workers';
ok wait_for(5, sub { (scrape())[0]{video_api_worker_processes} == 2 }), 'two workers count after it';
ok wait_for(5, sub { (scrape())[0]{video_api_redis_connections_open} == 2 }), 'and their Redis connections';
my ($r1) = scrape();
my $key = req('/api/videos/:id', 'GET', '2xx');
is $r1->{$key}, $r0->{$key}, 'the counters survived the reload';
is $r1->{'video_api_redis_commands_total'} >= $r0->{'video_api_redis_commands_total'}, 1, 'all of them';
http_request($port, 'GET', "/api/videos/$id") for 1 .. 2;
my ($r2) = scrape();
is delta($r1, $r2, $key), 2, 'and count on from there';
is $r2->{video_api_http_requests_in_flight}, 0, 'nothing in flight after the reload';
cmp_ok $r2->{video_api_pg_connections_open}, '<=', 2 * $pool, 'PostgreSQL connections of the new workers only';
is $r2->{video_api_pg_connections_busy}, 0, 'none busy';
is $r2->{video_api_redis_up}, 1, 'Redis up';

# -- a worker killed: its gauges go with it ---------------------------------------------

my ($victim) = split ' ', qx{pgrep -P $master};
kill 'KILL', $victim;
ok wait_for(10, sub {
    my @now = split ' ', qx{pgrep -P $master};
    @now == 2 && !grep { $_ == $victim } @now;
}), 'the master replaced a killed worker';
ok wait_for(5, sub { my ($m) = scrape(); $m->{video_api_worker_processes} == 2
                     && $m->{video_api_redis_connections_open} == 2 }), 'two workers count, not three';
my ($k1, $ktext) = scrape();
cmp_ok $k1->{video_api_pg_connections_open}, '<=', 2 * $pool, 'the dead worker\'s connections are not counted';
is $k1->{video_api_http_requests_in_flight}, 0, 'nothing in flight';
is $k1->{$key}, $r2->{$key}, 'the counters are kept';
($ok, $out) = promtool_ok($ktext);
ok $ok, 'promtool still accepts the scrape' or diag $out;

# -- PostgreSQL and Redis stopped and back -------------------------------------------

my ($d0) = scrape();
stack(qw(stop pg));
ok wait_for(10, sub { (scrape())[0]{video_api_pg_connections_open} == 0 }), 'PostgreSQL stopped: no connection open';
($st) = http_request($port, 'GET', "/api/videos/$missing");
is $st, 503, 'a read that needs it is a 503';
stack(qw(start pg));
ok wait_for(15, sub { (scrape())[0]{video_api_pg_connections_open} == 2 * $pool }), 'back: both pools reconnect';
my ($d1) = scrape();
cmp_ok delta($d0, $d1, 'video_api_pg_reconnects_total'), '>=', 2 * $pool, 'the reconnects are counted';
cmp_ok delta($d0, $d1, 'video_api_pg_errors_total{kind="connection"}'), '>=', 2 * $pool, 'and the connections lost';
cmp_ok delta($d0, $d1, 'video_api_pg_unavailable_total'), '>=', 1, 'and the statement refused';
is delta($d0, $d1, req('/api/videos/:id', 'GET', '5xx')), 1, 'the 503 under its route';

stack(qw(stop redis));
ok wait_for(10, sub { my ($m) = scrape(); $m->{video_api_redis_up} == 0 && $m->{video_api_redis_connections_open} == 0 }),
    'Redis stopped: down in both workers';
stack(qw(start redis));
ok wait_for(15, sub { my ($m) = scrape(); $m->{video_api_redis_up} == 1 && $m->{video_api_redis_connections_open} == 2 }),
    'back: up in both';
my ($d2, $dtext) = scrape();
cmp_ok delta($d1, $d2, 'video_api_redis_reconnects_total'), '>=', 2, 'the reconnects are counted';
is $d2->{video_api_pg_connections_busy}, 0, 'nothing busy';
is $d2->{video_api_http_requests_in_flight}, 0, 'nothing in flight';
($ok, $out) = promtool_ok($dtext);
ok $ok, 'promtool accepts the scrape' or diag $out;

done_testing;
