# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a restore compares and writes on an Azure storage account, pure: how the foreign Blob CORS rules differ
from a backup's, and the state our role assignment goes back to.

A backup (segments_backup of segments_azure_info's audit) holds the CORS list exactly as the service stored it and,
when the audit checked access, ``role_assignment``: our direct assignment at the account's (or container's) scope,
or null when there was none. As segments_gcs_restore does with Segments' IAM grant, the restore puts ours back to
what the backup recorded: made again when it was there, removed when it was not. Other principals' assignments and
inherited ones are never written, so only the CORS rules can hold a foreign change that a restore would undo.
"""

from __future__ import annotations

import json

from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import (
    foreign_rules,
    rules_mean_same,
    split_values,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.restore import labelled_differences, words


def _rule_label(rule) -> str:
    if not isinstance(rule, dict):
        return "CORS rule %s" % json.dumps(rule, sort_keys=True)
    return "CORS rule for %s" % words(sorted(set(split_values(rule.get("allowed_origins")))))


def azure_cors_differences(backup_rules: list | None, current_rules: list | None) -> list:
    """Sentences saying how the CORS rules that are not Segments-only differ between the backup and now, by meaning
    (order, spaces and the case of methods do not count)."""
    return labelled_differences(foreign_rules(backup_rules), foreign_rules(current_rules), _rule_label, rules_mean_same)


def assignment_target(record: dict, options_scope: str | None) -> dict | None:
    """What the restore does with our role assignment: {state, scope, role_definition_id, principal_id (None: look
    the app's service principal up)}; None when the backup holds no role_assignment (the audit did not check access),
    so assignments are left alone. The scope is the backup's assignment's, else the backup's, else options_scope."""
    if "role_assignment" not in record:
        return None
    assignment = record.get("role_assignment")
    if isinstance(assignment, dict) and assignment.get("scope") and assignment.get("principal_id"):
        return dict(
            state="present",
            scope=assignment["scope"],
            role_definition_id=assignment.get("role_definition_id"),
            principal_id=assignment["principal_id"],
        )
    return dict(state="absent", scope=record.get("scope") or options_scope, role_definition_id=None, principal_id=None)
