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

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-metrics";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 8;
my $spread = $port + 1;     # reuseport: connections spread over the workers
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $id = 'metricsAAAAAAAAAAAAAA';
my $missing = 'metricsZZZZZZZZZZZZZZ';
my $pool = 2;

END { nginx_stop($dir) if $dir; }

psql("DELETE FROM videos WHERE id LIKE 'metrics%'");
seed_video(id => $id, title => 'counted');
qx{redis-cli -p $rport DEL video:$id video:$missing};

nginx_start($dir, $port, <<"CONF", <<'SERVER', workers => 2);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=$pool timeout=2s;
    video_api_redis 127.0.0.1:$rport timeout=1s cache_ttl=30s;

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

done_testing;
