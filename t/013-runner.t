# The request runner: a route's debug log reads as the request's story,
# step by step, in the order the steps ran, and every route's waits go
# through the runner (the route files raise no reference count of their
# own and finalize nothing).

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $bin = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
plan skip_all => 'nginx without --with-debug'
    unless `$bin -V 2>&1` =~ /--with-debug/;

my $dir = "$ENV{PWD}/t/servroot-runner";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 13;
my $id = 'runnerAAAAAAAAAAAAAAA';

END { nginx_stop($dir) if $dir; }

# no route file holds the request or finalizes it: the runner does
my @routes = glob("$ENV{PWD}/src/routes/*.c");
ok @routes >= 10, 'the route files are found (' . @routes . ')';
for my $f (@routes) {
    my $src = do { local (@ARGV, $/) = ($f); <> };
    unlike $src, qr/count\s*\+\+/, "$f raises no reference count";
    unlike $src, qr/ngx_http_finalize_request\s*\(/, "$f finalizes nothing";
}

psql("DELETE FROM videos WHERE id = '$id'");
seed_video(id => $id, title => 'runner');

# A debug log holds every request header nginx reads (an API key too):
# these requests carry none, on a server where video_api_auth is off, so
# no key is written where the last suite looks for one
$VideoApi::KEY = q{};

nginx_start($dir, $port, <<"CONF");
    error_log logs/debug.log debug;
    video_api_auth off;
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}";
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};
    video_api_storage endpoint=http://127.0.0.1:9000 access_key=a secret_key=runner-secret;
CONF

# the runner's lines of the one request the log holds since $from
sub story {
    my ($from) = @_;
    open my $fh, '<', "$dir/logs/debug.log" or die $!;
    seek $fh, $from, 0;
    my @lines;
    while (my $line = <$fh>) {
        push @lines, $1
            if $line =~ /\] \d+#\d+: \*\d+ (video_api (?:videos \w+|video): .*)$/;
    }
    return @lines;
}

sub mark { return -s "$dir/logs/debug.log" // 0 }

# a GET the cache cannot answer: Redis, then PostgreSQL, then the answer
redis_cmd('DEL', "video:$id");
my $at = mark();
my ($status) = http_request($port, 'GET', "/api/videos/$id");
is $status, 200, 'GET of an uncached video';
is_deeply [story($at)], [
    'video_api videos get: read',
    'video_api video: cache',
    'video_api video: redis, then cached',
    'video_api video: cached',
    'video_api video: database',
    'video_api video: statement "videos_get"',
    'video_api video: row',
    'video_api videos get: answer',
    'video_api videos get: answered 0',
], 'its debug log tells the read: cache miss, statement, answer';

# the same GET again: the cache answers, no statement
$at = mark();
($status) = http_request($port, 'GET', "/api/videos/$id");
is $status, 200, 'GET of the video, cached now';
is_deeply [story($at)], [
    'video_api videos get: read',
    'video_api video: cache',
    'video_api video: redis, then cached',
    'video_api video: cached',
    'video_api videos get: answer',
    'video_api videos get: answered 0',
], 'its debug log tells a cache hit';

# DELETE: a transaction of four statements on one held connection, then
# the tombstone in the cache
$at = mark();
($status) = http_request($port, 'DELETE', "/api/videos/$id");
is $status, 200, 'DELETE of the video';
is_deeply [story($at)], [
    'video_api videos delete: begin',
    'video_api videos delete: statement "videos_begin", held',
    'video_api videos delete: delete',
    'video_api videos delete: statement "videos_delete", held',
    'video_api videos delete: job',
    'video_api videos delete: statement "videos_cleanup_job", held',
    'video_api videos delete: commit',
    'video_api videos delete: statement "videos_commit"',
    'video_api videos delete: committed',
    'video_api videos delete: redis, then answer',
    'video_api videos delete: answer',
    'video_api videos delete: answered 0',
], 'its debug log tells the transaction step by step';

# the route answers a missing video in its own step, the run ends there
$at = mark();
($status) = http_request($port, 'GET', "/api/videos/$id/progress");
is $status, 404, 'progress of the deleted video is a 404';
is_deeply [story($at)], [
    'video_api videos progress: read',
    'video_api videos progress: statement "videos_progress"',
    'video_api videos progress: answer',
    'video_api videos progress: answered 0',
], 'its debug log tells the read and the 404';

done_testing;

sub redis_cmd {
    my @args = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ENV{TEST_NGINX_REDIS_PORT})
        or die "redis: $!";
    print $sock '*' . @args . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @args);
    my $reply = <$sock>;
    close $sock;
    return $reply;
}
