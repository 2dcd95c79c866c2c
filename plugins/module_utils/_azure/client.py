# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure clients and the one error path that turns SDK and HTTP failures into AccountError.

Two planes reach a storage account's Blob service CORS:
- the data plane (Set Blob Service Properties), with a connection string or account key per account, which is how
  Azurite is reached and how a customer without Entra ID rights works;
- the management plane (ARM ``blobServices/default``), with Entra ID credentials, which is what AWX injects.
``account_plane`` picks one per account from the credentials given. The authentication options and environment
variables are azure.azcollection's (documented once in the ``segments.cloud.azure`` doc fragment).
"""

from __future__ import annotations

import base64
import binascii
import configparser
import ipaddress
import os
import socket
import threading
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from ansible.module_utils.basic import env_fallback

try:
    from azure.core import PipelineClient
    from azure.core.credentials import AzureNamedKeyCredential
    from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy, HeadersPolicy, RetryPolicy
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    HAS_AZURE = True
    AZURE_IMPORT_ERROR = None
except ImportError as import_error:
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = import_error

from ansible_collections.segments.cloud.plugins.module_utils._azure.cloud_metadata import (
    default_scope,
    endpoints_from_metadata,
    is_metadata_url,
    metadata_request_url,
    metadata_url_problem,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import (
    AccountError,
    account_error,
    missing_account_error,
    unreachable_error,
)

AUTH_SOURCES = ["auto", "cli", "credential_file", "env", "msi"]
ARM_API_VERSION = "2023-05-01"
AUTHORIZATION_API_VERSION = "2022-04-01"

# The clouds azure.azcollection's cloud_environment names, with the endpoints this collection uses.
CLOUD_ENVIRONMENTS = {
    "AzureCloud": {
        "arm": "https://management.azure.com",
        "graph": "https://graph.microsoft.com",
        "authority": "login.microsoftonline.com",
        "blob_suffix": "blob.core.windows.net",
    },
    "AzureChinaCloud": {
        "arm": "https://management.chinacloudapi.cn",
        "graph": "https://microsoftgraph.chinacloudapi.cn",
        "authority": "login.chinacloudapi.cn",
        "blob_suffix": "blob.core.chinacloudapi.cn",
    },
    "AzureUSGovernment": {
        "arm": "https://management.usgovcloudapi.net",
        "graph": "https://graph.microsoft.us",
        "authority": "login.microsoftonline.us",
        "blob_suffix": "blob.core.usgovcloudapi.net",
    },
}

# Each call gets a few quick retries; the storage SDK's own default (15 s, then 18 s, 24 s...) lets one missing
# account hold a run for about a minute.
RETRY_TOTAL = 3
CONNECTION_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60


class AzureSetupError(Exception):
    """The clients could not be built (missing library, credentials or options); fails the whole task."""


def azure_argument_spec():
    """Authentication and endpoint options shared by every Azure module (azure.azcollection's names and variables)."""
    return dict(
        auth_source=dict(
            type="str", choices=AUTH_SOURCES, default="auto", fallback=(env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])
        ),
        subscription_id=dict(type="str", fallback=(env_fallback, ["AZURE_SUBSCRIPTION_ID"])),
        client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
        secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_SECRET"])),
        tenant=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT"])),
        cloud_environment=dict(type="str", default="AzureCloud", fallback=(env_fallback, ["AZURE_CLOUD_ENVIRONMENT"])),
        profile=dict(type="str", fallback=(env_fallback, ["AZURE_PROFILE"])),
        resource_group=dict(type="str"),
        resource_groups=dict(type="dict", default={}),
        connection_strings=dict(type="dict", default={}, no_log=True),
        account_keys=dict(type="dict", default={}, no_log=True),
        blob_endpoint=dict(type="str"),
    )


def parse_connection_string(connection_string) -> dict:
    """The key=value pairs of a storage connection string; keys as written. Values keep any '=' (keys end in '=')."""
    pairs = {}
    for part in str(connection_string or "").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            pairs[key.strip()] = value.strip()
    return pairs


