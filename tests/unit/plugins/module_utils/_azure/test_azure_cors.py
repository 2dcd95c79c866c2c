# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import (
    MAX_RULES,
    TooManyRules,
    build_rule,
    foreign_rules,
    headers_problem,
    is_ours,
    merge_rule,
    methods_problem,
    origins_problem,
    remove_rules,
    rule_lists_equal,
    rules_mean_same,
    split_values,
)

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

OUR_RULE = build_rule()
CUSTOMER_RULE = {
    "allowed_origins": "https://viewer.customer.example, https://Admin.customer.example",
    "allowed_methods": "get,PUT",
    "allowed_headers": "x-ms-meta-*, Content-Type",
    "exposed_headers": "",
    "max_age_in_seconds": 60,
}
MIXED_RULE = {
    "allowed_origins": "https://app.segments.ai,https://customer.example",
    "allowed_methods": "GET",
    "allowed_headers": "",
    "exposed_headers": "",
    "max_age_in_seconds": 0,
}


def test_build_rule_follows_segments_page():
    assert OUR_RULE == {
        "allowed_origins": "https://app.segments.ai",
        "allowed_methods": "GET",
        "allowed_headers": "",
        "exposed_headers": "",
        "max_age_in_seconds": 3600,
    }


def test_build_rule_writes_methods_in_upper_case_and_joins_lists():
    rule = build_rule(["https://segments.ai", "https://app.segments.ai"], ["get", "Head"], ["*"], ["ETag"], 10)
    assert rule["allowed_origins"] == "https://segments.ai,https://app.segments.ai"
    assert rule["allowed_methods"] == "GET,HEAD"
    assert rule["allowed_headers"] == "*"
    assert rule["exposed_headers"] == "ETag"


def test_split_values_strips_spaces_and_drops_empties():
    assert split_values(" a , b,,c ") == ["a", "b", "c"]
    assert split_values("") == []
    assert split_values(None) == []


@pytest.mark.parametrize(
    "origins, ours",
    [
        ("https://app.segments.ai", True),
        (" https://app.segments.ai , https://segments.ai ", True),
        ("https://APP.segments.ai", True),
        ("https://app.segments.ai,https://customer.example", False),
        ("https://segments.ai.evil.example", False),
        ("http://app.segments.ai", False),
        ("*", False),
        ("", False),
    ],
)
def test_is_ours(origins, ours):
    assert is_ours(dict(OUR_RULE, allowed_origins=origins)) is ours


def test_is_ours_refuses_malformed_rules():
    assert not is_ours(None)
    assert not is_ours("https://app.segments.ai")


def test_rules_mean_same_ignores_spaces_order_and_method_case():
    spaced = dict(OUR_RULE, allowed_methods=" get ", allowed_origins=" https://app.segments.ai ")
    assert rules_mean_same(spaced, OUR_RULE)
    assert not rules_mean_same(dict(OUR_RULE, max_age_in_seconds=1), OUR_RULE)
    assert not rules_mean_same(dict(OUR_RULE, allowed_methods="GET,PUT"), OUR_RULE)


def test_merge_appends_our_rule_and_keeps_foreign_rules_exactly():
    rules = [copy.deepcopy(CUSTOMER_RULE)]
    new_rules, changed = merge_rule(rules, OUR_RULE)
    assert changed
    assert new_rules == [CUSTOMER_RULE, OUR_RULE]
    assert rules == [CUSTOMER_RULE]


def test_merge_is_idempotent_for_a_rule_with_spaces_and_lower_case_methods():
    spaced = dict(OUR_RULE, allowed_methods="get", allowed_origins=" https://app.segments.ai")
    new_rules, changed = merge_rule([CUSTOMER_RULE, spaced], OUR_RULE)
    assert not changed
    assert new_rules == [CUSTOMER_RULE, spaced]


def test_merge_replaces_stale_and_duplicate_rules_in_place_of_the_first():
    stale = dict(OUR_RULE, max_age_in_seconds=5)
    new_rules, changed = merge_rule([stale, CUSTOMER_RULE, OUR_RULE], OUR_RULE)
    assert changed
    assert new_rules == [OUR_RULE, CUSTOMER_RULE]


def test_merge_keeps_a_mixed_rule_as_foreign():
    new_rules, changed = merge_rule([MIXED_RULE], OUR_RULE)
    assert changed and new_rules == [MIXED_RULE, OUR_RULE]


