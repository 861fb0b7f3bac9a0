# The webhook management API (/api/webhooks): endpoints made by an
# account's editors and admins, their secret shown once and kept only
# sealed, listed, changed, deleted, rotated (the old secret kept until its
# overlap ends), a test event with its one delivery, the deliveries log
# with its attempts, redelivery (a new delivery of the same event), and
# the events feed followed by its cursor across pages, which misses no
# event of a transaction that committed after a page was read.  Then the
# hostile side: viewers, anonymous callers, other accounts' and malformed
# ids, URLs that name private addresses in any spelling, other schemes,
# userinfo, bodies of the wrong shape or size, the endpoint limit, bad
# cursors and limits; every refusal changes nothing.
#
# sanitizers: yes (scripts/test.sh runs it again against the sanitized nginx)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;

# this suite says who calls, each time
$VideoApi::KEY = q{};
use Test::More;
use JSON::PP;
use IPC::Open2 ();

my $base = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 127;
my %nginx = (strict => ["$ENV{PWD}/t/servroot-webhooks", $base],
             open => ["$ENV{PWD}/t/servroot-webhooks-open", $base + 1],
             none => ["$ENV{PWD}/t/servroot-webhooks-none", $base + 2]);
my $port = $base;
my $json = JSON::PP->new;
my $wkey = 'webhook-suite-key-0123456789abcdef0123';

END { nginx_stop($_->[0]) for values %nginx; }

my %key = access_reset(accounts => [['acctB']],
                       keys => [['admin', 'default', 'admin'], ['editor', 'default', 'editor'],
                                ['viewer', 'default', 'viewer'], ['other', 'acctB', 'editor']]);

my $common = <<"HTTP";
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
HTTP

# the strict one: https only, public addresses only, 4 endpoints an account
nginx_start($nginx{strict}[0], $nginx{strict}[1], $common . <<"HTTP");
    video_api_public_url http://media.example.com;
    video_api_webhooks key=$wkey max_endpoints=4 overlap=2h;
HTTP
# as the suites of the delivery worker have it: loopback and http allowed
nginx_start($nginx{open}[0], $nginx{open}[1], $common . <<"HTTP");
    video_api_webhooks key=$wkey allow=127.0.0.0/8,::1 allow_http=on;
HTTP
# no key: nothing can be sealed
nginx_start($nginx{none}[0], $nginx{none}[1], $common);

