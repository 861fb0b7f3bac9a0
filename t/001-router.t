# The router: method + path to a route of the location's areas, 404 and 405
# envelopes for everything else.

use lib 't/inc';
use VideoApi;
use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->http_config) {
        $block->set_value('http_config',
                          'video_api_postgres "$TEST_NGINX_PG_CONNINFO";');
    }
    keyed($block);
});

run_tests();

__DATA__

=== TEST 1: an unknown path is a 404 envelope
--- config
    location /api/ { video_api all; }
--- request
GET /api/nope
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body chomp
{"success":false,"error":{"message":"Route GET /api/nope not found","status":404,"code":"NOT_FOUND"}}
--- no_error_log
[error]



=== TEST 2: a known path with the wrong method is a 405 with Allow
--- config
    location /api/ { video_api all; }
--- request
DELETE /api/videos
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS
Content-Type: application/json
--- response_body chomp
{"success":false,"error":{"message":"Method DELETE is not allowed on /api/videos","status":405,"code":"METHOD_NOT_ALLOWED"}}
--- no_error_log
[error]



=== TEST 3: Allow lists every method of a path with parameters
--- config
    location /api/ { video_api all; }
--- request
PUT /api/videos/V1StGXR8_Z5jdHi6B-myT
--- error_code: 405
--- response_headers
Allow: GET, HEAD, PATCH, DELETE, OPTIONS
--- response_body_like: "code":"METHOD_NOT_ALLOWED"



=== TEST 4: path parameters route to their handler
--- config
    location /api/ { video_api all; }
--- request
GET /api/videos/NoSuchVideoXXXXXXXXXX/progress
--- error_code: 404
--- response_body chomp
{"success":false,"error":{"message":"Video with id 'NoSuchVideoXXXXXXXXXX' not found","status":404,"code":"NOT_FOUND"}}



=== TEST 5: a path longer than any route is a 404
--- config
    location /api/ { video_api all; }
--- request
GET /api/videos/abc/progress/more
--- error_code: 404
--- response_body_like: ^\{"success":false,"error":\{"message":"Route GET /api/videos/abc/progress/more not found"



=== TEST 6: one trailing slash is ignored
--- config
    location / { video_api all; }
--- request
GET /health/
--- error_code: 200
--- response_body_like: ^\{"status":"ok"



=== TEST 7: literal routes win over parameters
--- config
    location /api/ { video_api all; }
--- request
POST /api/live/active
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS



=== TEST 8: a location serves only the areas it names
--- config
    location / { video_api health analytics; }
--- request
GET /api/videos
--- error_code: 404
--- response_body_like: "message":"Route GET /api/videos not found"



=== TEST 9: the named areas are served
--- config
    location / { video_api health live; }
--- request
GET /api/live/active
--- error_code: 200
--- response_body_like: "streams":\[



=== TEST 10: an unknown method on a known path is a 405
--- config
    location /api/ { video_api all; }
--- request
FOO /api/videos
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS



=== TEST 11: HEAD is answered wherever GET is, without a body
--- config
    location / { video_api all; }
--- request
HEAD /health
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp



=== TEST 12: bytes that are not UTF-8 in a path still give a valid JSON 404
--- config
    location /api/ { video_api all; }
--- raw_request eval
"GET /api/\xff\xfe HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- error_code: 404
--- response_body chomp
{"success":false,"error":{"message":"Route GET /api/?? not found","status":404,"code":"NOT_FOUND"}}



=== TEST 13: percent-encoded slashes cannot smuggle extra segments into an id
--- config
    location /api/ { video_api all; }
--- request
GET /api/videos/a%2Fb/progress
--- error_code: 404
--- response_body_like: "code":"NOT_FOUND"



=== TEST 14: dot segments are resolved before routing
--- config
    location / { video_api all; }
--- request
GET /api/nope/../../health
--- error_code: 200
--- response_body_like: ^\{"status":"ok"
