# View analytics against real PostgreSQL, Redis and nginx with two
# workers, and the analytics worker: exact counts under concurrency,
# unique viewers, resets, a new UTC day and month (the clock moved with
# video_api_clock_offset and the worker's clock_offset, never a sleep),
# Redis down and back, rollups into PostgreSQL, the shipped config's
# restriction of the resets, and no view lost while the analytics worker
# is killed and Redis restarted.

# memcheck: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use Time::Local qw(timegm);
use File::Temp qw(tempdir);

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-analytics";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 50;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my @ids = map { sprintf 'stats%016d', $_ } 1 .. 3;
my ($a, $b, $c) = @ids;
my ($s, $body);
my $tmp = tempdir(CLEANUP => 1);
my %workers;

END {
    kill 'KILL', values %workers;
    nginx_stop($dir) if $dir;
}

sub redis_cli { my $out = qx{redis-cli -p $rport @_}; chomp $out; $out }

# seconds to add to the clock to be at noon UTC of that day
sub offset_to { my ($y, $m, $d) = @_; return timegm(0, 0, 12, $d, $m - 1, $y) - int(time) }

my $offset = offset_to(2030, 1, 15);

sub start_nginx {
    nginx_stop($dir);
    nginx_start($dir, $port, <<"CONF", '', workers => 2);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=2s;
    video_api_redis 127.0.0.1:$rport timeout=2s;
    video_api_clock_offset $offset;
CONF
    # views need Redis: wait until the worker is connected
    wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
        or die "nginx is not healthy: " . join(' ', http_request($port, 'GET', '/health'));
}

my %wenv = (
    VIDEO_WORKER_CONF => "$ENV{PWD}/conf/worker.conf",
    VIDEO_WORKER_POSTGRES => $ENV{TEST_NGINX_PG_CONNINFO},
    VIDEO_WORKER_REDIS => "127.0.0.1:$rport",
    VIDEO_WORKER_ANALYTICS_INTERVAL => 1,
);

sub analytics_env { return (%wenv, VIDEO_WORKER_CLOCK_OFFSET => $offset) }

# one rollup, as the worker's loop does it every interval
sub rollup {
    my %e = analytics_env();
    local @ENV{keys %e} = values %e;
    my $worker = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
    my $out = qx{$worker analytics --once 2>&1};
    is $?, 0, 'a rollup runs' or diag $out;
}

sub start_worker {
    $workers{analytics} = worker_start($dir, 'analytics', analytics_env());
}

sub stop_worker {
    my ($sig) = @_;
    my $pid = delete $workers{analytics} or return;
    kill $sig, $pid;
    waitpid $pid, 0;
}

sub view {
    my ($id, $ua) = @_;
    return (http_request($port, 'POST', "/api/analytics/view/$id", undef,
                         $ua ? "User-Agent: $ua\r\n" : undef))[0];
}

sub stats {
    my ($id) = @_;
    my ($status, $body) = http_request($port, 'GET', "/api/analytics/stats/$id");
    return "$status $body" unless $status == 200;
    my %f = $body =~ /"(views\w+|uniqueViewersToday)":(\d+)/g;
    return "$f{viewsToday}/$f{viewsMonth}/$f{viewsTotal}/$f{uniqueViewersToday}";
}

# today/month/total as the video object shows them, alone and in the list
sub video_views {
    my ($id) = @_;
    my ($status, $body) = http_request($port, 'GET', "/api/videos/$id");
    return "$status" unless $status == 200;
    my @v = $body =~ /"viewsToday" : (\d+), "viewsMonth" : (\d+), "viewsTotal" : (\d+)/;
    return join '/', @v;
}

