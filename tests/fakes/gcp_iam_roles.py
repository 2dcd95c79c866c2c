# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A fake of the IAM API's projects.roles, for tests and the local demo: no local emulator of it exists.

It implements exactly get, create, patch and undelete of https://cloud.google.com/iam/docs/reference/rest/v1/
projects.roles, with the documented answers:
- get: the role (a soft-deleted one with "deleted": true), or 404 NOT_FOUND;
- create: 409 ALREADY_EXISTS for an ID in use, 400 FAILED_PRECONDITION for the ID of a soft-deleted role,
  400 INVALID_ARGUMENT for a malformed ID or a permission IAM does not know;
- patch: the fields of updateMask; 409 ABORTED when the etag sent is not the role's; 400 FAILED_PRECONDITION
  for a deleted role; 404 NOT_FOUND;
- undelete: 409 ABORTED for a stale etag; 400 FAILED_PRECONDITION for a role that is not deleted; 404 NOT_FOUND;
- 403 PERMISSION_DENIED for every call on a project whose ID starts with "denied-", and for the writes on a project
  whose ID starts with "readonly-" (the caller then has iam.roles.get only).
Errors carry the API's JSON: {"error": {"code", "message", "status"}}.

Not part of the API, for tests only, under /_fake/: GET health; PUT projects/P/roles/ID stores a role as given
(for example soft-deleted); GET log lists the API calls made; DELETE clears everything.

Run: python tests/fakes/gcp_iam_roles.py --port PORT (binds 127.0.0.1).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_ROLE_ID_RE = re.compile(r"[A-Za-z0-9_.]{3,64}")
_ROLE_PATH_RE = re.compile(r"/v1/projects/(?P<project>[^/]+)/roles(?:/(?P<role_id>[^/:]+)(?P<verb>:undelete)?)?")
_FAKE_ROLE_PATH_RE = re.compile(r"/_fake/projects/(?P<project>[^/]+)/roles/(?P<role_id>[^/]+)")
# The permissions this fake's IAM knows; any other is "not valid", as IAM answers for an unknown permission.
KNOWN_PERMISSIONS = frozenset(
    "storage.%s.%s" % (resource, verb)
    for resource in ("objects", "buckets")
    for verb in ("get", "list", "create", "delete", "update", "getIamPolicy", "setIamPolicy")
) | frozenset(["iam.roles.get", "iam.roles.list", "resourcemanager.projects.get"])
_MASKABLE = ("title", "description", "includedPermissions", "stage")


