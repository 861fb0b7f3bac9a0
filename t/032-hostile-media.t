# Hostile media with the real transcoder: an upload that is a playlist,
# a concat script or a reference to another file (named original.mp4,
# uploaded like any video) ends FAILED with the reason, once, and nothing
# of the file it names is produced; MP4, WebM and Ogg still become READY.
# The sandbox ffprobe and ffmpeg run in (video-worker sandbox runs any
# command in it): no network (a listener sees no connection, where the
# same command unsandboxed reaches it), no file of the run directory or
# of conf/ readable, whatever its mode, writes only in out/, a clean
# environment, no new processes, as root and as an unprivileged worker;
# a transcode over the CPU-time, file-size or memory limit ends FAILED
# naming the limit, once.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use Digest::MD5 ();
use IO::Socket::INET;
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-hostile";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 25;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;     # role => pid

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
}

media_reset($dir, $data);
mkdir "$dir/host";

nginx_start($dir, $port, media_conf($port, $store, $data),
            probe_location($endpoint));

# -- the workers -------------------------------------------------------------

my %env = worker_env($dir, $port, $endpoint);

sub start_worker {
    my ($role, %more) = @_;
    return $workers{$role} = worker_start($dir, $role, %env, %more);
}

sub stop_worker {
    my ($role) = @_;
    my $pid = delete $workers{$role} or return;
    kill 'TERM', $pid;
    waitpid($pid, 0);
}

start_worker($_) for qw(relay transcode);

# -- helpers -----------------------------------------------------------------

sub ffmpeg {
    system('ffmpeg', '-loglevel', 'error', '-y', @_) == 0
        or die "ffmpeg @_ failed";
}

sub spit {
    my ($file, $bytes) = @_;
    open my $fh, '>', $file or die "$file: $!";
    binmode $fh;
    print $fh $bytes;
    close $fh or die;
}

sub md5_of {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    return Digest::MD5->new->addfile($fh)->hexdigest;
}

# the objects a video has in the processed and thumbnails buckets
sub outputs_of {
    my ($id) = @_;
    return grep { -f } glob("$data/videos-processed/$id/* "
                            . "$data/videos-processed/$id/*/* "
                            . "$data/thumbnails/$id/*");
}

# -- a file of the worker's host that an upload names ------------------------

# what a hostile playlist points at: a real video outside the work
# directory, which the transcoder must never read
my $host_ts = "$dir/host/secret.ts";
ffmpeg('-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=30',
       '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast',
       '-f', 'mpegts', $host_ts);
my $host_md5 = md5_of($host_ts);

my $playlist = <<"M3U8";
#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:2.0,
$host_ts
#EXT-X-ENDLIST
M3U8

