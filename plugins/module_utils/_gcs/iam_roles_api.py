# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM API's projects.roles (get, create, patch, undelete) over HTTP, through google-auth's authorized
session, and the one place where its errors become messages. The pure decisions live in custom_role.py; the
write goes through the one converge engine, with the role's etag as its precondition.

The endpoint is an option, so that the tests can point it at tests/fakes/gcp_iam_roles.py: no local emulator of
the IAM roles API exists.
"""

from __future__ import annotations

try:
    import requests
    from google.auth import exceptions as auth_exceptions

    HAS_GOOGLE_AUTH = True
    TRANSPORT_ERRORS: tuple = (requests.exceptions.RequestException, auth_exceptions.GoogleAuthError)
except ImportError:
    # gcs_client_for_module() reports the missing library before any of this is used.
    HAS_GOOGLE_AUTH = False
    TRANSPORT_ERRORS = ()

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart, WriteConflict
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import GcsSetupError, _credentials
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import (
    plan_role,
    role_meaning,
    same_permissions,
)

DEFAULT_IAM_ENDPOINT = "https://iam.googleapis.com"
IAM_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
ROLE_PERMISSIONS = ("iam.roles.get", "iam.roles.create", "iam.roles.update", "iam.roles.undelete")
ROLE_INFO_MODULE = "segments.cloud.segments_gcs_role (check mode)"
# The IAM permission each call needs, so that a 403 can name it.
PERMISSION_FOR_ACTION = {
    "read custom role": "iam.roles.get",
    "create custom role": "iam.roles.create",
    "update custom role": "iam.roles.update",
    "undelete custom role": "iam.roles.undelete",
}
_UPDATE_MASK = "title,description,includedPermissions,stage"


def permissions_remedy(project: str, permission: str | None = None) -> str:
    """Both ways out of a missing IAM permission: grant it, or create the role by hand and pass it as role."""
    missing = (
        "%s (and all of %s)" % (permission, ", ".join(ROLE_PERMISSIONS)) if permission else ", ".join(ROLE_PERMISSIONS)
    )
    return (
        "Either grant the caller %s on project %s (roles/iam.roleAdmin holds them), or create a custom role "
        "holding only storage.objects.get yourself and pass it as role (segments_gcs_role in the onboard role), "
        "which skips this step" % (missing, project)
    )


def iam_session(params):
    """An authorized HTTP session for the IAM API from the GCS modules' authentication options (scope cloud-platform).

    With a non-default iam_endpoint (a fake) and no application default credentials, requests are anonymous."""
    if not HAS_GOOGLE_AUTH:
        raise GcsSetupError("the python library google-auth is required: pip install google-auth")
    from google.auth.transport.requests import AuthorizedSession

    endpoint = params.get("iam_endpoint") or DEFAULT_IAM_ENDPOINT
    credential_params = dict(params, scopes=IAM_SCOPES)
    credential_params["api_endpoint"] = None if endpoint == DEFAULT_IAM_ENDPOINT else endpoint
    try:
        credentials = _credentials(credential_params)
    except (ValueError, OSError, auth_exceptions.GoogleAuthError) as error:
        raise GcsSetupError(
            "could not load GCP credentials (auth_kind=%s): %s" % (params["auth_kind"], error)
        ) from None
    return AuthorizedSession(credentials)


def _api_error(answer) -> tuple:
    """(status, message) of an IAM API error answer: the error's status word (ALREADY_EXISTS, ABORTED, ...) and
    its message, or the HTTP reason when the body is not the API's JSON."""
    try:
        error = answer.json().get("error") or {}
    except ValueError:
        error = {}
    return error.get("status") or "", (error.get("message") or answer.reason or "").rstrip(".")


