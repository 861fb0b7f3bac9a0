# The local object store: presigned URLs made by botocore (the reference
# S3 client) work for PUT, GET with ranges, HEAD and DELETE; tampered,
# expired, wrong-key and unsigned requests get S3's 403 XML and change
# nothing; keys cannot escape the data directory.  An upload the API
# presigns takes exactly the size and type presign checked, once: any
# other PUT with its URL is refused before a byte is stored, a second one
# (even racing the first, even after completion) gets 412; botocore,
# the AWS Common Runtime's signer and aws-cli's presigns bind the same.
# Completing needs a presigned upload, once.
#
# memcheck: yes (scripts/test.sh runs it again with nginx under valgrind)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use POSIX ();

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
psql('TRUNCATE videos, outbox, uploads CASCADE');

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
${\ store_server($store, $data, '4m')}
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
is $status, 403, 'a POST with a URL signed for GET: refused (the method is signed)';
like $body, qr{<Error><Code>SignatureDoesNotMatch</Code>}, 'SignatureDoesNotMatch';
($status, $body) = curl('-X', 'PATCH', presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 405, 'PATCH is not a method of the store';

my $big = File::Temp->new;
print $big 'x' x (5 * 1024 * 1024);
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

# -- conditional PUTs ------------------------------------------------------

my $empty = File::Temp->new;
close $empty;
my $cond = presign('PUT', 'videos-raw', 'cond/new.mp4');
($status, undef, $headers) = curl('-X', 'PUT', '--upload-file', $empty->filename,
                            '-H', 'If-None-Match: *', $cond);
is $status, 200, 'If-None-Match: * creates an empty object: 200, as S3 answers';
like $headers, qr/^ETag: "d41d8cd98f00b204e9800998ecf8427e"\r?$/mi, 'with the MD5 of no bytes as its ETag';
ok -f "$data/videos-raw/cond/new.mp4" && -z _, 'empty, under its key';
($status, $body) = curl('-X', 'PUT', '--upload-file', $file->filename,
                        '-H', 'If-None-Match: *', $cond);
is $status, 412, 'and not twice, signed or not';
like $body, qr{<Error><Code>PreconditionFailed</Code>}, 'PreconditionFailed';
ok -z "$data/videos-raw/cond/new.mp4", 'unchanged';

($status) = curl('-X', 'PUT', '--upload-file', $file->filename, $cond);
is $status, 200, 'a PUT without it replaces the object, as the workers need';
is -s "$data/videos-raw/cond/new.mp4", 100_000, 'replaced';

for my $h ('If-None-Match: "abc"', 'If-Match: *', 'If-None-Match: *, "abc"') {
    ($status, $body) = curl('-X', 'PUT', '--upload-file', $empty->filename,
                            '-H', $h, presign('PUT', 'videos-raw', 'cond/other.mp4'));
    is $status, 501, "$h: 501";
    like $body, qr{<Error><Code>NotImplemented</Code>}, "$h: NotImplemented";
}
($status) = curl('-X', 'PUT', '--upload-file', $empty->filename,
                 '-H', 'If-None-Match: *', '-H', 'If-None-Match: *',
                 presign('PUT', 'videos-raw', 'cond/other.mp4'));
is $status, 400, 'If-None-Match twice: nginx itself refuses it (400)';
ok !-e "$data/videos-raw/cond/other.mp4", 'none of them stored anything';

# -- an upload the API presigned ------------------------------------------

# a real MP4: five seconds of ffmpeg's test pattern
my $mp4 = "$dir/clip.mp4";
system('ffmpeg', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
       'testsrc=duration=5:size=320x240:rate=25', '-pix_fmt', 'yuv420p',
       '-c:v', 'libx264', '-preset', 'ultrafast', $mp4) == 0
    or die "ffmpeg failed";
my $mp4_size = -s $mp4;

# presign through the API: (uploadUrl, key, video id, answer)
sub presign_upload {
    my ($size, $type) = @_;
    my ($s, $b) = http_request($port, 'POST', '/api/upload/presign',
        qq({"fileName": "clip", "fileSize": $size, "contentType": "$type"}));
    die "presign: $s $b" unless $s == 201;
    my ($u) = $b =~ /"uploadUrl":"([^"]+)"/;
    my ($k) = $b =~ /"key":"([^"]+)"/;
    my ($i) = $k =~ m{^([^/]+)/};
    return ($u, $k, $i, $b);
}

# a file of $n bytes: $c repeated
sub file_of {
    my ($n, $c) = @_;
    my $f = File::Temp->new;
    binmode $f;
    print $f substr($c x $n, 0, $n);
    close $f;
    return $f;
}

