#!/usr/bin/python3
"""Presigned S3 URLs from botocore, the reference client, for the suites.

usage: s3presign.py METHOD ENDPOINT BUCKET KEY EXPIRES [--time EPOCH]
                    [--access-key K] [--secret-key S] [--region R]
"""

import argparse
import datetime

import botocore.auth
import botocore.session
from botocore.config import Config


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
    a = ap.parse_args()

    if a.time is not None:
        # botocore reads the clock through datetime.datetime in botocore.auth
        fixed = datetime.datetime.utcfromtimestamp(a.time)

        class Clock(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return fixed

        botocore.auth.datetime.datetime = Clock

    client = botocore.session.get_session().create_client(
        's3', region_name=a.region, endpoint_url=a.endpoint,
        aws_access_key_id=a.access_key, aws_secret_access_key=a.secret_key,
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': 'path'}))

    op = {'GET': 'get_object', 'PUT': 'put_object', 'HEAD': 'head_object',
          'DELETE': 'delete_object'}[a.method]

    print(client.generate_presigned_url(
        op, Params={'Bucket': a.bucket, 'Key': a.key}, ExpiresIn=a.expires))


if __name__ == '__main__':
    main()
