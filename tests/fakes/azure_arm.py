# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small fake of Azure Resource Manager and Microsoft Graph, for the calls segments.cloud makes and no others.

There is no local emulator of ARM role assignments or of Microsoft Graph, so the HTTP path of the management plane is
tested against this server. It implements, with the documented status codes and error bodies
(``{"error": {"code", "message"}}``):
- Graph ``GET /v1.0/servicePrincipals?$filter=appId eq '...'`` and ``POST /v1.0/servicePrincipals`` (201);
- ARM ``GET`` of a storage account, ``GET``/``PUT`` of its ``blobServices/default``; the PUT replaces the properties
  whole (the worst case ARM's documentation leaves open), so a client that sent only ``cors`` would lose the rest;
- ARM role assignments: ``GET .../roleAssignments?$filter=atScope() and assignedTo('id')`` (this scope and above),
  ``PUT .../roleAssignments/NAME`` (201; 409 RoleAssignmentExists for the same role, principal and scope under any
  name; 400 RoleAssignmentUpdateNotPermitted for a name taken by another principal, role or scope), ``DELETE`` (200,
  or 204 when there is none);
- 401 InvalidAuthenticationToken without a bearer token, 403 AuthorizationFailed on scopes listed in ``forbidden``,
  404 ResourceNotFound / ResourceGroupNotFound for what does not exist.
Every request is recorded in ``requests`` (method, path, body) so tests can check what was sent.

Run as a program (``scripts/local-clouds`` does), it serves HTTPS with a certificate made at start, so that
azure-identity and MSAL reach it the way they reach a private cloud (azure.azcollection's ``cloud_environment`` as a
metadata discovery endpoint URL). It then also implements:
- ``GET /metadata/endpoints?api-version=...``: the cloud's endpoints (resourceManager, authentication.loginEndpoint and
  audiences, microsoftGraphResourceId, suffixes.storage), all on this server; Graph is under ``/graph``;
- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (MSAL's tenant discovery; 400 AADSTS90002 for another
  tenant) and ``POST /{tenant}/oauth2/v2.0/token`` for the client-credentials grant, with Entra ID's documented
  errors: 400 invalid_request AADSTS90002 (unknown tenant), 400 unsupported_grant_type AADSTS70003, 400
  unauthorized_client AADSTS700016 (unknown client ID), 401 invalid_client AADSTS7000215 (wrong secret), 400
  invalid_scope AADSTS1002012 (a scope without /.default) and 400 invalid_resource AADSTS500011 (another resource);
- a token check: ARM and Graph accept only unexpired tokens this server issued for their own audience (401
  InvalidAuthenticationToken otherwise);
- ``/_fake/...``, for tests and the demo to seed and inspect it (not an Azure API): ``GET /_fake/health``,
  ``GET /_fake/state``, ``GET /_fake/requests``, ``POST /_fake/accounts`` (``{name, resource_group?,
  subscription_id?, kind?, properties?, blob_properties?}``), ``POST /_fake/assignments`` (``{scope,
  role_definition_id, principal_id, name?}``), ``DELETE /_fake/assignments?scope=S`` (every assignment at S or
  below), ``POST /_fake/service_principals`` (``{appId, id?, displayName?}``), ``DELETE
  /_fake/service_principals/APP_ID``, ``POST``/``DELETE /_fake/forbidden`` (``{scope}``), and ``POST
  /_fake/racing_writer`` (``{scope, name?}``: another writer makes the next role assignment PUT at scope under that
  name just before it lands, so the PUT meets 409 RoleAssignmentExists).
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import ipaddress
import json
import os
import re
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

_ACCOUNT_RE = re.compile(
    r"^(/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/Microsoft\.Storage/storageAccounts/([^/]+))(/.*)?$", re.I
)
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments"


def _error(status, code, message):
    return status, {"error": {"code": code, "message": message}}


