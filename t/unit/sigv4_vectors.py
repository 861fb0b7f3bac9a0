#!/usr/bin/python3
"""Test vectors for src/lib/video_sigv4.c, made by botocore.

Presigned URLs come from an s3 client's generate_presigned_url(), and
Authorization headers from botocore.auth.S3SigV4Auth, both with a fixed
clock, so t/unit/test_sigv4.c can compare our output byte for byte.
Requests signed in the Authorization header, for the verifier, are what
an s3 client's operations send (captured before they leave, with a fixed
clock), and one aws-chunked upload's seed signature made by S3SigV4Auth.
Presigned PUTs that bind headers (what POST /api/upload/presign hands
out) pass ContentLength and ContentType to put_object and add
If-None-Match before signing (this botocore's put_object has no
IfNoneMatch parameter; S3 reads the header all the same).

botocore's own SigV4 signer is used even where python3-awscrt is
installed (awscli pulls it in), which would swap in the CRT's signer
with a clock this script cannot fix.

Regenerate (Debian's python3-botocore; the file is committed):

    /usr/bin/python3 t/unit/sigv4_vectors.py > t/unit/sigv4_vectors.h

The same header-signed requests, and hostile variants of them, are the
seeds of the sigv4_auth fuzzing harness (t/fuzz/sigv4_auth.c):

    /usr/bin/python3 t/unit/sigv4_vectors.py --fuzz-seeds \
        t/fuzz/corpus/sigv4_auth
"""

import datetime
import hashlib
import os
import sys
import urllib.parse
from unittest import mock

os.environ['BOTO_DISABLE_CRT'] = 'true'

import botocore
import botocore.auth
import botocore.session
from botocore.auth import S3SigV4Auth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


ACCESS = 'AKIAIOSFODNN7EXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

LOCAL = 'http://127.0.0.1:9000'
EU = 'https://s3.eu-west-1.amazonaws.com'

T2013 = 1369353600      # 2013-05-24T00:00:00Z, the AWS documentation's
T2025 = 1764120225      # 2025-11-26T01:23:45Z
TLEAP = 1709251199      # 2024-02-29T23:59:59Z
T1999 = 946684799       # 1999-12-31T23:59:59Z

LONG_KEY = 'long/' + ('0123456789abcdefghijklmnopqrstuvwxyz-_.' * 6)[:195]

OPERATIONS = {
    'GET': 'get_object',
    'PUT': 'put_object',
    'HEAD': 'head_object',
    'DELETE': 'delete_object',
}

# method, endpoint, region, bucket, key, path style, now, expires
PRESIGN = [
    ('GET', 'https://s3.amazonaws.com', 'us-east-1', 'examplebucket',
     'test.txt', 0, T2013, 86400),
    ('GET', LOCAL, 'us-east-1', 'videos', 'a b/c d.mp4', 1, T2025, 3600),
    ('GET', LOCAL, 'us-east-1', 'videos', 'vid\u00e9o/\u00e9.mp4', 1,
     T2025, 3600),
    ('PUT', LOCAL, 'us-east-1', 'videos', 'c++/a+b.mp4', 1, T2025, 604800),
    ('GET', LOCAL, 'us-east-1', 'videos', 'x=1&y=2.mp4', 1, TLEAP, 1),
    ('HEAD', LOCAL, 'us-east-1', 'videos', '100%/done%20.mp4', 1, T2025,
     3600),
    ('DELETE', LOCAL, 'us-east-1', 'videos', '~user/file~1.mp4', 1, T1999,
     3600),
    ('GET', LOCAL, 'us-east-1', 'videos', 'a/b/c/d/e/f/g.mp4', 1, T2025,
     3600),
    ('GET', LOCAL, 'us-east-1', 'videos', LONG_KEY, 1, T2025, 3600),
    ('GET', LOCAL, 'us-east-1', 'videos', '!"#$\'()*,:;<>?@[\\]^`{|}.mp4',
     1, T2025, 3600),
    ('PUT', LOCAL, 'us-east-1', 'videos', 'a//b/./../c', 1, T2025, 600),
    ('GET', 'http://minio.internal:8080', 'us-east-1', 'videos',
     'vod/\u65e5\u672c/\u52d5\u753b 1.mp4', 1, T2025, 3600),
    ('PUT', 'https://Storage.Example.COM:8443', 'eu-central-1', 'media',
     'up/raw video.mov', 1, T2025, 900),
    ('GET', 'http://127.0.0.1:80', 'us-east-1', 'videos', 'default port',
     1, T2025, 3600),
    ('GET', EU, 'eu-west-1', 'my-videos', 'uploads/vid 1.mp4', 0, T2025,
     3600),
    ('PUT', EU, 'eu-west-1', 'my-videos', '\u52d5\u753b/\u00e9t\u00e9.mp4',
     0, TLEAP, 604800),
    ('HEAD', EU, 'eu-west-1', 'my-videos', '/lead/a+b=c&d', 0, T2025, 1),
    ('DELETE', EU, 'eu-west-1', 'my-videos', 'tmp/%41.bin', 0, T1999,
     604800),
]

