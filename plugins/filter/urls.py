# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The s3_url, gcs_url and azure_blob_url filters: object URLs as Segments.ai reads them (docs in the .yml files beside this file)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.segments.cloud.plugins.module_utils._azure.urls import azure_blob_url as azure_blob_object_url
from ansible_collections.segments.cloud.plugins.module_utils._gcs.urls import gcs_object_url
from ansible_collections.segments.cloud.plugins.module_utils._s3.urls import DEFAULT_S3_REGION, s3_object_url


def s3_url(bucket, key="", region=DEFAULT_S3_REGION):
    """https://BUCKET.s3.REGION.amazonaws.com/KEY; a bad bucket, key or region fails the task with the reason.

    Ansible itself names the filter in front of the message, so the message is only the reason."""
    try:
        return s3_object_url(bucket, key, region)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


def gcs_url(bucket, key=""):
    """https://storage.googleapis.com/BUCKET/KEY; a bad bucket or key fails the task with the reason."""
    try:
        return gcs_object_url(bucket, key)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


def azure_blob_url(account, container="", blob=""):
    """https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB; a bad account, container or blob fails the task with the reason."""
    try:
        return azure_blob_object_url(account, container, blob)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self):
        return {
            "s3_url": s3_url,
            "gcs_url": gcs_url,
            "azure_blob_url": azure_blob_url,
        }