class FakeAzure:
    """The state the fake serves; tests seed it directly and read it back."""

    def __init__(self, tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47"):
        self.lock = threading.Lock()
        self.tenant_id = tenant_id
        self.accounts = {}  # lower-cased account ID -> {"id", "name", "kind", "sku", "properties", "blob_service"}
        self.resource_groups = set()  # lower-cased "/subscriptions/S/resourceGroups/G"
        self.service_principals = {}  # appId -> {"id", "appId", "displayName"}
        self.assignments = {}  # lower-cased assignment ID -> assignment JSON
        self.forbidden = set()  # lower-cased scopes whose calls answer 403 AuthorizationFailed
        self.requests = []
        # Entra ID: the one client the tenant knows, and the tokens issued (token -> audience, expiry). With
        # check_tokens off (the in-process unit tests), any bearer token is accepted.
        self.client_id = None
        self.client_secret = None
        self.check_tokens = False
        self.tokens = {}
        self.base_url = None  # the https URL the server answers on, once serve() knows it
        self.blob_endpoint = "https://{account}.blob.core.windows.net/"  # an account's primaryEndpoints.blob
        self.default_subscription = "00000000-0000-0000-0000-000000000000"
        self.default_resource_group = "default"
        self.verbose = False
        # Names under which another writer makes the next role assignments PUT asks for, just before it lands.
        self.racing_writers = {}  # lower-cased scope -> [name, ...]

    def add_account(
        self, subscription_id, resource_group, name, kind="StorageV2", properties=None, blob_properties=None
    ):
        group = "/subscriptions/%s/resourceGroups/%s" % (subscription_id, resource_group)
        account_id = group + "/providers/Microsoft.Storage/storageAccounts/" + name
        self.resource_groups.add(group.lower())
        self.accounts[account_id.lower()] = {
            "id": account_id,
            "name": name,
            "type": "Microsoft.Storage/storageAccounts",
            "kind": kind,
            "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "properties": properties or {"primaryEndpoints": {"blob": self.blob_endpoint.replace("{account}", name)}},
            "blob_service": {"properties": blob_properties or {"cors": {"corsRules": []}}},
        }
        return account_id

    def add_assignment(self, scope, role_definition_id, principal_id, name=None):
        name = name or str(uuid.uuid4())
        assignment_id = "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name)
        self.assignments[assignment_id.lower()] = {
            "id": assignment_id,
            "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"scope": scope, "roleDefinitionId": role_definition_id, "principalId": principal_id},
        }
        return assignment_id

    # Routing

    def handle(self, method, path, query, body, authorized):
        if not authorized:
            return _error(401, "InvalidAuthenticationToken", "The access token is missing or invalid.")
        if path.lower().startswith("/v1.0/serviceprincipals"):
            return self._service_principals(method, query, body)
        lower = path.lower()
        for scope in self.forbidden:
            if lower == scope or lower.startswith(scope + "/"):
                return _error(
                    403,
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action over scope '%s'." % path,
                )
        if _ASSIGNMENTS in lower:
            return self._role_assignments(method, path, query, body)
        match = _ACCOUNT_RE.match(path)
        if not match:
            return _error(404, "ResourceNotFound", "The fake does not serve %s." % path)
        account_id, group, name, rest = match.groups()
        account = self.accounts.get(account_id.lower())
        if account is None:
            if account_id.lower().split("/providers/")[0] not in self.resource_groups:
                return _error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % group)
            return _error(
                404,
                "ResourceNotFound",
                "The Resource 'Microsoft.Storage/storageAccounts/%s' under resource group '%s' was not found."
                % (name, group),
            )
        if not rest:
            if method != "GET":
                return _error(405, "MethodNotAllowed", "Only GET is faked for storage accounts.")
            return 200, {key: value for key, value in account.items() if key != "blob_service"}
        if rest.lower() == "/blobservices/default":
            if method == "GET":
                return 200, dict(
                    id=account_id + "/blobServices/default",
                    name="default",
                    type="Microsoft.Storage/storageAccounts/blobServices",
                    properties=copy.deepcopy(account["blob_service"]["properties"]),
                )
            if method == "PUT":
                properties = (body or {}).get("properties")
                if not isinstance(properties, dict):
                    return _error(400, "InvalidRequestPropertyValue", "properties is required.")
                rules = (properties.get("cors") or {}).get("corsRules") or []
                if len(rules) > 5:
                    return _error(400, "InvalidXmlDocument", "More than 5 CORS rules.")
                account["blob_service"]["properties"] = copy.deepcopy(properties)  # replaced whole
                return 200, dict(id=account_id + "/blobServices/default", name="default", properties=properties)
        return _error(404, "ResourceNotFound", "The fake does not serve %s." % path)

    def _service_principals(self, method, query, body):
        if method == "GET":
            wanted = re.fullmatch(r"appId eq '([^']*)'", (query.get("$filter") or [""])[0])
            if not wanted:
                return _error(400, "Request_UnsupportedQuery", "Only $filter=appId eq '...' is faked.")
            found = self.service_principals.get(wanted.group(1))
            return 200, {"value": [copy.deepcopy(found)] if found else []}
        if method == "POST":
            app_id = (body or {}).get("appId")
            if not app_id:
                return _error(400, "Request_BadRequest", "appId is required.")
            if app_id in self.service_principals:
                return _error(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Another object with the same value for property appId already exists.",
                )
            principal = {"id": str(uuid.uuid4()), "appId": app_id, "displayName": "Segments.ai Blob Link Service"}
            self.service_principals[app_id] = principal
            return 201, copy.deepcopy(principal)
        return _error(405, "Request_BadRequest", "Method not faked.")

    def _role_assignments(self, method, path, query, body):
        index = path.lower().index(_ASSIGNMENTS)
        scope, rest = path[:index], path[index + len(_ASSIGNMENTS) :]
        if method == "GET" and rest in ("", "/"):
            wanted = re.fullmatch(r"atScope\(\) and assignedTo\('([^']*)'\)", (query.get("$filter") or [""])[0])
            if not wanted:
                return _error(400, "InvalidFilterInQueryString", "Only atScope() and assignedTo('id') is faked.")
            principal = wanted.group(1).lower()
            found = [
                copy.deepcopy(assignment)
                for assignment in self.assignments.values()
                if assignment["properties"]["principalId"].lower() == principal
                and _covers(assignment["properties"]["scope"], scope)
            ]
            return 200, {"value": found}
        name = rest.strip("/")
        assignment_id = "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (scope, name)
        existing = self.assignments.get(assignment_id.lower())
        if method == "PUT":
            properties = (body or {}).get("properties") or {}
            role, principal = properties.get("roleDefinitionId") or "", properties.get("principalId") or ""
            if existing is not None:
                same = (
                    existing["properties"]["roleDefinitionId"].lower() == role.lower()
                    and existing["properties"]["principalId"].lower() == principal.lower()
                )
                if not same:
                    return _error(
                        400,
                        "RoleAssignmentUpdateNotPermitted",
                        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                    )
            for assignment in self.assignments.values():
                props = assignment["properties"]
                if (
                    props["scope"].lower() == scope.lower()
                    and props["roleDefinitionId"].lower() == role.lower()
                    and props["principalId"].lower() == principal.lower()
                ):
                    return _error(409, "RoleAssignmentExists", "The role assignment already exists.")
            if principal.lower() not in {sp["id"].lower() for sp in self.service_principals.values()}:
                return _error(400, "PrincipalNotFound", "Principal %s does not exist in the directory." % principal)
            self.add_assignment(scope, role, principal, name)
            return 201, copy.deepcopy(self.assignments[assignment_id.lower()])
        if method == "DELETE":
            if existing is None:
                return 204, None
            del self.assignments[assignment_id.lower()]
            return 200, existing
        if method == "GET":
            if existing is None:
                return _error(404, "RoleAssignmentNotFound", "The role assignment '%s' is not found." % name)
            return 200, copy.deepcopy(existing)
        return _error(405, "MethodNotAllowed", "Method not faked.")


