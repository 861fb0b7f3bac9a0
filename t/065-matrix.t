# The access matrix, generated: every route that takes a video or stream
# id × every kind of caller (anonymous, the holder of the video's play
# token, a viewer, an editor and an admin, an editor of another account) ×
# every visibility, each answer checked against the rules of README
# "Access control" written once below as a small oracle: its status, the
# fields present (the account's whole object or the public view), and,
# for every refused write, that nothing changed.  Then the routes that
# take no id (lists, the live directory, presign, upload from a URL, live
# create, analytics resets) × every caller; and the webhook routes, an
# account's editors' and admins' alone, × every caller.
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

my $dir = "$ENV{PWD}/t/servroot-matrix";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 57;
my $json = JSON::PP->new->canonical;


END { nginx_stop($dir) if $dir; }

sub redis_cli { my $out = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} @_}; chomp $out; return $out }

my %key = access_reset(accounts => [['acctB']],
                       keys => [['viewer', 'default', 'viewer'], ['editor', 'default', 'editor'],
                                ['admin', 'acctB', 'admin'], ['other', 'acctB', 'editor']]);

my @callers = qw(anon token viewer editor admin other);
my @visibilities = qw(PUBLIC UNLISTED PRIVATE);

nginx_start($dir, $port, <<"HTTP");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=matrix-suite-secret;
    video_api_public_url http://127.0.0.1:$port;
    video_api_rtmp_url rtmp://127.0.0.1:1935/live;
    video_api_playback secret=matrix-suite-playback-secret;
    video_api_webhooks key=matrix-suite-webhook-key-0123456789abcdef;
HTTP

# -- the videos: one VOD and one live stream of account A per visibility --------

# ids of 21 characters, e.g. mtxVODPUBLICXXXXXXXXX
sub vid { my $s = "mtx$_[0]$_[1]"; return $s . 'X' x (21 - length $s) }

# the token generation each video's play token was signed with
my %gen;