def account_key_problem(where: str, key) -> str | None:
    """None if key is base64 (as every storage account key is), else a sentence naming where it was given."""
    try:
        base64.b64decode(str(key or ""), validate=True)
        if key:
            return None
    except (binascii.Error, ValueError):
        pass
    return "%s is not a storage account key: a key is base64 text, as the portal shows it under Access keys." % where


def data_plane_problems(params) -> list:
    """Sentences about the per-account data-plane options: each connection string must belong to its account, and
    each key must be base64 (the SDK would otherwise fail when it signs the first request)."""
    problems = []
    for account, key in (params.get("account_keys") or {}).items():
        problems.append(account_key_problem("account_keys[%s]" % account, key))
    for account, connection_string in (params.get("connection_strings") or {}).items():
        pairs = parse_connection_string(connection_string)
        named = pairs.get("AccountName")
        if not named or not (pairs.get("AccountKey") or pairs.get("SharedAccessSignature")):
            problems.append(
                "connection_strings[%s] is not a storage connection string with AccountName and AccountKey "
                "(or SharedAccessSignature)." % account
            )
        elif named != account:
            problems.append(
                "connection_strings[%s] belongs to storage account %r, not %r: each account needs its own connection "
                "string." % (account, named, account)
            )
        elif pairs.get("AccountKey"):
            problems.append(
                account_key_problem("the AccountKey of connection_strings[%s]" % account, pairs["AccountKey"])
            )
    return [problem for problem in problems if problem]


def cloud_environment_problem(value) -> str | None:
    """None if value is a cloud name this collection knows or a usable metadata discovery endpoint URL, else a
    sentence saying what to change (no call is made)."""
    if is_metadata_url(value):
        return metadata_url_problem(value)
    if value not in CLOUD_ENVIRONMENTS:
        return "cloud_environment %r is not one of %s, nor a metadata discovery endpoint URL (https://...)." % (
            value,
            ", ".join(sorted(CLOUD_ENVIRONMENTS)),
        )
    return None


_METADATA_LOCK = threading.Lock()
_METADATA_ENDPOINTS: dict = {}


def read_cloud_metadata(url: str) -> dict:
    """The endpoints of the cloud whose metadata discovery endpoint is url, read once per process over verified TLS
    (the CA bundle of requests, REQUESTS_CA_BUNDLE included). Raises AzureSetupError naming the URL."""
    request_url = metadata_request_url(url)
    with _METADATA_LOCK:
        if request_url in _METADATA_ENDPOINTS:
            return _METADATA_ENDPOINTS[request_url]
        pipeline: Any = PipelineClient(
            request_url,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                RetryPolicy(retry_total=RETRY_TOTAL, retry_connect=1, retry_backoff_factor=0.5),
            ],
            transport=RequestsTransport(
                connection_timeout=CONNECTION_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS
            ),
        )
        try:
            response = pipeline.send_request(HttpRequest("GET", request_url))
            document = response.json() if response.status_code == 200 else None
        except (AzureError, ValueError) as error:
            reason = str(getattr(error, "message", None) or error).splitlines()[0][:300]
            raise AzureSetupError(
                "cloud_environment: the metadata discovery endpoint %s could not be read (%s). Check the URL, and that "
                "this machine trusts its certificate (REQUESTS_CA_BUNDLE)" % (request_url, reason)
            ) from None
        if document is None:
            raise AzureSetupError(
                "cloud_environment: the metadata discovery endpoint %s answered HTTP %s, not the cloud's endpoints. "
                "Check the URL" % (request_url, response.status_code)
            )
        endpoints, problem = endpoints_from_metadata(document, request_url)
        if problem:
            raise AzureSetupError("cloud_environment: %s Check the URL" % problem)
        _METADATA_ENDPOINTS[request_url] = endpoints
        return endpoints


