# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._s3 import cors as s3_cors
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import (
    ADOPTION_RULE_DOC,
    CORS_RULE_LIMIT,
    DEFAULT_RULE_ID,
    SEGMENTS_ORIGINS,
    TooManyRules,
    build_rule,
    check_rule_count,
    foreign_rules,
    is_ours,
    is_segments_origin,
    merge_rule,
    remove_rule,
    rule_lists_equal,
    rules_equal,
    validate_methods,
    validate_origins,
)

EXAMPLES = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)


def app_rule(rule_id="customer-app"):
    return {
        "ID": rule_id,
        "AllowedOrigins": ["https://app.customer.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["Authorization"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 600,
    }


def anonymous_rule():
    return {"AllowedOrigins": ["https://intranet.customer.com"], "AllowedMethods": ["GET"]}


def hand_made_rule():
    """The rule Segments.ai's setup page shows, as S3 returns it: no ID, empty lists left out."""
    return {
        "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"],
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["*"],
    }


def ours():
    return build_rule()


# build_rule


def test_build_rule_defaults():
    assert build_rule() == {
        "ID": "segments-cors",
        "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"],
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": [],
    }


def test_build_rule_takes_every_field_and_upper_cases_methods():
    assert build_rule(
        "mine",
        origins=["https://a.segments.ai"],
        methods=["get", "Head"],
        allowed_headers=[],
        expose_headers=["ETag"],
        max_age_seconds=0,
    ) == {
        "ID": "mine",
        "AllowedOrigins": ["https://a.segments.ai"],
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedHeaders": [],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 0,
    }


def test_build_rule_does_not_share_the_default_origins_list():
    build_rule()["AllowedOrigins"].append("https://evil.com")
    assert SEGMENTS_ORIGINS == ["https://segments.ai", "https://*.segments.ai"]


# is_segments_origin


@pytest.mark.parametrize(
    "origin",
    [
        "https://segments.ai",
        "https://*.segments.ai",
        "https://app.segments.ai",
        "https://a.b-c.segments.ai",
        "HTTPS://App.Segments.AI",
    ],
)
def test_is_segments_origin_accepts(origin):
    assert is_segments_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://segments.ai",
        "https://segments.ai.evil.com",
        "https://evilsegments.ai",
        "https://*segments.ai",
        "https://segments.ai/",
        "https://segments.ai:8443",
        "https://evil.com/.segments.ai",
        "https://evil.com#.segments.ai",
        "https://user@x.segments.ai",
        "https://.segments.ai",
        "*",
        "https://*",
        "segments.ai",
        "",
        None,
    ],
)
def test_is_segments_origin_refuses(origin):
    assert not is_segments_origin(origin)


# is_ours and the adoption rule


def test_is_ours_by_id():
    assert is_ours(ours(), DEFAULT_RULE_ID)
    assert is_ours(dict(app_rule(), ID="mine"), "mine")
    assert not is_ours(app_rule(), DEFAULT_RULE_ID)


@pytest.mark.parametrize(
    "rule",
    [
        hand_made_rule(),
        {"AllowedOrigins": ["https://app.segments.ai"], "AllowedMethods": ["get", "HEAD"]},
        {"ID": "", "AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"], "ExposeHeaders": ["ETag"]},
    ],
)
def test_adoption_rule_adopts_hand_made_segments_rules(rule):
    assert is_ours(rule, DEFAULT_RULE_ID)


@pytest.mark.parametrize(
    "rule",
    [
        dict(hand_made_rule(), ID="segments-by-hand"),
        dict(hand_made_rule(), AllowedMethods=["GET", "PUT"]),
        dict(hand_made_rule(), AllowedOrigins=["https://segments.ai", "https://app.customer.com"]),
        dict(hand_made_rule(), AllowedOrigins=[]),
        {"AllowedMethods": ["GET"]},
        anonymous_rule(),
        "not a rule",
    ],
)
def test_adoption_rule_leaves_other_rules_alone(rule):
    assert not is_ours(rule, DEFAULT_RULE_ID)


def test_an_empty_rule_id_does_not_claim_rules_without_an_id():
    assert not is_ours(anonymous_rule(), None)
    assert not is_ours(anonymous_rule(), "")


def test_adoption_rule_is_in_the_module_docstring():
    assert ADOPTION_RULE_DOC in s3_cors.__doc__
    assert "\n" not in ADOPTION_RULE_DOC


# rules_equal


