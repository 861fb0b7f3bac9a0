# DELETE removes every object under the video's "<id>/" prefix in every
# bucket, whatever names them: the cleanup worker lists the prefix
# (ListObjectsV2, page by page) and deletes each key.  A video deleted
# while transcoding in chunks (pieces in the raw bucket, segments and
# audio in the processed one, an early thumbnail, no playlist yet) leaves
# nothing; nor does a READY one with an audio rendition.  Keys of other
# videos, and keys that only begin with the id ("<id>x/...", "<id>.ts"),
# stay.  A store that refuses to list gets the playlist walk, which
# follows EXT-X-MEDIA and EXT-X-MAP URIs.  Real nginx (API and store),
# PostgreSQL, RabbitMQ and video-worker.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Path ();
use File::Temp ();
use POSIX ();

my $dir = "$ENV{PWD}/t/servroot-cleanup-prefix";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 152;
my $store = $port + 1;
my $nolist = $port + 2;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my %workers;     # role => pid

END {
    kill 'TERM', values %workers;
    nginx_stop($dir) if $dir;
    # no transcoder runs here: its jobs go, not to another suite's
    system("scripts/stack.sh rabbitmqctl -q purge_queue video-transcode >/dev/null 2>&1")
        if $ENV{TEST_NGINX_PG_CONNINFO};
}

media_reset($dir, $data);

# a second store on the same data that refuses ListObjectsV2, as a store
# without listing does: a request for a bucket itself is a 501
nginx_start($dir, $port, media_conf($port, $store, $data) . <<"CONF",
    server {
        listen 127.0.0.1:$nolist;
        root $data;
        client_max_body_size 1m;
        client_body_temp_path $data/.incoming;
        location / {
            video_api_store on;
        }
        location ~ ^/[^/]+\$ {
            return 501;
        }
    }
CONF
            media_locations($data, $endpoint));

