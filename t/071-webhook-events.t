# Webhook events are written by PostgreSQL in the transaction of the
# change that causes them (conf/sql/0015_webhooks.sql): an upload through
# the API to READY by the real workers gives video.created,
# video.upload.completed, video.processing, video.playable (its first
# chunk done, still PROCESSING) and video.ready, numbered 1..5 for the
# video, each with the video object as its owner sees it (the
# ladder included, no URL that carries a token); a PATCH that changes
# something gives video.updated, one that changes nothing or is refused
# none; a rolled-back change none, and no gap in the numbers; progress and
# view counts none; DELETE video.deleted; a live stream's create, publish
# and unpublish give live.created, live.started and live.ended; each event
# belongs to its video's account; deliveries are written only for the
# account's enabled endpoints that want the type, and the webhook worker
# sends the upload's five, in order of their numbers, each verified by the
# standardwebhooks package (a receiver in node, t/webhook/receiver.mjs).
# Real nginx, PostgreSQL, RabbitMQ, video-worker and ffmpeg.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-webhook-events";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 117;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;
my $rport = $port + 2;     # the receiver
my $wkey = 'webhook-key-of-t071-0123456789abcdef';

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
    # the other account goes with its endpoint (suites delete accounts)
    if ($ENV{TEST_NGINX_PG_CONNINFO}) {
        psql("DELETE FROM webhook_endpoints WHERE account_id = 'hookother'");
        psql("DELETE FROM accounts WHERE id = 'hookother'");
    }
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
system('chown', '-R', 'nobody', $data) if $> == 0;

psql('TRUNCATE videos, outbox, webhook_endpoints, webhook_events, '
     . 'webhook_sequences CASCADE');
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
${\ callbacks_location()}
${\ probe_location($endpoint)}
SERVER
wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

my %env = worker_env($dir, $port, $endpoint,
    VIDEO_WORKER_WEBHOOK_KEY => $wkey,
    VIDEO_WORKER_WEBHOOK_ALLOW => '127.0.0.0/8',
    VIDEO_WORKER_WEBHOOK_ALLOW_HTTP => 'on',
    VIDEO_WORKER_WEBHOOK_POLL_SECONDS => 1);
$workers{$_} = worker_start($dir, $_, %env) for qw(relay transcode webhook);

# the receiver, verifying with the endpoint's secret
my $have_node = system('node -e "require(\'standardwebhooks\')" 2>/dev/null') == 0;
my $secret = 'whsec_' . MIME::Base64::encode_base64(join('', map { chr int rand 256 } 1 .. 24), '');
if ($have_node) {
    open my $fh, '>', "$dir/control.json" or die $!;
    print $fh JSON::PP->new->encode({ secrets => { '/hooks' => [$secret] }, paths => {} });
    close $fh;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>>', "$dir/logs/receiver.log";
        exec 'node', 't/webhook/receiver.mjs', '--port', $rport, '--log', "$dir/receiver.jsonl",
             '--control', "$dir/control.json", '--ready', "$dir/receiver.ready"
            or POSIX::_exit(127);
    }
    $workers{receiver} = $pid;
    wait_for(10, sub { -e "$dir/receiver.ready" }) or die "the receiver did not start\n";
}

sub sealed {
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_WEBHOOK_KEY} = $wkey;
    my $bin = $ENV{VIDEO_API_TEST_WORKER} // 'build/video-worker';
    my $out = qx{echo '$secret' | $bin webhooks seal};
    chomp $out;
    die "webhooks seal failed\n" unless $? == 0 && $out =~ /\Awk1\./;
    return $out;
}

# what the receiver logged
sub received {
    my @r;
    open my $fh, '<', "$dir/receiver.jsonl" or return @r;
    while (my $l = <$fh>) {
        next unless $l =~ /\n\z/;
        push @r, JSON::PP->new->decode($l);
    }
    return @r;
}

my $json = JSON::PP->new;

# the events of an object: [type, sequence, account, data], in order
sub events_of {
    my ($id) = @_;
    my @rows = split /\n/, psql(
        "SELECT type || '|' || sequence || '|' || account_id || '|' || e.data::text"
        . " FROM webhook_events e WHERE object_id = '$id' ORDER BY n");
    return map { my @f = split /\|/, $_, 4; $f[3] = $json->decode($f[3]); \@f } @rows;
}

