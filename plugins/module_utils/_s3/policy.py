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


def our_statement(policy: dict | None, sid: str) -> dict | None:
    """Return a copy of the first statement of policy whose Sid is sid, or None."""
    return next(
        (
            statement
            for statement in policy_statements(policy)
            if isinstance(statement, dict) and statement.get("Sid") == sid
        ),
        None,
    )
