# The videos API against a real PostgreSQL: list with filters, offset and
# cursor pages, search; get with ETag; patch; delete with its cleanup job;
# progress.  Every bad input is answered and changes nothing.

use lib 't/inc';
use VideoApi;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();
no_root_location();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', <<'CONF') unless defined $block->http_config;
    video_api_postgres "$TEST_NGINX_PG_CONNINFO" pool=2 timeout=3s;
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=b;
CONF
    $block->set_value('config', <<'CONF') unless defined $block->config;
    location /api/ { video_api all; }
CONF
    keyed($block);
});

# ids: 21 characters; A is newest
psql('TRUNCATE videos, outbox CASCADE');
my $age = 0;
for my $v (['vidAAAAAAAAAAAAAAAAAA', 'Alpha cats', 'READY', 'PUBLIC', 'VOD'],
           ['vidBBBBBBBBBBBBBBBBBB', 'Bravo 100% cats', 'PENDING', 'PRIVATE', 'VOD'],
           ['vidCCCCCCCCCCCCCCCCCC', 'Charlie_dogs', 'PROCESSING', 'PUBLIC', 'VOD'],
           ['vidDDDDDDDDDDDDDDDDDD', 'Delta live', 'LIVE', 'PUBLIC', 'LIVE'],
           ['vidEEEEEEEEEEEEEEEEEE', 'Echo', 'FAILED', 'UNLISTED', 'VOD'])
{
    seed_video(id => $v->[0], title => $v->[1], status => $v->[2],
               visibility => $v->[3], video_type => $v->[4], age => $age++);
}
psql(q{UPDATE videos SET transcoding_progress = 50,
       processing_started_at = now() - interval '10 seconds'
       WHERE id = 'vidCCCCCCCCCCCCCCCCCC'});
psql(q{INSERT INTO video_variants (id, video_id, resolution, width, height, bitrate, playlist_key)
       VALUES ('varAAAAAAAAAAAAAAA720', 'vidAAAAAAAAAAAAAAAAAA', '720p', 1280, 720, 2800,
               'vidAAAAAAAAAAAAAAAAAA/720p/playlist.m3u8')});
psql(q{UPDATE videos SET hls_manifest_key = 'vidAAAAAAAAAAAAAAAAAA/master.m3u8',
       thumbnail_key = 'vidAAAAAAAAAAAAAAAAAA/thumb.jpg', duration = 63
       WHERE id = 'vidAAAAAAAAAAAAAAAAAA'});

run_tests();

__DATA__

=== TEST 1: a video with its variants, URLs and an ETag
--- request
GET /api/videos/vidAAAAAAAAAAAAAAAAAA
--- error_code: 200
--- response_headers_like
ETag: "\d+"
Content-Type: application/json
--- response_body_like eval
qr/^\{"success":true,"data":\{"video":\{"id" : "vidAAAAAAAAAAAAAAAAAA", "accountId" : "default", "title" : "Alpha cats", "description" : null, "status" : "READY", "visibility" : "PUBLIC", "tokenGeneration" : 0, "videoType" : "VOD", "duration" : 63, "thumbnailKey" : "vidAAAAAAAAAAAAAAAAAA\/thumb.jpg", "thumbnailUrl" : "\/play\/vidAAAAAAAAAAAAAAAAAA\/thumb.jpg", "hlsManifestKey" : "vidAAAAAAAAAAAAAAAAAA\/master.m3u8", "playbackUrl" : "\/play\/vidAAAAAAAAAAAAAAAAAA\/master.m3u8", "isLiveNow" : false, "transcodingProgress" : 0, "playableAt" : null, "viewsToday" : 0, "viewsMonth" : 0, "viewsTotal" : 0, "createdAt" : "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "updatedAt" : "[^"]+", "variants" : \[\{"id" : "varAAAAAAAAAAAAAAA720", "resolution" : "720p", "width" : 1280, "height" : 720, "bitrate" : 2800, "codec" : "h264", "format" : "hls", "playlistKey" : "vidAAAAAAAAAAAAAAAAAA\/720p\/playlist.m3u8", "playbackUrl" : "\/play\/vidAAAAAAAAAAAAAAAAAA\/720p\/playlist.m3u8"\}\]\}\}\}$/
--- no_error_log
[error]



=== TEST 2: an unknown id is a 404
--- request
GET /api/videos/vidZZZZZZZZZZZZZZZZZZ
--- error_code: 404
--- response_body chomp
{"success":false,"error":{"message":"Video with id 'vidZZZZZZZZZZZZZZZZZZ' not found","status":404,"code":"NOT_FOUND"}}



=== TEST 3: a malformed id is a 404 and never reaches the database
--- request
GET /api/videos/abc'%20OR%201=1--
--- error_code: 404
--- response_body chomp
{"success":false,"error":{"message":"Video with id 'abc' OR 1=1--' not found","status":404,"code":"NOT_FOUND"}}
--- no_error_log
[error]



=== TEST 4: If-None-Match with the current ETag is a 304
--- more_headers eval
my $v = VideoApi::psql("SELECT (extract(epoch FROM updated_at) * 1000000)::bigint FROM videos WHERE id = 'vidAAAAAAAAAAAAAAAAAA'");
"If-None-Match: \"$v\""
--- request
GET /api/videos/vidAAAAAAAAAAAAAAAAAA
--- error_code: 304
--- response_body chomp



=== TEST 5: an old ETag gets the full answer
--- more_headers
If-None-Match: "1"
--- request
GET /api/videos/vidAAAAAAAAAAAAAAAAAA
--- error_code: 200
--- response_body_like: "id" : "vidAAAAAAAAAAAAAAAAAA"



=== TEST 6: the list is newest first with its total
--- request
GET /api/videos
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videos":\[\{"id" : "vidA.*"id" : "vidB.*"id" : "vidC.*"id" : "vidD.*"id" : "vidE.*\],"total":5,"limit":20,"offset":0,"nextCursor":null\}\}$/s