sub types_of { return join ' ', map { $_->[0] } events_of(@_) }
sub seqs_of { return join ' ', map { $_->[1] } events_of(@_) }

# -- an upload to READY ------------------------------------------------------

# two endpoints of the default account: one wants everything, one only
# video.ready; one of another account wants everything
psql("INSERT INTO accounts (id, name) VALUES ('hookother', 'other')"
     . " ON CONFLICT DO NOTHING");
psql(qq{INSERT INTO webhook_endpoints (id, account_id, url, secret_sealed, event_types)
       VALUES ('hookallhookallhookall', 'default', 'http://127.0.0.1:$rport/hooks', '${\ sealed()}', '{}'),
              ('hookreadyhookreadyhoo', 'default', 'https://b.example/', 'x', '{video.ready}'),
              ('hookoffhookoffhookoff', 'default', 'https://c.example/', 'x', '{}'),
              ('hookotherhookotherhoo', 'hookother', 'https://d.example/', 'x', '{}')});
psql("UPDATE webhook_endpoints SET enabled = false WHERE id = 'hookoffhookoffhookoff'");

my $clip = "$dir/clip.mp4";
system('ffmpeg', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=30',
       '-f', 'lavfi', '-i', 'sine=duration=2',
       '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
       '-c:a', 'aac', $clip) == 0 or die "ffmpeg failed";

my $size = -s $clip;
my ($s, $b) = http_request($port, 'POST', '/api/upload/presign',
    qq({"fileName": "clip.mp4", "fileSize": $size, "contentType": "video/mp4"}));
is $s, 201, 'presign';
my ($url) = $b =~ /"uploadUrl":"([^"]+)"/;
my ($key) = $b =~ /"key":"([^"]+)"/;
my ($id) = $key =~ m{^([^/]+)/};
is types_of($id), '', 'a presigned upload is not yet a video: no event';
($s) = curl('-X', 'PUT', '--upload-file', $clip, '-H', 'Content-Type: video/mp4',
            '-H', 'If-None-Match: *', $url);
like $s, qr/^20[01]$/, 'PUT';
($s, $b) = http_request($port, 'POST', "/api/upload/$id/complete",
                        qq({"key": "$key", "title": "Hooked"}));
is $s, 201, 'complete';

ok wait_for(120, sub { psql("SELECT status FROM videos WHERE id = '$id'") =~ /READY|FAILED/ }),
    'the workers make it READY';
is psql("SELECT status FROM videos WHERE id = '$id'"), 'READY', 'READY';

is types_of($id), 'video.created video.upload.completed video.processing'
    . ' video.playable video.ready',
    'created, upload completed, processing, playable, ready: in that order';
is seqs_of($id), '1 2 3 4 5', 'numbered 1..5 for the video';
my @ev = events_of($id);
is_deeply [map { $_->[2] } @ev], [('default') x 5], 'each of the video\'s account';
is_deeply [map { $_->[3]{status} } @ev], [qw(PENDING PENDING PROCESSING PROCESSING READY)],
    'each with the video as it was then';
is $ev[2][3]{playableAt}, undef, 'video.processing\'s video does not play yet';
like $ev[3][3]{playableAt} // '', qr/\A\d{4}-\d\d-\d\dT/,
    'video.playable\'s video plays, since playableAt';
ok defined $ev[3][3]{hlsManifestKey}, 'and has its manifest key';
is psql("SELECT count(*) FROM webhook_events WHERE object_id = '$id'"
        . " AND type = 'video.playable'"), 1, 'video.playable comes once';
is $ev[0][3]{id}, $id, 'the data is the video object';
is $ev[0][3]{title}, 'Hooked', 'with its title';
ok scalar @{$ev[4][3]{variants}} >= 1, 'video.ready carries the ladder';
ok defined $ev[4][3]{hlsManifestKey}, 'and the manifest key';
my $ready_text = psql("SELECT e.data::text FROM webhook_events e WHERE object_id = '$id'"
                      . " AND type = 'video.ready'");