def cloud_endpoints(params) -> dict:
    """The endpoints of params' cloud_environment: a known cloud's, or those its metadata discovery endpoint names."""
    name = params.get("cloud_environment") or "AzureCloud"
    problem = cloud_environment_problem(name)
    if problem:
        raise AzureSetupError(problem)
    if is_metadata_url(name):
        return read_cloud_metadata(name)
    return CLOUD_ENVIRONMENTS[name]


def _credential_file_profile(profile):
    """The [profile] section of ~/.azure/credentials (azure.azcollection's credential file), or {} when absent."""
    path = os.path.expanduser("~/.azure/credentials")
    if not os.path.exists(path):
        return {}
    parser = configparser.ConfigParser()
    parser.read(path)
    section = profile or "default"
    return dict(parser.items(section)) if parser.has_section(section) else {}


def entra_credential(params):
    """An azure-identity credential for the management plane and Graph, chosen as azure.azcollection's auth_source
    does."""
    from azure.identity import (  # imported here: the data plane alone never needs it
        AzureCliCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
    )

    endpoints = cloud_endpoints(params)
    authority = endpoints["authority"]
    # MSAL checks an authority it does not know with login.microsoftonline.com first; a cloud named by its metadata
    # (Azure Stack, a private cloud) is known to the caller instead, as azure-identity documents.
    discovery = {} if endpoints.get("known_authority", True) else {"disable_instance_discovery": True}
    source = params.get("auth_source") or "auto"
    explicit = dict(client_id=params.get("client_id"), secret=params.get("secret"), tenant=params.get("tenant"))
    if source == "credential_file" or (source == "auto" and not explicit["secret"] and params.get("profile")):
        explicit = _credential_file_profile(params.get("profile"))
        if not explicit:
            raise AzureSetupError("no profile %r in ~/.azure/credentials" % (params.get("profile") or "default"))
        if explicit.get("subscription_id") and not params.get("subscription_id"):
            params["subscription_id"] = explicit["subscription_id"]
    if source in ("env", "credential_file") or (source == "auto" and explicit.get("secret")):
        missing = [key for key in ("client_id", "secret", "tenant") if not explicit.get(key)]
        if missing:
            raise AzureSetupError(
                "a service principal needs client_id, secret and tenant (or AZURE_CLIENT_ID, AZURE_SECRET, "
                "AZURE_TENANT); missing: %s" % ", ".join(missing)
            )
        return ClientSecretCredential(
            explicit["tenant"], explicit["client_id"], explicit["secret"], authority=authority, **discovery
        )
    if source == "msi":
        return ManagedIdentityCredential(client_id=params.get("client_id"))
    if source == "cli":
        return AzureCliCredential()
    return DefaultAzureCredential(authority=authority, **discovery)


