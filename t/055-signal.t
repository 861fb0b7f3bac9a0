# WebRTC signaling through /api/live/:id/signal against real PostgreSQL,
# Redis and nginx with two workers: peers the server issues, each with a
# token that every poll, post and leave must carry; messages between
# peers in order and once, long polls woken by posts that another worker
# took, the poll's timeout, expiry after 60 s, validation; what a caller
# without the right token can do (nothing: 401, nothing taken or
# stored); the bounds of a stream (peers, messages and bytes waiting)
# and the Redis memory they hold; peers that expire when idle, with a
# second nginx configured with small limits; Redis down and back, and a
# client that leaves in the middle of a poll.

# memcheck: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use POSIX ();
use IO::Socket::INET;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-signal";
my $dir2 = "$ENV{PWD}/t/servroot-signal-small";
my $dir3 = "$ENV{PWD}/t/servroot-signal-one";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 70;
my $port2 = $port + 1;
my $port3 = $port + 2;
my $spread = $port + 3;     # reuseport: connections spread over the workers
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $slow = $ENV{TEST_NGINX_USE_VALGRIND} ? 4 : 1;   # memcheck is slow
my $tmp = tempdir(CLEANUP => 1);
my ($s, $b, $t, $h);

END { nginx_stop($_) for grep { defined } $dir, $dir2, $dir3; }

sub redis_cli { my $out = qx{redis-cli -p $rport @_}; chomp $out; $out }

psql('TRUNCATE videos, outbox CASCADE');
redis_cli(q{--scan --pattern 'signal:*' | xargs -r redis-cli -p } . $rport . ' DEL');

# the live area gets a location of its own: a larger body limit (the
# signal route keeps its own 64 KiB), and a header that names the worker;
# the signaling limits are the defaults
my $main_http = <<"CONF";
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=2s;
    video_api_signal_timeout 20s;
CONF
my $main_server = <<'SERVER';
        location /api/live/ {
            video_api live;
            video_api_max_body_size 1m;
            client_max_body_size 1m;
            client_body_buffer_size 1m;
            add_header X-Worker $pid always;
        }
SERVER
nginx_start($dir, $port, $main_http, $main_server
                                   . "        listen 127.0.0.1:$spread reuseport;\n", workers => 2);
wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

