# What phones, cameras and editors upload, through the real pipeline: the
# corpus of t/corpus/make.sh (turned by a display matrix, a variable
# frame rate, 10-bit H.264 and HEVC, HDR10, an odd size, 0.2 s, a long
# GOP, a portrait picture, no audio, audio alone, WebM with VP8, VP9 and
# AV1, Ogg) is uploaded as a browser does (presign, PUT, complete) and
# transcoded by video-worker.  Each ends READY with a ladder never above
# the picture as shown, upright (its top-left quarter, white in every
# source, is still top-left in the rung and the thumbnail), playable by a
# browser (H.264 High, 8-bit 4:2:0, SDR; ffmpeg decodes the top rung
# through nginx without an error), lasting what the source lasts, with
# audio when the source has some and without when not; or FAILED saying
# why (audio alone: "the file has no video stream").  A table of what
# each became is printed (diag), with the acceptance rate.  Then each
# READY one is played on the watch page of www/ in Chromium and Firefox
# (t/web/corpus.mjs): shown upright and of its shape in both.
#
# sanitizers: yes (the workers and nginx; its browser part is left to the
# regular pass)

use strict;
use warnings;
use lib 't/inc';
use VideoApi;
use Test::More;
use File::Temp ();
use JSON::PP ();
use Time::HiRes ();

my $dir = "$ENV{PWD}/t/servroot-corpus";
my $port = ($ENV{TEST_NGINX_SERVER_PORT} // 1984) + 109;
my $store = $port + 1;
my $endpoint = "http://127.0.0.1:$store";
my $data = "$dir/store";
my @workers;

END {
    kill 'TERM', @workers;
    nginx_stop($dir) if $dir;
}

media_reset($dir, $data);

# the API, /play/ and the store, and the page of www/ with its hls.js
nginx_start($dir, $port, media_conf($port, $store, $data),
            media_locations($data, $endpoint)
            . page_locations(page_csp($endpoint), hls => '/vendor/hls.js/'));

# two transcoders, as a deployment would have: the corpus in half the time
my %env = worker_env($dir, $port, $endpoint);
push @workers, worker_start($dir, $_, %env) for qw(relay transcode transcode);

# -- the corpus ----------------------------------------------------------------

my $t0 = Time::HiRes::time();
my @corpus = map { [split ' ', $_, 3] } qx{sh t/corpus/make.sh $dir/corpus};
is $?, 0, 't/corpus/make.sh made the corpus';
chomp $_->[2] for @corpus;
diag(sprintf "%d sources made in %.1f s", scalar @corpus,
     Time::HiRes::time() - $t0);

sub ffprobe {
    my ($what, @more) = @_;
    my $out = qx{ffprobe -v error -print_format json -show_streams -show_format @more '$what'};
    return $? ? undef : JSON::PP::decode_json($out);
}

sub streams {
    my ($p, $type) = @_;
    return grep { $_->{codec_type} eq $type } @{$p->{streams} // []};
}

sub rotation {
    my ($v) = @_;
    my ($m) = grep { ($_->{side_data_type} // '') eq 'Display Matrix' }
              @{$v->{side_data_list} // []};
    return $m ? $m->{rotation} : 0;
}

# what each source must become: the picture as shown, the rungs (highest
# first), or the error of a FAILED one; and what the source must be, so
# that the corpus tests what it says
my %expect = (
    'rotate-90.mp4'     => { shown => '360x640', rungs => '270x480 202x360',
                             is => sub { rotation($_[0]) == -90 && $_[0]{width} == 640 } },
    'rotate-180.mp4'    => { shown => '640x360', rungs => '640x360',
                             is => sub { abs(rotation($_[0])) == 180 } },
    'rotate-270.mov'    => { shown => '360x640', rungs => '270x480 202x360',
                             is => sub { rotation($_[0]) == 90 && $_[0]{width} == 640
                                         && $_[1]{format}{tags}{major_brand} eq 'qt  ' } },
    'portrait.mp4'      => { shown => '360x640', rungs => '270x480 202x360',
                             is => sub { rotation($_[0]) == 0 && $_[0]{height} == 640 } },
    'vfr.mp4'           => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{r_frame_rate} ne $_[0]{avg_frame_rate} } },
    'short.mp4'         => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[1]{format}{duration} < 0.3 } },
    'long-gop.mp4'      => { shown => '320x180', rungs => '320x180',
                             is => sub { keyframes($_[2]) eq '0 10' } },
    'h264-10bit.mp4'    => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{profile} eq 'High 10'
                                         && $_[0]{pix_fmt} eq 'yuv420p10le' } },
    'hevc.mp4'          => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'hevc' && $_[0]{codec_tag_string} eq 'hvc1'
                                         && $_[0]{pix_fmt} eq 'yuv420p' } },
    'hevc-10bit.mp4'    => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'hevc' && $_[0]{profile} eq 'Main 10' } },
    'hevc-hdr10.mp4'    => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'hevc' && $_[0]{color_transfer} eq 'smpte2084'
                                         && $_[0]{color_primaries} eq 'bt2020' } },
    'odd-327x241.mp4'   => { shown => '327x241', rungs => '326x240',
                             is => sub { $_[0]{width} == 327 && $_[0]{height} == 241 } },
    'no-audio.mp4'      => { shown => '640x360', rungs => '640x360',
                             is => sub { !streams($_[1], 'audio') } },
    'audio-only.m4a'    => { error => 'not a playable video: the file has no video stream',
                             is => sub { !$_[0] && streams($_[1], 'audio') } },
    'vp8-opus.webm'     => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'vp8' } },
    'vp9-opus.webm'     => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'vp9' } },
    'av1-opus.webm'     => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'av1' } },
    'theora-vorbis.ogg' => { shown => '640x360', rungs => '640x360',
                             is => sub { $_[0]{codec_name} eq 'theora' } },
);

