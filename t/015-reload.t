# Reloads and a graceful shutdown under load: nginx with the module and two
# workers, against the test stack, takes mixed API traffic from wrk
# (t/wrk/reload-mix.lua: cached GETs of a video, list pages, PATCHes,
# view posts) while long polls of WebRTC signaling wait beside it, and is
# reloaded (`nginx -s reload`) three times during the run.  No answer may
# be an error, no write may be lost (each PATCHed title in PostgreSQL is
# the last one answered, or one sent after it; the views counted are the
# views answered), every long poll ends with an answer, never a reset, and
# the old workers exit.  Socket errors (an idle keep-alive connection an
# old worker closes while the client sends on it) are counted and must be
# rare.  Then `nginx -s quit` during a long poll: the poll is answered and
# nginx exits.
#
# sanitizers: no (a load test: it measures, under no instrumentation)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};
plan skip_all => 'wrk is not installed' unless grep { -x "$_/wrk" } split /:/, $ENV{PATH};

my $dir = "$ENV{PWD}/t/servroot-reload";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 43;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $bin = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
my $tmp = tempdir(CLEANUP => 1);
my $duration = $ENV{VIDEO_API_RELOAD_SECONDS} // 20;
my $threads = 4;
my @children;

END {
    kill 'KILL', @children;
    nginx_stop($dir) if $dir;
}

sub redis_cli { my $out = qx{redis-cli -p $rport @_}; chomp $out; $out }

my $key = api_key();
my $cached = 'reloadCache0000000000';
my $viewed = 'reloadViews0000000000';
my $prefix = 'reloadPatch';
my @patched = map { sprintf '%s%010d', $prefix, $_ } 1 .. $threads;

psql("DELETE FROM videos WHERE id LIKE 'reload%'");
seed_video(id => $_, title => 'reload', status => 'READY', visibility => 'PUBLIC')
    for $cached, $viewed, @patched;
redis_cli(q{--scan --pattern '*reload*' | xargs -r redis-cli -p } . $rport . ' DEL >/dev/null');
# the view route's set of ids, which an earlier suite's analytics worker
# may have marked complete without these videos: filled again from
# PostgreSQL
redis_cli('DEL', 'video:ids', 'video:ids:complete');

nginx_start($dir, $port, <<"CONF", '', workers => 2);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=2s;
    video_api_signal_timeout 15s;
CONF
ok wait_for(30, sub { (http_request($port, 'GET', '/health'))[0] == 200 }), 'nginx is healthy';

sub signal { system("$bin -p $dir/ -c conf/nginx.conf -s $_[0] 2>/dev/null") == 0 }
sub master { return (qx{cat $dir/logs/nginx.pid} =~ /(\d+)/)[0] }
sub workers { my $m = master() or return 0; my @k = split ' ', qx{pgrep -P $m}; return scalar @k }

# -- long polls beside the traffic ---------------------------------------------