unlike $ready_text, qr{/play/|https?://}, 'no URL, so no play token, in the stored event';
is $ev[4][3]{playbackUrl}, undef, 'URL fields are filled only when an event is sent';

my @ids = split /\n/, psql("SELECT id FROM webhook_events WHERE object_id = '$id'");
is scalar(grep { /\Aevt_[0-9a-f]{32}\z/ } @ids), 5, 'event ids are evt_ and 32 hex digits';

# deliveries: the all-types endpoint gets the five, the ready-only one
# one, the disabled one and the other account's none
is psql("SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e ON e.n = d.event_n"
        . " WHERE e.object_id = '$id' AND d.endpoint_id = 'hookallhookallhookall'"), 5,
    'an endpoint that wants every type gets a delivery of each';
is psql("SELECT string_agg(e.type, ' ') FROM webhook_deliveries d"
        . " JOIN webhook_events e ON e.n = d.event_n"
        . " WHERE e.object_id = '$id' AND d.endpoint_id = 'hookreadyhookreadyhoo'"),
    'video.ready', 'one that wants video.ready gets that one';
is psql("SELECT count(*) FROM webhook_deliveries"
        . " WHERE endpoint_id IN ('hookoffhookoffhookoff', 'hookotherhookotherhoo')"), 0,
    'a disabled endpoint and another account\'s get none';

SKIP: {
    skip 'node or standardwebhooks missing (npm install)', 9 unless $have_node;
    ok wait_for(20, sub { (grep { $_->{path} eq '/hooks' } received()) >= 5 }),
        'the worker delivers the five events to the receiver';
    my @got = sort { $::a->{sequence} <=> $::b->{sequence} }
              map { JSON::PP->new->decode($_->{body}) } grep { $_->{path} eq '/hooks' } received();
    is join(' ', map { $_->{type} } @got),
        'video.created video.upload.completed video.processing video.playable'
        . ' video.ready',
        'ordered by their numbers, they are the upload\'s story';
    is scalar(grep { $_->{verified} } received()), scalar(received()),
        'standardwebhooks verifies every one with the endpoint\'s secret';
    is_deeply [sort map { $_->{headers}{'webhook-id'} } grep { $_->{path} eq '/hooks' } received()],
        [sort @ids], 'each webhook-id is its event\'s id';
    is join(' ', map { $_->{objectId} } @got), join(' ', ($id) x 5), 'about the video';
    is $got[3]{data}{playbackUrl}, "http://127.0.0.1:$port/play/$id/master.m3u8",
        'video.playable\'s playback URL is filled in';
    is $got[4]{data}{status}, 'READY', 'video.ready\'s video is READY';
    is $got[4]{data}{playbackUrl}, "http://127.0.0.1:$port/play/$id/master.m3u8",
        'its playback URL is filled in, with no token';
    unlike join('', map { $_->{body} } received()), qr/token=|\/play\/[^"\/]+\/[^"\/]{20,}\//,
        'no delivery carries a play token';
}

# -- changes that are and are not events -------------------------------------

psql("UPDATE videos SET transcoding_progress = 50, views_total = views_total + 7 WHERE id = '$id'");
is seqs_of($id), '1 2 3 4 5', 'progress and view counts are no event';

($s) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": ""}');
is $s, 400, 'a refused PATCH';
is seqs_of($id), '1 2 3 4 5', 'is no event';

($s) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": "Hooked"}');
is $s, 200, 'a PATCH that changes nothing';
is seqs_of($id), '1 2 3 4 5', 'is no event';

psql("BEGIN; UPDATE videos SET title = 'Rolled back', status = 'FAILED' WHERE id = '$id'; ROLLBACK");
is seqs_of($id), '1 2 3 4 5', 'a change rolled back leaves no event';
is psql("SELECT count(*) FROM webhook_deliveries d JOIN webhook_events e ON e.n = d.event_n"
        . " WHERE e.object_id = '$id'"), 6, 'and no delivery';

($s, $b) = http_request($port, 'PATCH', "/api/videos/$id",
                        '{"title": "Renamed", "visibility": "PUBLIC"}');
is $s, 200, 'a PATCH that renames';
is types_of($id), 'video.created video.upload.completed video.processing video.playable'
    . ' video.ready video.updated', 'is video.updated';
is seqs_of($id), '1 2 3 4 5 6', 'numbered 6: the rolled-back change took no number';
@ev = events_of($id);
is $ev[5][3]{title}, 'Renamed', 'with the new title';
is $ev[5][3]{visibility}, 'PUBLIC', 'and visibility';

($s) = http_request($port, 'DELETE', "/api/videos/$id");
is $s, 200, 'DELETE';
@ev = events_of($id);
is $ev[-1][0], 'video.deleted', 'is video.deleted';
is $ev[-1][1], 7, 'numbered 7';
is $ev[-1][3]{id}, $id, 'with the video as it was';

# a failed transcode
psql("INSERT INTO videos (id, title, original_key) VALUES"
     . " ('hookfailhookfailhookf', 'Broken', 'hookfailhookfailhookf/original.mp4')");
psql("UPDATE videos SET status = 'PROCESSING' WHERE id = 'hookfailhookfailhookf'");
psql("UPDATE videos SET status = 'FAILED', processing_error = 'not a video'"
     . " WHERE id = 'hookfailhookfailhookf'");
is types_of('hookfailhookfailhookf'),
    'video.created video.upload.completed video.processing video.failed',
    'a failed transcode ends with video.failed';
is((events_of('hookfailhookfailhookf'))[-1][3]{status}, 'FAILED', 'whose video is FAILED');

# transcoded in one run: playable as it turns READY, the event just before
# video.ready; never a second time
psql("INSERT INTO videos (id, title, original_key) VALUES"
     . " ('hookonehookonehookone', 'One run', 'hookonehookonehookone/original.mp4')");
psql("UPDATE videos SET status = 'PROCESSING' WHERE id = 'hookonehookonehookone'");
psql("UPDATE videos SET status = 'READY', playable_at = clock_timestamp(),"
     . " hls_manifest_key = 'hookonehookonehookone/master.m3u8'"
     . " WHERE id = 'hookonehookonehookone'");
is types_of('hookonehookonehookone'),
    'video.created video.upload.completed video.processing video.playable video.ready',
    'a video transcoded in one run: video.playable, then video.ready';
psql("UPDATE videos SET playable_at = clock_timestamp() WHERE id = 'hookonehookonehookone'");
is seqs_of('hookonehookonehookone'), '1 2 3 4 5', 'a later playable_at is no event';

# an upload from a URL: completed once fetched
psql("INSERT INTO videos (id, title, source_url) VALUES"
     . " ('hookurlhookurlhookurl', 'From a URL', 'https://example.com/a.mp4')");
is types_of('hookurlhookurlhookurl'), 'video.created',
    'a video from a URL is created with nothing uploaded yet';
psql("UPDATE videos SET fetched_at = now(), original_key = 'hookurlhookurlhookurl/original.mp4'"
     . " WHERE id = 'hookurlhookurlhookurl'");
is types_of('hookurlhookurlhookurl'), 'video.created video.upload.completed',
    'its upload completes when the source is fetched';

# -- live ----------------------------------------------------------------------

sub callback {
    my ($path, $body) = @_;
    return curl('-X', 'POST', '--data-binary', $body, '-H',
                'Content-Type: application/x-www-form-urlencoded',
                "http://127.0.0.1:$port$path");
}

($s, $b) = http_request($port, 'POST', '/api/live/create', '{"title": "Hooked live"}');
is $s, 201, 'live create';
my ($lid) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my ($lkey) = $b =~ /"streamKey":"([^"]+)"/;
is types_of($lid), 'live.created', 'is live.created';