def test_rules_equal_by_meaning():
    assert rules_equal(
        ours(),
        {
            "ID": DEFAULT_RULE_ID,
            "AllowedOrigins": ["https://*.segments.ai", "https://segments.ai", "https://segments.ai"],
            "AllowedMethods": ["get"],
            "AllowedHeaders": ["*"],
        },
    )
    assert rules_equal(
        {"ID": "x", "AllowedOrigins": ["o"], "AllowedMethods": ["GET"]},
        {
            "ID": "x",
            "AllowedOrigins": ["o"],
            "AllowedMethods": ["GET"],
            "AllowedHeaders": [],
            "ExposeHeaders": [],
            "MaxAgeSeconds": None,
        },
    )


@pytest.mark.parametrize(
    "changed",
    [
        {"ID": "Segments-CORS"},
        {"AllowedOrigins": ["https://segments.ai"]},
        {"AllowedMethods": ["GET", "HEAD"]},
        {"AllowedHeaders": []},
        {"ExposeHeaders": ["ETag"]},
        {"MaxAgeSeconds": 3000},
    ],
)
def test_rules_differing_in_meaning_are_not_equal(changed):
    assert not rules_equal(ours(), dict(ours(), **changed))


def test_an_adopted_rule_is_not_equal_to_ours_because_it_lacks_our_id():
    assert not rules_equal(hand_made_rule(), ours())
    assert rules_equal(dict(hand_made_rule(), ID=DEFAULT_RULE_ID), ours())


# merge_rule


def test_merge_into_no_configuration():
    assert merge_rule(None, ours()) == ([ours()], True)
    assert merge_rule([], ours()) == ([ours()], True)


def test_merge_appends_after_foreign_rules():
    assert merge_rule([app_rule(), anonymous_rule()], ours()) == ([app_rule(), anonymous_rule(), ours()], True)


def test_merge_replaces_a_stale_rule_of_ours_in_place():
    stale = dict(ours(), AllowedMethods=["GET", "HEAD"])
    assert merge_rule([app_rule(), stale, anonymous_rule()], ours()) == ([app_rule(), ours(), anonymous_rule()], True)


def test_merge_leaves_a_rule_equal_in_meaning_alone():
    stored = {
        "ID": DEFAULT_RULE_ID,
        "AllowedOrigins": ["https://*.segments.ai", "https://segments.ai"],
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["*"],
    }
    rules = [app_rule(), stored]
    merged, changed = merge_rule(rules, ours())
    assert not changed
    assert merged == rules
    assert merged is not rules


def test_merge_adopts_a_hand_made_rule_in_place():
    assert merge_rule([app_rule(), hand_made_rule(), anonymous_rule()], ours()) == (
        [app_rule(), ours(), anonymous_rule()],
        True,
    )


def test_merge_keeps_the_first_of_ours_and_drops_the_others():
    rules = [app_rule("a"), hand_made_rule(), app_rule("b"), ours(), dict(ours(), MaxAgeSeconds=1)]
    assert merge_rule(rules, ours()) == ([app_rule("a"), ours(), app_rule("b")], True)

    rules = [ours(), app_rule("a"), hand_made_rule()]
    assert merge_rule(rules, ours()) == ([ours(), app_rule("a")], True)


def test_merge_never_mutates_its_inputs():
    rules = [app_rule(), hand_made_rule(), ours()]
    desired_rule = ours()
    before = copy.deepcopy((rules, desired_rule))
    merged, _changed = merge_rule(rules, desired_rule)
    assert (rules, desired_rule) == before
    merged[1]["AllowedMethods"].append("PUT")
    assert desired_rule == ours()


def test_merge_refuses_a_rule_without_id():
    with pytest.raises(ValueError):
        merge_rule([anonymous_rule()], dict(ours(), ID=None))


# remove_rule and foreign_rules


def test_remove_drops_every_rule_of_ours_including_adopted_ones():
    rules = [app_rule(), ours(), hand_made_rule(), anonymous_rule()]
    assert remove_rule(rules, DEFAULT_RULE_ID) == ([app_rule(), anonymous_rule()], True)


def test_remove_the_only_rule_leaves_an_empty_list():
    assert remove_rule([ours()], DEFAULT_RULE_ID) == ([], True)


def test_remove_without_ours_changes_nothing():
    assert remove_rule(None, DEFAULT_RULE_ID) == ([], False)
    assert remove_rule([], DEFAULT_RULE_ID) == ([], False)
    assert remove_rule([app_rule(), anonymous_rule()], DEFAULT_RULE_ID) == ([app_rule(), anonymous_rule()], False)


def test_remove_refuses_an_empty_rule_id():
    with pytest.raises(ValueError):
        remove_rule([anonymous_rule()], "")


