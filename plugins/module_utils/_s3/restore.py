# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a restore compares on S3: how the foreign statements of a policy and the foreign CORS rules differ from a backup's. Pure."""

from __future__ import annotations

import json

from ansible_collections.segments.cloud.plugins.module_utils._common.restore import labelled_differences, words
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import foreign_rules, rules_equal
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import foreign_statements, statements_equal


def _statement_label(noun: str):
    def label_of(statement):
        if not isinstance(statement, dict):
            return "%s %s (not an object)" % (noun, json.dumps(statement, sort_keys=True))
        if statement.get("Sid"):
            return "%s %s" % (noun, statement["Sid"])
        # Without a Sid, what the statement does is the best name a person can match against the console.
        action = statement.get("Action", statement.get("NotAction", "?"))
        return "%s without a Sid (%s %s)" % (noun, statement.get("Effect", "?"), words(action))

    return label_of


def _statements_equal(first, second) -> bool:
    if isinstance(first, dict) and isinstance(second, dict):
        return statements_equal(first, second)
    return first == second


def policy_differences(
    backup_policy: dict | None, current_policy: dict | None, sid: str, policy_name: str = "policy"
) -> list:
    """Sentences saying how the statements whose Sid is not sid (and the policy's Version and Id) differ between the backup
    and now; policy_name ("policy" or "key policy") names the policy in them. Statement order, a string for a one-item list
    and an account id for its root ARN do not count."""
    noun = "statement" if policy_name == "policy" else policy_name + " statement"
    differences = labelled_differences(
        foreign_statements(backup_policy, sid),
        foreign_statements(current_policy, sid),
        _statement_label(noun),
        _statements_equal,
    )
    if backup_policy is not None and current_policy is not None:
        for key in sorted((set(backup_policy) | set(current_policy)) - {"Statement"}):
            if backup_policy.get(key) != current_policy.get(key):
                differences.append(
                    "%s %s changed from %s to %s"
                    % (policy_name, key, json.dumps(backup_policy.get(key)), json.dumps(current_policy.get(key)))
                )
    return differences


def _rule_label(rule) -> str:
    if not isinstance(rule, dict):
        return "CORS rule %s (not an object)" % json.dumps(rule, sort_keys=True)
    if rule.get("ID"):
        return "CORS rule %s" % rule["ID"]
    return "CORS rule without an ID for %s" % words(sorted(set(rule.get("AllowedOrigins") or [])))


def _rules_equal(first, second) -> bool:
    if isinstance(first, dict) and isinstance(second, dict):
        return rules_equal(first, second)
    return first == second


def s3_cors_differences(backup_rules: list | None, current_rules: list | None, rule_id: str) -> list:
    """Sentences saying how the CORS rules that are not ours (see s3_cors.is_ours) differ between the backup and now; order does not count."""
    return labelled_differences(
        foreign_rules(backup_rules, rule_id), foreign_rules(current_rules, rule_id), _rule_label, _rules_equal
    )