def _is_ip_or_local(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HostCheck:
    """Resolves each blob host once: a host without a DNS name fails its account at once, instead of after the SDK's
    connection retries (on Azure a storage account that does not exist is a DNS name that does not exist)."""

    def __init__(self, blob_suffix):
        # A string, or a function giving it: a cloud named by its metadata is read only when the suffix is needed.
        self._blob_suffix = blob_suffix
        self._lock = threading.Lock()
        self._resolved: dict = {}

    def check(self, account: str, action: str, url: str) -> None:
        host = urlparse(url).hostname or ""
        if not host or _is_ip_or_local(host):
            return
        with self._lock:
            known = self._resolved.get(host)
        if known is None:
            try:
                socket.getaddrinfo(host, None)
                known = True
            except (socket.gaierror, UnicodeError):
                known = False
            with self._lock:
                self._resolved[host] = known
        if not known:
            if host.lower() == "%s.%s" % (account, _suffix(self._blob_suffix)):
                raise missing_account_error(account, action, host)
            raise unreachable_error(account, action, host, "its DNS name does not resolve")


def _suffix(blob_suffix) -> str:
    return blob_suffix() if callable(blob_suffix) else blob_suffix


def _error_code(error) -> str | None:
    code = getattr(error, "error_code", None)
    if code:
        # The storage SDK gives a StorageErrorCode enum, whose str() is "StorageErrorCode.AUTHORIZATION_FAILURE".
        return str(getattr(code, "value", code))
    odata_code = getattr(getattr(error, "error", None), "code", None)
    if odata_code:
        return str(odata_code)
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    return headers.get("x-ms-error-code")


@contextmanager
def azure_errors(account: str, action: str, url: str = ""):
    """Inside this block, an Azure SDK or transport failure surfaces as an AccountError for account: the one error
    path."""
    try:
        yield
    except AccountError:
        raise
    except HttpResponseError as error:
        detail = getattr(error, "reason", None) or getattr(error, "message", None) or str(error)
        raise account_error(account, action, getattr(error, "status_code", None), _error_code(error), detail) from None
    except (ServiceRequestError, ServiceResponseError) as error:
        host = urlparse(url).hostname or url or "the endpoint"
        reason = str(getattr(error, "message", None) or error).splitlines()[0][:200]
        raise unreachable_error(account, action, host, reason) from None
    except AzureError as error:
        raise AccountError(
            account,
            action,
            "%s: %s" % (type(error).__name__, str(error).splitlines()[0][:300] if str(error) else ""),
            "Check the credentials and the options, then run again",
        ) from None


class DataPlane:
    """Blob service clients for the accounts given a connection string or account key, one client per account."""

    def __init__(self, params, host_check: HostCheck, blob_suffix):
        self._connection_strings = params.get("connection_strings") or {}
        self._account_keys = params.get("account_keys") or {}
        self._blob_endpoint = params.get("blob_endpoint")
        self._blob_suffix = blob_suffix
        self._host_check = host_check
        self._lock = threading.Lock()
        self._clients: dict = {}

    def serves(self, account: str) -> bool:
        return account in self._connection_strings or account in self._account_keys

    def account_url(self, account: str) -> str:
        """The blob endpoint of account: from its connection string, blob_endpoint ({account} filled in), or Azure's."""
        if account in self._connection_strings:
            pairs = parse_connection_string(self._connection_strings[account])
            if pairs.get("BlobEndpoint"):
                return pairs["BlobEndpoint"]
            protocol = pairs.get("DefaultEndpointsProtocol", "https")
            suffix = pairs.get("EndpointSuffix")
            return (
                "%s://%s.blob.%s" % (protocol, account, suffix)
                if suffix
                else "%s://%s.%s" % (protocol, account, _suffix(self._blob_suffix))
            )
        if self._blob_endpoint:
            return self._blob_endpoint.replace("{account}", account)
        return "https://%s.%s" % (account, _suffix(self._blob_suffix))

    def client(self, account: str, action: str):
        """The BlobServiceClient of account; its host is checked first, so that a missing account fails at once."""
        url = self.account_url(account)
        self._host_check.check(account, action, url)
        with self._lock:
            if account not in self._clients:
                options: dict[str, Any] = dict(
                    retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=RETRY_TOTAL),
                    connection_timeout=CONNECTION_TIMEOUT_SECONDS,
                    read_timeout=READ_TIMEOUT_SECONDS,
                )
                if account in self._connection_strings:
                    service = BlobServiceClient.from_connection_string(self._connection_strings[account], **options)
                else:
                    credential = AzureNamedKeyCredential(account, self._account_keys[account])
                    service = BlobServiceClient(account_url=url, credential=credential, **options)
                self._clients[account] = service
            return self._clients[account]


