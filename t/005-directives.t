# Directives: a full valid configuration starts; every bad argument stops
# nginx at startup (and `nginx -t`) with a message naming the directive and
# the value.

use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: every directive with valid arguments
--- http_config
    video_api_postgres "host=127.0.0.1 port=5432 dbname=video user=video" pool=4 queue=100 timeout=3s;
    video_api_redis 127.0.0.1:6379 db=2 password=secret timeout=500ms;
    video_api_storage endpoint=http://127.0.0.1:9000 region=eu-west-1
                      access_key=ak secret_key=sk bucket_raw=raw.videos
                      bucket_processed=processed bucket_thumbnails=thumbs
                      path_style=off presign_expires=2h
                      public_endpoint=https://media.example.com
                      max_upload=100g multipart_expires=2d;
    video_api_public_url https://videos.example.com/;
    video_api_playback secret=play-secret expires=12h cache=250ms
                       root=store/ live_root=/var/lib/video-api/live;
    video_api_cors https://a.example.com http://b.example.com:3000 credentials=on max_age=1h;
    video_api_max_body_size 128k;
    video_api_idempotency_ttl 2h;
--- config
    location / { video_api videos upload analytics live health play; }
--- request
GET /api/nope
--- error_code: 404
--- response_body_like: "code":"NOT_FOUND"
--- no_error_log
[emerg]



=== TEST 2: an unknown area
--- config
    location / { video_api videos films; }
--- must_die
--- error_log
video_api: unknown area "films" in "video_api", expected videos, upload, analytics, live, live_callbacks, health, play, access, webhooks or all



=== TEST 3: video_api outside a location
--- http_config
    video_api all;
--- config
--- must_die
--- error_log
"video_api" directive is not allowed here



=== TEST 4: a pool size that is not a number
--- http_config
    video_api_postgres "host=127.0.0.1" pool=abc;
--- config
--- must_die
--- error_log
video_api: invalid "pool" value "abc" in "video_api_postgres", expected 1..1024



=== TEST 5: a pool size out of range
--- http_config
    video_api_postgres "host=127.0.0.1" pool=0;
--- config
--- must_die
--- error_log
video_api: invalid "pool" value "0" in "video_api_postgres", expected 1..1024



=== TEST 6: a connection string libpq cannot parse
--- http_config
    video_api_postgres "host=127.0.0.1 bogus=1";
--- config
--- must_die
--- error_log
video_api: invalid connection string "host=127.0.0.1 bogus=1" in "video_api_postgres": invalid connection option "bogus"



=== TEST 7: a bad timeout
--- http_config
    video_api_postgres "host=127.0.0.1" timeout=soon;
--- config
--- must_die
--- error_log
video_api: invalid "timeout" value "soon" in "video_api_postgres"



=== TEST 8: an unknown parameter
--- http_config
    video_api_postgres "host=127.0.0.1" size=3;
--- config
--- must_die
--- error_log
video_api: unknown parameter "size" in "video_api_postgres"



=== TEST 9: a parameter given twice
--- http_config
    video_api_redis 127.0.0.1:6379 db=1 db=2;
--- config
--- must_die
--- error_log
video_api: duplicate parameter "db" in "video_api_redis"



=== TEST 10: a parameter without a value
--- http_config
    video_api_redis 127.0.0.1:6379 password;
--- config
--- must_die
--- error_log
video_api: invalid parameter "password" in "video_api_redis", expected name=value



=== TEST 11: a redis address with a bad port
--- http_config
    video_api_redis 127.0.0.1:99999;
--- config
--- must_die
--- error_log
video_api: invalid address "127.0.0.1:99999" in "video_api_redis": invalid port



=== TEST 12: a redis db out of range
--- http_config
    video_api_redis 127.0.0.1 db=-1;
--- config
--- must_die
--- error_log
video_api: invalid "db" value "-1" in "video_api_redis", expected 0..65535



=== TEST 13: storage without its keys
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000;
--- config
--- must_die
--- error_log
video_api: "video_api_storage" requires "endpoint", "access_key" and "secret_key"



=== TEST 14: a storage endpoint that is not an http URL
--- http_config
    video_api_storage endpoint=s3.example.com access_key=a secret_key=b;
--- config
--- must_die
--- error_log
video_api: invalid endpoint "s3.example.com" in "video_api_storage", expected http:// or https:// URL



=== TEST 15: a storage endpoint with a path
--- http_config
    video_api_storage endpoint=http://s3.example.com/x access_key=a secret_key=b;
--- config
--- must_die
--- error_log
video_api: invalid endpoint "http://s3.example.com/x" in "video_api_storage", expected scheme://host[:port] with no path



