# Live recordings become VODs: a transcode job naming the FLV nginx-rtmp
# recorded into record_path uploads it to the raw bucket as the original,
# records its size, removes it, and transcodes the LIVE video to READY; a
# recording outside record_path, or one that is neither on disk nor in
# storage, ends FAILED with the reason; a malformed recording is refused.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Digest::MD5 ();
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-recording";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 80;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
# relative, as in conf/worker.conf: the worker resolves it from its
# working directory (the repository, like the suites)
my $rel_rec = 't/servroot-recording/live-rec';
my $rec = "$ENV{PWD}/$rel_rec";
my %workers;     # role => pid

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
}

system('rm', '-rf', $dir);
mkdir $dir;
mkdir $data;
mkdir $rec;
mkdir "$rec/sub";
mkdir "$dir/elsewhere";
mkdir "$data/$_" for qw(videos-raw videos-processed thumbnails);
system('chown', '-R', 'nobody', $data) if $> == 0;

psql('TRUNCATE videos, outbox CASCADE');
system("redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} FLUSHDB >/dev/null");

# jobs of earlier runs must not reach this one's workers
system("scripts/stack.sh rabbitmqctl -q purge_queue $_ >/dev/null 2>&1")
    for qw(video-transcode video-cleanup);

nginx_start($dir, $port, <<"CONF", probe_location($endpoint));
    video_api_postgres "$ENV{TEST_NGINX_PG_CONNINFO}" pool=2 timeout=3s;
    video_api_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
    video_api_storage endpoint=$endpoint region=us-east-1
                      access_key=videoapi secret_key=videoapi-secret;
    video_api_public_url http://127.0.0.1:$port;
    include /etc/nginx/mime.types;
${\ store_server($store, $data, '100m')}
CONF

# -- the workers -------------------------------------------------------------

my %env = worker_env($dir, $port, $endpoint,
                      VIDEO_WORKER_RECORD_PATH => $rel_rec);

sub start_worker {
    my ($role) = @_;
    return $workers{$role} = worker_start($dir, $role, %env);
}

sub worker_log {
    my ($role) = @_;
    return do { local (@ARGV, $/) = ("$dir/logs/worker-$role.log"); <> } // '';
}

start_worker($_) for qw(relay transcode);

# -- helpers -----------------------------------------------------------------

my @alphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '_', '-');

sub new_id {
    return join '', map { $alphabet[int rand @alphabet] } 1 .. 21;
}

# what nginx-rtmp records from an ffmpeg rtmp output: H.264 + AAC in FLV
sub record_flv {
    my ($file) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y',
           '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
           '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '6',
           '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
           '-f', 'flv', $file) == 0 or die "ffmpeg failed";
}

sub md5_of {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    return Digest::MD5->new->addfile($fh)->hexdigest;
}

# what on_record_done writes: the LIVE video PENDING with its original_key
# and the job, in one transaction
sub record_done {
    my ($id, $path, %opt) = @_;
    my $job = $opt{job}
        // qq({"type": "transcode", "videoId": "$id", "inputKey": "$id/recording.flv", "recording": "$path"});
    $job =~ s/'/''/g;
    psql(qq{INSERT INTO videos (id, title, video_type, status, original_key)
            VALUES ('$id', 'Live $id', 'LIVE', 'PENDING', '$id/recording.flv');
            INSERT INTO outbox (topic, payload) VALUES ('video-transcode', '$job')});
}

sub column {
    my ($id, $col) = @_;
    return psql("SELECT $col FROM videos WHERE id = '$id'");
}

sub wait_done {
    my ($id, $seconds) = @_;
    return wait_for($seconds, sub {
        column($id, 'status') =~ /^(READY|FAILED)$/;
    });
}

# -- a recording becomes a VOD ---------------------------------------------

my $live = new_id();
my $flv = "$rec/$live-1732600000.flv";
record_flv($flv);
my $size = -s $flv;
my $md5 = md5_of($flv);

my $probe = qx{ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '$flv'};
is join(' ', sort split ' ', $probe), 'aac h264', 'the FLV holds H.264 and AAC';

record_done($live, $flv);
ok wait_done($live, 120), 'the job ends';
is column($live, 'status'), 'READY', 'the LIVE video becomes READY';
is column($live, 'video_type'), 'LIVE', 'and stays LIVE';
is column($live, 'processing_started_at IS NOT NULL'), 't', 'by way of PROCESSING';
is column($live, 'duration'), 6, 'with its duration';
is column($live, 'thumbnail_key'), "$live/thumbnail.jpg", 'and its thumbnail';
ok -s "$data/thumbnails/$live/thumbnail.jpg", 'which is in storage';
is column($live, 'hls_manifest_key'), "$live/master.m3u8", 'and its manifest';
ok -s "$data/videos-processed/$live/master.m3u8", 'which is in storage';
is psql("SELECT string_agg(resolution, ' ') FROM video_variants WHERE video_id = '$live'"),
   '360p', 'one variant for a 360p recording';
ok -s "$data/videos-processed/$live/360p/playlist.m3u8", 'whose playlist is in storage';

my $raw = "$data/videos-raw/$live/recording.flv";
ok -f $raw, 'the raw bucket holds <id>/recording.flv';
is md5_of($raw), $md5, 'the very recording';
is column($live, 'original_size'), $size, "original_size is the file's size ($size)";
ok !-e $flv, 'the local FLV is gone';

