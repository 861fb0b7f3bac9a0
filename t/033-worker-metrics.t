# The workers' metrics: each role answers GET /metrics on its own address
# in Prometheus's text format (promtool accepts it), its job counter moves
# by exactly the jobs it did, a scrape is answered while a transcode runs,
# the relay shows the outbox's backlog while RabbitMQ is away, and the
# listener answers nothing but GET /metrics, and drops an idle client.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-worker-metrics";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 33;
my $store = $port + 1;
# the listeners' ports: free ones the kernel picks, so that stacks side
# by side do not meet
my @held;     # each port held until all are picked: no two the same
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no port: $!";
    push @held, $s;
    return $s->sockport;
}
my %mport = map { $_ => free_port() } qw(relay transcode cleanup analytics);
my $nobroker = free_port();       # nothing listens there
@held = ();
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;     # role => pid
my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';

END {
    local $?;     # the suite's exit status
    kill 'TERM', values %workers;
    waitpid $_, 0 for values %workers;
    nginx_stop($dir) if $dir;
    # the analytics role's id set: suites that seed videos through
    # PostgreSQL alone expect none (the role fills it again when missing)
    system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} DEL video:ids video:ids:complete >/dev/null")
        if $ENV{TEST_NGINX_REDIS_PORT};
    if ($dir && -d "$dir/stack/workers") {
        local $ENV{VIDEO_API_RUN_DIR} = "$dir/stack";
        qx{scripts/stack.sh stop workers 2>&1};
    }
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
system('chown', '-R', 'nobody', $data) if $> == 0;

psql('TRUNCATE videos, outbox CASCADE');
system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
    for qw(video-transcode video-cleanup);

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
${\ store_server($store, $data, '100m')}
CONF
${\ probe_location($endpoint)}
SERVER

# one run per video: the counters below move by one job (in chunks a
# video is a job per piece more, t/038)
my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_METRICS_INTERVAL => 1,
                     VIDEO_WORKER_ANALYTICS_INTERVAL => 1,
                     VIDEO_WORKER_CHUNK_SECONDS => 0);

for my $role (qw(relay transcode cleanup analytics)) {
    $workers{$role} = worker_start($dir, $role, %env,
        VIDEO_WORKER_METRICS_LISTEN => "127.0.0.1:$mport{$role}");
}

sub worker_log {
    my ($role) = @_;
    return do { local (@ARGV, $/) = ("$dir/logs/worker-$role.log"); <> } // '';
}

# a request to a worker's listener, whose answers are not the API's: the
# contract check (t/inc/ContractLog.pm) records none of them
sub worker_http {
    local $ENV{VIDEO_API_CONTRACT_LOG};
    return http_request(@_);
}

# GET /metrics of a role: (status, body, seconds)
sub scrape {
    my ($role, $path) = @_;
    return worker_http($mport{$role}, 'GET', $path // '/metrics');
}

# the samples of a scrape: "name{labels}" => value
sub samples {
    my ($role) = @_;
    my ($s, $b) = scrape($role);
    return {} unless $s == 200;
    my %v;
    for (split /\n/, $b) {
        next if /^#/ || !/\S/;
        my ($k, $val) = /^(\S+) (\S+)$/ or next;
        $v{$k} = $val;
    }
    return \%v;
}

sub jobs {
    my ($role, $outcome) = @_;
    return samples($role)->{qq(video_worker_jobs_total{role="$role",outcome="$outcome"})};
}

sub promtool_ok {
    my ($role) = @_;
    my ($s, $b) = scrape($role);
    open my $p, '|-', 'promtool check metrics >/dev/null 2>&1' or return 0;
    print $p $b;
    close $p;
    return $s == 200 && $? == 0;
}

for my $role (sort keys %mport) {
    ok wait_for(20, sub { (scrape($role))[0] == 200 }), "$role answers GET /metrics";
}

# -- the format ------------------------------------------------------------

my $t0 = Time::HiRes::time();
my ($s, $b) = scrape('relay');
my $hdr;
{
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $mport{relay}, Timeout => 5);
    print $sock "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    local $/;
    ($hdr) = split /\r\n\r\n/, <$sock> // '', 2;
}
like $hdr, qr{^Content-Type: text/plain; version=0\.0\.4; charset=utf-8\r?$}mi,
     'the text format\'s content type';

