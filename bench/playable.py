#!/usr/bin/env python3
# The API side of bench/playable.sh: one upload the way a client makes it,
# and the times of what follows its `complete`.  Standard library only;
# one keep-alive connection per server, so polling every 100 ms costs a
# request, not a process.
#
#   playable.py upload FILE TITLE        presign, PUT, complete; prints
#                                        "<videoId> <epoch of complete>"
#   playable.py wait ID STATUS TIMEOUT   until the video is STATUS (READY
#                                        counts as PROCESSING too)
#   playable.py measure ID T0 TIMEOUT    polls every 100 ms (the progress
#                                        and every open playlist); prints
#                                        "<playable s> <READY s> <worst s>
#                                        <segments> <how> <worst's offset>"
#
# Environment: BENCH_API (http://host:port), BENCH_KEY (an API key),
# BENCH_PLAYABLE_TRACE (a file: every segment seen, by offset, with when
# and how late).
#
# First playable: the video object's (or /progress's) playableAt when the
# API has that field, else the first poll that sees READY: today a video
# plays only when READY.  Worst: over every segment of every rendition,
# the time it was first seen in its playlist (from T0) minus its start
# offset in the video; at most a few seconds means a player that starts at
# first playable never waits for a segment.
import datetime
import http.client
import json
import os
import sys
import time
import urllib.parse

POLL = 0.1


class Conn:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.c = u.hostname, u.port, None

    def request(self, method, path, body=None, headers=None, retry=True):
        for attempt in range(5):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port,
                                                    timeout=120,
                                                    blocksize=1 << 20)
            try:
                self.c.request(method, path, body=body, headers=headers or {})
                r = self.c.getresponse()
                data = r.read()
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if not retry or attempt == 4:
                    raise
                time.sleep(0.2)
                continue
            if r.status == 429 and retry:
                time.sleep(0.5)
                continue
            return r.status, data
        return r.status, data


api = Conn(os.environ['BENCH_API'])
auth = {'Authorization': 'Bearer ' + os.environ['BENCH_KEY']}


def call(method, path, doc=None, want=(200,), retry=True):
    h = dict(auth)
    body = None
    if doc is not None:
        body = json.dumps(doc).encode()
        h['Content-Type'] = 'application/json'
    status, data = api.request(method, path, body, h, retry)
    if status not in want:
        sys.exit('%s %s: %d %s' % (method, path, status, data[:300]))
    return json.loads(data).get('data')


def upload(path, title):
    size = os.path.getsize(path)
    p = call('POST', '/api/upload/presign',
             {'fileName': os.path.basename(path), 'fileSize': size,
              'contentType': 'video/mp4'}, (201,), retry=False)
    u = urllib.parse.urlsplit(p['uploadUrl'])
    store = Conn('%s://%s' % (u.scheme, u.netloc))
    h = dict(p.get('uploadHeaders') or {'Content-Type': 'video/mp4'})
    h['Content-Length'] = str(size)
    with open(path, 'rb') as f:
        status, data = store.request('PUT', u.path + '?' + u.query, f, h,
                                     retry=False)
    if status not in (200, 201):
        sys.exit('PUT of the upload: %d %s' % (status, data[:300]))
    t0 = time.time()
    call('POST', '/api/upload/%s/complete' % p['videoId'],
         {'key': p['key'], 'title': title}, (201,), retry=False)
    print('%s %.3f' % (p['videoId'], t0))


def progress(vid):
    return call('GET', '/api/videos/%s/progress' % vid)


def video(vid):
    return call('GET', '/api/videos/%s' % vid)['video']


def wait(vid, want, timeout):
    order = {'PENDING': 0, 'PROCESSING': 1, 'READY': 2}
    end = time.time() + timeout
    while time.time() < end:
        p = progress(vid)
        if p['status'] == 'FAILED':
            sys.exit('video %s FAILED: %s' % (vid, p.get('error')))
        if order.get(p['status'], -1) >= order[want]:
            return
        time.sleep(0.25)
    sys.exit('video %s: not %s after %d s' % (vid, want, timeout))


def delete(vid):
    call('DELETE', '/api/videos/%s' % vid, want=(200, 204, 404))


def iso_epoch(s):
    s = s.replace('Z', '+00:00')
    return datetime.datetime.fromisoformat(s).timestamp()


