# Multipart direct uploads through the API, against the built-in store:
# start creates the multipart upload in storage and hands out presigned
# part URLs that bind each part's size; more URLs come in batches; the
# parts storage has are listed for a client that resumes; complete sends
# the parts' ETags to storage (which checks them), then makes the video
# and its transcode job, with the object's ETag recorded and in the job;
# abort ends it in storage.  Every hostile input (part numbers out of
# range, repeated, missing parts, wrong ETags, another account's upload, a
# viewer, sizes past the maximum or the quota) gets a clear error and
# changes nothing.  URLs for clients use public_endpoint.  The README's
# curl walk-through runs as it is written.
#
# sanitizers: yes

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use Digest::MD5 qw(md5_hex md5);
use JSON::PP;

my $dir = "$ENV{PWD}/t/servroot-multipart";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 66;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $public = "http://localhost:$store";
my $data = "$dir/store";
my $MiB = 1024 * 1024;

END { nginx_stop($dir) if $dir; }

my %key = access_reset(
    accounts => [['mpA'], ['mpB'], ['mpQ', qw(--max-bytes 20000000)]],
    keys => [['adminA', 'mpA', 'admin'], ['editorA', 'mpA', 'editor'],
             ['viewerA', 'mpA', 'viewer'], ['editorB', 'mpB', 'editor'],
             ['editorQ', 'mpQ', 'editor']]);
$VideoApi::KEY = '';
psql('TRUNCATE outbox');

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;

if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    chown $uid, $gid, $data;
}

nginx_start($dir, $port, <<"CONF", <<"SERVER");
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=5s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=multipart-secret
                      public_endpoint=$public max_upload=200m;
${\ store_server($store, $data, '64m')}
CONF
${\ probe_location($endpoint)}
SERVER

my $json = JSON::PP->new->canonical;

sub api {
    my ($who, $method, $path, $body) = @_;
    my ($s, $b) = http_request($port, $method, $path,
                               defined $body ? $json->encode($body) : undef,
                               "Authorization: Bearer $key{$who}\r\n");
    my $d = eval { $json->decode($b) } // {};
    return ($s, $d, $b);
}

# a file of 20 MiB and 5 bytes: parts of 8 MiB, 8 MiB and 4 MiB + 5
my $size = 20 * $MiB + 5;
my $content = join '', map { pack('N', $_ * 2654435761 % 4294967296) } 0 .. ($size / 4);
$content = substr($content, 0, $size);
my @slices = (substr($content, 0, 8 * $MiB), substr($content, 8 * $MiB, 8 * $MiB),
              substr($content, 16 * $MiB));

sub slice_file {
    my ($bytes) = @_;
    my $f = File::Temp->new;
    binmode $f;
    print $f $bytes;
    close $f;
    return $f;
}
my @files = map { slice_file($_) } @slices;

sub put_part {
    my ($url, $file) = @_;
    my ($s, $b, $h) = curl('-X', 'PUT', '-H', 'Expect:', '--upload-file',
                           $file->filename, $url);
    my ($etag) = $h =~ /^ETag:\s*(\S+)/mi;
    return ($s, $etag, $b);
}

sub uploads_dir_entries {
    opendir my $dh, "$data/.uploads" or return 0;
    my @e = grep { !/^\./ } readdir $dh;
    return scalar @e;
}

my ($s, $d, $raw);

# -- start ------------------------------------------------------------------

($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
               {fileName => 'long.mp4', fileSize => $size, contentType => 'video/mp4'});
is $s, 201, 'start: 201';
my $up = $d->{data};
my $vid = $up->{videoId};
like $vid, qr/\A[A-Za-z0-9_-]{21}\z/, 'a new video id';
is $up->{key}, "$vid/original.mp4", 'the key';
is $up->{fileSize}, $size, 'the size';
is $up->{partSize}, 8 * $MiB, 'parts of 8 MiB';
is $up->{partCount}, 3, 'three parts';
is $up->{expiresIn}, 3600, 'part URLs work an hour';
like $up->{expiresAt}, qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/, 'expiresAt is ISO 8601';
ok length($up->{uploadId}) > 0, 'storage\'s upload id';
is_deeply [map { $_->{partNumber} } @{$up->{parts}}], [1, 2, 3], 'URLs for every part';
is_deeply [map { $_->{size} } @{$up->{parts}}], [8 * $MiB, 8 * $MiB, 4 * $MiB + 5],
    'each with its size';
