# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Create the demo estate on the local clouds: buckets that already hold other teams' policy statements,
CORS rules and IAM bindings, one SSE-KMS bucket, one bucket in another region, and one GCS bucket where an
earlier version of the collection granted Segments roles/storage.objectViewer. Running it again resets
each bucket to this before-state. The inventory next to this file names these buckets plus one that does
not exist. Reads AWS_ENDPOINT_URL and STORAGE_EMULATOR_HOST (scripts/lib.sh sets them)."""

from __future__ import annotations

import json
import os

import boto3
from botocore.exceptions import ClientError
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

DATA_TEAM_STATEMENT = {
    "Sid": "DataTeamRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/data-team"},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::seg-demo-images", "arn:aws:s3:::seg-demo-images/*"],
}
WEBAPP_CORS_RULE = {
    "ID": "webapp",
    "AllowedOrigins": ["https://app.example.com"],
    "AllowedMethods": ["GET", "PUT"],
    "AllowedHeaders": ["*"],
}
GCS_FOREIGN_CORS = {
    "origin": ["https://app.example.com"],
    "method": ["GET", "PUT"],
    "responseHeader": ["Content-Type"],
    "maxAgeSeconds": 600,
}
GCS_FOREIGN_BINDING = {
    "role": "roles/storage.objectAdmin",
    "members": {"serviceAccount:etl@example-project.iam.gserviceaccount.com"},
}
SEGMENTS_GCS_MEMBER = "serviceAccount:segments-reader@segments-demo.iam.gserviceaccount.com"
# What an earlier version of the collection granted by default; the inventory asks the role to narrow it.
GCS_EARLIER_GRANT = {
    "role": "roles/storage.objectViewer",
    "members": {SEGMENTS_GCS_MEMBER, "user:analyst@customer.example"},
}


def s3_client(region):
    return boto3.client("s3", region_name=region)


def reset_s3_bucket(name, region="us-east-1", policy=None, cors_rules=None, kms_key_arn=None):
    client = s3_client(region)
    try:
        client.head_bucket(Bucket=name)
    except ClientError:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client.create_bucket(Bucket=name, **extra)
    if policy:
        client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    else:
        client.delete_bucket_policy(Bucket=name)
    if cors_rules:
        client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": cors_rules})
    else:
        client.delete_bucket_cors(Bucket=name)
    if kms_key_arn:
        client.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn}}
                ]
            },
        )
    print(
        "  s3  %-22s %-10s %s"
        % (
            name,
            region,
            "foreign policy + CORS rule" if policy else ("SSE-KMS " + kms_key_arn if kms_key_arn else "empty"),
        )
    )


def demo_kms_key():
    kms = boto3.client("kms", region_name="us-east-1")
    try:
        return kms.describe_key(KeyId="alias/seg-demo")["KeyMetadata"]["Arn"]
    except ClientError:
        key_arn = kms.create_key(Description="segments.cloud demo key")["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName="alias/seg-demo", TargetKeyId=key_arn)
        return key_arn


def reset_gcs_bucket(client, name, cors=None, extra_bindings=()):
    bucket = client.lookup_bucket(name) or client.create_bucket(name)
    bucket.cors = cors or []
    bucket.patch()
    policy = bucket.get_iam_policy(requested_policy_version=3)
    policy.bindings = [dict(binding, members=set(binding["members"])) for binding in extra_bindings]
    bucket.set_iam_policy(policy)
    what = "foreign CORS entry + IAM binding, Segments on roles/storage.objectViewer" if cors else "empty"
    print("  gcs %-22s %-10s %s" % (name, bucket.location or "-", what))


def main():
    print("Demo estate (before onboarding):")
    reset_s3_bucket(
        "seg-demo-images",
        policy={"Version": "2012-10-17", "Statement": [DATA_TEAM_STATEMENT]},
        cors_rules=[WEBAPP_CORS_RULE],
    )
    reset_s3_bucket("seg-demo-videos")
    reset_s3_bucket("seg-demo-kms", kms_key_arn=demo_kms_key())
    reset_s3_bucket("seg-demo-eu", region="eu-west-1")
    print("  s3  %-22s %-10s %s" % ("seg-demo-missing", "-", "named in the inventory, does not exist"))
    gcs = storage.Client(project=os.environ.get("GCP_PROJECT", "segments-demo"), credentials=AnonymousCredentials())
    reset_gcs_bucket(
        gcs, "seg-demo-gcs-images", cors=[GCS_FOREIGN_CORS], extra_bindings=[GCS_FOREIGN_BINDING, GCS_EARLIER_GRANT]
    )
    reset_gcs_bucket(gcs, "seg-demo-gcs-fresh")


if __name__ == "__main__":
    main()