class RolesApi:
    """projects.roles of one project. Each call returns the role as a dict, or raises BucketError (naming the project)
    or WriteConflict (the precondition failed: an etag that moved, an ID created or deleted meanwhile)."""

    def __init__(self, session, project: str, endpoint: str | None = None, timeout: float = 60.0):
        self.session = session
        self.project = project
        self.base = (endpoint or DEFAULT_IAM_ENDPOINT).rstrip("/")
        if "://" not in self.base:
            self.base = "http://" + self.base
        self.timeout = timeout

    def _url(self, role_id: str | None = None, suffix: str = "") -> str:
        url = "%s/v1/projects/%s/roles" % (self.base, self.project)
        return url + ("/%s%s" % (role_id, suffix) if role_id else "")

    def _call(self, action: str, method: str, url: str, conflicts=(), missing_ok=False, **kwargs):
        try:
            answer = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except TRANSPORT_ERRORS as error:
            raise BucketError(
                self.project,
                action,
                "could not reach the IAM API at %s: %s" % (self.base, type(error).__name__),
                "Check the network and iam_endpoint, then run again",
            ) from None
        if answer.status_code < 300:
            return answer.json()
        status, message = _api_error(answer)
        if missing_ok and answer.status_code == 404:
            return None
        if (answer.status_code, status) in conflicts:
            raise WriteConflict(
                BucketError(self.project, action, "refused (%s %s): %s" % (answer.status_code, status, message))
            )
        raise self._error(action, answer.status_code, status, message)

    def _error(self, action: str, code: int, status: str, message: str) -> BucketError:
        if code == 403:
            permission = PERMISSION_FOR_ACTION.get(action)
            return BucketError(
                self.project,
                action,
                "permission denied (403 %s): %s" % (status, message),
                permissions_remedy(self.project, permission),
            )
        if code == 401:
            return BucketError(
                self.project, action, "the credentials were rejected (401)", "Refresh the GCP credentials and run again"
            )
        if code == 404:
            return BucketError(
                self.project,
                action,
                "not found (404): %s" % message,
                "Check the project ID and that the IAM API is enabled in it",
            )
        if code == 400:
            return BucketError(
                self.project,
                action,
                "the IAM API refused the request (400 %s): %s" % (status, message),
                "Check role_id and permissions (every permission must exist in IAM and be allowed in custom roles)",
            )
        return BucketError(
            self.project,
            action,
            "the IAM API answered %s %s: %s" % (code, status, message),
            "Run again; if it persists, check the service status",
        )

    def get(self, role_id: str):
        """The role (soft-deleted ones too, with deleted true), or None when no role has this ID."""
        return self._call("read custom role", "GET", self._url(role_id), missing_ok=True)

    def create(self, role_id: str, role: dict) -> dict:
        """Create the role; an ID that exists (409 ALREADY_EXISTS) or was just deleted (400) is a WriteConflict."""
        return self._call(
            "create custom role",
            "POST",
            self._url(),
            conflicts=((409, "ALREADY_EXISTS"), (400, "FAILED_PRECONDITION")),
            json={"roleId": role_id, "role": _writable(role)},
        )

    def patch(self, role_id: str, role: dict, etag: str) -> dict:
        """Update title, description, permissions and stage, guarded by etag (409 ABORTED when it moved)."""
        body = dict(_writable(role), etag=etag)
        return self._call(
            "update custom role",
            "PATCH",
            self._url(role_id),
            conflicts=((409, "ABORTED"), (400, "FAILED_PRECONDITION")),
            params={"updateMask": _UPDATE_MASK},
            json=body,
        )

    def undelete(self, role_id: str, etag: str) -> dict:
        """Undelete a soft-deleted role, guarded by etag; a role that is not deleted (400) is a WriteConflict."""
        return self._call(
            "undelete custom role",
            "POST",
            self._url(role_id, ":undelete"),
            conflicts=((409, "ABORTED"), (400, "FAILED_PRECONDITION")),
            json={"etag": etag},
        )


def _writable(role: dict) -> dict:
    return {key: role[key] for key in ("title", "description", "includedPermissions", "stage") if key in role}


class CustomRolePart(ManagedPart):
    """The custom role as a part for the converge engine: read with get, planned by plan_role, written by create,
    undelete and patch with the etag read."""

    def __init__(self, api: RolesApi, role_id: str, wanted: dict):
        super().__init__(api.project, "custom role", ROLE_INFO_MODULE, compare_before_write=False)
        self.api = api
        self.role_id = role_id
        self.wanted = wanted

    def read(self):
        return self.api.get(self.role_id)

    def merge(self, state):
        return plan_role(state, self.wanted, self.api.project, self.role_id)

    def write(self, desired, merged_into):
        if merged_into is None:
            self.api.create(self.role_id, desired)
            return
        role = merged_into
        if role.get("deleted"):
            role = self.api.undelete(self.role_id, role.get("etag"))
        if not same_permissions(role.get("includedPermissions"), desired.get("includedPermissions")) or any(
            (role.get(key) or "") != (desired.get(key) or "") for key in ("title", "description")
        ):
            self.api.patch(self.role_id, desired, role.get("etag"))

    def equal(self, first, second):
        return role_meaning(first) == role_meaning(second)