class RolesState:
    """The roles of every project, keyed (project, role_id), and the log of API calls; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.roles: dict = {}
        self.log: list = []
        self._etags = itertools.count(1)

    def new_etag(self) -> str:
        return base64.b64encode(b"etag-%d" % next(self._etags)).decode()


class _ApiError(Exception):
    def __init__(self, code: int, status: str, message: str):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def _permission_check(project: str, writing: bool, permission: str):
    if project.startswith("denied-") or (writing and project.startswith("readonly-")):
        raise _ApiError(
            403,
            "PERMISSION_DENIED",
            "Permission '%s' denied on resource '//iam.googleapis.com/projects/%s' (or it may not exist)."
            % (permission, project),
        )


def _check_permissions(permissions):
    for permission in permissions or []:
        if permission not in KNOWN_PERMISSIONS:
            raise _ApiError(400, "INVALID_ARGUMENT", "Permission %s is not valid." % permission)


def get_role(state: RolesState, project: str, role_id: str) -> dict:
    _permission_check(project, False, "iam.roles.get")
    role = state.roles.get((project, role_id))
    if role is None:
        raise _ApiError(404, "NOT_FOUND", "The role named projects/%s/roles/%s was not found." % (project, role_id))
    return role


def create_role(state: RolesState, project: str, body: dict) -> dict:
    _permission_check(project, True, "iam.roles.create")
    role_id = body.get("roleId")
    if not isinstance(role_id, str) or not _ROLE_ID_RE.fullmatch(role_id):
        raise _ApiError(400, "INVALID_ARGUMENT", "The role_id (%s) is not valid." % role_id)
    fields = body.get("role") or {}
    _check_permissions(fields.get("includedPermissions"))
    existing = state.roles.get((project, role_id))
    if existing is not None and existing.get("deleted"):
        raise _ApiError(
            400,
            "FAILED_PRECONDITION",
            "You can't create a role with role_id (%s) where there is an existing role with that role_id in a "
            "deleted state." % role_id,
        )
    if existing is not None:
        raise _ApiError(409, "ALREADY_EXISTS", "A role named %s in projects/%s already exists." % (role_id, project))
    role = {key: fields[key] for key in _MASKABLE if key in fields}
    role.update(name="projects/%s/roles/%s" % (project, role_id), etag=state.new_etag())
    state.roles[(project, role_id)] = role
    return role


def _etag_check(role: dict, etag):
    if etag is not None and etag != role.get("etag"):
        raise _ApiError(
            409,
            "ABORTED",
            "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
        )


def patch_role(state: RolesState, project: str, role_id: str, body: dict, update_mask: str | None) -> dict:
    _permission_check(project, True, "iam.roles.update")
    role = get_role(state, project, role_id)
    if role.get("deleted"):
        raise _ApiError(400, "FAILED_PRECONDITION", "You can't update a deleted role.")
    _etag_check(role, body.get("etag"))
    fields = [field for field in (update_mask or ",".join(_MASKABLE)).split(",") if field]
    unknown = [field for field in fields if field not in _MASKABLE]
    if unknown:
        raise _ApiError(400, "INVALID_ARGUMENT", "Invalid update_mask field: %s" % unknown[0])
    if "includedPermissions" in fields:
        _check_permissions(body.get("includedPermissions"))
    updated = dict(role)
    for field in fields:
        if field in body:
            updated[field] = body[field]
        else:
            updated.pop(field, None)
    updated["etag"] = state.new_etag()
    state.roles[(project, role_id)] = updated
    return updated


def undelete_role(state: RolesState, project: str, role_id: str, body: dict) -> dict:
    _permission_check(project, True, "iam.roles.undelete")
    role = get_role(state, project, role_id)
    _etag_check(role, body.get("etag"))
    if not role.get("deleted"):
        raise _ApiError(400, "FAILED_PRECONDITION", "The role is not deleted.")
    undeleted = {key: value for key, value in role.items() if key != "deleted"}
    undeleted["etag"] = state.new_etag()
    state.roles[(project, role_id)] = undeleted
    return undeleted


class _Handler(BaseHTTPRequestHandler):
    state: RolesState

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        pass

    def _answer(self, code: int, body) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise _ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
        return body if isinstance(body, dict) else {}

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/_fake"):
                self._answer(*self._control(method, url.path))
                return
            match = _ROLE_PATH_RE.fullmatch(url.path)
            if match is None:
                raise _ApiError(404, "NOT_FOUND", "No such method: %s %s" % (method, url.path))
            project, role_id, verb = match.group("project"), match.group("role_id"), match.group("verb")
            body = self._body() if method in ("POST", "PATCH") else {}
            with self.state.lock:
                self.state.log.append("%s %s" % (method, url.path))
                if method == "GET" and role_id and not verb:
                    answer = get_role(self.state, project, role_id)
                elif method == "POST" and not role_id:
                    answer = create_role(self.state, project, body)
                elif method == "PATCH" and role_id and not verb:
                    mask = (parse_qs(url.query).get("updateMask") or [None])[0]
                    answer = patch_role(self.state, project, role_id, body, mask)
                elif method == "POST" and role_id and verb == ":undelete":
                    answer = undelete_role(self.state, project, role_id, body)
                else:
                    raise _ApiError(404, "NOT_FOUND", "No such method: %s %s" % (method, url.path))
            self._answer(200, answer)
        except _ApiError as error:
            self._answer(error.code, {"error": {"code": error.code, "message": error.message, "status": error.status}})

    def _control(self, method: str, path: str) -> tuple:
        with self.state.lock:
            if path == "/_fake/health":
                return 200, {"ok": True}
            if path == "/_fake/log":
                return 200, {"calls": list(self.state.log)}
            if path == "/_fake" and method == "DELETE":
                self.state.roles.clear()
                self.state.log.clear()
                return 200, {}
            match = _FAKE_ROLE_PATH_RE.fullmatch(path)
            if match and method == "PUT":
                project, role_id = match.group("project"), match.group("role_id")
                role = dict(self._body(), name="projects/%s/roles/%s" % (project, role_id))
                role["etag"] = self.state.new_etag()
                self.state.roles[(project, role_id)] = role
                return 200, role
        raise _ApiError(404, "NOT_FOUND", "No such control call: %s %s" % (method, path))

    def do_GET(self):  # noqa: N802 (BaseHTTPRequestHandler's name)
        self._handle("GET")

    def do_POST(self):  # noqa: N802
        self._handle("POST")

    def do_PATCH(self):  # noqa: N802
        self._handle("PATCH")

    def do_PUT(self):  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self):  # noqa: N802
        self._handle("DELETE")


def make_server(host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A fake IAM roles server on host:port (0: a free port the OS picks), not yet serving; state in server.state."""
    state = RolesState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.state = state  # type: ignore[attr-defined]
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    server = make_server(arguments.host, arguments.port)
    print("fake IAM roles API on http://%s:%d" % server.server_address, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
