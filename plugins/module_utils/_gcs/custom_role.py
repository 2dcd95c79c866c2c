# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The least-privilege custom role Segments.ai asks for, as pure rules: its ID, our marker, the comparison of
permissions, the decision what to write to a role read from the IAM API, and the narrowing of an earlier grant.

A role state is None (no role with that ID) or the role as the IAM API returns it: ``name``, ``title``,
``description``, ``includedPermissions``, ``stage``, ``etag`` and, for a soft-deleted role, ``deleted: true``.
No I/O here; iam_roles_api.py reads and writes.
"""

from __future__ import annotations

import re

from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    DEFAULT_ROLE,
    _holds,
    _is_unconditional_binding_for,
    add_member,
    remove_member,
)

# The one stable ID of the role this collection manages in each project.
SEGMENTS_ROLE_ID = "segmentsObjectReader"
# What Segments.ai's setup page asks the role to hold, and nothing more.
SEGMENTS_PERMISSIONS = ["storage.objects.get"]
# The role the collection granted by default before the custom role: the grant that narrowing replaces.
LEGACY_ROLE = DEFAULT_ROLE
ROLE_TITLE = "Segments.ai object reader"
# Our marker: a role whose title or description holds it was made by this collection and may be corrected.
ROLE_MARKER = "managed by segments.cloud"
ROLE_DESCRIPTION = (
    "Lets Segments.ai read the objects of the buckets it is granted on (storage.objects.get only); " + ROLE_MARKER + "."
)
ROLE_STAGE = "GA"

# The IAM API's rule for a custom role ID: 3 to 64 letters, digits, underscores and periods.
_ROLE_ID_RE = re.compile(r"[A-Za-z0-9_.]{3,64}", re.ASCII)
# service.resource.verb, as every IAM permission is spelled (for example storage.objects.get).
_PERMISSION_RE = re.compile(r"[a-z][a-zA-Z0-9]*\.[a-zA-Z][a-zA-Z0-9]*\.[a-zA-Z][a-zA-Z0-9]*", re.ASCII)
_PROJECT_RE = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]", re.ASCII)


def validate_role_id(role_id) -> str | None:
    """None if role_id is a valid custom role ID, else a sentence saying what is wrong."""
    if isinstance(role_id, str) and _ROLE_ID_RE.fullmatch(role_id):
        return None
    return "role_id %r is not a custom role ID: use 3 to 64 letters, digits, '_' and '.', for example %s." % (
        role_id,
        SEGMENTS_ROLE_ID,
    )


def validate_permissions(permissions) -> str | None:
    """None if permissions is a non-empty list of SERVICE.RESOURCE.VERB names, else a sentence saying what is wrong.
    Whether IAM knows a well-formed permission only the IAM API can say; it refuses an unknown one when asked."""
    if not isinstance(permissions, list) or not permissions:
        return "permissions must be a non-empty list such as [storage.objects.get], got %r." % (permissions,)
    for index, permission in enumerate(permissions):
        if not isinstance(permission, str) or not _PERMISSION_RE.fullmatch(permission):
            return (
                "permissions[%d] %r is not an IAM permission; expected SERVICE.RESOURCE.VERB, such as "
                "storage.objects.get." % (index, permission)
            )
    return None


def validate_project(project) -> str | None:
    """None if project is a GCP project ID, else a sentence saying what is wrong."""
    if isinstance(project, str) and _PROJECT_RE.fullmatch(project):
        return None
    return "project %r is not a GCP project ID; set project (or GCP_PROJECT) to the project of the buckets." % (
        project,
    )


def role_name(project: str, role_id: str = SEGMENTS_ROLE_ID) -> str:
    """The role's resource name, the form a bucket binding and the IAM API use: projects/PROJECT/roles/ID."""
    return "projects/%s/roles/%s" % (project, role_id)


