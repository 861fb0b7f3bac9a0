# The page's webhooks view (#/webhooks) in headless Chromium, driven by
# t/web/webhooks.mjs through playwright-core, against an nginx that
# serves the page and the API (webhooks configured as the tests configure
# them: loopback addresses allowed, http:// allowed), with the webhook
# delivery worker running when this build has one.  An editor adds an
# endpoint pointing at a receiver the script runs, reads its secret once,
# sends a test event and sees it delivered, disables, rotates, deletes;
# a viewer and an anonymous visitor see a note and no controls; markup in
# a description reads as text.
#
# Each script line {"ok", "name", "diag", "todo"?} becomes an ok() here.
# Screenshots go to t/servroot-webhooks/artifacts/.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO};
need_browsers('playwright-core');

my $dir = "$ENV{PWD}/t/servroot-webhooks";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 92;
my $receiver = $port + 1;
my $artifacts = "$dir/artifacts";
my $webhook_key = 'web-suite-webhook-key-0123456789';
# the delivery worker, where this build has one
my $worker = -f 'workers/worker_webhook.c' ? 1 : 0;
my $pid;

END {
    kill 'TERM', $pid if $pid;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $artifacts;

# signing in lands on the library: no video of another suite's, whose
# thumbnails this nginx does not serve
psql('TRUNCATE videos, webhook_endpoints, webhook_events CASCADE');

my %key;
for my $role (qw(editor viewer)) {
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    chomp($key{$role} = qx{build/video-worker keys create --account default --role $role --name web-webhooks-$role 2>/dev/null});
    die "no $role key made" unless $key{$role} =~ /^vapi_/;
}

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_public_url http://127.0.0.1:$port;
    video_api_auth on;
    video_api_webhooks key=$webhook_key allow=127.0.0.0/8 allow_http=on;
    include /etc/nginx/mime.types;
CONF
${\ page_locations(page_csp())}
SERVER

wait_for(15, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die('nginx is not healthy: ' . join(' ', http_request($port, 'GET', '/health')));

if ($worker) {
    $pid = worker_start($dir, 'webhook', worker_env($dir, $port, 'http://127.0.0.1:9',
        VIDEO_WORKER_WEBHOOK_KEY => $webhook_key,
        VIDEO_WORKER_WEBHOOK_ALLOW => '127.0.0.0/8',
        VIDEO_WORKER_WEBHOOK_ALLOW_HTTP => 'on',
        VIDEO_WORKER_WEBHOOK_POLL_SECONDS => 1,
        # a receiver that is down: two attempts 6 s apart (the page sees
        # the retry coming), then the endpoint is disabled
        VIDEO_WORKER_WEBHOOK_BACKOFF => '6s',
        VIDEO_WORKER_WEBHOOK_JITTER => 0,
        VIDEO_WORKER_WEBHOOK_DISABLE_AFTER => 1));
}

browser_suite('t/web/webhooks.mjs', deadline => 70, least => 21, artifacts => $artifacts,
              env => {BASE_URL => "http://127.0.0.1:$port", EDITOR_KEY => $key{editor},
                      VIEWER_KEY => $key{viewer}, RECEIVER_PORT => $receiver,
                      WORKER => $worker, ARTIFACTS => $artifacts});

my $logs = join '', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob "$dir/logs/*.log";
unlike $logs, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed nginx worker';

done_testing();