# GET URLs with response-* parameters besides the X-Amz-* ones, which
# the verifier has to sort into the canonical query: endpoint, region,
# bucket, key, path style, now, expires, extra parameters
EXTRA = [
    (LOCAL, 'us-east-1', 'videos', 'a b/c.mp4', 1, T2025, 3600,
     {'ResponseContentType': 'video/mp4',
      'ResponseContentDisposition': 'attachment; filename="a b.mp4"'}),
    (EU, 'eu-west-1', 'my-videos', 'vid\u00e9o.mp4', 0, TLEAP, 600,
     {'ResponseCacheControl': 'max-age=60, private',
      'ResponseContentLanguage': 'fr~CA'}),
]

# presigned PUTs binding headers: endpoint, region, bucket, key, path
# style, now, expires, Content-Length (None: not bound), Content-Type
# (None: not bound), If-None-Match (None: not bound)
BOUND = [
    (LOCAL, 'us-east-1', 'videos-raw', 'V1StGXR8_Z5jdHi6B-myT/original.mp4',
     1, T2025, 3600, 1048576, 'video/mp4', '*'),
    (LOCAL, 'us-east-1', 'videos-raw', 'a b/original.webm', 1, TLEAP, 1,
     2147483648, 'video/webm', '*'),
    (LOCAL, 'us-east-1', 'videos', 'c++/a+b.ogg', 1, T2025, 604800, 0,
     'video/ogg', None),
    (LOCAL, 'us-east-1', 'videos', 'x.mp4', 1, T1999, 600, 10, None, None),
    (LOCAL, 'us-east-1', 'videos', 'y.mp4', 1, T2025, 600, None,
     'video/mp4; codecs="avc1.42E01E, mp4a.40.2"', None),
    (LOCAL, 'us-east-1', 'videos', 'z.mp4', 1, T2025, 600, None, None, '*'),
    (EU, 'eu-west-1', 'my-videos', '\u52d5\u753b/original.mp4', 0, T2025,
     900, 5, 'video/mp4', '*'),
    ('https://Storage.Example.COM:8443', 'eu-central-1', 'media',
     'up/raw video.mov', 1, T2025, 900, 123456789, 'video/quicktime', '*'),
]

# method, endpoint, region, bucket, key, path style, now, body (None:
# UNSIGNED-PAYLOAD)
HEADERS = [
    ('PUT', LOCAL, 'us-east-1', 'videos', 'uploads/vid\u00e9o 1.mp4', 1,
     T2025, b'hello, world\n'),
    ('GET', LOCAL, 'us-east-1', 'videos', 'hls/a b/index.m3u8', 1, T2025,
     b''),
    ('PUT', EU, 'eu-west-1', 'my-videos', 'raw/c++ & co.mov', 0, TLEAP,
     None),
    ('DELETE', 'https://Storage.Example.COM:8443', 'eu-central-1', 'media',
     'tmp/x=1.ts', 1, T1999, b''),
]


