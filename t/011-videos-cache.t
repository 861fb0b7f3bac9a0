# The Redis cache in front of GET /api/videos/:id, in one nginx lifetime
# with two workers: reads are cached, writes show at once from any worker,
# Redis down means answers from PostgreSQL, and caching resumes after.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;

plan skip_all => 'no test stack (run through make test)'
    unless $ENV{TEST_NGINX_PG_CONNINFO} && $ENV{TEST_NGINX_REDIS_PORT};

my $dir = "$ENV{PWD}/t/servroot-cache";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 12;
my $rport = $ENV{TEST_NGINX_REDIS_PORT};
my $id = 'cacheAAAAAAAAAAAAAAAA';

END { nginx_stop($dir) if $dir; }

sub redis_cli { my $out = qx{redis-cli -p $rport @_}; chomp $out; $out }
sub title_of {
    my ($status, $body) = http_request($port, 'GET', "/api/videos/$id");
    my ($t) = $body =~ /"title" : "([^"]*)"/;
    return ($status, $t // '');
}
sub etag_of {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or return '';
    print $sock "GET /api/videos/$id HTTP/1.0\r\n\r\n";
    local $/;
    my $resp = <$sock> // '';
    return $resp =~ /^ETag: (\S+)\r$/m ? $1 : '';
}

psql('TRUNCATE videos, outbox CASCADE');
redis_cli("DEL video:$id");
seed_video(id => $id, title => 'one');

my $conf = <<"CONF";
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=2s;
    video_api_redis 127.0.0.1:$rport timeout=500ms cache_ttl=30s;
CONF
nginx_start($dir, $port, $conf);

# nginx_start writes one worker; this suite wants two
system("sed -i 's/^worker_processes 1;/worker_processes 2;/' $dir/conf/nginx.conf");
nginx_stop($dir);
nginx_start_again();
sub nginx_start_again {
    system($ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx', '-p', "$dir/", '-c', 'conf/nginx.conf') == 0
        or die "nginx did not start";
    wait_for(5, sub { (http_request($port, 'GET', '/health'))[0] == 200 })
        or die "nginx is not healthy: " . join(' ', http_request($port, 'GET', '/health'));
}

my ($status, $title) = title_of();
is "$status $title", '200 one', 'first read comes from PostgreSQL';
like redis_cli("GET video:$id"), qr/^\d+:\{"id" : "$id"/, 'and fills the cache';

psql("UPDATE videos SET title = 'behind the cache' WHERE id = '$id'");
for (1 .. 4) {
    ($status, $title) = title_of();
    is "$status $title", '200 one', "read $_ is served from the cache";
}

my $etag_cached = etag_of();
redis_cli("DEL video:$id");
my $etag_db = etag_of();
is $etag_cached, $etag_db, "the ETag is the same from cache and database ($etag_db)";

($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": "two"}');
is $status, 200, 'PATCH';
for (1 .. 4) {
    ($status, $title) = title_of();
    is "$status $title", '200 two', "read $_ after the write shows it, whichever worker answers";
}

# -- list pages --------------------------------------------------------------

sub list_titles {
    my ($status, $body) = http_request($port, 'GET', '/api/videos');
    return join ',', $status, $body =~ /"title" : "([^"]*)"/g;
}
is list_titles(), '200,two', 'a list page';
like redis_cli("KEYS 'video:list:page:*'"), qr/l=20&o=0/, 'is cached';
psql("UPDATE videos SET title = 'list behind the cache' WHERE id = '$id'");
is list_titles(), '200,two', 'and served from the cache';
($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": "two"}');
psql("UPDATE videos SET title = 'two' WHERE id = '$id'");
($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"description": "d"}');
is $status, 200, 'a write through the API';
is list_titles(), '200,two', 'and the next page read is fresh';
psql("UPDATE videos SET title = 'fresh from the database' WHERE id = '$id'");
($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"description": "e"}');
is list_titles(), '200,fresh from the database', 'every write retires the cached pages';
($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": "two"}');

# -- Redis stopped ---------------------------------------------------------

stack(qw(stop redis));

($status, $title) = title_of();
is "$status $title", '200 two', 'Redis down: reads still answer 200 from PostgreSQL';
my ($hs, $hbody) = http_request($port, 'GET', '/health');
is $hs, 503, 'health is 503';
like $hbody, qr/"postgres":"up","redis":"down"/, 'naming Redis';

($status) = http_request($port, 'PATCH', "/api/videos/$id", '{"title": "three"}');
is $status, 200, 'a write with Redis down still succeeds';
($status, $title) = title_of();
is "$status $title", '200 three', 'and reads show it';
is list_titles(), '200,three', 'lists too';

# -- Redis back -------------------------------------------------------------

stack(qw(start redis));
ok wait_for(10, sub { (http_request($port, 'GET', '/health'))[0] == 200 }),
   'health recovers by itself';

# the write made while Redis was down must not be hidden by the old entry
ok wait_for(5, sub { (title_of())[1] eq 'three' }),
   'no stale entry from before the outage is served';
is list_titles(), '200,three', 'no stale list page either';

http_request($port, 'GET', "/api/videos/$id") for 1 .. 2;
like redis_cli("GET video:$id"), qr/"title" : "three"/, 'caching resumes';
psql("UPDATE videos SET title = 'behind again' WHERE id = '$id'");
($status, $title) = title_of();
is "$status $title", '200 three', 'reads come from the cache again';

# -- delete -----------------------------------------------------------------

($status) = http_request($port, 'DELETE', "/api/videos/$id");
is $status, 200, 'DELETE';
for (1 .. 4) {
    ($status) = http_request($port, 'GET', "/api/videos/$id");
    is $status, 404, "read $_ after the delete is a 404";
}

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alerts, no crashed worker';

done_testing;
