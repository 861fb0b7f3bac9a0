# The web page (www/) in real browsers: headless Chromium, driven by
# t/web/browser.mjs through playwright-core, then Firefox ESR, driven by
# t/web/firefox.mjs through puppeteer-core over WebDriver BiDi, against an
# nginx that serves the page, the API, /play/, the local object store and RTMP ingest, with
# the relay, transcode and analytics workers running.  Multipart upload
# with progress, cancelled (nothing left in storage), and resumed after a
# reload (Chromium) or a lost connection (Firefox, through t/web/proxy.mjs)
# with only the missing parts sent (the store's access log counts them);
# the library (search, filters, cursor paging), watching with
# the quality ladder and one view per play, renaming, an invalid file,
# a live stream that turns into its VOD, a phone-width layout, keyboard
# access, the page served from another origin calling the API through
# CORS; with access control on: signing in through make run's link and
# the form, anonymous visitors and a viewer, and the page's
# Content-Security-Policy (no inline script).
#
# Each script prints one JSON line per assertion, {"ok", "name", "diag"};
# each becomes an ok() here.  Screenshots go to t/servroot-web/artifacts/.
#
# Not run under memcheck: a browser session against valgrind's nginx
# would take far longer than the page's own timeouts.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_AMQP_PORT};
# scripts/deps.sh installs both, so under make test this suite runs
need_browsers(qw(firefox playwright-core puppeteer-core hls.js));

my $dir = "$ENV{PWD}/t/servroot-web";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 90;
my $rtmp = $port + 1;
my $store = $port + 2;
my $other = $port + 3;
# Firefox's HTTP proxy (t/web/proxy.mjs): it throttles and cuts part
# uploads, as Chromium's network emulation does
my $proxy = $port + 4;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my $hls = "$dir/hls";
my $rec = "$dir/rec";
my $artifacts = "$dir/artifacts";
my @workers;

END {
    kill 'TERM', @workers;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $_ for $data, $hls, $rec, $artifacts;
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
system('chown', '-R', 'nobody', $data, $hls, $rec) if $> == 0;

# the library's paging and counts assume only this suite's videos, the
# check of pending uploads at the end only its uploads
psql('TRUNCATE videos, outbox, uploads CASCADE');
system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");
system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
    for qw(video-transcode video-cleanup);

# the page signs in with these: an admin, as make run's link does, and a
# viewer pasted into the form
my %key;
for my $k (['admin', 'admin'], ['viewer', 'viewer']) {
    local $ENV{VIDEO_WORKER_CONF} = "$ENV{PWD}/conf/worker.conf";
    local $ENV{VIDEO_WORKER_POSTGRES} = $ENV{TEST_NGINX_PG_CONNINFO};
    chomp($key{$k->[0]} = qx{build/video-worker keys create --account default --role $k->[1] --name web-$k->[0] 2>/dev/null});
    die "no $k->[0] key made" unless $key{$k->[0]} =~ /^vapi_/;
}

# the page as conf/nginx.conf serves it, with this stack's storage
my $page = page_locations(page_csp($endpoint), hls => '/vendor/hls.js/');

# another origin serving the same page, whose config.js points at the API
# on the first server: every API call, upload and play is then a CORS
# request
my $other_origin = <<"CONF";
    server {
        listen 127.0.0.1:$other;
${\ page_locations(page_csp($endpoint, "http://127.0.0.1:$port"), hls => '/vendor/hls.js/')}
        location = /config.js {
            default_type application/javascript;
            return 200 'export const apiBase = "http://127.0.0.1:$port";\\n';
        }
    }
CONF

# the store as store_server makes it, logging each request: the part
# PUTs storage received, to count them across an interrupted upload
my $store_log = "$dir/logs/store-access.log";
my $store_format = q{    log_format store '$msec $request_method $uri $arg_partNumber $arg_uploadId $status';};
my $store_server = <<"CONF";
    server {
        listen 127.0.0.1:$store;
        root $data;
        client_max_body_size 500m;
        client_body_temp_path $data/.incoming;
        access_log $store_log store;
        location / {
            video_api_store on;
        }
    }
CONF

# two nginx workers, as in production: the page's requests, nginx-rtmp's
# callbacks and the drop of a publisher land on either
nginx_start($dir, $port, <<"CONF", <<"SERVER", workers => 2, main_log_level => 'notice', http_first => $store_format, main => <<"MAIN");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=4 timeout=5s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    video_api_rtmp_url rtmp://127.0.0.1:$rtmp/live;
    video_api_live_record_path $rec;
    video_api_live_relay_secret $VideoApi::RELAY_SECRET;
    video_api_cors *;
    video_api_auth on;
    include /etc/nginx/mime.types;
$store_server
$other_origin
CONF
$page
        location /live/ { video_api play; }
        location /_video_api/rtmp/ { internal; rtmp_control all; }
${\ callbacks_location()}        location /_video_api/live/ {
            internal;
            alias $hls/;
            types {
                application/vnd.apple.mpegurl m3u8;
                video/mp2t ts;
            }
        }
${\ media_locations($data, $endpoint, json_404 => 1)}
SERVER
${\ rtmp_block($rtmp, $port, $hls, $rec)}
MAIN

# views need Redis: wait until the nginx workers are connected
wait_for(30, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die('nginx is not healthy: ' . join(' ', http_request($port, 'GET', '/health')));

# the workers as make run starts them; analytics rolls views up (and
# keeps the id set views are checked against).  The transcoder encodes
# slower than it would in production: at its default settings a 5 s clip
# is done in under 2 s, before the page's once-a-second poll of the
# progress can see it move; with these it takes about 8 s.
# One run per video: its progress moves every second, which the page's
# bar is checked to follow; in chunks it moves a piece at a time, and a
# short clip's two pieces can both end between two polls (t/093 and
# t/094 play videos transcoded in chunks).
my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_RECORD_PATH => $rec,
                     VIDEO_WORKER_ANALYTICS_INTERVAL => 2,
                     VIDEO_WORKER_PRESET => 'slower',
                     VIDEO_WORKER_ENCODER_THREADS => 1,
                     VIDEO_WORKER_CHUNK_SECONDS => 0);
push @workers, worker_start($dir, $_, %env) for qw(relay transcode analytics);

# -- the browser suite --------------------------------------------------------

my %browser_env = (
    BASE_URL => "http://127.0.0.1:$port",
    OTHER_ORIGIN_URL => "http://127.0.0.1:$other",
    RTMP_URL => "rtmp://127.0.0.1:$rtmp/live",
    ARTIFACTS => $artifacts,
    API_KEY => $key{admin},
    VIEWER_KEY => $key{viewer},
    STORE_LOG => $store_log,
    STORE_URL => $endpoint,
    PROXY_PORT => $proxy,
);

# Chromium, every flow; then Firefox, the main ones
browser_suite('t/web/browser.mjs', deadline => 330, least => 1,
              env => \%browser_env, artifacts => $artifacts);
browser_suite('t/web/firefox.mjs', deadline => 240, least => 1,
              env => \%browser_env, artifacts => $artifacts);

# every upload either completed or was cancelled: no pending uploads row,
# nothing left in the store's multipart area
is psql('SELECT count(*) FROM uploads WHERE completed_at IS NULL'), 0,
   'no upload left pending in the uploads table';
my @left = glob("$data/.uploads/*");
is scalar(@left), 0, "no multipart upload left in storage (@left)";

my $logs = join '', map { do { local (@ARGV, $/) = ($_); <> } // '' } glob "$dir/logs/*.log";
unlike $logs, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed nginx worker';

done_testing();