like $up->{parts}[0]{url}, qr{\A\Q$public\E/videos-raw/\Q$vid\E/original\.mp4\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-SignedHeaders=content-length%3Bhost&partNumber=1&uploadId=\Q$up->{uploadId}\E&X-Amz-Signature=[0-9a-f]{64}\z},
    'a part URL: the public endpoint, the size bound, partNumber and uploadId';
is psql("SELECT size, upload_id, part_size, part_count, completed_at IS NULL FROM uploads WHERE video_id = '$vid'"),
    "$size|$up->{uploadId}|" . (8 * $MiB) . "|3|t", 'the upload is recorded, multipart';
is psql("SELECT used_bytes FROM accounts WHERE id = 'mpA'"), $size,
    'the declared size is held against the account';
ok -d "$data/.uploads/$up->{uploadId}", 'the multipart upload is in storage';

# -- parts ------------------------------------------------------------------

my ($ps, $etag1) = put_part($up->{parts}[0]{url}, $files[0]);
is $ps, 200, 'part 1 PUT';
is $etag1, '"' . md5_hex($slices[0]) . '"', 'its ETag is the MD5 of its bytes';

($ps) = put_part($up->{parts}[1]{url}, $files[0]);
is $ps, 200, 'part 2 with part 1\'s bytes (same size) is storage\'s to take';
($ps) = put_part($up->{parts}[2]{url}, $files[0]);
is $ps, 403, 'part 3 with 8 MiB where its URL binds 4 MiB + 5: refused';

($s, $d) = api('editorA', 'GET', "/api/upload/$vid/parts");
is $s, 200, 'list parts';
is $d->{data}{uploadId}, $up->{uploadId}, 'of this upload';
is_deeply [map { [$_->{partNumber}, $_->{size}, $_->{etag}] } @{$d->{data}{parts}}],
    [[1, 8 * $MiB, $etag1], [2, 8 * $MiB, $etag1]], 'what storage has, with ETags as the PUT gave them';
is $d->{data}{partCount}, 3, 'and how many there are';

# more URLs, in batches

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/parts", {partNumbers => [3, 2]});
is $s, 200, 'a batch of URLs';
is_deeply [map { [$_->{partNumber}, $_->{size}] } @{$d->{data}{parts}}],
    [[3, 4 * $MiB + 5], [2, 8 * $MiB]], 'in the order asked, each with its size';

my ($etag2, $etag3);
($ps, $etag2) = put_part($d->{data}{parts}[1]{url}, $files[1]);
is $ps, 200, 'part 2 again, its own bytes';
is $etag2, '"' . md5_hex($slices[1]) . '"', 'its ETag';

for my $bad ([[], 'an empty list'], [[0], 'part 0'], [[4], 'past the last part'],
             [[1, 1], 'a part twice'], [['1'], 'a string'], [[1.5], 'a fraction'],
             [[1 .. 101], '101 parts'], [[-1], 'a negative part']) {
    ($s, $d) = api('editorA', 'POST', "/api/upload/$vid/parts", {partNumbers => $bad->[0]});
    is $s, 400, "batch with $bad->[1]: 400";
    is $d->{error}{code}, 'VALIDATION_ERROR', "batch with $bad->[1]: VALIDATION_ERROR";
}
($s, $d) = api('editorA', 'POST', "/api/upload/$vid/parts", {});
is $s, 400, 'batch without partNumbers: 400';

# -- hostile callers --------------------------------------------------------

for my $r (['GET', "/api/upload/$vid/parts", undef],
           ['POST', "/api/upload/$vid/parts", {partNumbers => [1]}],
           ['DELETE', "/api/upload/$vid", undef],
           ['POST', "/api/upload/$vid/complete", {key => "$vid/original.mp4", parts => []}]) {
    ($s, $d) = api('editorB', @$r);
    is $s, 404, "another account's editor: $r->[0] $r->[1] is a 404";
    ($s, $d) = api('viewerA', @$r);
    is $s, 403, "a viewer of the account: $r->[0] $r->[1] is a 403";
}
($s) = http_request($port, 'GET', "/api/upload/$vid/parts", undef, "Authorization: Bearer vapi_nothing\r\n");
is $s, 401, 'a bad key: 401';
($s, $d) = api('editorA', 'GET', '/api/upload/not-an-id/parts');
is $s, 404, 'a malformed id: 404';
($s, $d) = api('editorA', 'GET', '/api/upload/AAAAAAAAAAAAAAAAAAAAA/parts');
is $s, 404, 'an unknown id: 404';
ok -d "$data/.uploads/$up->{uploadId}", 'the upload is still open in storage';