sub put_file {
    my ($url, $file, @headers) = @_;
    return curl('-X', 'PUT', '--upload-file', $file,
                (map { ('-H', $_) } @headers), $url);
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    return <$fh>;
}

my $uploads_before = psql('SELECT count(*) FROM uploads');
my ($ps, $pbody) = http_request($port, 'POST', '/api/upload/presign',
    '{"fileName": "a.mp4", "fileSize": 0, "contentType": "video/mp4"}');
is $ps, 400, 'a refused presign';
is psql('SELECT count(*) FROM uploads'), $uploads_before, 'records no upload';

my ($url, $key, $vid);
($url, $key, $vid, $pbody) = presign_upload($mp4_size, 'video/mp4');
like $pbody, qr/"uploadHeaders":\{"Content-Type":"video\/mp4","If-None-Match":"\*"\}/,
     'presign names the headers the upload must carry';
is psql("SELECT key || ' ' || size || ' ' || content_type || ' ' || (completed_at IS NULL) || ' ' || "
        . "(extract(epoch FROM expires_at - created_at) BETWEEN 3590 AND 3610) FROM uploads WHERE video_id = '$vid'"),
   "$key $mp4_size video/mp4 true true", 'and records the upload: key, size, type, expiry';
($status) = put_file($url, $mp4, 'Content-Type: video/mp4', 'If-None-Match: *');
is $status, 200, 'its uploadUrl takes the ffmpeg-made MP4 with those headers';
is -s "$data/videos-raw/$key", $mp4_size, 'which lands under its key in the raw bucket';

# -- what the URL does not allow ---------------------------------------------

# presigned for 10 bytes of video/mp4
my ($url10, $key10, $vid10) = presign_upload(10, 'video/mp4');
my $ten = file_of(10, 'x');
my $three_mb = file_of(3 * 1024 * 1024, '<html>');

sub refused_put {
    my ($what, $file, @headers) = @_;
    my ($s, $b) = put_file($url10, $file, @headers);
    is $s, 403, "$what: 403";
    like $b, qr{<Error><Code>SignatureDoesNotMatch</Code>}, "$what: SignatureDoesNotMatch";
    ok !-e "$data/videos-raw/$vid10", "$what: nothing stored";
}

refused_put('3 MB of text/html', $three_mb, 'Content-Type: text/html',
            'If-None-Match: *');
refused_put('3 MB of video/mp4', $three_mb, 'Content-Type: video/mp4',
            'If-None-Match: *');
refused_put('the right size as text/html', $ten, 'Content-Type: text/html',
            'If-None-Match: *');
refused_put('the right size as another video type', $ten,
            'Content-Type: video/webm', 'If-None-Match: *');
refused_put('the type with parameters', $ten,
            'Content-Type: video/mp4; charset=utf-8', 'If-None-Match: *');
refused_put('one byte more', file_of(11, 'x'), 'Content-Type: video/mp4',
            'If-None-Match: *');
refused_put('one byte less', file_of(9, 'x'), 'Content-Type: video/mp4',
            'If-None-Match: *');
refused_put('without If-None-Match', $ten, 'Content-Type: video/mp4');
refused_put('If-None-Match other than *', $ten, 'Content-Type: video/mp4',
            'If-None-Match: "abc"');
refused_put('without Content-Type', $ten, 'Content-Type:', 'If-None-Match: *');
refused_put('Content-Type twice', $ten, 'Content-Type: video/mp4',
            'Content-Type: video/mp4', 'If-None-Match: *');
refused_put('chunked, without Content-Length', $ten,
            'Transfer-Encoding: chunked', 'Content-Type: video/mp4',
            'If-None-Match: *');

($status) = put_file($url10, $ten, 'Content-Type: video/mp4', 'If-None-Match: *');
is $status, 200, 'the size and type presign checked, as a new object: 200';
is slurp("$data/videos-raw/$key10"), 'x' x 10, 'stored';

my $other = file_of(10, 'y');
($status, $body) = put_file($url10, $other, 'Content-Type: video/mp4', 'If-None-Match: *');
is $status, 412, 'a second PUT with the same URL: 412';
like $body, qr{<Error><Code>PreconditionFailed</Code>}, 'PreconditionFailed';
is slurp("$data/videos-raw/$key10"), 'x' x 10, 'the stored bytes are unchanged';

($ps) = http_request($port, 'POST', "/api/upload/$vid10/complete",
                     qq({"key": "$key10", "title": "Ten bytes"}));
