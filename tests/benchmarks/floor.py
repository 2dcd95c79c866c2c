# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The floor of the benchmark: a bare client-library script that makes only the calls onboarding needs.

S3, per bucket: GetBucketPolicy, PutBucketPolicy (only when our statement is missing), GetBucketCors, PutBucketCors
(only when our rule is missing). GCS, per bucket: GET bucket (its CORS), PATCH cors (only when our entry is missing),
GET IAM policy, PUT IAM policy (only when the member is missing). So a cold run makes 2 reads and 2 writes per bucket,
a re-run the 2 reads. Buckets are processed on a thread pool of the same size as the role's (16) and one shared client.
No Ansible, no retries beyond the library's, no backups, no read-back: nothing any real tool could do with less.

    python tests/benchmarks/floor.py s3 --names-file NAMES [--endpoint-url URL] [--concurrency 16]
    python tests/benchmarks/floor.py gcs --names-file NAMES --member MEMBER [--api-endpoint URL] [--project P]

Prints one JSON line: {"cloud", "buckets", "reads", "writes", "failed", "seconds_in_process"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SEGMENTS_PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
SEGMENTS_ORIGINS = ["https://segments.ai", "https://*.segments.ai"]
OUR_SID = "segments-s3-access"
OUR_RULE_ID = "segments-cors"
GCS_ROLE = "roles/storage.objectViewer"


class CallCounter:
    """Reads and writes made, counted at the client."""

    def __init__(self):
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()

    def add(self, reads=0, writes=0):
        with self._lock:
            self.reads += reads
            self.writes += writes


def s3_onboarder(endpoint_url, concurrency, counter):
    """A function that onboards one S3 bucket with the least calls, sharing one boto3 client."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    s3 = boto3.client("s3", endpoint_url=endpoint_url, config=Config(max_pool_connections=max(10, concurrency)))

    def error_code(error):
        return error.response.get("Error", {}).get("Code")

    def onboard(bucket):
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except ClientError as error:
            if error_code(error) != "NoSuchBucketPolicy":
                raise
            policy = {"Version": "2012-10-17", "Statement": []}
        counter.add(reads=1)
        statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
        if not any(statement.get("Sid") == OUR_SID for statement in statements):
            statements.append(
                {
                    "Sid": OUR_SID,
                    "Effect": "Allow",
                    "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                    "Action": ["s3:GetObject"],
                    "Resource": "arn:aws:s3:::%s/*" % bucket,
                }
            )
            policy["Statement"] = statements
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
            counter.add(writes=1)
        try:
            rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except ClientError as error:
            if error_code(error) != "NoSuchCORSConfiguration":
                raise
            rules = []
        counter.add(reads=1)
        if not any(rule.get("ID") == OUR_RULE_ID for rule in rules):
            rules.append(
                {
                    "ID": OUR_RULE_ID,
                    "AllowedOrigins": list(SEGMENTS_ORIGINS),
                    "AllowedMethods": ["GET"],
                    "AllowedHeaders": ["*"],
                }
            )
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
            counter.add(writes=1)

    return onboard


def gcs_onboarder(api_endpoint, project, member, concurrency, counter):
    """A function that onboards one GCS bucket with the least calls, sharing one google-cloud-storage client."""
    import requests
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project=project, credentials=AnonymousCredentials(), client_options={"api_endpoint": api_endpoint}
    )
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(10, concurrency))
    client._http.mount("http://", adapter)  # pylint: disable=protected-access
    client._http.mount("https://", adapter)  # pylint: disable=protected-access

    def onboard(bucket_name):
        bucket = client.get_bucket(bucket_name)
        counter.add(reads=1)
        entries = list(bucket.cors or [])
        if not any(set(SEGMENTS_ORIGINS) <= set(entry.get("origin") or []) for entry in entries):
            bucket.cors = entries + [
                {"origin": list(SEGMENTS_ORIGINS), "method": ["GET"], "responseHeader": [], "maxAgeSeconds": 3600}
            ]
            bucket.patch()
            counter.add(writes=1)
        policy = bucket.get_iam_policy(requested_policy_version=3)
        counter.add(reads=1)
        if not any(
            binding.get("role") == GCS_ROLE and member in binding.get("members", ()) and not binding.get("condition")
            for binding in policy.bindings
        ):
            policy.bindings.append({"role": GCS_ROLE, "members": {member}})
            policy.version = 3
            bucket.set_iam_policy(policy)
            counter.add(writes=1)

    return onboard


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("cloud", choices=["s3", "gcs"])
    parser.add_argument("--names-file", required=True, help="a file with one bucket name a line")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--api-endpoint", default=os.environ.get("STORAGE_EMULATOR_HOST"))
    parser.add_argument("--project", default=os.environ.get("GCP_PROJECT", "segments-local"))
    parser.add_argument("--member", default="serviceAccount:segments-reader@segments-test.iam.gserviceaccount.com")
    args = parser.parse_args(argv)
    with open(args.names_file, encoding="utf-8") as names_file:
        names = [line.strip() for line in names_file if line.strip()]
    started = time.perf_counter()
    counter = CallCounter()
    if args.cloud == "s3":
        onboard = s3_onboarder(args.endpoint_url, args.concurrency, counter)
    else:
        onboard = gcs_onboarder(args.api_endpoint, args.project, args.member, args.concurrency, counter)
    failed = []

    def onboard_or_record(bucket):
        try:
            onboard(bucket)
        except Exception as error:  # pylint: disable=broad-exception-caught
            failed.append("%s: %s: %s" % (bucket, type(error).__name__, error))

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(onboard_or_record, names))
    print(
        json.dumps(
            dict(
                cloud=args.cloud,
                buckets=len(names),
                reads=counter.reads,
                writes=counter.writes,
                failed=failed,
                seconds_in_process=round(time.perf_counter() - started, 3),
            )
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
