# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Blob service CORS rules, pure: which rule is ours, merging it in, taking it out, and the 5-rule limit.

A rule is a dict with the Blob service's own fields, as the data plane reads them back: ``allowed_origins``,
``allowed_methods``, ``allowed_headers`` and ``exposed_headers`` are comma-joined strings, ``max_age_in_seconds`` an
int. Foreign rules are only ever copied, never rebuilt, so they are written back exactly as they were read, spaces
and case included. No I/O here.
"""

from __future__ import annotations

import copy

from ansible_collections.segments.cloud.plugins.module_utils._common.ours import replace_ours
from ansible_collections.segments.cloud.plugins.module_utils._common.segments import is_segments_origin

# Segments' setup page, Azure section: az storage cors add --services b --methods GET
#   --origins https://app.segments.ai --max-age 3600
DEFAULT_ORIGINS = ["https://app.segments.ai"]
DEFAULT_METHODS = ["GET"]
# The page sets no allowed headers. A real browser (tests/browser, docs/browser.md) shows that the app's plain reads
# need none, and that with none the Blob service refuses every preflighted read (any header outside the
# CORS-safelisted ones, such as the x-ms-version the Azure Storage JavaScript SDK sends); "*" admits them, for the
# rule's origins only, as the S3 and GCS defaults do.
DEFAULT_ALLOWED_HEADERS = ["*"]
DEFAULT_EXPOSED_HEADERS: list = []
DEFAULT_MAX_AGE_SECONDS = 3600
# The Blob service refuses a sixth rule; Azurite does not, so the limit is enforced here.
MAX_RULES = 5
ALLOWED_METHODS = ("DELETE", "GET", "HEAD", "MERGE", "OPTIONS", "PATCH", "POST", "PUT")
RULE_FIELDS = ("allowed_origins", "allowed_methods", "allowed_headers", "exposed_headers", "max_age_in_seconds")

OWNERSHIP_RULE_DOC = (
    "Blob service CORS rules carry no ID, so a rule counts as Segments' own when its C(allowed_origins) holds at least "
    "one origin and every origin in it is a Segments origin "
    "(C(https://segments.ai) or C(https://SUBDOMAIN.segments.ai)); "
    "spaces around the commas and the case of the methods do not matter."
)


class TooManyRules(Exception):
    """The merged CORS list would hold more rules than the Blob service allows."""

    def __init__(self, count: int, limit: int = MAX_RULES):
        self.count = count
        self.limit = limit
        super().__init__("%d CORS rules, over the limit of %d" % (count, limit))


def split_values(text) -> list:
    """The items of a comma-joined CORS field, spaces around them stripped, empty items dropped."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        text = ",".join(str(item) for item in text)
    return [item.strip() for item in str(text).split(",") if item.strip()]


def join_values(values) -> str:
    """A list of CORS values as the comma-joined string the Blob service stores."""
    return ",".join(values or [])


def build_rule(
    origins=None,
    methods=None,
    allowed_headers=None,
    exposed_headers=None,
    max_age_in_seconds: int = DEFAULT_MAX_AGE_SECONDS,
) -> dict:
    """Our rule from option lists; methods are written in upper case, as Segments' page gives them."""
    return {
        "allowed_origins": join_values(DEFAULT_ORIGINS if origins is None else origins),
        "allowed_methods": join_values(method.upper() for method in (DEFAULT_METHODS if methods is None else methods)),
        "allowed_headers": join_values(DEFAULT_ALLOWED_HEADERS if allowed_headers is None else allowed_headers),
        "exposed_headers": join_values(DEFAULT_EXPOSED_HEADERS if exposed_headers is None else exposed_headers),
        "max_age_in_seconds": int(max_age_in_seconds),
    }


def is_ours(rule) -> bool:
    """True if rule's origins are all Segments origins, and there is at least one (see OWNERSHIP_RULE_DOC).

    A malformed rule (not a dict) is never ours, so it is always kept."""
    if not isinstance(rule, dict):
        return False
    origins = split_values(rule.get("allowed_origins"))
    return bool(origins) and all(is_segments_origin(origin) for origin in origins)