# requests signed in the Authorization header, as an s3 client sends them:
# what they are, endpoint, region, path style, now, payload signing
# (None: botocore's choice), operation, its parameters
AUTH = [
    ('PutObject, payload hash', LOCAL, 'us-east-1', 1, T2025, None,
     'put_object', {'Bucket': 'videos', 'Key': 'uploads/vid\u00e9o 1.mp4',
                    'Body': b'hello, world\n', 'ContentType': 'video/mp4'}),
    ('GetObject with Range, UNSIGNED-PAYLOAD', LOCAL, 'us-east-1', 1, T2025,
     False, 'get_object', {'Bucket': 'videos', 'Key': 'hls/a b/index.m3u8',
                           'Range': 'bytes=0-99'}),
    ('HeadObject, UNSIGNED-PAYLOAD', LOCAL, 'us-east-1', 1, TLEAP, False,
     'head_object', {'Bucket': 'videos', 'Key': 'c++/a+b=c&d.mp4'}),
    ('ListObjectsV2', LOCAL, 'us-east-1', 1, T2025, False,
     'list_objects_v2', {'Bucket': 'videos', 'Prefix': 'a/b c+d=\u00e9',
                         'Delimiter': '/', 'MaxKeys': 5,
                         'ContinuationToken': '1/ab+c=d e~%&x'}),
    ('UploadPart', LOCAL, 'us-east-1', 1, T2025, None, 'upload_part',
     {'Bucket': 'videos', 'Key': 'raw/big.mov', 'PartNumber': 3,
      'UploadId': '2~iCw_lDY8VoNB.Yx+/=a b', 'Body': b'part three'}),
    ('CreateMultipartUpload (?uploads)', LOCAL, 'us-east-1', 1, T1999, None,
     'create_multipart_upload', {'Bucket': 'videos', 'Key': 'raw/big.mov',
                                 'ContentType': 'video/quicktime'}),
    ('DeleteObjects (?delete)', LOCAL, 'us-east-1', 1, T2025, None,
     'delete_objects', {'Bucket': 'videos', 'Delete': {
         'Objects': [{'Key': 'a.mp4'}, {'Key': 'b c/d.ts'}]}}),
    ('GetObject, virtual host', EU, 'eu-west-1', 0, T2025, False,
     'get_object', {'Bucket': 'my-videos', 'Key': 'vod/\u52d5\u753b.mp4'}),
]

STREAMING = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'


def fixed_clock(now):
    """Patches every way botocore versions read the clock in auth.py."""
    dt = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
    dt = dt.replace(tzinfo=None)

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return dt

        @classmethod
        def now(cls, tz=None):
            return dt if tz is None else dt.replace(tzinfo=tz)

    module = mock.MagicMock(wraps=datetime)
    module.datetime = FixedDatetime
    patches = [mock.patch.object(botocore.auth, 'datetime', module)]
    if hasattr(botocore.auth, 'get_current_datetime'):
        patches.append(mock.patch.object(botocore.auth,
                                         'get_current_datetime',
                                         lambda *a, **k: dt))
    return patches


