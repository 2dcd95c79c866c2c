# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A cloud given as a metadata discovery endpoint URL (Azure Stack style), pure: the URL to read and the endpoints
its answer names. No I/O; client.py reads the document.

azure.azcollection's ``cloud_environment`` takes a cloud name or such a URL. Given the Resource Manager endpoint
(``https://management.example``), ``/metadata/endpoints?api-version=2022-09-01`` is appended, as Azure's own tools do;
a URL that already holds ``/metadata/endpoints`` is read as it is. The answer (a list of clouds, or one cloud) names
``resourceManager``, ``authentication.loginEndpoint`` and ``authentication.audiences``, ``microsoftGraphResourceId``
(or ``graph``) and ``suffixes.storage``.
"""

from __future__ import annotations

from urllib.parse import urlparse

METADATA_PATH = "/metadata/endpoints"
METADATA_API_VERSION = "2022-09-01"


def is_metadata_url(value) -> bool:
    """True if a cloud_environment value is a URL (a metadata discovery endpoint) rather than a cloud name."""
    return isinstance(value, str) and "://" in value


def metadata_url_problem(value: str) -> str | None:
    """None if value can be read as a metadata discovery endpoint, else a sentence saying what to change."""
    parsed = urlparse(value)
    if parsed.scheme != "https" or not parsed.hostname:
        return (
            "cloud_environment %r is not an https URL: a metadata discovery endpoint carries the cloud's sign-in "
            "endpoints and must be read over TLS, for example https://management.example/metadata/endpoints"
            "?api-version=%s." % (value, METADATA_API_VERSION)
        )
    return None


def metadata_request_url(value: str) -> str:
    """The URL to read: value itself when it names the metadata path, else value's endpoint with the path appended."""
    if METADATA_PATH in urlparse(value).path:
        return value
    return "%s%s?api-version=%s" % (value.rstrip("/"), METADATA_PATH, METADATA_API_VERSION)


def _pick_cloud(document, url: str):
    """The cloud of a metadata answer: the one whose resourceManager is on the URL's host, else the only or first."""
    if isinstance(document, dict):
        return document
    clouds = [cloud for cloud in document or [] if isinstance(cloud, dict)] if isinstance(document, list) else []
    host = (urlparse(url).hostname or "").lower()
    for cloud in clouds:
        if (urlparse(str(cloud.get("resourceManager") or "")).hostname or "").lower() == host:
            return cloud
    return clouds[0] if clouds else None


def _https_endpoint(value) -> str | None:
    if not isinstance(value, str) or urlparse(value).scheme != "https" or not urlparse(value).hostname:
        return None
    return value.rstrip("/")


def endpoints_from_metadata(document, url: str) -> tuple[dict | None, str | None]:
    """(endpoints, None) in the shape of client.CLOUD_ENVIRONMENTS' values (arm, arm_audience, graph, authority,
    blob_suffix, known_authority=False) from a metadata answer read at url, or (None, a sentence naming the field)."""
    cloud = _pick_cloud(document, url)
    if cloud is None:
        return None, "the metadata at %s names no cloud." % url
    authentication = cloud.get("authentication") if isinstance(cloud.get("authentication"), dict) else {}
    parsed = urlparse(url)
    arm = _https_endpoint(cloud.get("resourceManager") or "%s://%s" % (parsed.scheme, parsed.netloc))
    login = _https_endpoint(authentication.get("loginEndpoint"))
    audiences: list = authentication["audiences"] if isinstance(authentication.get("audiences"), list) else []
    suffixes = cloud.get("suffixes") if isinstance(cloud.get("suffixes"), dict) else {}
    storage_suffix = str(suffixes.get("storage") or "") if isinstance(suffixes.get("storage"), str) else ""
    missing = [
        field
        for field, value in (
            ("resourceManager (an https URL)", arm),
            ("authentication.loginEndpoint (an https URL)", login),
            ("suffixes.storage", storage_suffix.strip(".")),
        )
        if not value
    ]
    if missing:
        return None, "the metadata at %s lacks %s." % (url, " and ".join(missing))
    graph = _https_endpoint(cloud.get("microsoftGraphResourceId")) or _https_endpoint(cloud.get("graph"))
    audience = next((item for item in audiences if _https_endpoint(item)), None) or arm
    return (
        dict(
            arm=arm,
            arm_audience=audience,
            graph=graph,
            authority=login,
            blob_suffix="blob." + storage_suffix.strip("."),
            known_authority=False,
        ),
        None,
    )


def default_scope(resource: str) -> str:
    """The scope of a v1 resource for a client-credentials token, as Azure's tools build it: RESOURCE/.default."""
    return resource.rstrip("/") + "/.default"
