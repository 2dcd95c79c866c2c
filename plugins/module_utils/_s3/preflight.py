# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The browser-style CORS preflight the S3 info module sends, and the bucket URL it goes to."""

from __future__ import annotations

from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from ansible.module_utils.urls import open_url

from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import preflight_allows, virtual_hosted_url

PREFLIGHT_TIMEOUT_SECONDS = 10


_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def custom_endpoint(s3) -> str | None:
    """Return the S3 endpoint URL the client talks to when it is not AWS's own (endpoint_url, an emulator), else None."""
    endpoint = getattr(getattr(s3, "meta", None), "endpoint_url", None)
    host = (urlparse(endpoint).hostname or "") if endpoint else ""
    if not host or host == "amazonaws.com" or host.endswith(_AWS_HOST_SUFFIXES):
        return None
    return endpoint


def preflight_url(s3, bucket: str, region: str) -> str:
    """The bucket URL a browser preflight goes to: path style on a custom endpoint, else the virtual-hosted URL."""
    endpoint = custom_endpoint(s3)
    if endpoint:
        return "%s/%s/" % (endpoint.rstrip("/"), bucket)
    return virtual_hosted_url(bucket, region)


def cors_preflight(
    url: str, origin: str, validate_certs: bool = True, timeout: int = PREFLIGHT_TIMEOUT_SECONDS
) -> dict:
    """Send a browser-style CORS preflight (OPTIONS, Origin, Access-Control-Request-Method: GET) and return
    {"url", "origin", "status", "allowed", "allow_origin"} (and "error" when no HTTP answer came)."""
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    outcome = {"url": url, "origin": origin, "status": None, "allowed": False, "allow_origin": None}
    try:
        response = open_url(
            url, method="OPTIONS", headers=headers, validate_certs=validate_certs, timeout=timeout, use_proxy=True
        )
        status, answer_headers = response.getcode(), response.headers
    except HTTPError as error:
        status, answer_headers = error.code, error.headers
    except (URLError, OSError, ValueError) as error:
        outcome["error"] = str(getattr(error, "reason", error))
        return outcome
    allow_origin = answer_headers.get("Access-Control-Allow-Origin") if answer_headers is not None else None
    outcome.update(status=status, allow_origin=allow_origin, allowed=preflight_allows(allow_origin, origin))
    return outcome
