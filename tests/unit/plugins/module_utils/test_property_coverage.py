# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the property tests' strategies really generate, and the one aspect they lacked: CORS configurations near S3's limit.

A property test proves nothing about a shape its strategy never draws. For each shape issue 7 names, hypothesis.find
searches the strategy the property tests use for one example of it; a strategy that cannot produce the shape fails
here, naming it. The S3 CORS strategy of test_s3_cors.py draws lists of up to 100 rules but almost never more than a
few dozen, so the merge near the 100-rule limit gets its own property test below.
"""

from __future__ import annotations

import os
import sys
from collections import Counter

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

# The property tests' own strategies (pytest imports each test file as a top-level module of its folder).
# The strategies live beside the tests of each cloud; their folders are put on the path so that this file also runs
# on its own, not only after pytest has collected those folders.
sys.path[:0] = [os.path.join(os.path.dirname(__file__), cloud) for cloud in ("_gcs", "_s3")]

from test_gcs_cors import cors_lists  # noqa: E402
from test_gcs_iam import policies as iam_policies  # noqa: E402
from test_s3_cors import RULE_SETS  # noqa: E402
from test_s3_policy import policies_with_ours  # noqa: E402

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import (
    CORS_RULE_LIMIT,
    DEFAULT_RULE_ID,
    TooManyRules,
    build_rule,
    check_rule_count,
    foreign_rules,
    is_ours,
    merge_rule,
    rules_equal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import count_checked_cors_merge
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import DEFAULT_SID, policy_statements

EXAMPLES = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
# find() stops at the first example; a fixed seed keeps the search the same from run to run.
SEARCH = settings(max_examples=5000, database=None, derandomize=True, deadline=None)


def statements(case):
    return policy_statements(case[0])


def foreign_sids(case):
    return Counter(
        statement.get("Sid") for statement in statements(case) if statement.get("Sid") not in (None, DEFAULT_SID)
    )


def gcs_segments_entry(entry):
    return bool(entry.get("origin")) and all("segments.ai" in origin.lower() for origin in entry["origin"])


ASPECTS = [
    (
        "s3 policy: single-object Statement",
        policies_with_ours(),
        lambda case: isinstance((case[0] or {}).get("Statement"), dict),
    ),
    (
        "s3 policy: list Statement of several",
        policies_with_ours(),
        lambda case: isinstance((case[0] or {}).get("Statement"), list) and len(case[0]["Statement"]) >= 3,
    ),
    (
        "s3 policy: Condition",
        policies_with_ours(),
        lambda case: any("Condition" in statement for statement in statements(case)),
    ),
    (
        "s3 policy: NotPrincipal",
        policies_with_ours(),
        lambda case: any("NotPrincipal" in statement for statement in statements(case)),
    ),
    (
        "s3 policy: NotAction",
        policies_with_ours(),
        lambda case: any("NotAction" in statement for statement in statements(case)),
    ),
    (
        "s3 policy: duplicate foreign Sids",
        policies_with_ours(),
        lambda case: any(count > 1 for count in foreign_sids(case).values()),
    ),
    (
        "s3 policy: several statements of ours",
        policies_with_ours(),
        lambda case: sum(statement.get("Sid") == DEFAULT_SID for statement in statements(case)) >= 2,
    ),
    (
        "s3 cors: a hand-made Segments rule without ID",
        RULE_SETS,
        lambda rules: any("ID" not in rule and is_ours(rule, DEFAULT_RULE_ID) for rule in rules or []),
    ),
    (
        "gcs cors: a list of our entries and foreign ones",
        cors_lists,
        lambda entries: any(map(gcs_segments_entry, entries)) and not all(map(gcs_segments_entry, entries)),
    ),
    ("gcs cors: an entry without origin", cors_lists, lambda entries: any("origin" not in entry for entry in entries)),
    (
        "gcs iam: a conditional binding",
        iam_policies(),
        lambda policy: any(binding.get("condition") for binding in policy.get("bindings") or []),
    ),
    (
        "gcs iam: a conditional and an unconditional binding of one role",
        iam_policies(),
        lambda policy: any(
            len({bool(binding.get("condition")) for binding in policy.get("bindings") or [] if binding["role"] == role})
            == 2
            for role in {binding["role"] for binding in policy.get("bindings") or []}
        ),
    ),
    ("gcs iam: a policy without bindings", iam_policies(), lambda policy: "bindings" not in policy),
]


@pytest.mark.parametrize(
    "strategy, predicate", [pytest.param(strategy, predicate, id=aspect) for aspect, strategy, predicate in ASPECTS]
)
def test_the_property_strategies_generate(strategy, predicate):
    find(strategy, predicate, settings=SEARCH)


# CORS configurations near S3's 100-rule limit

FOREIGN_RULE_POOL = [
    {
        "ID": "customer-app",
        "AllowedOrigins": ["https://app.customer.com"],
        "AllowedMethods": ["GET", "PUT"],
        "MaxAgeSeconds": 600,
    },
    {"ID": "customer-app", "AllowedOrigins": ["https://app.customer.com"], "AllowedMethods": ["GET"]},
    {"AllowedOrigins": ["https://intranet.customer.com"], "AllowedMethods": ["GET"]},
    {"ID": "uploads", "AllowedOrigins": ["*"], "AllowedMethods": ["PUT", "POST"], "AllowedHeaders": ["*"]},
]
# Ours: a hand-made rule the module adopts, and rules with our ID, stale or current.
OUR_RULE_POOL = [
    {
        "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"],
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["*"],
    },
    build_rule(methods=["GET", "HEAD"]),
    build_rule(),
]
OUR_RULES = st.sampled_from([build_rule(), build_rule(methods=["GET", "HEAD"], max_age_seconds=3600)])


@st.composite
def near_limit_rule_sets(draw):
    """What S3 may hold near its limit: 95 to 100 rules, of which up to 3 are ours (anywhere), never more than 100 in all."""
    rules = draw(st.lists(st.sampled_from(FOREIGN_RULE_POOL), min_size=CORS_RULE_LIMIT - 5, max_size=CORS_RULE_LIMIT))
    for _index in range(draw(st.integers(0, min(3, CORS_RULE_LIMIT - len(rules))))):
        rules.insert(draw(st.integers(0, len(rules))), draw(st.sampled_from(OUR_RULE_POOL)))
    return rules


NEAR_LIMIT_RULE_SETS = near_limit_rule_sets()


def test_the_near_limit_strategy_reaches_the_limit():
    """Both sides of the limit: 100 foreign rules (ours would be the 101st), and 99 with one of ours already there."""
    find(
        NEAR_LIMIT_RULE_SETS,
        lambda rules: len(rules) == len(foreign_rules(rules, DEFAULT_RULE_ID)) == CORS_RULE_LIMIT,
        settings=SEARCH,
    )
    find(
        NEAR_LIMIT_RULE_SETS,
        lambda rules: (
            len(rules) == CORS_RULE_LIMIT and len(foreign_rules(rules, DEFAULT_RULE_ID)) == CORS_RULE_LIMIT - 1
        ),
        settings=SEARCH,
    )


@EXAMPLES
@given(NEAR_LIMIT_RULE_SETS, OUR_RULES)
def test_merge_near_the_rule_limit_counts_exactly_and_refuses_only_past_it(rules, our):
    merged, changed = merge_rule(rules, our)
    assert foreign_rules(merged, DEFAULT_RULE_ID) == foreign_rules(rules, DEFAULT_RULE_ID)
    assert len(merged) == len(foreign_rules(rules, DEFAULT_RULE_ID)) + 1
    assert [rule for rule in merged if is_ours(rule, DEFAULT_RULE_ID)] and all(
        rules_equal(rule, our) for rule in merged if is_ours(rule, DEFAULT_RULE_ID)
    )
    if len(merged) > CORS_RULE_LIMIT:
        with pytest.raises(TooManyRules) as refused:
            check_rule_count(merged)
        assert refused.value.count == len(merged) and refused.value.limit == CORS_RULE_LIMIT
    else:
        check_rule_count(merged)

    checked_merge = count_checked_cors_merge("customer-images", lambda current: merge_rule(current, our))
    if changed and len(merged) > CORS_RULE_LIMIT:
        with pytest.raises(BucketError) as refused:
            checked_merge(rules)
        assert "customer-images" in refused.value.message and "limit of %d" % CORS_RULE_LIMIT in refused.value.message
    else:
        assert checked_merge(rules) == (merged, changed)
