#!/bin/sh
# t/corpus/make.sh <dir>: the source corpus of t/037-source-corpus.t, made
# with Debian's ffmpeg: short clips of what phones, cameras and editors
# upload rather than test patterns' H.264 in MP4.  Each picture, as a
# player shows it, is black with a white top-left quarter (so a turned or
# mirrored output shows), and a moving test pattern in the bottom-right
# sixteenth (so it is a video); the audio is a 440 Hz tone.
#
# One line per clip on stdout: <file> <content type> <what it is>
set -eu

# SVT-AV1 logs its settings on stderr unless told errors only
export SVT_LOG=1

dir=${1:?usage: $0 <dir>}
mkdir -p "$dir"

ff() {
    ffmpeg -hide_banner -nostdin -loglevel error -y "$@"
}

# the picture as shown, w x h, d seconds at r fps (4:4:4, which may have
# an odd size; the color source rounds a 4:2:0 one down to even)
picture() {
    w=$1 h=$2 d=$3 r=$4
    echo "color=c=black:s=$((w + w % 2))x$((h + h % 2)):r=$r:d=$d,"\
"format=yuv444p,crop=$w:$h:0:0,"\
"drawbox=x=0:y=0:w=$((w / 2)):h=$((h / 2)):c=white:t=fill[bg];"\
"testsrc2=s=$((w / 4))x$((h / 4)):r=$r:d=$d[fg];"\
"[bg][fg]overlay=x=$((w - w / 4)):y=$((h - h / 4)):shortest=1"
}

tone() {
    echo "sine=frequency=440:sample_rate=48000:duration=$1"
}

# sets the display matrix of the first track with a picture, in its
# tkhd box, as a phone writes it: ffmpeg 5.1 writes none from a "rotate"
# tag.  The matrix is a b u c d v x y w: a, b, c, d, x, y 16.16, u, v, w
# 2.30; a quarter clockwise turn of a w x h picture is 0 1 -1 0 with
# x = h.
turn() {
    perl -e '
        use strict;
        my ($file, $deg) = @ARGV;
        open my $fh, "+<:raw", $file or die "$file: $!";
        my $mp4 = do { local $/; <$fh> };
        # the boxes directly in [$from, $to): (type, start, size) each
        sub boxes {
            my ($from, $to) = @_;
            my @b;
            while ($from + 8 <= $to) {
                my ($size, $type) = unpack "Na4", substr $mp4, $from, 8;
                die "$file: a box of $size bytes\n" if $size < 8;
                push @b, [$type, $from, $size];
                $from += $size;
            }
            return @b;
        }
        my ($moov) = grep { $_->[0] eq "moov" } boxes(0, length $mp4);
        die "$file: no moov\n" unless $moov;
        for my $trak (grep { $_->[0] eq "trak" } boxes($moov->[1] + 8, $moov->[1] + $moov->[2])) {
            my ($tkhd) = grep { $_->[0] eq "tkhd" } boxes($trak->[1] + 8, $trak->[1] + $trak->[2]);
            next unless $tkhd;
            my $t = $tkhd->[1];
            # version 1 has 64-bit times and duration
            my $m = $t + 12 + (ord(substr $mp4, $t + 8, 1) ? 32 : 20) + 16;
            my ($w, $h) = map { $_ >> 16 } unpack "NN", substr $mp4, $m + 36, 8;
            next unless $w;
            my @m = $deg == 90  ? (0, 1, -1, 0, $h, 0)
                  : $deg == 180 ? (-1, 0, 0, -1, $w, $h)
                  : $deg == 270 ? (0, -1, 1, 0, 0, $w)
                  : die "turn: $deg\n";
            my ($a, $b, $c, $d, $x, $y) = map { ($_ * 65536) & 0xffffffff } @m;
            substr($mp4, $m, 36) = pack "N9", $a, $b, 0, $c, $d, 0, $x, $y, 1 << 30;
            seek $fh, 0, 0;
            print $fh $mp4;
            close $fh or die "$file: $!";
            exit 0;
        }
        die "$file: no track with a picture\n";
    ' "$@"
}

x264="-c:v libx264 -preset ultrafast"
x265="-c:v libx265 -preset ultrafast -x265-params log-level=error -tag:v hvc1"
aac="-c:a aac -b:a 64k"

clip() {
    echo "$dir/$1 $2 $3"
}

# -- turned by their display matrix, as phones record -------------------------

# coded landscape 640x360, shown portrait 360x640: the picture turned
# counter-clockwise, and a matrix that turns it back
ff -f lavfi -i "$(picture 360 640 2 30),transpose=cclock" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv420p $aac "$dir/rotate-90.mp4"
turn "$dir/rotate-90.mp4" 90
clip rotate-90.mp4 video/mp4 "H.264, rotate 90 (a phone held upright)"

