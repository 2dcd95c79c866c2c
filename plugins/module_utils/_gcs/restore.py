# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a restore compares and writes on Cloud Storage: how the foreign CORS entries and IAM grants differ from a
backup's, and the IAM policy to write back. Pure."""

from __future__ import annotations

import copy
import json

from ansible_collections.segments.cloud.plugins.module_utils._common.restore import labelled_differences, words
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import entries_equal, foreign_entries
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    binding_grants,
    condition_key,
    foreign_bindings,
)


def _entry_label(entry) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("origin"), list):
        return "CORS entry %s" % json.dumps(entry, sort_keys=True)
    return "CORS entry for %s" % words(sorted({str(origin) for origin in entry["origin"]}))


def gcs_cors_differences(backup_entries: list | None, current_entries: list | None) -> list:
    """Sentences saying how the CORS entries that are not Segments-only differ between the backup and now; order does not count."""
    return labelled_differences(
        foreign_entries(backup_entries), foreign_entries(current_entries), _entry_label, entries_equal
    )


def _grant_labels(bindings: list) -> dict:
    """{(role, condition as JSON): how a person recognises it}: the role, with the condition's title when there is one."""
    labels = {}
    for binding in bindings:
        if isinstance(binding, dict):
            condition = binding.get("condition")
            title = condition.get("title") if isinstance(condition, dict) else None
            label = str(binding.get("role"))
            if condition:
                label += " (condition %s)" % (json.dumps(title) if title else condition_key(condition))
            labels[(str(binding.get("role")), condition_key(condition))] = label
    return labels


def iam_differences(backup_policy: dict | None, current_policy: dict | None, role: str, member: str) -> list:
    """Sentences saying which members were added to or removed from which role between the backup and now, leaving out
    member's unconditional grant of role (ours). Binding order, member order and how grants are split into bindings do not count."""
    backup_bindings, current_bindings = (
        foreign_bindings(backup_policy, role, member),
        foreign_bindings(current_policy, role, member),
    )
    backup_grants, current_grants = binding_grants(backup_bindings), binding_grants(current_bindings)
    labels = _grant_labels(current_bindings)
    labels.update(_grant_labels(backup_bindings))
    differences: list = []
    for key in list(backup_grants) + [key for key in current_grants if key not in backup_grants]:
        before, now = backup_grants.get(key, set()), current_grants.get(key, set())
        label = labels[key]
        differences.extend("IAM member %s removed from %s" % (gone, label) for gone in sorted(before - now))
        differences.extend("IAM member %s added to %s" % (new, label) for new in sorted(now - before))
    return differences


def restored_iam_policy(current_policy: dict, backup_policy: dict) -> dict:
    """The policy to write: the current one (its etag and version, for the guarded write) with the backup's bindings."""
    restored = copy.deepcopy(current_policy or {})
    restored["bindings"] = copy.deepcopy((backup_policy or {}).get("bindings") or [])
    return restored
