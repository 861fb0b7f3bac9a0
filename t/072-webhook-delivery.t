# Signed webhook deliveries (workers/worker_webhook*.c) end to end: video
# changes written in SQL as the API and the transcoder write them, the
# events the triggers make (conf/sql/0015_webhooks.sql), the webhook role
# delivering them to a receiver in node (t/webhook/receiver.mjs) that
# checks every request with the reference library, standardwebhooks.
# Receivers that are down, fail, redirect, hang; a worker killed mid-
# delivery; the address guard; secret rotation and the installation key's
# rotation.  Prints (diag) the commit-to-receiver latency and the figures
# of an outage.
# sanitizers: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-webhook";
my $base = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 126;
my $rport = $base;          # the receiver
my $oport = $base + 1;      # the receiver of the outage, down at first
my $mport = $base + 2;      # the worker's metrics
my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
my $K1 = 'webhook-key-one-0123456789abcdef';
my $K2 = 'webhook-key-two-0123456789abcdef';
my $json = JSON::PP->new->canonical;
my (%kids, $worker);

plan skip_all => 'node or standardwebhooks missing (npm install)'
    unless system('node -e "require(\'standardwebhooks\')" 2>/dev/null') == 0;

END {
    kill 'TERM', values %kids;
    waitpid($_, 0) for values %kids;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir "$dir/logs";

my %control = (secrets => {}, paths => {});

sub control_write {
    open my $fh, '>', "$dir/control.json.tmp" or die $!;
    print $fh $json->encode(\%control);
    close $fh;
    rename "$dir/control.json.tmp", "$dir/control.json" or die $!;
}
control_write();

sub receiver_start {
    my ($name, $port) = @_;
    unlink "$dir/$name.ready";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$dir/logs/$name.log";
        exec 'node', 't/webhook/receiver.mjs', '--port', $port,
             '--log', "$dir/$name.jsonl", '--control', "$dir/control.json",
             '--ready', "$dir/$name.ready" or POSIX::_exit(127);
    }
    $kids{$name} = $pid;
    wait_for(10, sub { -e "$dir/$name.ready" }) or die "receiver $name did not start\n";
}

sub stop_kid {
    my ($name, $sig) = @_;
    my $pid = delete $kids{$name} or return;
    kill $sig // 'TERM', $pid;
    waitpid($pid, 0);
}

# the requests a receiver logged, those of a path
sub requests {
    my ($name, $path) = @_;
    my @r;
    open my $fh, '<', "$dir/$name.jsonl" or return @r;
    while (my $l = <$fh>) {
        next unless $l =~ /\n\z/;
        my $r = eval { $json->decode($l) } or next;
        push @r, $r if !defined $path || $r->{path} eq $path;
    }
    return @r;
}

my %wenv = (
    worker_env($dir, 1, 'http://127.0.0.1:1'),
    VIDEO_WORKER_PUBLIC_URL => 'https://videos.example',
    VIDEO_WORKER_WEBHOOK_KEY => $K1,
    VIDEO_WORKER_WEBHOOK_ALLOW => '127.0.0.0/8, ::1/128',
    VIDEO_WORKER_WEBHOOK_ALLOW_HTTP => 'on',
    VIDEO_WORKER_WEBHOOK_BACKOFF => '1s 1s 2s',
    VIDEO_WORKER_WEBHOOK_JITTER => 0,
    VIDEO_WORKER_WEBHOOK_TIMEOUT => 2,
    VIDEO_WORKER_WEBHOOK_CONNECT_TIMEOUT => 1,
    VIDEO_WORKER_WEBHOOK_DISABLE_AFTER => 2,
    VIDEO_WORKER_WEBHOOK_POLL_SECONDS => 1,
    VIDEO_WORKER_METRICS_LISTEN => "127.0.0.1:$mport",
);

# the webhook role with the suite's settings and these
sub worker_restart {
    my (%more) = @_;
    worker_stop();
    my $from = length worker_log();
    $worker = worker_start($dir, 'webhook', %wenv, %more);
    $kids{worker} = $worker;
    wait_for(5, sub { substr(worker_log(), $from) =~ /metrics on/ })
        or die "the webhook worker did not start\n";
}

sub worker_stop {
    my ($sig) = @_;
    stop_kid('worker', $sig);
}

sub worker_log {
    open my $fh, '<', "$dir/logs/worker-webhook.log" or return '';
    local $/;
    return scalar(<$fh>) // '';
}

