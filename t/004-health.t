# GET /health: status and timestamp at the top level, outside the envelope.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: health answers 200 with status, timestamp and version
--- config
    location = /health { video_api health; }
--- request
GET /health
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"status":"ok","timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","version":"\d+\.\d+\.\d+","dependencies":\{"postgres":"unconfigured","redis":"unconfigured"\}\}$
--- no_error_log
[error]



=== TEST 2: with PostgreSQL and Redis up, both are checked
--- http_config
    video_api_postgres "$TEST_NGINX_PG_CONNINFO";
    video_api_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /health { video_api health; }
--- request
GET /health
--- error_code: 200
--- response_body_like: ^\{"status":"ok",.*"dependencies":\{"postgres":"up","redis":"up"\}\}$
--- no_error_log
[error]



=== TEST 3: a dependency that is down makes it a 503 naming it
--- http_config
    video_api_postgres "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2" timeout=1s;
    video_api_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /health { video_api health; }
--- request
GET /health
--- error_code: 503
--- response_body_like: ^\{"status":"unavailable",.*"dependencies":\{"postgres":"down","redis":"up"\}\}$



=== TEST 4: health takes GET and HEAD only
--- config
    location = /health { video_api health; }
--- request
POST /health
{}
--- error_code: 405
--- response_headers
Allow: GET, HEAD, OPTIONS
--- response_body_like: "code":"METHOD_NOT_ALLOWED"



=== TEST 5: nginx's access control wraps the route
--- config
    location = /health {
        deny all;
        video_api health;
    }
--- request
GET /health
--- error_code: 403
--- response_body chomp
{"success":false,"error":{"message":"Access forbidden","status":403,"code":"FORBIDDEN"}}