# -- complete ---------------------------------------------------------------

my $k = "$vid/original.mp4";
($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete", {key => $k});
is $s, 400, 'complete without parts: 400';
is $d->{error}{details}[0]{path}, 'parts', 'naming parts';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, parts => [{partNumber => 1, etag => $etag1}, {partNumber => 2, etag => $etag2}]});
is $s, 400, 'complete with two of three parts: 400';
like $d->{error}{details}[0]{message}, qr/3 parts/, 'the message says how many';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, parts => [{partNumber => 1, etag => $etag1}, {partNumber => 3, etag => $etag2},
                                     {partNumber => 2, etag => $etag2}]});
is $s, 400, 'parts out of order: 400';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, parts => [{partNumber => 1, etag => $etag1}, {partNumber => 2, etag => $etag2},
                                     {partNumber => 3, etag => '"' . md5_hex('x') . '"'}]});
is $s, 400, 'a part storage does not have: 400';
like $d->{error}{details}[0]{message}, qr/storage refused the parts: InvalidPart/, 'storage said InvalidPart';
is psql("SELECT count(*) FROM videos WHERE id = '$vid'"), 0, 'no video';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/parts", {partNumbers => [3]});
my $etag3x;
($ps, $etag3) = put_part($d->{data}{parts}[0]{url}, $files[2]);
is $ps, 200, 'part 3 PUT';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, parts => [{partNumber => 1, etag => $etag1}, {partNumber => 2, etag => $etag1},
                                     {partNumber => 3, etag => $etag3}]});
is $s, 400, 'part 2 with the ETag of bytes it no longer holds: 400';
like $d->{error}{details}[0]{message}, qr/InvalidPart/, 'InvalidPart';
ok -d "$data/.uploads/$up->{uploadId}", 'a refused complete leaves the upload open';

(my $bare3 = $etag3) =~ s/"//g;
($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, title => 'Long one',
                parts => [{partNumber => 1, etag => $etag1}, {partNumber => 2, etag => $etag2},
                          {partNumber => 3, etag => $bare3}]});
is $s, 201, 'complete: 201';
is $d->{data}{video}{id}, $vid, 'the video';
is $d->{data}{video}{status}, 'PENDING', 'PENDING';
is $d->{data}{video}{title}, 'Long one', 'titled';

my $multi = md5_hex(md5($slices[0]) . md5($slices[1]) . md5($slices[2])) . '-3';
is psql("SELECT original_size, original_etag FROM videos WHERE id = '$vid'"), "$size|$multi",
    'the size and the multipart ETag are recorded';
is psql("SELECT payload::jsonb->>'etag' FROM outbox WHERE payload::jsonb->>'videoId' = '$vid'"), $multi,
    'the transcode job carries the ETag';
is -s "$data/videos-raw/$k", $size, 'the object is whole';
{
    open my $fh, '<', "$data/videos-raw/$k" or die;
    binmode $fh;
    local $/;
    ok md5_hex(<$fh>) eq md5_hex($content), 'byte for byte the file';
}
ok !-d "$data/.uploads/$up->{uploadId}", 'the parts are gone from storage';
is psql("SELECT used_bytes FROM accounts WHERE id = 'mpA'"), $size, 'the account holds the video\'s bytes';

($s, $d) = api('editorA', 'POST', "/api/upload/$vid/complete",
               {key => $k, parts => [{partNumber => 1, etag => $etag1}, {partNumber => 2, etag => $etag2},
                                     {partNumber => 3, etag => $etag3}]});
is $s, 200, 'complete again: 200';
is $d->{data}{video}{id}, $vid, 'the same video';
is psql("SELECT count(*) FROM outbox WHERE payload::jsonb->>'videoId' = '$vid'"), 1, 'one job';

($s, $d) = api('editorA', 'GET', "/api/upload/$vid/parts");
is $s, 409, 'list parts of a completed upload: 409';
($s, $d) = api('editorA', 'POST', "/api/upload/$vid/parts", {partNumbers => [1]});
is $s, 409, 'URLs for a completed upload: 409';
($s, $d) = api('editorA', 'DELETE', "/api/upload/$vid");
is $s, 409, 'abort a completed upload: 409';
is -s "$data/videos-raw/$k", $size, 'the object stays';