# one request: (status, body, seconds taken, pid of the worker, head);
# $hdrs: extra header lines
sub req_to {
    my ($to, $method, $path, $body, $hdrs) = @_;
    my $t0 = time;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $to,
                                     Timeout => 60) or return (0, '', 0, 0, '');
    print $sock request_text('1.0', $method, $path, $body, $hdrs);
    local $/;
    my $resp = <$sock> // '';
    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    my ($status, $pid) = answer_of($method, $path, $head // '', $rbody // '');
    return ($status, $rbody // '', time - $t0, $pid, $head // '');
}

# the bytes of a request: HTTP/$version, $body as JSON, $hdrs extra lines
sub request_text {
    my ($version, $method, $path, $body, $hdrs) = @_;
    my $r = "$method $path HTTP/$version\r\nHost: localhost\r\n" . ($hdrs // '');
    $r .= "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n"
        if defined $body;
    return $r . "\r\n" . ($body // '');
}

# an answer's status and worker pid (0 when missing); recorded for the
# contract check
sub answer_of {
    my ($method, $path, $head, $body) = @_;
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    my ($pid) = $head =~ /^X-Worker: (\d+)/mi;
    contract_record($method, $path, $status, $head, $body);
    return ($status // 0, $pid // 0);
}

sub req { return req_to($port, @_) }

sub token_header { my ($token) = @_; return defined $token ? "X-Peer-Token: $token\r\n" : '' }

# a new peer of stream $id: (peer id, token), or () when refused
sub join_peer {
    my ($id, $to) = @_;
    my ($s, $b) = req_to($to // $port, 'POST', "/api/live/$id/signal/join");
    my ($peer, $token) = $b =~ /^\{"success":true,"data":\{"peerId":"([A-Za-z0-9_-]{21})","peerToken":"([A-Za-z0-9_-]{32})","expiresIn":\d+\}\}$/
        or return ();
    return $s == 201 ? ($peer, $token) : ();
}

sub post_signal {
    my ($id, $token, $body, $to) = @_;
    return req_to($to // $port, 'POST', "/api/live/$id/signal", $body, token_header($token));
}

sub msg {
    my ($type, $from, $to, $data) = @_;
    return qq({"type":"$type","from":"$from","to":"$to","data":$data});
}

sub poll {
    my ($id, $peer, $token, $timeout, $to) = @_;
    my $q = "peer=$peer" . (defined $timeout ? "&timeout=$timeout" : '');
    return req_to($to // $port, 'GET', "/api/live/$id/signal?$q", undef, token_header($token));
}

sub leave {
    my ($id, $peer, $token, $to) = @_;
    return req_to($to // $port, 'DELETE', "/api/live/$id/signal?peer=$peer", undef, token_header($token));
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

# every signaling key of a stream with its type and PTTL, for comparisons
sub state_of {
    my ($id) = @_;
    my @keys = sort split /\n/, redis_cli("--scan --pattern 'signal:$id:*'");
    return join "\n", map {
        my $type = redis_cli("TYPE $_");
        my $v = $type eq 'list' ? redis_cli("LRANGE $_ 0 -1")
              : $type eq 'hash' ? join(',', sort split /\n/, redis_cli("HGETALL $_"))
              : $type eq 'zset' ? redis_cli("ZRANGE $_ 0 -1")
              : '';
        "$_ $type $v";
    } @keys;
}

sub used_memory { my ($m) = redis_cli('INFO memory') =~ /^used_memory:(\d+)/m; return $m }

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

sub error_log { my ($in) = @_; local (@ARGV, $/) = ("$in/logs/error.log"); return <> // '' }

# one request over an open HTTP/1.1 connection, which stays open:
# (status, body, pid of the worker)
sub keepalive_req {
    my ($sock, $method, $path, $body, $hdrs) = @_;
    print $sock request_text('1.1', $method, $path, $body, $hdrs);
    my $head = '';
    while (defined(my $line = <$sock>)) {
        last if $line eq "\r\n";
        $head .= $line;
    }
    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    my $rbody = '';
    read($sock, $rbody, $len) if $len;
    my ($status, $pid) = answer_of($method, $path, $head, $rbody);
    return ($status, $rbody, $pid);
}

# keep-alive connections to the reuseport listener, one held by each
# worker: (pid => socket); each new connection goes to either worker
sub pinned_connections {
    my %conn;
    for (1 .. 64) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $spread, Timeout => 60)
            or last;
        $sock->autoflush(1);
        my ($s, undef, $pid) = keepalive_req($sock, 'GET', '/api/live/none/signal');
        if ($pid && !$conn{$pid}) {
            $conn{$pid} = $sock;
        } else {
            close $sock;
        }
        last if keys %conn == 2;
    }
    return %conn;
}

sub denied {
    my ($s, $b, $what) = @_;
    is $s, 401, "$what: 401";
    is $b, '{"success":false,"error":{"message":"Missing or invalid X-Peer-Token for this peer","status":401,"code":"UNAUTHORIZED"}}',
        "$what: the one UNAUTHORIZED answer";
}

# -- a stream and its peers -----------------------------------------------------

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Signals"}');
is $s, 201, 'a live stream';
my ($id) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my $vod = 'vod0000000000000sig01';
seed_video(id => $vod, title => 'not live', visibility => 'PUBLIC');

($s, $b, undef, undef, $h) = req('POST', "/api/live/$id/signal/join");
is $s, 201, 'a peer joins: 201';
like $b, qr/^\{"success":true,"data":\{"peerId":"[A-Za-z0-9_-]{21}","peerToken":"[A-Za-z0-9_-]{32}","expiresIn":120\}\}$/,
    'with the id and token the server chose, and how long it lives without a poll';
like $h, qr/^Cache-Control: no-store\r?$/mi, 'an answer no cache keeps';
my ($alice, $ta) = $b =~ /"peerId":"([^"]+)","peerToken":"([^"]+)"/;
my ($bob, $tb) = join_peer($id);
ok $bob && $bob ne $alice && $tb ne $ta, 'another peer has another id and token';

is redis_cli("ZCARD signal:$id:peers"), 2, 'two peers in Redis';
is redis_cli("HGET signal:$id:tokens $alice"), sha256_hex($ta), 'Redis keeps the SHA-256 of a token';
unlike state_of($id), qr/\Q$ta\E|\Q$tb\E/, 'and never a token itself';

my %ref = (
    'unknownstream00000001' => 'an unknown stream',
    'nope' => 'a malformed id',
    $vod => 'a video that is not a live stream',
);
for my $other (sort keys %ref) {
    ($s, $b) = req('POST', "/api/live/$other/signal/join");
    like "$s $b", qr/^404 .*"message":"[^"]*'\Q$other\E' not found".*"code":"NOT_FOUND"/,
        "joining $ref{$other} is a 404";
}
is keys_of('unknownstream00000001') + keys_of($vod), 0, 'and stores nothing';

# -- messages between peers ------------------------------------------------------

($s, $b) = post_signal($id, $ta, msg('offer', $alice, $bob, '"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"'));
is $s, 201, 'an offer is stored: 201';
like $b, qr/^\{"success":true,"data":\{"id":"[A-Za-z0-9_-]{21}","type":"offer","from":"$alice","to":"$bob","createdAt":"[^"]+Z","expiresIn":60\}\}$/,
    'the answer names the message, without its data';

($s) = post_signal($id, $tb, msg('answer', $bob, $alice, '{"type":"answer","sdp":"v=0"}'));
is $s, 201, 'an answer the other way';
for my $n (1 .. 3) {
    ($s) = post_signal($id, $ta, msg('ice-candidate', $alice, $bob, qq({"candidate":"candidate:$n 1 udp 2122260223 10.0.0.$n 5000$n typ host","sdpMid":"0","sdpMLineIndex":0})));
    is $s, 201, "ICE candidate $n";
}
($s) = post_signal($id, $ta, msg('ice-candidate', $alice, $bob, 'null'));
is $s, 201, 'the end of candidates (null data)';

is redis_cli("LLEN signal:$id:$bob"), 5, 'five messages wait for bob';
my $bytes = 0;
$bytes += length for split /\n/, redis_cli("LRANGE signal:$id:$bob 0 -1");
is redis_cli("HGET signal:$id:bytes $bob"), $bytes, "their bytes are counted ($bytes)";
my $pttl = redis_cli("PTTL signal:$id:$bob");
ok $pttl > 100000 && $pttl <= 120000, "bob's list expires with bob, 2 min after he joined (PTTL $pttl)";

($s, $b, $t) = poll($id, $bob, $tb);
is $s, 200, 'bob polls';
cmp_ok $t, '<', 1 * $slow, 'and has his messages at once';
is messages($b), join("\n",
    qq(offer $alice>$bob "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n"),
    qq(ice-candidate $alice>$bob {"candidate":"candidate:1 1 udp 2122260223 10.0.0.1 50001 typ host","sdpMid":"0","sdpMLineIndex":0}),
    qq(ice-candidate $alice>$bob {"candidate":"candidate:2 1 udp 2122260223 10.0.0.2 50002 typ host","sdpMid":"0","sdpMLineIndex":0}),
    qq(ice-candidate $alice>$bob {"candidate":"candidate:3 1 udp 2122260223 10.0.0.3 50003 typ host","sdpMid":"0","sdpMLineIndex":0}),
    qq(ice-candidate $alice>$bob null)),
    'the offer and the candidates, in the order posted, data as sent';
is redis_cli("EXISTS signal:$id:$bob"), 0, 'nothing is left for bob';
is redis_cli("HEXISTS signal:$id:bytes $bob"), 0, 'nor counted';
$pttl = redis_cli("PTTL signal:$id:peers");
ok $pttl > 130000 && $pttl <= 140000, "a poll keeps its peer for its wait (20 s) and 2 min more (PTTL $pttl)";

($s, $b, $t) = poll($id, $bob, $tb, 0);
is "$s " . messages($b), '200 ', 'a second poll (timeout 0) finds nothing: each message is delivered once';
cmp_ok $t, '<', 1 * $slow, 'and answers at once';

($s, $b) = poll($id, $alice, $ta, 0);
is messages($b), qq(answer $bob>$alice {"type":"answer","sdp":"v=0"}), 'alice has the answer';

# -- expiry ----------------------------------------------------------------------

# a message posted 61 s ago (as Redis's clock counts) is not delivered
my ($carol, $tc) = join_peer($id);
my ($now) = redis_cli('TIME') =~ /^(\d+)/;
my $old = ($now - 61) * 1000;
my $stale = "$old:{\"id\":\"old\",\"type\":\"offer\",\"from\":\"$alice\",\"to\":\"$carol\",\"data\":1,\"createdAt\":\"2000-01-01T00:00:00.000Z\"}";
redis_cli("RPUSH signal:$id:$carol '$stale'");
redis_cli("HINCRBY signal:$id:bytes $carol " . length $stale);
($s) = post_signal($id, $ta, msg('offer', $alice, $carol, '2'));
is $s, 201, 'a fresh message behind an expired one';
is redis_cli("LLEN signal:$id:$carol"), 1, 'the post dropped the expired one';
($s, $b) = poll($id, $carol, $tc, 0);
is messages($b), "offer $alice>$carol 2", 'only the fresh one is delivered';
is redis_cli("EXISTS signal:$id:$carol"), 0, 'and nothing is left';
is redis_cli("HEXISTS signal:$id:bytes $carol"), 0, 'nor counted';

# -- the long poll ---------------------------------------------------------------

my ($nobody, $tn) = join_peer($id);
($s, $b, $t) = poll($id, $nobody, $tn, 2);
is "$s " . messages($b), '200 ', 'a poll with nothing pending answers an empty list';
ok $t > 1.9 && $t < 2 + $slow, sprintf('after its timeout of 2 s (%.2f s)', $t);

# polls of eight peers, then one post for each: each poll returns with
# its message soon after the post, whichever worker took either (through
# the reuseport listener, where each connection goes to either worker;
# on the other, an idle nginx 1.22 hands most connections to one)
my $n = 8;
my (@pids, %peer, %tok);
my ($host, $th) = join_peer($id);
for my $p (1 .. $n) {
    ($peer{$p}, $tok{$p}) = join_peer($id);
}
for my $p (1 .. $n) {
    push @pids, spawn("poll$p", sub {
        my ($s, $b, $t, $pid) = poll($id, $peer{$p}, $tok{$p}, 15, $spread);
        return sprintf "%d %.3f %d %s", $s, time, $pid, messages($b);
    });
}
sleep 1;    # the polls are waiting (a post before a poll is also fine)
my (%posted, %post_pid, %poll_pid);
for my $p (1 .. $n) {
    $posted{$p} = time;
    ($s, undef, undef, $post_pid{$p}) = post_signal($id, $th, msg('offer', $host, $peer{$p}, qq("sdp $p")), $spread);
    is $s, 201, "a post for peer $p";
}
waitpid $_, 0 for @pids;
my @lat;
for my $p (1 .. $n) {
    my ($st, $done, $pid, $m) = split ' ', result("poll$p"), 4;
    is "$st $m", "200 offer $host>$peer{$p} \"sdp $p\"", "the poll of peer $p has its message";
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
    skip 'one worker under memcheck', 8 if $ENV{TEST_NGINX_USE_VALGRIND};
    is scalar(keys %pids), 2, 'both workers served the polls and posts ('
                              . scalar(@across) . " of $n messages crossed)";

    # a poll waiting in one worker, its message posted through the other,
    # each way: over keep-alive connections, each held by one worker
    my %conn = pinned_connections();
    my @w = sort keys %conn;
    is scalar(@w), 2, 'a keep-alive connection to each worker';
    for my $way ([@w], [reverse @w]) {
        my ($in, $via) = @$way;
        my ($to, $tt) = join_peer($id);
        my $child = spawn("pinned$in", sub {
            my ($s, $b, $pid) = keepalive_req($conn{$in}, 'GET', "/api/live/$id/signal?peer=$to&timeout=15",
                                              undef, token_header($tt));
            return sprintf "%d %.3f %d %s", $s, time, $pid, messages($b);
        });
        sleep 0.5;    # the poll is waiting in its worker
        my $at = time;
        my ($ps, undef, $ppid) = keepalive_req($conn{$via}, 'POST', "/api/live/$id/signal",
                                               msg('offer', $host, $to, qq("to $in")), token_header($th));
        waitpid $child, 0;
        my ($st, $done, $pid, $m) = split ' ', result("pinned$in"), 4;
        is "$ps $ppid", "201 $via", "a post through worker $via";
        is "$st $pid $m", "200 $in offer $host>$to \"to $in\"",
            "... wakes the poll waiting in worker $in with its message";
        cmp_ok $done - $at, '<', 0.5 * $slow, sprintf('... soon after the post (%.1f ms)', 1000 * ($done - $at));
    }
    close $_ for values %conn;
}

# three polls of one peer, one message: exactly one of them has it
my ($shared, $ts) = join_peer($id);
@pids = ();
for my $p (1 .. 3) {
    push @pids, spawn("same$p", sub {
        my ($s, $b, $t) = poll($id, $shared, $ts, 3);
        return sprintf "%d %.3f %s", $s, $t, messages($b);
    });
}
sleep 0.5;
($s) = post_signal($id, $th, msg('answer', $host, $shared, '"once"'));
is $s, 201, 'one message for a peer polled three times at once';
waitpid $_, 0 for @pids;
my @got = map { [split ' ', result("same$_"), 3] } 1 .. 3;
is scalar(grep { $_->[0] == 200 } @got), 3, 'all three polls answer 200';
my @with = grep { ($_->[2] // '') ne '' } @got;
is scalar(@with), 1, 'exactly one has the message';
is $with[0][2], qq(answer $host>$shared "once"), 'the message';
cmp_ok $with[0][1], '<', 1 * $slow, 'soon after it was posted';

# -- validation ------------------------------------------------------------------

my $before = state_of($id);
my @bad = (
    [ msg('video', $alice, $bob, 1), 'type', 'type must be one of offer, answer, ice-candidate' ],
    [ qq({"from":"$alice","to":"$bob","data":1}), 'type', 'type is required' ],
    [ qq({"type":["offer"],"from":"$alice","to":"$bob","data":1}), 'type', 'type must be one of' ],
    [ msg('offer', 'a b', $bob, 1), 'from', 'from must be a peer id' ],
    [ msg('offer', $alice, 'b/c', 1), 'to', 'to must be a peer id' ],
    [ msg('offer', 'alice', $bob, 1), 'from', 'from must be a peer id: 21 characters' ],
    [ msg('offer', $alice . 'x', $bob, 1), 'from', 'from must be a peer id: 21 characters' ],
    [ msg('offer', $alice, 'peers', 1), 'to', 'to must be a peer id' ],
    [ msg('offer', '', $bob, 1), 'from', 'from must be a peer id' ],
    [ qq({"type":"offer","to":"$bob","data":1}), 'from', 'from is required' ],
    [ qq({"type":"offer","from":"$alice","data":1}), 'to', 'to is required' ],
    [ qq({"type":"offer","from":7,"to":"$bob","data":1}), 'from', 'from must be a peer id' ],
    [ qq({"type":"offer","from":"$alice","to":{"id":"$bob"},"data":1}), 'to', 'to must be a peer id' ],
    [ msg('offer', $alice, $alice, 1), 'to', 'to must be another peer than from' ],
    [ qq({"type":"offer","from":"$alice","to":"$bob"}), 'data', 'data is required' ],
);
for my $case (@bad) {
    my ($body, $path, $message) = @$case;
    ($s, $b) = post_signal($id, $ta, $body);
    is $s, 400, "400 for a bad $path: $body";
    like $b, qr/"code":"VALIDATION_ERROR".*"details":\[[^\]]*\{"path":"$path","message":"\Q$message\E/,
        "a VALIDATION_ERROR whose details say: $message";
}
($s, $b) = post_signal($id, undef, msg('video', $alice, $bob, 1));
is $s, 400, 'a bad body is a 400 with no token too: the body is checked first';
is state_of($id), $before, 'no bad body changed anything in Redis';
($s, $b) = post_signal($id, $ta, '[1]');
is $s, 400, 'a body that is not an object is a 400';
($s, $b) = post_signal($id, $ta, '{"type":');
like "$s $b", qr/^400 .*Malformed JSON/, 'malformed JSON is a 400';

($s, $b) = post_signal($id, $ta, msg('offer', $alice, $bob, '"' . ('x' x 65000) . '"'));
is $s, 201, 'a body just under 64 KiB is taken';
($s, $b) = poll($id, $bob, $tb, 0);
is length($b) > 65000 ? 'long' : $b, 'long', 'and delivered';
$before = state_of($id);
($s, $b) = post_signal($id, $ta, msg('offer', $alice, $bob, '"' . ('x' x 66000) . '"'));
is $s, 413, 'a body over 64 KiB is a 413, though the location allows 1 MiB';
like $b, qr/"message":"Request body is larger than 65536 bytes".*"code":"PAYLOAD_TOO_LARGE"/, 'PAYLOAD_TOO_LARGE, saying the limit';

($s, $b) = post_signal('unknownstream00000001', $ta, msg('offer', $alice, $bob, 1));
is $s, 404, 'an unknown stream is a 404';
like $b, qr/"message":"[^"]*not found".*"code":"NOT_FOUND"/, 'NOT_FOUND';
($s, $b) = post_signal('nope', $ta, msg('offer', $alice, $bob, 1));
is $s, 404, 'a malformed id is a 404';
like $b, qr/Live stream 'nope' not found/, 'that names it';
($s, $b) = post_signal($vod, $ta, msg('offer', $alice, $bob, 1));
is $s, 404, 'a video that is not a live stream is a 404';
like $b, qr/Live stream '$vod' not found/, 'that says so';
($s, $b) = post_signal('nope', $ta, msg('offer', $alice, $alice, 1));
is $s, 400, 'a bad body is a 400 whatever the id';
($s) = post_signal('unknownstream00000001', undef, msg('offer', $alice, $bob, 1));
is $s, 404, 'an unknown stream is a 404 without a token too';
($s) = post_signal($vod, 'x', msg('offer', $alice, $bob, 1));
is $s, 404, 'and so is a video that is not live, with a malformed token';

is state_of($id), $before, 'no bad request changed anything in Redis';
is keys_of('unknownstream00000001') + keys_of($vod) + keys_of('nope'), 0, 'nor stored anything for other ids';

($s, $b) = req('GET', "/api/live/$id/signal", undef, token_header($tb));
like "$s $b", qr/^400 .*"path":"peer","message":"peer is required/, 'a poll without a peer is a 400';
($s, $b) = poll($id, 'a%20b', $tb);
like "$s $b", qr/^400 .*"path":"peer","message":"peer must be a peer id: 21 characters/, 'so is one with a bad peer id';
($s, $b) = poll($id, 'x' x 22, $tb);
is $s, 400, 'or a peer id too long';
($s, $b) = poll($id, 'bob', $tb);
is $s, 400, 'or one a client made up';
($s, $b) = poll($id, $bob, $tb, 'soon');
like "$s $b", qr/^400 .*"path":"timeout"/, 'a timeout that is not whole seconds is a 400';
($s, $b) = poll($id, $bob, $tb, '-1');
is $s, 400, 'so is a negative one';
($s, $b) = poll('unknownstream00000001', $bob, $tb, 0);
is $s, 404, 'a poll of an unknown stream is a 404';
($s, $b) = poll($vod, $bob, $tb, 0);
is $s, 404, 'and of a video that is not live';
($s, $b) = poll('unknownstream00000001', $bob, undef, 0);
is $s, 404, 'without a token too';

# -- who may read and post: a peer's own token, and only there --------------------

# (a poll keeps a peer for 2 min: these have nothing pending, and a run
# under memcheck is slow)
is join(' ', map { (poll($id, @$_, 0))[0] } [$alice, $ta], [$bob, $tb], [$carol, $tc]), '200 200 200',
    'alice, bob and carol are still there';
($s) = post_signal($id, $ta, msg('offer', $alice, $bob, '"for bob"'));
is $s, 201, 'a message waits for bob';
$before = state_of($id);

my @alphabet = ('A' .. 'Z', 'a' .. 'z', 0 .. 9, '_', '-');
my $forged = join '', map { $alphabet[rand 64] } 1 .. 32;
my $flipped = (substr($tb, 0, 1) eq 'A' ? 'B' : 'A') . substr($tb, 1);
denied(poll($id, $bob, undef, 0), "bob's messages without a token");
denied(poll($id, $bob, $ta, 0), "bob's messages with alice's token");
denied(poll($id, $bob, $forged, 0), "bob's messages with a forged token");
denied(poll($id, $bob, $flipped, 0), "bob's messages with his token but one character");
denied(poll($id, $bob, substr($tb, 0, 31), 0), "bob's messages with his token cut short");
denied(poll($id, $bob, "${tb}A", 0), "bob's messages with his token and more");
denied(poll($id, $bob, $th, 0), "bob's messages with the token of a peer that posted to him");
denied(req('GET', "/api/live/$id/signal?peer=$bob&timeout=0&token=$tb"),
       'a token in the query string does not count');
# where access control is on, a Bearer credential that is no API key is
# refused before the route runs
my ($bs, $bb) = req('GET', "/api/live/$id/signal?peer=$bob&timeout=0", undef, "Authorization: Bearer $tb\r\n");
is $bs, 401, 'nor as a bearer token: 401';
like $bb, qr/"message":"A valid API key is required[^"]*","status":401,"code":"UNAUTHORIZED"/,
     '... as no API key';
denied(post_signal($id, undef, msg('offer', $alice, $bob, '"x"')), 'a post without a token');
denied(post_signal($id, $forged, msg('offer', $alice, $bob, '"x"')), 'a post with a forged token');
denied(post_signal($id, $ta, msg('offer', $bob, $alice, '"spoofed"')), "a post from bob with alice's token");
denied(post_signal($id, $ta, msg('offer', $bob, $carol, '"spoofed"')), "a post from bob to carol with alice's token");
my $ghost = 'ghostpeer000000000001';
denied(poll($id, $ghost, $forged, 0), 'a peer that never joined: the same answer');
denied(post_signal($id, $forged, msg('offer', $ghost, $bob, '"x"')), 'a post from it');
is state_of($id), $before, 'none of them took or stored anything';

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Other"}');
my ($other) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my ($zed, $tz) = join_peer($other);
my $other_before = state_of($other);
denied(post_signal($other, $ta, msg('offer', $alice, $zed, '"x"')), "alice's token on another stream");
denied(poll($other, $alice, $ta, 0), 'polling there as alice');
denied(poll($other, $zed, $ta, 0), "or as its peer with alice's token");
denied(post_signal($id, $tz, msg('offer', $zed, $bob, '"x"')), "that stream's peer posting here");
is state_of($other), $other_before, 'the other stream is untouched';

($s, $b) = post_signal($id, $ta, msg('offer', $alice, $ghost, 1));
is $s, 404, 'a post to a peer that never joined is a 404';
like $b, qr/"message":"Peer '$ghost' not found in live stream '$id'".*"code":"NOT_FOUND"/, 'that says so';
($s, $b) = post_signal($id, $ta, msg('offer', $alice, $zed, 1));
is $s, 404, "so is one to another stream's peer";
is state_of($id) . state_of($other), $before . $other_before, 'and stores nothing';

($s, $b) = poll($id, $bob, $tb, 0);
is messages($b), qq(offer $alice>$bob "for bob"), 'bob still has his message, and takes it';

# -- leaving ---------------------------------------------------------------------

my ($dave, $td) = join_peer($id);
denied(leave($id, $dave, $ta), "dave leaving with alice's token");
denied(leave($id, $dave, undef), 'or with none');
is redis_cli("HGET signal:$id:tokens $dave"), sha256_hex($td), 'dave is still there';
($s, $b) = req('DELETE', "/api/live/$id/signal", undef, token_header($td));
like "$s $b", qr/^400 .*"path":"peer","message":"peer is required/, 'a leave without a peer is a 400';
($s, $b) = leave('nope', $dave, $td);
is $s, 404, 'a leave of a malformed stream id is a 404';
($s, $b) = leave('unknownstream00000001', $dave, undef);
is $s, 404, 'and of an unknown stream, token or not';

my $waiting = spawn('left', sub {
    my ($s, $b, $t) = poll($id, $dave, $td, 10);
    return sprintf "%d %.3f", $s, $t;
});
sleep 0.5;
($s, $b) = leave($id, $dave, $td);
is $s, 200, 'dave leaves: 200';
is $b, qq({"success":true,"data":{"message":"Peer left the stream's signaling","peerId":"$dave"}}), 'saying who left';
waitpid $waiting, 0;
my ($ls, $lt) = split ' ', result('left');
is $ls, 401, 'his waiting poll ends with a 401';
cmp_ok $lt, '<', 1.5 * $slow, sprintf('at once (%.2f s)', $lt);
is redis_cli("ZSCORE signal:$id:peers $dave") . redis_cli("HEXISTS signal:$id:tokens $dave"), '0',
    'he is gone from Redis';
denied(poll($id, $dave, $td, 0), 'his token opens nothing any more');
denied(leave($id, $dave, $td), 'not even a second leave');
($s) = post_signal($id, $ta, msg('offer', $alice, $dave, 1));
is $s, 404, 'and posts to him are 404s';

# -- bounds: peers ---------------------------------------------------------------

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Crowd"}');
my ($crowd) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my $mem0 = used_memory();
my @crowd;
for (1 .. 64) {
    my @p = join_peer($crowd);
    push @crowd, [@p] if @p;
}
is scalar(@crowd), 64, '64 peers join a stream';
my $full = qr/^\{"success":false,"error":\{"message":"Live stream '$crowd' has as many signaling peers as it may have","status":403,"code":"QUOTA_EXCEEDED","details":\[\{"path":"peers","message":"a stream has at most 64 signaling peers"\}\]\}\}$/;
($s, $b) = req('POST', "/api/live/$crowd/signal/join");
is $s, 403, 'the 65th is refused: 403';
like $b, $full, 'QUOTA_EXCEEDED, naming the limit';
my $refused = 0;
for (1 .. 50) {
    ($s, $b) = req('POST', "/api/live/$crowd/signal/join");
    $refused++ if $s == 403 && $b =~ $full;
}
is $refused, 50, 'and so are 50 more';
is redis_cli("ZCARD signal:$crowd:peers") . ' ' . redis_cli("HLEN signal:$crowd:tokens"), '64 64',
    'Redis holds 64 peers and tokens';
($s) = leave($crowd, @{pop @crowd});
is $s, 200, 'one leaves';
push @crowd, [join_peer($crowd)];
ok $crowd[-1][0], 'and another may join';
($s) = req('POST', "/api/live/$crowd/signal/join");
is $s, 403, 'but no more';

# -- bounds: messages waiting for a peer -----------------------------------------

my ($p0, $t0) = @{$crowd[0]};
my ($p1, $t1) = @{$crowd[1]};
my $taken = 0;
for my $n (1 .. 64) {
    ($s) = post_signal($crowd, $t1, msg('ice-candidate', $p1, $p0, qq({"candidate":"candidate:$n 1 udp 1 10.0.0.1 $n typ host"})));
    $taken++ if $s == 201;
}
is $taken, 64, '64 candidates wait for one peer';
$before = state_of($crowd);
($s, $b) = post_signal($crowd, $t1, msg('ice-candidate', $p1, $p0, '{"candidate":"one too many"}'));
is $s, 403, 'the 65th is refused: 403';
is $b, qq({"success":false,"error":{"message":"Peer '$p0' has as many messages waiting as it may have: post again after it polls","status":403,"code":"QUOTA_EXCEEDED","details":[{"path":"queue","message":"at most 64 messages wait for a peer"}]}}),
    'QUOTA_EXCEEDED, naming the limit';
is state_of($crowd), $before, 'and stores nothing';
($s, $b) = poll($crowd, $p0, $t0, 0);
is scalar(() = messages($b) =~ /^ice-candidate /mg), 64, 'the peer takes the 64';
($s) = post_signal($crowd, $t1, msg('ice-candidate', $p1, $p0, '{"candidate":"next"}'));
is $s, 201, 'and there is room again';
poll($crowd, $p0, $t0, 0);

# -- bounds: bytes waiting, for a peer and in a stream; Redis's memory -------------

# the peers this takes poll first, so a slow run does not lose them
is scalar(grep { (poll($crowd, @{$crowd[$_]}, 0))[0] == 200 } 1 .. 17), 17, 'the peers polled have nothing waiting';
my $big = '"' . ('s' x 60000) . '"';
$taken = 0;
for (1 .. 10) {
    ($s, $b) = post_signal($crowd, $t1, msg('offer', $p1, $p0, $big));
    last if $s != 201;
    $taken++;
}
my $size = length redis_cli("LINDEX signal:$crowd:$p0 0");
is $taken, int(262144 / $size), "as many 60 KB messages wait for a peer as fit in 256 KiB ($taken of $size bytes)";
is $s, 403, 'the next is refused: 403';
like $b, qr/^\{"success":false,"error":\{"message":"Peer '$p0' has too many bytes of messages waiting to take this one: post again after it polls","status":403,"code":"QUOTA_EXCEEDED","details":\[\{"path":"queue_bytes","message":"at most 262144 bytes of messages wait for a peer"\}\]\}\}$/,
    'QUOTA_EXCEEDED, naming the limit';
is redis_cli("HGET signal:$crowd:bytes $p0"), $taken * $size, 'the bytes counted are those stored';

# 160 more to other peers of the stream, each one of 16 in turn
my $mem1 = used_memory();
my %codes;
my $last_refusal = '';
for my $n (1 .. 160) {
    ($s, $b) = post_signal($crowd, $t1, msg('offer', $p1, $crowd[2 + $n % 16][0], $big));
    $codes{$s}++;
    $last_refusal = $b if $s != 201;
}
my $held = 0;
$held += $_ for split /\n/, redis_cli("HVALS signal:$crowd:bytes");
is $codes{201} + $taken, int(1048576 / $size), "posts are taken while the stream holds less than 1 MiB ($codes{201} more)";
is $codes{403}, 160 - $codes{201}, 'every other is refused: 403';
like $last_refusal, qr/^\{"success":false,"error":\{"message":"Live stream '$crowd' has too many bytes of messages waiting to take this one: post again after its peers poll","status":403,"code":"QUOTA_EXCEEDED","details":\[\{"path":"bytes","message":"at most 1048576 bytes of messages wait in a stream"\}\]\}\}$/,
    'QUOTA_EXCEEDED, naming the limit';
my $listed = 0;
$listed += length for split /\n/, redis_cli("--scan --pattern 'signal:$crowd:*' | grep -v ':\\(peers\\|tokens\\|bytes\\)\$' | xargs -I{} redis-cli -p $rport LRANGE {} 0 -1");
is $held, $listed, "the stream's lists hold what is counted ($held bytes)";
cmp_ok $held, '<=', 1048576, 'at most 1 MiB';
my $mem2 = used_memory();
my $growth = $mem2 - $mem0;
cmp_ok $growth, '<', 1048576 + 512 * 1024,
    sprintf('Redis grew by %.2f MiB for 64 peers, 66 small messages and %d posts of 60 KB (%.2f MiB held): less than the 1 MiB bound and 512 KiB',
            $growth / 1048576, $taken + 1 + 160, $held / 1048576);
note sprintf 'used_memory: %d before the peers, %d before the 160 posts, %d after', $mem0, $mem1, $mem2;

($s) = post_signal($id, $ta, msg('offer', $alice, $bob, $big));
is $s, 201, 'a full stream does not stop another';
poll($id, $bob, $tb, 0);
($s, $b) = poll($crowd, $crowd[3][0], $crowd[3][1], 0);
like messages($b), qr/^offer $p1>$crowd[3][0] "s+"$/, 'a peer of the full stream takes its message';
($s) = post_signal($crowd, $t1, msg('offer', $p1, $crowd[4][0], $big));
is $s, 201, 'and that makes room for another';

# every key of signaling expires, whatever happened
my @keys = split /\n/, redis_cli("--scan --pattern 'signal:*'");
my @forever = grep { redis_cli("PTTL $_") < 0 } @keys;
is "@forever", '', 'every one of the ' . scalar(@keys) . ' signaling keys in Redis expires';
my @late = grep { redis_cli("PTTL $_") > 140000 } @keys;
is "@late", '', 'within 2 min and a poll (20 s)';

# -- video_api_signal_limits, and peers that expire when idle ----------------------

# a peer lives $idle s without a poll; a poll waits longer than that
my $idle = 2 * $slow;
my $wait = $idle + 1;
nginx_start($dir2, $port2, <<"CONF");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=2s;
    video_api_signal_timeout ${wait}s;
    video_api_signal_limits peers=3 bytes=12k queue=4 queue_bytes=8k idle=${idle}s;
CONF
wait_for(60, sub { (http_request($port2, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

($s, $b) = http_request($port2, 'POST', '/api/live/create', '{"title": "Small"}');
my ($small) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
($s, $b) = req_to($port2, 'POST', "/api/live/$small/signal/join");
like "$s $b", qr/^201 .*"expiresIn":$idle\}\}$/, "a peer lives $idle s without a poll (idle=${idle}s)";
my ($q1, $tq1) = $b =~ /"peerId":"([^"]+)","peerToken":"([^"]+)"/;
my ($q2, $tq2) = join_peer($small, $port2);
my ($q3, $tq3) = join_peer($small, $port2);
($s, $b) = req_to($port2, 'POST', "/api/live/$small/signal/join");
like "$s $b", qr/^403 .*"details":\[\{"path":"peers","message":"a stream has at most 3 signaling peers"\}\]/,
    'the fourth peer is refused (peers=3)';

my $seven = '"' . ('k' x 7000) . '"';
($s) = post_signal($small, $tq1, msg('offer', $q1, $q2, $seven), $port2);
is $s, 201, '7 KB for a peer';
($s, $b) = post_signal($small, $tq1, msg('offer', $q1, $q2, $seven), $port2);
like "$s $b", qr/^403 .*"path":"queue_bytes","message":"at most 8192 bytes of messages wait for a peer"/,
    'another 7 KB for it is refused (queue_bytes=8k)';
($s, $b) = post_signal($small, $tq1, msg('offer', $q1, $q3, $seven), $port2);
like "$s $b", qr/^403 .*"path":"bytes","message":"at most 12288 bytes of messages wait in a stream"/,
    'and 7 KB for another peer too (bytes=12k)';
for my $n (1 .. 4) {
    ($s) = post_signal($small, $tq1, msg('ice-candidate', $q1, $q3, $n), $port2);
    is $s, 201, "candidate $n for the third peer";
}
($s, $b) = post_signal($small, $tq1, msg('ice-candidate', $q1, $q3, 5), $port2);
like "$s $b", qr/^403 .*"path":"queue","message":"at most 4 messages wait for a peer"/,
    'the fifth is refused (queue=4)';
($s, $b) = poll($small, $q2, $tq2, 0, $port2);
like messages($b), qr/^offer $q1>$q2 "k{7000}"$/, 'the second peer takes its 7 KB';
($s) = post_signal($small, $tq1, msg('offer', $q1, $q2, $seven), $port2);
is $s, 201, 'and another fits now';

# nobody polls for longer than idle: every peer is gone, and its lists
sleep $idle + 0.5;
denied(poll($small, $q1, $tq1, 0, $port2), "a peer idle for longer than $idle s");
denied(post_signal($small, $tq2, msg('offer', $q2, $q1, 1), $port2), 'its posts');
my ($r1, $tr1) = join_peer($small, $port2);
ok $r1, 'a new peer may join: the idle ones left room';
is redis_cli("ZRANGE signal:$small:peers 0 -1"), $r1, 'the idle peers are gone';
is redis_cli("HKEYS signal:$small:tokens"), $r1, 'with their tokens';
is redis_cli("EXISTS signal:$small:$q2 signal:$small:$q3 signal:$small:bytes"), 0, 'and their messages';

# a poll keeps its peer while it waits (longer than idle), and idle
# after; a peer that does not poll expires meanwhile
my ($r2, $tr2) = join_peer($small, $port2);
($s, $b, $t) = poll($small, $r1, $tr1, undef, $port2);
is "$s " . messages($b), '200 ', sprintf('a peer waits %d s for nothing (%.1f s)', $wait, $t);
($s) = poll($small, $r1, $tr1, 0, $port2);
is $s, 200, 'and polls again: it is still there';
($s, $b) = post_signal($small, $tr1, msg('offer', $r1, $r2, 1), $port2);
like "$s $b", qr/^404 .*"Peer '$r2' not found in live stream '$small'"/, 'the peer that did not poll is gone';
denied(poll($small, $r2, $tr2, 0, $port2), 'its own poll too');

# nothing outlives a stream's activity: Redis drops every key itself
ok wait_for(5 * $idle, sub { keys_of($small) == 0 }), "all keys of the stream expire $idle s after its last poll";

# bad limits stop the configuration
sub conf_test {
    my ($directive) = @_;
    my $cdir = "$tmp/conf-test";
    mkdir $cdir; mkdir "$cdir/logs"; mkdir "$cdir/conf";
    open my $fh, '>', "$cdir/conf/nginx.conf" or die $!;
    print $fh map { "load_module $_;\n" } split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    print $fh "error_log logs/error.log;\npid logs/nginx.pid;\nevents {}\nhttp {\n    $directive\n}\n";
    close $fh;
    my $bin = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    my $out = qx{$bin -t -p $cdir/ -c conf/nginx.conf 2>&1};
    return ($? == 0, $out);
}
my ($ok, $out) = conf_test('video_api_signal_limits peers=64 bytes=1m queue=64 queue_bytes=256k idle=2m;');
ok $ok, 'the defaults, written out, are a valid configuration' or diag $out;
for my $case (
    [ 'peers=1', 'invalid "peers" value "1", expected 2..1000' ],
    [ 'bytes=1g', 'invalid "bytes" value "1g", expected 1k..1024m' ],
    [ 'idle=0', 'invalid "idle" value "0", expected 1s..1h' ],
    [ 'rooms=3', 'invalid parameter "rooms=3"' ],
    [ 'peers=8 peers=9', 'duplicate parameter "peers"' ],
    [ 'bytes=64k', '"queue_bytes" (262144) is more than "bytes" (65536)' ],
) {
    ($ok, $out) = conf_test("video_api_signal_limits $case->[0];");
    ok !$ok, "video_api_signal_limits $case->[0] is refused";
    like $out, qr/\[emerg\] \d+#\d+: video_api: \Q$case->[1]\E.* in "video_api_signal_limits"/, "saying: $case->[1]";
}
($ok, $out) = conf_test("video_api_signal_limits peers=8;\n    video_api_signal_limits peers=9;");
like $out, qr/"video_api_signal_limits" directive is duplicate/, 'the directive is given once';
nginx_stop($dir2);

# -- a client that leaves in the middle of a poll ----------------------------------

# a poster of its own: alice may have expired in a slow run
my ($poster, $tp) = join_peer($id);
my ($gone, $tg) = join_peer($id);
for my $round (1 .. 3) {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die $!;
    print $sock "GET /api/live/$id/signal?peer=$gone&timeout=10 HTTP/1.0\r\nHost: localhost\r\nX-Peer-Token: $tg\r\n\r\n";
    sleep 0.3;
    close $sock;
}
sleep 0.3;
($s) = post_signal($id, $tp, msg('offer', $poster, $gone, '"after"'));
is $s, 201, 'a post for a peer whose polls went away';
($s, $b) = poll($id, $gone, $tg, 1);
is messages($b), qq(offer $poster>$gone "after"), 'a later poll has it: the polls that went away took nothing';
($s, $b, $t) = poll($id, $gone, $tg, 1);
is "$s " . messages($b), '200 ', 'and the next one waits as usual';

# -- Redis down and back -----------------------------------------------------------

my ($eve, $te) = join_peer($id);
my ($frank, $tf) = join_peer($id);
$waiting = spawn('down', sub {
    my ($s, $b, $t) = poll($id, $eve, $te, 10);
    return sprintf "%d %.3f %s", $s, $t, $b;
});
sleep 0.5;
stack(qw(stop redis));
($s, $b, $t) = post_signal($id, $tp, msg('offer', $poster, $eve, 1));
is $s, 503, 'Redis down: a post is a 503';
like $b, qr/"code":"UNAVAILABLE"/, 'UNAVAILABLE';
cmp_ok $t, '<', 1 * $slow, 'answered fast';
($s, $b) = poll($id, $eve, $te, 5);
is $s, 503, 'a poll is a 503 too';
like $b, qr/"code":"UNAVAILABLE"/, 'UNAVAILABLE';
($s, $b) = req('POST', "/api/live/$id/signal/join");
is $s, 503, 'and a join';
($s, $b) = leave($id, $eve, $te);
is $s, 503, 'and a leave';
waitpid $waiting, 0;
my ($ds, $dt) = split ' ', result('down');
like $ds, qr/^(503|200)$/, "a poll that was waiting ends ($ds)";
cmp_ok $dt, '<', 5, sprintf('well before its timeout (%.1f s)', $dt);
stack(qw(start redis));
ok wait_for(15, sub { (post_signal($id, $tp, msg('offer', $poster, $eve, '"back"')))[0] == 201 }),
    'Redis back: posts work again without a reload';
($s, $b) = poll($id, $eve, $te, 0);
like messages($b), qr/^(offer $poster>$eve "back"\n?)+$/, 'and polls deliver them';

# a poll that waits when the subscriber connection is back is woken again
# (each worker subscribes to two patterns: signaling and live:drop)
ok wait_for(15, sub { (() = redis_cli('CLIENT LIST') =~ /psub=2\b/g) >= ($ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 2) }),
    'every worker subscribed again';
$waiting = spawn('back', sub {
    my ($s, $b, $t) = poll($id, $frank, $tf, 10);
    return sprintf "%d %.3f %s", $s, $t, messages($b);
});
sleep 0.5;
($s) = post_signal($id, $tp, msg('answer', $poster, $frank, '"woken"'));
waitpid $waiting, 0;
my ($fs, $ft, $fm) = split ' ', result('back'), 3;
is "$fs $fm", qq(200 answer $poster>$frank "woken"), 'a poll after the restart has its message';
cmp_ok $ft, '<', 1 * $slow + 0.5, 'promptly';

# -- a graceful shutdown ends the polls at once -----------------------------------

# The shutdown closes the subscriber, which wakes the polls; the worker
# must then answer them before it waits for events again: with two
# workers the other one's exit often wakes it anyway, with one nothing
# does (the same configuration, another directory and port)
SKIP: {
    skip 'one process under memcheck ends without a graceful shutdown', 4
        if $ENV{TEST_NGINX_USE_VALGRIND};
    for my $case ([$dir, $port, 2], [$dir3, $port3, 1]) {
        my ($in, $at, $workers) = @$case;
        if ($in eq $dir3) {
            nginx_start($dir3, $port3, $main_http, $main_server);
            # its worker subscribed (the stopped nginx's clients may still
            # be listed by Redis a moment)
            wait_for(60, sub { (http_request($port3, 'GET', '/health'))[0] == 200
                               && error_log($dir3) =~ /redis subscriber 127\.0\.0\.1:$rport is up/ })
                or die "nginx is not healthy, or not subscribed";
        }
        my ($grace, $tgr) = join_peer($id, $at);
        $waiting = spawn('quit', sub {
            my ($s, $b, $t) = poll($id, $grace, $tgr, 15, $at);
            return sprintf "%d %.3f %s", $s, $t, messages($b);
        });
        sleep 0.5;
        nginx_stop($in);
        waitpid $waiting, 0;
        my ($qs, $qt, $qm) = split ' ', result('quit'), 3;
        is "$qs " . ($qm // ''), '200 ', "$workers worker(s): a poll waiting when nginx stops answers an empty list";
        cmp_ok $qt, '<', 3, sprintf('at once, not after its timeout (%.1f s)', $qt);
    }
}

# -- nothing went wrong in nginx -------------------------------------------------

my $errors = error_log($dir);
unlike $errors, qr/\[(alert|emerg|crit)\]|exited on signal|open socket/, 'no alert, crash or leaked socket in the error log';
unlike $errors, qr/signaling script/, 'no signaling script failed';
like $errors, qr/redis subscriber 127\.0\.0\.1:$rport is down/, 'the subscriber said once it was down';
like $errors, qr/redis subscriber 127\.0\.0\.1:$rport is up/, 'and that it was back';
my $errors2 = error_log($dir2);
unlike $errors2, qr/\[(alert|emerg|crit)\]|exited on signal|open socket|signaling script/, 'nor in the second nginx';
my $errors3 = error_log($dir3);
unlike $errors3, qr/\[(alert|emerg|crit)\]|exited on signal|open socket|signaling script/, 'nor in the one-worker nginx';

done_testing;
