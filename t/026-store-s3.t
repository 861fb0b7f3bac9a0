# The local object store used by a real S3 client: Debian's aws-cli v2
# (its own SDK core), configured as an operator would (endpoint, path
# style, the storage keys), signs in the Authorization header.  PutObject
# answers the ETag the store computed (the MD5 of the body), HeadObject
# and GetObject answer it with the length and the stored Content-Type,
# Content-MD5 and the signed payload hash are checked (a body that fails
# leaves nothing), If-Match guards reads, DeleteObject removes; a wrong
# secret, a skewed clock and what the store does not implement (aws-chunked
# bodies, additional checksums) are S3's own errors and change nothing.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use Digest::MD5 qw(md5_hex md5_base64);
use JSON::PP ();

my $aws = '/usr/bin/aws';
plan skip_all => "no $aws (Debian's awscli)" unless -x $aws;

my $dir = "$ENV{PWD}/t/servroot-store-s3";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 95;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";

END { nginx_stop($dir) if $dir; }

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/.incoming";
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    system('chown', '-R', "$uid:$gid", $data);
}

nginx_start($dir, $port, <<"CONF", '');
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
${\ store_server($store, $data, '64m')}
CONF

# the aws-cli as an operator configures it: its own files, nothing of the
# machine's environment
my $home = "$dir/aws";
mkdir $home;
open my $cf, '>', "$home/config" or die;
print $cf "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n";
close $cf;
sub creds {
    my ($secret) = @_;
    open my $fh, '>', "$home/credentials" or die;
    print $fh "[default]\naws_access_key_id = videoapi\naws_secret_access_key = $secret\n";
    close $fh;
}
creds('videoapi-secret');
$ENV{AWS_CONFIG_FILE} = "$home/config";
$ENV{AWS_SHARED_CREDENTIALS_FILE} = "$home/credentials";
$ENV{AWS_EC2_METADATA_DISABLED} = 'true';
$ENV{AWS_PAGER} = '';
delete @ENV{grep { /^AWS_(ACCESS|SECRET|SESSION|PROFILE|DEFAULT_REGION|REGION)/ } keys %ENV};

# (exit status, stdout, stderr) of an aws-cli command
sub aws {
    my (@args) = @_;
    my $err = File::Temp->new;
    open my $fh, '-|', join(' ', map { quotemeta } $aws, '--endpoint-url', $endpoint, @args)
         . ' 2>' . $err->filename or die $!;
    local $/;
    my $out = <$fh> // '';
    close $fh;
    my $status = $? >> 8;
    my $stderr = do { local (@ARGV) = ($err->filename); <> } // '';
    return ($status, $out, $stderr);
}

sub file_with {
    my ($content) = @_;
    my $f = File::Temp->new;
    binmode $f;
    print $f $content;
    close $f;
    return $f;
}

my $payload = join '', map { chr(($_ * 13) % 251) } 0 .. 299_999;
my $src = file_with($payload);
my $md5 = md5_hex($payload);
my ($rc, $out, $err);

# -- aws s3 cp up and down ---------------------------------------------------

($rc, $out, $err) = aws('s3', 'cp', $src->filename, 's3://videos-raw/cli/a.bin',
                        '--content-type', 'video/mp4');
is $rc, 0, 'aws s3 cp uploads' or diag $err;
is -s "$data/videos-raw/cli/a.bin", length($payload), 'the object is on disk';

($rc, $out, $err) = aws('s3api', 'head-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin');
is $rc, 0, 'aws s3api head-object' or diag $err;
my $head = eval { JSON::PP::decode_json($out) } // {};
is $head->{ETag}, qq("$md5"), 'its ETag is the MD5 of the body';
is $head->{ContentLength}, length($payload), 'its length';
is $head->{ContentType}, 'video/mp4', 'the Content-Type given at upload';
like $head->{LastModified} // '', qr/^\d{4}-\d\d-\d\dT/, 'and when it was stored';

my $dst = "$dir/back.bin";
($rc, $out, $err) = aws('s3', 'cp', 's3://videos-raw/cli/a.bin', $dst);
is $rc, 0, 'aws s3 cp downloads' or diag $err;
ok do { local (@ARGV, $/) = ($dst); <> } eq $payload, 'the same bytes';