def test_merge_refuses_a_sixth_rule():
    five_foreign = [dict(CUSTOMER_RULE, max_age_in_seconds=index) for index in range(MAX_RULES)]
    with pytest.raises(TooManyRules) as raised:
        merge_rule(five_foreign, OUR_RULE)
    assert raised.value.count == 6


def test_merge_replacing_ours_in_a_full_list_is_fine():
    rules = [dict(CUSTOMER_RULE, max_age_in_seconds=index) for index in range(MAX_RULES - 1)] + [
        dict(OUR_RULE, max_age_in_seconds=1)
    ]
    new_rules, changed = merge_rule(rules, OUR_RULE)
    assert changed and len(new_rules) == MAX_RULES


def test_merge_refuses_a_desired_rule_that_is_not_ours():
    with pytest.raises(ValueError):
        merge_rule([], CUSTOMER_RULE)


def test_remove_keeps_foreign_rules():
    assert remove_rules([OUR_RULE, CUSTOMER_RULE, MIXED_RULE]) == ([CUSTOMER_RULE, MIXED_RULE], True)
    assert remove_rules([CUSTOMER_RULE]) == ([CUSTOMER_RULE], False)
    assert remove_rules(None) == ([], False)


def test_rule_lists_equal_is_exact():
    assert rule_lists_equal([CUSTOMER_RULE], [copy.deepcopy(CUSTOMER_RULE)])
    assert not rule_lists_equal([CUSTOMER_RULE], [dict(CUSTOMER_RULE, allowed_methods="GET,PUT")])
    assert not rule_lists_equal([CUSTOMER_RULE, OUR_RULE], [OUR_RULE, CUSTOMER_RULE])


def test_option_checks():
    assert origins_problem(["https://app.segments.ai"]) is None
    assert "not a Segments origin" in origins_problem(["https://customer.example"])
    assert "at least one" in origins_problem([])
    assert methods_problem(["get", "MERGE"]) is None
    assert "not one of" in methods_problem(["TRACE"])
    assert headers_problem("allowed_headers", ["*", "x-ms-meta-*"]) is None
    assert "commas" in headers_problem("allowed_headers", ["a,b"])


# Property tests: foreign rules come back exactly, whatever the list holds.

_values = st.lists(
    st.sampled_from(
        [
            "https://customer.example",
            " https://x.example",
            "https://app.segments.ai",
            "https://segments.ai",
            "*",
            "GET",
            "put",
            "",
        ]
    ),
    max_size=4,
)
rules_strategy = st.fixed_dictionaries(
    {
        "allowed_origins": _values.map(",".join),
        "allowed_methods": st.lists(st.sampled_from(["GET", "get", " PUT", "HEAD"]), min_size=1, max_size=3).map(
            ",".join
        ),
        "allowed_headers": st.sampled_from(["", "*", "x-ms-meta-*, Content-Type"]),
        "exposed_headers": st.sampled_from(["", "ETag"]),
        "max_age_in_seconds": st.integers(min_value=0, max_value=86400),
    }
)
cors_lists = st.lists(rules_strategy, max_size=7)


@HYPOTHESIS_SETTINGS
@given(cors_lists)
def test_merge_keeps_every_foreign_rule_exactly_and_in_order(rules):
    before = copy.deepcopy(rules)
    try:
        new_rules, _changed = merge_rule(rules, OUR_RULE)
    except TooManyRules as error:
        assert len(foreign_rules(rules)) + 1 > MAX_RULES
        assert error.count == len(foreign_rules(rules)) + 1
        return
    assert rules == before
    assert foreign_rules(new_rules) == foreign_rules(rules)
    assert [rule for rule in new_rules if is_ours(rule)] == [OUR_RULE] or (
        len([rule for rule in rules if is_ours(rule)]) == 1 and not _changed
    )
    assert len(new_rules) <= MAX_RULES or not _changed


@HYPOTHESIS_SETTINGS
@given(cors_lists)
def test_merge_twice_changes_nothing_the_second_time(rules):
    try:
        once, _changed = merge_rule(rules, OUR_RULE)
    except TooManyRules:
        return
    twice, changed_again = merge_rule(once, OUR_RULE)
    assert not changed_again
    assert twice == once


@HYPOTHESIS_SETTINGS
@given(cors_lists)
def test_remove_after_merge_gives_back_the_foreign_rules(rules):
    try:
        merged, _changed = merge_rule(rules, OUR_RULE)
    except TooManyRules:
        return
    removed, changed = remove_rules(merged)
    assert changed
    assert removed == foreign_rules(rules)