def role_or_default(role, project) -> tuple:
    """(role, problem): role when given, else our custom role in project; problem is a sentence when neither works."""
    if role is not None:
        return role, None
    problem = validate_project(project)
    if problem:
        return None, (
            "the default role is the custom role projects/PROJECT/roles/%s, and %s Or pass role."
            % (SEGMENTS_ROLE_ID, problem)
        )
    return role_name(project), None


def desired_role(permissions=None) -> dict:
    """The role as this collection writes it: our title, our description (with the marker), the permissions sorted."""
    return dict(
        title=ROLE_TITLE,
        description=ROLE_DESCRIPTION,
        includedPermissions=sorted(set(SEGMENTS_PERMISSIONS if permissions is None else permissions)),
        stage=ROLE_STAGE,
    )


def carries_marker(role) -> bool:
    """True if the role's title or description holds our marker (any case): this collection made it."""
    role = role or {}
    return any(ROLE_MARKER in str(role.get(field) or "").lower() for field in ("title", "description"))


def same_permissions(first, second) -> bool:
    """True if two permission lists grant the same: order and repeats ignored."""
    return set(first or []) == set(second or [])


def role_meaning(role):
    """What a role state grants, for comparing two reads: None when absent, else deleted, permissions, title,
    description and stage (the etag and the name say nothing about what it grants)."""
    if role is None:
        return None
    return (
        bool(role.get("deleted")),
        tuple(sorted(set(role.get("includedPermissions") or []))),
        role.get("title") or "",
        role.get("description") or "",
        role.get("stage") or "",
    )


def plan_role(current, wanted: dict, project: str, role_id: str) -> tuple:
    """Decide what to write: (desired_state, needs_write). current is the role as read (None when absent), wanted
    what desired_role() gives. A role deleted in the last days is soft-deleted and its ID cannot be reused, so it is
    undeleted. A role whose permissions differ is corrected only when it carries our marker; otherwise BucketError.
    A role with the right permissions but someone else's title or description is left as it is."""
    if current is None:
        return dict(wanted), True
    deleted = bool(current.get("deleted"))
    if same_permissions(current.get("includedPermissions"), wanted["includedPermissions"]):
        if not deleted:
            return current, False
        undeleted = dict(current)
        undeleted.pop("deleted", None)
        return undeleted, True
    if not carries_marker(current):
        raise BucketError(
            project,
            "check custom role %s" % role_name(project, role_id),
            "a role with this ID exists%s and holds %s, not %s, and its title and description do not carry our "
            "marker '%s', so it is someone else's and is left alone"
            % (
                " (soft-deleted)" if deleted else "",
                ", ".join(sorted(current.get("includedPermissions") or [])) or "no permissions",
                ", ".join(wanted["includedPermissions"]),
                ROLE_MARKER,
            ),
            "Pass another role_id, or pass an existing role that holds only storage.objects.get as role",
        )
    corrected = dict(current)
    corrected.pop("deleted", None)
    corrected.update(wanted)
    return corrected, True


def holds_legacy_grant(policy, member: str) -> bool:
    """True if member is listed in an unconditional binding for the collection's earlier default role."""
    return any(
        _is_unconditional_binding_for(binding, LEGACY_ROLE) and _holds(binding, member)
        for binding in (policy or {}).get("bindings") or []
    )


def narrow_grant(policy, role: str, member: str) -> tuple[dict, bool]:
    """(new_policy, changed): member added to role, and taken out of the unconditional bindings for LEGACY_ROLE, in
    one policy, so one write moves it. Every other member of those bindings, every conditional binding and every
    other role of member are kept; policy is never modified."""
    granted_policy, granted = add_member(policy, role, member)
    narrowed_policy, narrowed = remove_member(granted_policy, LEGACY_ROLE, member)
    return narrowed_policy, granted or narrowed


def roles_beyond(policy, role: str, member: str) -> list:
    """The roles other than role that member holds on the bucket (conditional bindings included), sorted: what it
    holds beyond what Segments needs."""
    return sorted(
        {
            binding.get("role")
            for binding in (policy or {}).get("bindings") or []
            if isinstance(binding, dict) and binding.get("role") != role and _holds(binding, member)
        }
    )
