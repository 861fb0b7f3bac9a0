#!/usr/bin/env python3
# The quality side of bench/playable.sh's "quality" scenario: one source
# transcoded in chunks (A) and in one piece with the same settings (B),
# both as the store holds them (<store>/videos-processed/<id>).  Per rung:
# SSIM of A against B frame by frame (ffmpeg's ssim filter over the rung
# playlists' segments, joined in order), its mean per segment of A, the
# lowest segment, the lowest segment that starts a chunk (the boundary:
# the encoder restarted there), and the peak bitrate of A's segments
# against the rung's advertised BANDWIDTH less the audio.
#
#   quality.py DIR_A DIR_B AUDIO_KBPS
import os
import re
import subprocess
import sys
import tempfile


def playlist(path):
    segs, dur = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith('#EXTINF:'):
                dur = float(line[8:].split(',', 1)[0])
            elif line and not line.startswith('#') and dur is not None:
                segs.append((line, dur))
                dur = None
    return segs


def rungs(master):
    out = []
    text = open(master).read()
    for m in re.finditer(r'#EXT-X-STREAM-INF:([^\n]*)\n(\S+)', text):
        bw = int(re.search(r'BANDWIDTH=(\d+)', m.group(1)).group(1))
        out.append((m.group(2).split('/')[0], bw))
    return out


def joined(d, rung, segs, tmp):
    out = os.path.join(tmp, '%s-%s.ts' % (os.path.basename(d), rung))
    with open(out, 'wb') as w:
        for name, _ in segs:
            with open(os.path.join(d, rung, name), 'rb') as r:
                w.write(r.read())
    return out


def ssim(a, b):
    graph = ('[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];'
             '[a][b]ssim=stats_file=-')
    p = subprocess.run(['ffmpeg', '-hide_banner', '-nostdin', '-loglevel',
                        'error', '-i', a, '-i', b, '-lavfi', graph, '-f',
                        'null', '-'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit('ffmpeg ssim failed: ' + p.stderr[-400:])
    return [float(m.group(1))
            for m in re.finditer(r'All:([0-9.]+)', p.stdout)]


def main():
    da, db, akbps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print('%-6s %8s %10s %12s %12s %10s %10s' % (
        'rung', 'segments', 'mean SSIM', 'lowest seg', 'lowest start',
        'peak kb/s', 'cap kb/s'))
    with tempfile.TemporaryDirectory() as tmp:
        for rung, bw in rungs(os.path.join(da, 'master.m3u8')):
            sa = playlist(os.path.join(da, rung, 'playlist.m3u8'))
            sb = playlist(os.path.join(db, rung, 'playlist.m3u8'))
            frames = ssim(joined(da, rung, sa, tmp), joined(db, rung, sb, tmp))
            total = sum(d for _, d in sa)
            fps = len(frames) / total if total else 30
            per, start, t = [], [], 0.0
            for name, d in sa:
                lo, hi = int(round(t * fps)), int(round((t + d) * fps))
                vals = frames[lo:hi]
                if vals:
                    m = sum(vals) / len(vals)
                    per.append(m)
                    if name.endswith('_000.ts'):
                        start.append(m)
                t += d
            peak = max(os.path.getsize(os.path.join(da, rung, n)) * 8 / d
                       for n, d in sa if d > 0) / 1000
            print('%-6s %8d %10.4f %12.4f %12s %10.0f %10d' % (
                rung, len(sa), sum(frames) / len(frames), min(per),
                '%.4f' % min(start) if start else '-', peak,
                bw // 1000 - akbps))


if __name__ == '__main__':
    main()
