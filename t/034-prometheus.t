# A real Prometheus scrapes the module's /metrics (video_api_metrics) and
# the four workers' every second: every target is up, and the module's
# request counter and the workers' job counters, read back through
# Prometheus's HTTP API, move by exactly the traffic and the jobs made.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_AMQP_PORT};

my $prometheus = '/usr/bin/prometheus';
plan skip_all => 'prometheus is not installed (scripts/deps.sh)'
    unless -x $prometheus;

my $dir = "$ENV{PWD}/t/servroot-prometheus";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 72;
# Prometheus's and the workers' ports: free ones the kernel picks
my @held;     # each port held until all are picked: no two the same
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no port: $!";
    push @held, $s;
    return $s->sockport;
}
my $pport = free_port();
my %mport = map { $_ => free_port() } qw(relay transcode cleanup analytics);
@held = ();
my (%workers, $prom);

END {
    local $?;     # the suite's exit status
    kill 'TERM', values %workers;
    waitpid $_, 0 for values %workers;
    if ($prom) {
        kill 'TERM', $prom;
        waitpid $prom, 0;
    }
    nginx_stop($dir) if $dir;
    # the analytics role's id set: suites that seed videos through
    # PostgreSQL alone expect none (the role fills it again when missing)
    system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} DEL video:ids video:ids:complete >/dev/null")
        if $ENV{TEST_NGINX_REDIS_PORT};
}

system('rm', '-rf', $dir);
mkdir $dir;

psql('TRUNCATE outbox');
system("scripts/stack.sh rabbitmqctl -q purge_queue video-transcode >/dev/null 2>&1");

nginx_start($dir, $port, <<"CONF", <<'SERVER');
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
CONF
        location = /metrics {
            video_api_metrics;
            allow 127.0.0.1;
            deny all;
        }
SERVER

my %env = worker_env($dir, $port, 'http://127.0.0.1:1',
                     VIDEO_WORKER_METRICS_INTERVAL => 1,
                     VIDEO_WORKER_ANALYTICS_INTERVAL => 1);
for my $role (sort keys %mport) {
    $workers{$role} = worker_start($dir, $role, %env,
        VIDEO_WORKER_METRICS_LISTEN => "127.0.0.1:$mport{$role}");
}

# -- Prometheus -------------------------------------------------------------

my $targets = join ', ', map { "'127.0.0.1:$mport{$_}'" } sort keys %mport;
open my $fh, '>', "$dir/prometheus.yml" or die $!;
print $fh <<"YML";
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: video-api
    static_configs:
      - targets: ['127.0.0.1:$port']
  - job_name: video-worker
    static_configs:
      - targets: [$targets]
YML
close $fh;

$prom = fork // die "fork: $!";
if ($prom == 0) {
    open STDERR, '>', "$dir/logs/prometheus.log" or POSIX::_exit(1);
    open STDOUT, '>&', \*STDERR;
    exec $prometheus, "--config.file=$dir/prometheus.yml",
         "--storage.tsdb.path=$dir/tsdb", "--web.listen-address=127.0.0.1:$pport",
         '--log.level=warn'
        or POSIX::_exit(127);
}

# Prometheus's own answers are not the API's: the contract check
# (t/inc/ContractLog.pm) records none of them
sub prom_get {
    my ($path) = @_;
    local $ENV{VIDEO_API_CONTRACT_LOG};
    return http_request($pport, 'GET', $path);
}

ok wait_for(30, sub { (prom_get('/-/ready'))[0] == 200 }),
   'Prometheus is ready';

# Prometheus's API: the decoded "data"
sub api {
    my ($path) = @_;
    my ($s, $b) = prom_get($path);
    return undef unless $s == 200;
    my $j = eval { JSON::PP::decode_json($b) } or return undef;
    return $j->{status} eq 'success' ? $j->{data} : undef;
}

sub uri_escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# the sum of an instant query's samples (undef: no sample)
sub query {
    my ($q) = @_;
    my $d = api('/api/v1/query?query=' . uri_escape($q)) or return undef;
    my @r = @{ $d->{result} };
    return undef unless @r;
    my $sum = 0;
    $sum += $_->{value}[1] for @r;
    return $sum;
}

my @active;
ok wait_for(20, sub {
    my $d = api('/api/v1/targets') or return 0;
    @active = @{ $d->{activeTargets} };
    return @active == 5 && !grep { $_->{health} ne 'up' } @active;
}), 'every target is up: the module and the four workers';
diag join ', ', map { "$_->{scrapeUrl} $_->{health} $_->{lastError}" } @active
    unless @active == 5 && !grep { $_->{health} ne 'up' } @active;
is query('sum(up{job="video-worker"})'), 4, 'up{job="video-worker"}: 4';
is query('count(video_worker_up)'), 4, 'video_worker_up: one per role';

# -- the module: requests counted -------------------------------------------

my $req = 'sum(video_api_http_requests_total{route="/api/videos",method="GET",status="2xx"})';
# a series the module shows once it counted a request
my ($s) = http_request($port, 'GET', '/api/videos?limit=1');
is $s, 200, 'GET /api/videos';
my $before;
ok wait_for(10, sub { ($before = query($req) // 0) >= 1 }), 'the request counter is scraped';
for (1 .. 5) {
    ($s) = http_request($port, 'GET', '/api/videos?limit=1');
    is $s, 200, "GET /api/videos ($_)";
}
my $after;
ok wait_for(10, sub { ($after = query($req) // -1) == $before + 5 }),
   'Prometheus sees the module count the 5 requests';
diag "before $before, after $after" unless $after == $before + 5;

# -- the workers: jobs counted ------------------------------------------------

my $relay = 'video_worker_jobs_total{role="relay",outcome="ok"}';
my $dead = 'video_worker_jobs_total{role="transcode",outcome="dead"}';
is query($relay), 0, 'the relay has published nothing';
is query($dead), 0, 'the transcoder has dead-lettered nothing';

psql(q{INSERT INTO outbox (topic, payload) VALUES
       ('video-transcode', '{"type": "nope"}'),
       ('video-transcode', '{"type": "nope"}')});

ok wait_for(15, sub { (query($relay) // -1) == 2 }), 'Prometheus sees the relay publish 2 rows';
ok wait_for(15, sub { (query($dead) // -1) == 2 }), '... and the transcoder dead-letter 2 jobs';
ok wait_for(15, sub { (query('video_worker_outbox_unpublished') // -1) == 0 }),
   'the outbox backlog is 0';
ok((query('video_worker_analytics_rollup_lag_seconds') // 99) < 10, 'the rollup lag is small');
ok defined query('rate(video_worker_job_duration_seconds_count{role="transcode"}[10s])'),
   'a rate over a worker histogram';

# -- and nothing failed on the way --------------------------------------------

my $log = do { local (@ARGV, $/) = ("$dir/logs/prometheus.log"); <> } // '';
unlike $log, qr/level=error/, 'Prometheus logged no error';

kill 'TERM', $prom;
ok wait_for(15, sub { waitpid($prom, POSIX::WNOHANG()) > 0 }), 'Prometheus stops';
undef $prom;

done_testing;
