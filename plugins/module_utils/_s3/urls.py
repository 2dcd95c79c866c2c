# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The virtual-hosted HTTPS URL Segments.ai reads an S3 object from. Pure: no I/O; failures are ValueErrors."""

from __future__ import annotations

import re

from ansible_collections.segments.cloud.plugins.module_utils._common.urls import object_path
from ansible_collections.segments.cloud.plugins.module_utils._s3.names import validate_bucket_name

DEFAULT_S3_REGION = "us-east-1"
S3_URL_TEMPLATE = "https://%s.s3.%s.amazonaws.com/%s"
# Region names are lowercase words and numbers joined by hyphens (us-east-1, ap-southeast-3, us-gov-west-1).
_S3_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+", re.ASCII)


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
    if validate_bucket_name(bucket):
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
    return S3_URL_TEMPLATE % (bucket, region, object_path(key))