def _meaning(rule) -> tuple:
    """What the Blob service acts on: order, duplicates and spaces dropped; methods and headers without case."""
    if not isinstance(rule, dict):
        return ("not-a-dict", repr(rule))
    return (
        frozenset(origin.lower() for origin in split_values(rule.get("allowed_origins"))),
        frozenset(method.upper() for method in split_values(rule.get("allowed_methods"))),
        frozenset(header.lower() for header in split_values(rule.get("allowed_headers"))),
        frozenset(header.lower() for header in split_values(rule.get("exposed_headers"))),
        int(rule.get("max_age_in_seconds") or 0),
    )


def rules_mean_same(first, second) -> bool:
    """True if two rules mean the same to the Blob service (see _meaning). Neither is modified."""
    return _meaning(first) == _meaning(second)


def rule_lists_equal(first, second) -> bool:
    """True if two CORS lists are the same, rule by rule in order and field by field, exactly as stored.

    Exact, not by meaning: a foreign rule must come back as it was, and the write guard must see any change."""
    return [_exact(rule) for rule in first or []] == [_exact(rule) for rule in second or []]


def _exact(rule):
    if not isinstance(rule, dict):
        return rule
    return tuple(
        rule.get(field) if field != "max_age_in_seconds" else int(rule.get(field) or 0) for field in RULE_FIELDS
    )


def foreign_rules(rules) -> list:
    """Copies of the rules that are not ours, in their order."""
    return [copy.deepcopy(rule) for rule in rules or [] if not is_ours(rule)]


def our_rules(rules) -> list:
    """Copies of the rules that are ours, in their order."""
    return [copy.deepcopy(rule) for rule in rules or [] if is_ours(rule)]


def check_rule_count(rules) -> None:
    """Raise TooManyRules when rules holds more than MAX_RULES rules."""
    if len(rules) > MAX_RULES:
        raise TooManyRules(len(rules))


def merge_rule(rules, desired_rule: dict) -> tuple[list, bool]:
    """(new_rules, changed): our rules replaced by one copy of desired_rule where the first of them was (appended when
    there was none). Foreign rules keep their place and every character. Raises TooManyRules, before any write, when
    the result would exceed MAX_RULES; rules is never modified."""
    if not is_ours(desired_rule):
        # A rule naming another origin would be foreign on the next run and appended again every time.
        raise ValueError(
            "the desired CORS rule must name only Segments origins, got %r" % desired_rule.get("allowed_origins")
        )
    new_rules, changed = replace_ours(rules, desired_rule, is_ours, rules_mean_same)
    if changed:
        check_rule_count(new_rules)
    return new_rules, changed


def remove_rules(rules) -> tuple[list, bool]:
    """(new_rules, changed) with every rule of ours dropped; foreign rules kept exactly and in order."""
    current_rules = list(rules or [])
    kept_rules = foreign_rules(current_rules)
    return kept_rules, len(kept_rules) != len(current_rules)


def origins_problem(origins) -> str | None:
    """None if origins is a non-empty list of Segments origins, else a sentence saying what to change."""
    if not origins:
        return "origins must list at least one Segments origin, such as https://app.segments.ai."
    for index, origin in enumerate(origins):
        if not is_segments_origin(origin):
            return (
                "origins[%d] %r is not a Segments origin (https://segments.ai or https://SUBDOMAIN.segments.ai). Blob "
                "CORS rules have no ID, so this module recognises the Segments rule by its origins; "
                "a rule naming another origin would count as someone else's and be added again on every run. "
                "Give other origins their own rule." % (index, origin)
            )
        if "," in origin:
            return "origins[%d] %r contains a comma, which the Blob service uses to separate origins." % (index, origin)
    return None


def methods_problem(methods) -> str | None:
    """None if methods is a non-empty list of methods the Blob service allows (any case), else a sentence."""
    if not methods:
        return "methods must list at least one HTTP method, such as GET."
    for index, method in enumerate(methods):
        if not isinstance(method, str) or method.upper() not in ALLOWED_METHODS:
            return "methods[%d] %r is not one of %s." % (index, method, ", ".join(ALLOWED_METHODS))
    return None


def headers_problem(option, headers) -> str | None:
    """None if each header is a non-empty name without commas, else a sentence naming the option."""
    for index, header in enumerate(headers or []):
        if not isinstance(header, str) or not header.strip() or "," in header:
            return "%s[%d] %r must be a header name (or a prefix ending in *) without commas." % (option, index, header)
    return None
