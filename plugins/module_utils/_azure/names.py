# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure names, pure: storage account and container name rules, ARM scopes and the deterministic role-assignment name.

No I/O. Every check returns None or a sentence that names the value and says what to change."""

from __future__ import annotations

import re
import uuid

# What Segments.ai asks of an Azure customer (its "Cloud integrations" page, Azure section).
SEGMENTS_APP_ID = "d47021c7-05d1-44c3-a594-93c2c30c68fc"
SEGMENTS_APP_NAME = "Segments.ai Blob Link Service"
STORAGE_BLOB_DATA_READER_ROLE_ID = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"

# Storage account names are one DNS label of <account>.blob.core.windows.net: 3 to 24 lowercase letters and digits.
_ACCOUNT_NAME_RE = re.compile(r"[a-z0-9]{3,24}", re.ASCII)
# Container names: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
_CONTAINER_NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}", re.ASCII)
_GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE)
# Resource group names: 1 to 90 letters, digits, '_', '-', '.', '(' and ')', not ending in '.'.
_RESOURCE_GROUP_RE = re.compile(r"[\w().-]{0,89}[\w()-]")

# A fixed namespace, so that the same scope, role and principal always give the same assignment name, on any machine.
ROLE_ASSIGNMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://segments.ai/segments.cloud/azure-role-assignment")


# Each rule's sentence, naming the value (%r) that breaks it.
_ACCOUNT_NAME_RULE = (
    "storage account name %r is not a valid Azure storage account name: use 3 to 24 lowercase letters and "
    "digits only (no hyphens, dots or capitals)."
)
_CONTAINER_NAME_RULE = (
    "container name %r is not a valid Azure blob container name: use 3 to 63 lowercase letters, digits and "
    "single hyphens, starting and ending with a letter or digit."
)
_GUID_RULE = "%s %r is not a GUID such as 00000000-0000-0000-0000-000000000000."
_RESOURCE_GROUP_RULE = (
    "resource group name %r is not valid: use 1 to 90 letters, digits, '_', '-', '.', '(' and ')', not ending in '.'."
)


def _fullmatch_problem(pattern, value, rule: str, *named) -> str | None:
    """None if value is a string that pattern matches in full, else rule formatted with named and then value."""
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return rule % (*named, value)


def account_name_problem(name) -> str | None:
    """None if name can be a storage account name, else a sentence saying which rule it breaks."""
    if not isinstance(name, str) or not name:
        return "storage account name %r is empty or not a string." % (name,)
    return _fullmatch_problem(_ACCOUNT_NAME_RE, name, _ACCOUNT_NAME_RULE)


def container_name_problem(name) -> str | None:
    """None if name can be a blob container name, else a sentence saying which rule it breaks."""
    return _fullmatch_problem(_CONTAINER_NAME_RE, name, _CONTAINER_NAME_RULE)


def guid_problem(what, value) -> str | None:
    """None if value is a GUID (any case), else a sentence naming what it should have been."""
    return _fullmatch_problem(_GUID_RE, value, _GUID_RULE, what)


def resource_group_problem(name) -> str | None:
    """None if name can be a resource group name, else a sentence saying which rule it breaks."""
    return _fullmatch_problem(_RESOURCE_GROUP_RE, name, _RESOURCE_GROUP_RULE)


def account_scope(subscription_id: str, resource_group: str, account: str) -> str:
    """The ARM resource ID of a storage account, which is also its role-assignment scope."""
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s" % (
        subscription_id,
        resource_group,
        account,
    )


def container_scope(subscription_id: str, resource_group: str, account: str, container: str) -> str:
    """The ARM scope of one blob container of a storage account (least privilege: the role on that container only)."""
    return "%s/blobServices/default/containers/%s" % (
        account_scope(subscription_id, resource_group, account),
        container,
    )


def role_definition_id(subscription_id: str, role_id: str = STORAGE_BLOB_DATA_READER_ROLE_ID) -> str:
    """The fully qualified role definition ID ARM expects in a role assignment's properties."""
    return "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (subscription_id, role_id)


def _role_guid(role_definition) -> str:
    # Either a bare GUID or a full role definition ID: the GUID is the last path segment.
    return str(role_definition).rstrip("/").rsplit("/", 1)[-1].lower()


def role_assignment_name(scope: str, role_definition, principal_id: str) -> str:
    """The deterministic name (a UUID) of the assignment of role_definition to principal_id at scope.

    Case does not matter (ARM compares IDs without case), nor does a trailing '/' on the scope, nor whether the role is
    given as a GUID or a full definition ID. A second run therefore PUTs the same name and meets
    RoleAssignmentExists."""
    key = "|".join((scope.rstrip("/").lower(), _role_guid(role_definition), principal_id.lower()))
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def same_role(first, second) -> bool:
    """True if two role definitions (GUIDs or full definition IDs) name the same role."""
    return _role_guid(first) == _role_guid(second)


def scope_covers(outer_scope: str, inner_scope: str) -> bool:
    """True if an assignment at outer_scope applies at inner_scope: the same scope or one of its parents
    (case-insensitive)."""
    outer = outer_scope.rstrip("/").lower()
    inner = inner_scope.rstrip("/").lower()
    return outer == "" or inner == outer or inner.startswith(outer + "/")


_SCOPE_RE = re.compile(
    r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/storageAccounts/([^/]+)"
    r"(?:/blobServices/default/containers/([^/]+))?/?",
    re.IGNORECASE,
)


def parse_scope(scope) -> dict | None:
    """{subscription_id, resource_group, account, container (or None)} of an account's or container's scope, as
    account_scope and container_scope write it; None for anything else."""
    match = _SCOPE_RE.fullmatch(scope) if isinstance(scope, str) else None
    if match is None:
        return None
    subscription_id, resource_group, account, container = match.groups()
    return dict(subscription_id=subscription_id, resource_group=resource_group, account=account, container=container)
