# The transcoder reads the original with If-Match on the ETag its job
# names (what storage gave the upload when it was completed): the right
# ETag, a single PUT's or a multipart upload's "<md5>-<parts>", transcodes
# to READY; an original replaced after completion, or a job naming another
# ETag, ends FAILED at once ("the original was replaced after the upload
# was completed", no retry, no HLS output, the replaced object left as
# it is); a job without one reads whatever is there, as before; a job
# whose etag could change the header is dead-lettered unread.  Real
# nginx with the built-in store, PostgreSQL, RabbitMQ, video-worker and
# ffmpeg; objects stored by Debian's aws-cli.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use JSON::PP ();
use Digest::MD5 ();

my $aws = '/usr/bin/aws';
plan skip_all => "no $aws (Debian's awscli)" unless -x $aws;

my $dir = "$ENV{PWD}/t/servroot-if-match";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 103;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir "$data/.incoming";
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    system('chown', '-R', "$uid:$gid", $data);
}

psql('TRUNCATE videos, outbox CASCADE');
system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
    for qw(video-transcode video-cleanup);

nginx_start($dir, $port, <<"CONF", '');
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
${\ store_server($store, $data, '64m')}
CONF

my %env = worker_env($dir, $port, $endpoint);
$workers{$_} = worker_start($dir, $_, %env) for qw(relay transcode);

sub worker_log {
    return do { local (@ARGV, $/) = ("$dir/logs/worker-transcode.log"); <> } // '';
}

# aws-cli with its own files: parts of 5 MB from 5 MB on
my $home = "$dir/aws";
mkdir $home;
open my $cf, '>', "$home/config" or die;
print $cf "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"
    . "    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n";
close $cf;
open $cf, '>', "$home/credentials" or die;
print $cf "[default]\naws_access_key_id = videoapi\naws_secret_access_key = videoapi-secret\n";
close $cf;
$ENV{AWS_CONFIG_FILE} = "$home/config";
$ENV{AWS_SHARED_CREDENTIALS_FILE} = "$home/credentials";
$ENV{AWS_EC2_METADATA_DISABLED} = 'true';
$ENV{AWS_PAGER} = '';
delete @ENV{grep { /^AWS_(ACCESS|SECRET|SESSION|PROFILE|DEFAULT_REGION|REGION)/ } keys %ENV};

sub aws {
    my (@args) = @_;
    my $out = qx{@{[ join ' ', map { quotemeta } $aws, '--endpoint-url', $endpoint, @args ]} 2>&1};
    die "aws @args: $out" if $?;
    return $out;
}

# the object's ETag as HeadObject answers it, unquoted
sub etag_of {
    my ($key) = @_;
    my $head = JSON::PP::decode_json(aws('s3api', 'head-object', '--bucket', 'videos-raw',
                                         '--key', $key));
    return $head->{ETag} =~ s/"//gr;
}

# aws s3 cp: a single PUT under 5 MB, a multipart upload from 5 MB on
sub store_original {
    my ($file, $key) = @_;
    aws('s3', 'cp', $file, "s3://videos-raw/$key", '--content-type', 'video/mp4');
    return etag_of($key);
}

sub ffmpeg_clip {
    my ($file, $size, @filter) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y',
           '-f', 'lavfi', '-i', join(',', "testsrc=duration=2:size=$size:rate=30", @filter),
           '-f', 'lavfi', '-i', 'sine=duration=2',
           '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
           @filter ? ('-qp', 0) : (), '-c:a', 'aac', $file) == 0 or die "ffmpeg failed";
}

my $n = 0;
sub new_id { return sprintf 'ifmatch%014d', $n++ }

