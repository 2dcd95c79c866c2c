# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTTPS URL Segments.ai reads a Cloud Storage object from. Pure: no I/O; failures are ValueErrors."""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._common.urls import object_path
from ansible_collections.segments.cloud.plugins.module_utils._gcs.names import validate_bucket_name

GCS_URL_TEMPLATE = "https://storage.googleapis.com/%s/%s"


def gcs_object_url(bucket, key="") -> str:
    """The HTTPS URL https://storage.googleapis.com/BUCKET/KEY of a Cloud Storage object (KEY '' gives the bucket's prefix).

    Raises ValueError for an empty bucket or one with characters Cloud Storage names never hold."""
    if not isinstance(bucket, str) or not bucket:
        raise ValueError(
            "the Cloud Storage bucket name is empty: give the name of the bucket, for example 'my-images'."
        )
    if validate_bucket_name(bucket):
        raise ValueError(
            "%r is not a Cloud Storage bucket name: use 3 to 222 lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit." % (bucket,)
        )
    return GCS_URL_TEMPLATE % (bucket, object_path(key))