($s) = callback('/api/live/verify', "app=live&addr=127.0.0.1&clientid=5&call=publish&name=$lkey&type=live");
like $s, qr/^30\d$/, 'a publisher is accepted';
is types_of($lid), 'live.created live.started', 'live.started';
my $started = (events_of($lid))[-1][3];
is $started->{isLiveNow}, JSON::PP::true, 'with the stream live';
unlike psql("SELECT e.data::text FROM webhook_events e WHERE object_id = '$lid'"), qr/\Q$lkey\E/,
    'no event carries the stream key';

($s) = callback('/api/live/unpublish', "app=live&addr=127.0.0.1&clientid=5&call=publish_done&name=$lkey");
is $s, 200, 'the publisher leaves';
like types_of($lid), qr/\Alive\.created live\.started live\.ended\b/, 'live.ended';
is seqs_of($lid) =~ /\A1 2 3/ ? 1 : 0, 1, 'numbered in order';

# a recording transcoded: live.recording.ready, not video.ready
psql("UPDATE videos SET status = 'PROCESSING', original_key = '$lid/recording.flv'"
     . " WHERE id = '$lid'");
psql("UPDATE videos SET status = 'READY', hls_manifest_key = '$lid/master.m3u8',"
     . " playable_at = clock_timestamp() WHERE id = '$lid'");
is((events_of($lid))[-1][0], 'live.recording.ready', 'a recording made READY is live.recording.ready');
unlike types_of($lid), qr/video\.playable/, 'and no video.playable';

done_testing;
