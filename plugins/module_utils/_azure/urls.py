# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTTPS URL Segments.ai reads an Azure blob from. Pure: no I/O; failures are ValueErrors."""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    account_name_problem,
    container_name_problem,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.urls import object_path

AZURE_BLOB_URL_TEMPLATE = "https://%s.blob.core.windows.net/%s"
# The two containers Azure names itself; their names do not follow the rule for the others.
_SPECIAL_CONTAINERS = ("$root", "$web")


def azure_blob_url(account, container="", blob="") -> str:
    """The HTTPS URL https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB of an Azure blob; with no container the
    account's prefix (ending in '/'), with a container and no blob the container's prefix (ending in '/').

    Raises ValueError for a malformed account or container name, or a blob without a container."""
    if not isinstance(account, str) or account_name_problem(account):
        raise ValueError(
            "%r is not an Azure storage account name: use 3 to 24 lowercase letters and digits, for example "
            "'customerimages'." % (account,)
        )
    if not container:
        if blob:
            raise ValueError("blob %r was given without its container: give the container name too." % (blob,))
        return AZURE_BLOB_URL_TEMPLATE % (account, "")
    if not isinstance(container, str) or (container not in _SPECIAL_CONTAINERS and container_name_problem(container)):
        raise ValueError(
            "%r is not an Azure blob container name: use 3 to 63 lowercase letters, digits and single hyphens, "
            "starting and ending with a letter or digit." % (container,)
        )
    return AZURE_BLOB_URL_TEMPLATE % (account, container + "/" + object_path(blob))