# a secret as the module makes them, sealed by the command line
sub secret_new {
    return 'whsec_' . MIME::Base64::encode_base64(join('', map { chr int rand 256 } 1 .. 24), '');
}

sub seal {
    my ($secret, $key) = @_;
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_WEBHOOK_KEY} = $key // $K1;
    my $sealed = qx{echo '$secret' | $bin webhooks seal};
    chomp $sealed;
    die "webhooks seal failed\n" unless $? == 0 && $sealed =~ /\Awk1\.[0-9a-f]{8}\./;
    return $sealed;
}

my $seq = 0;
sub new_id {
    my ($prefix) = @_;
    my $id = sprintf '%s%s', $prefix, sprintf('%06d', ++$seq) . ('x' x 21);
    return substr($id, 0, 21);
}

# an endpoint of $account delivered to $path of the receiver on $port
sub endpoint {
    my ($account, $path, %opt) = @_;
    my $id = new_id('whep');
    my $secret = secret_new();
    my $port = $opt{port} // $rport;
    my $url = $opt{url} // "http://127.0.0.1:$port$path";
    my $types = $opt{types} ? "'{" . join(',', @{$opt{types}}) . "}'" : "'{}'";
    psql("INSERT INTO webhook_endpoints (id, account_id, url, secret_sealed, event_types)"
         . " VALUES ('$id', '$account', '$url', '" . seal($secret) . "', $types)");
    $control{secrets}{$path} = [$secret];
    control_write();
    return ($id, $secret);
}

sub video_id { return new_id('whv') }

# runs SQL statements, each its own transaction (psql -c would make one)
sub psql_script {
    my ($sql) = @_;
    open my $fh, '|-', 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, qw(-XAtq -v ON_ERROR_STOP=1 -o /dev/null -f -)
        or die $!;
    print $fh $sql;
    close $fh or die "psql failed\n";
}

sub body { return $json->decode($_[0]{body}) }