class Playlists:
    """The renditions' playlists, polled in turn until each is ended."""

    def __init__(self, master_url, t0):
        self.t0 = t0
        u = urllib.parse.urlsplit(master_url)
        self.conn = Conn('%s://%s' % (u.scheme, u.netloc))
        self.seen = {}        # (playlist, uri) -> (seconds from t0, offset)
        self.ended = {}
        status, data = self.conn.request('GET', u.path + '?' + u.query
                                         if u.query else u.path)
        if status != 200:
            sys.exit('master playlist: %d' % status)
        self.ended = {urllib.parse.urljoin(master_url, uri): False
                      for uri in self.uris(data.decode())}

    @staticmethod
    def uris(text):
        out, take = [], False
        for line in text.splitlines():
            line = line.strip()
            if line.startswith('#EXT-X-STREAM-INF'):
                take = True
            elif line.startswith('#EXT-X-MEDIA') and 'URI="' in line:
                out.append(line.split('URI="', 1)[1].split('"', 1)[0])
            elif take and line and not line.startswith('#'):
                out.append(line)
                take = False
        return out

    def done(self):
        return all(self.ended.values())

    def poll(self):
        for url in [p for p, e in self.ended.items() if not e]:
            self.poll_one(url)

    def poll_one(self, url):
        u = urllib.parse.urlsplit(url)
        status, data = self.conn.request('GET', u.path + '?' + u.query
                                         if u.query else u.path)
        now = time.time() - self.t0
        if status != 200:
            return
        offset, dur = 0.0, None
        for line in data.decode().splitlines():
            line = line.strip()
            if line.startswith('#EXTINF:'):
                dur = float(line[8:].split(',', 1)[0])
            elif line == '#EXT-X-ENDLIST':
                self.ended[url] = True
            elif line and not line.startswith('#') and dur is not None:
                self.seen.setdefault((url, line), (now, offset))
                offset += dur
                dur = None

    def worst(self):
        """The latest segment: (seconds late, its start offset)."""
        if not self.seen:
            return None, None
        return max((t - off, off) for t, off in self.seen.values())

    def trace(self, path):
        """Every segment, by rendition and offset: seen at, late by."""
        with open(path, 'w') as f:
            for (url, uri), (t, off) in sorted(
                    self.seen.items(), key=lambda kv: (kv[1][1], kv[0])):
                f.write('%8.3f %8.3f %7.3f %s %s\n' % (
                    off, t, t - off, urllib.parse.urlsplit(url).path, uri))


def measure(vid, t0, timeout):
    t0 = float(t0)
    end = time.time() + timeout
    play = ready = None
    how = 'READY'
    lists = None
    n = 0
    while time.time() < end:
        n += 1
        p = progress(vid)
        now = time.time() - t0
        if p['status'] == 'FAILED':
            sys.exit('video %s FAILED: %s' % (vid, p.get('error')))
        at = p.get('playableAt')
        if at is None and 'playableAt' not in p and n % 10 == 0:
            at = video(vid).get('playableAt')
        if play is None and at:
            play, how = iso_epoch(at) - t0, 'playableAt'
        if p['status'] == 'READY' and ready is None:
            ready = now
            if play is None:
                play = now
        if play is not None and lists is None:
            url = video(vid).get('playbackUrl')
            if url:
                lists = Playlists(url, t0)
        if lists is not None:
            lists.poll()
        if ready is not None and (lists is None or lists.done()):
            break
        time.sleep(POLL)
    else:
        sys.exit('video %s: not READY after %d s' % (vid, timeout))
    worst, at = lists.worst() if lists else (None, None)
    if lists and os.environ.get('BENCH_PLAYABLE_TRACE'):
        lists.trace(os.environ['BENCH_PLAYABLE_TRACE'])
    print('%.2f %.2f %s %d %s %s' % (
        play, ready, '-' if worst is None else '%.2f' % worst,
        len(lists.seen) if lists else 0, how,
        '-' if at is None else '%.1f' % at))


def main():
    cmd = sys.argv[1:2]
    if cmd == ['upload'] and len(sys.argv) == 4:
        upload(sys.argv[2], sys.argv[3])
    elif cmd == ['wait'] and len(sys.argv) == 5:
        wait(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == ['measure'] and len(sys.argv) == 5:
        measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == ['delete'] and len(sys.argv) == 3:
        delete(sys.argv[2])
    else:
        sys.exit('usage: playable.py upload FILE TITLE | wait ID STATUS '
                 'TIMEOUT | measure ID T0 TIMEOUT | delete ID')


if __name__ == '__main__':
    main()