my ($s, $b) = http_request($port, 'GET', "/api/videos/$live");
is $s, 200, 'GET the video';
like $b, qr/"status" : "READY"/, 'READY';
like $b, qr/"videoType" : "LIVE"/, 'a LIVE video';
like worker_log('transcode'), qr/video $live: the recording "\Q$flv\E" \($size bytes\) is in storage as videos-raw\/$live\/recording\.flv/,
     'the transcoder says what it uploaded';

# -- already uploaded by an earlier attempt ----------------------------------

my $again = new_id();
my $gone = "$rec/$again-1732600001.flv";
record_flv("$dir/tmp.flv");
mkdir "$data/videos-raw/$again";
rename "$dir/tmp.flv", "$data/videos-raw/$again/recording.flv" or die $!;
system('chown', '-R', 'nobody', "$data/videos-raw/$again") if $> == 0;

record_done($again, $gone);
ok wait_done($again, 120), 'a redelivered job whose FLV was uploaded before';
is column($again, 'status'), 'READY', 'transcodes the copy in storage to READY';
like worker_log('transcode'), qr/video $again: the recording "\Q$gone\E" is gone/,
     'saying the file is gone';

# -- neither on disk nor in storage ------------------------------------------

my $lost = new_id();
record_done($lost, "$rec/$lost-1732600002.flv");
ok wait_done($lost, 60), 'a recording missing everywhere';
is column($lost, 'status'), 'FAILED', 'FAILED';
is column($lost, 'processing_error'), 'the original is not in storage', 'saying why';

# -- a link in record_path ------------------------------------------------------

# nginx's user writes record_path: a name there that links to a file of
# the host is never followed, whatever it pointed to when checked
{
    my $id = new_id();
    my $secret = "$dir/host-secret.flv";
    record_flv($secret);
    my $link = "$rec/$id-1732600009.flv";
    symlink $secret, $link or die "symlink: $!";
    record_done($id, $link);
    ok wait_done($id, 60), 'a recording that is a symbolic link';
    is column($id, 'status'), 'FAILED', 'FAILED';
    is column($id, 'processing_error'), qq{the recording "$link" is a symbolic link},
       'saying why';
    ok !-e "$data/videos-raw/$id", 'the file it names is not uploaded';
    ok -f $secret, 'nor removed';
}

# -- outside record_path -----------------------------------------------------

for my $case (['another directory', "$dir/elsewhere"],
              ['a subdirectory of record_path', "$rec/sub"]) {
    my ($what, $where) = @$case;
    my $id = new_id();
    my $file = "$where/$id-1732600003.flv";
    record_flv($file);
    my $before = md5_of($file);

    record_done($id, $file);
    ok wait_done($id, 60), "a recording in $what";
    is column($id, 'status'), 'FAILED', 'FAILED';
    is column($id, 'processing_error'),
       qq{the recording "$file" is not in record_path}, 'saying why';
    is md5_of($file), $before, 'the file is untouched';
    ok !-e "$data/videos-raw/$id", 'nothing in the raw bucket';
    is column($id, 'original_size IS NULL'), 't', 'no original_size';
}

# -- storage refusing the upload: retried, the file kept meanwhile -----------

my $retry = new_id();
my $kept = "$rec/$retry-1732600004.flv";
record_flv($kept);
chmod 0555, "$data/videos-raw";
record_done($retry, $kept);
ok wait_for(60, sub { worker_log('transcode') =~ /video $retry, attempt 1 of 3: PUT videos-raw\/$retry\/recording\.flv: HTTP \d+/ }),
   'an upload storage refuses fails transiently';
ok -f $kept, 'the FLV stays';
chmod 0755, "$data/videos-raw";
ok wait_done($retry, 120), 'storage back';
is column($retry, 'status'), 'READY', 'the retry makes the video READY';
ok -f "$data/videos-raw/$retry/recording.flv", 'with the recording in the raw bucket';
ok !-e $kept, 'and the FLV removed';

# -- a malformed recording: the job is refused -------------------------------

my $bad = new_id();
record_done($bad, undef, job => qq({"type": "transcode", "videoId": "$bad", "inputKey": "$bad/recording.flv", "recording": "$rec/../$bad-1.flv"}));
ok wait_for(30, sub { worker_log('transcode') =~ /dead-lettering a malformed transcode job: "recording" has an empty, "\." or "\.\." segment/ }),
   'a recording with ".." is dead-lettered as malformed';
is column($bad, 'status'), 'PENDING', 'the video is left alone';

# -- a job without a recording does not transcode a LIVE video ---------------

my $plain = new_id();
record_done($plain, undef, job => qq({"type": "transcode", "videoId": "$plain", "inputKey": "$plain/recording.flv"}));
ok wait_for(30, sub { worker_log('transcode') =~ /video $plain is READY or gone \(or LIVE, and the job names no recording\)/ }),
   'a LIVE video without a recording in the job: nothing to do';
is column($plain, 'status'), 'PENDING', 'it stays PENDING';

# -- and nothing went wrong on the way ---------------------------------------

kill 'TERM', $workers{transcode};
ok wait_for(20, sub { waitpid($workers{transcode}, POSIX::WNOHANG()) > 0 }),
   'SIGTERM stops the transcoder';
delete $workers{transcode};

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $nlog = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nlog, qr/\[alert\]|\[emerg\]|exited on signal/, 'no nginx alerts, no crashed worker';

done_testing;
