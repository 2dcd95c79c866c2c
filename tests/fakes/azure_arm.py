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
"""

from __future__ import annotations

import copy
import json
import re
import threading
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
            "properties": properties or {"primaryEndpoints": {"blob": "https://%s.blob.core.windows.net/" % name}},
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


def serve(fake: FakeAzure):
    """Start the fake on 127.0.0.1 on a free port, in a thread; returns (server, base_url). Stop with server.shutdown()."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            authorized = (self.headers.get("Authorization") or "").startswith("Bearer ")
            path = unquote(url.path)
            with fake.lock:
                fake.requests.append((self.command, path, copy.deepcopy(body)))
                status, payload = fake.handle(self.command, path, parse_qs(url.query), body, authorized)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _answer

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]