# what completing an upload leaves: the video PENDING and its job
sub complete {
    my ($id, $key, $etag) = @_;
    my $job = JSON::PP->new->canonical->encode({
        type => 'transcode', videoId => $id, inputKey => $key,
        defined $etag ? (etag => $etag) : () });
    $job =~ s/'/''/g;
    my $e = defined $etag && $etag !~ /[\r\n'"]/ ? "'$etag'" : 'NULL';
    psql(qq{INSERT INTO videos (id, title, status, original_key, original_etag)
            VALUES ('$id', 'If-Match $id', 'PENDING', '$key', $e);
            INSERT INTO outbox (topic, payload) VALUES ('video-transcode', '$job')});
}

sub column {
    my ($id, $col) = @_;
    return psql("SELECT $col FROM videos WHERE id = '$id'");
}

sub wait_done {
    my ($id, $seconds) = @_;
    return wait_for($seconds, sub { column($id, 'status') =~ /^(READY|FAILED)$/ });
}

sub outputs_of {
    my ($id) = @_;
    return scalar grep { -f } glob("$data/videos-processed/$id/* $data/videos-processed/$id/*/* $data/thumbnails/$id/*");
}

my $clip = "$dir/clip.mp4";
ffmpeg_clip($clip, '320x240');
my $other = "$dir/other.mp4";
ffmpeg_clip($other, '160x120');
# noise, losslessly: over 5 MB, so two parts
my $big = "$dir/big.mp4";
ffmpeg_clip($big, '320x240', 'noise=alls=100:allf=t');
ok -s $big > 5 * 1024 * 1024, 'a clip of more than one part (' . (-s $big) . ' bytes)';

my $reason = 'the original was replaced after the upload was completed';

# -- the ETag it was completed with: READY -----------------------------------

my $ok = new_id();
my $ok_etag = store_original($clip, "$ok/original.mp4");
is $ok_etag, Digest::MD5->new->addfile(do { open my $fh, '<', $clip; binmode $fh; $fh })->hexdigest,
   'a single PUT: the ETag is the MD5 of the file';
complete($ok, "$ok/original.mp4", $ok_etag);

my $mp = new_id();
my $mp_etag = store_original($big, "$mp/original.mp4");
like $mp_etag, qr/^[0-9a-f]{32}-2$/, "a multipart upload: the ETag is S3's multipart form ($mp_etag)";
complete($mp, "$mp/original.mp4", $mp_etag);

ok wait_done($ok, 120), 'the job with the right ETag ends';
is column($ok, 'status'), 'READY', 'READY';
ok outputs_of($ok) > 3, 'with its HLS output and thumbnail';
ok wait_done($mp, 120), 'so does the one with the multipart ETag';
is column($mp, 'status'), 'READY', 'READY too';

# -- replaced after completion: FAILED, at once ----------------------------

my $replaced = new_id();
my $first = store_original($clip, "$replaced/original.mp4");
# replaced between the completion (which took $first) and the transcoder
my $second = store_original($other, "$replaced/original.mp4");
isnt $second, $first, 'the object replaced: another ETag';
complete($replaced, "$replaced/original.mp4", $first);

# and one whose job names an ETag the object never had
my $wrong = new_id();
store_original($clip, "$wrong/original.mp4");
complete($wrong, "$wrong/original.mp4", '0123456789abcdef0123456789abcdef-3');

for my $id ($replaced, $wrong) {
    ok wait_done($id, 60), "$id ends";
    is column($id, 'status'), 'FAILED', 'FAILED';
    is column($id, 'processing_error'), $reason, "saying why: $reason";
    is outputs_of($id), 0, 'no HLS output, no thumbnail';
    is column($id, "hls_manifest_key IS NULL AND thumbnail_key IS NULL"), 't', 'none recorded';
    is psql("SELECT count(*) FROM video_variants WHERE video_id = '$id'"), 0, 'no variants';
}
my $log = worker_log();
like $log, qr/video \Q$replaced\E FAILED: \Q$reason\E/, 'the transcoder logs it';
unlike $log, qr/video (\Q$replaced\E|\Q$wrong\E), attempt/, 'a final failure: never retried';
is etag_of("$replaced/original.mp4"), $second, 'the replacing object is left as it is';

# -- a job without an ETag reads what is there -----------------------------

my $plain = new_id();
store_original($clip, "$plain/original.mp4");
store_original($other, "$plain/original.mp4");
complete($plain, "$plain/original.mp4", undef);
ok wait_done($plain, 120), 'a job without an ETag ends';
is column($plain, 'status'), 'READY', 'READY, from the object storage has';
my ($s, $b) = http_request($port, 'GET', "/api/videos/$plain");
like $b, qr/"resolution" : "120p"/, 'the 160x120 one: one 120p rung';

# -- an etag that could change the header: dead-lettered, unread ------------

my $hostile = new_id();
store_original($clip, "$hostile/original.mp4");
complete($hostile, "$hostile/original.mp4", "$ok_etag\r\nX-Evil: 1");
my $quoted = new_id();
store_original($clip, "$quoted/original.mp4");
complete($quoted, "$quoted/original.mp4", qq("$ok_etag"));
ok wait_for(30, sub { (() = worker_log() =~ /dead-lettering a malformed transcode job: "etag" has a quote, a blank or a control character/g) == 2 }),
   'jobs whose etag has CR LF or quotes are dead-lettered as malformed';
is column($_, 'status'), 'PENDING', 'the video is left PENDING, its original unread' for $hostile, $quoted;
is psql("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0, 'every job was published';

$log = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $log, qr/\[alert\]|\[emerg\]|exited on signal/, 'nginx: no alerts';
is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

done_testing;