def _covers(outer, inner):
    outer, inner = outer.rstrip("/").lower(), inner.rstrip("/").lower()
    return inner == outer or inner.startswith(outer + "/")


# Entra ID (sign-in), the metadata discovery endpoint and the token check: what a real ansible-playbook run needs.

GRAPH_PREFIX = "/graph"
TOKEN_LIFETIME_SECONDS = 3600
_TENANT_PATH_RE = re.compile(r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)$")


def _entra_error(status, error, code, description):
    # Entra ID's OAuth2 error body (RFC 6749 with its AADSTS code first in error_description).
    return status, {
        "error": error,
        "error_description": "AADSTS%d: %s" % (code, description),
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def metadata_document(fake: FakeAzure) -> list:
    """The metadata discovery answer (api-version 2022-09-01 shape): one cloud, every endpoint on this server."""
    base = fake.base_url
    host = urlparse(base).hostname
    return [
        {
            "name": "SegmentsLocalFake",
            "portal": base + "/portal",
            "authentication": {
                "loginEndpoint": base + "/",
                "audiences": [base + "/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "resourceManager": base + "/",
            "microsoftGraphResourceId": base + GRAPH_PREFIX + "/",
            "graph": base + GRAPH_PREFIX + "/",
            "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.%s" % host},
        }
    ]


def openid_configuration(fake: FakeAzure, tenant: str):
    if tenant.lower() not in (fake.tenant_id.lower(), "organizations"):
        return _entra_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant)
    issuer_tenant = fake.tenant_id
    base = "%s/%s" % (fake.base_url, issuer_tenant)
    return 200, {
        "token_endpoint": base + "/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": fake.base_url + "/%s/discovery/v2.0/keys" % issuer_tenant,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": base + "/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "tenant_region_scope": "EU",
    }


def _audiences(fake: FakeAzure) -> dict:
    """{audience without a trailing '/': the service} for the two resources the fake serves."""
    return {fake.base_url: "arm", fake.base_url + GRAPH_PREFIX: "graph"}


def issue_token(fake: FakeAzure, tenant: str, form: dict):
    """The client-credentials grant (POST /{tenant}/oauth2/v2.0/token), with Entra ID's documented errors."""
    if tenant.lower() != fake.tenant_id.lower():
        return _entra_error(400, "invalid_request", 90002, "Tenant '%s' not found." % tenant)
    if form.get("grant_type") != "client_credentials":
        return _entra_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type '%s'." % form.get("grant_type"),
        )
    if form.get("client_id") != fake.client_id:
        return _entra_error(
            400,
            "unauthorized_client",
            700016,
            "Application with identifier '%s' was not found in the directory '%s'." % (form.get("client_id"), tenant),
        )
    if form.get("client_secret") != fake.client_secret:
        return _entra_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
            "not the client secret ID, for a secret added to app '%s'." % fake.client_id,
        )
    scopes = (form.get("scope") or "").split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        return _entra_error(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope %s is not valid. Client credential flows must have a scope value with "
            "/.default suffixed to the resource identifier (application ID URI)." % (form.get("scope") or ""),
        )
    audience = scopes[0][: -len("/.default")].rstrip("/")
    if audience not in _audiences(fake):
        return _entra_error(
            400,
            "invalid_resource",
            500011,
            "The resource principal named %s was not found in the tenant named %s." % (audience, tenant),
        )
    now = int(time.time())
    claims = {
        "aud": audience + "/",
        "iss": "%s/%s/" % (fake.base_url, fake.tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "tid": fake.tenant_id,
        "appid": fake.client_id,
        "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, fake.client_id)),
        "jti": str(uuid.uuid4()),
    }
    token = "%s.%s.%s" % (_b64({"typ": "JWT", "alg": "none"}), _b64(claims), _b64({"fake": True}))
    fake.tokens[token] = (audience, claims["exp"])
    return 200, {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "ext_expires_in": TOKEN_LIFETIME_SECONDS,
        "access_token": token,
    }


def token_valid(fake: FakeAzure, authorization: str, service: str) -> bool:
    """True if authorization carries a bearer token good for service ('arm' or 'graph')."""
    if not authorization.startswith("Bearer "):
        return False
    if not fake.check_tokens:
        return True
    audience, expires = fake.tokens.get(authorization[len("Bearer ") :], (None, 0))
    return expires > time.time() and _audiences(fake).get(audience) == service


# The /_fake control calls: seeding and inspection for tests and the demo.


def control(fake: FakeAzure, method: str, path: str, query: dict, body):
    body = body if isinstance(body, dict) else {}
    if path == "/_fake/health":
        return 200, {"ok": True}
    if path == "/_fake/requests" and method == "GET":
        return 200, {"requests": [list(request) for request in fake.requests]}
    if path == "/_fake/state" and method == "GET":
        return 200, {
            "tenant_id": fake.tenant_id,
            "accounts": sorted(account["id"] for account in fake.accounts.values()),
            "assignments": [copy.deepcopy(item) for item in fake.assignments.values()],
            "service_principals": copy.deepcopy(list(fake.service_principals.values())),
            "forbidden": sorted(fake.forbidden),
        }
    if path == "/_fake/accounts" and method == "POST":
        if not body.get("name"):
            return 400, {"error": "name is required"}
        account_id = fake.add_account(
            body.get("subscription_id") or fake.default_subscription,
            body.get("resource_group") or fake.default_resource_group,
            body["name"],
            kind=body.get("kind") or "StorageV2",
            properties=body.get("properties"),
            blob_properties=body.get("blob_properties"),
        )
        return 200, {"id": account_id}
    if path == "/_fake/assignments" and method == "POST":
        missing = [key for key in ("scope", "role_definition_id", "principal_id") if not body.get(key)]
        if missing:
            return 400, {"error": "%s required" % ", ".join(missing)}
        assignment_id = fake.add_assignment(
            body["scope"], body["role_definition_id"], body["principal_id"], body.get("name")
        )
        return 200, copy.deepcopy(fake.assignments[assignment_id.lower()])
    if path == "/_fake/assignments" and method == "DELETE":
        scope = (query.get("scope") or [""])[0]
        if not scope:
            return 400, {"error": "scope is required"}
        removed = [key for key, item in fake.assignments.items() if _covers(scope, item["properties"]["scope"])]
        for key in removed:
            del fake.assignments[key]
        return 200, {"removed": len(removed)}
    if path == "/_fake/service_principals" and method == "POST":
        if not body.get("appId"):
            return 400, {"error": "appId is required"}
        principal = {
            "id": body.get("id") or str(uuid.uuid4()),
            "appId": body["appId"],
            "displayName": body.get("displayName") or "Segments.ai Blob Link Service",
        }
        fake.service_principals[body["appId"]] = principal
        return 200, copy.deepcopy(principal)
    if path.startswith("/_fake/service_principals/") and method == "DELETE":
        gone = fake.service_principals.pop(path.rsplit("/", 1)[-1], None)
        return 200, {"removed": int(gone is not None)}
    if path == "/_fake/racing_writer" and method == "POST":
        if not body.get("scope"):
            return 400, {"error": "scope is required"}
        fake.racing_writers.setdefault(body["scope"].lower(), []).append(body.get("name") or str(uuid.uuid4()))
        return 200, {"racing_writers": copy.deepcopy(fake.racing_writers)}
    if path == "/_fake/forbidden" and method in ("POST", "DELETE"):
        if not body.get("scope"):
            return 400, {"error": "scope is required"}
        (fake.forbidden.add if method == "POST" else fake.forbidden.discard)(body["scope"].lower())
        return 200, {"forbidden": sorted(fake.forbidden)}
    return 404, {"error": "no such control call: %s %s" % (method, path)}


def _route(fake: FakeAzure, method: str, url, raw: bytes, headers):
    """(status, payload, content type) for one request; the lock is held."""
    path = unquote(url.path)
    query = parse_qs(url.query)
    if path.startswith("/_fake"):
        body = _json_or_none(raw)
        return control(fake, method, path, query, body)
    if path == "/metadata/endpoints" and method == "GET":
        if not query.get("api-version"):
            return _error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        return 200, metadata_document(fake)
    tenant_path = _TENANT_PATH_RE.match(path)
    if tenant_path:
        tenant, what = tenant_path.groups()
        if what.startswith("v2.0") and method == "GET":
            return openid_configuration(fake, tenant)
        if what.startswith("oauth2") and method == "POST":
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
            fake.requests.append((method, path, {key: value for key, value in form.items() if key != "client_secret"}))
            return issue_token(fake, tenant, form)
    service = "graph" if path.startswith(GRAPH_PREFIX + "/") else "arm"
    if service == "graph":
        path = path[len(GRAPH_PREFIX) :]
    body = _json_or_none(raw)
    authorized = token_valid(fake, headers.get("Authorization") or "", service)
    fake.requests.append((method, path, copy.deepcopy(body)))
    scope = path[: path.lower().index(_ASSIGNMENTS)] if _ASSIGNMENTS in path.lower() else None
    if method == "PUT" and scope and fake.racing_writers.get(scope.lower()) and authorized:
        properties = (body or {}).get("properties") or {}
        racing_name = fake.racing_writers[scope.lower()].pop(0)
        fake.add_assignment(
            scope, properties.get("roleDefinitionId", ""), properties.get("principalId", ""), racing_name
        )
    return fake.handle(method, path, query, body, authorized)


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def serve(fake: FakeAzure, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
    """Start the fake on host:port (0: a free port) in a thread, over TLS when given a server context; returns
    (server, base_url). Stop with server.shutdown()."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with fake.lock:
                status, payload = _route(fake, self.command, url, raw, self.headers)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _answer

        def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
            if fake.verbose:
                super().log_message(format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    fake.base_url = "%s://%s:%d" % (scheme, host, server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, fake.base_url


def make_certificates(folder: str, name: str, host: str = "127.0.0.1") -> dict:
    """A CA and a server certificate it signs for host (and localhost), made now; returns the paths of the CA
    (ca), the server's certificate and key in one file (server), and a bundle of certifi's roots plus the CA
    (bundle), the file to give REQUESTS_CA_BUNDLE so that other HTTPS hosts stay trusted too."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    lifetime = datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "segments.cloud Azure fake CA (tests only)")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list = [x509.DNSName("localhost")]
    try:
        names.insert(0, x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.insert(0, x509.DNSName(host))
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    os.makedirs(folder, exist_ok=True)
    paths = {
        "ca": os.path.join(folder, name + "-ca.pem"),
        "server": os.path.join(folder, name + "-server.pem"),
        "bundle": os.path.join(folder, name + "-ca-bundle.pem"),
    }
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    server_pem = server_cert.public_bytes(serialization.Encoding.PEM) + server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        import certifi

        with open(certifi.where(), "rb") as roots:
            bundle = roots.read().rstrip(b"\n") + b"\n" + ca_pem
    except ImportError:
        bundle = ca_pem
    for key, content in (("server", server_pem), ("ca", ca_pem), ("bundle", bundle)):
        temporary = paths[key] + ".tmp"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(content)
        os.replace(temporary, paths[key])
    return paths


def server_context(certificates: dict) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificates["server"])
    return context


def main():
    parser = argparse.ArgumentParser(
        description="A fake of Azure Resource Manager, Microsoft Graph and Entra ID sign-in."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert-dir", required=True, help="where the CA, the server certificate and the bundle go")
    parser.add_argument("--tenant", default="72f988bf-86f1-41af-91ab-2d7cd011db47")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--subscription", required=True, help="the subscription of the seeded accounts")
    parser.add_argument("--resource-group", required=True, help="the resource group of the seeded accounts")
    parser.add_argument("--accounts", default="", help="storage accounts to seed, separated by spaces or commas")
    parser.add_argument(
        "--blob-endpoint",
        default="https://{account}.blob.core.windows.net/",
        help="each account's primaryEndpoints.blob, {account} standing for its name (the emulator's, locally)",
    )
    parser.add_argument("--verbose", action="store_true")
    arguments = parser.parse_args()
    fake = FakeAzure(arguments.tenant)
    fake.client_id, fake.client_secret, fake.check_tokens = arguments.client_id, arguments.client_secret, True
    fake.default_subscription, fake.default_resource_group = arguments.subscription, arguments.resource_group
    fake.blob_endpoint = arguments.blob_endpoint
    fake.verbose = arguments.verbose
    for name in re.split(r"[\s,]+", arguments.accounts.strip()):
        if name:
            fake.add_account(arguments.subscription, arguments.resource_group, name)
    certificates = make_certificates(arguments.cert_dir, "azure-fake-%d" % arguments.port, arguments.host)
    server, url = serve(fake, arguments.host, arguments.port, server_context(certificates))
    print("fake Azure (ARM, Graph under /graph, Entra ID sign-in) on %s; CA %s" % (url, certificates["ca"]), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
