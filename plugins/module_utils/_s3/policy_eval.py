# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure evaluation of S3 bucket policies: which Deny statements match a principal and action, which Allow statements grant one.

IAM's wildcard rules ('*' and '?'), principals by ARN or account and resources by bucket and prefix. No I/O.
Used by the readiness checks; the merge of our statement lives in policy.py."""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    _ACCOUNT_ID,
    _IAM_ARN_ACCOUNT,
    _PARTITIONS,
    _as_list,
    _fold_account,
    policy_statements,
)


def _wildcard_states(pattern: str, text: str) -> set:
    """Return the positions in an IAM wildcard pattern ('*' and '?' only) reachable after reading text."""

    def closure(positions):
        # A '*' may match nothing, so whatever follows a run of stars is reachable too.
        reached = set(positions)
        for position in positions:
            following = position
            while following < len(pattern) and pattern[following] == "*":
                following += 1
                reached.add(following)
        return reached

    states = closure({0})
    for character in text:
        following = set()
        for position in states:
            if position < len(pattern):
                if pattern[position] == "*":
                    following.add(position)
                elif pattern[position] in ("?", character):
                    following.add(position + 1)
        states = closure(following)
        if not states:
            break
    return states


def _wildcard_match(pattern: str, text: str, ignore_case: bool = False) -> bool:
    # IAM wildcards know only '*' and '?'; fnmatch would also read '[...]' as a character class.
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    return len(pattern) in _wildcard_states(pattern, text)


def _may_match_prefix(pattern: str, prefix: str) -> bool:
    """Return True when pattern matches at least one string that starts with prefix."""
    return bool(_wildcard_states(pattern, prefix))


def _covers_prefix(pattern: str, prefix: str) -> bool:
    """Return True when pattern matches every string that starts with prefix."""
    return any(
        pattern[position:] and set(pattern[position:]) == {"*"} for position in _wildcard_states(pattern, prefix)
    )


def _account_of(principal: str):
    if _ACCOUNT_ID.match(principal):
        return principal
    arn = _IAM_ARN_ACCOUNT.match(principal)
    return arn.group(1) if arn else None


def _principal_value_matches(listed, principal: str) -> bool:
    """Return True when a principal value listed in a statement may stand for principal."""
    if not isinstance(listed, str):
        return False
    if listed == "*":
        return True
    listed, principal = _fold_account(listed), _fold_account(principal)
    if listed == principal:
        return True
    # An account principal stands for every identity in it; when either side is an account, a shared account may match.
    if _ACCOUNT_ID.match(listed):
        return _account_of(principal) == listed
    if _ACCOUNT_ID.match(principal):
        return _account_of(listed) == principal
    return False


def _principal_element_matches(element, principal: str) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    return any(_principal_value_matches(listed, principal) for listed in _as_list(element.get("AWS", [])))


def _deny_principal_matches(statement: dict, principal: str) -> bool:
    if "Principal" in statement:
        return _principal_element_matches(statement["Principal"], principal)
    if "NotPrincipal" in statement:
        # Conservative: only our principal itself listed spares it, not its account listed.
        not_principal = statement["NotPrincipal"]
        if not_principal == "*":
            return False
        if not isinstance(not_principal, dict):
            return True
        listed = [_fold_account(value) for value in _as_list(not_principal.get("AWS", [])) if isinstance(value, str)]
        return _fold_account(principal) not in listed and "*" not in listed
    return True


def _action_listed(patterns, action: str) -> bool:
    return any(
        isinstance(pattern, str) and _wildcard_match(pattern, action, ignore_case=True)
        for pattern in _as_list(patterns)
    )


def _deny_action_matches(statement: dict, action: str) -> bool:
    if "Action" in statement:
        return _action_listed(statement["Action"], action)
    if "NotAction" in statement:
        return not _action_listed(statement["NotAction"], action)
    return True


def _deny_resource_matches(statement: dict, bucket: str | None) -> bool:
    if bucket is None:
        return True
    object_prefixes = ["arn:%s:s3:::%s/" % (partition, bucket) for partition in _PARTITIONS]
    if "Resource" in statement:
        return any(
            isinstance(pattern, str) and _may_match_prefix(pattern, prefix)
            for pattern in _as_list(statement["Resource"])
            for prefix in object_prefixes
        )
    if "NotResource" in statement:
        # The Deny spares our objects only when a NotResource entry covers all of them.
        return not any(
            isinstance(pattern, str) and _covers_prefix(pattern, prefix)
            for pattern in _as_list(statement["NotResource"])
            for prefix in object_prefixes
        )
    return True


def deny_statements_matching(
    policy: dict | None, principal: str, action: str = "s3:GetObject", bucket: str | None = None
) -> list:
    """Return copies of the Deny statements that may deny principal the action on the bucket's objects (any bucket when None).

    Conservative, for warnings only: a Deny with a Condition is reported too, since it may match.
    """
    return [
        statement
        for statement in policy_statements(policy)
        if isinstance(statement, dict)
        and statement.get("Effect") == "Deny"
        and _deny_principal_matches(statement, principal)
        and _deny_action_matches(statement, action)
        and _deny_resource_matches(statement, bucket)
    ]


def _allow_principal_matches(element, principal: str) -> bool:
    """True when a Principal element of an Allow names principal itself, its account, or everyone."""
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for listed in _as_list(element.get("AWS", [])):
        if not isinstance(listed, str):
            continue
        folded = _fold_account(listed)
        if (
            listed == "*"
            or folded == _fold_account(principal)
            or (_ACCOUNT_ID.match(folded) and _account_of(principal) == folded)
        ):
            return True
    return False


def _resource_covered(patterns, resource: str) -> bool:
    # A resource ending in '*' stands for every resource with that prefix, and each of them must match.
    if resource.endswith("*"):
        return any(
            isinstance(pattern, str) and _covers_prefix(pattern, resource[:-1]) for pattern in _as_list(patterns)
        )
    return any(isinstance(pattern, str) and _wildcard_match(pattern, resource) for pattern in _as_list(patterns))


def allow_statements_granting(policy: dict | None, principal: str, action: str, resource: str) -> list:
    """Return copies of the Allow statements that surely grant principal action on resource ('...*' means every such resource).

    Strict, for readiness audits: statements with a Condition, NotPrincipal, NotAction or NotResource are never counted."""
    return [
        statement
        for statement in policy_statements(policy)
        if isinstance(statement, dict)
        and statement.get("Effect") == "Allow"
        and not any(field in statement for field in ("Condition", "NotPrincipal", "NotAction", "NotResource"))
        and _allow_principal_matches(statement.get("Principal"), principal)
        and _action_listed(statement.get("Action", []), action)
        and _resource_covered(statement.get("Resource", []), resource)
    ]
