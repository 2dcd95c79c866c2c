# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The onboarding role's check of the options it gives every bucket, before anything is read or written.

Each apply module refuses a bad option on its own, but the role runs them one after the other: a bad CORS origin
found by the CORS step would come after the policy or IAM step had written. So the role asks the modules' own
validators first, through the segments.cloud.onboard_input_problems filter. Pure; no I/O.
"""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._azure import cors as azure_cors
from ansible_collections.segments.cloud.plugins.module_utils._azure import names as azure_names
from ansible_collections.segments.cloud.plugins.module_utils._gcs import cors as gcs_cors
from ansible_collections.segments.cloud.plugins.module_utils._gcs import custom_role
from ansible_collections.segments.cloud.plugins.module_utils._gcs import iam as gcs_iam
from ansible_collections.segments.cloud.plugins.module_utils._s3 import cors as s3_cors
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import validate_principal


def onboard_input_problems(
    s3_buckets, gcs_buckets, principal, origins, gcs_member, gcs_role, gcs_role_id=None, gcs_role_permissions=None
):
    """The problems (sentences with their remedy) of the options the role passes to the S3 and GCS apply modules,
    as those modules would state them; only the clouds that have buckets are checked. An empty gcs_role means the
    custom role the role manages, so its ID and permissions are checked instead."""
    problems = []
    if s3_buckets:
        problems.append(validate_principal(principal))
        problems.append(s3_cors.validate_origins(origins))
    if gcs_buckets:
        problems.append(gcs_cors.validate_origins(origins))
        if gcs_member:
            problems.append(gcs_iam.validate_member(gcs_member))
        if gcs_role:
            problems.append(gcs_iam.validate_role(gcs_role))
        else:
            problems.append(custom_role.validate_role_id(gcs_role_id or custom_role.SEGMENTS_ROLE_ID))
            if gcs_role_permissions is not None:
                problems.append(custom_role.validate_permissions(gcs_role_permissions))
    return [problem for problem in problems if problem]


AZURE_ACCOUNT_KEYS = ("name", "resource_group", "subscription_id", "container")


def _azure_entry_problems(index, entry):
    """The problems of one entry of segments_azure_accounts (a name, or a dict with the keys above)."""
    where = "segments_azure_accounts[%d]" % index
    if isinstance(entry, str):
        entry = {"name": entry}
    elif not isinstance(entry, dict):
        return ["%s must be a storage account name or a dict with name, got %r." % (where, entry)]
    unknown = sorted(set(entry) - set(AZURE_ACCOUNT_KEYS))
    if unknown:
        return [
            "%s has unknown key(s) %s: an entry takes %s."
            % (where, ", ".join(map(str, unknown)), ", ".join(AZURE_ACCOUNT_KEYS))
        ]
    name_problem = azure_names.account_name_problem(entry.get("name"))
    if name_problem:
        return ["%s: %s" % (where, name_problem)]
    problems = []
    if entry.get("resource_group") is not None:
        problems.append(azure_names.resource_group_problem(entry["resource_group"]))
    if entry.get("subscription_id") is not None:
        problems.append(azure_names.guid_problem("subscription_id", entry["subscription_id"]))
    if entry.get("container") is not None:
        problems.append(azure_names.container_name_problem(entry["container"]))
    return ["%s (%s): %s" % (where, entry["name"], problem) for problem in problems if problem]


def azure_input_problems(accounts, default_resource_group=None, origins=None, app_id=None, role=None):
    """The problems (sentences with their remedy) of the role's Azure inputs, before any call: each entry of
    segments_azure_accounts, segments_azure_resource_group, the CORS origins, the app ID and the role, as the Azure
    modules would state them. Nothing is checked without accounts."""
    if not accounts:
        return []
    if not isinstance(accounts, list):
        return ["segments_azure_accounts must be a list of storage account names or dicts."]
    problems = []
    if default_resource_group:
        problems.append(azure_names.resource_group_problem(default_resource_group))
    for index, entry in enumerate(accounts):
        problems.extend(_azure_entry_problems(index, entry))
    if origins is not None:
        problems.append(azure_cors.origins_problem(origins))
    if app_id is not None:
        problems.append(azure_names.guid_problem("segments_azure_app_id", app_id))
    if role is not None:
        # A GUID, or a full role definition ID ending in one.
        problems.append(azure_names.guid_problem("segments_azure_role", str(role).rstrip("/").rsplit("/", 1)[-1]))
    return [problem for problem in problems if problem]