def client(endpoint, region, path_style):
    style = 'path' if path_style else 'virtual'
    return botocore.session.get_session().create_client(
        's3', region_name=region, endpoint_url=endpoint,
        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': style}))


def presign(method, endpoint, region, bucket, key, path_style, now,
            expires, extra=None):
    patches = fixed_clock(now)
    for p in patches:
        p.start()
    try:
        return client(endpoint, region, path_style).generate_presigned_url(
            OPERATIONS[method],
            Params=dict({'Bucket': bucket, 'Key': key}, **(extra or {})),
            ExpiresIn=expires)
    finally:
        for p in patches:
            p.stop()


def presign_bound(endpoint, region, bucket, key, path_style, now,
                  expires, length, ctype, inm):
    c = client(endpoint, region, path_style)
    params = {'Bucket': bucket, 'Key': key}
    if length is not None:
        params['ContentLength'] = length
    if ctype is not None:
        params['ContentType'] = ctype

    def add_if_none_match(request, **kwargs):
        request.headers['If-None-Match'] = inm

    if inm is not None:
        c.meta.events.register('before-sign.s3.PutObject', add_if_none_match)
    patches = fixed_clock(now)
    for p in patches:
        p.start()
    try:
        return c.generate_presigned_url('put_object', Params=params,
                                        ExpiresIn=expires)
    finally:
        for p in patches:
            p.stop()


def sign_headers(method, endpoint, region, bucket, key, path_style, now,
                 body):
    url = presign(method, endpoint, region, bucket, key, path_style, now,
                  60).split('?')[0]
    request = AWSRequest(method=method, url=url, data=body or b'')
    if body is None:
        request.context['client_config'] = Config(
            s3={'payload_signing_enabled': False})
    patches = fixed_clock(now)
    for p in patches:
        p.start()
    try:
        S3SigV4Auth(Credentials(ACCESS, SECRET), 's3', region).add_auth(
            request)
    finally:
        for p in patches:
            p.stop()
    payload = request.headers['X-Amz-Content-SHA256']
    want = 'UNSIGNED-PAYLOAD' if body is None else \
        hashlib.sha256(body).hexdigest()
    assert payload == want, (payload, want)
    auth = request.headers['Authorization']
    assert 'SignedHeaders=host;x-amz-content-sha256;x-amz-date,' in auth, auth
    return url, payload, request.headers['X-Amz-Date'], auth


class Captured(Exception):
    pass


def signed_request(name, endpoint, region, path_style, now, sign_payload,
                   operation, params):
    """The request an s3 client sends for operation, as it leaves."""
    s3 = {'addressing_style': 'path' if path_style else 'virtual'}
    if sign_payload is not None:
        s3['payload_signing_enabled'] = sign_payload
    c = botocore.session.get_session().create_client(
        's3', region_name=region, endpoint_url=endpoint,
        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
        config=Config(signature_version='s3v4', s3=s3))
    sent = []

    def before_send(request, **kwargs):
        sent.append(request)
        raise Captured()

    c.meta.events.register('before-send.s3', before_send)
    patches = fixed_clock(now)
    for p in patches:
        p.start()
    try:
        getattr(c, operation)(**params)
    except Captured:
        pass
    finally:
        for p in patches:
            p.stop()
    return sent[0]


class StreamingAuth(S3SigV4Auth):
    """An aws-chunked upload's seed signature (botocore sends none)."""

    def payload(self, request):
        return STREAMING


def streaming_request(now):
    url = LOCAL + '/videos/raw/chunked.mp4'
    request = AWSRequest(method='PUT', url=url, data=b'', headers={
        'Content-Encoding': 'aws-chunked',
        'X-Amz-Decoded-Content-Length': '13'})
    patches = fixed_clock(now)
    for p in patches:
        p.start()
    try:
        StreamingAuth(Credentials(ACCESS, SECRET), 's3', 'us-east-1'
                      ).add_auth(request)
    finally:
        for p in patches:
            p.stop()
    return request


def auth_vector(name, region, now, request, body):
    """The fields of sigv4_auth_vector_t for a signed request."""
    def text(v):
        return v.decode() if isinstance(v, bytes) else v

    headers = {k.lower(): text(v) for k, v in request.headers.items()}
    auth = headers['authorization']
    signed = auth.split('SignedHeaders=')[1].split(',')[0].split(';')
    url = urllib.parse.urlsplit(request.url)
    payload = headers['x-amz-content-sha256']
    if payload == 'UNSIGNED-PAYLOAD':
        kind, digest = 'VIDEO_SIGV4_PAYLOAD_UNSIGNED', None
    elif payload.startswith('STREAMING-'):
        kind, digest = 'VIDEO_SIGV4_PAYLOAD_STREAMING', None
    else:
        kind = 'VIDEO_SIGV4_PAYLOAD_SHA256'
        digest = hashlib.sha256(body or b'').hexdigest()
        assert payload == digest, (name, payload, digest)
    for h in ('host', 'x-amz-content-sha256', 'x-amz-date'):
        assert h in signed, (name, signed)
    sent = [(k, text(v)) for k, v in request.headers.items()
            if k.lower() in signed]
    assert len(sent) == len(signed) - 1, (name, signed, sent)
    return (name, request.method, region, now, _host_from_url(request.url),
            url.path, url.query, auth, kind, digest, sent)


def auth_vectors():
    for v in AUTH:
        name, endpoint, region, path_style, now, sign_payload, op, params = v
        request = signed_request(*v)
        body = params.get('Body', request.body)
        yield auth_vector(name, region, now, request, body)
    yield auth_vector('aws-chunked PutObject', 'us-east-1', T2025,
                      streaming_request(T2025), None)


def c_string(s, indent=6, width=79):
    """A C literal, split into adjacent literals to stay within width."""
    tokens = []
    prev = ''
    for b in s.encode('utf-8'):
        c = chr(b)
        if c in '"\\' or (c == '?' and prev == '?'):
            tokens.append('\\' + c)
        elif 0x20 <= b < 0x7f:
            tokens.append(c)
        else:
            # three octal digits: a following digit cannot join the escape
            tokens.append('\\%03o' % b)
        prev = c
    # break after "&", "?", "/" or " " where possible, anywhere if a part is
    # longer than a line; room is left for the '" },' that may follow
    room = width - indent - 5
    parts = [[]]
    for t in tokens:
        parts[-1].append(t)
        if t in '&?/ ':
            parts.append([])
    lines = ['']
    for part in parts:
        n = len(''.join(part))
        if lines[-1] and len(lines[-1]) + n > room and n <= room:
            lines.append('')
        for t in part:
            if len(lines[-1]) + len(t) > room:
                lines.append('')
            lines[-1] += t
    sep = '"\n' + ' ' * indent + '"'
    return '"' + sep.join(lines) + '"'


def main():
    w = sys.stdout.write
    w('/*\n'
      ' * Generated by t/unit/sigv4_vectors.py with botocore %s; do not\n'
      ' * edit.  Regenerate:\n'
      ' *\n'
      ' *     /usr/bin/python3 t/unit/sigv4_vectors.py'
      ' > t/unit/sigv4_vectors.h\n'
      ' */\n\n' % botocore.__version__)
    w('#define SIGV4_T_ACCESS  %s\n' % c_string(ACCESS))
    w('#define SIGV4_T_SECRET  %s\n\n\n' % c_string(SECRET))

    w('typedef struct {\n'
      '    const char  *method;\n'
      '    const char  *endpoint;\n'
      '    const char  *region;\n'
      '    const char  *bucket;\n'
      '    const char  *key;\n'
      '    int          path_style;\n'
      '    int64_t      now;\n'
      '    long         expires;\n'
      '    const char  *host;       /* the Host value botocore signed */\n'
      '    const char  *url;\n'
      '} sigv4_presign_vector_t;\n\n\n')

    w('static const sigv4_presign_vector_t  sigv4_presign_vectors[] = {\n')
    for v in PRESIGN:
        method, endpoint, region, bucket, key, path_style, now, expires = v
        url = presign(*v)
        w('    { %s, %s, %s, %s,\n'
          '      %s,\n'
          '      %d, %dLL, %dL, %s,\n'
          '      %s },\n'
          % (c_string(method), c_string(endpoint), c_string(region),
             c_string(bucket), c_string(key), path_style, now, expires,
             c_string(_host_from_url(url)), c_string(url)))
    w('};\n\n\n')

    w('/* GET with response-* parameters: verification only */\n'
      'static const sigv4_presign_vector_t  sigv4_extra_vectors[] = {\n')
    for v in EXTRA:
        endpoint, region, bucket, key, path_style, now, expires, extra = v
        url = presign('GET', endpoint, region, bucket, key, path_style, now,
                      expires, extra)
        w('    { "GET", %s, %s, %s,\n'
          '      %s,\n'
          '      %d, %dLL, %dL, %s,\n'
          '      %s },\n'
          % (c_string(endpoint), c_string(region), c_string(bucket),
             c_string(key), path_style, now, expires,
             c_string(_host_from_url(url)), c_string(url)))
    w('};\n\n\n')

    w('/* presigned PUTs binding headers */\n'
      'typedef struct {\n'
      '    const char  *endpoint;\n'
      '    const char  *region;\n'
      '    const char  *bucket;\n'
      '    const char  *key;\n'
      '    int          path_style;\n'
      '    int64_t      now;\n'
      '    long         expires;\n'
      '    int64_t      content_length;   /* -1: not bound */\n'
      '    const char  *content_type;     /* NULL: not bound */\n'
      '    const char  *if_none_match;    /* NULL: not bound */\n'
      '    const char  *host;\n'
      '    const char  *url;\n'
      '} sigv4_bound_vector_t;\n\n\n')

    w('static const sigv4_bound_vector_t  sigv4_bound_vectors[] = {\n')
    for v in BOUND:
        (endpoint, region, bucket, key, path_style, now, expires, length,
         ctype, inm) = v
        url = presign_bound(*v)
        w('    { %s, %s, %s,\n'
          '      %s, %d, %dLL, %dL,\n'
          '      %dLL, %s,\n'
          '      %s, %s,\n'
          '      %s },\n'
          % (c_string(endpoint), c_string(region), c_string(bucket),
             c_string(key), path_style, now, expires,
             -1 if length is None else length,
             'NULL' if ctype is None else c_string(ctype),
             'NULL' if inm is None else c_string(inm),
             c_string(_host_from_url(url)), c_string(url)))
    w('};\n\n\n')

    w('typedef struct {\n'
      '    const char  *method;\n'
      '    const char  *endpoint;\n'
      '    const char  *region;\n'
      '    const char  *bucket;\n'
      '    const char  *key;\n'
      '    int          path_style;\n'
      '    int64_t      now;\n'
      '    const char  *payload;    /* X-Amz-Content-SHA256 */\n'
      '    const char  *url;\n'
      '    const char  *amz_date;\n'
      '    const char  *authorization;\n'
      '} sigv4_header_vector_t;\n\n\n')

    w('static const sigv4_header_vector_t  sigv4_header_vectors[] = {\n')
    for v in HEADERS:
        method, endpoint, region, bucket, key, path_style, now, body = v
        url, payload, amz_date, auth = sign_headers(*v)
        w('    { %s, %s, %s, %s,\n'
          '      %s, %d, %dLL,\n'
          '      %s,\n'
          '      %s,\n'
          '      %s,\n'
          '      %s },\n'
          % (c_string(method), c_string(endpoint), c_string(region),
             c_string(bucket), c_string(key), path_style, now,
             c_string(payload), c_string(url), c_string(amz_date),
             c_string(auth)))
    w('};\n\n\n')

    w('/* requests signed in the Authorization header, as clients send '
      'them */\n'
      'typedef struct {\n'
      '    const char  *name;\n'
      '    const char  *method;\n'
      '    const char  *region;\n'
      '    int64_t      now;\n'
      '    const char  *host;\n'
      '    const char  *path;         /* as sent, still encoded */\n'
      '    const char  *query;\n'
      '    const char  *authorization;\n'
      '    int          payload;      /* VIDEO_SIGV4_PAYLOAD_* */\n'
      '    const char  *body_sha256;  /* the body\'s, by hashlib; or NULL */\n'
      '    int          nheaders;\n'
      '    const char  *headers[6][2];  /* signed ones but Host, as sent */\n'
      '} sigv4_auth_vector_t;\n\n\n')

    w('static const sigv4_auth_vector_t  sigv4_auth_vectors[] = {\n')
    for v in auth_vectors():
        (name, method, region, now, host, path, query, auth, kind, digest,
         sent) = v
        assert len(sent) <= 6
        w('    { %s,\n'
          '      %s, %s, %dLL, %s,\n'
          '      %s,\n'
          '      %s,\n'
          '      %s,\n'
          '      %s,\n'
          '      %s,\n'
          '      %d, {\n'
          % (c_string(name), c_string(method), c_string(region), now,
             c_string(host), c_string(path), c_string(query),
             c_string(auth), kind,
             'NULL' if digest is None else c_string(digest), len(sent)))
        for k, val in sent:
            w('        { %s,\n'
              '          %s },\n'
              % (c_string(k, 10), c_string(val, 10)))
        w('      } },\n')
    w('};\n')


def fuzz_seed(v, auth=None, query=None, headers=None):
    """A request in t/fuzz/sigv4_auth.c's lines."""
    (name, method, region, now, host, path, q, a, kind, digest, sent) = v
    lines = [method, path, q if query is None else query, host,
             a if auth is None else auth]
    lines += ['%s: %s' % h for h in (sent if headers is None else headers)]
    return '\n'.join(lines).encode()


def fuzz_seeds(directory):
    """Seeds for the sigv4_auth harness: every vector, then hostile ones."""
    seeds = {}
    vectors = list(auth_vectors())
    for v in vectors:
        slug = ''.join(c if c.isalnum() else '-' for c in v[0].lower())
        seeds['-'.join(p for p in slug.split('-') if p)] = fuzz_seed(v)
    put = vectors[0]
    a, sent = put[7], put[10]
    seeds['tampered-signature'] = fuzz_seed(put, auth=a[:-1] + (
        '0' if a[-1] != '0' else '1'))
    seeds['truncated-signature'] = fuzz_seed(put, auth=a[:-1])
    seeds['fields-reordered-no-blanks'] = fuzz_seed(put, auth=(
        'AWS4-HMAC-SHA256 Signature=%s,Credential=%s,SignedHeaders=%s' % (
            a.split('Signature=')[1], a.split('Credential=')[1].split(',')[0],
            a.split('SignedHeaders=')[1].split(',')[0])))
    seeds['duplicate-signature'] = fuzz_seed(put, auth=a + ', Signature=' +
                                             a.split('Signature=')[1])
    seeds['extra-commas'] = fuzz_seed(put, auth=a.replace(', ', ',, ', 1))
    seeds['duplicate-date'] = fuzz_seed(put, headers=sent + [
        ('x-amz-date', '20251126T012345Z')])
    seeds['skewed-date'] = fuzz_seed(put, headers=[
        (k, '20251126T014000Z' if k.lower() == 'x-amz-date' else v)
        for k, v in sent])
    seeds['presigned-query-beside'] = fuzz_seed(
        put, query='X-Amz-Signature=' + '0' * 64)
    seeds['upper-case-payload-hash'] = fuzz_seed(put, headers=[
        (k, v.upper() if k.lower() == 'x-amz-content-sha256' else v)
        for k, v in sent])
    seeds['huge-credential'] = fuzz_seed(put, auth=a.replace(
        'Credential=', 'Credential=' + 'A' * 1500, 1))
    os.makedirs(directory, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(directory, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--fuzz-seeds':
        fuzz_seeds(sys.argv[2])
    else:
        main()
