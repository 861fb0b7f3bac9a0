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

# two transcoders of one encoder thread each, pieces of 1 s, then 2 s up
# to 8 s in, then 4 s
my %env = worker_env($dir, $port, $endpoint,
                     VIDEO_WORKER_CHUNK_SECONDS => 4,
                     VIDEO_WORKER_CHUNK_FIRST_SECONDS => 1,
                     VIDEO_WORKER_CHUNK_RAMP_SECONDS => 8,
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
       '-g', '30', '-c:a', 'aac', '-ac', '2', '-b:a', '192k', '-shortest', $src) == 0
    or BAIL_OUT('ffmpeg could not make the source');

my @source = pts($src, 'v:0');
ok @source > 590, scalar(@source) . ' frames in the source';

my $t0 = Time::HiRes::time();
my $vid = upload_video($port, $src, 'In chunks');

# while it is transcoded: seen playable while still PROCESSING, in
# PostgreSQL and through the API (whose video comes from the cache the
# worker refreshes)
my ($seen, $playable_s, $api_seen);
wait_for(180, sub {
    my $row = psql("SELECT status || ' ' || (playable_at IS NOT NULL)"
                   . " FROM videos WHERE id = '$vid'");
    if ($row eq 'PROCESSING true' && !$seen) {
        $seen = 1;
        $playable_s = Time::HiRes::time() - $t0;
    }
    if ($row eq 'PROCESSING true' && !$api_seen) {
        my (undef, $body) = http_request($port, 'GET', "/api/videos/$vid");
        my $o = eval { JSON::PP::decode_json($body)->{data}{video} } // {};
        $api_seen = 1 if ($o->{status} // '') eq 'PROCESSING'
                         && $o->{playableAt} && $o->{playbackUrl};
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
ok $api_seen, 'the API showed it PROCESSING with playableAt and a playbackUrl';
like read_worker_log($dir, 'transcode'), qr/video \Q$vid\E is playable/,
     'the worker said it became playable';
is psql("SELECT string_agg(e.type || ':' || (e.data ->> 'status'), ' '"
        . " ORDER BY e.sequence) FROM webhook_events e WHERE e.object_id = '$vid'"
        . " AND e.type IN ('video.processing', 'video.playable', 'video.ready')"),
   'video.processing:PROCESSING video.playable:PROCESSING video.ready:READY',
   'the events: processing, playable while PROCESSING, then ready';

is psql("SELECT count(*) FROM video_chunks WHERE video_id = '$vid' AND n >= 0"),
   8, 'eight pieces: 1 s, 2 s up to 9 s, then 4 s each (chunk_first_seconds'
      . ' 1, chunk_ramp_seconds 8, chunk_seconds 4), cut at the keyframes';
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

# 192 kb/s is above the audio rendition's 128: encoded, not copied
my $as = ffprobe_json('-select_streams', 'a:0', '-show_entries',
                      'stream=sample_rate,channels', "'$dir/audio.ts'");
is join(' ', map { "$_->{sample_rate} Hz x $_->{channels}" } @{$as->{streams} // []}),
   '48000 Hz x 2', 'the audio encoded at the rendition\'s rate (192 kb/s is above it)';
unlike read_worker_log($dir, 'transcode'), qr/video \Q$vid\E: the audio copied/,
       'and the log does not say it was copied';

# -- what is left: no pieces ---------------------------------------------------------

my @pieces = glob("$data/videos-raw/$vid/pieces/*");
is scalar(@pieces), 0, 'the pieces are removed once the video is READY';

# -- hostile and broken chunks ---------------------------------------------------

# a PROCESSING video with chunk state, as a split leaves it, and a chunk
# job for it; what the worker makes of it
my $seq = 0;
sub seeded {
    my (%o) = @_;
    my $id = sprintf 'chunkseed%012d', ++$seq;
    psql("INSERT INTO videos (id, title, account_id, status)"
         . " VALUES ('$id', 'seeded', 'default', 'PROCESSING')");
    psql("INSERT INTO video_hls (video_id, master, rungs, has_audio, target,"
         . " chunks, width, height, fps, duration, thumb_at)"
         . " VALUES ('$id', '#EXTM3U', '{360p}', false, 4, 2, 640, 360,"
         . " 30, 8, 2.6)");
    psql("INSERT INTO video_chunks (video_id, n, start_s, end_s)"
         . " VALUES ('$id', 0, 0, 4), ('$id', 1, 4, 8)");
    return $id;
}

sub chunk_job {
    my ($payload) = @_;
    psql("INSERT INTO outbox (topic, payload, priority)"
         . " VALUES ('video-chunk', '$payload', 9)");
}

sub wait_status {
    my ($id, $want) = @_;
    return wait_for(180, sub { video_column($id, 'status') eq $want });
}

# a piece that is not in storage: the video FAILED, saying which
my $gone = seeded();
chunk_job(qq({"type": "chunk", "videoId": "$gone", "chunk": 1}));
ok wait_status($gone, 'FAILED'), 'a chunk whose piece is gone fails the video';
is video_column($gone, 'processing_error'), 'chunk 1: the piece is not in storage',
   'saying which chunk, and why';

# a piece that is not a video: FAILED, with ffmpeg's reason
my $junk = seeded();
mkdir "$data/videos-raw/$junk";
mkdir "$data/videos-raw/$junk/pieces";
open my $fh, '>', "$data/videos-raw/$junk/pieces/p00000.nut" or die;
print $fh "nut/multimedia container\0" . ("\xff" x 4000);
close $fh;
chunk_job(qq({"type": "chunk", "videoId": "$junk", "chunk": 0}));
ok wait_status($junk, 'FAILED'), 'a piece ffmpeg cannot read fails the video';
like video_column($junk, 'processing_error'), qr/^chunk 0: transcoding failed: /,
     'with the reason';

# jobs for chunks that are not there, of a video without chunk state, or
# done already: nothing happens, nothing is dead-lettered
my $done_at = psql("SELECT done_at FROM video_chunks WHERE video_id = '$vid' AND n = 2");
chunk_job(qq({"type": "chunk", "videoId": "$vid", "chunk": 2}));
chunk_job(qq({"type": "chunk", "videoId": "$vid", "chunk": 4000}));
my $plain = seeded();
psql("DELETE FROM video_hls WHERE video_id = '$plain'");
chunk_job(qq({"type": "chunk", "videoId": "$plain", "chunk": 0}));
ok wait_for(30, sub { read_worker_log($dir, 'transcode')
                      =~ /\Q$plain\E, chunk 0: done already, or the video is not PROCESSING/ }),
   'a chunk job of a video without chunk state does nothing';
is psql("SELECT done_at FROM video_chunks WHERE video_id = '$vid' AND n = 2"), $done_at,
   'a chunk delivered again once done is left as it is';
is video_column($vid, 'status'), 'READY', 'and its video stays READY';
is video_column($plain, 'status'), 'PROCESSING', 'the video without chunk state is untouched';
my $dlq = qx{scripts/stack.sh rabbitmqctl -q list_queues name messages 2>/dev/null};
my ($dead) = $dlq =~ /^video-chunk\.dlq\s+(\d+)/m;
is $dead // 0, 0, 'no chunk job was dead-lettered';

# the video's job delivered again, every chunk done but the video not
# READY (its last worker stopped before that, or storage failed as it
# wrote the playlists): the same split keeps the chunks as they are, and
# their jobs, queued again, finish the video; no piece is left, and the
# progress shown never goes back meanwhile
psql("UPDATE videos SET status = 'PROCESSING', transcoding_progress = 77"
     . " WHERE id = '$vid'");
my $state = "SELECT string_agg(n || ' ' || done_at || ' ' || attempts, ', '"
          . " ORDER BY n) FROM video_chunks WHERE video_id = '$vid'";
my $chunks_before = psql($state);
my $input = video_column($vid, 'original_key');
psql("INSERT INTO outbox (topic, payload) VALUES ('video-transcode',"
     . " json_build_object('type', 'transcode', 'videoId', '$vid',"
     . " 'inputKey', '$input'))");
my @progress;
ok wait_for(180, sub {
       my ($status, $p) = split /\|/, psql("SELECT status, transcoding_progress"
                                           . " FROM videos WHERE id = '$vid'");
       push @progress, $p unless @progress && $progress[-1] == $p;
       $status eq 'READY'
   }), 'split again, the video ends READY';
is join(' ', grep { $_ < 77 } @progress), '',
   "its progress never below where it was (seen: @progress)";
is psql($state), $chunks_before, 'its chunks kept, none done again';
like read_worker_log($dir, 'transcode'), qr/video \Q$vid\E, chunk 0: done already\n/,
     'a chunk done already finishes what follows it';
ok wait_for(30, sub { my @left = glob("$data/videos-raw/$vid/pieces/*"); !@left }),
   'and no piece is left'
    or diag join ' ', glob("$data/videos-raw/$vid/pieces/*");

# -- a worker killed mid-chunk, and a new upload while a long one runs -------------

my $long = "$dir/long.mp4";
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30',
       '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=44100',
       '-t', '48', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60',
       '-c:a', 'aac', '-b:a', '96k', '-shortest', $long) == 0 or BAIL_OUT('ffmpeg: long source');
my @lsrc_audio = pts($long, 'a:0');
my $short = "$dir/short.mp4";
system('ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
       '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
       '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25',
       $short) == 0 or BAIL_OUT('ffmpeg: short source');

my $lid = upload_video($port, $long, 'Long');

# kill -9 the worker encoding one of the long video's chunks, mid-run
my ($victim, $chunk);
wait_for(90, sub {
    my $log = read_worker_log($dir, 'transcode');
    ($victim, $chunk) = ();
    while ($log =~ /transcode\[(\d+)\]: transcoding video \Q$lid\E, chunk (\d+)/g) {
        ($victim, $chunk) = ($1, $2) if $2 >= 3;
    }
    return defined $victim
           && psql("SELECT done_at IS NULL FROM video_chunks"
                   . " WHERE video_id = '$lid' AND n = $chunk") eq 't';
});
ok $victim, "a worker took chunk $chunk of the long video";
kill 'KILL', $victim;
@workers = grep { $_ != $victim } @workers;
push @workers, worker_start($dir, 'transcode', %env);

# meanwhile a short video is uploaded: its first chunk passes the long
# video's later ones
my $sid = upload_video($port, $short, 'Short');
ok wait_for(120, sub { video_column($sid, 'playable_at') ne '' }),
   'the new upload becomes playable';
ok wait_status($lid, 'READY'), 'the long video ends READY despite the killed worker'
    or diag(video_column($lid, 'processing_error'));
ok psql("SELECT (SELECT playable_at FROM videos WHERE id = '$sid')"
        . " < (SELECT max(done_at) FROM video_chunks WHERE video_id = '$lid')") eq 't',
   'the new upload was playable before the long transcode was done';
ok wait_status($sid, 'READY'), 'and ends READY';
is psql("SELECT attempts FROM video_chunks WHERE video_id = '$lid' AND n = $chunk"), 2,
   'the killed chunk was delivered again, and done once more';
is psql("SELECT count(*) FROM video_chunks WHERE video_id = '$lid' AND attempts > 1"), 1,
   'only that chunk was done twice';

# the long video's picture, through the redone chunk: no gap, no overlap
my $lp = "$data/videos-processed/$lid/360p";
my $llist = do { local (@ARGV, $/) = ("$lp/playlist.m3u8"); <> } // '';
my @lsegs = $llist =~ /^([\w.]+\.ts)$/mg;
system("cd '$lp' && cat @lsegs > '$dir/long360.ts'");
my @lpts = pts("$dir/long360.ts", 'v:0');
is scalar(@lpts), 48 * 30, 'every frame of the long video once';
my $worst = 0;
$worst < $_ and $worst = $_ for map { $lpts[$_][0] - $lpts[$_ - 1][0] } 1 .. $#lpts;
ok $worst < 1.5 / 30, sprintf('no gap (largest step %.4f s)', $worst);

# its sound, AAC-LC mono 44.1 kHz at 96 kb/s, fits the audio rendition:
# copied as it is, every packet of the original once, in line with the
# picture as the original has it (its priming alone before the sound)
like read_worker_log($dir, 'transcode'), qr/video \Q$lid\E: the audio copied/,
     'the long video\'s audio copied, not encoded';
my $la = "$data/videos-processed/$lid/audio";
my $alist = do { local (@ARGV, $/) = ("$la/playlist.m3u8"); <> } // '';
like $alist, qr/#EXT-X-ENDLIST\n\z/, 'its audio playlist closed';
my @asegs = $alist =~ /^([\w.]+\.ts)$/mg;
system("cd '$la' && cat @asegs > '$dir/longaudio.ts'");
$as = ffprobe_json('-select_streams', 'a:0', '-show_entries',
                   'stream=codec_name,profile,sample_rate,channels', "'$dir/longaudio.ts'");
is join(' ', map { "$_->{codec_name} $_->{profile} $_->{sample_rate} Hz x $_->{channels}" }
                 @{$as->{streams} // []}),
   'aac LC 44100 Hz x 1', 'the original\'s sound: AAC-LC, 44.1 kHz, mono';
my @lapts = pts("$dir/longaudio.ts", 'a:0');
is scalar(@lapts), scalar(@lsrc_audio),
   'every audio packet of the original once (' . scalar(@lsrc_audio) . ')';
my ($agap, $aover) = (0, 0);
for my $i (1 .. $#lapts) {
    my $step = $lapts[$i][0] - $lapts[$i - 1][0];
    $agap = $step if $step > $agap;
    $aover++ if $step < 1024 / 44100 / 2;
}
ok $agap < 1.5 * 1024 / 44100, sprintf('no gap in the sound (largest step %.4f s)', $agap);
is $aover, 0, 'no overlap';
my @lv0 = pts("$dir/long360.ts", 'v:0');
ok @lv0 && @lapts && abs($lv0[0][0] - ($lapts[0][0] + 1024 / 44100)) < 0.002,
   sprintf('the copied sound lines up with the picture (%.4f s vs %.4f s)',
           $lv0[0][0] // -1, $lapts[0][0] // -1);

done_testing();