sub percentile {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return $v[-1] if $p >= 100;
    return $v[int($p / 100 * $#v + 0.5)];
}

sub reset_endpoints {
    psql('DELETE FROM webhook_endpoints');
    %control = (secrets => {}, paths => {});
    control_write();
}

psql('TRUNCATE webhook_endpoints, webhook_events, webhook_sequences CASCADE');
psql("DELETE FROM videos WHERE account_id = 'whacctb' OR id LIKE 'whv%'");
psql("INSERT INTO accounts (id, name) VALUES ('whacctb', 'webhook suite B') ON CONFLICT DO NOTHING");

# -- settings ---------------------------------------------------------------

{
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    local $ENV{VIDEO_WORKER_METRICS_LISTEN} = 'off';
    my $out = qx{$bin webhook 2>&1};
    is $? >> 8, 1, 'the role refuses to start with the placeholder webhook_key';
    like $out, qr/webhook_key is not set/, '... and says why';
    local $ENV{VIDEO_WORKER_WEBHOOK_KEY} = $K1;
    for my $bad ('5s 5x', '0s', '1s,,2q', '31d') {
        local $ENV{VIDEO_WORKER_WEBHOOK_BACKOFF} = $bad;
        $out = qx{$bin webhook 2>&1};
        is $? >> 8, 1, "webhook_backoff \"$bad\" is refused";
        like $out, qr/invalid "webhook_backoff" value/, '... naming it';
    }
    local $ENV{VIDEO_WORKER_WEBHOOK_BACKOFF} = '1s';
    local $ENV{VIDEO_WORKER_WEBHOOK_ALLOW} = '10.0.0.0/33';
    $out = qx{$bin webhook 2>&1};
    like $out, qr/invalid "webhook_allow" value/, 'a malformed webhook_allow is refused';
}

receiver_start('r', $rport);
worker_restart();

# -- a video's life: its events, in order, each verified ---------------------

my ($ep_a) = endpoint('default', '/seq');
my ($ep_b) = endpoint('whacctb', '/other-account');
my $v = video_id();
psql_script(<<SQL);
INSERT INTO videos (id, title) VALUES ('$v', 'webhooks');
UPDATE videos SET status = 'PROCESSING', processing_started_at = now() WHERE id = '$v';
UPDATE videos SET status = 'READY', hls_manifest_key = '$v/master.m3u8', thumbnail_key = '$v/thumb.jpg', transcoding_progress = 100 WHERE id = '$v';
UPDATE videos SET title = 'webhooks, renamed' WHERE id = '$v';
UPDATE videos SET views_total = views_total + 1 WHERE id = '$v';
DELETE FROM videos WHERE id = '$v';
SQL

ok wait_for(10, sub { requests('r', '/seq') >= 5 }), 'the video\'s five events arrive';
my @seq = sort { body($a)->{sequence} <=> body($b)->{sequence} } requests('r', '/seq');
is_deeply [map { body($_)->{type} } @seq],
          [qw(video.created video.processing video.ready video.updated video.deleted)],
          'in order of sequence: created, processing, ready, updated, deleted (a view count makes none)';
is_deeply [map { body($_)->{sequence} } @seq], [1 .. 5], 'sequence numbers 1..5';
is scalar(grep { $_->{verified} } @seq), 5, 'standardwebhooks verifies every one';
is scalar(grep { $_->{headers}{'webhook-id'} eq body($_)->{id} } @seq), 5,
   'webhook-id is the event id';
is scalar(grep { $_->{headers}{'user-agent'} eq 'video-api-webhooks/1'
                 && $_->{headers}{'content-type'} eq 'application/json' } @seq), 5,
   'user-agent and content-type';
is scalar(grep { abs($_->{headers}{'webhook-timestamp'} - time) < 30 } @seq), 5,
   'webhook-timestamp is the time of the attempt';
is scalar(grep { $_->{body} =~ /\A\{"id":"evt_[0-9a-f]{32}","type":"[a-z.]+","timestamp":"[^"]+","accountId":"default","objectId":"$v","sequence":\d,"data":\{"id":"$v",/ } @seq),
   5, 'the event object: id, type, timestamp, accountId, objectId, sequence, data, in this order';
my $ready = body($seq[2]);
is $ready->{data}{playbackUrl}, "https://videos.example/play/$v/master.m3u8",
   'video.ready: playbackUrl from public_url, no token';
is $ready->{data}{thumbnailUrl}, "https://videos.example/play/$v/thumb.jpg", 'thumbnailUrl too';
is $ready->{accountId}, 'default', 'accountId';
is $ready->{objectId}, $v, 'objectId';
like $ready->{timestamp}, qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/, 'timestamp in ISO 8601 UTC with ms';
is psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_a' AND status = 'delivered' AND attempts = 1 AND delivered_at IS NOT NULL AND locked_until IS NULL"),
   5, 'five deliveries delivered at the first attempt';
is psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_a' AND a.status_code = 200 AND a.error IS NULL AND a.attempt = 1 AND a.latency_ms >= 0"),
   5, 'each attempt recorded: 200, no error, its latency';

# -- a transaction that rolls back emits nothing -----------------------------

my $events = psql('SELECT count(*) FROM webhook_events');
psql_script("BEGIN;\nINSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'never');\nROLLBACK;\n");
Time::HiRes::sleep(1.2);
is psql('SELECT count(*) FROM webhook_events'), $events, 'a rolled-back change leaves no event';
is scalar(requests('r', '/seq')), 5, '... and nothing is delivered';

# -- accounts: B's endpoint hears only B's events -----------------------------

my $vb = video_id();
psql("INSERT INTO videos (id, title, account_id) VALUES ('$vb', 'account B', 'whacctb')");
ok wait_for(5, sub { requests('r', '/other-account') >= 1 }), 'account B\'s event reaches B\'s endpoint';
Time::HiRes::sleep(0.5);
my @b = requests('r', '/other-account');
is_deeply [map { body($_)->{objectId} } @b], [$vb], 'B\'s endpoint got B\'s event alone, none of A\'s';
is body($b[0])->{accountId}, 'whacctb', 'with B\'s accountId';
ok !(grep { body($_)->{objectId} eq $vb } requests('r', '/seq')), 'A\'s endpoint never gets B\'s event';

# -- commit-to-receiver latency ----------------------------------------------

reset_endpoints();
endpoint('default', '/latency');
my @ids = map { video_id() } 1 .. 200;
psql_script(join '', map { "INSERT INTO videos (id, title) VALUES ('$_', 'latency');\nSELECT pg_sleep(0.005);\n" } @ids);
ok wait_for(30, sub { requests('r', '/latency') >= 200 }), '200 events delivered';
my %created = map { split /\|/ } split /\n/, psql(
    "SELECT id, floor(extract(epoch FROM created_at) * 1000)::bigint FROM webhook_events WHERE type = 'video.created' AND object_id IN ("
    . join(',', map { "'$_'" } @ids) . ')');
my @lat = map { $_->{arrival} - $created{body($_)->{id}} } requests('r', '/latency');
is scalar(@lat), 200, 'each once';
is scalar(grep { $_->{verified} } requests('r', '/latency')), 200, 'each verified';
my ($p50, $p99) = (percentile(50, @lat), percentile(99, @lat));
diag "commit-to-receiver latency over 200 events: median ${p50} ms, p99 ${p99} ms, max " . percentile(100, @lat) . ' ms';
ok $p99 < 2000, "p99 under 2 s ($p99 ms)";

# -- an outage: nothing listens, then a receiver that fails, then is fine ----

reset_endpoints();
worker_restart(VIDEO_WORKER_WEBHOOK_BACKOFF => '1s 1s 1s 1s 2s 2s 2s');
my ($ep_o) = endpoint('default', '/outage', port => $oport);
my @out = map { video_id() } 1 .. 50;
psql_script(join '', map { "INSERT INTO videos (id, title) VALUES ('$_', 'outage');\n" } @out);
my $sent = psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_o'");
ok wait_for(5, sub { psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_o' AND a.error = 'connection refused'") >= 50 }),
   'while nothing listens, attempts fail: "connection refused"';
# up again, failing the first 20 requests with a 503
$control{paths}{'/outage'} = { status => 503, first => 20 };
control_write();
receiver_start('o', $oport);
ok wait_for(20, sub { psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_o' AND status = 'pending'") == 0 }),
   'once it is back, nothing is left pending';
my @o = requests('o', '/outage');
my %byid;
push @{$byid{$_->{headers}{'webhook-id'}}}, $_ for @o;
my $delivered = grep { grep { $_->{status} == 200 } @$_ } values %byid;
my $dups = 0;
$dups += (grep { $_->{status} == 200 } @$_) - 1 for grep { grep { $_->{status} == 200 } @$_ } values %byid;
my %sent = map { $_ => 1 } split /\n/, psql("SELECT e.id FROM webhook_events e JOIN webhook_deliveries d ON d.event_n = e.n WHERE d.endpoint_id = '$ep_o'");
my $lost = grep { !$byid{$_} || !grep { $_->{status} == 200 } @{$byid{$_}} } keys %sent;
my $attempts = psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_o'");
diag "outage: sent $sent, delivered $delivered, duplicates $dups, lost $lost; "
     . scalar(@o) . " requests reached the receiver (20 answered 503), $attempts attempts recorded";
is $sent, 50, '50 events to deliver';
is $delivered, 50, 'every one delivered';
is $lost, 0, 'none lost';
is $dups, 0, 'none delivered twice';
is scalar(grep { !$_->{verified} } @o), 0, 'every request verified';
is scalar(grep { $sent{$_} } keys %byid), 50, 'the webhook-ids are the events\'';
is scalar(grep { my $r = $_; grep { body($_)->{id} ne $r->[0]{headers}{'webhook-id'} || $_->{body} ne $r->[0]{body} } @$r } values %byid), 0,
   'every attempt of an event: the same webhook-id and body';
is psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_o' AND status = 'delivered'"), 50, '50 deliveries delivered';
is psql("SELECT failed_deliveries FROM webhook_endpoints WHERE id = '$ep_o'"), 0, 'no failure for good';
stop_kid('o');

# -- failing receivers: retries, failure for good, the endpoint disabled -----

reset_endpoints();
worker_restart();
my ($ep_f) = endpoint('default', '/fail');
my ($ep_w) = endpoint('default', '/watch');
my ($ep_r) = endpoint('default', '/redirect', types => ['video.created']);
$control{paths}{'/fail'} = { status => 500 };
$control{paths}{'/redirect'} = { status => 302, first => 1, location => "http://127.0.0.1:$rport/redirected" };
control_write();
my ($f1, $f2) = (video_id(), video_id());
psql_script("INSERT INTO videos (id, title) VALUES ('$f1', 'fail one');\nINSERT INTO videos (id, title) VALUES ('$f2', 'fail two');\n");
ok wait_for(15, sub { psql("SELECT enabled FROM webhook_endpoints WHERE id = '$ep_f'") eq 'f' }),
   'the endpoint answering 500 is disabled';
my @f = requests('r', '/fail');
is scalar(@f), 8, 'each of its two deliveries tried 4 times (webhook_backoff "1s 1s 2s")';
my %fby;
push @{$fby{$_->{headers}{'webhook-id'}}}, $_ for @f;
is scalar(keys %fby), 2, 'two webhook-ids, the same on every retry';
my @gaps = map { my $r = $_; map { ($r->[$_]{arrival} - $r->[$_ - 1]{arrival}) / 1000 } 1 .. $#$r } values %fby;
ok !(grep { $_ < 0.9 || $_ > 4 } @gaps), 'retried after the backoff\'s delays (' . join(' ', map { sprintf '%.1f', $_ } @gaps) . ' s)';
is psql("SELECT string_agg(DISTINCT a.error, ',') || '|' || count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_f'"),
   'HTTP 500|8', 'every attempt recorded: HTTP 500';
is psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_f' AND status = 'failed' AND attempts = 4 AND last_status = 500"),
   2, 'both deliveries failed for good after 4 attempts';
my $ep = psql("SELECT failed_deliveries || '|' || (disabled_at IS NOT NULL) || '|' || disabled_reason FROM webhook_endpoints WHERE id = '$ep_f'");
like $ep, qr/\A2\|true\|2 deliveries in a row failed \(the last: HTTP 500\)\z/, 'failed_deliveries 2, disabled_at and disabled_reason set';
ok wait_for(5, sub { grep { body($_)->{type} eq 'webhook.endpoint.disabled' } requests('r', '/watch') }),
   'the account\'s other endpoint hears of it';
my ($dis) = grep { body($_)->{type} eq 'webhook.endpoint.disabled' } requests('r', '/watch');
is_deeply body($dis)->{data}, { endpointId => $ep_f, url => "http://127.0.0.1:$rport/fail",
                                reason => '2 deliveries in a row failed (the last: HTTP 500)' },
          'webhook.endpoint.disabled: endpointId, url, reason';
is body($dis)->{objectId}, $ep_f, 'its object is the endpoint';
ok $dis->{verified}, 'verified';
ok !(grep { body($_)->{type} eq 'webhook.endpoint.disabled' } requests('r', '/fail')), 'the disabled endpoint does not get it';
# a 302 is a failed attempt and is not followed
my @r = requests('r', '/redirect');
is scalar(@r), 3, 'the redirecting endpoint: its first answer a 302, then 200s';
is scalar(requests('r', '/redirected')), 0, 'the redirect is not followed';
is psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_r' AND a.error = 'HTTP 302' AND a.status_code = 302"),
   1, 'recorded: HTTP 302';
is psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_r' AND status = 'delivered'"), 2, 'both delivered';

psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'after')");
Time::HiRes::sleep(1);
is scalar(requests('r', '/fail')), 8, 'a disabled endpoint gets nothing more';
is psql("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '$ep_f' AND status = 'pending'"), 0, '... no delivery is even made for it';

# -- a hanging receiver delays no other endpoint ------------------------------

reset_endpoints();
my ($ep_h) = endpoint('default', '/hang');
my ($ep_q) = endpoint('default', '/quick');
$control{paths}{'/hang'} = { hang => 10 };
control_write();
my @h = map { video_id() } 1 .. 8;
my $t0 = Time::HiRes::time();
psql_script(join '', map { "INSERT INTO videos (id, title) VALUES ('$_', 'hang');\n" } @h);
ok wait_for(5, sub { requests('r', '/quick') >= 8 }), 'the quick endpoint gets its 8 events';
my @qlat = map { $_->{arrival} / 1000 - $t0 } requests('r', '/quick');
my $qmax = percentile(100, @qlat);
diag sprintf 'beside a receiver hanging 10 s: the other endpoint\'s 8 events within %.0f ms of the commits', $qmax * 1000;
ok $qmax < 1.5, sprintf 'all within 1.5 s (%.2f s)', $qmax;
is scalar(requests('r', '/hang')), 4, 'the hanging endpoint holds 4 attempts at a time (webhook_per_endpoint)';
ok wait_for(5, sub { psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_h' AND a.error = 'timed out after 2 s' AND a.status_code IS NULL") >= 4 }),
   'its attempts time out after webhook_timeout: "timed out after 2 s"'
    or diag psql("SELECT string_agg(coalesce(a.error, '-') || ' ' || coalesce(a.status_code, 0), ', ') FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_h'");
psql("UPDATE webhook_endpoints SET enabled = false WHERE id = '$ep_h'");

# -- a worker killed mid-delivery ---------------------------------------------

reset_endpoints();
my ($ep_k) = endpoint('default', '/kill');
$control{paths}{'/kill'} = { hang => 30, first => 1 };
control_write();
my $vk = video_id();
psql("INSERT INTO videos (id, title) VALUES ('$vk', 'kill')");
ok wait_for(5, sub { requests('r', '/kill') >= 1 }), 'the delivery reaches a receiver that hangs';
my $killed = Time::HiRes::time();
worker_stop('KILL');
worker_restart();
ok wait_for(15, sub { requests('r', '/kill') >= 2 }), 'after the SIGKILL, another worker delivers it again';
my @k = requests('r', '/kill');
diag sprintf 'redelivered %.1f s after the kill (lease: webhook_timeout 2 s + 5 s)', $k[1]{arrival} / 1000 - $killed;
is $k[1]{headers}{'webhook-id'}, $k[0]{headers}{'webhook-id'}, 'with the same webhook-id';
is $k[1]{body}, $k[0]{body}, 'and body';
ok $k[1]{verified}, 'verified';
ok wait_for(3, sub { psql("SELECT status FROM webhook_deliveries WHERE endpoint_id = '$ep_k'") eq 'delivered' }), 'delivered';

# -- the address guard --------------------------------------------------------

reset_endpoints();
worker_restart(VIDEO_WORKER_WEBHOOK_ALLOW => '');
my ($ep_n) = endpoint('default', '/named', url => "http://localhost:$rport/named");
my ($ep_l) = endpoint('default', '/literal');
psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'guard')");
ok wait_for(5, sub { psql("SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id IN ('$ep_n', '$ep_l')") >= 2 }),
   'with webhook_allow empty, both attempts fail';
like psql("SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_n' LIMIT 1"),
     qr/\Aaddress (?:127\.0\.0\.1|::1) is not public \(loopback(?:, IPv4-mapped)?\)\z/,
     'a name resolving to loopback is refused when connecting';
is psql("SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = '$ep_l' LIMIT 1"),
   'address 127.0.0.1 is not public (loopback)', 'a loopback address in the URL too';
is scalar(requests('r', '/named')) + scalar(requests('r', '/literal')), 0, 'nothing reached the receiver';
worker_restart();
ok wait_for(8, sub { requests('r', '/named') >= 1 && requests('r', '/literal') >= 1 }),
   'allowed (webhook_allow 127.0.0.0/8, ::1/128): delivered at the next attempt';

# -- a secret's rotation: both signatures during the overlap ------------------

reset_endpoints();
my ($ep_s, $s1) = endpoint('default', '/rotate');
my $s2 = secret_new();
psql("UPDATE webhook_endpoints SET previous_sealed = secret_sealed, previous_expires_at = now() + interval '1 hour', secret_sealed = '"
     . seal($s2) . "' WHERE id = '$ep_s'");
$control{secrets}{'/rotate'} = [$s1, $s2];
$control{secrets}{'/rotate-old'} = [$s1];
control_write();
psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'overlap')");
ok wait_for(5, sub { requests('r', '/rotate') >= 1 }), 'delivered during the overlap';
my ($rot) = requests('r', '/rotate');
is_deeply $rot->{verifiedBy}, [0, 1], 'standardwebhooks verifies it with the old secret and with the new';
like $rot->{headers}{'webhook-signature'}, qr/\Av1,\S{44} v1,\S{44}\z/, 'two signatures';
psql("UPDATE webhook_endpoints SET previous_expires_at = now() - interval '1 second' WHERE id = '$ep_s'");
psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'expired')");
ok wait_for(5, sub { requests('r', '/rotate') >= 2 }), 'delivered after the overlap';
$rot = (requests('r', '/rotate'))[1];
is_deeply $rot->{verifiedBy}, [1], 'only the new secret verifies it';
like $rot->{headers}{'webhook-signature'}, qr/\Av1,\S{44}\z/, 'one signature';

# -- retention: old events go, unless a delivery of theirs is pending ---------

reset_endpoints();
my $rid = 'whepretention00000001';
psql("BEGIN;"
     . " INSERT INTO webhook_endpoints (id, account_id, url, secret_sealed) VALUES ('$rid', 'default', 'http://127.0.0.1:$rport/retention', '" . seal(secret_new()) . "');"
     . " SELECT webhook_emit('default', 'video.updated', 'whold-pending', '{}');"
     . " UPDATE webhook_endpoints SET enabled = false WHERE id = '$rid';"
     . " SELECT webhook_emit('default', 'video.updated', 'whold-done', '{}');"
     . " SELECT webhook_emit('default', 'video.updated', 'whnew', '{}');"
     . " UPDATE webhook_events SET created_at = now() - interval '31 days' WHERE object_id IN ('whold-pending', 'whold-done');"
     . " COMMIT");
my $from = length worker_log();
worker_restart();
ok wait_for(5, sub { substr(worker_log(), $from) =~ /1 event\(s\) older than 30 days removed/ }),
   'at its start, the worker removes the event older than webhook_retention_days';
is psql("SELECT string_agg(object_id, ',' ORDER BY object_id) FROM webhook_events WHERE object_id IN ('whnew', 'whold-pending', 'whold-done')"),
   'whnew,whold-pending', 'an old event with a pending delivery stays, a new one too';

# -- the installation key's rotation -------------------------------------------

reset_endpoints();
my ($ep_key) = endpoint('default', '/key');
my $old = psql("SELECT secret_sealed FROM webhook_endpoints WHERE id = '$ep_key'");
worker_restart(VIDEO_WORKER_WEBHOOK_KEY => $K2, VIDEO_WORKER_WEBHOOK_PREVIOUS_KEY => $K1);
psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'new key')");
ok wait_for(5, sub { requests('r', '/key') >= 1 }), 'with a new webhook_key, the old one as webhook_previous_key: delivered';
ok((requests('r', '/key'))[0]{verified}, '... signed with the secret opened with the previous key');
{
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    local $ENV{VIDEO_WORKER_WEBHOOK_KEY} = $K2;
    local $ENV{VIDEO_WORKER_WEBHOOK_PREVIOUS_KEY} = $K1;
    my $out = qx{$bin webhooks reseal 2>&1};
    is $?, 0, 'webhooks reseal succeeds';
    like $out, qr/\A1 of 1 endpoint\(s\) sealed again under key [0-9a-f]{8}\n\z/, "it says so: $out";
}
my $new = psql("SELECT secret_sealed FROM webhook_endpoints WHERE id = '$ep_key'");
isnt $new, $old, 'the secret is sealed again';
is substr($new, 0, 13), substr(seal(secret_new(), $K2), 0, 13), 'under the new key\'s id';
is psql("SELECT count(*) FROM audit_log WHERE action = 'webhooks.reseal' AND source = 'cli'") > 0 ? 1 : 0, 1, 'audited';
worker_restart(VIDEO_WORKER_WEBHOOK_KEY => $K2);
psql("INSERT INTO videos (id, title) VALUES ('" . video_id() . "', 'old key gone')");
ok wait_for(5, sub { requests('r', '/key') >= 2 }), 'the previous key dropped: delivered';
ok((requests('r', '/key'))[1]{verified}, '... with the same secret');

# -- metrics -------------------------------------------------------------------

my ($st, $metrics) = VideoApi::curl("http://127.0.0.1:$mport/metrics");
ok $metrics =~ /^video_worker_webhook_deliveries_total\{outcome="delivered"\} [1-9]/m, 'metrics: deliveries by outcome';
ok $metrics =~ /^video_worker_webhook_deliveries_total\{outcome="failed_attempt"\} \d+$/m
   && $metrics =~ /^video_worker_webhook_deliveries_total\{outcome="failed"\} \d+$/m, '... all three outcomes';
ok $metrics =~ /^video_worker_webhook_attempt_duration_seconds_count [1-9]/m, 'metrics: the attempts\' latency histogram';
ok $metrics =~ /^video_worker_webhook_in_flight \d+$/m, 'metrics: in flight';
ok $metrics =~ /^video_worker_webhook_lag_seconds [\d.]+$/m, 'metrics: lag';

# -- a clean stop -------------------------------------------------------------

worker_stop();
like worker_log(), qr/stopped\n\z/, 'the worker stops on SIGTERM';
unlike worker_log(), qr/postgresql: |AddressSanitizer|runtime error/, 'and logged no error';

reset_endpoints();
psql("DELETE FROM videos WHERE account_id = 'whacctb' OR id LIKE 'whv%'");
psql("DELETE FROM accounts WHERE id = 'whacctb'");
psql('TRUNCATE webhook_events, webhook_sequences CASCADE');

done_testing();