# the times of the keyframes, in whole seconds
sub keyframes {
    my ($file) = @_;
    my $out = qx{ffprobe -v error -select_streams v:0 -skip_frame nokey -show_entries frame=pts_time -of default=nw=1:nk=1 '$file'};
    return join ' ', map { int($_ + 0.5) } $out =~ /^([\d.]+)$/mg;
}

is scalar @corpus, scalar keys %expect, 'every source has its expectation';

my %source;    # name => { file, type, what, duration, audio }

for my $c (@corpus) {
    my ($file, $type, $what) = @$c;
    (my $name = $file) =~ s{.*/}{};
    my $p = ffprobe($file);
    my ($v) = streams($p, 'video');
    ok $expect{$name} && $expect{$name}{is}->($v, $p, $file),
       "the corpus: $name is $what";
    $source{$name} = { file => $file, type => $type, what => $what,
                       duration => $p->{format}{duration},
                       audio => scalar streams($p, 'audio') };
}

# -- uploaded as a browser does ------------------------------------------------

$t0 = Time::HiRes::time();
$source{$_}{id} = upload_video($port, $source{$_}{file}, $_, $source{$_}{type})
    for sort keys %source;

ok wait_for(240, sub {
       psql("SELECT count(*) FROM videos WHERE status IN ('READY', 'FAILED')")
           == keys %source
   }), 'every upload ends READY or FAILED';
diag(sprintf "%d uploads transcoded in %.1f s by two transcoders",
     scalar keys %source, Time::HiRes::time() - $t0);

# -- what each became ----------------------------------------------------------

# the mean grey of the picture's quarters (top-left, top-right,
# bottom-left), from its first frame scaled to 8x8
sub quarters {
    my ($what) = @_;
    my $raw = qx{ffmpeg -v error -i '$what' -frames:v 1 -vf scale=8:8:flags=area,format=gray -f rawvideo -};
    return () if $? || length $raw != 64;
    my @px = unpack 'C64', $raw;
    my $mean = sub {
        my ($x0, $y0) = @_;
        my $sum = 0;
        for my $y ($y0 .. $y0 + 3) { $sum += $px[$y * 8 + $_] for $x0 .. $x0 + 3 }
        return $sum / 16;
    };
    return ($mean->(0, 0), $mean->(4, 0), $mean->(0, 4));
}