class RestClient:
    """A small JSON-over-HTTPS client for ARM or Microsoft Graph with a bearer token, quick retries and the one
    error path."""

    def __init__(self, base_url: str, credential, scope: str):
        self.base_url = base_url.rstrip("/")
        policies = [
            HeadersPolicy({"Accept": "application/json"}),
            RetryPolicy(retry_total=RETRY_TOTAL, retry_connect=1, retry_backoff_factor=0.5),
            BearerTokenCredentialPolicy(credential, scope),
        ]
        transport = RequestsTransport(connection_timeout=CONNECTION_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS)
        self._pipeline: Any = PipelineClient(self.base_url, policies=policies, transport=transport)
        # A bearer token goes over TLS only; the one exception is a test server on this machine's loopback.
        self._loopback = _is_loopback(urlparse(self.base_url).hostname or "") and self.base_url.startswith("http://")

    def call(self, account: str, action: str, method: str, path: str, params=None, body=None, ok_codes=()):
        """(status, json body or None) of method path; an error answer raises AccountError unless its code is in
        ok_codes."""
        url = self.base_url + path
        request = HttpRequest(method, url, params=params or {}, json=body)
        with azure_errors(account, action, url):
            if self._loopback:
                response = self._pipeline.send_request(request, enforce_https=False)
            else:
                response = self._pipeline.send_request(request)
        status = response.status_code
        try:
            payload = response.json() if response.text() else None
        except ValueError:
            payload = None
        if status < 400:
            return status, payload
        error = (payload or {}).get("error") if isinstance(payload, dict) else None
        code = (error or {}).get("code") if isinstance(error, dict) else None
        if code in ok_codes or status in ok_codes:
            return status, payload
        message = (error or {}).get("message") if isinstance(error, dict) else response.text()[:300]
        raise account_error(account, action, status, code, message or "")


class AzureClients:
    """Everything a module run talks to: the data plane per account, ARM and Graph, built once and shared by the
    workers."""

    def __init__(self, params, arm_endpoint: str | None = None, graph_endpoint: str | None = None, credential=None):
        if not HAS_AZURE:
            raise AzureSetupError(
                "the python libraries azure-storage-blob and azure-identity are required: "
                "pip install azure-storage-blob azure-identity (%s)" % AZURE_IMPORT_ERROR
            )
        self.params = params
        self._endpoints_lock = threading.Lock()
        self._endpoints: dict | None = None
        self.host_check = HostCheck(self.blob_suffix)
        self.data_plane = DataPlane(params, self.host_check, self.blob_suffix)
        self._arm_override = arm_endpoint
        self._graph_override = graph_endpoint
        self._credential = credential
        self._lock = threading.Lock()
        self._arm: RestClient | None = None
        self._graph: RestClient | None = None

    def endpoints(self) -> dict:
        """The cloud's endpoints, found on first use: an account reached with its connection string needs none."""
        with self._endpoints_lock:
            if self._endpoints is None:
                self._endpoints = cloud_endpoints(self.params)
            return self._endpoints

    def blob_suffix(self) -> str:
        return self.endpoints()["blob_suffix"]

    @property
    def _arm_endpoint(self) -> str:
        return self._arm_override or self.endpoints()["arm"]

    @property
    def _graph_endpoint(self) -> str:
        graph = self._graph_override or self.endpoints()["graph"]
        if not graph:
            raise AzureSetupError(
                "cloud_environment: the cloud's metadata names no Microsoft Graph endpoint (microsoftGraphResourceId), "
                "which the service principal lookup needs"
            )
        return graph

    def entra_credential(self):
        """The Entra ID credential for ARM and Graph, built on first use (the data plane never needs one)."""
        if self._credential is None:
            self._credential = entra_credential(self.params)
        return self._credential

    @property
    def arm_scope(self) -> str:
        if self._arm_override:
            return self._arm_override + "/.default"
        return default_scope(self.endpoints().get("arm_audience") or self.endpoints()["arm"])

    @property
    def arm(self) -> RestClient:
        with self._lock:
            if self._arm is None:
                self._arm = RestClient(self._arm_endpoint, self.entra_credential(), self.arm_scope)
            return self._arm

    @property
    def graph(self) -> RestClient:
        with self._lock:
            if self._graph is None:
                self._graph = RestClient(
                    self._graph_endpoint, self.entra_credential(), default_scope(self._graph_endpoint)
                )
            return self._graph

    def resource_group(self, account: str) -> str | None:
        return (self.params.get("resource_groups") or {}).get(account) or self.params.get("resource_group")

    def plane(self, account: str) -> str:
        """'data' when the account has a connection string or key, else 'management' (ARM with Entra ID credentials)."""
        return "data" if self.data_plane.serves(account) else "management"