for my $role (sort keys %mport) {
    ok promtool_ok($role), "promtool check metrics accepts the $role\'s";
}

my $v = samples('transcode');
is $v->{$_}, 0, "a new transcoder: $_ 0"
    for map { qq(video_worker_jobs_total{role="transcode",outcome="$_"}) }
            qw(ok failed retried dead requeued);
is $v->{'video_worker_up{role="transcode",version="0.1.0"}'}, 1, 'video_worker_up';
ok abs($v->{'video_worker_start_time_seconds{role="transcode"}'} - time) < 60,
   'video_worker_start_time_seconds is about now';
is $v->{'video_worker_transcode_realtime_factor_count'}, 0, 'no encode yet';

ok wait_for(10, sub { defined samples('transcode')->{'video_worker_amqp_queue_consumers{queue="video-transcode"}'} }),
   'the transcoder shows the queues it sees';
ok wait_for(10, sub { (samples('transcode')->{'video_worker_amqp_queue_consumers{queue="video-transcode"}'} // 0) >= 1 }),
   '... with itself consuming video-transcode';

# -- a transcode: the counters move by one ---------------------------------

my $clip = "$dir/clip.mp4";
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=25',
       '-f', 'lavfi', '-i', 'sine=duration=2',
       '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
       '-c:a', 'aac', $clip) == 0 or die "ffmpeg failed";

my $size = -s $clip;
($s, $b) = http_request($port, 'POST', '/api/upload/presign',
    qq({"fileName": "clip.mp4", "fileSize": $size, "contentType": "video/mp4"}));
is $s, 201, 'presign';
my ($url) = $b =~ /"uploadUrl":"([^"]+)"/;
my ($key) = $b =~ /"key":"([^"]+)"/;
my ($vid) = $key =~ m{^([^/]+)/};
($s) = curl('-X', 'PUT', '--upload-file', $clip, '-H', 'Content-Type: video/mp4',
            '-H', 'If-None-Match: *', $url);
like $s, qr/^20[01]$/, 'PUT';
($s, $b) = http_request($port, 'POST', "/api/upload/$vid/complete",
                        qq({"key": "$key", "title": "Metrics"}));
is $s, 201, 'complete';