(my $url_playlist = $playlist) =~ s{^\Q$host_ts\E$}{file://$host_ts}m;

# an ISO BMFF header ahead of the playlist; and the playlist inside a box,
# which passes for an MP4 and goes to the MP4 demuxer, which reads no
# playlists
my $ftyp = pack('N', 24) . 'ftypisom' . pack('N', 512) . 'isomiso2';
my $boxed = $ftyp . pack('N', 8 + length $playlist) . 'free' . $playlist;

my @hostile = (
    ['an HLS playlist naming a file of the host', $playlist,
     qr/^not a playable video: unsupported container: an HLS playlist \(accepted: MP4\/MOV, WebM\/Matroska, Ogg\)$/],
    ['the same playlist after a UTF-8 byte order mark', "\xEF\xBB\xBF$playlist",
     qr/^not a playable video: unsupported container: an HLS playlist /],
    ['an HLS playlist naming a file:// URL', $url_playlist,
     qr/^not a playable video: unsupported container: an HLS playlist /],
    ['an ffconcat script', "ffconcat version 1.0\nfile '$host_ts'\n",
     qr/^not a playable video: unsupported container: an ffconcat script /],
    ['a concat list of file:// URLs', "file 'file://$host_ts'\nduration 2\n",
     qr/^not a playable video: unsupported container: a text file /],
    ['an MP4 header ahead of a playlist', $ftyp . $playlist,
     qr/^not a playable video: unsupported container: a malformed MP4\/MOV /],
    ['a playlist inside an MP4 box', $boxed,
     qr/^not a playable video: (?!unsupported container).*Invalid data found/],
);

my %hostile_id;

for my $case (@hostile) {
    my ($what, $bytes) = @$case;
    my $file = "$dir/hostile.mp4";
    spit($file, $bytes);
    $hostile_id{$what} = upload_video($port, $file, $what);
}

for my $case (@hostile) {
    my ($what, undef, $reason) = @$case;
    my $id = $hostile_id{$what};
    ok wait_video_done($id, 60), "$what: the job ends";
    is video_column($id, 'status'), 'FAILED', "$what: FAILED";
    my $error = video_column($id, 'processing_error');
    like $error, $reason, "$what: saying why";
    unlike $error, qr{\Q$dir\E|/work/}, "$what: naming no path of the worker";
    is scalar(outputs_of($id)), 0, "$what: nothing in the processed and thumbnails buckets";
    is psql("SELECT count(*) FROM video_variants WHERE video_id = '$id'"), 0,
       "$what: no variants";
    is video_column($id, 'coalesce(duration, 0)'), 0, "$what: no duration";
    my $log = read_worker_log($dir, 'transcode');
    my $runs = () = $log =~ /transcoding video \Q$id\E$/mg;
    is $runs, 1, "$what: tried once";
    unlike $log, qr/video $id, attempt \d/, "$what: not retried";
}

(undef, my $b) = http_request($port, 'GET', "/api/videos/$hostile_id{'an ffconcat script'}/progress");
like $b, qr/"status" : "FAILED"/, 'the progress route says FAILED';
like $b, qr/"error" : "not a playable video: unsupported container: an ffconcat script/,
     'with the reason in error';
is md5_of($host_ts), $host_md5, 'the host file is untouched';

# -- real videos still play --------------------------------------------------

my @good = (
    ['MP4 (H.264, AAC)', 'video/mp4', 'mp4',
     ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac']],
    ['WebM (VP8, Vorbis)', 'video/webm', 'webm',
     ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8',
      '-c:a', 'libvorbis']],
    ['Ogg (Theora, Vorbis)', 'video/ogg', 'ogg',
     ['-c:v', 'libtheora', '-c:a', 'libvorbis']],
);

my %good_id;

for my $case (@good) {
    my ($what, $type, $ext, $codecs) = @$case;
    my $file = "$dir/good.$ext";
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=duration=2:size=320x240:rate=30',
           '-f', 'lavfi', '-i', 'sine=duration=2', @$codecs, $file);
    $good_id{$what} = upload_video($port, $file, $what, $type);
}

for my $case (@good) {
    my ($what) = @$case;
    my $id = $good_id{$what};
    ok wait_video_done($id, 120), "$what: the job ends";
    is video_column($id, 'status'), 'READY', "$what: READY";
    is video_column($id, 'duration'), 2, "$what: lasting 2 s";
    ok scalar(outputs_of($id)) >= 4, "$what: its ladder and thumbnail in storage";
}

# -- the sandbox ---------------------------------------------------------------

my $worker = "$ENV{PWD}/build/video-worker";
my $jail = "$dir/sandbox";
my $tmp = "$dir/tmp";
mkdir $tmp;

# video-worker sandbox $jail -- @cmd with the workers' settings (plus
# %more), as $user when given: (exit code, stdout, stderr)
sub sandboxed {
    my ($more, @cmd) = @_;
    my %more = %$more;
    my $user = delete $more{user};
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        @ENV{keys %more} = values %more;
        open STDOUT, '>', "$tmp/out" or POSIX::_exit(1);
        open STDERR, '>', "$tmp/err" or POSIX::_exit(1);
        my @run = ($worker, 'sandbox', $jail, '--', @cmd);
        my ($uid, $gid) = $user ? (getpwnam $user)[2, 3] : ();
        unshift @run, 'setpriv', "--reuid=$uid", "--regid=$gid",
                      '--clear-groups' if $user;
        exec @run or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $rc = $? >> 8;
    my $out = do { local (@ARGV, $/) = ("$tmp/out"); <> } // '';
    my $err = do { local (@ARGV, $/) = ("$tmp/err"); <> } // '';
    return ($rc, $out, $err);
}

