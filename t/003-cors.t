# CORS: allowed origins on every answer, preflight for OPTIONS.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
no_root_location();
run_tests();

__DATA__

=== TEST 1: by default any origin may read answers
--- config
    location /api/ { video_api all; }
--- request
GET /api/nope
--- more_headers
Origin: http://app.example.com
--- error_code: 404
--- response_headers
Access-Control-Allow-Origin: *
!Vary
!Access-Control-Allow-Credentials



=== TEST 2: a preflight gets 204 with methods, headers and max age
--- config
    location /api/ { video_api all; }
--- request
OPTIONS /api/videos/V1StGXR8_Z5jdHi6B-myT
--- more_headers
Origin: http://app.example.com
Access-Control-Request-Method: PATCH
Access-Control-Request-Headers: content-type, x-requested-with
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: *
Access-Control-Allow-Methods: GET, HEAD, PATCH, DELETE, OPTIONS
Access-Control-Allow-Headers: content-type, x-requested-with
Access-Control-Max-Age: 86400
Allow: GET, HEAD, PATCH, DELETE, OPTIONS
--- response_body chomp
--- no_error_log
[error]



=== TEST 3: OPTIONS that is not a preflight just lists the methods (DELETE
as "/api/upload/:id" routes it too: it answers that no such upload exists)
--- config
    location /api/ { video_api all; }
--- request
OPTIONS /api/upload/presign
--- error_code: 204
--- response_headers
Allow: POST, DELETE, OPTIONS
!Access-Control-Allow-Methods



=== TEST 4: OPTIONS on an unknown path is a 404
--- config
    location /api/ { video_api all; }
--- request
OPTIONS /api/nope
--- more_headers
Origin: http://app.example.com
Access-Control-Request-Method: GET
--- error_code: 404
--- response_body_like: "code":"NOT_FOUND"



=== TEST 5: a listed origin is echoed and the answer varies on Origin
--- config
    location /api/ {
        video_api_cors http://a.example.com https://b.example.com:8443;
        video_api all;
    }
--- request
GET /api/nope
--- more_headers
Origin: https://b.example.com:8443
--- error_code: 404
--- response_headers
Access-Control-Allow-Origin: https://b.example.com:8443
Access-Control-Expose-Headers: Idempotent-Replayed, Retry-After
Vary: Origin



=== TEST 6: an origin not in the list gets no CORS headers
--- config
    location /api/ {
        video_api_cors http://a.example.com;
        video_api all;
    }
--- request
OPTIONS /api/videos
--- more_headers
Origin: http://evil.example.com
Access-Control-Request-Method: GET
--- error_code: 204
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Methods
!Access-Control-Expose-Headers
Vary: Origin



=== TEST 7: with credentials the origin is echoed, never "*"
--- config
    location /api/ {
        video_api_cors * credentials=on max_age=600;
        video_api all;
    }
--- request
OPTIONS /api/videos
--- more_headers
Origin: http://app.example.com
Access-Control-Request-Method: GET
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: http://app.example.com
Access-Control-Allow-Credentials: true
Access-Control-Max-Age: 600
Vary: Origin



=== TEST 8: cors off sends no CORS headers
--- http_config
    video_api_cors off;
--- config
    location /api/ { video_api all; }
--- request
OPTIONS /api/videos
--- more_headers
Origin: http://app.example.com
Access-Control-Request-Method: GET
--- error_code: 204
--- response_headers
Allow: GET, HEAD, OPTIONS
!Access-Control-Allow-Origin
!Access-Control-Allow-Methods



=== TEST 9: a location inherits the server's setting
--- config
    video_api_cors http://a.example.com;
    location /api/ { video_api all; }
--- request
GET /api/nope
--- more_headers
Origin: http://a.example.com
--- error_code: 404
--- response_headers
Access-Control-Allow-Origin: http://a.example.com



=== TEST 10: errors nginx answers itself carry CORS headers too
--- config
    location /api/ { video_api all; client_max_body_size 10; }
--- request
POST /api/upload/presign
{"fileName": "a.mp4", "fileSize": 1, "contentType": "video/mp4"}
--- more_headers
Origin: http://app.example.com
Content-Type: application/json
--- error_code: 413
--- response_headers
Access-Control-Allow-Origin: *
Content-Type: application/json
