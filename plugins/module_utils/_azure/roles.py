# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Role assignments, pure: which assignments are ours, which are inherited, and what a run must create or delete.

An assignment is ARM's JSON (``{"id", "name", "properties": {"scope", "roleDefinitionId", "principalId"}}``). Ours
is an assignment of our role to our principal at exactly the account's (or container's) scope. Another principal's
assignment is never ours, whatever its role; one at a parent scope is inherited: reported, never removed. No I/O here.
"""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    role_assignment_name,
    same_role,
    scope_covers,
)


def _properties(assignment) -> dict:
    return (assignment or {}).get("properties") or {} if isinstance(assignment, dict) else {}


def is_for(assignment, role, principal_id) -> bool:
    """True if assignment gives role to principal_id (IDs compared without case), at any scope."""
    properties = _properties(assignment)
    return (
        same_role(properties.get("roleDefinitionId") or "", role)
        and str(properties.get("principalId") or "").lower() == str(principal_id).lower()
    )


def direct_assignments(assignments, role, principal_id, scope) -> list:
    """Our role for our principal at exactly scope: the only assignments a run may delete."""
    return [
        assignment
        for assignment in assignments or []
        if is_for(assignment, role, principal_id)
        and str(_properties(assignment).get("scope") or "").rstrip("/").lower() == scope.rstrip("/").lower()
    ]


def inherited_assignments(assignments, role, principal_id, scope) -> list:
    """Our role for our principal at a parent of scope (subscription, resource group, account for a container)."""
    return [
        assignment
        for assignment in assignments or []
        if is_for(assignment, role, principal_id)
        and str(_properties(assignment).get("scope") or "").rstrip("/").lower() != scope.rstrip("/").lower()
        and scope_covers(str(_properties(assignment).get("scope") or ""), scope)
    ]


def desired_assignment(scope: str, role_definition: str, principal_id: str) -> dict:
    """The one assignment a present run makes: its deterministic name and properties."""
    return {
        "name": role_assignment_name(scope, role_definition, principal_id),
        "properties": {
            "scope": scope,
            "roleDefinitionId": role_definition,
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
        },
    }


def assignment_summary(assignment) -> dict:
    """The parts of an assignment a result shows: name, scope, role definition and principal."""
    properties = _properties(assignment)
    return {
        "name": (assignment or {}).get("name"),
        "scope": properties.get("scope"),
        "role_definition_id": properties.get("roleDefinitionId"),
        "principal_id": properties.get("principalId"),
    }


def plan(direct, state: str) -> tuple[bool, bool]:
    """(create, delete) for a run in state present or absent, given the direct assignments of ours found."""
    if state == "present":
        return not direct, False
    return False, bool(direct)