sub list_views {
    my ($id) = @_;
    my ($status, $body) = http_request($port, 'GET', '/api/videos?limit=100');
    my ($v) = $body =~ /"id" : "$id"[^{]*?"viewsToday" : (\d+, "viewsMonth" : \d+, "viewsTotal" : \d+)/;
    $v //= '';
    $v =~ s/, "views\w+" : /\//g;
    return $v;
}

sub pg_views {
    my ($id) = @_;
    return psql("SELECT views_today || '/' || views_month || '/' || views_total FROM videos WHERE id = '$id'");
}

# n views of id from procs processes at once: (2xx, other)
sub fire {
    my ($id, $procs, $n) = @_;
    my @pids;
    for my $p (1 .. $procs) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my ($ok, $bad) = (0, 0);
            for (1 .. $n) { view($id, "client $p") == 200 ? $ok++ : $bad++ }
            open my $fh, '>', "$tmp/fire.$p" or POSIX::_exit(1);
            print $fh "$ok $bad";
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my ($ok, $bad) = (0, 0);
    for my $p (1 .. $procs) {
        open my $fh, '<', "$tmp/fire.$p" or die "no result from process $p";
        my ($o, $f) = split ' ', <$fh>;
        $ok += $o;
        $bad += $f;
    }
    return ($ok, $bad);
}

psql('TRUNCATE videos, outbox, video_views_daily, analytics_batches CASCADE');
psql("UPDATE analytics_period SET day = '', month = ''");
redis_cli('FLUSHALL');
seed_video(id => $_, title => "stats $_", visibility => 'PUBLIC') for @ids;

start_nginx();

# -- before the worker has filled the id set: PostgreSQL says what exists --

is view($a), 200, 'a view of a video PostgreSQL knows counts';
is view('statsNOPE00000000000'), 404, 'an unknown id is a 404';
is view('nope'), 404, 'so is a malformed one';
is redis_cli('HLEN views:t'), 1, 'neither counted anything';

# the worker fills the id set and loads PostgreSQL's figures into Redis

rollup();
is redis_cli('SCARD video:ids'), 3, 'the worker put every video in the id set';
is redis_cli('EXISTS video:ids:complete'), 1, 'and marked it complete';
is redis_cli('EXISTS views:loaded'), 1, 'the counters are loaded';
is stats($a), '1/1/1/1', 'the view before the rollup is in the stats';
is pg_views($a), '1/1/1', 'and in PostgreSQL';

# -- exact under concurrency, from every worker ------------------------------

my ($ok, $bad) = fire($b, 4, 50);
is "$ok $bad", '200 0', '200 views from 4 concurrent clients all answered 200';
my %seen;
$seen{stats($b)}++ for 1 .. 20;
is_deeply [keys %seen], ['200/200/200/4'],
    'stats say 200 today, this month and in all, and 4 unique viewers, on every read';
%seen = ();
$seen{video_views($b)}++ for 1 .. 10;
is_deeply [keys %seen], ['200/200/200'], 'the video object shows them at once';
is list_views($b), '200/200/200', 'and so does the list';
is view($b), 200, 'one more view';
is video_views($b), '201/201/201', 'shows in the very next read of the video';
is list_views($b), '201/201/201', 'and of the list';
# a Redis that lost its scripts (restart, SCRIPT FLUSH) gets them again,
# and a page read with its figures still makes one answer
for (1 .. 3) {
    redis_cli('SCRIPT FLUSH');
    is list_views($b), '201/201/201', 'the list after the scripts were flushed';
    redis_cli('SCRIPT FLUSH');
    is video_views($b), '201/201/201', 'the video after the scripts were flushed';
}
($s, $body) = http_request($port, 'PATCH', "/api/videos/$b", '{"description": "watched"}');
like $body, qr/"viewsToday" : 201, "viewsMonth" : 201, "viewsTotal" : 201/,
    'and of a PATCH answer';

is view('statsNOPE00000000000'), 404, 'an unknown id is still a 404';
($s, $body) = http_request($port, 'POST', '/api/analytics/view/..%2Fx');
is $s, 404, 'a path trick is a 404';
like $body, qr/"code":"NOT_FOUND"/, 'as an envelope';
is redis_cli('HLEN views:t'), 2, 'unknown ids counted nothing';
unlike redis_cli('HKEYS views:pending'), qr/NOPE/, 'nor left anything to roll up';

# unique viewers: an address and user agent count once a day
view($c, 'agent one') for 1 .. 3;
view($c, 'agent two') for 1 .. 2;
is stats($c), '5/5/5/2', 'five views by two viewers';
unlike join('', redis_cli('--no-raw DUMP "views:u:2030-01-15:0:' . $c . '"')), qr/agent/,
    'the viewers themselves are not stored';

# -- rollup into PostgreSQL ----------------------------------------------------

rollup();
is psql("SELECT views || '/' || unique_viewers FROM video_views_daily WHERE video_id = '$b' AND day = '2030-01-15'"),
    '201/5', 'the day row holds the views and the unique viewers (4 clients and one more)';
is pg_views($b), '201/201/201', 'the videos row holds the totals';
is pg_views($c), '5/5/5', 'for every video';
is redis_cli('EXISTS views:pending'), 0, 'nothing is left pending';
rollup();
is psql("SELECT sum(views) FROM video_views_daily"), 207, 'a second rollup adds nothing';

# -- resets ------------------------------------------------------------------

($s, $body) = http_request($port, 'POST', '/api/analytics/reset/daily');
is $s, 200, 'reset/daily';
like $body, qr/"message":"Reset daily views for 3 videos"/, 'names the number of videos';
is join(' ', map { stats($_) } @ids), '0/1/1/1 0/201/201/5 0/5/5/2',
    'every viewsToday is 0, month, total and unique viewers are kept';
is video_views($b), '0/201/201', 'the video object shows it';
is view($b), 200, 'a view after the reset';
is stats($b), '1/202/202/5', 'counts from zero today';

($s, $body) = http_request($port, 'POST', '/api/analytics/reset/monthly');
like $body, qr/"message":"Reset monthly views for 3 videos"/, 'reset/monthly';
is join(' ', map { stats($_) } @ids), '0/0/1/1 1/0/202/5 0/0/5/2',
    'every viewsMonth is 0, today and total are kept';
is view($b), 200, 'a view after it';
is stats($b), '2/1/203/5', 'counts from zero this month';
($s) = http_request($port, 'GET', '/api/analytics/reset/daily');
is $s, 405, 'a reset is a POST';

rollup();
is pg_views($a), '0/0/1', 'the rollup takes the resets into PostgreSQL';
is pg_views($b), '2/1/203', 'with the counts since';
is psql("SELECT sum(views) FROM video_views_daily WHERE video_id = '$b'"), 203,
    'the day rows still hold every view';

# -- a new day, then a new month ---------------------------------------------

$offset = offset_to(2030, 1, 16);
start_nginx();
is stats($b), '0/1/203/0', 'a new UTC day starts today at zero';
is view($b), 200, 'a view on the new day';
is stats($b), '1/2/204/1', 'counts from zero today, on into the month';
rollup();
is pg_views($c), '0/0/5', 'the rollup of the new day zeroes the old day in PostgreSQL';
is psql("SELECT string_agg(day || ':' || views, ' ' ORDER BY day) FROM video_views_daily WHERE video_id = '$b'"),
    '2030-01-15:203 2030-01-16:1', 'one row per day';

$offset = offset_to(2030, 2, 1);
start_nginx();
is stats($b), '0/0/204/0', 'a new month starts at zero';
is view($b), 200, 'a view in it';
is stats($b), '1/1/205/1', 'counts from zero';

# -- Redis down and back -------------------------------------------------------

rollup();
stack(qw(stop redis));
my $t0 = time;
($s, $body) = http_request($port, 'POST', "/api/analytics/view/$b");
my $took = time - $t0;
is $s, 503, 'Redis down: a view is a 503';
like $body, qr/"code":"UNAVAILABLE"/, 'UNAVAILABLE';
cmp_ok $took, '<', 1, sprintf('answered fast (%.0f ms)', $took * 1000);
is stats($b), '1/1/205/1', 'stats answer PostgreSQL\'s rolled-up figures';
is stats('statsNOPE00000000000'), '404 ' . (http_request($port, 'GET', '/api/analytics/stats/statsNOPE00000000000'))[1],
    'an unknown id is still a 404';
is video_views($b), '1/1/205', 'and so does the video object';
stack(qw(start redis));
ok wait_for(10, sub { view($b) == 200 }), 'Redis back: counting resumes without a reload';
is stats($b), '2/2/206/1', 'from where it was';

# -- no view lost: the worker killed, Redis restarted ---------------------------

rollup();
start_worker();
my $stop = "$tmp/stop";
my @pids;
for my $p (1 .. 4) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my ($o, $f) = (0, 0);
        until (-e $stop) { view($a, "loss $p") == 200 ? $o++ : $f++ }
        open my $fh, '>', "$tmp/loss.$p" or POSIX::_exit(1);
        print $fh "$o $f";
        close $fh;
        POSIX::_exit(0);
    }
    push @pids, $pid;
}
sleep 1.5;
stop_worker('KILL');
sleep 0.5;
start_worker();
sleep 1.5;
stack(qw(stop redis));
sleep 0.3;
stack(qw(start redis));
sleep 1.5;
stop_worker('KILL');
start_worker();
sleep 1.5;
open my $sf, '>', $stop or die;
close $sf;
waitpid $_, 0 for @pids;
($ok, $bad) = (0, 0);
for my $p (1 .. 4) {
    open my $fh, '<', "$tmp/loss.$p" or die "no result from process $p";
    my ($o, $f) = split ' ', <$fh>;
    $ok += $o;
    $bad += $f;
}
ok wait_for(15, sub { redis_cli('EXISTS views:pending') == 0 && redis_cli('SCARD views:batches') == 0 }),
    'the worker rolls everything up';