# scraped while the job runs: a scrape never waits for the job
my ($slowest, $scrapes) = (0, 0);
ok wait_for(120, sub {
    my (undef, undef, $took) = scrape('transcode');
    $scrapes++;
    $slowest = $took if $took > $slowest;
    return (jobs('transcode', 'ok') // 0) == 1;
}), 'the transcoder counts the job done';
is psql("SELECT status FROM videos WHERE id = '$vid'"), 'READY', 'the video is READY';
ok $slowest < 1, sprintf('%d scrapes during the job, the slowest in %.3f s',
                         $scrapes, $slowest);

$v = samples('transcode');
is $v->{qq(video_worker_jobs_total{role="transcode",outcome="$_->[0]"})}, $_->[1],
   "transcode $_->[0]: $_->[1]"
    for [ok => 1], [failed => 0], [retried => 0], [dead => 0], [requeued => 0];
is $v->{'video_worker_job_duration_seconds_count{role="transcode"}'}, 1,
   'one job duration observed';
ok $v->{'video_worker_job_duration_seconds_sum{role="transcode"}'} > 0,
   'which took some time';
is $v->{'video_worker_job_duration_seconds_bucket{role="transcode",le="+Inf"}'}, 1,
   'in the +Inf bucket';
is $v->{'video_worker_transcode_realtime_factor_count'}, 1, 'one encode\'s real-time factor';
ok $v->{'video_worker_transcode_realtime_factor_sum'} > 0,
   "real-time factor $v->{video_worker_transcode_realtime_factor_sum}";
ok wait_for(5, sub { (jobs('relay', 'ok') // 0) == 1 }), 'the relay published one row';

# -- a malformed job: dead-lettered, counted so ----------------------------

my $dlq = 'video_worker_amqp_queue_messages{queue="video-transcode.dlq"}';
# the depth as the relay last read it: the queue may hold earlier suites'
# messages, so not before its first reading
ok wait_for(10, sub { defined samples('relay')->{$dlq} }),
   'the relay has read video-transcode.dlq\'s depth';
my $dead_before = samples('relay')->{$dlq} // 0;
psql(q{INSERT INTO outbox (topic, payload) VALUES ('video-transcode', '{"type": "nope"}')});
ok wait_for(20, sub { (jobs('transcode', 'dead') // 0) == 1 }), 'a malformed job counts dead';
is jobs('transcode', 'ok'), 1, 'and not ok';
ok wait_for(5, sub { (jobs('relay', 'ok') // 0) == 2 }), 'the relay: 2 rows';
ok wait_for(10, sub { (samples('relay')->{$dlq} // -1) == $dead_before + 1 }),
   'the relay sees it in video-transcode.dlq';

# -- a cleanup --------------------------------------------------------------

($s) = http_request($port, 'DELETE', "/api/videos/$vid");
is $s, 200, 'DELETE';
ok wait_for(30, sub { (jobs('cleanup', 'ok') // 0) == 1 }), 'the cleanup job counts ok';
ok wait_for(5, sub { (jobs('relay', 'ok') // 0) == 3 }), 'the relay: 3 rows';
is jobs('cleanup', 'dead'), 0, 'none dead';

# -- analytics ----------------------------------------------------------------

ok wait_for(10, sub { (jobs('analytics', 'ok') // 0) >= 2 }), 'rollups count';
$v = samples('analytics');
ok defined $v->{video_worker_analytics_rollup_lag_seconds}
   && $v->{video_worker_analytics_rollup_lag_seconds} < 5,
   'the rollup lag is a few seconds';
is $v->{'video_worker_jobs_total{role="analytics",outcome="failed"}'}, 0, 'no rollup failed';

for my $role (sort keys %mport) {
    ok promtool_ok($role), "after the jobs, promtool accepts the $role\'s";
}

# -- the backlog while RabbitMQ is away -----------------------------------

kill 'TERM', delete $workers{relay};
sleep 1;
{
    my $pid = fork // die;
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        $ENV{VIDEO_WORKER_AMQP} = "amqp://video:video\@127.0.0.1:$nobroker/";
        open STDERR, '>>', "$dir/logs/worker-relay2.log" or POSIX::_exit(1);
        exec $bin, 'relay', '--metrics-listen', "127.0.0.1:$mport{relay}"
            or POSIX::_exit(127);
    }
    $workers{relay} = $pid;
}
psql(q{INSERT INTO outbox (topic, payload, created_at) VALUES
       ('video-cleanup', '{}', now() - interval '60 seconds'),
       ('video-cleanup', '{}', now() - interval '30 seconds')});
ok wait_for(15, sub { (samples('relay')->{video_worker_outbox_unpublished} // -1) == 2 }),
   'the relay (--metrics-listen) shows 2 rows unpublished with RabbitMQ down';
my $age = samples('relay')->{video_worker_outbox_oldest_unpublished_age_seconds} // 0;
ok $age >= 60 && $age < 120, "the oldest is $age s old";
is jobs('relay', 'ok'), 0, 'a new relay published nothing';
kill 'TERM', delete $workers{relay};
psql('DELETE FROM outbox WHERE published_at IS NULL');

# -- the listener -----------------------------------------------------------

($s, $b) = scrape('cleanup', '/');
is $s, 404, '/ is 404';
($s) = scrape('cleanup', '/metricsx');
is $s, 404, '/metricsx is 404';
($s) = scrape('cleanup', '/metrics/../x');
is $s, 404, '/metrics/../x is 404';
($s) = scrape('cleanup', '/metrics?x=1');
is $s, 200, 'a query string is ignored';
($s) = worker_http($mport{cleanup}, 'POST', '/metrics', '{}');
is $s, 405, 'POST /metrics is 405';
($s) = worker_http($mport{cleanup}, 'DELETE', '/metrics');
is $s, 405, 'DELETE /metrics is 405';

sub raw {
    my ($bytes) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $mport{cleanup}, Timeout => 5)
        or return '';
    print $sock $bytes;
    local $/;
    return <$sock> // '';
}

like raw("HELLO\r\n\r\n"), qr{^HTTP/1\.1 400 }, 'garbage is 400';
like raw("GET /metrics\r\n\r\n"), qr{^HTTP/1\.1 400 }, 'no version is 400';
like raw("GET /metrics HTTP/1.1\r\nX: " . ('a' x 8000) . "\r\n\r\n"),
     qr{^HTTP/1\.1 431 }, 'an oversized head is 431';

# an idle client is dropped after 2 s: a scrape behind it waits no longer
my $idle = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => $mport{cleanup}, Timeout => 5);
Time::HiRes::sleep(0.2);
my ($st, undef, $took) = scrape('cleanup');
is $st, 200, 'a scrape behind an idle client is answered';
ok $took < 3, sprintf('within %.2f s', $took);
my $gone = '';
$idle->recv($gone, 10);
is $gone, '', 'the idle client was closed';

# -- settings -------------------------------------------------------------

{
    local @ENV{keys %env} = values %env;
    my $out = qx{$bin relay --metrics-listen 'a:b:c' 2>&1};
    isnt $?, 0, 'an invalid --metrics-listen stops the worker';
    like $out, qr/invalid "metrics_listen" value "a:b:c"/, 'naming it';
    $out = qx{VIDEO_WORKER_METRICS_LISTEN=127.0.0.1:70000 $bin relay 2>&1};
    isnt $?, 0, 'so does a port out of range';
    $out = qx{$bin relay --metrics-listen 2>&1};
    is $? >> 8, 2, '--metrics-listen without an address is a usage error';
}

# the shipped conf/worker.conf turns them on, on loopback, each role on
# its own port (taken on a shared machine, it says so)
{
    my %shipped = %env;
    delete $shipped{VIDEO_WORKER_METRICS_LISTEN};
    my %default = (relay => 9471, transcode => 9472, cleanup => 9473,
                   analytics => 9474);
    my %pid;
    for my $role (sort keys %default) {
        $pid{$role} = fork // die;
        if ($pid{$role} == 0) {
            $ENV{$_} = $shipped{$_} for keys %shipped;
            delete $ENV{VIDEO_WORKER_METRICS_LISTEN};
            open STDERR, '>', "$dir/logs/shipped-$role.log" or POSIX::_exit(1);
            exec $bin, $role or POSIX::_exit(127);
        }
    }
    for my $role (sort keys %default) {
        my $p = $default{$role};
        ok wait_for(10, sub {
            my $l = do { local (@ARGV, $/) = ("$dir/logs/shipped-$role.log"); <> } // '';
            return $l =~ m{metrics on http://127\.0\.0\.1:$p/metrics|metrics: cannot listen on 127\.0\.0\.1:$p:};
        }), "the shipped conf: the $role on 127.0.0.1:$p";
    }
    kill 'TERM', values %pid;
    waitpid $_, 0 for values %pid;
}

# the address taken: the worker says so and works on
{
    my $pid = worker_start($dir, 'analytics', %env,
        VIDEO_WORKER_METRICS_LISTEN => "127.0.0.1:$mport{analytics}");
    ok wait_for(10, sub { worker_log('analytics') =~ /metrics: cannot listen on 127\.0\.0\.1:$mport{analytics}/ }),
       'a second worker on the same address says it cannot listen';
    ok kill(0, $pid), 'and runs on';
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# -- stopping ----------------------------------------------------------------

for my $role (qw(transcode cleanup analytics)) {
    my $pid = delete $workers{$role};
    kill 'TERM', $pid;
    ok wait_for(15, sub { waitpid($pid, POSIX::WNOHANG()) > 0 }), "SIGTERM stops the $role";
    is $? >> 8, 0, '... with status 0';
}
ok !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $mport{transcode}, Timeout => 2),
   'its listener is closed';
unlike worker_log('transcode'), qr/ERROR|Sanitizer/, 'no sanitizer report in the logs';

# -- make run's workers: VIDEO_API_WORKER_METRICS_PORT moves the five ----
# -- and VIDEO_API_TRANSCODERS' others, after them ----------------------------

{
    # six free ports in a row
    my $base;
    for (1 .. 20) {
        my $b = free_port();
        @held = ();
        my @s = grep { $_ } map { IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $b + $_, Listen => 1) } 0 .. 5;
        if (@s == 6) { $base = $b; last }
    }
    local $ENV{VIDEO_API_RUN_DIR} = "$dir/stack";
    local $ENV{VIDEO_API_WORKER_METRICS_PORT} = $base;
    local $ENV{VIDEO_API_TRANSCODERS} = 2;
    my $out = qx{scripts/stack.sh start workers 2>&1};
    is $?, 0, 'scripts/stack.sh start workers' or diag $out;
    my $i = 0;
    for my $role (qw(relay transcode cleanup analytics webhook transcode)) {
        my $p = $base + $i++;
        ok wait_for(10, sub {
            my ($st, $body) = worker_http($p, 'GET', '/metrics');
            return $st == 200 && $body =~ /^video_worker_up\{role="$role",/m;
        }), "make run's $role answers on VIDEO_API_WORKER_METRICS_PORT + " . ($i - 1);
    }

    # the two transcode workers share the cores (encoder_threads 0)
    my $cores = qx{nproc} + 0;
    my $threads = int($cores / 2) || 1;
    my @running;
    for my $role (qw(transcode transcode-2)) {
        my $sup = do { local (@ARGV, $/) = ("$dir/stack/workers/$role.pid"); <> } // '';
        chomp $sup;
        my ($w) = split ' ', qx{pgrep -P '$sup' -x video-worker} // '';
        push @running, grep { $_ } $sup, $w;
        my $env = $w ? do { local (@ARGV, $/) = ("/proc/$w/environ"); <> } // '' : '';
        like $env, qr/(?:^|\0)VIDEO_WORKER_ENCODER_THREADS=$threads\0/,
             "$role: $threads encoder thread(s) of the $cores cores";
    }
    like qx{scripts/stack.sh status 2>&1}, qr/transcode-2/, 'the status names the second transcoder';

    $out = qx{scripts/stack.sh stop workers 2>&1};
    is $?, 0, 'scripts/stack.sh stop workers' or diag $out;
    ok !-e "$dir/stack/workers/transcode-2.pid", 'the second transcoder stopped';
    # (a zombie not reaped yet is gone too)
    my $alive = sub {
        grep { my $st = do { local (@ARGV, $/) = ("/proc/$_/stat"); <> } // '';
               $st =~ /^\d+ \(.*\) [^Z]/ } @running
    };
    ok wait_for(10, sub { !$alive->() }), 'both transcoders and their supervisors are gone'
        or diag join "\n", map { "$_: " . (qx{cat /proc/$_/stat 2>&1} // '') } $alive->();
    local $ENV{VIDEO_API_WORKER_METRICS_PORT} = 'x';
    $out = qx{scripts/stack.sh start workers 2>&1};
    isnt $?, 0, 'a VIDEO_API_WORKER_METRICS_PORT that is no port is refused';
    local $ENV{VIDEO_API_WORKER_METRICS_PORT} = $base;
    for my $bad ('0', '65', 'two', '') {
        local $ENV{VIDEO_API_TRANSCODERS} = $bad;
        $out = qx{scripts/stack.sh start workers 2>&1};
        if ($bad eq '') {
            is $?, 0, 'VIDEO_API_TRANSCODERS empty: one per core' or diag $out;
            qx{scripts/stack.sh stop workers 2>&1};
        } else {
            isnt $?, 0, "VIDEO_API_TRANSCODERS '$bad' is refused";
            like $out, qr/VIDEO_API_TRANSCODERS must be a number of transcode workers \(1-64\)/,
                 '... saying what it must be';
        }
    }
}

done_testing;