# a listener nobody should reach: how many connections it took
my $lport = $port + 27;
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $lport,
                                     Listen => 16, ReuseAddr => 1)
    or die "listen on $lport: $!";
$listener->blocking(0);

sub connections {
    my $n = 0;
    while (my $c = $listener->accept) {
        $n++;
        close $c;
    }
    return $n;
}

# the secrets of an installation: 0600 files of root's in the run
# directory, the worker configuration rendered beside them (world-readable
# here, so only the sandbox keeps it), and conf/
my $run = "$dir/run";
mkdir $run;
spit("$run/secrets", "storage_secret_key = run-dir-secret-0600\n");
chmod 0600, "$run/secrets";
spit("$run/worker.conf", "storage_secret_key = run-dir-secret-0644\n");
chmod 0644, "$run/worker.conf";

my $root = $> == 0;
my $media_uid = getpwnam('video-media');

sub sandbox_checks {
    my ($who, %as) = @_;

    system('rm', '-rf', $jail);
    if ($as{user}) {
        mkdir $jail;
        system('chown', $as{user}, $jail);
    }

    my ($rc, $out, $err) = sandboxed({ %as }, 'id', '-u');
    is $rc, 0, "$who: a command runs in the sandbox";
    like $err, qr/media sandbox: .*network\/PID\/IPC namespaces/,
         "$who: in its namespaces";
    my $landlock = $err =~ /Landlock ABI \d+/;
    if ($as{user}) {
        chomp $out;
        is $out, scalar getpwnam($as{user}), "$who: as the worker's own user";
    } else {
        chomp $out;
        is $out, $media_uid, "$who: as video-media";
    }

    # no network: the listener sees nothing, over HTTP or TCP
    for my $url ("http://127.0.0.1:$lport/", "tcp://127.0.0.1:$lport") {
        connections();
        ($rc, undef, $err) = sandboxed({ %as }, 'ffmpeg', '-hide_banner',
            '-protocol_whitelist', 'tcp,http', '-rw_timeout', '2000000',
            '-i', $url, '-f', 'null', '-');
        isnt $rc, 0, "$who: ffmpeg cannot read $url";
        like $err, qr/Permission denied|Network is unreachable|Connection refused/,
             "$who: it may not connect";
        is connections(), 0, "$who: the listener saw no connection";
    }

    # no secret readable
    for my $file ("$run/secrets", "$ENV{PWD}/conf/worker.conf", "$run/worker.conf") {
        SKIP: {
            skip "no Landlock: only the user keeps $file", 2
                if !$landlock && (stat $file)[2] & 04;
            ($rc, $out) = sandboxed({ %as }, 'cat', $file);
            isnt $rc, 0, "$who: cat $file fails";
            unlike $out, qr/secret/, "$who: and shows nothing of it";
        }
    }
    ($rc, $out, $err) = sandboxed({ %as }, 'ffmpeg', '-hide_banner',
                                  '-f', 'data', '-i', "file:$run/secrets",
                                  '-map', '0', '-c', 'copy', '-f', 'data', '-');
    isnt $rc, 0, "$who: nor can ffmpeg read the 0600 secrets";
    like $err, qr/Permission denied/, "$who: it may not open them";
    unlike $out, qr/secret/, "$who: and shows nothing of them";

    # writes in out/ only
    ($rc) = sandboxed({ %as }, 'touch', 'out/made');
    is $rc, 0, "$who: out/ is writable";
    ok -f "$jail/out/made", "$who: the file is there";
    is((stat "$jail/out/made")[4], $as{user} ? scalar getpwnam($as{user}) : $media_uid,
       "$who: owned by the sandbox's user");
    for my $path ('made', "$dir/host/planted", "$run/planted") {
        ($rc) = sandboxed({ %as }, 'touch', $path);
        isnt $rc, 0, "$who: $path is not writable";
        ok !-e ($path =~ m{^/} ? $path : "$jail/$path"), "$who: nothing made";
    }
    SKIP: {
        skip 'no Landlock: links are not refused', 2 unless $landlock;
        ($rc) = sandboxed({ %as }, 'ln', '-s', "$run/secrets", 'out/link');
        isnt $rc, 0, "$who: no symlink can be made in out/";
        ok !-l "$jail/out/link", "$who: none is";
    }

    # a clean environment, no new processes
    ($rc, $out) = sandboxed({ %as, VIDEO_WORKER_STORAGE_SECRET_KEY => 'env-secret' },
                            'env');
    is $out, "PATH=/usr/local/bin:/usr/bin:/bin\n", "$who: the environment is PATH alone";
    ($rc, undef, $err) = sandboxed({ %as }, 'sh', '-c', 'true & wait');
    isnt $rc, 0, "$who: no process can be started";
    like $err, qr/Cannot fork/, "$who: fork is refused";
}

