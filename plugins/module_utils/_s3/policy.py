# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import re

from ansible_collections.segments.cloud.plugins.module_utils._common.segments import SEGMENTS_PRINCIPAL  # noqa: F401 (re-exported)

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = """Pure merge logic for the Segments.ai statement in an S3 bucket policy.

Policies are the JSON-decoded dict that boto3's get_bucket_policy() returns in 'Policy'.
Nothing here does I/O, and no function mutates its arguments: what is returned is a deep copy.
Only the statement whose Sid is ours is ever added, replaced or removed; every other statement,
the statement order and every top-level key survive exactly as they were.
"""

DEFAULT_SID = "segments-s3-access"
DEFAULT_ACTIONS = ["s3:GetObject"]
POLICY_SIZE_LIMIT = 20480
DEFAULT_KMS_SID = "segments-kms-decrypt"
KEY_POLICY_SIZE_LIMIT = 32768
POLICY_VERSION = "2012-10-17"

_ACCOUNT_ID = re.compile(r"^\d{12}$", re.ASCII)
_ACCOUNT_ROOT_ARN = re.compile(r"^arn:aws[-a-z]*:iam::(\d{12}):root$", re.ASCII)
_IAM_ARN_ACCOUNT = re.compile(r"^arn:aws[-a-z]*:iam::(\d{12}):", re.ASCII)
_IAM_NAME = r"[\w+=,.@-]+"
_IAM_PRINCIPAL_ARN = re.compile(
    r"^arn:aws[-a-z]*:iam::\d{12}:(root|(user|role)/(%s/)*%s)$" % (_IAM_NAME, _IAM_NAME), re.ASCII
)
_S3_ACTION = re.compile(r"^s3:[a-z0-9]+$", re.ASCII | re.IGNORECASE)
_S3_ACTION_PATTERN = re.compile(r"^s3:[a-z0-9*?]+$", re.ASCII | re.IGNORECASE)
_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9.-]+$", re.ASCII)
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$", re.ASCII)
# A Deny written for another partition's ARN of the same bucket name is still reported: warnings err on the loud side.
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


class PolicyTooLarge(ValueError):
    """The merged policy is over S3's bucket-policy size limit."""

    def __init__(self, size: int, limit: int = POLICY_SIZE_LIMIT) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            "the merged bucket policy would be %d bytes, over S3's %d-byte limit; remove unused statements first"
            % (size, limit)
        )


def build_statement(
    bucket: str,
    principal: str = SEGMENTS_PRINCIPAL,
    actions: list | None = None,
    sid: str = DEFAULT_SID,
    prefixes: list | None = None,
) -> dict:
    """Return our Allow statement for the objects of bucket (or only those under prefixes); reads nothing else."""
    if prefixes:
        resources = list(dict.fromkeys("arn:aws:s3:::%s/%s*" % (bucket, prefix.lstrip("/")) for prefix in prefixes))
        resource = resources[0] if len(resources) == 1 else resources
    else:
        resource = "arn:aws:s3:::%s/*" % bucket
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": list(DEFAULT_ACTIONS if actions is None else actions),
        "Resource": resource,
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _value_set(value, fold=None) -> list:
    """Order, duplicates and string-versus-list do not change the meaning of a policy value list."""
    folded = (fold(item) if fold is not None and isinstance(item, str) else item for item in _as_list(value))
    return sorted({_canonical_json(item): item for item in folded}.values(), key=_canonical_json)


def _fold_account(principal: str) -> str:
    # S3 stores an account id given as principal as its root ARN, so both must compare equal or every run reports a change.
    root = _ACCOUNT_ROOT_ARN.match(principal)
    return root.group(1) if root else principal


def _principal_key(principal):
    if principal == "*":
        principal = {"AWS": "*"}
    if not isinstance(principal, dict):
        return principal
    return {kind: _value_set(value, fold=_fold_account if kind == "AWS" else None) for kind, value in principal.items()}


def _condition_key(condition):
    if not isinstance(condition, dict):
        return condition
    return {
        operator: {key: _value_set(value) for key, value in block.items()} if isinstance(block, dict) else block
        for operator, block in condition.items()
    }


