# WebRTC signaling through /api/live/:id/signal against real PostgreSQL,
# Redis and nginx with two workers: messages between peers in order and
# once, long polls woken by posts that another worker took, the poll's
# timeout, expiry after 60 s, validation, Redis down and back, and a
# client that leaves in the middle of a poll.

# memcheck: yes

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

my $dir = "$ENV{PWD}/t/servroot-signal";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 70;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $slow = $ENV{TEST_NGINX_USE_VALGRIND} ? 4 : 1;   # memcheck is slow
my $tmp = tempdir(CLEANUP => 1);
my ($s, $b, $t);

END { nginx_stop($dir) if $dir; }

sub redis_cli { my $out = qx{redis-cli -p $rport @_}; chomp $out; $out }

psql('TRUNCATE videos, outbox CASCADE');
redis_cli(q{--scan --pattern 'signal:*' | xargs -r redis-cli -p } . $rport . ' DEL');

# the live area gets a location of its own: a larger body limit (the
# signal route keeps its own 64 KiB), and a header that names the worker
nginx_start($dir, $port, <<"CONF", <<'SERVER', workers => 2);
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=2s;
    video_api_signal_timeout 20s;
CONF
        location /api/live/ {
            video_api live;
            video_api_max_body_size 1m;
            client_max_body_size 1m;
            client_body_buffer_size 1m;
            add_header X-Worker $pid always;
        }
SERVER
wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

# one request: (status, body, seconds taken, pid of the worker)
sub req {
    my ($method, $path, $body) = @_;
    my $t0 = time;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Timeout => 60) or return (0, '', 0, 0);
    my $r = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
    $r .= "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n"
        if defined $body;
    print $sock $r . "\r\n" . ($body // '');
    local $/;
    my $resp = <$sock> // '';
    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
    my ($pid) = ($head // '') =~ /^X-Worker: (\d+)/mi;
    return ($status // 0, $rbody // '', time - $t0, $pid // 0);
}

sub post_signal {
    my ($id, $body) = @_;
    return req('POST', "/api/live/$id/signal", $body);
}

sub msg {
    my ($type, $from, $to, $data) = @_;
    return qq({"type":"$type","from":"$from","to":"$to","data":$data});
}

sub poll {
    my ($id, $peer, $timeout) = @_;
    my $q = "peer=$peer" . (defined $timeout ? "&timeout=$timeout" : '');
    return req('GET', "/api/live/$id/signal?$q");
}

# the messages of a poll's answer, as "type from>to data" lines
sub messages {
    my ($body) = @_;
    my ($list) = $body =~ /^\{"success":true,"data":\{"messages":\[(.*)\]\}\}$/s
        or return "not a message list: $body";
    my @m;
    while ($list =~ /\{"id":"[A-Za-z0-9_-]{21}","type":"([^"]+)","from":"([^"]+)","to":"([^"]+)","data":(.*?),"createdAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"\}/g) {
        push @m, "$1 $2>$3 $4";
    }
    return join "\n", @m;
}

sub keys_of { my ($id) = @_; return redis_cli("--scan --pattern 'signal:$id:*' | wc -l") + 0 }

# runs $code in a child; its result (a string) comes back through a file
sub spawn {
    my ($name, $code) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $out = $code->();
        open my $fh, '>', "$tmp/$name" or POSIX::_exit(1);
        print $fh $out;
        close $fh;
        POSIX::_exit(0);
    }
    return $pid;
}

