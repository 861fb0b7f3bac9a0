# The local object store: presigned URLs made by botocore (the reference
# S3 client) work for PUT, GET with ranges, HEAD and DELETE; tampered,
# expired, wrong-key and unsigned requests get S3's 403 XML and change
# nothing; keys cannot escape the data directory.
#
# memcheck: yes (scripts/test.sh runs it again with nginx under valgrind)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();

my $dir = "$ENV{PWD}/t/servroot-store";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 13;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";

END { nginx_stop($dir) if $dir; }

# nginx_start empties $dir first: the data directory is made in between
system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;

# as root, nginx's workers run as nobody: they write the data directory
if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    chown $uid, $gid, $data;
}
psql('TRUNCATE videos, outbox CASCADE');

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
${\ store_server($store, $data, '1m')}
CONF
${\ probe_location($endpoint)}
SERVER

sub presign {
    my ($method, $bucket, $key, $expires, @opts) = @_;
    open my $fh, '-|', '/usr/bin/python3', 't/inc/s3presign.py', $method,
         $endpoint, $bucket, $key, $expires // 3600, @opts or die $!;
    my $url = <$fh>;
    close $fh or die "s3presign failed";
    chomp $url;
    return $url;
}

my $payload = join '', map { chr(($_ * 7) % 256) } 0 .. 99_999;
my $file = File::Temp->new;
binmode $file;
print $file $payload;
close $file;

my ($status, $body, $headers);

# -- the round trip -------------------------------------------------------

($status) = curl('-X', 'PUT', '--upload-file', $file->filename,
                 presign('PUT', 'videos-raw', 'vid1/original.mp4'));
like $status, qr/^20[01]$/, "PUT with a presigned URL ($status)";
is -s "$data/videos-raw/vid1/original.mp4", 100_000, 'the object is on disk';

($status, $body) = curl(presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 200, 'GET';
ok $body eq $payload, 'the same bytes come back';

($status, $body, $headers) = curl('-H', 'Range: bytes=10-19',
                                  presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 206, 'a range';
ok $body eq substr($payload, 10, 10), 'is the right ten bytes';
like $headers, qr{Content-Range: bytes 10-19/100000}i, 'with Content-Range';

($status, $body, $headers) = curl('-I', presign('HEAD', 'videos-raw', 'vid1/original.mp4'));
is $status, 200, 'HEAD';
like $headers, qr/Content-Length: 100000/i, 'gives the size';

my $odd = 'vid2/a b+c=d&é~.mp4';
($status) = curl('-X', 'PUT', '--upload-file', $file->filename,
                 presign('PUT', 'thumbnails', $odd));
like $status, qr/^20[01]$/, 'a key with space, +, =, & and unicode';
ok -f "$data/thumbnails/$odd", 'is stored under its name';
($status) = curl(presign('GET', 'thumbnails', $odd));
is $status, 200, 'and read back';

# -- refusals -------------------------------------------------------------

sub refused {
    my ($what, $code, @args) = @_;
    my ($s, $b) = curl(@args);
    is $s, 403, "$what: 403";
    like $b, qr{<Error><Code>$code</Code>}, "$what: $code";
}

my $put = presign('PUT', 'videos-raw', 'vid3/x.mp4');
# the signature's last hex digit, changed
(my $tampered = $put) =~ s/([0-9a-f])$/$1 eq '0' ? '1' : '0'/e;
refused('tampered signature', 'SignatureDoesNotMatch',
        '-X', 'PUT', '--upload-file', $file->filename, $tampered);
(my $other_key = $put) =~ s{vid3/x\.mp4}{vid3/y.mp4};
refused('signature for another key', 'SignatureDoesNotMatch',
        '-X', 'PUT', '--upload-file', $file->filename, $other_key);
refused('GET with a PUT signature', 'SignatureDoesNotMatch', $put);
ok !-e "$data/videos-raw/vid3", 'nothing written by refused PUTs';

refused('expired', 'RequestExpired',
        presign('GET', 'videos-raw', 'vid1/original.mp4', 60, '--time', time - 3600));
refused('signed with another secret', 'SignatureDoesNotMatch',
        presign('GET', 'videos-raw', 'vid1/original.mp4', 60, '--secret-key', 'guess'));
refused('unknown access key', 'AccessDenied',
        presign('GET', 'videos-raw', 'vid1/original.mp4', 60, '--access-key', 'nobody'));
refused('no signature at all', 'AccessDenied', "$endpoint/videos-raw/vid1/original.mp4");
refused('a bucket that is not configured', 'AccessDenied',
        presign('GET', 'secrets', 'x'));

# nginx itself refuses a path above the root (400); anything it lets
# through must be refused by the store (403)
for my $path ('/videos-raw/../../etc/passwd', '/videos-raw/..%2F..%2Fetc%2Fpasswd',
              '/videos-raw/a/../b', '/videos-raw/a//b', '/videos-raw/a%2Fb') {
    (my $escape = presign('GET', 'videos-raw', 'x')) =~ s{/videos-raw/x}{$path};
    ($status, $body) = curl($escape);
    like $status, qr/^40[03]$/, "$path is refused ($status)";
    unlike $body, qr/root:/, "$path serves nothing";
}
(my $escape = presign('GET', 'videos-raw', 'x')) =~ s{/videos-raw/x}{/videos-raw/%2e%2e/x};
refused('encoded dots', 'AccessDenied', $escape);
($status) = curl(presign('GET', 'videos-raw', 'x') =~ s{/videos-raw/x\?}{/videos-raw/x%00y?}r);
ok $status == 400 || $status == 403, "NUL in a key is refused ($status)";

($status, $body) = curl('-X', 'POST', presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 405, 'POST is not a method of the store';

my $big = File::Temp->new;
print $big 'x' x (2 * 1024 * 1024);
close $big;
($status) = curl('-X', 'PUT', '--upload-file', $big->filename,
                 presign('PUT', 'videos-raw', 'vid4/big.mp4'));
is $status, 413, 'a body over client_max_body_size is refused';
ok !-e "$data/videos-raw/vid4", 'and not written';

($status, $body, $headers) = curl('-X', 'OPTIONS', '-H', 'Origin: http://app.example.com',
                                  '-H', 'Access-Control-Request-Method: PUT',
                                  "$endpoint/videos-raw/vid5/original.mp4");
is $status, 204, 'a browser preflight';
like $headers, qr/Access-Control-Allow-Methods: GET, HEAD, PUT, DELETE, OPTIONS/i,
     'allows the store methods';

# -- an upload the API presigned ------------------------------------------

# a real MP4: five seconds of ffmpeg's test pattern
my $mp4 = "$dir/clip.mp4";
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=duration=5:size=320x240:rate=25', '-pix_fmt', 'yuv420p',
       '-c:v', 'libx264', '-preset', 'ultrafast', $mp4) == 0
    or die "ffmpeg failed";
my $mp4_size = -s $mp4;

my ($ps, $pbody) = http_request($port, 'POST', '/api/upload/presign',
    qq({"fileName": "clip.mp4", "fileSize": $mp4_size, "contentType": "video/mp4"}));
is $ps, 201, 'presign through the API';
my ($url) = $pbody =~ /"uploadUrl":"([^"]+)"/;
my ($key) = $pbody =~ /"key":"([^"]+)"/;
($status) = curl('-X', 'PUT', '--upload-file', $mp4, $url);
like $status, qr/^20[01]$/, "its uploadUrl takes an ffmpeg-made MP4 ($status)";
is -s "$data/videos-raw/$key", $mp4_size, 'which lands under its key in the raw bucket';
my ($vid) = $key =~ m{^([^/]+)/};