def statement_key(statement: dict) -> str:
    """Return a canonical, hashable and orderable form of statement: equal exactly when the statements mean the same to AWS."""
    canonical = {}
    for field, value in statement.items():
        if field in ("Action", "NotAction"):
            canonical[field] = _value_set(value, fold=str.lower)
        elif field in ("Resource", "NotResource"):
            canonical[field] = _value_set(value)
        elif field in ("Principal", "NotPrincipal"):
            canonical[field] = _principal_key(value)
        elif field == "Condition":
            canonical[field] = _condition_key(value)
        else:
            canonical[field] = value
    return _canonical_json(canonical)


def statements_equal(first: dict, second: dict) -> bool:
    """Return True when the two statements mean the same to AWS (see statement_key); reads nothing else."""
    return statement_key(first) == statement_key(second)


def _is_ours(statement, sid) -> bool:
    # Without a Sid of ours, every Sid-less statement would look like ours.
    return bool(sid) and isinstance(statement, dict) and statement.get("Sid") == sid


def policy_statements(policy: dict | None) -> list:
    """Return a copy of the policy's statements as a list, whether Statement is a list, one object, missing, or policy is None."""
    if not policy or policy.get("Statement") is None:
        return []
    return copy.deepcopy(_as_list(policy["Statement"]))


def foreign_statements(policy: dict | None, sid: str) -> list:
    """Return copies of the statements whose Sid is not sid, in policy order."""
    return [statement for statement in policy_statements(policy) if not _is_ours(statement, sid)]


def merge_statement(policy: dict | None, our_statement: dict) -> tuple:
    """Return (new_policy, changed) with our_statement present exactly once, found by its Sid.

    Every other statement, their order and every top-level key are kept as they were; policy is never mutated.
    """
    our_statement = copy.deepcopy(our_statement)
    sid = our_statement.get("Sid")
    if not sid:
        raise ValueError("our statement needs a Sid: it is how we find it again in the bucket policy")
    if policy is None:
        return {"Version": POLICY_VERSION, "Statement": [our_statement]}, True
    new_policy = copy.deepcopy(policy)
    statements = new_policy.get("Statement")
    if statements is None:
        new_policy["Statement"] = [our_statement]
        return new_policy, True
    if isinstance(statements, dict):
        if not _is_ours(statements, sid):
            new_policy["Statement"] = [statements, our_statement]
            return new_policy, True
        if statements_equal(statements, our_statement):
            return new_policy, False
        new_policy["Statement"] = our_statement
        return new_policy, True

    our_positions = [position for position, statement in enumerate(statements) if _is_ours(statement, sid)]
    if not our_positions:
        new_policy["Statement"] = statements + [our_statement]
        return new_policy, True
    first = our_positions[0]
    changed = len(our_positions) > 1
    if not statements_equal(statements[first], our_statement):
        statements[first] = our_statement
        changed = True
    new_policy["Statement"] = [
        statement for position, statement in enumerate(statements) if position == first or not _is_ours(statement, sid)
    ]
    return new_policy, changed


def remove_statement(policy: dict | None, sid: str) -> tuple:
    """Return (new_policy, changed) without any statement whose Sid is sid; new_policy is None when no statement is left.

    S3 rejects an empty Statement, so None tells the caller to delete the policy. Other statements and keys are kept as they were.
    """
    if not sid:
        raise ValueError("remove_statement needs our Sid: without it every statement lacking a Sid would be removed")
    if policy is None:
        return None, False
    new_policy = copy.deepcopy(policy)
    statements = new_policy.get("Statement")
    if isinstance(statements, dict):
        if _is_ours(statements, sid):
            return None, True
        return new_policy, False
    if not isinstance(statements, list):
        return new_policy, False
    remaining = [statement for statement in statements if not _is_ours(statement, sid)]
    if len(remaining) == len(statements):
        return new_policy, False
    if not remaining:
        return None, True
    new_policy["Statement"] = remaining
    return new_policy, True


def policy_size(policy: dict) -> int:
    """Return the size in bytes of policy as compact JSON, the form we send to S3."""
    return len(json.dumps(policy, separators=(",", ":")).encode("utf-8"))


def check_policy_size(policy: dict, limit: int = POLICY_SIZE_LIMIT) -> None:
    """Raise PolicyTooLarge when policy is over limit (S3's POLICY_SIZE_LIMIT unless given); return None otherwise."""
    size = policy_size(policy)
    if size > limit:
        raise PolicyTooLarge(size, limit)