is $ps, 201, 'completed';
isnt psql("SELECT completed_at FROM uploads WHERE video_id = '$vid10'"), '',
     'the upload is marked completed';
($status, $body) = put_file($url10, $other, 'Content-Type: video/mp4', 'If-None-Match: *');
is $status, 412, 'a PUT after completion: 412';
is slurp("$data/videos-raw/$key10"), 'x' x 10, 'the original is unchanged';

# two creates of one key racing: both pass the first look, one wins
my ($url_race, $key_race) = presign_upload(200_000, 'video/mp4');
my %race;
for my $c ('a', 'b') {
    my $f = file_of(200_000, $c);
    open my $fh, '-|', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',
         '--limit-rate', '100k', '-X', 'PUT', '--upload-file', $f->filename,
         '-H', 'Content-Type: video/mp4', '-H', 'If-None-Match: *', $url_race
        or die $!;
    $race{$c} = [$fh, $f];
}
my @codes = sort map { my $fh = $race{$_}[0]; local $/; my $c = <$fh>; close $fh; $c } keys %race;
is "@codes", '200 412', 'two racing creates: one 200, one 412';
my $won = slurp("$data/videos-raw/$key_race") // '';
ok $won eq 'a' x 200_000 || $won eq 'b' x 200_000, 'the object is one whole body';

# -- other clients presign the same ----------------------------------------

# botocore's own signer, the AWS Common Runtime's (python3-awscrt) and
# aws-cli's SDK core, each binding the same headers
for my $signer ('botocore', 'crt', 'awscli') {
    my $k = "clients/$signer/original.mp4";
    my $u = presign('PUT', 'videos-raw', $k, 600, '--signer', $signer,
                    '--content-length', 10, '--content-type', 'video/mp4',
                    '--if-none-match', '*');
    like $u, qr/X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match&/,
         "$signer binds the headers";
    ($status, $body) = put_file($u, $ten, 'Content-Type: text/html', 'If-None-Match: *');
    is $status, 403, "$signer: another type is refused";
    ($status) = put_file($u, $ten, 'Content-Type: video/mp4', 'If-None-Match: *');
    is $status, 200, "$signer: the bound headers are accepted";
    ($status) = put_file($u, $other, 'Content-Type: video/mp4', 'If-None-Match: *');
    is $status, 412, "$signer: and only once";
    is slurp("$data/videos-raw/$k"), 'x' x 10, "$signer: stored";
}

# aws-cli presigns GETs only (aws s3 presign)
{
    local $ENV{AWS_ACCESS_KEY_ID} = 'videoapi';
    local $ENV{AWS_SECRET_ACCESS_KEY} = 'videoapi-secret';
    local $ENV{AWS_DEFAULT_REGION} = 'us-east-1';
    # aws-cli 2.9 presigns with SigV2 unless told otherwise; the store,
    # like every S3 region made since 2014, takes SigV4 only
    my $cfg = File::Temp->new;
    print $cfg "[default]\ns3 =\n    signature_version = s3v4\n";
    close $cfg;
    local $ENV{AWS_CONFIG_FILE} = $cfg->filename;
    local $ENV{AWS_SHARED_CREDENTIALS_FILE} = '/dev/null';
    my $u = qx{aws --endpoint-url $endpoint s3 presign s3://videos-raw/clients/awscli/original.mp4 --expires-in 60};
    chomp $u;
    ($status, $body) = curl($u);
    is $status, 200, 'aws s3 presign: a GET of it';
    is $body, 'x' x 10, 'reads it back';
}

# -- completing it ----------------------------------------------------------

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid/complete",
                             qq({"key": "$key", "title": "My clip"}));