def test_foreign_rules_keeps_order_and_copies():
    rules = [app_rule("a"), ours(), app_rule("b"), hand_made_rule()]
    found = foreign_rules(rules, DEFAULT_RULE_ID)
    assert found == [app_rule("a"), app_rule("b")]
    found[0]["ID"] = "changed"
    assert rules[0]["ID"] == "a"
    assert foreign_rules(None, DEFAULT_RULE_ID) == []


# rule count


def test_check_rule_count_accepts_the_limit():
    check_rule_count(None)
    check_rule_count([app_rule(str(number)) for number in range(CORS_RULE_LIMIT)])


def test_merging_into_a_full_configuration_goes_over_the_limit():
    full = [app_rule(str(number)) for number in range(CORS_RULE_LIMIT)]
    merged, _changed = merge_rule(full, ours())
    with pytest.raises(TooManyRules) as raised:
        check_rule_count(merged)
    assert isinstance(raised.value, ValueError)
    assert raised.value.count == 101
    assert str(raised.value).startswith("the CORS configuration would have 101 rules, over S3's limit of 100; ")
    full[-1] = hand_made_rule()
    check_rule_count(merge_rule(full, ours())[0])


# validators


@pytest.mark.parametrize(
    "origins", [SEGMENTS_ORIGINS, ["https://*.customer.com"], ["http://localhost:3000"], ("https://segments.ai",)]
)
def test_validate_origins_accepts(origins):
    assert validate_origins(origins) is None


@pytest.mark.parametrize(
    "origins",
    [[], None, "https://segments.ai", [""], [None], ["https://*.*.segments.ai"], ["https://segments.ai", "**"]],
)
def test_validate_origins_refuses(origins):
    assert validate_origins(origins)


def test_validate_origins_refuses_any_origin_unless_allowed():
    assert "allow_any_origin" in validate_origins(["https://segments.ai", "*"])
    assert validate_origins(["*"], allow_any_origin=True) is None
    assert validate_origins(["*", "https://*.*.x.com"], allow_any_origin=True)


@pytest.mark.parametrize("methods", [["GET"], ["get", "Head"], list(s3_cors.S3_CORS_METHODS)])
def test_validate_methods_accepts(methods):
    assert validate_methods(methods) is None


@pytest.mark.parametrize("methods", [[], None, "GET", ["OPTIONS"], ["GET", "PATCH"], [None], ["*"]])
def test_validate_methods_refuses(methods):
    assert validate_methods(methods)


# Property-based tests over random CORS configurations

ORIGINS = st.sampled_from(
    [
        "https://segments.ai",
        "https://*.segments.ai",
        "https://app.segments.ai",
        "https://app.customer.com",
        "http://localhost:3000",
        "*",
    ]
)
HEADERS = st.sampled_from(["*", "Authorization", "Content-Type", "x-amz-date", "ETag"])
RULE_IDS = st.sampled_from(["customer-app", "customer-app", "uploads", "", DEFAULT_RULE_ID])


@st.composite
def cors_rule(draw):
    rule = {}
    rule_id = draw(st.one_of(st.none(), RULE_IDS))
    if rule_id is not None:
        rule["ID"] = rule_id
    if draw(st.booleans()):
        rule["AllowedOrigins"] = draw(
            st.lists(st.sampled_from(SEGMENTS_ORIGINS + ["https://app.segments.ai"]), min_size=1, max_size=3)
        )
        rule["AllowedMethods"] = draw(st.lists(st.sampled_from(["GET", "HEAD", "get", "PUT"]), min_size=1, max_size=2))
    else:
        rule["AllowedOrigins"] = draw(st.lists(ORIGINS, min_size=1, max_size=3))
        rule["AllowedMethods"] = draw(st.lists(st.sampled_from(s3_cors.S3_CORS_METHODS), min_size=1, max_size=3))
    for field in ("AllowedHeaders", "ExposeHeaders"):
        if draw(st.booleans()):
            rule[field] = draw(st.lists(HEADERS, max_size=3))
    if draw(st.booleans()):
        rule["MaxAgeSeconds"] = draw(st.integers(0, 86400))
    return rule


@st.composite
def our_rule(draw):
    return build_rule(
        origins=draw(
            st.one_of(
                st.none(),
                st.lists(st.sampled_from(SEGMENTS_ORIGINS + ["https://app.segments.ai"]), min_size=1, max_size=3),
            )
        ),
        methods=draw(
            st.one_of(st.none(), st.lists(st.sampled_from(["get", "HEAD", "PUT"]), min_size=1, max_size=3, unique=True))
        ),
        expose_headers=draw(st.one_of(st.none(), st.lists(HEADERS, max_size=2))),
        max_age_seconds=draw(st.one_of(st.none(), st.integers(0, 3600))),
    )