($rc, $out, $err) = aws('s3api', 'get-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin',
                        '--range', 'bytes=100-199', "$dir/range.bin");
is $rc, 0, 'get-object of a range' or diag $err;
is do { local (@ARGV, $/) = ("$dir/range.bin"); <> }, substr($payload, 100, 100), 'its hundred bytes';

($rc, $out, $err) = aws('s3api', 'get-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin',
                        '--if-match', '"0123456789abcdef0123456789abcdef"', "$dir/no.bin");
isnt $rc, 0, 'get-object if-match another ETag fails';
like $err, qr/PreconditionFailed|412/, 'with 412 Precondition Failed';
($rc) = aws('s3api', 'get-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin',
            '--if-match', qq("$md5"), "$dir/yes.bin");
is $rc, 0, 'and succeeds with its own';

# -- put-object: Content-MD5 -------------------------------------------------

my $small = file_with("hello, store\n");
($rc, $out, $err) = aws('s3api', 'put-object', '--bucket', 'videos-raw', '--key', 'cli/b.txt',
                        '--body', $small->filename, '--content-type', 'text/plain',
                        '--content-md5', md5_base64("hello, store\n") . '==');
is $rc, 0, 'put-object with the right Content-MD5' or diag $err;
like $out, qr/"ETag": "\\"@{[md5_hex("hello, store\n")]}\\""/, 'answers the ETag';
($rc, $out, $err) = aws('s3api', 'put-object', '--bucket', 'videos-raw', '--key', 'cli/c.txt',
                        '--body', $small->filename,
                        '--content-md5', md5_base64('something else') . '==');
isnt $rc, 0, 'put-object with a Content-MD5 of other bytes fails';
like $err, qr/BadDigest/, 'BadDigest';
ok !-e "$data/videos-raw/cli/c.txt", 'nothing stored';

# -- what is refused ---------------------------------------------------------

($rc, $out, $err) = aws('s3api', 'put-object', '--bucket', 'videos-raw', '--key', 'cli/d.txt',
                        '--body', $small->filename, '--checksum-algorithm', 'CRC32');
isnt $rc, 0, 'an additional checksum (CRC32) is not pretended to be checked';
like $err, qr/NotImplemented/, 'NotImplemented';
ok !-e "$data/videos-raw/cli/d.txt", 'nothing stored';

creds('not-the-secret');
($rc, $out, $err) = aws('s3', 'cp', $small->filename, 's3://videos-raw/cli/e.txt');
isnt $rc, 0, 'another secret: refused';
like $err, qr/SignatureDoesNotMatch|403/, 'SignatureDoesNotMatch';
ok !-e "$data/videos-raw/cli/e.txt", 'nothing stored';
($rc, $out, $err) = aws('s3api', 'head-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin');
isnt $rc, 0, 'nor read';
creds('videoapi-secret');

($rc, $out, $err) = aws('s3', 'cp', $small->filename, 's3://elsewhere/cli/e.txt');
isnt $rc, 0, 'a bucket not served here: refused';
like $err, qr/AccessDenied|403/, 'AccessDenied';

($rc, $out, $err) = aws('s3api', 'head-object', '--bucket', 'videos-raw', '--key', 'cli/none');
isnt $rc, 0, 'head-object of a key that is not there fails';
like $err, qr/404|Not Found/, 'with 404';

# signed requests of other shapes, with botocore (the SDK the aws-cli is
# built on) directly: a body that is not the one whose SHA-256 was signed,
# a clock 20 minutes off, an aws-chunked payload
my $py = <<'PY';
import sys, datetime, botocore.session, botocore.auth, botocore.awsrequest, botocore.credentials, urllib.request, hashlib
endpoint, what = sys.argv[1], sys.argv[2]
creds = botocore.credentials.Credentials('videoapi', 'videoapi-secret')
body = b'the signed body'
url = endpoint + '/videos-raw/cli/signed-' + what
req = botocore.awsrequest.AWSRequest(method='PUT', url=url, data=body)
req.headers['x-amz-content-sha256'] = hashlib.sha256(body).hexdigest()
if what == 'chunked':
    req.headers['x-amz-content-sha256'] = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
    req.headers['Content-Encoding'] = 'aws-chunked'
