#!/usr/bin/python3
"""Fixtures for src/lib/video_s3xml.c, made and checked by botocore.

Request bodies (CompleteMultipartUpload, DeleteObjects) are what
botocore's rest-xml serializer writes for aws-cli and boto3, so
t/unit/test_s3xml.c parses exactly what those clients send.  The
documents the store renders are written out here as the test expects
them byte for byte, and each is first parsed with botocore's own
response parser (and, for listings with encoding-type=url, the handler
that undoes the URL encoding), which must read back the values the C
test rendered them from.  A mismatch stops the script.

Regenerate (Debian's python3-botocore; the file is committed):

    /usr/bin/python3 t/unit/s3xml_vectors.py > t/unit/s3xml_vectors.h
"""

import datetime
import sys

import botocore
import botocore.handlers
import botocore.parsers
import botocore.serialize
import botocore.session


NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

MODEL = botocore.session.get_session().get_service_model('s3')
SERIALIZER = botocore.serialize.create_serializer('rest-xml')
PARSER = botocore.parsers.create_parser('rest-xml')

ETAG1 = '"a54357aff0632cce46d942af68356b38"'
ETAG2 = '"0c78aef83f66abc1fa1e8477f296d394"'
ETAG3 = '"ACBD18DB4CC2F85CEDEF654FCCC4A4D8"'

T1 = 1764120225123      # 2025-11-26T01:23:45.123Z
T2 = 946684799000       # 1999-12-31T23:59:59.000Z