sub seed {
    my ($kind, $vis) = @_;
    my $id = vid($kind, $vis);
    psql("DELETE FROM videos WHERE id = '$id'");
    my %live = $kind eq 'LIV'
        ? (video_type => 'LIVE', status => 'LIVE', is_live_now => 'true',
           live_started_at => '2026-01-01T00:00:00Z',
           stream_key_hash => undef)
        : (video_type => 'VOD', status => 'READY',
           hls_manifest_key => "$id/master.m3u8", duration => 12);
    seed_video(id => $id, account_id => 'default', visibility => $vis,
               title => "Matrix $kind $vis", thumbnail_key => "$id/thumbnail.jpg",
               processing_error => 'ffmpeg: /srv/secret/path exploded',
               original_key => "$id/original.mp4", token_gen => $gen{$id} // 0, %live);
    redis_cli('DEL', "video:$id");
    return $id;
}

my %id;
for my $kind (qw(VOD LIV)) {
    $id{$kind}{$_} = seed($kind, $_) for @visibilities;
}

sub call {
    my ($who, $method, $path, $body, $token) = @_;
    my $h = '';
    $h .= "Authorization: Bearer $key{$who}\r\n" if $key{$who};
    $h .= "X-Play-Token: $token\r\n" if defined $token;
    my ($s, $b) = http_request($port, $method, $path, $body, $h);
    return ($s, $b, eval { $json->decode($b) });
}

# each video's play token, as its account's view of it hands out: made
# while the video is PRIVATE (its generation moved on then), the video
# then set back, which keeps the generation
my %token;
for my $kind (qw(VOD LIV)) {
    for my $vis (@visibilities) {
        my $v = $id{$kind}{$vis};
        psql("UPDATE videos SET visibility = 'PRIVATE' WHERE id = '$v'");
        redis_cli('DEL', "video:$v");
        my (undef, $b) = call('editor', 'GET', "/api/videos/$v");
        ($token{$v}) = $b =~ m{/play/\Q$v\E/([^/"]+)/};
        psql("UPDATE videos SET visibility = '$vis' WHERE id = '$v'");
        $gen{$v} = psql("SELECT token_gen FROM videos WHERE id = '$v'");
        redis_cli('DEL', "video:$v");
        die "no play token for $v: $b" unless $token{$v};
    }
}

# stats read Redis's counters as the analytics worker leaves them
redis_cli('SET', 'views:loaded', 1);
redis_cli('DEL', 'video:ids', 'video:ids:complete');

# -- the rules, once ------------------------------------------------------------

my %owner = map { $_ => 1 } qw(viewer editor admin);

# routes a play token admits (README: read the video, count a view, signal)
my %by_token = map { $_ => 1 } ('GET /api/videos/:id', 'POST /api/analytics/view/:id',
                                'POST /api/live/:id/signal/join');

sub sees {
    my ($who, $vis, $route) = @_;
    return 1 if $owner{$who};
    return 1 if $who eq 'token' && $by_token{$route};
    return $vis ne 'PRIVATE';
}

sub may_write {
    my ($who) = @_;
    return 401 if $who eq 'anon' || $who eq 'token';
    return 403 if $who eq 'viewer';
    return 404 if $who eq 'other';
    return 200;
}

# route: [method, path, body, kinds, write?, success status]
my @routes = (
    ['GET', '/api/videos/:id', undef, [qw(VOD LIV)], 0],
    ['GET', '/api/videos/:id/progress', undef, ['VOD'], 0],
    ['GET', '/api/analytics/stats/:id', undef, ['VOD'], 0],
    ['POST', '/api/analytics/view/:id', undef, [qw(VOD LIV)], 0],
    ['GET', '/api/live/:id', undef, ['LIV'], 0],
    ['GET', '/api/live/:id/watch', undef, ['LIV'], 0],
    ['POST', '/api/live/:id/signal/join', undef, ['LIV'], 0, 201],
    ['PATCH', '/api/videos/:id', '{"title":"Changed by the matrix"}', [qw(VOD LIV)], 1],
    ['POST', '/api/live/:id/key', undef, ['LIV'], 1],
    ['PATCH', '/api/live/:id/visibility', '{"visibility":"%s"}', ['LIV'], 1],
    ['POST', '/api/live/:id/stop', '{}', ['LIV'], 1],
    ['DELETE', '/api/videos/:id', undef, [qw(VOD LIV)], 1],
);

# a row's fingerprint, through one psql session kept open (a process per
# snapshot would take most of the suite's time)
use IPC::Open2 ();
my $psql_pid = IPC::Open2::open2(my $psql_out, my $psql_in, 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, '-XAtq');
END { close $psql_in if $psql_in; waitpid $psql_pid, 0 if $psql_pid; }

sub row {
    print $psql_in "SELECT md5(row_to_json(v)::text) FROM videos v WHERE id = '$_[0]';\n\\echo END\n";
    $psql_in->flush;
    my $out = '';
    while (defined(my $line = <$psql_out>)) {
        last if $line eq "END\n";
        $out .= $line;
    }
    chomp $out;
    return $out;
}

# what an answer's video object must and must not hold
sub fields_ok {
    my ($who, $v, $obj, $what) = @_;
    return unless ref $obj eq 'HASH';
    if ($owner{$who}) {
        is $obj->{accountId}, 'default', "$what: the whole object, with its account";
    } else {
        my @leak = grep { exists $obj->{$_} } qw(accountId thumbnailKey hlsManifestKey originalKey);
        is "@leak", '', "$what: the public view (no account, no storage keys)";
    }
}

my ($cells, $refused) = (0, 0);

for my $r (@routes) {
    my ($method, $pattern, $body, $kinds, $write, $ok) = @$r;
    my $route = "$method $pattern";
    for my $kind (@$kinds) {
        for my $vis (@visibilities) {
            for my $who (@callers) {
                my $v = $id{$kind}{$vis};
                (my $path = $pattern) =~ s/:id/$v/;
                my $b = defined $body && $body =~ /%s/ ? sprintf($body, $vis) : $body;
                my $want = $write ? (sees($who, $vis, $route) ? may_write($who) : 404)
                                  : (sees($who, $vis, $route) ? 200 : 404);
                # a write its role may not make is refused as such, seen or not
                $want = may_write($who) if $write && may_write($who) != 200 && may_write($who) != 404;
                $want = $ok if $want == 200 && $ok;
                my $before = $write ? row($v) : undef;
                die "no fingerprint of $v" if $write && $before !~ /\A[0-9a-f]{32}\z/;
                my ($s, $bd, $d) = call($who, $method, $path, $b,
                                        $who eq 'token' ? $token{$v} : undef);
                my $what = "$route, $kind $vis, $who";
                $cells++;
                is $s, $want, "$what: $want";
                if ($s >= 400) {
                    $refused++;
                    is row($v), $before, "$what: nothing changed" if $write;
                    like $bd, qr/^\{"success":false,"error":\{"message":"[^"]+","status":$want,"code":"[A-Z_]+"/,
                        "$what: an error envelope";
                    unlike $bd, qr/Matrix|exploded|\Q$v\E\/|default/, "$what: nothing of the video in it"
                        if $want == 404;
                } else {
                    fields_ok($who, $v, $d->{data}{video}, $what) if $d->{data}{video};
                    if ($pattern =~ /progress/) {
                        is exists $d->{data}{error} && defined $d->{data}{error},
                           !!$owner{$who}, "$what: the error text only for its account";
                    }
                }
                # a write that went through is undone for the next caller
                seed($kind, $vis) if $write && $s < 300;
            }
        }
    }
}

# -- routes without an id --------------------------------------------------------

sub listed {
    my ($who, $path) = @_;
    my (undef, undef, $d) = call($who, 'GET', $path, undef, $who eq 'token' ? $token{$id{VOD}{PRIVATE}} : undef);
    return join ' ', sort map { $_->{id} } @{$d->{data}{videos} // $d->{data}{streams} // []};
}

for my $who (@callers) {
    my @want = sort grep { $owner{$who} || /PUBLIC/ } map { values %$_ } values %id;
    @want = () if $who eq 'other';
    is listed($who, '/api/videos?limit=100'), "@want", "GET /api/videos, $who: " . scalar(@want) . ' of A\'s videos';
    $cells++;
    my @live = ($id{LIV}{PUBLIC});
    is listed($who, '/api/live/active'), "@live", "GET /api/live/active, $who: the PUBLIC stream alone";
    $cells++;
}

my %create = (anon => 401, token => 401, viewer => 403, editor => 201, admin => 201, other => 201);
for my $who (@callers) {
    my $n = psql('SELECT count(*) FROM uploads');
    my ($s) = call($who, 'POST', '/api/upload/presign', '{"fileName":"a.mp4","fileSize":10,"contentType":"video/mp4"}',
                   $who eq 'token' ? $token{$id{VOD}{PUBLIC}} : undef);
    is $s, $create{$who}, "POST /api/upload/presign, $who: $create{$who}";
    is psql('SELECT count(*) FROM uploads'), $n + ($s == 201 ? 1 : 0), '... recorded only when made';
    $n = psql('SELECT count(*) FROM videos');
    ($s) = call($who, 'POST', '/api/live/create', '{"title":"Matrix created"}');
    is $s, $create{$who}, "POST /api/live/create, $who: $create{$who}";
    is psql('SELECT count(*) FROM videos'), $n + ($s == 201 ? 1 : 0), '... made only when allowed';
    $n = psql('SELECT count(*) FROM videos');
    ($s, undef, my $d) = call($who, 'POST', '/api/upload/url', '{"url":"http://localhost:1/a.mp4","title":"Matrix fetched"}');
    is $s, $create{$who}, "POST /api/upload/url, $who: $create{$who}";
    is psql('SELECT count(*) FROM videos'), $n + ($s == 201 ? 1 : 0), '... made only when allowed';
    if ($s == 201) {
        my $vid = $d->{data}{video}{id};
        is psql("SELECT account_id FROM videos WHERE id = '$vid'"), $who eq 'editor' ? 'default' : 'acctB',
           '... in the caller\'s account';
        $cells++;
    }
    # no transcoder of a later suite is to take these jobs
    psql("DELETE FROM outbox WHERE payload->>'sourceUrl' IS NOT NULL");
    my %reset = (anon => 401, token => 401, viewer => 403, editor => 403, admin => 200, other => 403);
    ($s) = call($who, 'POST', '/api/analytics/reset/daily');
    is $s, $reset{$who}, "POST /api/analytics/reset/daily, $who: $reset{$who}";
    $cells += 4;
}

# the multipart upload routes: only editors and admins get past access
# (storage is not served to this nginx: a start that passes is a 503 and
# records nothing; an upload id no one presigned is a 404)
my %mp = (anon => 401, token => 401, viewer => 403, editor => 503, admin => 503, other => 503);
my %mpid = (%mp, editor => 404, admin => 404, other => 404);
for my $who (@callers) {
    my $n = psql('SELECT count(*) FROM uploads') . '/' . psql('SELECT used_bytes FROM accounts ORDER BY id');
    my $tok = $who eq 'token' ? $token{$id{VOD}{PUBLIC}} : undef;
    my ($s) = call($who, 'POST', '/api/upload/multipart',
                   '{"fileName":"a.mp4","fileSize":100000000,"contentType":"video/mp4"}', $tok);
    is $s, $mp{$who}, "POST /api/upload/multipart, $who: $mp{$who}";
    my $vod = $id{VOD}{PRIVATE};
    ($s) = call($who, 'GET', "/api/upload/$vod/parts", undef, $tok);
    is $s, $mpid{$who}, "GET /api/upload/:id/parts, $who: $mpid{$who}";
    ($s) = call($who, 'POST', "/api/upload/$vod/parts", '{"partNumbers":[1]}', $tok);
    is $s, $mpid{$who}, "POST /api/upload/:id/parts, $who: $mpid{$who}";
    ($s) = call($who, 'DELETE', "/api/upload/$vod", undef, $tok);
    is $s, $mpid{$who}, "DELETE /api/upload/:id, $who: $mpid{$who}";
    is psql('SELECT count(*) FROM uploads') . '/' . psql('SELECT used_bytes FROM accounts ORDER BY id'), $n,
        '... nothing recorded or held';
    $cells += 4;
}

# -- the webhook routes: the account's editors and admins ------------------------

# an endpoint of account A (the admin key is account B's: to it, A's
# endpoint is one that does not exist)
my $whid = 'mtxWEBHOOKXXXXXXXXXXX';
sub wh_seed {
    psql("DELETE FROM webhook_endpoints WHERE id = '$whid'");
    psql("INSERT INTO webhook_endpoints (id, account_id, url, secret_sealed) VALUES ('$whid', 'default', 'https://hooks.example.com/m', 'wk1.00000000.x')");
}
wh_seed();
my $wevt = psql("SELECT webhook_emit('default', 'webhook.test', '$whid', json_build_object('endpointId', '$whid', 'message', 'Test event'), '$whid')");
sub wh_row {
    return psql("SELECT md5(coalesce((SELECT row_to_json(e)::text FROM webhook_endpoints e WHERE id = '$whid'), '')"
                . " || (SELECT count(*) FROM webhook_deliveries) || '/' || (SELECT count(*) FROM webhook_events))");
}
my %wh_want = (anon => 401, token => 401, viewer => 403, editor => 200, admin => 404, other => 404);
for my $r (['GET', '/api/webhooks/:id', undef, 0], ['PATCH', '/api/webhooks/:id', '{"description":"matrix"}', 1],
           ['POST', '/api/webhooks/:id/rotate', '{}', 1], ['POST', '/api/webhooks/:id/test', undef, 1, 202],
           ['GET', '/api/webhooks/:id/deliveries', undef, 0],
           ['POST', '/api/webhooks/:id/redeliver', "{\"eventId\":\"$wevt\"}", 1, 202],
           ['DELETE', '/api/webhooks/:id', undef, 1]) {
    my ($method, $pattern, $body, $write, $ok) = @$r;
    (my $path = $pattern) =~ s/:id/$whid/;
    for my $who (@callers) {
        my $want = $wh_want{$who};
        $want = $ok if $want == 200 && $ok;
        my $before = wh_row();
        my ($s, $bd) = call($who, $method, $path, $body, $who eq 'token' ? $token{$id{VOD}{PUBLIC}} : undef);
        is $s, $want, "$method $pattern, $who: $want";
        $cells++;
        if ($s >= 400) {
            $refused++;
            is wh_row(), $before, "$method $pattern, $who: nothing changed";
            unlike $bd, qr/hooks\.example\.com/, "$method $pattern, $who: nothing of the endpoint in the answer";
        }
        wh_seed() if $write && $s < 300;
    }
}

my %wh_create = (anon => 401, token => 401, viewer => 403, editor => 201, admin => 201, other => 201);
for my $who (@callers) {
    my $tok = $who eq 'token' ? $token{$id{VOD}{PUBLIC}} : undef;
    my $n = psql('SELECT count(*) FROM webhook_endpoints');
    my ($s, undef, $d) = call($who, 'POST', '/api/webhooks', '{"url":"https://hooks.example.com/made"}', $tok);
    is $s, $wh_create{$who}, "POST /api/webhooks, $who: $wh_create{$who}";
    is psql('SELECT count(*) FROM webhook_endpoints'), $n + ($s == 201 ? 1 : 0), '... made only when allowed';
    if ($s == 201) {
        is psql("SELECT account_id FROM webhook_endpoints WHERE id = '$d->{data}{endpoint}{id}'"),
           $who eq 'editor' ? 'default' : 'acctB', '... in the caller\'s account';
    }
    my $mine = $who eq 'editor' ? 'default' : 'acctB';
    my $want = $wh_create{$who} == 201 ? 200 : $wh_create{$who};
    ($s, undef, $d) = call($who, 'GET', '/api/webhooks', undef, $tok);
    is $s, $want, "GET /api/webhooks, $who: $want";
    if ($s == 200) {
        my $ids = join ' ', sort map { $_->{id} } @{$d->{data}{endpoints}};
        is $ids, psql("SELECT string_agg(id, ' ' ORDER BY id COLLATE \"C\") FROM webhook_endpoints WHERE account_id = '$mine'"),
           '... its account\'s endpoints alone';
    }
    ($s, undef, $d) = call($who, 'GET', '/api/webhooks/events?limit=100', undef, $tok);
    is $s, $want, "GET /api/webhooks/events, $who: $want";
    if ($s == 200) {
        is join(' ', grep { $_ ne $mine } map { $_->{accountId} } @{$d->{data}{events}}), '', '... its account\'s events alone';
    }
    $cells += 3;
}

diag "$cells cells of the matrix, $refused refusals checked for no change";
redis_cli('DEL', 'views:loaded');

done_testing;