def azure_module_argument_spec():
    """The fleet options (accounts, concurrency) with Azure's aliases, and the authentication options."""
    from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import fleet_argument_spec

    argument_spec = fleet_argument_spec()
    argument_spec["name"] = dict(argument_spec["name"], aliases=["account", "accounts", "storage_account"])
    argument_spec.update(azure_argument_spec())
    return argument_spec


def segments_role_argument_spec():
    """The options naming whom Segments' role is given to and where: its app, the role (Storage Blob Data Reader by
    default) and the containers to limit it to."""
    from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
        SEGMENTS_APP_ID,
        STORAGE_BLOB_DATA_READER_ROLE_ID,
    )

    return dict(
        app_id=dict(type="str", default=SEGMENTS_APP_ID),
        role=dict(type="str", default=STORAGE_BLOB_DATA_READER_ROLE_ID),
        containers=dict(type="dict", default={}),
    )


def option_problems(params, require_management: bool = False) -> list:
    """Sentences about options that can reach no account, found before any call. require_management: every account
    is reached through ARM (role assignments), whatever data-plane credentials are given."""
    from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
        account_name_problem,
        resource_group_problem,
    )

    names = params.get("name") or []
    problems = [problem for problem in map(account_name_problem, names) if problem]
    if not names:
        problems.append("name must list at least one storage account.")
    if params.get("concurrency", 1) < 1:
        problems.append("concurrency must be 1 or more, got %d." % params["concurrency"])
    problems.extend(data_plane_problems(params))
    data_plane_accounts = (
        set()
        if require_management
        else (set(params.get("connection_strings") or {}) | set(params.get("account_keys") or {}))
    )
    # A name that can be no account gets its own sentence above, not more about how it would be reached.
    management_accounts = [
        name for name in names if name not in data_plane_accounts and account_name_problem(name) is None
    ]
    if management_accounts:
        if not params.get("subscription_id"):
            problems.append(
                "storage account(s) %s have no connection string or account key, so they are reached through Azure "
                "Resource Manager, which needs subscription_id (or AZURE_SUBSCRIPTION_ID)."
                % ", ".join("'%s'" % name for name in management_accounts)
            )
        groups = params.get("resource_groups") or {}
        without_group = [name for name in management_accounts if not (groups.get(name) or params.get("resource_group"))]
        if without_group:
            problems.append(
                "storage account(s) %s have no resource group: set resource_group, or resource_groups per account."
                % ", ".join("'%s'" % name for name in without_group)
            )
        for group in sorted(
            set(list(groups.values()) + ([params["resource_group"]] if params.get("resource_group") else []))
        ):
            problem = resource_group_problem(group)
            if problem:
                problems.append(problem)
    if params.get("cloud_environment"):
        problems.append(cloud_environment_problem(params["cloud_environment"]))
    return [problem for problem in problems if problem]


def clients_for_module(module, require_management: bool = False, **endpoints):
    """Check the options, then return AzureClients; fails the module (before any call) otherwise."""
    from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import fail_on_options

    problems = option_problems(module.params, require_management)
    if problems:
        fail_on_options(module, problems, noun=AccountError.noun)
    try:
        clients = AzureClients(module.params, **endpoints)
        if require_management or any(clients.plane(name) == "management" for name in module.params.get("name") or []):
            clients.endpoints()  # a metadata URL that cannot be read fails the task here, before any account
        return clients
    except AzureSetupError as error:
        fail_on_options(module, str(error), noun=AccountError.noun)
    return None  # not reached: fail_json exits