sub upright {
    my ($tl, $tr, $bl) = @_;
    return defined $bl && $tl > 150 && $tr < 60 && $bl < 60;
}

my (@table, $ready, $refused);

for my $name (sort keys %source) {
    my $src = $source{$name};
    my $exp = $expect{$name};
    my $id = $src->{id};
    my $status = video_column($id, 'status');
    my $error = video_column($id, 'processing_error');

    if ($exp->{error}) {
        is $status, 'FAILED', "$name: FAILED";
        is $error, $exp->{error}, "$name: saying why";
        is psql("SELECT count(*) FROM video_variants WHERE video_id = '$id'"), 0,
           "$name: no variants";
        $refused++ if $status eq 'FAILED';
        push @table, [$name, $src->{what}, $status, '-', '-', '-', $error];
        next;
    }

    is $status, 'READY', "$name: READY" or diag("$name: $error");
    $ready++ if $status eq 'READY';

    if ($status ne 'READY') {
        push @table, [$name, $src->{what}, $status, '-', '-', '-', $error];
        next;
    }

    my ($sw, $sh) = split /x/, $exp->{shown};
    my $portrait = $sw < $sh;

    # the ladder: no rung above the picture as shown, its shape kept
    my @rungs = split /\n/, psql("SELECT resolution, width, height FROM video_variants"
                                 . " WHERE video_id = '$id' ORDER BY height DESC");
    my $sizes = join ' ', map { my (undef, $w, $h) = split /\|/; "${w}x$h" } @rungs;
    is $sizes, $exp->{rungs}, "$name: rungs $exp->{rungs}";
    my ($top, $tw, $th) = split /\|/, $rungs[0] // '||';

    # duration rounded, a clip under a second counting one
    my $want = int($src->{duration} + 0.5) || 1;
    is video_column($id, 'duration'), $want, "$name: duration $want s";

    my ($s, $b) = http_request($port, 'GET', "/api/videos/$id");
    my ($url) = $b =~ /"playbackUrl" : "([^"]+)"/;
    my ($ms, $master) = curl($url // 'http://127.0.0.1:1/');
    is $ms, 200, "$name: the master playlist";
    if ($src->{audio}) {
        like $master, qr/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/, "$name: lists H.264 and AAC";
    } else {
        like $master, qr/CODECS="avc1\.[0-9a-f]{6}"/, "$name: lists H.264 alone";
    }

    # the top rung through nginx, as a player reads it
    (my $rung = $url // '') =~ s{master\.m3u8$}{$top/playlist.m3u8};
    my $p = ffprobe($rung);
    my ($v) = $p ? streams($p, 'video') : ();
    $v //= {};
    is "$v->{codec_name} $v->{profile} $v->{pix_fmt}", 'h264 High yuv420p',
       "$name: H.264 High, 8-bit 4:2:0";
    is "$v->{width}x$v->{height}", "${tw}x$th", "$name: at its size";
    isnt $v->{color_transfer} // '', 'smpte2084', "$name: SDR";
    my $audio = $p ? scalar streams($p, 'audio') : -1;

    # in chunks (chunk_seconds), the audio is a rendition of its own
    if ($master =~ /#EXT-X-MEDIA:TYPE=AUDIO,.*URI="([^"]+)"/) {
        my $uri = $1;
        (my $aurl = $url) =~ s{master\.m3u8$}{$uri};
        my $ap = ffprobe($aurl);
        $audio += $ap ? scalar streams($ap, 'audio') : 0;
    }
    is $audio, $src->{audio}, "$name: " . ($src->{audio} ? 'with its audio' : 'no audio, as the source');
    my $dur = $p->{format}{duration} // 0;
    ok abs($dur - $src->{duration}) <= 0.25,
       sprintf "%s: lasting %.2f s as the source (%.2f s)", $name, $dur, $src->{duration};

    my $errors = qx{ffmpeg -v error -i '$rung' -f null - 2>&1};
    is $? . $errors, '0', "$name: decodes without an error";

    my @q = quarters($rung);
    ok upright(@q), "$name: upright (quarters @{[map { int } @q]})";

    # the thumbnail: the same shape, upright
    (my $thumb = $url // '') =~ s{master\.m3u8$}{thumbnail.jpg};
    my $jpg = "$dir/$name.jpg";
    my ($ts, $tb) = curl($thumb);
    open my $fh, '>', $jpg or die;
    binmode $fh;
    print $fh $tb;
    close $fh;
    is $ts, 200, "$name: the thumbnail";
    my ($tv) = streams(ffprobe($jpg) // {}, 'video');
    $tv //= { width => 0, height => 0 };
    is $tv->{width} < $tv->{height} ? 1 : 0, $portrait ? 1 : 0,
       "$name: thumbnail $tv->{width}x$tv->{height}, " . ($portrait ? 'portrait' : 'landscape');
    my @tq = quarters($jpg);
    ok upright(@tq), "$name: the thumbnail upright";

    my ($num, $den) = split m{/}, $v->{avg_frame_rate} // '0/1';
    push @table, [$name, $src->{what}, $status,
                  join(' ', map { my ($r, $w, $h) = split /\|/; "${w}x$h" } @rungs),
                  ($tw && $tw < $th ? 'portrait' : 'landscape')
                      . (upright(@q) && upright(@tq) ? ', upright' : ', NOT upright'),
                  $audio ? 'AAC' : 'none',
                  sprintf('%.2f s, %g fps%s', $dur, $den ? $num / $den : 0,
                          $name =~ /hdr/ ? ", transfer $v->{color_transfer}" : '')];
}

my $log = do { local (@ARGV, $/) = ("$dir/logs/worker-transcode.log"); <> } // '';
like $log, qr/video $source{'rotate-90.mp4'}{id}: 360x640 \(turned 90\), SDR/,
     'the transcoder logs the picture as shown and its turn';
like $log, qr/video $source{'hevc-hdr10.mp4'}{id}: 640x360 \(turned 0\), HDR/,
     'and an HDR source';

# -- the table -------------------------------------------------------------------

my $total = keys %source;
my $playable = grep { !$expect{$_}{error} } keys %source;
diag('');
diag('| source | what it is | status | rungs | picture | audio | top rung, or why |');
diag('|---|---|---|---|---|---|---|');
diag('| ' . join(' | ', map { $_ eq '' ? ' ' : $_ } @$_) . ' |') for @table;
diag(sprintf 'accepted %d of %d videos (READY), refused %d of %d that are not videos (FAILED, saying why)',
     $ready // 0, $playable, $refused // 0, $total - $playable);

# -- in the browsers ---------------------------------------------------------------

# each READY video played on the watch page, upright and of its shape
# (t/web/corpus.mjs); not in the sanitizer pass, which runs the workers
# and nginx of this suite sanitized and leaves browsers to the regular one
my @shown = map { { id => $source{$_}{id}, name => $_, shown => $expect{$_}{shown} } }
            grep { !$expect{$_}{error} && video_column($source{$_}{id}, 'status') eq 'READY' }
            sort keys %source;
SKIP: {
    my $why = browsers_missing(qw(firefox playwright-core puppeteer-core hls.js));
    $why = 'the sanitizer pass plays no video in a browser'
        if ($ENV{VIDEO_API_TEST_BROWSERS} // '1') eq '0';
    skip $why, 2 * (4 + 3 * @shown) if $why;
    for my $browser (qw(chromium firefox)) {
        browser_suite('t/web/corpus.mjs', deadline => 180, least => 2 + 3 * @shown,
                      artifacts => "$dir/artifacts",
                      env => { BROWSER => $browser, BASE_URL => "http://127.0.0.1:$port",
                               API_KEY => api_key(), ARTIFACTS => "$dir/artifacts",
                               VIDEOS => JSON::PP->new->canonical->encode(\@shown) });
    }
}

my $nlog = do { local (@ARGV, $/) = "$dir/logs/error.log"; <> };
unlike $nlog, qr/\[alert\]|\[emerg\]|exited on signal/, 'no nginx alerts';
is quota_drift(), '', 'each account\'s use counts equal what its tables hold';

done_testing;