sub start_worker {
    my ($role, $ep) = @_;
    $workers{$role} = worker_start($dir, $role,
                                   worker_env($dir, $port, $ep // $endpoint));
}

sub stop_worker {
    my ($role) = @_;
    my $pid = delete $workers{$role} or return;
    kill 'TERM', $pid;
    wait_for(10, sub { waitpid($pid, POSIX::WNOHANG()) > 0 })
        or kill 'KILL', $pid;
}

start_worker($_) for qw(relay cleanup);

# -- helpers ---------------------------------------------------------------

my $ten = File::Temp->new;
print $ten 'x' x 10;
close $ten;

# an object written straight into the store's data directory
sub put_object {
    my ($bucket, $key, $body) = @_;
    my $path = "$data/$bucket/$key";
    (my $parent = $path) =~ s{/[^/]+\z}{};
    File::Path::make_path($parent);
    open my $fh, '>', $path or die "$path: $!";
    print $fh $body // 'x';
    close $fh;
}

sub owned_by_store {
    system('chown', '-R', 'nobody', $data) if $> == 0;
}

# every object under "<id>/" in every bucket (relative to the data dir),
# sorted; in scalar context their count
sub objects_under {
    my ($id) = @_;
    my @found;
    for my $bucket (qw(videos-raw videos-processed thumbnails)) {
        next unless -d "$data/$bucket/$id";
        open my $fh, '-|', "find '$data/$bucket/$id' -type f 2>/dev/null" or die $!;
        push @found, map { chomp; s{\A\Q$data\E/}{}r } <$fh>;
        close $fh;
    }
    my @sorted = sort @found;
    return @sorted;
}

sub deleted_ok {
    my ($id, $what) = @_;
    my ($s) = http_request($port, 'DELETE', "/api/videos/$id");
    is $s, 200, "$what: DELETE";
    ok wait_for(30, sub { !objects_under($id) }),
       "$what: nothing is left under $id/ in any bucket"
        or diag join ' ', objects_under($id);
    ok !grep({ -d "$data/$_/$id" } qw(videos-raw videos-processed thumbnails)),
       "$what: nor its directories";
}

# -- a video deleted while transcoding in chunks ----------------------------

my $va = upload_video($port, $ten->filename, 'chunked');
my $c = upload_video($port, $ten->filename, 'another');
like $va, qr/\A[A-Za-z0-9_-]{21}\z/, 'a video id';
psql("UPDATE videos SET status = 'PROCESSING' WHERE id IN ('$va', '$c')");

# what a chunked transcode has put in storage by then: the pieces, the
# first chunks' segments of each rung (more than one page of them), the
# audio's, the thumbnail; no playlist
put_object('videos-raw', "$va/pieces/p$_.nut") for map { sprintf '%05d', $_ } 0 .. 3;
put_object('videos-raw', "$va/pieces/audio.nut");
put_object('videos-processed', sprintf("$va/720p/c%05d_%03d.ts", $_ / 3, $_ % 3)) for 0 .. 1049;
put_object('videos-processed', "$va/360p/c00000_000.ts");
put_object('videos-processed', "$va/audio/a_0000$_.ts") for 0 .. 4;
put_object('thumbnails', "$va/thumbnail.jpg");

# its neighbours: another video, and keys that only begin with the id
for my $bucket (qw(videos-raw videos-processed thumbnails)) {
    put_object($bucket, "$c/keep.bin");
    put_object($bucket, "${va}x/keep.bin");
    put_object($bucket, "$va.keep");
}
put_object('videos-processed', "$c/720p/c00000_000.ts");
owned_by_store();

my @before = objects_under($va);
is scalar(@before), 1 + 5 + 1050 + 1 + 5 + 1, 'the chunked video has its objects in storage';
ok !grep({ /\.m3u8\z/ } @before), 'and no playlist';

deleted_ok($va, 'chunked, PROCESSING');

for my $bucket (qw(videos-raw videos-processed thumbnails)) {
    ok -f "$data/$bucket/$c/keep.bin", "$bucket: the other video's object stays";
    ok -f "$data/$bucket/${va}x/keep.bin", "$bucket: a key under \"${va}x/\" stays";
    ok -f "$data/$bucket/$va.keep", "$bucket: a key \"$va.keep\" stays";
}
ok -f "$data/videos-processed/$c/720p/c00000_000.ts", 'the other video\'s segment stays';
is video_column($c, 'status'), 'PROCESSING', 'and its row';

my $log = read_worker_log($dir, 'cleanup');
like $log, qr/removed the objects of video $va/, 'the worker says it removed them';
unlike $log, qr/walking the playlists/, 'by listing, not walking';

# -- a READY video with an audio rendition ----------------------------------

my $master = <<"M3U";
#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Main, default",DEFAULT=YES,AUTOSELECT=YES,URI="audio/playlist.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2928000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
720p/playlist.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=928000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"
360p/playlist.m3u8
M3U

sub media_playlist {
    my (@segments) = @_;
    return "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:6\n#EXT-X-MAP:URI=\"init.mp4\"\n"
         . join('', map { "#EXTINF:6.000,\n$_\n" } @segments) . "#EXT-X-ENDLIST\n";
}

# a READY video's objects; its rows say so
sub ready_video {
    my ($id) = @_;
    put_object('videos-processed', "$id/master.m3u8", $master);
    for my $rung (qw(720p 360p)) {
        my @segs = map { sprintf 'c%05d_000.ts', $_ } 0 .. 2;
        put_object('videos-processed', "$id/$rung/playlist.m3u8", media_playlist(@segs));
        put_object('videos-processed', "$id/$rung/$_") for @segs, 'init.mp4';
    }
    my @audio = map { sprintf 'a_%05d.ts', $_ } 0 .. 2;
    put_object('videos-processed', "$id/audio/playlist.m3u8", media_playlist(@audio));
    put_object('videos-processed', "$id/audio/$_") for @audio, 'init.mp4';
    put_object('thumbnails', "$id/thumbnail.jpg");
    owned_by_store();
    psql("UPDATE videos SET status = 'READY', thumbnail_key = '$id/thumbnail.jpg',"
         . " hls_manifest_key = '$id/master.m3u8' WHERE id = '$id'");
    return scalar(objects_under($id));
}

my $d = upload_video($port, $ten->filename, 'ready');
is ready_video($d), 1 + 1 + 2 * 5 + 5 + 1, 'the READY video has its objects in storage';
deleted_ok($d, 'READY, listed');

# -- a store that will not list: the playlists are walked --------------------

stop_worker('cleanup');
start_worker('cleanup', "http://127.0.0.1:$nolist");

my $e = upload_video($port, $ten->filename, 'walked');
is ready_video($e), 1 + 1 + 2 * 5 + 5 + 1, 'another READY video';
deleted_ok($e, 'READY, walked');

# the worker says so once the last object is gone: the log may lag it
ok wait_for(30, sub { read_worker_log($dir, 'cleanup')
                      =~ /removed the objects of video $e/ }),
   'and removed the objects';
$log = read_worker_log($dir, 'cleanup');
like $log, qr/listing videos-processed\/$e\/: HTTP 501.*walking the playlists instead/,
     'the store refused to list, so the worker walked the playlists';

for my $bucket (qw(videos-raw videos-processed thumbnails)) {
    ok -f "$data/$bucket/$c/keep.bin", "$bucket: the other video's object still stays";
}

# -- and nothing went wrong on the way ------------------------------------

unlike read_worker_log($dir, 'cleanup'), qr/attempt \d|dead-letter/,
       'no cleanup attempt failed';
is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

my $nlog = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nlog, qr/\[alert\]|\[emerg\]|exited on signal/, 'no nginx alerts, no crashed worker';

done_testing;