class Skewed(botocore.auth.S3SigV4Auth):
    def _modify_request_before_signing(self, request):
        super()._modify_request_before_signing(request)
        if what == 'skewed':
            t = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
            request.headers.replace_header('X-Amz-Date', t.strftime('%Y%m%dT%H%M%SZ'))
            request.context['timestamp'] = t.strftime('%Y%m%dT%H%M%SZ')
auth = Skewed(creds, 's3', 'us-east-1')
auth.add_auth(req)
p = req.prepare()
data = b'not the signed body' if what == 'tampered' else body
r = urllib.request.Request(p.url, data=data, method='PUT', headers=dict(p.headers))
r.add_header('Content-Length', str(len(data)))
try:
    resp = urllib.request.urlopen(r)
    print(resp.status, resp.headers.get('ETag'))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
for my $case (['ok', qr/^200 "/, 'a body whose SHA-256 was signed: stored'],
              ['tampered', qr/^400 .*XAmzContentSHA256Mismatch/s, 'another body than the signed one: XAmzContentSHA256Mismatch'],
              ['skewed', qr/^403 .*RequestTimeTooSkewed/s, 'a clock 20 minutes off: RequestTimeTooSkewed'],
              ['chunked', qr/^501 .*NotImplemented/s, 'an aws-chunked payload: NotImplemented'])
{
    my ($what, $re, $name) = @$case;
    open my $fh, '-|', 'python3', '-c', $py, $endpoint, $what or die $!;
    local $/;
    my $res = <$fh> // '';
    close $fh;
    like $res, $re, $name;
    if ($what eq 'ok') {
        ok -e "$data/videos-raw/cli/signed-ok", 'on disk';
    } else {
        ok !-e "$data/videos-raw/cli/signed-$what", "$what: nothing stored";
    }
}
my @left = glob("$data/.incoming/*");
is scalar(@left), 0, 'no temporary file is left behind';

# -- listing: ListObjectsV2 ------------------------------------------------

for my $k ('ord/a0', 'ord/a/b', 'ord/a-b', 'ord/a/c/d', 'ord/b') {
    ($rc, $out, $err) = aws('s3', 'cp', $small->filename, "s3://videos-raw/$k");
    is $rc, 0, "put $k" or diag $err;
}
($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--no-paginate');
is $rc, 0, 'list-objects-v2' or diag $err;
my $list = eval { JSON::PP::decode_json($out) } // {};
is join(' ', map { $_->{Key} } @{ $list->{Contents} // [] }),
   'ord/a-b ord/a/b ord/a/c/d ord/a0 ord/b', "keys in S3's byte order ('-' < '/' < '0'), whatever the directories";
is $list->{Contents}[0]{ETag}, '"' . md5_hex("hello, store
") . '"', 'each with its ETag';
is $list->{Contents}[0]{Size}, length("hello, store
"), 'and size';
is $list->{KeyCount}, 5, 'KeyCount';

($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--delimiter', '/');
$list = eval { JSON::PP::decode_json($out) } // {};
is join(' ', map { $_->{Key} } @{ $list->{Contents} // [] }), 'ord/a-b ord/a0 ord/b', 'with a delimiter: the keys at that level';
is join(' ', map { $_->{Prefix} } @{ $list->{CommonPrefixes} // [] }), 'ord/a/', 'and the common prefix';

($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--max-keys', '2', '--no-paginate');
$list = eval { JSON::PP::decode_json($out) } // {};
is join(' ', map { $_->{Key} } @{ $list->{Contents} // [] }), 'ord/a-b ord/a/b', 'max-keys 2: the first two';
ok $list->{IsTruncated} && $list->{NextContinuationToken}, 'truncated, with a token';
($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--max-keys', '2', '--no-paginate',
                        '--continuation-token', $list->{NextContinuationToken} // 'x');
$list = eval { JSON::PP::decode_json($out) } // {};
is join(' ', map { $_->{Key} } @{ $list->{Contents} // [] }), 'ord/a/c/d ord/a0', 'the token goes on from there';
($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--continuation-token', 'bm90IGEgdG9rZW4');
isnt $rc, 0, 'a token the store never gave: refused';
like $err, qr/InvalidArgument/, 'InvalidArgument';
($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'ord/',
                        '--start-after', 'ord/a0');
$list = eval { JSON::PP::decode_json($out) } // {};
is join(' ', map { $_->{Key} } @{ $list->{Contents} // [] }), 'ord/b', 'start-after';
($rc, $out, $err) = aws('s3api', 'list-objects-v2', '--bucket', 'videos-raw', '--prefix', 'nothing/here/',
                        '--no-paginate');
is $rc, 0, 'a prefix with no keys';
$list = eval { JSON::PP::decode_json($out) } // {};
is $list->{KeyCount}, 0, 'lists nothing';

($rc, $out, $err) = aws('s3', 'ls', 's3://videos-raw/ord/');
is $rc, 0, 'aws s3 ls' or diag $err;
like $out, qr/^\s+PRE a\/\n.*\s13 a-b\n.*\s13 a0\n.*\s13 b\n\z/s, 'shows the keys and the prefix';
($rc, $out, $err) = aws('s3', 'ls', '--recursive', 's3://videos-raw/ord/');
is scalar(() = $out =~ /^\S+ \S+\s+13 ord\//mg), 5, 'aws s3 ls --recursive: every key';
($rc, $out, $err) = aws('s3', 'rm', '--recursive', 's3://videos-raw/ord/');
is $rc, 0, 'aws s3 rm --recursive: a listing, then each key deleted' or diag $err;
ok !-e "$data/videos-raw/ord", 'nothing is left of them, directories included';

# -- multipart uploads ------------------------------------------------------

# 20 MB: the aws-cli sends it in 8 MB parts, three of them
my $big = join '', map { pack('N', $_ * 2654435761 % 4294967296) } 0 .. 5 * 1024 * 1024 - 1;
my $bigf = file_with($big);
($rc, $out, $err) = aws('s3', 'cp', $bigf->filename, 's3://videos-raw/mp/big.bin',
                        '--content-type', 'video/quicktime');
is $rc, 0, 'aws s3 cp of 20 MB (a multipart upload)' or diag $err;
is -s "$data/videos-raw/mp/big.bin", length($big), 'the whole object is on disk';
my @part_md5 = map { Digest::MD5::md5(substr($big, $_ * 8 * 1024 * 1024, 8 * 1024 * 1024)) } 0 .. 2;
my $mp_etag = md5_hex(join '', @part_md5) . '-3';
($rc, $out) = aws('s3api', 'head-object', '--bucket', 'videos-raw', '--key', 'mp/big.bin');
$head = eval { JSON::PP::decode_json($out) } // {};
is $head->{ETag}, qq("$mp_etag"), "its ETag is S3's multipart one: the MD5 of the parts' MD5s, -3";
is $head->{ContentType}, 'video/quicktime', 'the Content-Type given at the start';
($rc, $out, $err) = aws('s3', 'cp', 's3://videos-raw/mp/big.bin', "$dir/big.back");
ok $rc == 0 && do { local (@ARGV, $/) = ("$dir/big.back"); <> } eq $big, 'read back, the same bytes';
ok !glob("$data/.uploads/*"), 'the upload is gone once complete';

# by hand: create, parts, list, complete and abort, and what is refused
sub mp_json { my ($rc, $out, $err) = aws('s3api', @_); return ($rc, (eval { JSON::PP::decode_json($out) } // {}), $err) }
my ($j, $upload);
($rc, $j, $err) = mp_json('create-multipart-upload', '--bucket', 'videos-raw', '--key', 'mp/hand.bin');
$upload = $j->{UploadId} // '';
like $upload, qr/^[0-9a-f]{32}$/, 'create-multipart-upload gives an upload id' or diag $err;
my $five = file_with('a' x (5 * 1024 * 1024));
my $tail = file_with('tail');
($rc, $j, $err) = mp_json('upload-part', '--bucket', 'videos-raw', '--key', 'mp/hand.bin',
                          '--upload-id', $upload, '--part-number', 1, '--body', $five->filename);
is $j->{ETag}, '"' . md5_hex('a' x (5 * 1024 * 1024)) . '"', 'upload-part 1: its ETag' or diag $err;
($rc, $j, $err) = mp_json('upload-part', '--bucket', 'videos-raw', '--key', 'mp/hand.bin',
                          '--upload-id', $upload, '--part-number', 2, '--body', $tail->filename);
is $j->{ETag}, '"' . md5_hex('tail') . '"', 'upload-part 2';
($rc, $j, $err) = mp_json('list-parts', '--bucket', 'videos-raw', '--key', 'mp/hand.bin',
                          '--upload-id', $upload);
is join(' ', map { "$_->{PartNumber}:$_->{Size}" } @{ $j->{Parts} // [] }), '1:5242880 2:4',
   'list-parts: both, with their sizes' or diag $err;

for my $bad (['another key', '--key', 'mp/other.bin', qr/NoSuchUpload/],
             ['a made-up id', '--upload-id', '0123456789abcdef0123456789abcdef', qr/NoSuchUpload/],
             ['part 0', '--part-number', 0, qr/InvalidArgument|Parameter validation/],
             ['part 10001', '--part-number', 10001, qr/InvalidArgument/])
{
    my ($what, @over) = @$bad;
    my $re = pop @over;
    my %a = ('--bucket' => 'videos-raw', '--key' => 'mp/hand.bin', '--upload-id' => $upload,
             '--part-number' => 3, '--body' => $tail->filename, @over);
    ($rc, $out, $err) = aws('s3api', 'upload-part', %a);
    isnt $rc, 0, "upload-part for $what: refused";
    like $err, $re, "$what: $re";
}
ok !-e "$data/videos-raw/mp/other.bin", 'nothing of them stored as an object';

my $md5_1 = md5_hex('a' x (5 * 1024 * 1024));
my $md5_2 = md5_hex('tail');
sub complete_with {
    my ($json) = @_;
    my $f = file_with($json);
    return aws('s3api', 'complete-multipart-upload', '--bucket', 'videos-raw', '--key', 'mp/hand.bin',
               '--upload-id', $upload, '--multipart-upload', 'file://' . $f->filename);
}
($rc, $out, $err) = complete_with(qq({"Parts":[{"PartNumber":1,"ETag":"$md5_2"},{"PartNumber":2,"ETag":"$md5_2"}]}));
like $err, qr/InvalidPart\b/, 'complete with a wrong ETag: InvalidPart';
($rc, $out, $err) = complete_with(qq({"Parts":[{"PartNumber":2,"ETag":"$md5_2"},{"PartNumber":1,"ETag":"$md5_1"}]}));
like $err, qr/InvalidPartOrder/, 'parts out of order: InvalidPartOrder';
($rc, $out, $err) = complete_with(qq({"Parts":[{"PartNumber":2,"ETag":"$md5_2"},{"PartNumber":3,"ETag":"$md5_2"}]}));
like $err, qr/InvalidPart\b/, 'a part never uploaded: InvalidPart';
ok !-e "$data/videos-raw/mp/hand.bin", 'none of them made the object';
($rc, $out, $err) = complete_with(qq({"Parts":[{"PartNumber":1,"ETag":"$md5_1"},{"PartNumber":2,"ETag":"$md5_2"}]}));
is $rc, 0, 'complete with both parts' or diag $err;
is -s "$data/videos-raw/mp/hand.bin", 5 * 1024 * 1024 + 4, 'the object: both parts';
($rc, $out, $err) = complete_with(qq({"Parts":[{"PartNumber":1,"ETag":"$md5_1"},{"PartNumber":2,"ETag":"$md5_2"}]}));
like $err, qr/NoSuchUpload/, 'completed once: the upload is gone';

# a part under 5 MB that is not the last
($rc, $j) = mp_json('create-multipart-upload', '--bucket', 'videos-raw', '--key', 'mp/small.bin');
$upload = $j->{UploadId} // '';
for my $n (1, 2) {
    aws('s3api', 'upload-part', '--bucket', 'videos-raw', '--key', 'mp/small.bin',
        '--upload-id', $upload, '--part-number', $n, '--body', $tail->filename);
}
my $sf = file_with(qq({"Parts":[{"PartNumber":1,"ETag":"$md5_2"},{"PartNumber":2,"ETag":"$md5_2"}]}));
($rc, $out, $err) = aws('s3api', 'complete-multipart-upload', '--bucket', 'videos-raw', '--key', 'mp/small.bin',
                        '--upload-id', $upload, '--multipart-upload', 'file://' . $sf->filename);
like $err, qr/EntityTooSmall/, 'a first part of 4 bytes: EntityTooSmall';

# a part PUT from a page on another origin, as the web page sends it: a
# presigned UploadPart, the bytes and no other header; the page must read
# the part's ETag, and the refusal of an expired URL (to ask for a new one)
sub part_url {
    my (@opts) = @_;
    open my $fh, '-|', '/usr/bin/python3', 't/inc/s3presign.py', 'PUT', $endpoint,
         'videos-raw', 'mp/small.bin', 3600, '--part-number', 3, '--upload-id', $upload,
         '--content-length', 4, @opts or die $!;
    chomp(my $url = <$fh> // '');
    close $fh;
    return $url;
}
my @origin = ('-H', 'Origin: http://app.example.com');
my ($pst, $pbody, $phdr) = curl('-X', 'PUT', '--data-binary', 'tail', '-H', 'Content-Type:',
                                @origin, part_url());
is $pst, 200, 'a presigned UploadPart PUT from another origin: 200';
like $phdr, qr/^ETag: "$md5_2"\r?$/mi, 'with the part\'s ETag';
like $phdr, qr/^Access-Control-Allow-Origin: \*\r?$/mi, 'the origin is allowed';
is scalar(() = $phdr =~ /^Access-Control-Allow-Origin:/mig), 1, 'once';
like $phdr, qr/^Access-Control-Expose-Headers: ETag\r?$/mi,
     'and its script may read the ETag (Access-Control-Expose-Headers)';
($pst, $pbody, $phdr) = curl('-X', 'PUT', '--data-binary', 'tail', '-H', 'Content-Type:',
                             @origin, part_url('--time', time - 7200));
is $pst, 403, 'an expired part URL: 403';
like $pbody, qr{<Code>RequestExpired</Code>}, 'RequestExpired';
like $phdr, qr/^Access-Control-Allow-Origin: \*\r?$/mi,
     'the refusal carries the CORS headers too, so the page reads it';
like $phdr, qr/^Access-Control-Expose-Headers: ETag\r?$/mi, 'and Expose-Headers';
is scalar(() = $phdr =~ /^Access-Control-(?:Allow-Origin|Expose-Headers):/mig), 2,
   'each once (browsers refuse an origin given twice)';
($rc, $j) = mp_json('list-parts', '--bucket', 'videos-raw', '--key', 'mp/small.bin',
                    '--upload-id', $upload);
is join(' ', map { "$_->{PartNumber}:$_->{Size}" } @{ $j->{Parts} // [] }), '1:4 2:4 3:4',
   'list-parts: the browser\'s part 3 is there, once';

($rc, $out, $err) = aws('s3api', 'abort-multipart-upload', '--bucket', 'videos-raw', '--key', 'mp/small.bin',
                        '--upload-id', $upload);
is $rc, 0, 'abort-multipart-upload' or diag $err;
ok !-e "$data/.uploads/$upload", 'its parts are gone';
($rc, $out, $err) = aws('s3api', 'list-parts', '--bucket', 'videos-raw', '--key', 'mp/small.bin',
                        '--upload-id', $upload);
like $err, qr/NoSuchUpload/, 'and it is no more';
ok !-e "$data/videos-raw/mp/small.bin", 'no object';

# -- aws s3 rm ---------------------------------------------------------------

($rc, $out, $err) = aws('s3', 'rm', 's3://videos-raw/cli/a.bin');
is $rc, 0, 'aws s3 rm' or diag $err;
ok !-e "$data/videos-raw/cli/a.bin", 'the object is gone';
($rc) = aws('s3api', 'head-object', '--bucket', 'videos-raw', '--key', 'cli/a.bin');
isnt $rc, 0, 'and head-object finds nothing';

my $log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'no alerts, no crashed worker';

done_testing;