=== TEST 7: limit and offset page through
--- request
GET /api/videos?limit=2&offset=2
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videos":\[\{"id" : "vidC.*\{"id" : "vidD.*\],"total":5,"limit":2,"offset":2,"nextCursor":"[A-Za-z0-9_-]+"\}\}$/s



=== TEST 8: a page that is not the last gives the cursor of its last video
--- request
GET /api/videos?limit=2
--- response_body_like eval
my $c = VideoApi::cursor_for('vidBBBBBBBBBBBBBBBBBB');
qr/"nextCursor":"\Q$c\E"\}\}$/



=== TEST 9: a cursor continues after its video
--- request eval
"GET /api/videos?limit=2&cursor=" . VideoApi::cursor_for('vidBBBBBBBBBBBBBBBBBB')
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videos":\[\{"id" : "vidC.*\{"id" : "vidD.*\],"total":5,"limit":2,"offset":0,"nextCursor":"[^"]+"\}\}$/s



=== TEST 10: the last cursor page has no next cursor
--- request eval
"GET /api/videos?limit=2&cursor=" . VideoApi::cursor_for('vidDDDDDDDDDDDDDDDDDD')
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videos":\[\{"id" : "vidE.*\],"total":5,"limit":2,"offset":0,"nextCursor":null\}\}$/s