RULE_SETS = st.one_of(st.none(), st.lists(cors_rule(), max_size=CORS_RULE_LIMIT))


def ours_in(rules):
    return [rule for rule in rules if is_ours(rule, DEFAULT_RULE_ID)]


@EXAMPLES
@given(RULE_SETS, our_rule())
def test_merge_keeps_foreign_rules_and_holds_ours_once(rules, our):
    before = copy.deepcopy((rules, our))
    merged, changed = merge_rule(rules, our)
    assert (rules, our) == before, "merge_rule mutated its input"
    assert foreign_rules(merged, DEFAULT_RULE_ID) == foreign_rules(rules, DEFAULT_RULE_ID)
    assert len(ours_in(merged)) == 1 and rules_equal(ours_in(merged)[0], our)
    assert changed == (merged != (rules or []))
    positions = [position for position, rule in enumerate(rules or []) if is_ours(rule, DEFAULT_RULE_ID)]
    merged_position = [position for position, rule in enumerate(merged) if is_ours(rule, DEFAULT_RULE_ID)][0]
    assert merged_position == (positions[0] if positions else len(merged) - 1)


@EXAMPLES
@given(RULE_SETS, our_rule())
def test_merge_rule_is_idempotent(rules, our):
    merged, _changed = merge_rule(rules, our)
    assert merge_rule(merged, our) == (merged, False)
    reordered = dict(
        our,
        AllowedOrigins=list(reversed(our["AllowedOrigins"])),
        AllowedMethods=[method.lower() for method in our["AllowedMethods"]],
    )
    assert merge_rule(merged, reordered) == (merged, False)


@EXAMPLES
@given(RULE_SETS, our_rule())
def test_remove_after_merge_gives_back_the_rules_without_ours(rules, our):
    merged, _changed = merge_rule(rules, our)
    removed, changed = remove_rule(merged, DEFAULT_RULE_ID)
    assert changed
    assert removed == foreign_rules(rules, DEFAULT_RULE_ID)
    if not ours_in(rules or []):
        assert removed == (rules or [])


@EXAMPLES
@given(RULE_SETS)
def test_remove_drops_every_rule_of_ours_and_nothing_else(rules):
    before = copy.deepcopy(rules)
    removed, changed = remove_rule(rules, DEFAULT_RULE_ID)
    assert rules == before, "remove_rule mutated its input"
    assert changed == bool(ours_in(rules or []))
    assert ours_in(removed) == []
    assert removed == [rule for rule in rules or [] if not is_ours(rule, DEFAULT_RULE_ID)]


@EXAMPLES
@given(cors_rule(), st.randoms(use_true_random=False))
def test_rules_equal_survives_any_restyling(rule, random):
    rewritten = {}
    for field, value in rule.items():
        if isinstance(value, list) and value:
            value = value + random.sample(value, random.randint(0, len(value)))
            random.shuffle(value)
            if field == "AllowedMethods":
                value = [random.choice([method.lower(), method.upper()]) for method in value]
        rewritten[field] = value
    for field in ("AllowedHeaders", "ExposeHeaders"):
        if not rewritten.get(field) and random.random() < 0.5:
            rewritten.pop(field, None)
    assert rules_equal(rule, rewritten)


# rule_lists_equal


def test_rule_lists_equal_compares_each_rule_by_meaning_in_order():
    written = [app_rule(), ours()]
    read_back = [
        app_rule(),
        {
            "ID": DEFAULT_RULE_ID,
            "AllowedOrigins": list(reversed(SEGMENTS_ORIGINS)),
            "AllowedMethods": ["get"],
            "AllowedHeaders": ["*"],
        },
    ]
    assert rule_lists_equal(written, read_back)
    assert rule_lists_equal(None, []) and rule_lists_equal([], None)
    assert not rule_lists_equal(written, list(reversed(written)))
    assert not rule_lists_equal(written, written[:1])
    assert not rule_lists_equal(written, [app_rule(), build_rule(max_age_seconds=60)])


@given(rules=st.lists(st.sampled_from([app_rule(), anonymous_rule(), hand_made_rule(), ours()]), max_size=5))
@EXAMPLES
def test_merged_rules_equal_themselves_after_merging_again(rules):
    merged, _changed = merge_rule(rules, ours())
    assert rule_lists_equal(merge_rule(merged, ours())[0], merged)