=== TEST 16: a bucket name S3 would refuse
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b bucket_raw=Raw_Videos;
--- config
--- must_die
--- error_log
video_api: invalid "bucket_raw" value "Raw_Videos" in "video_api_storage", expected 3..63 of a-z, 0-9, '-' and '.'



=== TEST 17: path_style takes on or off
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b path_style=yes;
--- config
--- must_die
--- error_log
video_api: invalid "path_style" value "yes" in "video_api_storage"



=== TEST 18: presigned URLs live at most 7 days
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b presign_expires=8d;
--- config
--- must_die
--- error_log
video_api: invalid "presign_expires" value "8d" in "video_api_storage"



=== TEST 18a1: max_upload is a size from 1 byte to 5 TiB
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b max_upload=6t;
--- config
--- must_die
--- error_log
video_api: invalid "max_upload" value "6t" in "video_api_storage"



=== TEST 18a2: max_upload must be a size
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b max_upload=lots;
--- config
--- must_die
--- error_log
video_api: invalid "max_upload" value "lots" in "video_api_storage"



=== TEST 18a3: a multipart upload lives 1 hour to 30 days
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b multipart_expires=10m;
--- config
--- must_die
--- error_log
video_api: invalid "multipart_expires" value "10m" in "video_api_storage"



=== TEST 18a4: public_endpoint is an http(s) URL without a path
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b public_endpoint=ftp://media.example.com;
--- config
--- must_die
--- error_log
video_api: invalid public_endpoint "ftp://media.example.com" in "video_api_storage", expected http:// or https:// URL



=== TEST 18a5: public_endpoint takes no path
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b public_endpoint=https://media.example.com/store;
--- config
--- must_die
--- error_log
video_api: invalid public_endpoint "https://media.example.com/store" in "video_api_storage", expected scheme://host[:port] with no path



=== TEST 18b: playback tokens live at least a minute
--- http_config
    video_api_playback expires=30s;
--- config
--- must_die
--- error_log
video_api: invalid "expires" value "30s" in "video_api_playback"



=== TEST 18c: playback tokens live at most 7 days
--- http_config
    video_api_playback secret=s expires=8d;
--- config
--- must_die
--- error_log
video_api: invalid "expires" value "8d" in "video_api_playback"



=== TEST 18d: an empty playback secret
--- http_config
    video_api_playback secret=;
--- config
--- must_die
--- error_log
video_api: invalid "secret" value "" in "video_api_playback"



=== TEST 18d2: a node trusts what allowed a video for at most a minute
--- http_config
    video_api_playback cache=61s;
--- config
--- must_die
--- error_log
video_api: invalid "cache" value "61s" in "video_api_playback"



=== TEST 18d3: the play cache's bound is a time
--- http_config
    video_api_playback cache=-1;
--- config
--- must_die
--- error_log
video_api: invalid "cache" value "-1" in "video_api_playback"



=== TEST 18d4: the play cache's bound is not a word
--- http_config
    video_api_playback cache=forever;
--- config
--- must_die
--- error_log
video_api: invalid "cache" value "forever" in "video_api_playback"



=== TEST 18d5: an empty root for /play/
--- http_config
    video_api_playback root=;
--- config
--- must_die
--- error_log
video_api: invalid "root" value "" in "video_api_playback"



=== TEST 18d6: live_root given twice
--- http_config
    video_api_playback live_root=a live_root=b;
--- config
--- must_die
--- error_log
video_api: duplicate parameter "live_root" in "video_api_playback"



=== TEST 18e: video_api_playback given twice
--- http_config
    video_api_playback expires=1h;
    video_api_playback expires=2h;
--- config
--- must_die
--- error_log
"video_api_playback" directive is duplicate



=== TEST 19: a public URL that is not http(s)
--- http_config
    video_api_public_url ftp://videos.example.com;
--- config
--- must_die
--- error_log
video_api: invalid url "ftp://videos.example.com" in "video_api_public_url", expected http:// or https:// URL



=== TEST 20: a CORS origin with a path
--- http_config
    video_api_cors https://app.example.com/;
--- config
--- must_die
--- error_log
video_api: invalid origin "https://app.example.com/" in "video_api_cors", expected scheme://host[:port] with no path



=== TEST 21: CORS "*" mixed with origins
--- http_config
    video_api_cors * https://app.example.com;
--- config
--- must_die
--- error_log
video_api: "video_api_cors" takes "off", "*", or a list of origins



=== TEST 22: a directive given twice
--- http_config
    video_api_redis 127.0.0.1:6379;
    video_api_redis 127.0.0.1:6380;
--- config
--- must_die
--- error_log
"video_api_redis" directive is duplicate



=== TEST 23: a bad body size
--- config
    location / { video_api all; video_api_max_body_size lots; }
--- must_die
--- error_log
"video_api_max_body_size" directive invalid value



