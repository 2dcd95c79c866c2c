# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

from ansible_collections.segments.cloud.plugins.module_utils._common.equality import lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._common.segments import (
    SEGMENTS_ORIGINS,
    is_segments_origin,
)  # noqa: F401 (re-exported)

DEFAULT_RULE_ID = "segments-cors"
CORS_RULE_LIMIT = 100
S3_CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")

ADOPTION_RULE_DOC = (
    "A CORS rule is ours when its ID is our rule ID. A rule without an ID is ours too when it lists at least one origin, "
    "every origin is https://segments.ai or an https origin on a segments.ai subdomain (https://*.segments.ai included), "
    "and it allows no method but GET and HEAD. That is the rule Segments.ai's setup page asks customers to add by hand, "
    "so we adopt it: it takes our ID and settings instead of standing beside a second rule, and it goes when our rule is removed. "
    "Every other rule is left exactly as it is."
)

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = (
    """Pure merge logic for the Segments.ai rule in an S3 bucket's CORS configuration.

Rules are in boto3's shape: dicts with ID, AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders and MaxAgeSeconds.
Nothing here does I/O, and no function mutates its arguments: what is returned is a deep copy.

"""
    + ADOPTION_RULE_DOC
)

_ADOPTABLE_METHODS = frozenset(("GET", "HEAD"))


class TooManyRules(ValueError):
    """The merged CORS configuration has more rules than S3 accepts."""

    def __init__(self, count: int, limit: int = CORS_RULE_LIMIT) -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            "the CORS configuration would have %d rules, over S3's limit of %d; remove unused rules first"
            % (count, limit)
        )


def build_rule(
    rule_id: str = DEFAULT_RULE_ID,
    origins: list | None = None,
    methods: list | None = None,
    allowed_headers: list | None = None,
    expose_headers: list | None = None,
    max_age_seconds: int | None = None,
) -> dict:
    """Return our CORS rule in boto3's shape, with Segments.ai defaults for what is None; reads nothing else."""
    our_rule: dict = {
        "ID": rule_id,
        "AllowedOrigins": list(SEGMENTS_ORIGINS if origins is None else origins),
        "AllowedMethods": [method.upper() for method in (["GET"] if methods is None else methods)],
        "AllowedHeaders": list(["*"] if allowed_headers is None else allowed_headers),
        "ExposeHeaders": list([] if expose_headers is None else expose_headers),
    }
    if max_age_seconds is not None:
        our_rule["MaxAgeSeconds"] = max_age_seconds
    return our_rule


def is_ours(rule, rule_id: str) -> bool:
    """Return True when rule has our rule_id, or has no ID and fits the adoption rule (see ADOPTION_RULE_DOC)."""
    if not isinstance(rule, dict):
        return False
    if rule_id and rule.get("ID") == rule_id:
        return True
    if rule.get("ID"):
        return False
    origins = rule.get("AllowedOrigins") or []
    methods = rule.get("AllowedMethods") or []
    return (
        bool(origins)
        and all(is_segments_origin(origin) for origin in origins)
        and all(isinstance(method, str) and method.upper() in _ADOPTABLE_METHODS for method in methods)
    )


def _rule_key(rule: dict) -> dict:
    """S3 leaves out empty header lists and an unset max age, and never cares about order or repeats in a list."""
    canonical = dict(rule)
    canonical["AllowedOrigins"] = sorted(set(rule.get("AllowedOrigins") or []))
    canonical["AllowedMethods"] = sorted({method.upper() for method in rule.get("AllowedMethods") or []})
    canonical["AllowedHeaders"] = sorted(set(rule.get("AllowedHeaders") or []))
    canonical["ExposeHeaders"] = sorted(set(rule.get("ExposeHeaders") or []))
    canonical["MaxAgeSeconds"] = rule.get("MaxAgeSeconds")
    canonical["ID"] = rule.get("ID")
    return canonical


def rules_equal(first: dict, second: dict) -> bool:
    """Return True when the two rules mean the same to S3: list order, repeats, method case and empty or unset fields aside."""
    return _rule_key(first) == _rule_key(second)


def rule_lists_equal(first: list | None, second: list | None) -> bool:
    """Return True when both rule lists hold rules that mean the same, in the same order (None counts as no rules)."""
    return lists_equal(first, second, rules_equal)


def foreign_rules(rules: list | None, rule_id: str) -> list:
    """Return copies of the rules that are not ours (see is_ours), in order."""
    return [copy.deepcopy(rule) for rule in rules or [] if not is_ours(rule, rule_id)]


def merge_rule(rules: list | None, our_rule: dict) -> tuple:
    """Return (new_rules, changed) with our_rule present exactly once, where the first rule of ours stood, else at the end.

    Every other rule is kept exactly and in order; rules is never mutated.
    """
    our_rule = copy.deepcopy(our_rule)
    rule_id = our_rule.get("ID")
    if not rule_id:
        raise ValueError("our CORS rule needs an ID: it is how we find it again in the bucket's CORS configuration")
    new_rules = copy.deepcopy(list(rules or []))
    our_positions = [position for position, rule in enumerate(new_rules) if is_ours(rule, rule_id)]
    if not our_positions:
        return new_rules + [our_rule], True
    first = our_positions[0]
    changed = len(our_positions) > 1
    if not rules_equal(new_rules[first], our_rule):
        new_rules[first] = our_rule
        changed = True
    return [
        rule for position, rule in enumerate(new_rules) if position == first or position not in our_positions
    ], changed


def remove_rule(rules: list | None, rule_id: str) -> tuple:
    """Return (new_rules, changed) without any rule of ours; [] means the caller should delete the CORS configuration."""
    if not rule_id:
        raise ValueError("remove_rule needs our rule ID to tell our rules from the customer's")
    remaining = foreign_rules(rules, rule_id)
    return remaining, len(remaining) != len(rules or [])


def check_rule_count(rules: list | None) -> None:
    """Raise TooManyRules when rules has more than CORS_RULE_LIMIT rules; return None otherwise."""
    count = len(rules or [])
    if count > CORS_RULE_LIMIT:
        raise TooManyRules(count, CORS_RULE_LIMIT)


def validate_origins(origins, allow_any_origin: bool = False) -> str | None:
    """Return an error sentence when origins is empty, an origin has more than one '*', or is a bare '*' not allowed; else None."""
    if not isinstance(origins, (list, tuple)) or not origins:
        return "origins must list at least one origin, such as https://segments.ai."
    for origin in origins:
        if not isinstance(origin, str) or not origin:
            return "origin %r must be a non-empty string such as https://segments.ai." % (origin,)
        if origin.count("*") > 1:
            return "origin '%s' has more than one '*'; S3 allows one wildcard per origin." % origin
        if origin == "*" and not allow_any_origin:
            return (
                "origin '*' would let any website read the bucket's objects from a browser; "
                "set allow_any_origin: true if you really mean that."
            )
    return None


def validate_methods(methods) -> str | None:
    """Return an error sentence when methods is empty or holds a method S3 CORS does not accept; else None."""
    if not isinstance(methods, (list, tuple)) or not methods:
        return "methods must list at least one of %s." % ", ".join(S3_CORS_METHODS)
    for method in methods:
        if not isinstance(method, str) or method.upper() not in S3_CORS_METHODS:
            return "method %r is not one S3 accepts for CORS; use %s." % (method, ", ".join(S3_CORS_METHODS))
    return None
