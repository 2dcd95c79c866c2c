# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The object URLs Segments.ai reads images from, for S3 and Cloud Storage.

Pure functions: no I/O, no cloud call. The ``segments.cloud.s3_url`` and ``segments.cloud.gcs_url`` filters
wrap them; modules can use them too. Every failure is a ValueError whose message says what to change.
"""

from __future__ import annotations

import re
from urllib.parse import quote

DEFAULT_S3_REGION = "us-east-1"
S3_URL_TEMPLATE = "https://%s.s3.%s.amazonaws.com/%s"
GCS_URL_TEMPLATE = "https://storage.googleapis.com/%s/%s"

# A virtual-hosted bucket is one DNS label of the host, so it must be a valid label: 3 to 63 lowercase letters,
# digits and hyphens, starting and ending with a letter or digit.
_S3_HOST_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", re.ASCII)
# Region names are lowercase words and numbers joined by hyphens (us-east-1, ap-southeast-3, us-gov-west-1).
_S3_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+", re.ASCII)
# Cloud Storage names may also hold underscores and dots; the bucket is a path segment, so nothing else may pass.
_GCS_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", re.ASCII)


def _object_path(key) -> str:
    """The key as a URL path: percent-encoded except '/', with one leading '/' dropped."""
    if key is None:
        return ""
    if not isinstance(key, str):
        raise ValueError("the object key must be a string, got %s %r." % (type(key).__name__, key))
    if key.startswith("/"):
        # '/images/1.jpg' is how people write a path; S3 and Cloud Storage keys have no leading slash of their own.
        key = key[1:]
    return quote(key, safe="/")


def s3_object_url(bucket, key="", region=DEFAULT_S3_REGION) -> str:
    """The virtual-hosted HTTPS URL https://BUCKET.s3.REGION.amazonaws.com/KEY of an S3 object (KEY '' gives the bucket's prefix).

    Raises ValueError for an empty or malformed bucket or region, and for a dotted bucket name, which HTTPS cannot serve."""
    if not isinstance(bucket, str) or not bucket:
        raise ValueError("the S3 bucket name is empty: give the name of the bucket, for example 'my-images'.")
    if "." in bucket:
        raise ValueError(
            "the S3 bucket name %r contains dots, so its virtual-hosted HTTPS URL does not work: the certificate "
            "*.s3.REGION.amazonaws.com covers one DNS label only, so HTTPS clients reject %s.s3.REGION.amazonaws.com. "
            "Use a bucket whose name has no dots." % (bucket, bucket)
        )
    if not _S3_HOST_BUCKET_RE.fullmatch(bucket):
        raise ValueError(
            "the S3 bucket name %r cannot be part of a virtual-hosted URL: use 3 to 63 lowercase letters, digits "
            "and hyphens, starting and ending with a letter or digit." % (bucket,)
        )
    if not isinstance(region, str) or not region:
        raise ValueError(
            "the AWS region of bucket %r is empty: give the bucket's region, for example 'eu-west-1'." % (bucket,)
        )
    if not _S3_REGION_RE.fullmatch(region):
        raise ValueError(
            "%r is not an AWS region name: give the bucket's region in lowercase, for example 'eu-west-1'." % (region,)
        )
    if region.startswith("cn-"):
        raise ValueError(
            "region %r is in the AWS China partition: its S3 hosts are under amazonaws.com.cn, and Segments.ai's account, "
            "in the standard AWS partition, cannot be granted access there. Use a bucket in a standard AWS region."
            % (region,)
        )
    return S3_URL_TEMPLATE % (bucket, region, _object_path(key))


def gcs_object_url(bucket, key="") -> str:
    """The HTTPS URL https://storage.googleapis.com/BUCKET/KEY of a Cloud Storage object (KEY '' gives the bucket's prefix).

    Raises ValueError for an empty bucket or one with characters Cloud Storage names never hold."""
    if not isinstance(bucket, str) or not bucket:
        raise ValueError(
            "the Cloud Storage bucket name is empty: give the name of the bucket, for example 'my-images'."
        )
    if not _GCS_BUCKET_RE.fullmatch(bucket):
        raise ValueError(
            "%r is not a Cloud Storage bucket name: use 3 to 222 lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit." % (bucket,)
        )
    return GCS_URL_TEMPLATE % (bucket, _object_path(key))


AZURE_BLOB_URL_TEMPLATE = "https://%s.blob.core.windows.net/%s"
# A storage account is one DNS label of its blob host: 3 to 24 lowercase letters and digits.
_AZURE_ACCOUNT_RE = re.compile(r"[a-z0-9]{3,24}", re.ASCII)
_AZURE_CONTAINER_RE = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}|\$root|\$web", re.ASCII)


def azure_blob_url(account, container="", blob="") -> str:
    """The HTTPS URL https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB of an Azure blob; with no container the
    account's prefix (ending in '/'), with a container and no blob the container's prefix (ending in '/').

    Raises ValueError for a malformed account or container name, or a blob without a container."""
    if not isinstance(account, str) or not _AZURE_ACCOUNT_RE.fullmatch(account):
        raise ValueError(
            "%r is not an Azure storage account name: use 3 to 24 lowercase letters and digits, for example "
            "'customerimages'." % (account,)
        )
    if not container:
        if blob:
            raise ValueError("blob %r was given without its container: give the container name too." % (blob,))
        return AZURE_BLOB_URL_TEMPLATE % (account, "")
    if not isinstance(container, str) or not _AZURE_CONTAINER_RE.fullmatch(container):
        raise ValueError(
            "%r is not an Azure blob container name: use 3 to 63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit." % (container,)
        )
    path = _object_path(blob)
    return AZURE_BLOB_URL_TEMPLATE % (account, container + "/" + path)
