# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Create the demo estate on the local clouds: buckets that already hold other teams' policy statements,
CORS rules and IAM bindings, one SSE-KMS bucket, one bucket in another region, one GCS bucket where an
earlier version of the collection granted Segments roles/storage.objectViewer, and an Azure storage account on
Azurite whose Blob service already holds another team's CORS rule. Running it again resets each bucket and the
account to this before-state. The inventory next to this file names these buckets plus one that does not exist.
The account's role assignments and the tenant's service principals live in the project's fake of Azure Resource
Manager and Microsoft Graph (tests/fakes/azure_arm.py), which no local emulator serves: the estate gives the account
another team's role assignment there and takes the Segments.ai app out of the tenant, through the fake's own /_fake
control calls. Reads AWS_ENDPOINT_URL, STORAGE_EMULATOR_HOST, SEGMENTS_AZURE_FAKE_ENDPOINT, AZURE_SUBSCRIPTION_ID,
SEGMENTS_AZURE_RESOURCE_GROUP (scripts/lib.sh sets them) and SEGMENTS_DEMO_AZURE_CONNECTION_STRING (scripts/demo)."""

from __future__ import annotations

import json
import os
import urllib.request
from urllib.parse import quote

import boto3
from azure.storage.blob import BlobServiceClient, CorsRule
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
# As a customer's own tools left it: spaces after commas, a lower-case method. It must come back exactly as it is.
AZURE_FOREIGN_CORS = {
    "allowed_origins": "https://viewer.customer.example, https://admin.customer.example",
    "allowed_methods": "get,PUT",
    "allowed_headers": "x-ms-meta-*",
    "exposed_headers": "",
    "max_age_in_seconds": 600,
}
AZURE_ACCOUNT = "segmentsdemo"
# Another team's role assignment on the account (Storage Blob Data Contributor, a made-up principal): it must stay.
AZURE_FOREIGN_ROLE = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
AZURE_FOREIGN_PRINCIPAL = "5d3c3e4f-1a2b-4c5d-8e9f-0a1b2c3d4e5f"
SEGMENTS_APP_ID = "d47021c7-05d1-44c3-a594-93c2c30c68fc"
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


def azure_blob_service():
    return BlobServiceClient.from_connection_string(os.environ["SEGMENTS_DEMO_AZURE_CONNECTION_STRING"])


def azure_cors_rules(service):
    """The account's Blob service CORS rules as the service stores them (comma-joined strings)."""
    return [
        {field: getattr(rule, field) for field in AZURE_FOREIGN_CORS}
        for rule in service.get_service_properties()["cors"] or []
    ]


def reset_azure_account(service, account):
    # Each field as one string, so that the SDK sends it as it is (it would join a list with commas itself).
    rule = CorsRule(
        [AZURE_FOREIGN_CORS["allowed_origins"]],
        [AZURE_FOREIGN_CORS["allowed_methods"]],
        allowed_headers=[AZURE_FOREIGN_CORS["allowed_headers"]],
        max_age_in_seconds=AZURE_FOREIGN_CORS["max_age_in_seconds"],
    )
    service.set_service_properties(cors=[rule])
    reset_azure_access(account)
    print(
        "  azure %-20s %-10s %s"
        % (account, "azurite", "foreign Blob service CORS rule + role assignment; Segments.ai app not in the tenant")
    )


def azure_account_scope(account=AZURE_ACCOUNT):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s" % (
        os.environ["AZURE_SUBSCRIPTION_ID"],
        os.environ["SEGMENTS_AZURE_RESOURCE_GROUP"],
        account,
    )


def azure_role_definition(role_id):
    return "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (
        os.environ["AZURE_SUBSCRIPTION_ID"],
        role_id,
    )


def azure_fake(method, path, body=None):
    """A control call to the Azure fake (not an Azure API); its CA is trusted through SSL_CERT_FILE (scripts/lib.sh)."""
    request = urllib.request.Request(
        os.environ["SEGMENTS_AZURE_FAKE_ENDPOINT"] + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def reset_azure_access(account=AZURE_ACCOUNT):
    scope = azure_account_scope(account)
    azure_fake("DELETE", "/_fake/assignments?scope=" + quote(scope, safe=""))
    azure_fake("DELETE", "/_fake/service_principals/" + SEGMENTS_APP_ID)
    azure_fake(
        "POST",
        "/_fake/assignments",
        {
            "scope": scope,
            "role_definition_id": azure_role_definition(AZURE_FOREIGN_ROLE),
            "principal_id": AZURE_FOREIGN_PRINCIPAL,
        },
    )


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
    reset_azure_account(azure_blob_service(), AZURE_ACCOUNT)


if __name__ == "__main__":
    main()
