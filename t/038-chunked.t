# Transcoding in chunks (chunk_seconds > 0): an upload is split into
# pieces that two transcode workers encode side by side; the audio is
# encoded once.  The video is playable while still PROCESSING, ends READY
# with the same ladder as a single run, and its rung playlists are the
# chunks' segments in order on one timeline: every frame of the source
# once, no gap and no overlap at any chunk boundary, the audio continuous
# and lined up with the picture.  The pieces are gone once it is READY.

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use JSON::PP ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-chunked";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 113;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my @workers;

END {
    kill 'TERM', @workers;
    nginx_stop($dir) if $dir;
}

media_reset($dir, $data);

nginx_start($dir, $port, media_conf($port, $store, $data),
            media_locations($data, $endpoint));

# two transcoders of one encoder thread each, pieces of one segment
my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_CHUNK_SECONDS => 4,
                     VIDEO_WORKER_ENCODER_THREADS => 1);
push @workers, worker_start($dir, $_, %env) for qw(relay transcode transcode);

sub ffprobe_json {
    my (@args) = @_;
    my $out = qx{ffprobe -v error -print_format json @args};
    return $? ? undef : JSON::PP::decode_json($out);
}

# the packets' presentation times of a stream, in order of time
sub pts {
    my ($file, $stream) = @_;
    my $p = ffprobe_json('-select_streams', $stream, '-show_entries',
                         'packet=pts_time,duration_time', "'$file'");
    return sort { $a->[0] <=> $b->[0] }
           map { [$_->{pts_time}, $_->{duration_time} // 0] }
           @{$p->{packets} // []};
}

# -- the source: 20 s, 29.97 fps with B-frames, a keyframe a second ----------

my $src = "$dir/source.mp4";
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30000/1001',
       '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
       '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2',
       '-g', '30', '-c:a', 'aac', '-shortest', $src) == 0
    or BAIL_OUT('ffmpeg could not make the source');

my @source = pts($src, 'v:0');
ok @source > 590, scalar(@source) . ' frames in the source';

my $t0 = Time::HiRes::time();
my $vid = upload_video($port, $src, 'In chunks');

# while it is transcoded: seen playable while still PROCESSING?
my ($seen, $playable_s);
wait_for(180, sub {
    my $row = psql("SELECT status || ' ' || (playable_at IS NOT NULL)"
                   . " FROM videos WHERE id = '$vid'");
    if ($row eq 'PROCESSING true' && !$seen) {
        $seen = 1;
        $playable_s = Time::HiRes::time() - $t0;
    }
    return $row =~ /^(READY|FAILED)/;
});
my $ready_s = Time::HiRes::time() - $t0;

is video_column($vid, 'status'), 'READY', 'the video becomes READY'
    or diag(video_column($vid, 'processing_error'));
ok $seen, sprintf('it was playable while PROCESSING (at %.1f s, READY at %.1f s)',
                  $playable_s // -1, $ready_s);
diag(sprintf 'complete to playable %.1f s, to READY %.1f s',
     $playable_s // -1, $ready_s);

is psql("SELECT count(*) FROM video_chunks WHERE video_id = '$vid' AND n >= 0"),
   5, 'five pieces: the first one segment long, then one per chunk_seconds';
is psql("SELECT count(*) FROM video_chunks WHERE video_id = '$vid'"
        . " AND done_at IS NULL"), 0, 'every chunk, and the audio, done';
ok psql("SELECT playable_at < max(c.done_at) FROM videos v"
        . " JOIN video_chunks c ON c.video_id = v.id WHERE v.id = '$vid'"
        . " GROUP BY v.playable_at") eq 't',
   'it became playable before the last chunk was done';

# both workers took chunks
my %pids;
for (split /\n/, read_worker_log($dir, 'transcode')) {
    $pids{$1} = 1 if /\[(\d+)\].*transcoding video \Q$vid\E, chunk/;
}
is scalar(keys %pids), 2, 'the chunks were spread over both workers';

# -- the API's view ------------------------------------------------------------------

my ($s, $b) = http_request($port, 'GET', "/api/videos/$vid");
is $s, 200, 'GET the video';
my $v = eval { JSON::PP::decode_json($b)->{data}{video} } // {};
diag($b) unless $v->{variants};
is join(' ', map { "$_->{resolution}:$_->{width}x$_->{height}" } @{$v->{variants}}),
   '480p:854x480 360p:640x360', 'the same ladder as a single run';
is $v->{duration}, 20, 'its duration';
is $v->{thumbnailKey}, "$vid/thumbnail.jpg", 'a thumbnail';
ok -s "$data/thumbnails/$vid/thumbnail.jpg", 'which is in storage';

# -- the playlists, as storage has them ------------------------------------------------

my $processed = "$data/videos-processed/$vid";
my $master = do { local (@ARGV, $/) = ("$processed/master.m3u8"); <> } // '';
like $master, qr{#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio".*URI="audio/playlist\.m3u8"},
     'the master names the audio, a rendition of its own';
my @inf = $master =~ /#EXT-X-STREAM-INF:([^\n]+)\n(\S+)/g;
is scalar(@inf), 4, 'and two rungs';
like $inf[0], qr/AUDIO="audio"/, 'each naming the audio group';

for my $rung (qw(480p 360p audio)) {
    my $list = do { local (@ARGV, $/) = ("$processed/$rung/playlist.m3u8"); <> } // '';
    like $list, qr/#EXT-X-PLAYLIST-TYPE:EVENT\n/, "$rung: an EVENT playlist";
    like $list, qr/#EXT-X-ENDLIST\n\z/, "$rung: closed with EXT-X-ENDLIST";
    unlike $list, qr/DISCONTINUITY/, "$rung: no discontinuity";
    my @segs = $list =~ /^([\w.]+\.ts)$/mg;
    my @missing = grep { !-s "$processed/$rung/$_" } @segs;
    is "@missing", '', "$rung: its " . scalar(@segs) . " segments are in storage";

    # the segments one after the other, as a player reads them
    my $joined = "$dir/$rung.ts";
    system("cd '$processed/$rung' && cat @segs > '$joined'");

    my $stream = $rung eq 'audio' ? 'a:0' : 'v:0';
    my @p = pts($joined, $stream);

    if ($rung ne 'audio') {
        is scalar(@p), scalar(@source),
           "$rung: every frame of the source, once (" . scalar(@p) . ')';
    }

    # each packet ends where the next begins: the largest step between
    # two, and any two at the same time
    my ($gap, $overlap) = (0, 0);
    my $frame = $rung eq 'audio' ? 1024 / 48000 : 1001 / 30000;
    for my $i (1 .. $#p) {
        my $step = $p[$i][0] - $p[$i - 1][0];
        $gap = $step if $step > $gap;
        $overlap++ if $step < $frame / 2;
    }
    ok $gap < $frame * 1.5, sprintf("$rung: no gap above a frame (largest step %.4f s)", $gap);
    is $overlap, 0, "$rung: no overlap";
}

# the picture and the sound start together: the first audio packet is
# the AAC encoder's priming (1024 samples) and the source's own, before
# the first sample of sound, which comes with the first picture
my @v0 = pts("$dir/480p.ts", 'v:0');
my @a0 = pts("$dir/audio.ts", 'a:0');
ok @v0 && @a0 && abs($v0[0][0] - ($a0[0][0] + 2 * 1024 / 48000)) < 0.002,
   sprintf('the audio lines up with the picture (%.4f s vs %.4f s)',
           $v0[0][0] // -1, $a0[0][0] // -1);

# -- what is left: no pieces ---------------------------------------------------------

my @pieces = glob("$data/videos-raw/$vid/pieces/*");
is scalar(@pieces), 0, 'the pieces are removed once the video is READY';

done_testing();
