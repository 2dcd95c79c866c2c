# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Microsoft Graph and ARM calls for segments_azure_access: the Segments app's service principal, the tenant ID,
and the role assignment of one scope as a managed part for the converge engine.

A role assignment PUT is idempotent by name, and the name is deterministic (names.role_assignment_name), so a second
run meets 409 RoleAssignmentExists, recognised by its code and read back as in place. A 400
RoleAssignmentUpdateNotPermitted (the name is taken by another principal, role or scope) fails the account.
"""

from __future__ import annotations

import base64
import json
import threading

from ansible_collections.segments.cloud.plugins.module_utils._azure.client import AUTHORIZATION_API_VERSION
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import (
    AZURE_INFO_MODULE,
    ROLE_ASSIGNMENT_EXISTS,
    AccountError,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.roles import (
    desired_assignment,
    direct_assignments,
    inherited_assignments,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart

ROLE_ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"
TENANT_LABEL = "tenant"


def tenant_from_token(token: str) -> str | None:
    """The tid claim of an Entra ID access token (a JWT), or None when the token carries none."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload.encode("ascii"))).get("tid")
    except (IndexError, ValueError, UnicodeError, AttributeError):
        return None


class ServicePrincipal:
    """The Segments app's service principal in the caller's tenant, looked up once per run (and created when
    allowed)."""

    def __init__(self, clients, app_id: str, create: bool, check_mode: bool, missing_ok: bool = False):
        self.clients = clients
        self.missing_ok = missing_ok
        self.app_id = app_id
        self.create = create
        self.check_mode = check_mode
        self._lock = threading.Lock()
        self._resolved = False
        self.object_id = None
        self.created = False
        self.display_name = None

    def resolve(self, account: str) -> str | None:
        """The object ID of the service principal; None in check mode when it would be created. Errors name account."""
        with self._lock:
            if self._resolved:
                return self.object_id
            _status, payload = self.clients.graph.call(
                account,
                "look up service principal",
                "GET",
                "/v1.0/servicePrincipals",
                params={"$filter": "appId eq '%s'" % self.app_id},
            )
            found = ((payload or {}).get("value") or [None])[0]
            if found is None:
                if self.missing_ok:
                    self._resolved = True  # nothing can be assigned to a principal that does not exist
                    return None
                if not self.create:
                    raise AccountError(
                        account,
                        "look up service principal",
                        "the Segments.ai app (application ID %s) has no service principal in this tenant" % self.app_id,
                        "Set create_service_principal: true, or run 'az ad sp create --id %s' once" % self.app_id,
                    )
                if self.check_mode:
                    self.created = True
                    self._resolved = True
                    return None
                _status, found = self.clients.graph.call(
                    account, "create service principal", "POST", "/v1.0/servicePrincipals", body={"appId": self.app_id}
                )
                self.created = True
            self.object_id = (found or {}).get("id")
            self.display_name = (found or {}).get("displayName")
            self._resolved = True
            return self.object_id


def tenant_id(clients, account: str) -> str | None:
    """The tenant of the credentials: the tenant option, else the tid claim of the ARM token."""
    if clients.params.get("tenant"):
        return clients.params["tenant"]
    try:
        token = clients.entra_credential().get_token(clients.arm_scope).token
    except Exception as error:  # pylint: disable=broad-exception-caught
        raise AccountError(
            account,
            "read tenant ID",
            "no token could be had (%s)" % type(error).__name__,
            "Set tenant (or AZURE_TENANT)",
        ) from None
    return tenant_from_token(token)


class RoleAssignmentPart(ManagedPart):
    """Our role assignment at one scope. The state is the list of assignments of our principal at and above the
    scope."""

    def __init__(self, clients, account: str, scope: str, role_definition: str, principal_id: str | None, state: str):
        super().__init__(account, "role assignment", AZURE_INFO_MODULE, compare_before_write=True)
        self.clients = clients
        self.account = account
        self.scope = scope
        self.role_definition = role_definition
        self.principal_id = principal_id
        self.state = state

    def read(self):
        if self.principal_id is None:
            return []  # check mode with a service principal that does not exist yet: it can hold nothing
        _status, payload = self.clients.arm.call(
            self.account,
            "read role assignments",
            "GET",
            self.scope + ROLE_ASSIGNMENTS,
            params={
                "api-version": AUTHORIZATION_API_VERSION,
                "$filter": "atScope() and assignedTo('%s')" % self.principal_id,
            },
        )
        return sorted((payload or {}).get("value") or [], key=lambda assignment: str(assignment.get("id")))

    def direct(self, state):
        return direct_assignments(state, self.role_definition, self.principal_id or "", self.scope)

    def inherited(self, state):
        return inherited_assignments(state, self.role_definition, self.principal_id or "", self.scope)

    def merge(self, state):
        direct = self.direct(state)
        if self.state == "present":
            if direct:
                return state, False
            return state + [desired_assignment(self.scope, self.role_definition, self.principal_id or "")], True
        if not direct:
            return state, False
        direct_ids = {assignment.get("id") for assignment in direct}
        return [assignment for assignment in state if assignment.get("id") not in direct_ids], True

    def write(self, desired, merged_into):
        if self.state == "present":
            wanted = desired_assignment(self.scope, self.role_definition, self.principal_id)
            self.clients.arm.call(
                self.account,
                "create role assignment",
                "PUT",
                "%s%s/%s" % (self.scope, ROLE_ASSIGNMENTS, wanted["name"]),
                params={"api-version": AUTHORIZATION_API_VERSION},
                body={"properties": {key: value for key, value in wanted["properties"].items() if key != "scope"}},
                # The same role for the same principal at the same scope exists (perhaps under another name): in place.
                ok_codes=(ROLE_ASSIGNMENT_EXISTS,),
            )
            return
        for assignment in self.direct(merged_into):
            self.clients.arm.call(
                self.account,
                "delete role assignment",
                "DELETE",
                assignment["id"],
                params={"api-version": AUTHORIZATION_API_VERSION},
            )

    def equal(self, first, second):
        def ids(state):
            return sorted(str(assignment.get("id") or assignment.get("name")) for assignment in state or [])

        return ids(first) == ids(second)
