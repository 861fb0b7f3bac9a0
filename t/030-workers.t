# The workers with real servers and a real ffmpeg: an upload becomes a
# READY video with an HLS ladder that plays through nginx; jobs wait in the
# outbox while RabbitMQ is down and none is lost or done twice; a
# transcoder killed mid-job leaves the job to another; a file that is not
# a video ends FAILED without blocking the queue; DELETE removes the
# video's objects from storage.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use POSIX ();
use Time::HiRes ();
use Time::Local ();

my $dir = "$ENV{PWD}/t/servroot-workers";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 21;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;     # role => pid

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
    stack(qw(start amqp)) if $ENV{TEST_NGINX_PG_CONNINFO};
}

media_reset($dir, $data);

nginx_start($dir, $port, media_conf($port, $store, $data),
            media_locations($data, $endpoint));

# -- the workers, as make run starts them --------------------------------

# cache_ttl: the worker's own, unlike the module's default (60 s)
my %env = worker_env($dir, $port, $endpoint, VIDEO_WORKER_CACHE_TTL => 30000);

sub start_worker {
    my ($role) = @_;
    return $workers{$role} = worker_start($dir, $role, %env);
}

start_worker($_) for qw(relay transcode cleanup);

# -- helpers ---------------------------------------------------------------

sub ffmpeg_clip {
    my ($file, $seconds, $size) = @_;
    system('ffmpeg', '-loglevel', 'error', '-y',
           '-f', 'lavfi', '-i', "testsrc=duration=$seconds:size=$size:rate=30",
           '-f', 'lavfi', '-i', "sine=duration=$seconds",
           '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
           '-c:a', 'aac', $file) == 0 or die "ffmpeg failed";
}

sub json_field {
    my ($json, $name) = @_;
    my ($v) = $json =~ /"$name" ?: ?"?([^",}]*)"?/;
    return $v;
}

# polls until the video is READY or FAILED; the progress values seen
sub wait_done {
    my ($id, $seconds) = @_;
    my %seen;
    wait_for($seconds, sub {
        my (undef, $b) = http_request($port, 'GET', "/api/videos/$id/progress");
        my $p = json_field($b, 'progress');
        $seen{$p} = 1 if defined $p;
        my $st = json_field($b, 'status') // '';
        return $st eq 'READY' || $st eq 'FAILED';
    });
    return sort { $a <=> $b } keys %seen;
}

# -- upload to playback ----------------------------------------------------

my $clip = "$dir/clip.mp4";
ffmpeg_clip($clip, 10, '1280x720');

my $t0 = Time::HiRes::time();
my $vid = upload_video($port, $clip, 'Ten seconds');
my @progress = wait_done($vid, 120);
my $elapsed = Time::HiRes::time() - $t0;
diag(sprintf "10 s 1280x720 clip: complete to READY in %.1f s", $elapsed);

is video_column($vid, 'status'), 'READY', 'the upload becomes READY';
my $pttl = qx{redis-cli -p $ENV{TEST_NGINX_REDIS_PORT} PTTL video:$vid} + 0;
ok $pttl > 0 && $pttl <= 30000, "the READY video cached by the transcoder lives its cache_ttl ($pttl ms of 30000)";
ok((grep { $_ > 0 && $_ < 100 } @progress), "progress went through intermediate values (@progress)");

