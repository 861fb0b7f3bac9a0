#!/usr/bin/python3
"""Presigned S3 URLs from the reference clients, for the suites.

usage: s3presign.py METHOD ENDPOINT BUCKET KEY EXPIRES [--time EPOCH]
(HEAD with an empty KEY: HeadBucket)
                    [--access-key K] [--secret-key S] [--region R]
                    [--content-length N] [--content-type T]
                    [--if-none-match V] [--signer botocore|crt|awscli]
                    [--part-number N --upload-id ID]

--content-length and --content-type (PUT) bind those headers, as
put_object's ContentLength and ContentType do; --if-none-match adds that
header before signing (this botocore's put_object has no IfNoneMatch).
--part-number with --upload-id (PUT) presigns UploadPart of that upload.

--signer picks who signs: botocore's own SigV4 code (the default, also
where python3-awscrt is installed: awscrt makes botocore use the AWS
Common Runtime's signer instead, whose clock --time cannot fix), "crt"
that signer (aws-c-auth, a separate implementation), or "awscli" the SDK
core aws-cli v2 carries (awscli.botocore).
"""

import argparse
import datetime
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('method')
    ap.add_argument('endpoint')
    ap.add_argument('bucket')
    ap.add_argument('key')
    ap.add_argument('expires', type=int)
    ap.add_argument('--time', type=int)
    ap.add_argument('--access-key', default='videoapi')
    ap.add_argument('--secret-key', default='videoapi-secret')
    ap.add_argument('--region', default='us-east-1')
    ap.add_argument('--content-length', type=int)
    ap.add_argument('--content-type')
    ap.add_argument('--if-none-match')
    ap.add_argument('--part-number', type=int)
    ap.add_argument('--upload-id')
    ap.add_argument('--signer', default='botocore',
                    choices=('botocore', 'crt', 'awscli'))
    a = ap.parse_args()

    if a.time is not None and a.signer != 'botocore':
        sys.exit('s3presign.py: --time needs --signer botocore')

    if a.signer == 'botocore':
        os.environ['BOTO_DISABLE_CRT'] = 'true'

    if a.signer == 'awscli':
        # from here on "botocore" is aws-cli's own copy
        import awscli  # noqa: F401

    import botocore
    from botocore import auth
    from botocore.config import Config
    from botocore.session import get_session

    if a.signer == 'awscli' and '/awscli/' not in botocore.__file__:
        sys.exit('s3presign.py: not aws-cli\'s botocore: '
                 + botocore.__file__)

    if a.signer == 'crt' and 'Crt' not in \
            auth.AUTH_TYPE_MAPS['s3v4-query'].__name__:
        sys.exit('s3presign.py: botocore does not use the CRT signer '
                 '(python3-awscrt missing?)')

    if a.time is not None:
        # botocore reads the clock through datetime.datetime in botocore.auth
        fixed = datetime.datetime.utcfromtimestamp(a.time)

        class Clock(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return fixed

        auth.datetime.datetime = Clock

    client = get_session().create_client(
        's3', region_name=a.region, endpoint_url=a.endpoint,
        aws_access_key_id=a.access_key, aws_secret_access_key=a.secret_key,
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': 'path'}))

    op = {'GET': 'get_object', 'PUT': 'put_object', 'HEAD': 'head_object',
          'DELETE': 'delete_object'}[a.method]

    params = {'Bucket': a.bucket, 'Key': a.key}

    # an empty key names the bucket itself: HeadBucket
    if a.key == '' and a.method == 'HEAD':
        op = 'head_bucket'
        params = {'Bucket': a.bucket}

    if a.part_number is not None and a.method == 'PUT':
        op = 'upload_part'
        params['PartNumber'] = a.part_number
        params['UploadId'] = a.upload_id

    if a.content_length is not None:
        params['ContentLength'] = a.content_length

    if a.content_type is not None:
        params['ContentType'] = a.content_type

    if a.if_none_match is not None:
        def add_if_none_match(request, **kwargs):
            request.headers['If-None-Match'] = a.if_none_match

        client.meta.events.register('before-sign.s3.*', add_if_none_match)

    print(client.generate_presigned_url(op, Params=params,
                                        ExpiresIn=a.expires))


if __name__ == '__main__':
    main()