SKIP: {
    skip 'the worker runs as root in make test; not root here', 1 unless $root;
    sandbox_checks('as root');
}

SKIP: {
    skip 'not root: cannot start the worker as another user', 1
        unless $root && -x '/usr/bin/setpriv';
    sandbox_checks('unprivileged', user => 'nobody');
}

# media_sandbox = off: the same command does reach the listener (so the
# checks above can see a connection)
connections();
my ($rc, undef, $err) = sandboxed({ VIDEO_WORKER_MEDIA_SANDBOX => 'off' },
    'ffmpeg', '-hide_banner', '-protocol_whitelist', 'tcp,http',
    '-rw_timeout', '2000000', '-i', "http://127.0.0.1:$lport/", '-f', 'null', '-');
like $err, qr/media sandbox: off/, 'media_sandbox = off says so';
ok connections() > 0, 'and unsandboxed, ffmpeg reaches the listener';

# -- video-worker ladder, sandboxed too ----------------------------------------

sub ladder {
    my ($input, $out) = @_;
    system('rm', '-rf', $out);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open STDOUT, '>', "$tmp/ladder.log" or POSIX::_exit(1);
        open STDERR, '>&', \*STDOUT;
        exec $worker, 'ladder', $input, $out or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return ($? >> 8, do { local (@ARGV, $/) = ("$tmp/ladder.log"); <> } // '');
}

($rc, my $log) = ladder("$dir/good.mp4", "$dir/ladder");
is $rc, 0, 'ladder: a local MP4 is transcoded';
like $log, qr/good\.mp4: MP4\/MOV, 320x240/, 'ladder: told an MP4';
ok -f "$dir/ladder/out/240p/playlist.m3u8", 'ladder: its rung';
like do { local (@ARGV, $/) = ("$dir/ladder/out/master.m3u8"); <> } // '',
     qr{^240p/playlist\.m3u8$}m, 'ladder: its master playlist';
is((stat "$dir/ladder/out/240p")[4], $root ? $media_uid : $>,
   'ladder: written by the sandbox\'s user');

# a link left in out/ where the worker writes the master playlist: the
# link goes, its target stays as it was
spit("$dir/host/victim", "victim\n");
system('rm', '-rf', "$dir/ladder2");
mkdir "$dir/ladder2";
mkdir "$dir/ladder2/out";
symlink "$dir/host/victim", "$dir/ladder2/out/master.m3u8" or die $!;
{
    my $pid = fork // die;
    if ($pid == 0) {
        @ENV{keys %env} = values %env;
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec $worker, 'ladder', "$dir/good.mp4", "$dir/ladder2" or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    is $? >> 8, 0, 'ladder: over a link planted in out/';
}
ok !-l "$dir/ladder2/out/master.m3u8", 'ladder: the master playlist is a new file';
like do { local (@ARGV, $/) = ("$dir/ladder2/out/master.m3u8"); <> } // '',
     qr/^#EXTM3U/, 'ladder: the playlist';
is do { local (@ARGV, $/) = ("$dir/host/victim"); <> }, "victim\n",
   'ladder: the link\'s target is untouched';

spit("$dir/playlist.mp4", $playlist);
($rc, $log) = ladder("$dir/playlist.mp4", "$dir/ladder");
is $rc, 1, 'ladder: a playlist is refused';
like $log, qr/unsupported container: an HLS playlist/, 'ladder: saying what it is';
ok !-e "$dir/ladder/out/240p", 'ladder: and nothing is made';

# -- the limits -------------------------------------------------------------------

# a 720p clip of noise: every segment near the rung's maximum rate
my $noise = "$dir/noise.mp4";
ffmpeg('-f', 'lavfi', '-i', 'nullsrc=size=1280x720:rate=30:duration=10,geq=random(1)*255:128:128',
       '-f', 'lavfi', '-i', 'sine=duration=10', '-pix_fmt', 'yuv420p',
       '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-c:a', 'aac', $noise);

# the run that hits the limit: the single run, or in chunks
# (chunk_seconds) the split or a chunk's run, which says which chunk
my $stage = qr/(?:(?:chunk \d+: )?transcoding|splitting)/;
my @limits = (
    ['the CPU time limit', { VIDEO_WORKER_MEDIA_CPU_SECONDS => 1 },
     qr/^$stage failed: exceeded the CPU time limit of 1 s \(media_cpu_seconds\)$/],
    ['the file size limit', { VIDEO_WORKER_MEDIA_FILE_MB => 1 },
     qr/^$stage failed: exceeded the file size limit of 1 MB \(media_file_mb\)$/],
    ['the memory limit, transcoding', { VIDEO_WORKER_MEDIA_MEMORY_MB => 500 },
     qr/^$stage failed: exceeded the memory limit of 500 MB \(media_memory_mb\)$/],
    ['the memory limit, probing', { VIDEO_WORKER_MEDIA_MEMORY_MB => 100 },
     qr/^probing failed: exceeded the memory limit of 100 MB \(media_memory_mb\)$/],
);

for my $case (@limits) {
    my ($what, $more, $reason) = @$case;
    stop_worker('transcode');
    start_worker('transcode', %$more);
    my $id = upload_video($port, $noise, "Over $what");
    ok wait_video_done($id, 120), "over $what: the job ends";
    is video_column($id, 'status'), 'FAILED', "over $what: FAILED";
    like video_column($id, 'processing_error'), $reason, "over $what: naming the limit";
    is scalar(outputs_of($id)), 0, "over $what: nothing in storage";
    my $log = read_worker_log($dir, 'transcode');
    my $runs = () = $log =~ /transcoding video \Q$id\E$/mg;
    is $runs, 1, "over $what: tried once";
    unlike $log, qr/video $id, attempt \d/, "over $what: not retried";
}

stop_worker('transcode');
start_worker('transcode');
my $within = upload_video($port, $noise, 'Within the limits');
ok wait_video_done($within, 180), 'the default limits: the job ends';
is video_column($within, 'status'), 'READY', 'READY';
like read_worker_log($dir, 'transcode'), qr/\Q$within\E: ffmpeg: [\d.]+ CPU-s, \d+ MB of address space at most/,
     'the log says what ffmpeg used';

# -- and nothing went wrong on the way ---------------------------------------

stop_worker('transcode');
like read_worker_log($dir, 'transcode'), qr/stopped$/m, 'the transcoder stops cleanly';

my $nlog = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nlog, qr/\[alert\]|\[emerg\]|exited on signal/, 'no nginx alerts, no crashed worker';

done_testing;