sub result { my ($name) = @_; local (@ARGV, $/) = ("$tmp/$name"); return <> // '' }

# -- a stream and two peers ----------------------------------------------------

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Signals"}');
is $s, 201, 'a live stream';
my ($id) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my $vod = 'vod0000000000000sig01';
seed_video(id => $vod, title => 'not live', visibility => 'PUBLIC');

($s, $b) = post_signal($id, msg('offer', 'alice', 'bob', '"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"'));
is $s, 201, 'an offer is stored: 201';
like $b, qr/^\{"success":true,"data":\{"id":"[A-Za-z0-9_-]{21}","type":"offer","from":"alice","to":"bob","createdAt":"[^"]+Z","expiresIn":60\}\}$/,
    'the answer names the message, without its data';

($s) = post_signal($id, msg('answer', 'bob', 'alice', '{"type":"answer","sdp":"v=0"}'));
is $s, 201, 'an answer the other way';
for my $n (1 .. 3) {
    ($s) = post_signal($id, msg('ice-candidate', 'alice', 'bob', qq({"candidate":"candidate:$n 1 udp 2122260223 10.0.0.$n 5000$n typ host","sdpMid":"0","sdpMLineIndex":0})));
    is $s, 201, "ICE candidate $n";
}
($s) = post_signal($id, msg('ice-candidate', 'alice', 'bob', 'null'));
is $s, 201, 'the end of candidates (null data)';

is redis_cli("LLEN signal:$id:bob"), 5, 'five messages wait for bob';
my $pttl = redis_cli("PTTL signal:$id:bob");
ok $pttl > 55000 && $pttl <= 60000, "bob's messages expire within 60 s (PTTL $pttl)";

($s, $b, $t) = poll($id, 'bob');
is $s, 200, 'bob polls';
cmp_ok $t, '<', 1 * $slow, 'and has his messages at once';
is messages($b), join("\n",
    'offer alice>bob "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"',
    'ice-candidate alice>bob {"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 50001 typ host","sdpMid":"0","sdpMLineIndex":0}',
    'ice-candidate alice>bob {"candidate":"candidate:2 1 udp 2122260223 10.0.0.2 50002 typ host","sdpMid":"0","sdpMLineIndex":0}',
    'ice-candidate alice>bob {"candidate":"candidate:3 1 udp 2122260223 10.0.0.3 50003 typ host","sdpMid":"0","sdpMLineIndex":0}',
    'ice-candidate alice>bob null'),
    'the offer and the candidates, in the order posted, data as sent';
is redis_cli("EXISTS signal:$id:bob"), 0, 'nothing is left for bob';

($s, $b, $t) = poll($id, 'bob', 0);
is "$s " . messages($b), '200 ', 'a second poll (timeout 0) finds nothing: each message is delivered once';
cmp_ok $t, '<', 1 * $slow, 'and answers at once';

($s, $b) = poll($id, 'alice', 0);
is messages($b), 'answer bob>alice {"type":"answer","sdp":"v=0"}', 'alice has the answer';

# -- expiry ----------------------------------------------------------------------

# a message posted 61 s ago (as Redis's clock counts) is not delivered
my ($now) = redis_cli('TIME') =~ /^(\d+)/;
my $old = ($now - 61) * 1000;
redis_cli("RPUSH signal:$id:carol '$old:{\"id\":\"old\",\"type\":\"offer\",\"from\":\"x\",\"to\":\"carol\",\"data\":1,\"createdAt\":\"2000-01-01T00:00:00.000Z\"}'");
($s) = post_signal($id, msg('offer', 'dave', 'carol', '2'));
is $s, 201, 'a fresh message behind an expired one';
($s, $b) = poll($id, 'carol', 0);
is messages($b), 'offer dave>carol 2', 'only the fresh one is delivered';
is redis_cli("EXISTS signal:$id:carol"), 0, 'and the expired one is gone too';

# -- the long poll ---------------------------------------------------------------

($s, $b, $t) = poll($id, 'nobody', 2);
is "$s " . messages($b), '200 ', 'a poll with nothing pending answers an empty list';
ok $t > 1.9 && $t < 2 + $slow, sprintf('after its timeout of 2 s (%.2f s)', $t);

# polls of eight peers, then one post for each: each poll returns with
# its message soon after the post, whichever worker took either
my $n = 8;
my @pids;
for my $p (1 .. $n) {
    push @pids, spawn("poll$p", sub {
        my ($s, $b, $t, $pid) = poll($id, "peer$p", 15);
        return sprintf "%d %.3f %d %s", $s, time, $pid, messages($b);
    });
}
sleep 1;    # the polls are waiting (a post before a poll is also fine)
my (%posted, %post_pid, %poll_pid);
for my $p (1 .. $n) {
    $posted{$p} = time;
    ($s, undef, undef, $post_pid{$p}) = post_signal($id, msg('offer', 'host', "peer$p", qq("sdp $p")));
    is $s, 201, "a post for peer$p";
}
waitpid $_, 0 for @pids;
my @lat;
for my $p (1 .. $n) {
    my ($st, $done, $pid, $m) = split ' ', result("poll$p"), 4;
    is "$st $m", "200 offer host>peer$p \"sdp $p\"", "the poll of peer$p has its message";
    push @lat, $done - $posted{$p};
    $poll_pid{$p} = $pid;
}
@lat = sort { $::a <=> $::b } @lat;
cmp_ok $lat[-1], '<', 0.5 * $slow, sprintf('every poll returned soon after its post (median %.1f ms, max %.1f ms)',
                                           1000 * $lat[$#lat / 2], 1000 * $lat[-1]);

# which worker took each post and each poll
my @across = grep { $post_pid{$_} && $poll_pid{$_} && $post_pid{$_} != $poll_pid{$_} } keys %poll_pid;
my %pids = map { $_ => 1 } values %post_pid, values %poll_pid;
SKIP: {
    skip 'one worker under memcheck', 2 if $ENV{TEST_NGINX_USE_VALGRIND};
    is scalar(keys %pids), 2, 'both workers served the polls and posts';
    cmp_ok scalar(@across), '>', 0,
        scalar(@across) . " of $n messages were posted through one worker and delivered by the other";
}

# three polls of one peer, one message: exactly one of them has it
@pids = ();
for my $p (1 .. 3) {
    push @pids, spawn("same$p", sub {
        my ($s, $b, $t) = poll($id, 'shared', 3);
        return sprintf "%d %.3f %s", $s, $t, messages($b);
    });
}
sleep 0.5;
($s) = post_signal($id, msg('answer', 'host', 'shared', '"once"'));
is $s, 201, 'one message for a peer polled three times at once';
waitpid $_, 0 for @pids;
my @got = map { [split ' ', result("same$_"), 3] } 1 .. 3;
is scalar(grep { $_->[0] == 200 } @got), 3, 'all three polls answer 200';
my @with = grep { ($_->[2] // '') ne '' } @got;
is scalar(@with), 1, 'exactly one has the message';
is $with[0][2], 'answer host>shared "once"', 'the message';
cmp_ok $with[0][1], '<', 1 * $slow, 'soon after it was posted';

# -- validation ------------------------------------------------------------------

my @bad = (
    [ msg('video', 'a', 'b', 1), 'type', 'type must be one of offer, answer, ice-candidate' ],
    [ '{"from":"a","to":"b","data":1}', 'type', 'type is required' ],
    [ '{"type":["offer"],"from":"a","to":"b","data":1}', 'type', 'type must be one of' ],
    [ msg('offer', 'a b', 'b', 1), 'from', 'from must be a peer id' ],
    [ msg('offer', 'a', 'b/c', 1), 'to', 'to must be a peer id' ],
    [ msg('offer', 'a' x 65, 'b', 1), 'from', 'from must be a peer id: 1 to 64 characters' ],
    [ msg('offer', '', 'b', 1), 'from', 'from must be a peer id' ],
    [ '{"type":"offer","to":"b","data":1}', 'from', 'from is required' ],
    [ '{"type":"offer","from":"a","data":1}', 'to', 'to is required' ],
    [ '{"type":"offer","from":7,"to":"b","data":1}', 'from', 'from must be a peer id' ],
    [ '{"type":"offer","from":"a","to":{"id":"b"},"data":1}', 'to', 'to must be a peer id' ],
    [ msg('offer', 'same', 'same', 1), 'to', 'to must be another peer than from' ],
    [ '{"type":"offer","from":"a","to":"b"}', 'data', 'data is required' ],
);
for my $case (@bad) {
    my ($body, $path, $message) = @$case;
    ($s, $b) = post_signal($id, $body);
    is $s, 400, "400 for a bad $path: $body";
    like $b, qr/"code":"VALIDATION_ERROR".*"details":\[[^\]]*\{"path":"$path","message":"\Q$message\E/,
        "a VALIDATION_ERROR whose details say: $message";
}
($s, $b) = post_signal($id, '[1]');
is $s, 400, 'a body that is not an object is a 400';
($s, $b) = post_signal($id, '{"type":');
like "$s $b", qr/^400 .*Malformed JSON/, 'malformed JSON is a 400';

($s, $b) = post_signal($id, msg('offer', 'a', 'b', '"' . ('x' x 65000) . '"'));
is $s, 201, 'a body just under 64 KiB is taken';
($s, $b) = poll($id, 'b', 0);
is length($b) > 65000 ? 'long' : $b, 'long', 'and delivered';
($s, $b) = post_signal($id, msg('offer', 'a', 'b', '"' . ('x' x 66000) . '"'));
is $s, 413, 'a body over 64 KiB is a 413, though the location allows 1 MiB';
like $b, qr/"message":"Request body is larger than 65536 bytes".*"code":"PAYLOAD_TOO_LARGE"/, 'PAYLOAD_TOO_LARGE, saying the limit';

($s, $b) = post_signal('unknownstream00000001', msg('offer', 'a', 'b', 1));
is $s, 404, 'an unknown stream is a 404';
like $b, qr/"message":"[^"]*not found".*"code":"NOT_FOUND"/, 'NOT_FOUND';
($s, $b) = post_signal('nope', msg('offer', 'a', 'b', 1));
is $s, 404, 'a malformed id is a 404';
like $b, qr/Live stream 'nope' not found/, 'that names it';
($s, $b) = post_signal($vod, msg('offer', 'a', 'b', 1));
is $s, 404, 'a video that is not a live stream is a 404';
like $b, qr/Live stream '$vod' not found/, 'that says so';
($s, $b) = post_signal('nope', msg('offer', 'a', 'a', 1));
is $s, 400, 'a bad body is a 400 whatever the id';

is keys_of($id), 0, 'no bad request stored anything';
is keys_of('unknownstream00000001') + keys_of($vod), 0, 'nor for other ids';

($s, $b) = http_request($port, 'GET', "/api/live/$id/signal");
like "$s $b", qr/^400 .*"path":"peer","message":"peer is required/, 'a poll without a peer is a 400';
($s, $b) = poll($id, 'a%20b');
like "$s $b", qr/^400 .*"path":"peer","message":"peer must be a peer id/, 'so is one with a bad peer id';
($s, $b) = poll($id, 'x' x 65);
is $s, 400, 'or a peer id too long';
($s, $b) = poll($id, 'bob', 'soon');
like "$s $b", qr/^400 .*"path":"timeout"/, 'a timeout that is not whole seconds is a 400';
($s, $b) = poll($id, 'bob', '-1');
is $s, 400, 'so is a negative one';
($s, $b) = poll('unknownstream00000001', 'bob', 0);
is $s, 404, 'a poll of an unknown stream is a 404';
($s, $b) = poll($vod, 'bob', 0);
is $s, 404, 'and of a video that is not live';

# -- a client that leaves in the middle of a poll ----------------------------------

for my $round (1 .. 3) {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die $!;
    print $sock "GET /api/live/$id/signal?peer=gone&timeout=10 HTTP/1.0\r\nHost: localhost\r\n\r\n";
    sleep 0.3;
    close $sock;
}
sleep 0.3;
($s) = post_signal($id, msg('offer', 'a', 'gone', '"after"'));
is $s, 201, 'a post for a peer whose polls went away';
($s, $b) = poll($id, 'gone', 1);
is messages($b), 'offer a>gone "after"', 'a later poll has it: the polls that went away took nothing';
($s, $b, $t) = poll($id, 'gone', 1);
is "$s " . messages($b), '200 ', 'and the next one waits as usual';

# -- Redis down and back -----------------------------------------------------------

my $waiting = spawn('down', sub {
    my ($s, $b, $t) = poll($id, 'eve', 10);
    return sprintf "%d %.3f %s", $s, $t, $b;
});
sleep 0.5;
stack(qw(stop redis));
($s, $b, $t) = post_signal($id, msg('offer', 'a', 'eve', 1));
is $s, 503, 'Redis down: a post is a 503';
like $b, qr/"code":"UNAVAILABLE"/, 'UNAVAILABLE';
cmp_ok $t, '<', 1 * $slow, 'answered fast';
($s, $b) = poll($id, 'eve', 5);
is $s, 503, 'a poll is a 503 too';
like $b, qr/"code":"UNAVAILABLE"/, 'UNAVAILABLE';
waitpid $waiting, 0;
my ($ds, $dt) = split ' ', result('down');
like $ds, qr/^(503|200)$/, "a poll that was waiting ends ($ds)";
cmp_ok $dt, '<', 5, sprintf('well before its timeout (%.1f s)', $dt);
stack(qw(start redis));
ok wait_for(15, sub { (post_signal($id, msg('offer', 'a', 'eve', '"back"')))[0] == 201 }),
    'Redis back: posts work again without a reload';
($s, $b) = poll($id, 'eve', 0);
like messages($b), qr/^(offer a>eve "back"\n?)+$/, 'and polls deliver them';

# a poll that waits when the subscriber connection is back is woken again
# (each worker subscribes to two patterns: signaling and live:drop)
ok wait_for(15, sub { (() = redis_cli('CLIENT LIST') =~ /psub=2\b/g) >= ($ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 2) }),
    'every worker subscribed again';
$waiting = spawn('back', sub {
    my ($s, $b, $t) = poll($id, 'frank', 10);
    return sprintf "%d %.3f %s", $s, $t, messages($b);
});
sleep 0.5;
my $t0 = time;
($s) = post_signal($id, msg('answer', 'a', 'frank', '"woken"'));
waitpid $waiting, 0;
my ($fs, $ft, $fm) = split ' ', result('back'), 3;
is "$fs $fm", '200 answer a>frank "woken"', 'a poll after the restart has its message';
cmp_ok $ft, '<', 1 * $slow + 0.5, 'promptly';

# -- a graceful shutdown ends the polls at once -----------------------------------

SKIP: {
    skip 'one process under memcheck ends without a graceful shutdown', 2
        if $ENV{TEST_NGINX_USE_VALGRIND};
    $waiting = spawn('quit', sub {
        my ($s, $b, $t) = poll($id, 'grace', 15);
        return sprintf "%d %.3f %s", $s, $t, messages($b);
    });
    sleep 0.5;
    nginx_stop($dir);
    waitpid $waiting, 0;
    my ($qs, $qt, $qm) = split ' ', result('quit'), 3;
    is "$qs " . ($qm // ''), '200 ', 'a poll waiting when nginx stops answers an empty list';
    cmp_ok $qt, '<', 3, sprintf('at once, not after its timeout (%.1f s)', $qt);
}

# -- nothing went wrong in nginx -------------------------------------------------

my $errors = do { local (@ARGV, $/) = ("$dir/logs/error.log"); <> } // '';
unlike $errors, qr/\[(alert|emerg|crit)\]|exited on signal|open socket/, 'no alert, crash or leaked socket in the error log';
like $errors, qr/redis subscriber 127\.0\.0\.1:$rport is down/, 'the subscriber said once it was down';
like $errors, qr/redis subscriber 127\.0\.0\.1:$rport is up/, 'and that it was back';

done_testing;