def build_kms_statement(region: str, principal: str = SEGMENTS_PRINCIPAL, sid: str = DEFAULT_KMS_SID) -> dict:
    """Return our key-policy statement: principal may kms:Decrypt with the key, but only through S3 in region."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.%s.amazonaws.com" % region}},
    }


def policies_equal(first: dict | None, second: dict | None) -> bool:
    """Return True when both policies are None, or hold the same top-level keys and the same statements in the same order.

    Statements compare by meaning (see statement_key); a single-object Statement equals a list holding only it."""
    if first is None or second is None:
        return first is None and second is None
    first_keys = {key: value for key, value in first.items() if key != "Statement"}
    second_keys = {key: value for key, value in second.items() if key != "Statement"}
    if _canonical_json(first_keys) != _canonical_json(second_keys):
        return False
    first_statements, second_statements = policy_statements(first), policy_statements(second)
    return len(first_statements) == len(second_statements) and all(
        isinstance(one, dict) and isinstance(other, dict) and statements_equal(one, other)
        for one, other in zip(first_statements, second_statements)
    )


def validate_principal(principal, allow_wildcard: bool = False) -> str | None:
    """Return an error sentence when principal is not an IAM user, role or root ARN or a 12-digit account id, else None."""
    if not isinstance(principal, str) or not principal:
        return "principal must be an IAM ARN (root, user/NAME or role/NAME) or a 12-digit account id."
    if "*" in principal or "?" in principal:
        if not allow_wildcard:
            return (
                "principal '%s' contains a wildcard and would grant access to everyone it matches; "
                "set allow_public_principal: true if you really mean that." % principal
            )
        if principal != "*":
            return (
                "principal '%s' has a partial wildcard; AWS accepts a wildcard principal only as '*' on its own."
                % principal
            )
        return None
    if _ACCOUNT_ID.match(principal) or _IAM_PRINCIPAL_ARN.match(principal):
        return None
    return (
        "principal '%s' is not an IAM ARN such as arn:aws:iam::123456789012:role/NAME, "
        "arn:aws:iam::123456789012:user/NAME or arn:aws:iam::123456789012:root, nor a 12-digit account id." % principal
    )


def validate_actions(actions, allow_wildcard: bool = False) -> str | None:
    """Return an error sentence when actions is empty or holds anything but s3:Name actions, else None."""
    if not isinstance(actions, (list, tuple)) or not actions:
        return "actions must list at least one S3 action, such as s3:GetObject."
    for action in actions:
        if not isinstance(action, str):
            return "action %r must be a string such as s3:GetObject." % (action,)
        if "*" in action or "?" in action:
            if not allow_wildcard:
                return (
                    "action '%s' is a wildcard and may grant more than you intend; "
                    "list the actions one by one, or set allow_wildcard_actions: true if you really mean that." % action
                )
            if action != "*" and not _S3_ACTION_PATTERN.match(action):
                return "action '%s' must look like s3:Name (wildcards allowed), or be '*'." % action
        elif not _S3_ACTION.match(action):
            return "action '%s' must look like s3:Name, such as s3:GetObject." % action
    return None


def validate_bucket_name(name) -> str | None:
    """Return an error sentence naming the bucket and the S3 naming rule it breaks, else None."""
    if not isinstance(name, str):
        return "bucket name %r must be a string." % (name,)
    if not 3 <= len(name) <= 63:
        return "bucket name '%s' must be between 3 and 63 characters long." % name
    if not _BUCKET_CHARACTERS.match(name):
        return "bucket name '%s' may contain only lowercase letters, digits, dots and hyphens." % name
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "bucket name '%s' must begin and end with a letter or a digit." % name
    if ".." in name:
        return "bucket name '%s' must not contain two adjacent dots." % name
    if _IP_ADDRESS.match(name):
        return "bucket name '%s' must not be formatted as an IP address." % name
    if name.startswith("xn--"):
        return "bucket name '%s' must not start with 'xn--'." % name
    for suffix in ("-s3alias", "--ol-s3"):
        if name.endswith(suffix):
            return "bucket name '%s' must not end with '%s'." % (name, suffix)
    return None


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