# -- abort ------------------------------------------------------------------

($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
               {fileName => 'gone.webm', fileSize => 9 * $MiB, contentType => 'video/webm'});
is $s, 201, 'another start';
my $ab = $d->{data};
is $ab->{partCount}, 2, 'two parts';
($ps) = put_part($ab->{parts}[0]{url}, $files[0]);
is $ps, 200, 'one part uploaded';
($s, $d) = api('editorB', 'DELETE', "/api/upload/$ab->{videoId}");
is $s, 404, 'another account cannot abort it';
ok -d "$data/.uploads/$ab->{uploadId}", 'still open';
($s, $d) = api('editorA', 'DELETE', "/api/upload/$ab->{videoId}");
is $s, 200, 'abort: 200';
is $d->{data}{message}, 'Upload aborted', 'says so';
ok !-d "$data/.uploads/$ab->{uploadId}", 'the parts are gone from storage';
is psql("SELECT count(*) FROM uploads WHERE video_id = '$ab->{videoId}'"), 0, 'the upload is forgotten';
is psql("SELECT used_bytes FROM accounts WHERE id = 'mpA'"), $size, 'its reservation released';
($s, $d) = api('editorA', 'GET', "/api/upload/$ab->{videoId}/parts");
is $s, 404, 'then its parts are a 404';
($s, $d) = api('editorA', 'DELETE', "/api/upload/$ab->{videoId}");
is $s, 404, 'and a second abort too';

# a single PUT upload can be cancelled too: its object goes

($s, $d) = api('editorA', 'POST', '/api/upload/presign',
               {fileName => 'small.mp4', fileSize => 1000, contentType => 'video/mp4'});
is $s, 201, 'a single PUT presign';
my $one = $d->{data};
like $one->{uploadUrl}, qr{\A\Q$public\E/}, 'its URL uses the public endpoint';
my $small = slice_file('y' x 1000);
($ps) = curl('-X', 'PUT', '-H', 'Content-Type: video/mp4', '-H', 'If-None-Match: *',
             '--upload-file', $small->filename, $one->{uploadUrl});
is $ps, 200, 'PUT';
($s, $d) = api('editorA', 'GET', "/api/upload/$one->{videoId}/parts");
is $s, 409, 'a single PUT has no parts: 409';
($s, $d) = api('editorA', 'POST', "/api/upload/$one->{videoId}/complete",
               {key => $one->{key}, parts => [{partNumber => 1, etag => 'abc'}]});
is $s, 400, 'complete of a single PUT with parts: 400';
($s, $d) = api('editorA', 'DELETE', "/api/upload/$one->{videoId}");
is $s, 200, 'cancel it: 200';
ok !-e "$data/videos-raw/$one->{key}", 'its object is gone';
is psql("SELECT count(*) FROM uploads WHERE video_id = '$one->{videoId}'"), 0, 'and its row';

# -- sizes and quotas -------------------------------------------------------

($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
               {fileName => 'huge.mp4', fileSize => 200 * $MiB + 1, contentType => 'video/mp4'});
is $s, 400, 'one byte past max_upload: 400';
is $d->{error}{details}[0]{message}, 'fileSize must be an integer from 1 to 209715200',
    'says the maximum';
for my $bad (0, -1, 1.5, '10', 2**63, 1e300) {
    ($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
                   {fileName => 'x.mp4', fileSize => $bad, contentType => 'video/mp4'});
    is $s, 400, "fileSize $bad: 400";
}
($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
               {fileName => 'x.avi', fileSize => 10, contentType => 'video/avi'});
is $s, 400, 'a type that is not allowed: 400';

my $before = uploads_dir_entries();
($s, $d) = api('editorQ', 'POST', '/api/upload/multipart',
               {fileName => 'big.mp4', fileSize => 20000001, contentType => 'video/mp4'});
is $s, 403, 'past the account\'s byte limit: 403';
is $d->{error}{code}, 'QUOTA_EXCEEDED', 'QUOTA_EXCEEDED';
is uploads_dir_entries(), $before, 'nothing was created in storage';
is psql("SELECT count(*) FROM uploads WHERE account_id = 'mpQ'"), 0, 'nor recorded';

($s, $d) = api('editorQ', 'POST', '/api/upload/multipart',
               {fileName => 'ok.mp4', fileSize => 20000000, contentType => 'video/mp4'});