is $ps, 201, 'complete: 201';
like $pbody, qr/^\{"success":true,"data":\{"video":\{"id" : "$vid", "accountId" : "default", "title" : "My clip", "description" : null, "status" : "PENDING", "visibility" : "PRIVATE", "tokenGeneration" : 0, "videoType" : "VOD"/,
     'a PENDING, PRIVATE VOD video';
is psql("SELECT original_key || ' ' || original_size FROM videos WHERE id = '$vid'"),
   "$key $mp4_size", 'with the key and the size storage reported';
is psql("SELECT topic || ' ' || (payload->>'type') || ' ' || (payload->>'videoId') || ' ' || (payload->>'inputKey') FROM outbox WHERE payload->>'videoId' = '$vid'"),
   "video-transcode transcode $vid $key", 'and exactly one transcode job';
my $jobs = psql('SELECT count(*) FROM outbox');

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid/complete",
                             qq({"key": "$key"}));
is $ps, 200, 'completing again answers the existing video';
like $pbody, qr/"title" : "My clip"/, 'unchanged';
is psql('SELECT count(*) FROM outbox'), $jobs, 'and queues no second job';

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
is psql('SELECT count(*) FROM outbox'), $jobs, 'no job';

($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid2/complete",
                             qq({"key": "$key"}));
is $ps, 400, "another video's key is refused";
like $pbody, qr/"path":"key"/, 'naming the key';
($ps) = http_request($port, 'POST', "/api/upload/$vid2/complete", '{"title": ""}');
is $ps, 400, 'no key, empty title: 400';
($ps) = http_request($port, 'POST', '/api/upload/bad-id/complete',
                     '{"key": "bad-id/original.mp4"}');
is $ps, 404, 'a malformed id with a well-formed body: 404';

# an object in the raw bucket that no presign handed out
my $stray = 'strayAAAAAAAAAAAAAAAA';
($status) = curl('-X', 'PUT', '--upload-file', $mp4,
                 presign('PUT', 'videos-raw', "$stray/original.mp4"));
is $status, 200, 'an object put there with a key of the store';
($ps, $pbody) = http_request($port, 'POST', "/api/upload/$stray/complete",
                             qq({"key": "$stray/original.mp4"}));
is $ps, 404, 'completing an id never presigned: 404';
is $pbody, qq({"success":false,"error":{"message":"Upload for video '$stray' not found","status":404,"code":"NOT_FOUND"}}),
   'like an unknown id';
is psql("SELECT count(*) FROM videos WHERE id = '$stray'"), 0, 'no video';
is psql('SELECT count(*) FROM outbox'), $jobs, 'no job';

# the upload's row locked by another completion that commits meanwhile:
# this one waits, sees it decided, and answers that video
my ($url_r, $key_r, $vid_r) = presign_upload(10, 'video/mp4');
($status) = put_file($url_r, $ten, 'Content-Type: video/mp4', 'If-None-Match: *');
is $status, 200, 'another upload';
my $racer = fork // die "fork: $!";
if ($racer == 0) {
    { exec 'psql', $ENV{TEST_NGINX_PG_CONNINFO}, '-XAtq', '-o', '/dev/null', '-c',
           "BEGIN; UPDATE uploads SET completed_at = now() WHERE video_id = '$vid_r';"
           . " INSERT INTO videos (id, title, original_key) VALUES ('$vid_r', 'Raced', '$key_r');"
           . " SELECT pg_sleep(1.5); COMMIT;"; }
    POSIX::_exit(127);
}
ok wait_for(5, sub { psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; UPDATE uploads%'") > 0 }),
   'a completion holds the row';
($ps, $pbody) = http_request($port, 'POST', "/api/upload/$vid_r/complete",
                             qq({"key": "$key_r", "title": "Mine"}));
waitpid $racer, 0;
is $ps, 200, "completing meanwhile answers the other completion's video";
like $pbody, qr/"title" : "Raced"/, 'that video';
is psql('SELECT count(*) FROM outbox'), $jobs, 'and queues nothing';

# a deleted video cannot be completed back into existence
($ps) = http_request($port, 'DELETE', "/api/videos/$vid10");
is $ps, 200, 'a completed upload\'s video deleted';
($ps) = http_request($port, 'POST', "/api/upload/$vid10/complete",
                     qq({"key": "$key10"}));
is $ps, 404, 'completing it again: 404';
is psql("SELECT count(*) FROM videos WHERE id = '$vid10'"), 0, 'no video comes back';

# -- what an object keeps: its ETag (the MD5 of its body) and type ----------

use Digest::MD5 qw(md5_hex md5_base64);
my $md5 = md5_hex($payload);
($status, undef, $headers) = curl('-X', 'PUT', '--upload-file', $file->filename,
                                  '-H', 'Content-Type: video/x-test',
                                  presign('PUT', 'videos-raw', 'meta/a.bin'));
is $status, 200, 'PutObject: 200';
like $headers, qr/^ETag: "$md5"\r?$/mi, 'its ETag is the MD5 the store computed';
($status, $body, $headers) = curl(presign('GET', 'videos-raw', 'meta/a.bin'));
ok $status == 200 && $body eq $payload, 'GetObject: the bytes';
like $headers, qr/^ETag: "$md5"\r?$/mi, 'the same ETag';
like $headers, qr{^Content-Type: video/x-test\r?$}mi, 'the Content-Type given at upload';
like $headers, qr/^Last-Modified: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT\r?$/mi, 'Last-Modified';
($status, undef, $headers) = curl('-I', presign('HEAD', 'videos-raw', 'meta/a.bin'));
ok $status == 200 && $headers =~ /^ETag: "$md5"\r?$/mi
   && $headers =~ /^Content-Length: 100000\r?$/mi
   && $headers =~ m{^Content-Type: video/x-test\r?$}mi, 'HeadObject: ETag, length, type';
($status) = curl('-H', "If-Match: \"$md5\"", presign('GET', 'videos-raw', 'meta/a.bin'));
is $status, 200, 'GET If-Match of its ETag: 200';
($status) = curl('-H', 'If-Match: "0123456789abcdef0123456789abcdef"',
                 presign('GET', 'videos-raw', 'meta/a.bin'));
is $status, 412, 'If-Match of another ETag: 412 (a replaced object is never read)';
($status) = curl('-H', "If-None-Match: \"$md5\"", presign('GET', 'videos-raw', 'meta/a.bin'));
is $status, 304, 'If-None-Match of its ETag: 304';
($status, undef, $headers) = curl('-X', 'PUT', '--upload-file', $file->filename,
                                  presign('PUT', 'videos-raw', 'meta/b.bin'));
($status, undef, $headers) = curl('-I', presign('HEAD', 'videos-raw', 'meta/b.bin'));
like $headers, qr{^Content-Type: binary/octet-stream\r?$}mi, 'no type given: binary/octet-stream, as S3';

# Content-MD5: checked against what arrived; a wrong one stores nothing
($status, undef, $headers) = curl('-X', 'PUT', '--upload-file', $file->filename,
                                  '-H', 'Content-MD5: ' . md5_base64($payload) . '==',
                                  presign('PUT', 'videos-raw', 'meta/c.bin'));
is $status, 200, 'the right Content-MD5: 200';
($status, $body) = curl('-X', 'PUT', '--upload-file', $file->filename,
                        '-H', 'Content-MD5: ' . md5_base64('other') . '==',
                        presign('PUT', 'videos-raw', 'meta/d.bin'));
is $status, 400, 'a Content-MD5 of other bytes: 400';
like $body, qr{<Code>BadDigest</Code>}, 'BadDigest';
ok !-e "$data/videos-raw/meta/d.bin", 'nothing stored';
($status, $body) = curl('-X', 'PUT', '--upload-file', $file->filename,
                        '-H', 'Content-MD5: nonsense',
                        presign('PUT', 'videos-raw', 'meta/d.bin'));
ok $status == 400 && $body =~ /<Code>InvalidDigest<\/Code>/, 'a malformed one: 400 InvalidDigest';
($status, $body) = curl('-X', 'PUT', '--upload-file', $file->filename,
                        '-H', 'Content-Encoding: aws-chunked',
                        presign('PUT', 'videos-raw', 'meta/d.bin'));
ok $status == 501 && $body =~ /<Code>NotImplemented<\/Code>/, 'an aws-chunked body: 501 NotImplemented';
($status, $body) = curl('-X', 'PUT', '--data-binary', '@' . $file->filename,
                        '-H', 'Transfer-Encoding: chunked',
                        presign('PUT', 'videos-raw', 'meta/d.bin'));
ok $status == 411 && $body =~ /<Code>MissingContentLength<\/Code>/, 'no Content-Length: 411 MissingContentLength';
ok !-e "$data/videos-raw/meta/d.bin", 'none of them stored anything';
my @left = glob("$data/.incoming/*");
is scalar(@left), 0, 'and no temporary file is left behind';

# HeadBucket: the bucket is there; another is not served
($status) = curl('-I', presign('HEAD', 'videos-raw', ''));
is $status, 200, 'HeadBucket of a served bucket: 200';

# -- delete ---------------------------------------------------------------

($status) = curl('-X', 'DELETE', presign('DELETE', 'videos-raw', 'vid1/original.mp4'));
is $status, 204, 'DELETE';
ok !-e "$data/videos-raw/vid1/original.mp4", 'the file is gone';
ok !-e "$data/videos-raw/vid1", 'and its directory, left empty';
ok -d "$data/videos-raw", 'not the bucket';
($status) = curl('-X', 'DELETE', presign('DELETE', 'videos-raw', 'vid1/original.mp4'));
is $status, 204, 'DELETE of a key that is not there: 204, as S3';
($status, $body) = curl(presign('GET', 'videos-raw', 'vid1/original.mp4'));
is $status, 404, 'GET after DELETE is a 404';
like $body, qr/NoSuchKey/, 'NoSuchKey';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alerts, no crashed worker';

done_testing;