my ($s, $b) = http_request($port, 'GET', "/api/videos/$vid");
is $s, 200, 'GET the video';
like $b, qr/"duration" : 10\b/, 'with its duration';
my @rungs = $b =~ /"resolution" : "(\d+p)"/g;
is "@rungs", '720p 480p 360p', 'and three variants, highest first';
my $url = json_field($b, 'playbackUrl');
like $url, qr{^http://127\.0\.0\.1:$port/play/$vid/\d+-[\w-]{45}/master\.m3u8$},
     'a signed play URL (the video is private)';

my ($ms, $master) = curl($url);
is $ms, 200, 'the master playlist through its playbackUrl';
for my $r (qw(720p 480p 360p)) {
    like $master, qr{^\Q$r\E/playlist\.m3u8$}m, "lists $r";
}
like $master, qr/RESOLUTION=1280x720,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/,
     'with resolution and codecs';

(my $rung = $url) =~ s{master\.m3u8$}{480p/playlist.m3u8};
my $probe = qx{ffprobe -v error -select_streams v:0 -show_entries stream=width,height -show_entries format=duration -of default=nw=1 '$rung'};
is $?, 0, 'ffprobe opens a rung through nginx';
like $probe, qr/^width=854$/m, 'at 854 wide';
like $probe, qr/^height=480$/m, 'and 480 high';
my ($dur) = $probe =~ /^duration=([\d.]+)$/m;
ok defined $dur && abs($dur - 10) <= 0.5, "lasting 10 s (" . ($dur // '?') . ")";

(my $thumb = $url) =~ s{master\.m3u8$}{thumbnail.jpg};
my ($ts, undef, $th) = curl($thumb);
is $ts, 200, 'the thumbnail';
like $th, qr{^Content-Type: image/jpeg}mi, 'is a JPEG';

# a delivered job for a READY video does no work twice
psql(qq{INSERT INTO outbox (topic, payload) VALUES ('video-transcode',
        '{"type":"transcode","videoId":"$vid","inputKey":"$vid/original.mp4"}')});
ok wait_for(20, sub { read_worker_log($dir, 'transcode') =~ /video $vid is READY or gone/ }),
   'a job for a READY video does nothing';
is video_column($vid, 'status'), 'READY', 'and the video stays READY';

# -- a file that is not a video -------------------------------------------

my $junk = "$dir/junk.mp4";
open my $fh, '>', $junk or die;
print $fh join '', map { chr int rand 256 } 1 .. 200_000;
close $fh;

my $bad = upload_video($port, $junk, 'Random bytes');
my $small = "$dir/small.mp4";
ffmpeg_clip($small, 2, '320x240');
my $next = upload_video($port, $small, 'After the bad one');

wait_done($bad, 60);
is video_column($bad, 'status'), 'FAILED', 'random bytes: FAILED';
(undef, $b) = http_request($port, 'GET', "/api/videos/$bad/progress");
like $b, qr/"error" : "not a playable video: [^"]+"/, 'with a readable error';
wait_done($next, 60);
is video_column($next, 'status'), 'READY', 'and the next job still runs';
($s, $b) = http_request($port, 'GET', "/api/videos/$next");
@rungs = $b =~ /"resolution" : "(\d+p)"/g;
is "@rungs", '240p', 'a 240p source gets one rung';

# -- RabbitMQ down while uploads complete ---------------------------------

stack(qw(stop amqp));
my @queued = map { upload_video($port, $small, "Queued $_") } 1 .. 2;
sleep 2;
is psql('SELECT count(*) FROM outbox WHERE published_at IS NULL'), 2,
   'with RabbitMQ down the jobs wait in the outbox';
is video_column($_, 'status'), 'PENDING', 'the video is PENDING' for @queued;

stack(qw(start amqp));
for my $id (@queued) {
    wait_done($id, 120);
    is video_column($id, 'status'), 'READY', 'RabbitMQ back: transcoded';
}
is psql('SELECT count(*) FROM outbox WHERE published_at IS NULL'), 0,
   'the outbox is empty';
my $tlog = read_worker_log($dir, 'transcode');
for my $id (@queued) {
    my $n = () = $tlog =~ /transcoding video $id$/mg;
    is $n, 1, 'transcoded once, not twice';
}

# -- a transcoder killed mid-job --------------------------------------------

# the transcoder is in the middle of one of the video's chunks (the
# workers transcode in chunks here): its log's last line says it took the
# chunk less than a second ago (one of this source takes seconds), and
# the chunk is not done; only then does a signal land mid-job, not
# between two jobs or as one ends
sub mid_job {
    my ($id) = @_;
    my ($last) = read_worker_log($dir, 'transcode') =~ /([^\n]*)\n?\z/;
    my ($y, $mo, $d, $h, $mi, $sec, $chunk) = ($last // '')
        =~ /\A(\d+)-(\d+)-(\d+)T(\d+):(\d+):([\d.]+)Z transcode\[\d+\]: transcoding video \Q$id\E, chunk (\d+)\z/
        or return 0;
    my $at = Time::Local::timegm(0, $mi, $h, $d, $mo - 1, $y) + $sec;
    return 0 if Time::HiRes::time() - $at > 1;
    return psql("SELECT done_at IS NULL FROM video_chunks"
                . " WHERE video_id = '$id' AND n = $chunk") eq 't';
}

my $long = "$dir/long.mp4";
ffmpeg_clip($long, 40, '1280x720');
my $killed = upload_video($port, $long, 'Killed midway');
ok wait_for(60, sub { mid_job($killed) }), 'the long video is being transcoded';
kill 'KILL', $workers{transcode};
waitpid($workers{transcode}, 0);
is video_column($killed, 'status'), 'PROCESSING', 'SIGKILL: left PROCESSING';
start_worker('transcode');
wait_done($killed, 180);
is video_column($killed, 'status'), 'READY', 'another transcoder finishes it';
# the video's job, or in chunks (chunk_seconds) the chunk or the audio it
# was on
like read_worker_log($dir, 'transcode'),
     qr/transcoding video $killed(?:, chunk \d+|, the audio)? \(redelivered\)/,
     'from the redelivered job';

# -- SIGTERM mid-job: the job goes back to the queue ---------------------

my $termed = upload_video($port, $long, 'Stopped midway');
ok wait_for(60, sub { mid_job($termed) }), 'another long video is being transcoded';
kill 'TERM', $workers{transcode};
ok wait_for(20, sub { waitpid($workers{transcode}, POSIX::WNOHANG()) > 0 }),
   'SIGTERM: the transcoder exits promptly';
like read_worker_log($dir, 'transcode'), qr/stopping: video $termed goes back to the queue/,
     'putting the job back';
start_worker('transcode');
wait_done($termed, 180);
is video_column($termed, 'status'), 'READY', 'and the next transcoder finishes it';

# -- storage failing: retried, then FAILED and dead-lettered ---------------

sub dlq_depth {
    my $out = qx{scripts/stack.sh rabbitmqctl -q list_queues name messages 2>/dev/null};
    my ($n) = $out =~ /^video-transcode\.dlq\s+(\d+)/m;
    return $n // 0;
}

my $dlq_before = dlq_depth();
kill 'TERM', $workers{transcode};
waitpid($workers{transcode}, 0);
my $unreadable = upload_video($port, $small, 'Storage refuses it');
chmod 0000, "$data/videos-raw/$unreadable/original.mp4";
start_worker('transcode');
wait_done($unreadable, 60);
is video_column($unreadable, 'status'), 'FAILED', 'an original storage refuses: FAILED';
(undef, $b) = http_request($port, 'GET', "/api/videos/$unreadable/progress");
like $b, qr/"error" : "gave up after 3 attempts: GET [^"]*HTTP 403"/,
     'after max_attempts tries, saying why';
ok wait_for(10, sub { dlq_depth() == $dlq_before + 1 }), 'the job is in video-transcode.dlq';

# -- DELETE removes the objects --------------------------------------------

sub objects_of {
    my ($id) = @_;
    my @files = grep { -f } glob("$data/*/$id/* $data/*/$id/*/*");
    return scalar @files;
}

ok objects_of($vid) > 10, 'the READY video has its objects in storage (' . objects_of($vid) . ')';
($s) = http_request($port, 'DELETE', "/api/videos/$vid");
is $s, 200, 'DELETE';
ok wait_for(30, sub { objects_of($vid) == 0 }), 'every object of the video is removed';

# -- and nothing went wrong on the way ------------------------------------

kill 'TERM', $workers{transcode};
ok wait_for(20, sub { waitpid($workers{transcode}, POSIX::WNOHANG()) > 0 }),
   'SIGTERM stops an idle transcoder';
delete $workers{transcode};
like read_worker_log($dir, 'transcode'), qr/stopped$/m, 'which says so';

is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $nlog = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nlog, qr/\[alert\]|\[emerg\]|exited on signal/, 'no nginx alerts, no crashed worker';

done_testing;