=== TEST 23b: video_api_metrics takes no argument
--- config
    location = /metrics { video_api_metrics on; }
--- must_die
--- error_log
invalid number of arguments in "video_api_metrics" directive



=== TEST 23c: video_api_metrics is a location's, not a server's
--- config
    video_api_metrics;
--- must_die
--- error_log
"video_api_metrics" directive is not allowed here



=== TEST 23d: video_api_metrics and another content handler in one location
--- config
    location = /metrics { video_api all; video_api_metrics; }
--- must_die
--- error_log
"video_api_metrics" directive conflicts with another content handler



=== TEST 24: a published sample storage secret on a server others can reach
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000
                      access_key=videoapi secret_key=videoapi-secret;
--- config
    location /api/ { video_api all; }
--- must_die
--- error_log eval
qr/video_api: "secret_key" of "video_api_storage" is the published sample value "videoapi-secret" and a server listens on 0\.0\.0\.0:\d+, which is not loopback/



=== TEST 25: the shipped configuration's placeholders are no secrets either
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000
                      access_key=@STORAGE_ACCESS_KEY@ secret_key=@STORAGE_SECRET_KEY@;
--- config
    location /api/ { video_api all; }
--- must_die
--- error_log eval
qr/"secret_key" of "video_api_storage" is the published sample value "\@STORAGE_SECRET_KEY\@"/



=== TEST 26: nor for play tokens
--- http_config
    video_api_playback secret=@PLAYBACK_SECRET@ expires=1h;
--- config
    location /api/ { video_api all; }
--- must_die
--- error_log eval
qr/"secret" of "video_api_playback" is the published sample value "\@PLAYBACK_SECRET\@" and a server listens on 0\.0\.0\.0:\d+/



=== TEST 27: a relay secret nginx-rtmp would cut short
--- http_config
    video_api_live_relay_secret 0123456789abcdef0123456789abcdef;
--- config
--- must_die
--- error_log
video_api: invalid "video_api_live_relay_secret" of 32 characters, expected 16..31



=== TEST 28: the relay secret's placeholder
--- http_config
    video_api_live_relay_secret @LIVE_RELAY_SECRET@;
--- config
    location /api/ { video_api all; }
--- must_die
--- error_log eval
qr/"secret" of "video_api_live_relay_secret" is the published sample value "\@LIVE_RELAY_SECRET\@"/



=== TEST 29: an idempotency key's lifetime that is not a time
--- http_config
    video_api_idempotency_ttl forever;
--- config
--- must_die
--- error_log
"video_api_idempotency_ttl" directive invalid value



=== TEST 30: nor none
--- http_config
    video_api_idempotency_ttl 0;
--- config
--- must_die
--- error_log
"video_api_idempotency_ttl" must be 1s or more



=== TEST 31: webhooks with every parameter
--- http_config
    video_api_webhooks key=0123456789abcdef0123456789abcdef-x
                       allow=127.0.0.0/8,::1 allow_http=on max_endpoints=5
                       overlap=1h;
--- config
    location /api/webhooks { video_api webhooks; }
--- request
GET /api/webhooks/x/y/z
--- error_code: 404



=== TEST 32: a webhook key too short to seal with
--- http_config
    video_api_webhooks key=0123456789abcdef;
--- config
--- must_die
--- error_log
video_api: "key" of "video_api_webhooks" has 16 characters, expected 32 or more



=== TEST 33: nor none
--- http_config
    video_api_webhooks allow_http=on;
--- config
--- must_die
--- error_log
video_api: "video_api_webhooks" requires "key"



=== TEST 34: the webhook key's placeholder
--- http_config
    video_api_webhooks key=@WEBHOOK_KEY@;
--- config
    location /api/ { video_api all; }
--- must_die
--- error_log eval
qr/"key" of "video_api_webhooks" is the published sample value "\@WEBHOOK_KEY\@" and a server listens on 0\.0\.0\.0:\d+/



=== TEST 35: an allow-list that is not one
--- http_config
    video_api_webhooks key=0123456789abcdef0123456789abcdef allow=10.0.0.1/8;
--- config
--- must_die
--- error_log eval
qr/video_api: invalid "allow" value "10\.0\.0\.1\/8" in "video_api_webhooks": /



=== TEST 36: no endpoints per account
--- http_config
    video_api_webhooks key=0123456789abcdef0123456789abcdef max_endpoints=0;
--- config
--- must_die
--- error_log
video_api: invalid "max_endpoints" value "0" in "video_api_webhooks", expected 1..10000



=== TEST 37: an overlap past a week
--- http_config
    video_api_webhooks key=0123456789abcdef0123456789abcdef overlap=8d;
--- config
--- must_die
--- error_log
video_api: invalid "overlap" value "8d" in "video_api_webhooks"
