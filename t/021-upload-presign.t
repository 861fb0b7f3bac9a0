# POST /api/upload/presign: every validation case answers a 400 with
# details; a good body gets a new id and a presigned PUT URL for the raw
# bucket that binds the size and type and only creates, with the headers
# the client must send.  The upload is recorded in PostgreSQL first (what
# is written, and that a refused body writes nothing, t/020-store.t
# checks), so without PostgreSQL presign is a 503.

use lib 't/inc';
use VideoApi;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', <<'CONF') unless defined $block->http_config;
    video_api_postgres "$TEST_NGINX_PG_CONNINFO" pool=2 timeout=10s;
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=presign-suite-secret;
CONF
    $block->set_value('config', <<'CONF') unless defined $block->config;
    location /api/ { video_api all; }
CONF
    $block->set_value('more_headers', 'Content-Type: application/json')
        unless defined $block->more_headers;
    keyed($block);
});

run_tests();

__DATA__

=== TEST 1: a good body gets an id, a presigned PUT URL binding size, type and If-None-Match, the key and the headers to send
--- request
POST /api/upload/presign
{"fileName": "holiday.mp4", "fileSize": 1048576, "contentType": "video/mp4"}
--- error_code: 201
--- response_body_like eval
qr{^\{"success":true,"data":\{"videoId":"([A-Za-z0-9_-]{21})","uploadUrl":"http://127\.0\.0\.1:9000/videos-raw/\1/original\.mp4\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=videoapi%2F\d{8}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match&X-Amz-Signature=[0-9a-f]{64}","key":"\1/original\.mp4","expiresIn":3600,"uploadHeaders":\{"Content-Type":"video/mp4","If-None-Match":"\*"\}\}\}$}
--- no_error_log
[error]



=== TEST 2: the extension and the bound type follow the content type
--- request
POST /api/upload/presign
{"fileName": "clip", "fileSize": 1, "contentType": "video/webm"}
--- error_code: 201
--- response_body_like: "key":"[A-Za-z0-9_-]{21}/original\.webm".*"uploadHeaders":\{"Content-Type":"video/webm","If-None-Match":"\*"\}



=== TEST 3: 2 GiB is the largest upload
--- request
POST /api/upload/presign
{"fileName": "big.ogg", "fileSize": 2147483648, "contentType": "video/ogg"}
--- error_code: 201
--- response_body_like: "key":"[A-Za-z0-9_-]{21}/original\.ogg"



=== TEST 4: every field missing
--- request
POST /api/upload/presign
{}
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"Validation failed","status":400,"code":"VALIDATION_ERROR","details":[{"path":"fileName","message":"fileName is required"},{"path":"fileSize","message":"fileSize is required"},{"path":"contentType","message":"contentType is required"}]}}



=== TEST 5: an empty file name, a size of 0, a type that is not video
--- request
POST /api/upload/presign
{"fileName": "", "fileSize": 0, "contentType": "video/avi"}
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"Validation failed","status":400,"code":"VALIDATION_ERROR","details":[{"path":"fileName","message":"fileName must be 1 to 255 characters"},{"path":"fileSize","message":"fileSize must be an integer from 1 to 2147483648 (2 GiB)"},{"path":"contentType","message":"contentType must be one of video/mp4, video/webm, video/ogg"}]}}



=== TEST 6: one byte over 2 GiB
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 2147483649, "contentType": "video/mp4"}
--- error_code: 400
--- response_body_like: "details":\[\{"path":"fileSize",



=== TEST 7: a file name of 256 characters
--- request eval
"POST /api/upload/presign\n" . '{"fileName": "' . ("a" x 256) . '", "fileSize": 10, "contentType": "video/mp4"}'
--- error_code: 400
--- response_body_like: "details":\[\{"path":"fileName","message":"fileName must be 1 to 255 characters"\}\]



=== TEST 8: wrong types
--- request
POST /api/upload/presign
{"fileName": 5, "fileSize": "10", "contentType": ["video/mp4"]}
--- error_code: 400
--- response_body_like: "details":\[\{"path":"fileName","message":"fileName must be a string"\},\{"path":"fileSize",.*\},\{"path":"contentType",



=== TEST 9: a fractional size
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 1.5, "contentType": "video/mp4"}
--- error_code: 400
--- response_body_like: "path":"fileSize"



=== TEST 10: the content type is matched exactly
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 10, "contentType": "VIDEO/MP4"}
--- error_code: 400
--- response_body_like: "path":"contentType"



=== TEST 11: without storage configured it is a 503
--- http_config
    video_api_postgres "$TEST_NGINX_PG_CONNINFO" pool=2 timeout=10s;
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 10, "contentType": "video/mp4"}
--- error_code: 503
--- response_body_like: "message":"Storage is unavailable"



=== TEST 12: a body that is not JSON
--- request
POST /api/upload/presign
fileName=a.mp4
--- error_code: 400
--- response_body_like: "code":"BAD_REQUEST"



=== TEST 13: PostgreSQL unreachable: 503, no URL handed out
--- http_config
    video_api_postgres "host=127.0.0.1 port=1 dbname=video user=video connect_timeout=1" pool=1 timeout=1s;
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=presign-suite-secret;
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 10, "contentType": "video/mp4"}
--- error_code: 503
--- response_body_like: ^\{"success":false,"error":\{"message":"Database is unavailable","status":503,"code":"UNAVAILABLE"\}\}$



=== TEST 14: no PostgreSQL configured: 503
--- http_config
    video_api_storage endpoint=http://127.0.0.1:9000 region=us-east-1
                      access_key=videoapi secret_key=presign-suite-secret;
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 10, "contentType": "video/mp4"}
--- error_code: 503
--- response_body_like: "code":"UNAVAILABLE"