# -- completing it ----------------------------------------------------------

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid/complete",
                             qq({"key": "$key", "title": "My clip"}));
is $ps, 201, 'complete: 201';
like $pbody, qr/^\{"success":true,"data":\{"video":\{"id" : "$vid", "title" : "My clip", "description" : null, "status" : "PENDING", "visibility" : "PRIVATE", "videoType" : "VOD"/,
     'a PENDING, PRIVATE VOD video';
is psql("SELECT original_key || ' ' || original_size FROM videos WHERE id = '$vid'"),
   "$key $mp4_size", 'with the key and the size storage reported';
is psql("SELECT topic || ' ' || (payload->>'type') || ' ' || (payload->>'videoId') || ' ' || (payload->>'inputKey') FROM outbox"),
   "video-transcode transcode $vid $key", 'and exactly one transcode job';

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid/complete",
                             qq({"key": "$key"}));
is $ps, 200, 'completing again answers the existing video';
like $pbody, qr/"title" : "My clip"/, 'unchanged';
is psql('SELECT count(*) FROM outbox'), 1, 'and queues no second job';

($ps) = http_request($port, 'GET', "/api/videos/$vid");
is $ps, 200, 'the video is in the library';

my ($ps2, $pbody2) = http_request($port, 'POST', '/api/upload/presign',
    '{"fileName": "never.webm", "fileSize": 10, "contentType": "video/webm"}');
my ($key2) = $pbody2 =~ /"key":"([^"]+)"/;
my ($vid2) = $key2 =~ m{^([^/]+)/};
($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid2/complete",
                             qq({"key": "$key2"}));
is $ps, 404, 'completing an upload that never arrived: 404';
like $pbody, qr/not found/, 'saying so';
is psql("SELECT count(*) FROM videos WHERE id = '$vid2'"), 0, 'no video';
is psql('SELECT count(*) FROM outbox'), 1, 'no job';

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid2/complete",
                             qq({"key": "$key"}));
is $ps, 400, "another video's key is refused";
like $pbody, qr/"path":"key"/, 'naming the key';
($ps) = http_request($port, 'POST', "/api/upload/$vid2/complete", '{"title": ""}');
is $ps, 400, 'no key, empty title: 400';
($ps) = http_request($port, 'POST', '/api/upload/bad-id/complete',
                     '{"key": "bad-id/original.mp4"}');
is $ps, 404, 'a malformed id with a well-formed body: 404';

# -- delete ---------------------------------------------------------------

($status) = curl('-X', 'DELETE', presign('DELETE', 'videos-raw', 'vid1/original.mp4'));
is $status, 204, 'DELETE';
ok !-e "$data/videos-raw/vid1/original.mp4", 'the file is gone';
($status, $body) = curl(presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 404, 'GET after DELETE is a 404';
like $body, qr/NoSuchKey/, 'NoSuchKey';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alerts, no crashed worker';

done_testing;