stop_worker('TERM');
my $total = (split '/', stats($a))[2] - 1;
my $pg = psql("SELECT views_total FROM videos WHERE id = '$a'") - 1;
my $days = psql("SELECT sum(views) FROM video_views_daily WHERE video_id = '$a'") - 1;
diag "no-loss run: $ok views answered 2xx, $bad refused, $total counted in Redis, $pg in PostgreSQL";
cmp_ok $ok, '>', 500, 'many views were answered during the run';
cmp_ok $bad, '>', 0, 'some were refused while Redis restarted';
cmp_ok $total, '>=', $ok, 'every view that got 2xx is counted';
cmp_ok $total, '<=', $ok + $bad, 'none twice';
is $pg, $total, 'PostgreSQL has exactly what Redis counted';
is $days, $total, 'and so do the day rows';

# -- the shipped config: resets from loopback only ---------------------------

{
    local $ENV{VIDEO_API_HTTP_PORT} = $port + 1;
    local $ENV{VIDEO_API_STORE_PORT} = $port + 2;
    local $ENV{VIDEO_API_RTMP_PORT} = $port + 3;
    stack(qw(start nginx));
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port + 1,
                                     LocalAddr => '127.0.0.2')
        or die "cannot connect from 127.0.0.2: $!";
    print $sock "POST /api/analytics/reset/daily HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
    local $/;
    my $resp = <$sock> // '';
    like $resp, qr{^HTTP/1\.1 403 }, 'the shipped config refuses a reset from another address';
    like $resp, qr/"code":"FORBIDDEN"/, 'with an envelope';
    ($s) = http_request($port + 1, 'POST', '/api/analytics/reset/daily');
    is $s, 200, 'and takes it from loopback';
    $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port + 1,
                                  LocalAddr => '127.0.0.2') or die;
    print $sock "POST /api/analytics/view/$a HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
    $resp = <$sock> // '';
    like $resp, qr{^HTTP/1\.1 200 }, 'views come from anywhere';
    stack(qw(stop nginx));
}

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed worker';

done_testing();