is $s, 201, 'up to the limit: 201';
is $d->{data}{partCount}, 3, 'in three parts';
($s, $d) = api('editorQ', 'POST', '/api/upload/multipart',
               {fileName => 'more.mp4', fileSize => 1, contentType => 'video/mp4'});
is $s, 403, 'one byte more, while it is open: 403';

# the largest upload S3 allows in 10,000 parts of at least 8 MiB

($s, $d) = api('adminA', 'POST', '/api/upload/multipart',
               {fileName => 'edge.mp4', fileSize => 200 * $MiB, contentType => 'video/mp4'});
is $s, 201, 'max_upload itself: 201';
is $d->{data}{partCount}, 25, '25 parts of 8 MiB';
is scalar @{$d->{data}{parts}}, 25, 'all their URLs';
($s, $d) = api('adminA', 'DELETE', "/api/upload/$d->{data}{videoId}");
is $s, 200, 'aborted';

# -- a retried start with its Idempotency-Key --------------------------------

{
    my $body = $json->encode({fileName => 'retry.mp4', fileSize => 3 * $MiB, contentType => 'video/mp4'});
    my $h = "Authorization: Bearer $key{editorA}\r\nIdempotency-Key: mp-retry-1\r\n";
    my $dirs = uploads_dir_entries();
    my ($s1, $b1) = http_request($port, 'POST', '/api/upload/multipart', $body, $h);
    my ($s2, $b2) = http_request($port, 'POST', '/api/upload/multipart', $body, $h);
    is $s1, 201, 'a start with an Idempotency-Key: 201';
    is $s2, 201, 'its retry: 201';
    is $b2, $b1, 'the same answer, the same upload';
    is uploads_dir_entries(), $dirs + 1, 'one multipart upload in storage';
    my $rid = eval { $json->decode($b1)->{data}{videoId} } // 'none';
    is psql("SELECT count(*) FROM uploads WHERE video_id = '$rid'"), 1, 'one recorded';
    ($s, $d) = api('editorA', 'DELETE', "/api/upload/$rid");
    is $s, 200, 'aborted';
}

# -- storage failing: nothing held ------------------------------------------

SKIP: {
    skip 'needs root (nginx workers as nobody)', 4 unless $> == 0;
    my $held = psql("SELECT used_bytes, used_videos FROM accounts WHERE id = 'mpA'");
    chmod 0, $data;
    ($s, $d) = api('editorA', 'POST', '/api/upload/multipart',
                   {fileName => 'fails.mp4', fileSize => 10 * $MiB, contentType => 'video/mp4'});
    chmod 0755, $data;
    is $s, 503, 'storage refusing CreateMultipartUpload: 503';
    is $d->{error}{code}, 'UNAVAILABLE', 'UNAVAILABLE';
    is psql("SELECT used_bytes, used_videos FROM accounts WHERE id = 'mpA'"), $held,
        'the reservation is given back';
    is psql("SELECT count(*) FROM uploads WHERE key LIKE '%/original.mp4' AND size = " . 10 * $MiB), 0,
        'no upload is recorded';
}

# -- the README's curl walk-through, as it is written there ------------------

{
    my $readme = do { local (@ARGV, $/) = ('README.md'); <> };
    my ($script) = $readme =~ /^With curl .*?```sh\n(.*?)```/ms;
    ok defined $script, 'the README has the curl walk-through';
    $script =~ s{API=http://127\.0\.0\.1:8080}{API=http://127.0.0.1:$port};
    my $work = File::Temp->newdir;
    open my $fh, '>', "$work/big.mp4" or die;
    binmode $fh;
    print $fh $content;
    close $fh;
    open $fh, '>', "$work/walk.sh" or die;
    print $fh $script;
    close $fh;
    local $ENV{KEY} = $key{editorA};
    my $out = qx{cd $work && bash -e -o pipefail walk.sh 2>&1};
    my $answer = eval { $json->decode($out) } // {};
    is $answer->{success}, JSON::PP::true, 'it completes the upload' or diag $out;
    my $id = $answer->{data}{video}{id} // 'none';
    is psql("SELECT original_size, original_etag FROM videos WHERE id = '$id'"), "$size|$multi",
        'the same bytes, in the same three parts';
}

is quota_drift(), '', 'the accounts\' counts match the tables';

my $log = do { local (@ARGV, $/) = ("$dir/logs/error.log"); <> } // '';
unlike $log, qr/\[(?:alert|emerg)\]|header already sent|exited on signal/,
    'no alert, no crash in the error log';

done_testing();