ff -f lavfi -i "$(picture 640 360 2 30),hflip,vflip" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv420p $aac "$dir/rotate-180.mp4"
turn "$dir/rotate-180.mp4" 180
clip rotate-180.mp4 video/mp4 "H.264, rotate 180 (upside down)"

# QuickTime, as an iPhone writes it
ff -f lavfi -i "$(picture 360 640 2 30),transpose=clock" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv420p $aac -f mov "$dir/rotate-270.mov"
turn "$dir/rotate-270.mov" 270
clip rotate-270.mov video/mp4 "H.264 in QuickTime MOV, rotate 270"

# a portrait picture with no matrix, 1080x1920 scaled down
ff -f lavfi -i "$(picture 360 640 2 30)" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv420p $aac "$dir/portrait.mp4"
clip portrait.mp4 video/mp4 "H.264, portrait 360x640, no rotation"

# -- timing ----------------------------------------------------------------

# 60 fps for a second, then 20: a variable frame rate timeline
ff -f lavfi -i "$(picture 640 360 3 60),select='lt(t\,1)+not(mod(n\,3))'" \
   -f lavfi -i "$(tone 3)" -fps_mode vfr \
   $x264 -pix_fmt yuv420p $aac "$dir/vfr.mp4"
clip vfr.mp4 video/mp4 "H.264, variable frame rate (60 then 20 fps)"

ff -f lavfi -i "$(picture 640 360 0.2 30)" -f lavfi -i "$(tone 0.2)" \
   $x264 -pix_fmt yuv420p $aac "$dir/short.mp4"
clip short.mp4 video/mp4 "H.264, 0.2 s (6 frames)"

ff -f lavfi -i "$(picture 320 180 12 30)" -f lavfi -i "$(tone 12)" \
   $x264 -pix_fmt yuv420p -x264-params keyint=300:min-keyint=300:scenecut=0 \
   $aac "$dir/long-gop.mp4"
clip long-gop.mp4 video/mp4 "H.264, 12 s, a keyframe every 10 s"

# -- depth, codecs, colour ---------------------------------------------------

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv420p10le $aac "$dir/h264-10bit.mp4"
clip h264-10bit.mp4 video/mp4 "H.264 High 10 (yuv420p10le)"

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   $x265 -pix_fmt yuv420p $aac "$dir/hevc.mp4"
clip hevc.mp4 video/mp4 "HEVC 8-bit (hvc1)"

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   $x265 -pix_fmt yuv420p10le $aac "$dir/hevc-10bit.mp4"
clip hevc-10bit.mp4 video/mp4 "HEVC Main 10 (hvc1)"

# HDR10 as a phone tags it: BT.2020 primaries and matrix, PQ transfer
ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   -c:v libx265 -preset ultrafast -tag:v hvc1 -pix_fmt yuv420p10le \
   -x265-params "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400" \
   -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc \
   $aac "$dir/hevc-hdr10.mp4"
clip hevc-hdr10.mp4 video/mp4 "HEVC Main 10, HDR10 (BT.2020, PQ)"

# 4:4:4 allows an odd size, which 4:2:0 does not
ff -f lavfi -i "$(picture 327 241 2 30)" -f lavfi -i "$(tone 2)" \
   $x264 -pix_fmt yuv444p $aac "$dir/odd-327x241.mp4"
clip odd-327x241.mp4 video/mp4 "H.264 4:4:4, 327x241 (odd)"

# -- streams ---------------------------------------------------------------

ff -f lavfi -i "$(picture 640 360 2 30)" $x264 -pix_fmt yuv420p \
   "$dir/no-audio.mp4"
clip no-audio.mp4 video/mp4 "H.264, no audio"

ff -f lavfi -i "$(tone 2)" $aac "$dir/audio-only.m4a"
clip audio-only.m4a video/mp4 "AAC alone (M4A)"

# -- the other containers the API takes ------------------------------------

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   -c:v libvpx -deadline realtime -cpu-used 8 -b:v 500k -pix_fmt yuv420p -c:a libopus \
   "$dir/vp8-opus.webm"
clip vp8-opus.webm video/webm "WebM, VP8 + Opus"

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 500k \
   -pix_fmt yuv420p -c:a libopus \
   "$dir/vp9-opus.webm"
clip vp9-opus.webm video/webm "WebM, VP9 + Opus"

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   -c:v libsvtav1 -preset 12 -pix_fmt yuv420p -c:a libopus \
   "$dir/av1-opus.webm"
clip av1-opus.webm video/webm "WebM, AV1 + Opus"

ff -f lavfi -i "$(picture 640 360 2 30)" -f lavfi -i "$(tone 2)" \
   -c:v libtheora -q:v 5 -pix_fmt yuv420p -c:a libvorbis "$dir/theora-vorbis.ogg"
clip theora-vorbis.ogg video/ogg "Ogg, Theora + Vorbis"