my ($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Reloads"}');
is $s, 201, 'a live stream for the long polls';
my ($stream) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;

# one long poll: (status, seconds, 1 when the answer is a message list)
sub poll_once {
    my ($peer, $token, $timeout) = @_;
    my $t0 = time;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 60)
        or return (0, 0, 0);
    print $sock "GET /api/live/$stream/signal?peer=$peer&timeout=$timeout HTTP/1.0\r\n"
              . "Host: localhost\r\nX-Peer-Token: $token\r\n\r\n";
    local $/;
    my $resp = <$sock> // '';
    my ($status) = $resp =~ m{^HTTP/1\.\d (\d+)};
    my (undef, $body) = split /\r\n\r\n/, $resp, 2;
    return ($status // 0, time - $t0,
            ($body // '') =~ /^\{"success":true,"data":\{"messages":\[.*\]\}\}$/s ? 1 : 0);
}

sub join_peer {
    my ($s, $b) = http_request($port, 'POST', "/api/live/$stream/signal/join");
    return $b =~ /"peerId":"([A-Za-z0-9_-]{21})","peerToken":"([A-Za-z0-9_-]{32})"/;
}

# polls until $until, one line per poll: "status seconds ok"
sub poller {
    my ($name, $until, $timeout) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open my $fh, '>', "$tmp/$name" or POSIX::_exit(1);
        $fh->autoflush(1);
        my ($peer, $token) = join_peer();
        while (time < $until) {
            ($peer, $token) = join_peer() unless $peer;
            my ($st, $sec, $ok) = poll_once($peer // 'x', $token // 'x', $timeout);
            printf $fh "%d %.3f %d\n", $st, $sec, $ok;
            undef $peer if $st == 401 || $st == 404;
        }
        POSIX::_exit(0);
    }
    push @children, $pid;
    return $pid;
}

# the views are counted in Redis (views:t, all time, by id) and rolled up
# later by the analytics worker, which does not run here
my $views_before = redis_cli("HGET views:t $viewed") || 0;

# -- the run ------------------------------------------------------------------------

my $figures = "$tmp/wrk-figures";
my $t0 = time;
my @pollers = map { poller("poll$_", $t0 + $duration, 10) } 1 .. 3;

my $wrk = fork // die "fork: $!";
if ($wrk == 0) {
    open STDOUT, '>', "$tmp/wrk.out";
    open STDERR, '>&', \*STDOUT;
    { exec 'wrk', '-t', $threads, '-c', $threads, '-d', "${duration}s", '--timeout', '10s',
          '-s', 't/wrk/reload-mix.lua', "http://127.0.0.1:$port", '--',
          $key, $figures, $cached, $viewed, $prefix; }
    POSIX::_exit(127);
}
push @children, $wrk;

my $reloads = 0;
for my $at (map { $duration * $_ / 4 } 1 .. 3) {
    sleep($t0 + $at - time) if $t0 + $at > time;
    $reloads++ if signal('reload');
}
is $reloads, 3, 'nginx -s reload, three times during the run';

waitpid $wrk, 0;
is $? >> 8, 0, 'wrk ran' or diag do { local (@ARGV, $/) = ("$tmp/wrk.out"); <> };
waitpid $_, 0 for @pollers;
@children = ();

my %f = do { local @ARGV = ($figures); map { /^(\S+) (\d+)$/ ? ($1, $2) : () } <> };
my $requests = $f{requests} // 0;
cmp_ok $requests, '>', 1000, "wrk made requests ($requests)";

my (%by_kind, $bad);
for my $k (grep { /^status:/ } keys %f) {
    my (undef, $kind, $code) = split /:/, $k;
    $by_kind{$kind}{$code} += $f{$k};
    $bad .= "$kind $code: $f{$k}\n" unless $code =~ /^2\d\d$/;
}
ok !defined $bad, 'no answer was an error status (5xx or 4xx)' or diag $bad;

my $errors = 0;
$errors += $f{"errors_$_"} // 0 for qw(connect read write timeout);
my $answered = 0;
$answered += $_ for map { values %$_ } values %by_kind;
diag sprintf "%d requests in %d s (%d answered: %s), %d reloads; socket errors: "
             . "connect %d, read %d, write %d, timeout %d (%.3f%%)",
    $requests, $duration, $answered,
    join(', ', map { my $k = $_; "$k " . join('/', map { "$_ x$by_kind{$k}{$_}" } sort keys %{$by_kind{$k}}) }
               sort keys %by_kind),
    $reloads, (map { $f{"errors_$_"} // 0 } qw(connect read write timeout)),
    $requests ? 100 * $errors / $requests : 0;
# a reload closes each idle keep-alive connection of the old workers once:
# a request sent on one as it closes is lost to the client (wrk reconnects)
my $bound = $requests * 0.001 > $threads * $reloads ? $requests * 0.001 : $threads * $reloads;
cmp_ok $errors, '<=', $bound, 'socket errors are rare: at most 0.1% of the requests, '
    . 'or one per connection and reload';

# no write lost: each video's title is the last PATCH answered, or a later
# one that was sent but whose answer the connection lost
for my $n (1 .. $threads) {
    my $title = psql("SELECT title FROM videos WHERE id = '$patched[$n - 1]'");
    my ($w, $c) = $title =~ /^w(\d+)-(\d+)$/;
    my ($acked, $sent) = ($f{"patch_acked:$n"} // -1, $f{"patch_sent:$n"} // -1);
    ok defined $c && $w == $n && $c >= $acked && $c <= $sent,
       "thread $n: PostgreSQL has its last PATCH ($title; answered up to $acked, sent $sent)";
}

# the views answered are the views counted: each one, and at most the
# few whose answers a socket error lost (sent, counted, not answered)
my $views = 0;
$views += $by_kind{view}{$_} for grep { /^2/ } keys %{$by_kind{view} // {}};
my $counted = (redis_cli("HGET views:t $viewed") || 0) - $views_before;
ok $counted >= $views && $counted <= $views + $errors,
   "every view answered is counted in Redis ($views answered, $counted counted, "
   . "$errors answers lost to socket errors)";

# the long polls: each ended with an answer
my @polls = map { my $p = $_; do { local @ARGV = ("$tmp/$p"); map { [split] } <> } } map { "poll$_" } 1 .. 3;
my @reset = grep { $_->[0] != 200 || !$_->[2] } @polls;
my @early = grep { $_->[0] == 200 && $_->[1] < 9 } @polls;
diag sprintf '%d long polls, %d answered before their timeout (a reload), %d not a proper answer',
    scalar(@polls), scalar(@early), scalar(@reset);
cmp_ok scalar(@polls), '>=', 6, 'long polls waited during the run';
is scalar(@reset), 0, 'every long poll ended with a 200 and a message list, none with a reset'
    or diag join "\n", map { "@$_" } @reset[0 .. ($#reset > 4 ? 4 : $#reset)];
ok wait_for(20, sub { workers() == 2 }), 'the old workers exited';

my $errlog = do { local (@ARGV, $/) = ("$dir/logs/error.log"); <> } // '';
my @crit = $errlog =~ /^.*\[(?:alert|crit|emerg)\].*$/mg;
is scalar(@crit), 0, 'no alert or crit in the error log' or diag join "\n", @crit[0 .. ($#crit > 4 ? 4 : $#crit)];
unlike $errlog, qr/worker process \d+ exited on signal/, 'no worker crashed';

# -- a graceful shutdown during a long poll ------------------------------------

my ($peer, $token) = join_peer();
ok $peer, 'a peer for the last poll';
my $poll = fork // die "fork: $!";
if ($poll == 0) {
    my @r = poll_once($peer, $token, 15);
    open my $fh, '>', "$tmp/last" or POSIX::_exit(1);
    print $fh "@r\n";
    close $fh;
    POSIX::_exit(0);
}
push @children, $poll;
sleep 1.5;
my $master = master();
ok signal('quit'), 'nginx -s quit while it waits';
waitpid $poll, 0;
@children = ();
my ($st, $sec, $ok) = split ' ', do { local (@ARGV, $/) = ("$tmp/last"); <> } // '0 0 0';
is $st, 200, 'the poll is answered';
ok $ok, 'with a message list';
cmp_ok $sec, '<', 5, "at once, not at its timeout ($sec s)";
ok wait_for(10, sub { !kill 0, $master }), 'and nginx exits';

done_testing;