sub call {
    my ($who, $method, $path, $body, %o) = @_;
    my @args = ('-X', $method, "http://127.0.0.1:" . ($o{port} // $port) . $path);
    push @args, '-H', "Authorization: Bearer " . ($key{$who} // $who) if $who ne 'anon';
    push @args, '-H', "Idempotency-Key: $o{idem}" if $o{idem};
    push @args, '-H', 'Content-Type: application/json', '--data-binary', $body
        if defined $body;
    my ($s, $b, $h) = curl(@args);
    return ($s, $b, scalar eval { $json->decode($b) }, $h);
}

sub rows { psql("SELECT (SELECT count(*) FROM webhook_endpoints) || '/' || (SELECT md5(coalesce(string_agg(e::text, ',' ORDER BY id), '')) FROM webhook_endpoints e) || '/' || (SELECT count(*) FROM webhook_events) || '/' || (SELECT count(*) FROM webhook_deliveries)") }

sub detail_paths { join ' ', sort map { $_->{path} } @{$_[0]{error}{details} // []} }

my ($s, $b, $d, $h);

# -- made: the secret once ---------------------------------------------------

($s, $b, $d) = call('editor', 'POST', '/api/webhooks',
                    '{"url":"https://Hooks.Example.com:443/in#x","description":"prod","eventTypes":["video.ready","video.failed"]}');
is $s, 201, 'an editor makes an endpoint';
my $ep = $d->{data}{endpoint};
my $secret = $d->{data}{secret};
like $secret, qr{\Awhsec_[A-Za-z0-9+/]{32}\z}, '... its secret shown once: whsec_ and 24 bytes of base64';
like $b, qr/\A\{"success":true,"data":\{"endpoint":\{.*\},"secret":"whsec_[^"]+"\}\}\z/, '... {endpoint, secret}';
like $ep->{id}, qr/\A[A-Za-z0-9_-]{21}\z/, '... an id';
is $ep->{url}, 'https://hooks.example.com/in', '... the URL in its normal form';
is $ep->{description}, 'prod', '... its description';
is_deeply $ep->{eventTypes}, ['video.ready', 'video.failed'], '... its event types';
ok $ep->{enabled} && !defined $ep->{disabledAt} && !defined $ep->{disabledReason}
   && $ep->{failedDeliveries} == 0 && !defined $ep->{previousSecretExpiresAt}, '... enabled, nothing failed';
like $ep->{createdAt}, qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/, '... and when';
my $id = $ep->{id};
my ($sealed, $by, $acct) = split /\|/, psql("SELECT secret_sealed, created_by, account_id FROM webhook_endpoints WHERE id = '$id'");
like $sealed, qr/\Awk1\.[0-9a-f]{8}\./, 'stored sealed';
my $bare = substr($secret, 6);
unlike $sealed, qr/\Q$bare\E/, '... without the secret in it';
is $by, psql("SELECT id FROM api_keys WHERE name = 'editor'"), '... with the key that made it';
is $acct, 'default', '... in the caller\'s account';

($s, $b) = call('editor', 'GET', "/api/webhooks/$id");
is $s, 200, 'read';
unlike $b, qr/whsec_|wk1\.|sealed|secret"/, '... never the secret, sealed or not';
($s, $b, $d) = call('editor', 'GET', '/api/webhooks');
unlike $b, qr/whsec_|wk1\./, 'nor in the list';

# -- Idempotency-Key ---------------------------------------------------------

my $n = rows();
my ($s1, $b1, $d1, $h1) = call('editor', 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/idem"}', idem => 'wh-idem-1');
my ($s2, $b2, $d2, $h2) = call('editor', 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/idem"}', idem => 'wh-idem-1');
is "$s1 $s2", '201 201', 'a create with an Idempotency-Key, sent twice';
is $b2, $b1, '... answers the same, secret included';
like $h2, qr/^Idempotent-Replayed: true\r?$/mi, '... replayed';
is psql("SELECT count(*) FROM webhook_endpoints WHERE url = 'https://hooks.example.com/idem'"), 1, '... made once';
($s) = call('editor', 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/other"}', idem => 'wh-idem-1');
is $s, 409, 'the same key with another body: 409';
my $idem_id = $d1->{data}{endpoint}{id};

# -- listed: the account's ---------------------------------------------------

($s, $b, $d) = call('other', 'POST', '/api/webhooks', '{"url":"https://b.example.com/hook"}');
is $s, 201, 'another account makes one';
my $other_id = $d->{data}{endpoint}{id};
($s, $b, $d) = call('admin', 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/admin","enabled":false}');
is $s, 201, 'an admin makes one too';
ok !$d->{data}{endpoint}{enabled}, '... disabled, as asked';
my $admin_id = $d->{data}{endpoint}{id};

($s, $b, $d) = call('editor', 'GET', '/api/webhooks');
is $s, 200, 'the list';
is $d->{data}{total}, 3, '... total: the account\'s three';
is join(' ', map { $_->{id} } @{$d->{data}{endpoints}}), "$admin_id $idem_id $id", '... newest first, none of another account';
($s, $b, $d) = call('other', 'GET', '/api/webhooks');
is join(' ', map { $_->{id} } @{$d->{data}{endpoints}}), $other_id, 'the other account lists its own';

# -- changed -------------------------------------------------------------------

($s, $b, $d) = call('editor', 'PATCH', "/api/webhooks/$id", '{"description":"","eventTypes":[],"url":"https://hooks.example.com/v2"}');
is $s, 200, 'PATCH';
is_deeply [@{$d->{data}{endpoint}}{qw(description url)}], ['', 'https://hooks.example.com/v2'], '... description and url';
is_deeply $d->{data}{endpoint}{eventTypes}, [], '... every event type';
ok $d->{data}{endpoint}{updatedAt} ge $ep->{updatedAt}, '... updatedAt';
($s, $b, $d) = call('editor', 'PATCH', "/api/webhooks/$id", '{"enabled":false}');
ok !$d->{data}{endpoint}{enabled} && $d->{data}{endpoint}{disabledAt} && !defined $d->{data}{endpoint}{disabledReason},
   'disabled by its caller: when, and no reason';
psql("UPDATE webhook_endpoints SET failed_deliveries = 5, disabled_reason = '5 deliveries failed' WHERE id = '$id'");
($s, $b, $d) = call('editor', 'PATCH', "/api/webhooks/$id", '{"enabled":true}');
is_deeply [map { $d->{data}{endpoint}{$_} } qw(enabled failedDeliveries disabledReason disabledAt)],
          [JSON::PP::true, 0, undef, undef], 're-enabled: no failures counted, no reason, no time';

# -- rotated -------------------------------------------------------------------

my $old_sealed = psql("SELECT secret_sealed FROM webhook_endpoints WHERE id = '$id'");
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/rotate", '{"overlap":600}');
is $s, 200, 'rotate';
like $b, qr/\A\{"success":true,"data":\{"secret":"whsec_[^"]+","endpoint":\{/, '... {secret, endpoint}';
my $new = $d->{data}{secret};
like $new, qr{\Awhsec_[A-Za-z0-9+/]{32}\z}, '... a new secret';
isnt $new, $secret, '... another one';
my ($cur, $prev, $left) = split /\|/, psql("SELECT secret_sealed, previous_sealed, round(extract(epoch FROM previous_expires_at - now())) FROM webhook_endpoints WHERE id = '$id'");
is $prev, $old_sealed, 'the old secret kept as the previous one';
isnt $cur, $old_sealed, '... the new one sealed in its place';
ok $left > 590 && $left <= 600, "... until the overlap asked for ends ($left s)";
ok $d->{data}{endpoint}{previousSecretExpiresAt}, '... which the endpoint shows';
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/rotate");
$left = psql("SELECT round(extract(epoch FROM previous_expires_at - now())) FROM webhook_endpoints WHERE id = '$id'");
ok $s == 200 && $left > 7190 && $left <= 7200, "without a body: the configured overlap (2h: $left s)";
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/rotate", '{"overlap":604801}');
is "$s " . detail_paths($d), '400 overlap', 'an overlap over 7 days: 400';

# -- a test event ----------------------------------------------------------------

# a second endpoint of the account that wants every event: it gets none of
# the test
($s, $b, $d) = call('editor', 'PATCH', "/api/webhooks/$admin_id", '{"enabled":true}');
psql("UPDATE webhook_endpoints SET event_types = '{video.ready}' WHERE id = '$id'");
$n = psql('SELECT count(*) FROM webhook_deliveries');
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/test");
is $s, 202, 'a test event: 202';
my $evt = $d->{data}{eventId};
like $evt, qr/\Aevt_[0-9a-f]{32}\z/, '... its event id';
is psql("SELECT type || '|' || object_id || '|' || endpoint_id || '|' || (data->>'endpointId') || '|' || (data->>'message') FROM webhook_events WHERE id = '$evt'"),
   "webhook.test|$id|$id|$id|Test event", '... a webhook.test event about the endpoint';
is psql("SELECT string_agg(d.endpoint_id || ':' || d.status, ',') FROM webhook_deliveries d JOIN webhook_events e ON e.n = d.event_n WHERE e.id = '$evt'"),
   "$id:pending", '... one delivery, to that endpoint alone (though it subscribes to video.ready only)';
is psql('SELECT count(*) FROM webhook_deliveries'), $n + 1, '... and no other';

# -- the deliveries log ------------------------------------------------------------

# five deliveries of a video event to $id, the newest two with attempts
my $vid = 'whVideoAXXXXXXXXXXXXX';
psql("INSERT INTO videos (id, account_id, title, status, thumbnail_key, hls_manifest_key) VALUES ('$vid', 'default', 'Hooked', 'READY', '$vid/thumb.jpg', '$vid/master.m3u8')");
my $vevt = psql("SELECT id FROM webhook_events WHERE object_id = '$vid' AND type = 'video.created'");
my $vn = psql("SELECT n FROM webhook_events WHERE id = '$vevt'");
psql("DELETE FROM webhook_deliveries WHERE endpoint_id = '$id'");
psql(join ';', map { "INSERT INTO webhook_deliveries (event_n, endpoint_id, created_at) VALUES ($vn, '$id', now() + interval '$_ ms')" } 1 .. 5);
my @did = split /\n/, psql("SELECT id FROM webhook_deliveries WHERE endpoint_id = '$id' ORDER BY id DESC");
psql("UPDATE webhook_deliveries SET status = 'failed', attempts = 2, last_status = 500, last_error = 'HTTP 500', last_latency_ms = 31 WHERE id = $did[1]");
psql("INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) VALUES ($did[1], 1, '2026-01-01T00:00:00Z', NULL, 5000, 'timed out'), ($did[1], 2, '2026-01-01T00:00:05Z', 500, 31, 'HTTP 500')");
psql("UPDATE webhook_deliveries SET status = 'delivered', attempts = 1, last_status = 204, last_latency_ms = 12, delivered_at = '2026-01-01T00:01:00Z' WHERE id = $did[0]");
psql("INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms) VALUES ($did[0], 1, '2026-01-01T00:01:00Z', 204, 12)");

($s, $b, $d) = call('editor', 'GET', "/api/webhooks/$id/deliveries?limit=2");
is $s, 200, 'the deliveries log';
my @page = @{$d->{data}{deliveries}};
is join(' ', map { $_->{id} } @page), "$did[0] $did[1]", '... newest first, limit 2';
is_deeply $page[0], { id => $did[0] + 0, eventId => $vevt, eventType => 'video.created', status => 'delivered',
                      attempts => 1, nextAttemptAt => undef, lastStatus => 204, lastError => undef,
                      lastLatencyMs => 12, deliveredAt => '2026-01-01T00:01:00.000Z', createdAt => $page[0]{createdAt},
                      attemptLog => [{ attempt => 1, at => '2026-01-01T00:01:00.000Z', statusCode => 204,
                                       latencyMs => 12, error => undef }] },
    '... a delivered one with its attempt';
is_deeply [map { [$_->{attempt}, $_->{statusCode}, $_->{error}] } @{$page[1]{attemptLog}}],
          [[1, undef, 'timed out'], [2, 500, 'HTTP 500']], '... a failed one with its attempts in order';
is_deeply [@{$page[1]}{qw(status attempts lastStatus lastError lastLatencyMs)}], ['failed', 2, 500, 'HTTP 500', 31],
          '... and their outcome';
my @seen = map { $_->{id} } @page;
my $cursor = $d->{data}{nextCursor};
ok $cursor, '... and a cursor';
my $pages = 1;
while ($cursor) {
    ($s, $b, $d) = call('editor', 'GET', "/api/webhooks/$id/deliveries?limit=2&cursor=$cursor");
    push @seen, map { $_->{id} } @{$d->{data}{deliveries}};
    $cursor = $d->{data}{nextCursor};
    last if ++$pages > 10;
}
is "@seen", "@did", "followed across $pages pages: every delivery once, in order";
is $pages, 3, '... the last page says so (no cursor)';
($s, $b, $d) = call('editor', 'GET', "/api/webhooks/$id/deliveries?status=pending");
is join(' ', map { $_->{id} } @{$d->{data}{deliveries}}), "@did[2 .. 4]", 'by status: pending';
ok((!grep { !$_->{nextAttemptAt} } @{$d->{data}{deliveries}}), '... each with when it is due');
for my $q ('limit=0', 'limit=101', 'limit=x', 'status=lost', 'cursor=!!', 'cursor=MS4y') {
    my ($k) = $q =~ /\A(\w+)/;
    ($s, $b, $d) = call('editor', 'GET', "/api/webhooks/$id/deliveries?$q");
    is "$s " . detail_paths($d), "400 $k", "deliveries?$q: 400 naming $k";
}

# -- redelivery --------------------------------------------------------------------

$n = rows();
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/redeliver", "{\"eventId\":\"$vevt\"}");
is $s, 202, 'redeliver: 202';
my $rd = $d->{data}{deliveryId};
is psql("SELECT event_n || ':' || endpoint_id || ':' || status || ':' || attempts FROM webhook_deliveries WHERE id = $rd"),
   "$vn:$id:pending:0", '... a new delivery of the same event to the endpoint';
ok $rd > $did[0], '... after every other';
my $bevt = psql("SELECT webhook_emit('acctB', 'webhook.test', '$other_id', json_build_object('endpointId', '$other_id', 'message', 'Test event'), '$other_id')");
$n = rows();
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/redeliver", "{\"eventId\":\"$bevt\"}");
is $s, 404, 'another account\'s event: 404';
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/redeliver", '{"eventId":"evt_00000000000000000000000000000000"}');
is $s, 404, 'an unknown event: 404';
for my $body ('{"eventId":"nope"}', '{}', '{"eventId":7}') {
    ($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/redeliver", $body);
    is "$s " . detail_paths($d), '400 eventId', "redeliver $body: 400 naming eventId";
}
is rows(), $n, '... none of them delivered anything';

# -- the events feed ---------------------------------------------------------------

psql(join ';', map { sprintf "INSERT INTO videos (id, account_id, title) VALUES ('whFeed%02dXXXXXXXXXXXXX', 'default', 'Feed %d')", $_, $_ } 1 .. 7);
psql("INSERT INTO videos (id, account_id, title) VALUES ('whFeedBXXXXXXXXXXXXXX', 'acctB', 'Not yours')");
my @want = split /\n/, psql("SELECT id FROM webhook_events WHERE account_id = 'default' ORDER BY txid, n");
ok @want >= 9, scalar(@want) . ' events of the account so far';

sub follow {
    my ($after, $limit, $got) = @_;
    my $k = 0;
    while (1) {
        my ($st, $bd, $dd) = call('editor', 'GET', "/api/webhooks/events?limit=$limit" . ($after ? "&after=$after" : ''));
        die "feed: $st $bd" unless $st == 200;
        my @e = @{$dd->{data}{events}};
        push @$got, @e;
        $after = $dd->{data}{nextCursor};
        last if !@e || ++$k > 50;
    }
    return $after;
}

my @got;
$cursor = follow(undef, 3, \@got);
is join(' ', map { $_->{id} } @got), "@want", 'the feed, 3 at a time: every event of the account once, in commit order';
ok((!grep { $_->{accountId} ne 'default' } @got), '... none of another account');
my ($ready) = grep { $_->{id} eq $vevt } @got;
is_deeply [sort keys %$ready], [sort qw(id type timestamp accountId objectId sequence data)], 'an event\'s fields';
is $ready->{data}{thumbnailUrl}, "http://media.example.com/play/$vid/thumb.jpg", '... its video\'s URLs filled from the public URL';
is $ready->{data}{playbackUrl}, "http://media.example.com/play/$vid/master.m3u8", '... its playback URL too, with no token';
is $ready->{sequence}, 1, '... its sequence number';
($s, $b) = call('editor', 'GET', '/api/webhooks/events?limit=100');
like $b, qr/"events":\[\{"id":"evt_[0-9a-f]+","type":"[a-z.]+","timestamp":"[^"]+","accountId":"default","objectId":"[^"]+","sequence":\d+,"data":/,
     '... keys in the order of the delivery body';

# a transaction that started before the next page is read and commits
# after: its event comes after the cursor all the same
my $pid = IPC::Open2::open2(my $pout, my $pin, 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, '-XAtq');
sub session {
    print $pin "$_[0];\n\\echo END\n";
    $pin->flush;
    my $out = '';
    while (defined(my $line = <$pout>)) { last if $line eq "END\n"; $out .= $line }
    chomp $out;
    return $out;
}
session('BEGIN');
# (two objects: the open transaction holds its object's sequence row)
my %vjson = map { $_ => "(SELECT video_json(v, NULL, NULL) FROM videos v WHERE v.id = '$_')" }
                qw(whFeed01XXXXXXXXXXXXX whFeed02XXXXXXXXXXXXX);
my $late = session("SELECT webhook_emit('default', 'video.updated', 'whFeed01XXXXXXXXXXXXX', $vjson{whFeed01XXXXXXXXXXXXX})");
like $late, qr/\Aevt_/, 'an event written in a transaction left open';
my $after_late = psql("SELECT webhook_emit('default', 'video.updated', 'whFeed02XXXXXXXXXXXXX', $vjson{whFeed02XXXXXXXXXXXXX})");
my @more;
my $c2 = follow($cursor, 3, \@more);
is scalar(@more), 0, '... neither it nor one committed since is in the feed while it is open';
is $c2, $cursor, '... and the cursor stays';
session('COMMIT');
close $pin;
waitpid $pid, 0;
follow($c2, 3, \@more);
is join(' ', map { $_->{id} } @more), "$late $after_late", 'once it commits, both come after the cursor, in order';
my %dup;
ok !(grep { $dup{$_->{id}}++ } @got, @more), '... no event twice';
($s, $b, $d) = call('other', 'GET', '/api/webhooks/events?limit=100');
ok((!grep { $_->{accountId} ne 'acctB' } @{$d->{data}{events}}) && @{$d->{data}{events}} >= 2, 'the other account reads its own feed');
for my $q ('limit=0', 'limit=101', 'limit=-1', 'after=%%', 'after=MDEuMg', 'after=' . ('A' x 80)) {
    my ($k) = $q =~ /\A(\w+)/;
    ($s, $b, $d) = call('editor', 'GET', "/api/webhooks/events?$q");
    is "$s " . detail_paths($d), "400 $k", "events?$q: 400 naming $k";
}

# -- deleted -----------------------------------------------------------------------

($s, $b, $d) = call('editor', 'DELETE', "/api/webhooks/$idem_id");
is $s, 200, 'DELETE';
is $d->{data}{message}, 'Webhook endpoint deleted', '... a message';
is psql("SELECT count(*) FROM webhook_endpoints WHERE id = '$idem_id'"), 0, '... gone';
($s) = call('editor', 'DELETE', "/api/webhooks/$idem_id");
is $s, 404, '... a second time: 404';

# -- who may: viewers, anonymous callers, other accounts ----------------------------

my @routes = (['GET', '/api/webhooks'], ['POST', '/api/webhooks', '{"url":"https://x.example.com/"}'],
              ['GET', '/api/webhooks/events'], ['GET', '/api/webhooks/:id'],
              ['PATCH', '/api/webhooks/:id', '{"description":"mine now"}'], ['DELETE', '/api/webhooks/:id'],
              ['POST', '/api/webhooks/:id/rotate', '{}'], ['POST', '/api/webhooks/:id/test'],
              ['GET', '/api/webhooks/:id/deliveries'], ['POST', '/api/webhooks/:id/redeliver', "{\"eventId\":\"$vevt\"}"]);
$n = rows();
for my $r (@routes) {
    my ($m, $p, $body) = @$r;
    (my $path = $p) =~ s/:id/$id/;
    ($s, $b, $d) = call('viewer', $m, $path, $body);
    is "$s $d->{error}{code}", '403 FORBIDDEN', "$m $p, a viewer: 403";
    ($s, $b, $d) = call('anon', $m, $path, $body);
    is "$s $d->{error}{code}", '401 UNAUTHORIZED', "$m $p, anonymous: 401";
    next unless $p =~ /:id/;
    # another account's endpoint answers as an unknown one, byte for byte
    my $unknown = 'ZZZZZZZZZZZZZZZZZZZZZ';
    (my $up = $p) =~ s/:id/$unknown/;
    my ($us, $ub) = call('other', $m, $up, $body);
    $ub =~ s/$unknown/$id/g;
    ($s, $b) = call('other', $m, $path, $body);
    is "$s $b", "404 $ub", "$m $p, another account's endpoint: 404 as an unknown one";
    for my $bad ('x', 'Z' x 22, '..', '%2e%2e', 'a%21b') {
        (my $bp = $p) =~ s/:id/$bad/;
        ($s, $b, $d) = call('editor', $m, $bp, $body);
        is "$s $d->{error}{code}", '404 NOT_FOUND', "$m $p with id '$bad': 404";
    }
}
is rows(), $n, 'none of them changed anything';

# -- hostile bodies ---------------------------------------------------------------

$n = rows();
my @bad_urls = ('http://hooks.example.com/in', 'https://127.0.0.1/x', 'https://127.1/x', 'https://0x7f000001/x',
                'https://2130706433/x', 'https://017700000001/x', 'https://0x7f.1/x', 'https://[::1]/x',
                'https://[::ffff:127.0.0.1]/x', 'https://[0:0:0:0:0:ffff:7f00:1]/x', 'https://169.254.169.254/latest/meta-data',
                'https://10.0.0.1/x', 'https://192.168.0.1/x', 'https://172.16.0.1/x', 'https://[fe80::1]/x',
                'https://[fc00::1]/x', 'https://0.0.0.0/x', 'https://[::]/x', 'https://100.64.0.1/x',
                'https://user:pw@hooks.example.com/x', 'https://hooks.example.com@127.0.0.1/x',
                'ftp://hooks.example.com/x', 'file:///etc/passwd', 'gopher://hooks.example.com/', 'javascript:alert(1)',
                'data:text/plain,x', '//hooks.example.com/x', 'hooks.example.com', '', 'https://', 'https://exa mple.com/',
                'https://hooks.example.com/' . ('a' x 2048));
for my $u (@bad_urls) {
    for my $m ('POST', 'PATCH') {
        my $path = $m eq 'POST' ? '/api/webhooks' : "/api/webhooks/$id";
        ($s, $b, $d) = call('editor', $m, $path, $json->encode({ url => $u }));
        is "$s " . detail_paths($d), '400 url', "$m url " . substr($u, 0, 60) . ': 400 naming url';
    }
}
for my $body ('{"url":7}', '{"url":null}', '{"url":["https://a.example/"]}') {
    ($s, $b, $d) = call('editor', 'POST', '/api/webhooks', $body);
    is "$s " . detail_paths($d), '400 url', "$body: 400 naming url";
}
for my $t ('["video.exploded"]', '["video.ready","video.ready"]', '"video.ready"', '{"a":1}', '[7]', '[null]', '["VIDEO.READY"]') {
    ($s, $b, $d) = call('editor', 'POST', '/api/webhooks', "{\"url\":\"https://a.example.com/\",\"eventTypes\":$t}");
    is "$s " . detail_paths($d), '400 eventTypes', "eventTypes $t: 400 naming it";
}
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://a.example.com/","description":"' . ('d' x 256) . '"}');
is "$s " . detail_paths($d), '400 description', 'a description of 256 characters: 400';
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://a.example.com/","enabled":"yes"}');
is "$s " . detail_paths($d), '400 enabled', 'enabled not a boolean: 400';
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"ftp://x/","eventTypes":"all","description":5,"enabled":1}');
is "$s " . detail_paths($d), '400 description enabled eventTypes url', 'every bad field named at once';
($s, $b, $d) = call('editor', 'PATCH', "/api/webhooks/$id", '{}');
is $s, 400, 'an empty PATCH: 400';
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '[{"url":"https://a.example.com/"}]');
is $s, 400, 'an array body: 400';
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://a.example.com/"');
is $s, 400, 'malformed JSON: 400';
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://a.example.com/","description":"' . ('x' x 70000) . '"}');
is $s, 413, 'a huge body: 413';
is rows(), $n, 'none of them changed anything';

# -- the endpoint limit (max_endpoints=4): 403 QUOTA_EXCEEDED ----------------------

my $have = psql("SELECT count(*) FROM webhook_endpoints WHERE account_id = 'default'");
for ($have + 1 .. 4) {
    ($s) = call('editor', 'POST', '/api/webhooks', '{"url":"https://fill.example.com/"}');
    is $s, 201, "endpoint $_ of 4";
}
$n = rows();
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://fill.example.com/"}');
is "$s $d->{error}{code}", '403 QUOTA_EXCEEDED', 'the fifth: 403 QUOTA_EXCEEDED';
like $d->{error}{message}, qr/at most 4/, '... naming the limit';
is_deeply [@{$d->{error}{details}[0]}{qw(limit max used requested)}], ['maxEndpoints', 4, 4, 1], '... in its details too';
is rows(), $n, '... nothing made';
($s) = call('other', 'POST', '/api/webhooks', '{"url":"https://fill.example.com/"}');
is $s, 201, 'another account has its own';

# -- methods, CORS -----------------------------------------------------------------

($s, $b, $d, $h) = call('editor', 'PUT', "/api/webhooks/$id", '{}');
is "$s $d->{error}{code}", '405 METHOD_NOT_ALLOWED', 'PUT on an endpoint: 405';
like $h, qr/^Allow: GET, HEAD, PATCH, DELETE, OPTIONS\r?$/mi, '... with Allow';
($s, $b, $d, $h) = call('editor', 'DELETE', '/api/webhooks');
like "$s $h", qr/\A405 .*^Allow: GET, HEAD, POST, OPTIONS\r?$/msi, 'DELETE on the list: 405, Allow';
($s, $b, $d, $h) = call('editor', 'GET', "/api/webhooks/$id/test");
like "$s $h", qr/\A405 .*^Allow: POST, OPTIONS\r?$/msi, 'GET on test: 405, Allow';
($s, $b, $h) = curl('-X', 'OPTIONS', '-H', 'Origin: https://app.example.com', '-H', 'Access-Control-Request-Method: PATCH',
                    "http://127.0.0.1:$port/api/webhooks/$id");
is $s, 204, 'a preflight: 204';
like $h, qr/^Access-Control-Allow-Methods: GET, HEAD, PATCH, DELETE, OPTIONS\r?$/mi, '... the methods of the path';
($s, $b) = call('editor', 'GET', '/api/webhooks/x/y/z');
is $s, 404, 'an unknown path under /api/webhooks: 404';

# -- the allow-list and http, where configured ---------------------------------------

($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"http://127.0.0.1:9/hook"}', port => $nginx{open}[1]);
is $s, 201, 'allow=127.0.0.0/8 allow_http=on: http://127.0.0.1 is taken';
($s, $b, $d) = call('admin', 'POST', '/api/webhooks', '{"url":"http://[::1]:9/hook"}', port => $nginx{open}[1]);
is $s, 201, '... and [::1]';
($s, $b, $d) = call('admin', 'POST', '/api/webhooks', '{"url":"http://10.0.0.1/hook"}', port => $nginx{open}[1]);
is "$s " . detail_paths($d), '400 url', '... not 10.0.0.1, which it does not list';
($s, $b, $d) = call('admin', 'PATCH', "/api/webhooks/$id", '{"url":"http://127.0.0.1:9/hook"}');
is "$s " . detail_paths($d), '400 url', '... where it is not configured, not even a PATCH';

# -- no key ------------------------------------------------------------------------

$n = rows();
($s, $b, $d) = call('editor', 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/"}', port => $nginx{none}[1]);
is "$s $d->{error}{code}", '503 UNAVAILABLE', 'without video_api_webhooks: making one is a 503';
is $d->{error}{message}, 'webhooks are not configured', '... saying why';
($s, $b, $d) = call('editor', 'POST', "/api/webhooks/$id/rotate", undef, port => $nginx{none}[1]);
is "$s $d->{error}{code}", '503 UNAVAILABLE', '... and so is a rotation';
is rows(), $n, '... nothing changed';
($s, $b, $d) = call('editor', 'GET', '/api/webhooks', undef, port => $nginx{none}[1]);
is $s, 200, '... what exists is still listed';

done_testing;