=== TEST 11: filters narrow the list and its total
--- request
GET /api/videos?visibility=PUBLIC&videoType=VOD
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videos":\[\{"id" : "vidA.*\{"id" : "vidC.*\],"total":2,/s



=== TEST 12: status filter
--- request
GET /api/videos?status=LIVE
--- response_body_like eval
qr/"videos":\[\{"id" : "vidD.*\],"total":1,/s



=== TEST 13: q searches titles, case-insensitively
--- request
GET /api/videos?q=CATS
--- response_body_like eval
qr/"videos":\[\{"id" : "vidA.*\{"id" : "vidB.*\],"total":2,/s



=== TEST 14: LIKE wildcards in q are literal characters
--- request
GET /api/videos?q=100%25
--- response_body_like eval
qr/"videos":\[\{"id" : "vidB.*\],"total":1,/s



=== TEST 15: an underscore matches only an underscore
--- request
GET /api/videos?q=e_d
--- response_body_like eval
qr/"videos":\[\{"id" : "vidC.*\],"total":1,/s



=== TEST 16: a search with no match is an empty page
--- request
GET /api/videos?q=%27%3B%20DROP%20TABLE%20videos%3B--
--- response_body chomp
{"success":true,"data":{"videos":[],"total":0,"limit":20,"offset":0,"nextCursor":null}}



=== TEST 17: limit out of range is a validation error
--- request
GET /api/videos?limit=101
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"limit must be an integer from 1 to 100","status":400,"code":"VALIDATION_ERROR","details":[{"path":"limit","message":"limit must be an integer from 1 to 100"}]}}



=== TEST 18: every bad parameter is reported at once
--- request
GET /api/videos?limit=0&offset=-1&status=DONE&visibility=public&videoType=X&cursor=nope
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"Validation failed","status":400,"code":"VALIDATION_ERROR","details":[{"path":"limit","message":"limit must be an integer from 1 to 100"},{"path":"offset","message":"offset must be a non-negative integer"},{"path":"status","message":"status must be one of PENDING, PROCESSING, READY, FAILED, LIVE"},{"path":"visibility","message":"visibility must be one of PUBLIC, UNLISTED, PRIVATE"},{"path":"videoType","message":"videoType must be one of VOD, LIVE"},{"path":"cursor","message":"cursor is not one this API returned"}]}}



=== TEST 19: a forged cursor is refused
--- request eval
use MIME::Base64;
"GET /api/videos?cursor=" . MIME::Base64::encode_base64url("1.x' OR '1'='1")
--- error_code: 400
--- response_body_like: "path":"cursor"



=== TEST 20: PATCH changes the fields given and the next GET shows it
--- request eval
["PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{\"title\": \"Echo \\u00e9t\\u00e9\", \"description\": \"about\", \"visibility\": \"PUBLIC\", \"unknown\": 1}",
 "GET /api/videos/vidEEEEEEEEEEEEEEEEEE"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"title" : "Echo \x{c3}\x{a9}t\x{c3}\x{a9}", "description" : "about", "status" : "FAILED", "visibility" : "PUBLIC"/,
 qr/"title" : "Echo \x{c3}\x{a9}t\x{c3}\x{a9}", "description" : "about", "status" : "FAILED", "visibility" : "PUBLIC"/]



=== TEST 21: PATCH updates updatedAt
--- init
VideoApi::psql("UPDATE videos SET updated_at = '2020-01-01' WHERE id = 'vidEEEEEEEEEEEEEEEEEE'");
--- request
PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{"description": null}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: "description" : null, .*"updatedAt" : "20[2-9][1-9]-



=== TEST 22: PATCH validates every field and changes nothing
--- request eval
["PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{\"title\": \"\", \"description\": \"" . ("x" x 2001) . "\", \"visibility\": \"SECRET\"}",
 "GET /api/videos/vidEEEEEEEEEEEEEEEEEE"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^\{"success":false,"error":\{"message":"Validation failed","status":400,"code":"VALIDATION_ERROR","details":\[\{"path":"title","message":"title must be 1 to 255 characters"\},\{"path":"description","message":"description must be at most 2000 characters"\},\{"path":"visibility","message":"visibility must be one of PUBLIC, UNLISTED, PRIVATE"\}\]\}\}$/,
 qr/"title" : "Echo \x{c3}\x{a9}t\x{c3}\x{a9}", "description" : null, "status" : "FAILED", "visibility" : "PUBLIC"/]



=== TEST 23: PATCH with wrong types
--- request
PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{"title": 5, "description": ["x"], "visibility": null}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: \[\{"path":"title","message":"title must be a string"\},\{"path":"description","message":"description must be a string or null"\},\{"path":"visibility"



=== TEST 24: a title of 255 characters is fine, 256 is not
--- request eval
["PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{\"title\": \"" . ("\\u00e9" x 255) . "\"}",
"PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{\"title\": \"" . ("a" x 256) . "\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 400]



=== TEST 25: PATCH with no known field is a 400
--- request
PATCH /api/videos/vidEEEEEEEEEEEEEEEEEE
{"color": "red"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: "message":"at least one of title, description, visibility is required"



=== TEST 26: a bad body is a 400 whatever the id
--- request
PATCH /api/videos/not-an-id
{"title": ""}
--- more_headers
Content-Type: application/json
--- error_code: 400



=== TEST 27: a good body with a malformed id is a 404
--- request
PATCH /api/videos/not-an-id
{"title": "x"}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body_like: "Video with id 'not-an-id' not found"



=== TEST 28: a good body with an unknown id is a 404
--- request
PATCH /api/videos/vidZZZZZZZZZZZZZZZZZZ
{"title": "x"}
--- more_headers
Content-Type: application/json
--- error_code: 404



=== TEST 29: progress of a video being transcoded, with an estimated end
--- request
GET /api/videos/vidCCCCCCCCCCCCCCCCCC/progress
--- error_code: 200
--- response_body_like eval
qr/^\{"success":true,"data":\{"videoId" : "vidCCCCCCCCCCCCCCCCCC", "status" : "PROCESSING", "progress" : 50, "startedAt" : "[^"]+Z", "estimatedEnd" : "[^"]+Z", "error" : null, "duration" : null, "playableAt" : null\}\}$/



=== TEST 30: progress of an unknown video is a 404
--- request
GET /api/videos/vidZZZZZZZZZZZZZZZZZZ/progress
--- error_code: 404



=== TEST 31: DELETE removes the video and its variants and queues the cleanup
--- request eval
["DELETE /api/videos/vidAAAAAAAAAAAAAAAAAA", "GET /api/videos/vidAAAAAAAAAAAAAAAAAA"]
--- error_code eval
[200, 404]
--- response_body eval
['{"success":true,"data":{"message":"Video deleted successfully"}}',
 q({"success":false,"error":{"message":"Video with id 'vidAAAAAAAAAAAAAAAAAA' not found","status":404,"code":"NOT_FOUND"}})]



=== TEST 32: the cleanup job names the stored objects, the variants are gone
--- init
Test::More::is(VideoApi::psql("SELECT count(*) FROM video_variants WHERE video_id = 'vidAAAAAAAAAAAAAAAAAA'"), 0, 'variants deleted with the video');
Test::More::is(VideoApi::psql("SELECT concat_ws(' ', topic, payload->>'videoId', coalesce(payload->'objects'->0->>'key', ''), payload->'objects'->1->>'prefix', payload->'objects'->2->>'key') FROM outbox"),
   'video-cleanup vidAAAAAAAAAAAAAAAAAA  vidAAAAAAAAAAAAAAAAAA/ vidAAAAAAAAAAAAAAAAAA/thumb.jpg',
   'one cleanup job in the outbox');
Test::More::is(VideoApi::psql("SELECT concat_ws(' ', payload->'objects'->3->>'bucket', payload->'objects'->3->>'prefix', payload->'objects'->4->>'bucket', payload->'objects'->4->>'prefix', jsonb_array_length(payload->'objects')) FROM outbox"),
   'videos-raw vidAAAAAAAAAAAAAAAAAA/ thumbnails vidAAAAAAAAAAAAAAAAAA/ 5',
   'and the raw and thumbnails prefixes (pieces, an early thumbnail)');
--- request
GET /api/videos
--- response_body_like: "total":4,



=== TEST 33: DELETE of an unknown video is a 404 and writes no job
--- request
DELETE /api/videos/vidZZZZZZZZZZZZZZZZZZ
--- error_code: 404
--- response_body_like: "Video with id 'vidZZZZZZZZZZZZZZZZZZ' not found"



=== TEST 34: still exactly one job, and the connection pool still works
--- init
Test::More::is(VideoApi::psql("SELECT count(*) FROM outbox"), 1, 'no job for a 404');
--- request
GET /api/videos/vidBBBBBBBBBBBBBBBBBB
--- error_code: 200



=== TEST 35: DELETE with a malformed id is a 404
--- request
DELETE /api/videos/vid.AAAAAAAAAAAAAAAAA
--- error_code: 404



=== TEST 36: without a configured database the routes answer 503
--- http_config
--- request
GET /api/videos
--- error_code: 503
--- response_body chomp
{"success":false,"error":{"message":"Database is unavailable","status":503,"code":"UNAVAILABLE"}}



=== TEST 37: a cursor whose time is past any timestamp is a 400, not a query
--- request eval
use MIME::Base64;
"GET /api/videos?cursor="
    . MIME::Base64::encode_base64url("9999999999999999999.vidBBBBBBBBBBBBBBBBBB")
--- error_code: 400
--- response_body chomp
{"success":false,"error":{"message":"cursor is not one this API returned","status":400,"code":"VALIDATION_ERROR","details":[{"path":"cursor","message":"cursor is not one this API returned"}]}}
--- no_error_log
[error]
[alert]
