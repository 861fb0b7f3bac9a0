# Live streams: create and key rotation.  The key is shown once, stored
# only as its SHA-256, and a rotation replaces it.

# memcheck: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Digest::SHA qw(sha256_hex);

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-live";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 60;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};

END { nginx_stop($dir) if $dir; }

psql('TRUNCATE videos, outbox CASCADE');

nginx_start($dir, $port, <<"CONF");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_redis 127.0.0.1:$rport timeout=5s;
    video_api_public_url http://videos.example.com:8080/;
CONF
wait_for(60, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
    or die "nginx is not healthy";

sub post { my ($path, $body) = @_; return http_request($port, 'POST', $path, $body) }

# -- create ------------------------------------------------------------------

my ($s, $b) = post('/api/live/create', '{"title": "My stream", "description": "live!"}');
is $s, 201, 'create answers 201';
my ($id) = $b =~ /"videoId":"([A-Za-z0-9_-]{21})"/;
my ($key) = $b =~ /"streamKey":"([^"]*)"/;
ok $id, 'with a video id';
like $key, qr/^[A-Za-z0-9_-]{32}$/, 'a 32-character URL-safe key (192 bits)';
like $b, qr{"rtmpUrl":"rtmp://videos\.example\.com:1935/live"}, 'the RTMP server URL, without the key';
like $b, qr{"playbackUrl":"http://videos\.example\.com:8080/live/$id/index\.m3u8"}, 'the live playlist URL';
unlike $b, qr/"success":true,"data":\{[^}]*$key[^}]*$key/, 'the key appears once';

is psql("SELECT video_type || ' ' || status || ' ' || visibility || ' ' || title || ' ' || description FROM videos WHERE id = '$id'"),
    'LIVE PENDING PUBLIC My stream live!', 'a LIVE video, PENDING, PUBLIC by default';
is psql("SELECT encode(stream_key_hash, 'hex') FROM videos WHERE id = '$id'"), sha256_hex($key),
    'the row holds the key\'s SHA-256';
is psql("SELECT count(*) FROM videos WHERE row_to_json(videos)::text LIKE '%$key%'"), 0,
    'and never the key';
is psql("SELECT count(*) FROM outbox"), 0, 'no job is queued';

($s, $b) = http_request($port, 'GET', "/api/videos/$id");
is $s, 200, 'the stream is a video';
like $b, qr/"videoType" : "LIVE"/, 'of type LIVE';
unlike $b, qr/\Q$key\E/, 'whose answer does not carry the key';
is qx{redis-cli -p $rport SISMEMBER video:ids $id} + 0, 1, 'views of it count';

($s, $b) = post('/api/live/create', '{"title": "Private one", "visibility": "PRIVATE"}');
is $s, 201, 'visibility can be given';
my ($id2) = $b =~ /"videoId":"([^"]+)"/;
my ($key2) = $b =~ /"streamKey":"([^"]*)"/;
is psql("SELECT visibility FROM videos WHERE id = '$id2'"), 'PRIVATE', 'and is kept';
isnt $key2, $key, 'every stream has its own key';

# -- bad bodies change nothing -----------------------------------------------

my $before = psql('SELECT count(*) FROM videos');
for my $case (['{}', qr/"path":"title","message":"title is required"/],
              ['{"description": "x"}', qr/"path":"title"/],
              ['{"title": ""}', qr/"path":"title"/],
              ['{"title": "' . ('x' x 256) . '"}', qr/"path":"title"/],
              ['{"title": 5}', qr/"path":"title"/],
              ['{"title": "t", "description": "' . ('d' x 2001) . '"}', qr/"path":"description"/],
              ['{"title": "t", "visibility": "SECRET"}', qr/"path":"visibility"/],
              ['{"visibility": "SECRET"}', qr/"path":"title".*"path":"visibility"/]) {
    ($s, $b) = post('/api/live/create', $case->[0]);
    is $s, 400, "400 for " . substr($case->[0], 0, 40);
    like $b, $case->[1], 'naming the field';
}
($s, $b) = post('/api/live/create', '{"title": ');
is $s, 400, 'malformed JSON is a 400';
($s, $b) = post('/api/live/create', '[1]');
is $s, 400, 'so is a body that is not an object';
is psql('SELECT count(*) FROM videos'), $before, 'and none of them created anything';

# -- key rotation ------------------------------------------------------------

($s, $b) = post("/api/live/$id/key");
is $s, 200, 'rotating the key';
my ($new) = $b =~ /"streamKey":"([A-Za-z0-9_-]{32})"/;
ok $new && $new ne $key, 'gives a new key';
like $b, qr/"videoId":"$id"/, 'for the stream';
is psql("SELECT encode(stream_key_hash, 'hex') FROM videos WHERE id = '$id'"), sha256_hex($new),
    'which replaces the old one';

($s, $b) = post('/api/live/NoSuchStreamXXXXXXXXX/key');
is $s, 404, 'an unknown stream is a 404';
like $b, qr/not found/, 'saying so';
($s) = post('/api/live/bad/key');
is $s, 404, 'so is a malformed id';
my $vod = 'vodAAAAAAAAAAAAAAAAAA';
seed_video(id => $vod, title => 'not live');
($s) = post("/api/live/$vod/key");
is $s, 404, 'and a video that is not live';
is psql("SELECT stream_key_hash IS NULL FROM videos WHERE id = '$vod'"), 't', 'which gets no key';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\Q$key\E|\Q$new\E/, 'no key in the error log';
unlike $log, qr/\[(alert|emerg|crit)\]|signal \d+/, 'no alerts, no crashed worker';

done_testing();
