# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The object stores the browser reads from, each on its local server, onboarded by the collection's real modules.

A store knows how to make a container (bucket) holding the test image and a customer's own CORS rule, how to hand the
browser a URL for the image in the form Segments' app gets in production, which host names the browser must map to
its local server, and how to onboard and offboard a container by running the collection's modules through
ansible-playbook. Another cloud is one more class here, registered in STORES.

GCS has none: no local server enforces a bucket's CORS configuration (gcp-storage-emulator, fake-gcs-server and
Google's testbench all answer without it), so a browser test against one would prove nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

PLAYBOOK_SECONDS = 900


def run_playbook(tasks: list, module_defaults: dict) -> dict:
    """Run the tasks in one ansible-playbook on localhost; return {register name: result}; fail on a failed task."""
    folder = Path(tempfile.mkdtemp(prefix="segments-browser-play-"))
    results = folder / "results.json"
    named = [dict(task, register="step%d" % index) for index, task in enumerate(tasks)]
    saved = "{{ {%s} | to_json }}" % ", ".join("'step%d': step%d" % (index, index) for index in range(len(tasks)))
    play = [
        {
            "name": "Browser test set-up",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "module_defaults": module_defaults,
            "tasks": named
            + [
                {
                    "name": "Save the results",
                    "ansible.builtin.copy": {"content": saved, "dest": str(results), "mode": "0600"},
                }
            ],
        }
    ]
    (folder / "play.yml").write_text(json.dumps(play))  # JSON is YAML
    environment = dict(
        os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable
    )
    try:
        completed = subprocess.run(
            [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(folder / "play.yml")],
            cwd=str(folder),
            env=environment,
            capture_output=True,
            text=True,
            timeout=PLAYBOOK_SECONDS,
            check=False,
        )
        if completed.returncode != 0 or not results.exists():
            raise AssertionError(
                "ansible-playbook failed (%d):\n%s\n%s"
                % (completed.returncode, completed.stdout[-6000:], completed.stderr[-3000:])
            )
        return json.loads(results.read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class S3Store:
    """S3 on LocalStack, which speaks TLS on its port too and routes virtual-hosted requests by their Host header."""

    name = "s3"
    # Segments serves images through presigned URLs in virtual-hosted form, https://BUCKET.s3.REGION.amazonaws.com/KEY.
    region = "eu-west-1"
    image_key = "frames/frame-0001.png"

    def __init__(self) -> None:
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.access_key = os.environ.get("AWS_ACCESS_KEY_ID") or "test"
        self.secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY") or "test"
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )
        # Signs URLs for the real regional endpoint; the browser's MAP rule sends that name to LocalStack.
        self.signer = boto3.client(
            "s3",
            endpoint_url="https://s3.%s.amazonaws.com" % self.region,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
        )

    def resolver_rules(self) -> list:
        """Chromium MAP rules: every bucket host of the region goes to LocalStack's port (TLS there too)."""
        port = urlsplit(self.endpoint).port
        return ["MAP *.s3.%s.amazonaws.com:443 127.0.0.1:%d" % (self.region, port)]

    def create(self, foreign_origin: str, image: bytes) -> str:
        """A bucket holding the image and a customer's CORS rule for foreign_origin; returns its name."""
        bucket = "browser-%s" % secrets.token_hex(5)
        self.client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
        self.client.put_object(Bucket=bucket, Key=self.image_key, Body=image, ContentType="image/png")
        self.client.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "ID": "customer-viewer",
                        "AllowedOrigins": [foreign_origin],
                        "AllowedMethods": ["GET", "HEAD"],
                        "AllowedHeaders": ["*"],
                    }
                ]
            },
        )
        return bucket

    def image_url(self, bucket: str) -> str:
        """A presigned GET URL for the image, valid 24 hours, as Segments makes them."""
        url = self.signer.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": self.image_key}, ExpiresIn=86400
        )
        expected_host = "%s.s3.%s.amazonaws.com" % (bucket, self.region)
        assert urlsplit(url).netloc == expected_host and "X-Amz-Signature=" in url, url
        return url

    def module_defaults(self) -> dict:
        return {
            "group/segments.cloud.aws": {
                "endpoint_url": self.endpoint,
                "access_key": self.access_key,
                "secret_key": self.secret_key,
                "region": self.region,
            }
        }

    def onboard(self, bucket: str, **cors_options) -> None:
        """segments_s3_access and segments_s3_cors with their defaults (plus cors_options), state present."""
        self._run(bucket, "present", cors_options)

    def offboard(self, bucket: str) -> None:
        self._run(bucket, "absent", {})

    def _run(self, bucket: str, state: str, cors_options: dict) -> None:
        results = run_playbook(
            [
                {"name": "Bucket policy", "segments.cloud.segments_s3_access": {"name": [bucket], "state": state}},
                {
                    "name": "CORS rule",
                    "segments.cloud.segments_s3_cors": dict(cors_options, name=[bucket], state=state),
                },
            ],
            self.module_defaults(),
        )
        assert all(result.get("changed") for result in results.values()), results

    def cors_rules(self, bucket: str) -> list:
        try:
            return self.client.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except self.client.exceptions.ClientError:
            return []

    def delete(self, bucket: str) -> None:
        try:
            for item in self.client.list_objects_v2(Bucket=bucket).get("Contents") or []:
                self.client.delete_object(Bucket=bucket, Key=item["Key"])
            self.client.delete_bucket(Bucket=bucket)
        except self.client.exceptions.ClientError:
            pass


# The stores the suite runs against, by name: a new cloud adds its class here and its rows in the test tables.
STORES = {"s3": S3Store}
