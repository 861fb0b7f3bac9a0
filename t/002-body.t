# Request bodies: size limits, content type, malformed JSON, all answered
# with JSON envelopes that say what was wrong.

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

=== TEST 1: malformed JSON is a 400 naming the problem
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
{"title": "x",
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"Malformed JSON in request body: string or '}' expected near end of file (line 1, column 14)","status":400,"code":"BAD_REQUEST"}}
--- no_error_log
[error]



=== TEST 2: a JSON body needs Content-Type application/json
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
{"title": "x"}
--- more_headers
Content-Type: text/plain
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"Content-Type must be application/json","status":400,"code":"BAD_REQUEST"}}



=== TEST 3: Content-Type parameters and +json subtypes are accepted
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
{"title": "x"}
--- more_headers
Content-Type: application/merge-patch+json; charset=utf-8
--- error_code: 404
--- response_body_like: "Video with id 'NoSuchVideoXXXXXXXXXX' not found"



=== TEST 4: the body must be a JSON object
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
[1, 2]
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "message":"Request body must be a JSON object"



=== TEST 5: an empty body on a JSON route is a 400
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "message":"Request body is required: a JSON object"



=== TEST 6: duplicate keys are refused, not guessed at
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
{"title": "a", "title": "b"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "message":"Malformed JSON in request body: duplicate object key



=== TEST 7: NUL characters in strings are refused
--- config
    location /api/ { video_api all; }
--- request
PATCH /api/videos/NoSuchVideoXXXXXXXXXX
{"title": "a\u0000b"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: u0000 is not allowed in strings



=== TEST 8: a declared length over video_api_max_body_size is a 413 envelope
--- config
    location /api/ { video_api all; video_api_max_body_size 1k; }
--- request eval
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX\n" . '{"title":"' . ("a" x 2000) . '"}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_body chomp
{"success":false,"error":{"message":"Request body is larger than 1024 bytes","status":413,"code":"PAYLOAD_TOO_LARGE"}}
--- no_error_log
[error]



=== TEST 9: a chunked body over video_api_max_body_size is a 413 envelope
--- config
    location /api/ { video_api all; video_api_max_body_size 1k; }
--- raw_request eval
my $body = '{"title":"' . ("a" x 2000) . '"}';
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX HTTP/1.1\r\nHost: localhost\r\n"
. VideoApi::key_header("/api/") . "\r\n"
. "Connection: close\r\nContent-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n%s\r\n0\r\n\r\n", length($body), $body)
--- error_code: 413
--- response_body chomp
{"success":false,"error":{"message":"Request body is larger than 1024 bytes","status":413,"code":"PAYLOAD_TOO_LARGE"}}



=== TEST 10: nginx's own client_max_body_size 413 is a JSON envelope too
--- config
    location /api/ { video_api all; client_max_body_size 100; }
--- request eval
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX\n" . '{"title":"' . ("a" x 500) . '"}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body chomp
{"success":false,"error":{"message":"Request body is too large","status":413,"code":"PAYLOAD_TOO_LARGE"}}



=== TEST 11: a body larger than nginx's memory buffer is read from its file
--- config
    location /api/ { video_api all; client_body_buffer_size 1k; }
--- request eval
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX\n" . '{"title":"' . ("a" x 30000) . '"}'
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "title must be 1 to 255 characters"



=== TEST 12: a chunked JSON body within the limit is accepted
--- config
    location /api/ { video_api all; }
--- raw_request eval
my $body = '{"title":"chunked"}';
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX HTTP/1.1\r\nHost: localhost\r\n"
. VideoApi::key_header("/api/") . "\r\n"
. "Connection: close\r\nContent-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n%s\r\n0\r\n\r\n", length($body), $body)
--- error_code: 404
--- response_body_like: "Video with id 'NoSuchVideoXXXXXXXXXX' not found"



=== TEST 13: routes that take no body accept any body and Content-Type
--- config
    location /api/ { video_api all; }
--- request
POST /api/analytics/view/nope
whatever this is
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 404
--- response_body_like: "Video with id 'nope' not found"



=== TEST 14: an empty JSON body on a no-body route is fine
--- config
    location /api/ { video_api all; }
--- request
DELETE /api/videos/NoSuchVideoXXXXXXXXXX
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body_like: "Video with id 'NoSuchVideoXXXXXXXXXX' not found"



=== TEST 15: a route with an optional body takes an empty one
--- config
    location /api/ { video_api all; }
--- request
POST /api/live/NoSuchVideoXXXXXXXXXX/stop
--- error_code: 404
--- response_body_like: "message":"Live stream 'NoSuchVideoXXXXXXXXXX' not found"



=== TEST 16: deeply nested JSON is refused without crashing
--- config
    location /api/ { video_api all; }
--- request eval
"PATCH /api/videos/NoSuchVideoXXXXXXXXXX\n" . '{"a":' . ("[" x 5000) . ("]" x 5000) . '}'
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "code":"BAD_REQUEST"
--- no_error_log
[alert]



=== TEST 17: errors nginx answers itself in a video_api location are envelopes
--- config
    location /api/ {
        video_api all;
        return 503;
    }
--- request
GET /api/videos
--- error_code: 503
--- response_headers
Content-Type: application/json
--- response_body chomp
{"success":false,"error":{"message":"Service unavailable","status":503,"code":"UNAVAILABLE"}}



=== TEST 18: ... and keep nginx's HTML outside video_api locations
--- config
    location /api/ { video_api all; }
    location /other/ { return 503; }
--- request
GET /other/x
--- error_code: 503
--- response_headers
Content-Type: text/html
--- response_body_like: <title>503 Service Temporarily Unavailable</title>