def utc(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


def body(operation, params):
    op = MODEL.operation_model(operation)
    req = SERIALIZER.serialize_to_request(params, op)
    b = req['body']
    return b.decode('utf-8') if isinstance(b, bytes) else b


def parse(operation, xml, status=200):
    op = MODEL.operation_model(operation)
    return PARSER.parse({'status_code': status, 'headers': {},
                         'body': xml.encode('utf-8')}, op.output_shape)


def expect(what, got, want):
    if got != want:
        sys.exit('s3xml_vectors: %s: botocore read %r, not %r'
                 % (what, got, want))


# request bodies, as aws-cli and boto3 send them

COMPLETE_BODY = body('CompleteMultipartUpload', {
    'Bucket': 'media', 'Key': 'videos/a.mp4', 'UploadId': 'u1',
    'MultipartUpload': {'Parts': [
        {'ETag': ETAG1, 'PartNumber': 1, 'ChecksumCRC32': 'AAAAAA=='},
        {'ETag': ETAG2, 'PartNumber': 2,
         'ChecksumSHA256':
             '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='},
        {'ETag': ETAG3, 'PartNumber': 10000},
    ]},
})

DELETE_KEYS = ['a&b', '<x>', 'd\u00fc/\u00f1 \u6587.mp4', "it's \"q\"",
               'v']

DELETE_BODY = body('DeleteObjects', {
    'Bucket': 'media',
    'Delete': {
        'Objects': [{'Key': k} for k in DELETE_KEYS[:-1]]
                   + [{'Key': 'v', 'VersionId': 'null'}],
        'Quiet': True,
    },
})

# documents the store renders, checked against botocore's reading

ERROR = (DECL + '<Error><Code>NoSuchKey</Code><Message>The specified key '
         'does not exist.</Message><Resource>/media/a&amp;b&lt;c&gt;.mp4'
         '</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>')

p = parse('GetObject', ERROR, 404)
expect('Error', p['Error'], {'Code': 'NoSuchKey',
                             'Message': 'The specified key does not exist.',
                             'Resource': '/media/a&b<c>.mp4'})
# botocore takes the request id of S3 from x-amz-request-id, not the body

# a page of "videos/" with "/", two entries of max-keys 2, truncated in
# the common prefixes, keys URL-encoded as botocore asks by default
LIST_URL = (
    DECL + '<ListBucketResult xmlns="' + NS + '"><Name>media</Name>'
    '<Prefix>videos/</Prefix><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys>'
    '<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>'
    '<NextContinuationToken>UHZpZGVvcy9i8J-OrC8</NextContinuationToken>'
    '<EncodingType>url</EncodingType>'
    '<Contents><Key>videos/a+%26+b%C3%BC.mp4</Key>'
    '<LastModified>2025-11-26T01:23:45.123Z</LastModified>'
    '<ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>'
    '<Size>1048576</Size><StorageClass>STANDARD</StorageClass></Contents>'
    '<CommonPrefixes><Prefix>videos/b%F0%9F%8E%AC/</Prefix></CommonPrefixes>'
    '</ListBucketResult>')

p = parse('ListObjectsV2', LIST_URL)
botocore.handlers.decode_list_object_v2(
    p, {'encoding_type_auto_set': True})
expect('ListBucketResult url', {
    k: p[k] for k in ('Name', 'Prefix', 'Delimiter', 'MaxKeys', 'KeyCount',
                      'IsTruncated', 'NextContinuationToken',
                      'EncodingType', 'CommonPrefixes')
}, {
    'Name': 'media', 'Prefix': 'videos/', 'Delimiter': '/', 'MaxKeys': 2,
    'KeyCount': 2, 'IsTruncated': True,
    'NextContinuationToken': 'UHZpZGVvcy9i8J-OrC8', 'EncodingType': 'url',
    'CommonPrefixes': [{'Prefix': 'videos/b\U0001f3ac/'}],
})
expect('ListBucketResult url Contents', p['Contents'], [{
    'Key': 'videos/a & b\u00fc.mp4', 'LastModified': utc(T1),
    'ETag': '"a54357aff0632cce46d942af68356b38"', 'Size': 1048576,
    'StorageClass': 'STANDARD',
}])

# the next page asked for with that token and a start-after, no
# delimiter, keys escaped as XML
LIST_XML = (
    DECL + '<ListBucketResult xmlns="' + NS + '"><Name>media</Name>'
    '<Prefix></Prefix><MaxKeys>1000</MaxKeys><KeyCount>2</KeyCount>'
    '<IsTruncated>false</IsTruncated>'
    '<ContinuationToken>S2E</ContinuationToken>'
    '<StartAfter>&lt;a&gt;</StartAfter>'
    '<Contents><Key>b&amp;&quot;c&apos;</Key>'
    '<LastModified>1999-12-31T23:59:59.000Z</LastModified>'
    '<ETag>&quot;0c78aef83f66abc1fa1e8477f296d394-2&quot;</ETag>'
    '<Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>'
    '<Contents><Key>tab&#9;nl&#10;cr&#13;</Key>'
    '<LastModified>2025-11-26T01:23:45.123Z</LastModified>'
    '<ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>'
    '<Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>'
    '</ListBucketResult>')

p = parse('ListObjectsV2', LIST_XML)
expect('ListBucketResult xml', {
    k: p.get(k) for k in ('Prefix', 'MaxKeys', 'KeyCount', 'IsTruncated',
                          'ContinuationToken', 'StartAfter')
}, {
    'Prefix': '', 'MaxKeys': 1000, 'KeyCount': 2, 'IsTruncated': False,
    'ContinuationToken': 'S2E', 'StartAfter': '<a>',
})
expect('ListBucketResult xml Contents',
       [(c['Key'], c['ETag'], c['Size'], c['LastModified'])
        for c in p['Contents']],
       [('b&"c\'', '"0c78aef83f66abc1fa1e8477f296d394-2"', 0, utc(T2)),
        ('tab\tnl\ncr\r', ETAG1, 5, utc(T1))])

INITIATE = (DECL + '<InitiateMultipartUploadResult xmlns="' + NS + '">'
            '<Bucket>media</Bucket><Key>videos/a&amp;b.mp4</Key>'
            '<UploadId>VXBsb2FkIElE-1</UploadId>'
            '</InitiateMultipartUploadResult>')

p = parse('CreateMultipartUpload', INITIATE)
expect('Initiate', (p['Bucket'], p['Key'], p['UploadId']),
       ('media', 'videos/a&b.mp4', 'VXBsb2FkIElE-1'))

COMPLETE = (DECL + '<CompleteMultipartUploadResult xmlns="' + NS + '">'
            '<Location>http://127.0.0.1:9000/media/videos/a.mp4</Location>'
            '<Bucket>media</Bucket><Key>videos/a.mp4</Key>'
            '<ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>'
            '</CompleteMultipartUploadResult>')

p = parse('CompleteMultipartUpload', COMPLETE)
expect('Complete', (p['Location'], p['Bucket'], p['Key'], p['ETag']),
       ('http://127.0.0.1:9000/media/videos/a.mp4', 'media', 'videos/a.mp4',
        '"3858f62230ac3c915f300c664312c11f-9"'))

LIST_PARTS = (
    DECL + '<ListPartsResult xmlns="' + NS + '"><Bucket>media</Bucket>'
    '<Key>videos/a.mp4</Key><UploadId>VXBsb2FkIElE-1</UploadId>'
    '<PartNumberMarker>1</PartNumberMarker>'
    '<NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts>'
    '<IsTruncated>true</IsTruncated>'
    '<Part><PartNumber>2</PartNumber>'
    '<LastModified>2025-11-26T01:23:45.123Z</LastModified>'
    '<ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag>'
    '<Size>5242880</Size></Part>'
    '<Part><PartNumber>3</PartNumber>'
    '<LastModified>1999-12-31T23:59:59.000Z</LastModified>'
    '<ETag>&quot;a54357aff0632cce46d942af68356b38&quot;</ETag>'
    '<Size>17</Size></Part></ListPartsResult>')

p = parse('ListParts', LIST_PARTS)
expect('ListParts', {
    k: p[k] for k in ('Bucket', 'Key', 'UploadId', 'PartNumberMarker',
                      'NextPartNumberMarker', 'MaxParts', 'IsTruncated')
}, {
    'Bucket': 'media', 'Key': 'videos/a.mp4', 'UploadId': 'VXBsb2FkIElE-1',
    'PartNumberMarker': 1, 'NextPartNumberMarker': 3, 'MaxParts': 2,
    'IsTruncated': True,
})
expect('ListParts Part', p['Parts'], [
    {'PartNumber': 2, 'LastModified': utc(T1), 'ETag': ETAG2,
     'Size': 5242880},
    {'PartNumber': 3, 'LastModified': utc(T2), 'ETag': ETAG1, 'Size': 17},
])

DELETE_RESULT = (
    DECL + '<DeleteResult xmlns="' + NS + '">'
    '<Deleted><Key>a&amp;b</Key></Deleted>'
    '<Error><Key>&lt;x&gt;</Key><Code>AccessDenied</Code>'
    '<Message>Access Denied</Message></Error></DeleteResult>')

p = parse('DeleteObjects', DELETE_RESULT)
expect('DeleteResult', (p['Deleted'], p['Errors']),
       ([{'Key': 'a&b'}],
        [{'Key': '<x>', 'Code': 'AccessDenied',
          'Message': 'Access Denied'}]))

DELETE_RESULT_QUIET = (
    DECL + '<DeleteResult xmlns="' + NS + '">'
    '<Error><Key>&lt;x&gt;</Key><Code>AccessDenied</Code>'
    '<Message>Access Denied</Message></Error></DeleteResult>')

p = parse('DeleteObjects', DELETE_RESULT_QUIET)
expect('DeleteResult quiet', ('Deleted' in p, len(p['Errors'])), (False, 1))


def c_string(s):
    out = []
    for b in s.encode('utf-8'):
        c = chr(b)
        if c in '"\\':
            out.append('\\' + c)
        elif c == '\n':
            out.append('\\n')
        elif 0x20 <= b < 0x7f and c != '?':
            out.append(c)
        else:
            # three octal digits: a following digit cannot join the escape
            out.append('\\%03o' % b)
    # lines of at most 72 characters, never inside an escape
    lines, line = [], ''
    for t in out:
        if len(line) + len(t) > 68:
            lines.append(line)
            line = ''
        line += t
    lines.append(line)
    return '"' + '"\n    "'.join(lines) + '"'


def main():
    w = sys.stdout.write
    w('/*\n'
      ' * Generated by t/unit/s3xml_vectors.py with botocore %s; do not\n'
      ' * edit.  Regenerate:\n'
      ' *\n'
      ' *     /usr/bin/python3 t/unit/s3xml_vectors.py'
      ' > t/unit/s3xml_vectors.h\n'
      ' */\n\n' % botocore.__version__)

    for name, value in [
        ('S3XML_T_COMPLETE_BODY', COMPLETE_BODY),
        ('S3XML_T_DELETE_BODY', DELETE_BODY),
        ('S3XML_T_ERROR', ERROR),
        ('S3XML_T_LIST_URL', LIST_URL),
        ('S3XML_T_LIST_XML', LIST_XML),
        ('S3XML_T_INITIATE', INITIATE),
        ('S3XML_T_COMPLETE', COMPLETE),
        ('S3XML_T_LIST_PARTS', LIST_PARTS),
        ('S3XML_T_DELETE_RESULT', DELETE_RESULT),
        ('S3XML_T_DELETE_RESULT_QUIET', DELETE_RESULT_QUIET),
    ]:
        w('#define %s \\\n    %s\n\n' % (name, c_string(value).replace(
            '\n', ' \\\n')))

    w('static const char  *s3xml_t_delete_keys[] = {\n')
    for k in DELETE_KEYS:
        w('    %s,\n' % c_string(k))
    w('};\n')


main()
