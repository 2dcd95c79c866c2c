# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._s3.names import validate_bucket_name
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    DEFAULT_KMS_SID,
    DEFAULT_SID,
    KEY_POLICY_SIZE_LIMIT,
    POLICY_SIZE_LIMIT,
    POLICY_VERSION,
    SEGMENTS_PRINCIPAL,
    PolicyTooLarge,
    build_kms_statement,
    build_statement,
    check_policy_size,
    foreign_statements,
    merge_statement,
    policies_equal,
    policy_size,
    policy_statements,
    remove_statement,
    statement_key,
    statements_equal,
    validate_actions,
    validate_principal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy_eval import (
    allow_statements_granting,
    deny_statements_matching,
)

EXAMPLES = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

BUCKET = "customer-data"
OUR_ACCOUNT = "931508227573"
OTHER_PRINCIPAL = "arn:aws:iam::111122223333:role/analytics"


def foreign(sid="CustomerReadOnly", **extra):
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": OTHER_PRINCIPAL},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::%s" % BUCKET, "arn:aws:s3:::%s/*" % BUCKET],
    }
    statement.update(extra)
    return statement


def deny_tls():
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::%s/*" % BUCKET,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ours():
    return build_statement(BUCKET)


def stale_ours():
    return build_statement(BUCKET, actions=["s3:GetObject", "s3:PutObject"])


# build_statement


def test_build_statement_defaults():
    assert build_statement(BUCKET) == {
        "Sid": DEFAULT_SID,
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::customer-data/*",
    }


def test_build_statement_one_prefix_keeps_a_single_resource_string_and_strips_the_leading_slash():
    assert build_statement(BUCKET, prefixes=["/images/"])["Resource"] == "arn:aws:s3:::customer-data/images/*"


def test_build_statement_several_prefixes_give_a_resource_list_in_order():
    statement = build_statement(
        BUCKET,
        prefixes=["images/", "/labels/"],
        actions=["s3:GetObject", "s3:PutObject"],
        sid="custom",
        principal="123456789012",
    )
    assert statement["Resource"] == ["arn:aws:s3:::customer-data/images/*", "arn:aws:s3:::customer-data/labels/*"]
    assert statement["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert statement["Sid"] == "custom"
    assert statement["Principal"] == {"AWS": "123456789012"}


def test_build_statement_does_not_share_the_default_actions_list():
    build_statement(BUCKET)["Action"].append("s3:PutObject")
    assert build_statement(BUCKET)["Action"] == ["s3:GetObject"]


# statement_key and statements_equal


@pytest.mark.parametrize(
    "rewritten_fields",
    [
        {"Action": "s3:GetObject"},
        {"Action": ["s3:getobject"]},
        {"Action": ["S3:GETOBJECT", "s3:GetObject"]},
        {"Principal": {"AWS": [SEGMENTS_PRINCIPAL]}},
        {"Principal": {"AWS": [SEGMENTS_PRINCIPAL, SEGMENTS_PRINCIPAL]}},
        {"Resource": ["arn:aws:s3:::customer-data/*"]},
    ],
)
def test_statements_equal_ignores_how_values_are_written(rewritten_fields):
    statement = ours()
    statement.update(rewritten_fields)
    assert statements_equal(statement, ours())
    assert statement_key(statement) == statement_key(ours())


def test_statements_equal_ignores_list_order_and_key_order():
    first = {
        "Sid": "a",
        "Effect": "Allow",
        "Principal": {"AWS": ["x", "y"]},
        "Action": ["s3:A", "s3:B"],
        "Resource": ["r1", "r2"],
    }
    second = {
        "Resource": ["r2", "r1", "r2"],
        "Action": ["s3:b", "s3:a"],
        "Principal": {"AWS": ["y", "x"]},
        "Effect": "Allow",
        "Sid": "a",
    }
    assert statements_equal(first, second)


def test_principal_star_equals_aws_star():
    assert statements_equal(foreign(Principal="*"), foreign(Principal={"AWS": "*"}))
    assert statements_equal(foreign(NotPrincipal="*"), foreign(NotPrincipal={"AWS": ["*"]}))


def test_account_id_equals_its_root_arn_because_s3_stores_the_arn():
    assert statements_equal(
        build_statement(BUCKET, principal="123456789012"),
        build_statement(BUCKET, principal="arn:aws:iam::123456789012:root"),
    )
    assert not statements_equal(
        build_statement(BUCKET, principal="123456789012"),
        build_statement(BUCKET, principal="arn:aws:iam::123456789012:user/root"),
    )


def test_condition_values_compare_as_sets():
    assert statements_equal(
        foreign(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        foreign(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
    )
    assert statements_equal(
        foreign(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}),
        foreign(Condition={"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"]}}),
    )
    assert not statements_equal(
        foreign(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        foreign(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    )


@pytest.mark.parametrize(
    "changed",
    [
        {"Effect": "Deny"},
        {"Sid": "Segments-S3-Access"},
        {"Action": ["s3:GetObject", "s3:PutObject"]},
        {"Resource": "arn:aws:s3:::Customer-Data/*"},
        {"Principal": {"AWS": OTHER_PRINCIPAL}},
        {"Principal": "*"},
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ],
)
def test_statements_differing_in_meaning_are_not_equal(changed):
    statement = ours()
    statement.update(changed)
    assert not statements_equal(statement, ours())


def test_action_and_not_action_are_not_the_same():
    not_action = foreign(NotAction="s3:GetObject")
    del not_action["Action"]
    assert not statements_equal(foreign(Action="s3:GetObject"), not_action)


def test_statement_key_is_hashable_and_orderable():
    keys = {statement_key(ours()), statement_key(foreign()), statement_key(ours())}
    assert len(keys) == 2
    assert sorted(keys)


# policy_statements and foreign_statements


def test_policy_statements_handles_every_shape():
    assert policy_statements(None) == []
    assert policy_statements({}) == []
    assert policy_statements({"Version": POLICY_VERSION, "Statement": None}) == []
    assert policy_statements({"Statement": foreign()}) == [foreign()]
    assert policy_statements({"Statement": [foreign(), ours()]}) == [foreign(), ours()]


def test_foreign_statements_keeps_order_and_skips_ours():
    policy = {"Statement": [foreign("A"), ours(), foreign("B"), {"Effect": "Allow", "Action": "s3:GetObject"}]}
    assert foreign_statements(policy, DEFAULT_SID) == [
        foreign("A"),
        foreign("B"),
        {"Effect": "Allow", "Action": "s3:GetObject"},
    ]
    assert foreign_statements(None, DEFAULT_SID) == []


# merge_statement


def test_merge_into_no_policy_creates_one():
    assert merge_statement(None, ours()) == ({"Version": POLICY_VERSION, "Statement": [ours()]}, True)


def test_merge_appends_after_foreign_statements_and_keeps_every_top_level_key():
    policy = {
        "Version": "2008-10-17",
        "Id": "CustomerPolicy",
        "Custom": {"x": 1},
        "Statement": [foreign("A"), deny_tls()],
    }
    merged, changed = merge_statement(policy, ours())
    assert changed
    assert merged == {
        "Version": "2008-10-17",
        "Id": "CustomerPolicy",
        "Custom": {"x": 1},
        "Statement": [foreign("A"), deny_tls(), ours()],
    }


def test_merge_replaces_a_stale_statement_of_ours_in_place():
    policy = {"Version": POLICY_VERSION, "Statement": [foreign("A"), stale_ours(), deny_tls()]}
    merged, changed = merge_statement(policy, ours())
    assert changed
    assert merged["Statement"] == [foreign("A"), ours(), deny_tls()]


def test_merge_leaves_a_statement_equal_in_meaning_alone():
    stored = {
        "Sid": DEFAULT_SID,
        "Effect": "Allow",
        "Principal": {"AWS": [SEGMENTS_PRINCIPAL]},
        "Action": "s3:getobject",
        "Resource": ["arn:aws:s3:::customer-data/*"],
    }
    policy = {"Version": POLICY_VERSION, "Statement": [foreign("A"), stored]}
    merged, changed = merge_statement(policy, ours())
    assert not changed
    assert merged == policy
    assert merged is not policy


def test_merge_collapses_duplicates_of_our_sid_to_the_first_position():
    policy = {"Statement": [foreign("A"), stale_ours(), foreign("B"), ours(), stale_ours()]}
    merged, changed = merge_statement(policy, ours())
    assert changed
    assert merged == {"Statement": [foreign("A"), ours(), foreign("B")]}


def test_merge_collapses_duplicates_even_when_the_first_is_already_right():
    stored = dict(ours(), Action="s3:GetObject")
    merged, changed = merge_statement({"Statement": [stored, foreign("A"), stale_ours()]}, ours())
    assert changed
    assert merged == {"Statement": [stored, foreign("A")]}


def test_merge_with_single_object_statement_of_ours_keeps_the_single_object_form():
    merged, changed = merge_statement({"Version": POLICY_VERSION, "Statement": stale_ours()}, ours())
    assert changed
    assert merged == {"Version": POLICY_VERSION, "Statement": ours()}

    merged, changed = merge_statement({"Version": POLICY_VERSION, "Statement": ours()}, ours())
    assert not changed
    assert merged == {"Version": POLICY_VERSION, "Statement": ours()}


def test_merge_with_single_foreign_statement_makes_a_list():
    merged, changed = merge_statement({"Version": POLICY_VERSION, "Statement": deny_tls()}, ours())
    assert changed
    assert merged == {"Version": POLICY_VERSION, "Statement": [deny_tls(), ours()]}


def test_merge_keeps_a_missing_version_missing():
    merged, _changed = merge_statement({"Statement": [foreign()]}, ours())
    assert "Version" not in merged
    merged, _changed = merge_statement({"Id": "x"}, ours())
    assert merged == {"Id": "x", "Statement": [ours()]}


def test_merge_never_mutates_its_inputs():
    policy = {"Version": POLICY_VERSION, "Statement": [foreign(), stale_ours(), stale_ours()]}
    statement = ours()
    before = copy.deepcopy((policy, statement))
    merged, _changed = merge_statement(policy, statement)
    assert (policy, statement) == before
    merged["Statement"][1]["Action"].append("s3:DeleteObject")
    assert statement == ours()


def test_merge_refuses_a_statement_without_sid():
    statement = ours()
    del statement["Sid"]
    with pytest.raises(ValueError):
        merge_statement({"Statement": [{"Effect": "Allow"}]}, statement)


# remove_statement


def test_remove_the_only_statement_leaves_none():
    merged, _changed = merge_statement(None, ours())
    assert remove_statement(merged, DEFAULT_SID) == (None, True)
    assert remove_statement({"Statement": ours()}, DEFAULT_SID) == (None, True)
    assert remove_statement({"Statement": [ours(), stale_ours()]}, DEFAULT_SID) == (None, True)


def test_remove_keeps_foreign_statements_in_order():
    policy = {"Version": POLICY_VERSION, "Id": "p", "Statement": [foreign("A"), ours(), deny_tls(), stale_ours()]}
    assert remove_statement(policy, DEFAULT_SID) == (
        {"Version": POLICY_VERSION, "Id": "p", "Statement": [foreign("A"), deny_tls()]},
        True,
    )


def test_remove_without_ours_changes_nothing():
    assert remove_statement(None, DEFAULT_SID) == (None, False)
    policy = {
        "Version": POLICY_VERSION,
        "Statement": [foreign("A"), {"Effect": "Deny", "Principal": "*", "Action": "*"}],
    }
    assert remove_statement(policy, DEFAULT_SID) == (policy, False)
    single = {"Version": POLICY_VERSION, "Statement": deny_tls()}
    assert remove_statement(single, DEFAULT_SID) == (single, False)


def test_remove_never_mutates_and_refuses_an_empty_sid():
    policy = {"Statement": [foreign(), ours()]}
    before = copy.deepcopy(policy)
    remove_statement(policy, DEFAULT_SID)
    assert policy == before
    with pytest.raises(ValueError):
        remove_statement({"Statement": [{"Effect": "Allow"}]}, None)


# policy size


def test_policy_size_counts_compact_json_bytes():
    policy = {"Version": POLICY_VERSION, "Statement": [ours()]}
    assert policy_size(policy) == len(json.dumps(policy, separators=(",", ":")))
    assert policy_size({"Id": "é"}) == len('{"Id":"\\u00e9"}')


def padded_policy(size):
    policy = {"Version": POLICY_VERSION, "Statement": [ours()], "Id": ""}
    policy["Id"] = "x" * (size - policy_size(policy))
    assert policy_size(policy) == size
    return policy


def test_check_policy_size_accepts_exactly_the_limit():
    check_policy_size(padded_policy(POLICY_SIZE_LIMIT))


def test_check_policy_size_refuses_one_byte_more_with_a_clear_message():
    with pytest.raises(PolicyTooLarge) as raised:
        check_policy_size(padded_policy(POLICY_SIZE_LIMIT + 1))
    assert isinstance(raised.value, ValueError)
    assert raised.value.size == 20481
    assert raised.value.limit == 20480
    assert str(raised.value) == (
        "the merged bucket policy would be 20481 bytes, over S3's 20480-byte limit; remove unused statements first"
    )


def test_a_policy_crowded_with_statements_goes_over_the_limit_after_merge():
    crowded = {"Version": POLICY_VERSION, "Statement": [foreign("Stmt%d" % number) for number in range(10)]}
    check_policy_size(crowded)
    while policy_size(crowded) < POLICY_SIZE_LIMIT - 50:
        crowded["Statement"].append(foreign("Stmt%d" % len(crowded["Statement"])))
    merged, _changed = merge_statement(crowded, ours())
    with pytest.raises(PolicyTooLarge):
        check_policy_size(merged)


# validators


@pytest.mark.parametrize(
    "principal",
    [
        SEGMENTS_PRINCIPAL,
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::123456789012:role/service-role/reader",
        "arn:aws:iam::123456789012:user/team/a.b+c=d,e@f-g_h",
        "arn:aws-cn:iam::123456789012:role/reader",
        "arn:aws-us-gov:iam::123456789012:user/reader",
        "123456789012",
    ],
)
def test_validate_principal_accepts(principal):
    assert validate_principal(principal) is None


@pytest.mark.parametrize(
    "principal",
    [
        "",
        None,
        "12345678901",
        "1234567890123",
        "arn:aws:iam::12345678901:root",
        "arn:aws:iam::123456789012:group/readers",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:sts::123456789012:assumed-role/reader/session",
        "arn:aws:s3:::customer-data",
        "segmentsai-prod-user",
        " arn:aws:iam::123456789012:root",
    ],
)
def test_validate_principal_refuses(principal):
    assert validate_principal(principal)


@pytest.mark.parametrize(
    "principal", ["*", "arn:aws:iam::*:root", "arn:aws:iam::123456789012:role/read*", "12345678901?"]
)
def test_validate_principal_refuses_wildcards_naming_the_option(principal):
    assert "allow_public_principal" in validate_principal(principal)


def test_validate_principal_accepts_only_a_bare_star_when_allowed():
    assert validate_principal("*", allow_wildcard=True) is None
    assert validate_principal("arn:aws:iam::*:root", allow_wildcard=True)


@pytest.mark.parametrize(
    "actions", [["s3:GetObject"], ["s3:GetObject", "s3:PutObject"], ["S3:getobject"], ("s3:ListBucket",)]
)
def test_validate_actions_accepts(actions):
    assert validate_actions(actions) is None


@pytest.mark.parametrize(
    "actions", [[], None, "s3:GetObject", ["ec2:StartInstances"], ["GetObject"], ["s3:"], ["s3:Get Object"], [None]]
)
def test_validate_actions_refuses(actions):
    assert validate_actions(actions)


@pytest.mark.parametrize("action", ["*", "s3:*", "s3:Get*", "s3:GetObjec?"])
def test_validate_actions_refuses_wildcards_unless_allowed(action):
    assert "allow_wildcard_actions" in validate_actions(["s3:GetObject", action])
    assert validate_actions([action], allow_wildcard=True) is None


def test_validate_actions_refuses_non_s3_wildcards_even_when_allowed():
    assert validate_actions(["ec2:*"], allow_wildcard=True)
    assert validate_actions([], allow_wildcard=True)


@pytest.mark.parametrize(
    "name", ["abc", "customer-data", "my.bucket.name", "1bucket9", "a" * 63, "xn-bucket", "bucket-s3alia"]
)
def test_validate_bucket_name_accepts(name):
    assert validate_bucket_name(name) is None


@pytest.mark.parametrize(
    "name, rule",
    [
        ("ab", "between 3 and 63"),
        ("a" * 64, "between 3 and 63"),
        ("Customer-Data", "lowercase letters"),
        ("customer_data", "lowercase letters"),
        ("customer data", "lowercase letters"),
        ("-bucket", "begin and end"),
        ("bucket.", "begin and end"),
        ("my..bucket", "adjacent dots"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "xn--"),
        ("bucket-s3alias", "-s3alias"),
        ("bucket--ol-s3", "--ol-s3"),
    ],
)
def test_validate_bucket_name_names_the_bucket_and_the_rule(name, rule):
    error = validate_bucket_name(name)
    assert name in error
    assert rule in error


def test_validate_bucket_name_refuses_non_strings():
    assert validate_bucket_name(None)


# deny_statements_matching


def deny(**fields):
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % BUCKET}
    statement.update(fields)
    return {key: value for key, value in statement.items() if value is not None}


def denies(statement, principal=SEGMENTS_PRINCIPAL, action="s3:GetObject", bucket=BUCKET):
    return deny_statements_matching({"Statement": [statement]}, principal, action=action, bucket=bucket) == [statement]


@pytest.mark.parametrize(
    "statement",
    [
        deny(),
        deny(Principal={"AWS": "*"}),
        deny(Principal={"AWS": [OTHER_PRINCIPAL, SEGMENTS_PRINCIPAL]}),
        deny(Principal={"AWS": "arn:aws:iam::%s:root" % OUR_ACCOUNT}),
        deny(Principal={"AWS": OUR_ACCOUNT}),
        deny(Action="s3:*"),
        deny(Action="*"),
        deny(Action=["s3:PutObject", "S3:GET*"]),
        deny(Action=None, NotAction="s3:PutObject"),
        deny(Principal=None, NotPrincipal={"AWS": OTHER_PRINCIPAL}),
        deny(Resource="*"),
        deny(Resource="arn:aws:s3:::customer-*/*"),
        deny(Resource="arn:aws:s3:::%s/private/*" % BUCKET),
        deny(Resource=None, NotResource="arn:aws:s3:::%s/public/*" % BUCKET),
        deny(Condition={"Bool": {"aws:SecureTransport": "false"}}),
    ],
)
def test_deny_statements_matching_reports(statement):
    assert denies(statement)


@pytest.mark.parametrize(
    "statement",
    [
        deny(Effect="Allow"),
        deny(Principal={"AWS": OTHER_PRINCIPAL}),
        deny(Principal={"AWS": "arn:aws:iam::111122223333:root"}),
        deny(Principal={"Service": "cloudfront.amazonaws.com"}),
        deny(Action="s3:PutObject"),
        deny(Action="s3:List*"),
        deny(Action=None, NotAction="s3:Get*"),
        deny(Action=None, NotAction=["s3:PutObject", "s3:*"]),
        deny(Principal=None, NotPrincipal={"AWS": [OTHER_PRINCIPAL, SEGMENTS_PRINCIPAL]}),
        deny(Principal=None, NotPrincipal="*"),
        deny(Resource="arn:aws:s3:::other-bucket/*"),
        deny(Resource="arn:aws:s3:::%s" % BUCKET),
        deny(Resource="arn:aws:s3:::customer-data[x]/*"),
        deny(Resource=None, NotResource="arn:aws:s3:::%s/*" % BUCKET),
        deny(Resource=None, NotResource=["arn:aws:s3:::other/*", "arn:aws:s3:::*"]),
    ],
)
def test_deny_statements_matching_ignores(statement):
    assert not denies(statement)


def test_deny_on_a_user_of_an_account_we_grant_may_match():
    assert denies(deny(Principal={"AWS": "arn:aws:iam::123456789012:user/intern"}), principal="123456789012")
    assert not denies(deny(Principal={"AWS": "arn:aws:iam::210987654321:user/intern"}), principal="123456789012")


def test_deny_statements_matching_checks_the_given_action_and_any_bucket_without_one():
    assert denies(deny(Action="s3:PutObject"), action="s3:PutObject")
    assert denies(deny(Resource="arn:aws:s3:::other-bucket/*"), bucket=None)


def test_deny_statements_matching_keeps_policy_order_and_copies():
    first, second = deny(Sid="one"), deny(Sid="two", Action="s3:*")
    policy = {"Statement": [first, ours(), deny(Sid="other", Action="s3:PutObject"), second]}
    found = deny_statements_matching(policy, SEGMENTS_PRINCIPAL, bucket=BUCKET)
    assert found == [first, second]
    found[0]["Sid"] = "changed"
    assert policy["Statement"][0]["Sid"] == "one"
    assert deny_statements_matching(None, SEGMENTS_PRINCIPAL) == []
    assert deny_statements_matching({"Statement": deny()}, SEGMENTS_PRINCIPAL) == [deny()]


# Property-based tests over random policies

SIDS = st.sampled_from(
    ["CustomerReadOnly", "DenyInsecureTransport", "Stmt1", "Stmt1", "AllowCloudFront", "segments-s3-access-old"]
)
ACTIONS = st.sampled_from(["s3:GetObject", "s3:getobject", "s3:PutObject", "s3:ListBucket", "s3:*", "s3:Get*", "*"])
RESOURCES = st.sampled_from(
    [
        "arn:aws:s3:::customer-data",
        "arn:aws:s3:::customer-data/*",
        "arn:aws:s3:::customer-data/private/*",
        "arn:aws:s3:::other/*",
        "*",
    ]
)
AWS_PRINCIPALS = st.sampled_from(
    [SEGMENTS_PRINCIPAL, OTHER_PRINCIPAL, "123456789012", "arn:aws:iam::123456789012:root", "*"]
)
CONDITION_KEYS = st.sampled_from(["aws:SourceIp", "aws:SecureTransport", "aws:PrincipalOrgID", "s3:prefix"])
CONDITION_VALUES = st.sampled_from(["10.0.0.0/8", "false", "o-abc123", "home/", "true"])


def one_or_many(elements):
    return st.one_of(elements, st.lists(elements, min_size=1, max_size=3))


PRINCIPALS = st.one_of(
    st.just("*"),
    st.fixed_dictionaries({"AWS": one_or_many(AWS_PRINCIPALS)}),
    st.fixed_dictionaries(
        {"Service": one_or_many(st.sampled_from(["cloudfront.amazonaws.com", "logging.s3.amazonaws.com"]))}
    ),
)
CONDITIONS = st.dictionaries(
    st.sampled_from(["StringEquals", "StringLike", "IpAddress", "Bool"]),
    st.dictionaries(CONDITION_KEYS, one_or_many(CONDITION_VALUES), min_size=1, max_size=2),
    min_size=1,
    max_size=2,
)


@st.composite
def foreign_statement(draw):
    statement = {}
    sid = draw(st.one_of(st.none(), SIDS))
    if sid is not None:
        statement["Sid"] = sid
    statement["Effect"] = draw(st.sampled_from(["Allow", "Deny"]))
    statement[draw(st.sampled_from(["Principal", "NotPrincipal"]))] = draw(PRINCIPALS)
    statement[draw(st.sampled_from(["Action", "NotAction"]))] = draw(one_or_many(ACTIONS))
    statement[draw(st.sampled_from(["Resource", "NotResource"]))] = draw(one_or_many(RESOURCES))
    if draw(st.booleans()):
        statement["Condition"] = draw(CONDITIONS)
    return statement


@st.composite
def our_statement(draw):
    return build_statement(
        draw(st.sampled_from([BUCKET, "other-bucket"])),
        principal=draw(st.sampled_from([SEGMENTS_PRINCIPAL, "123456789012"])),
        actions=draw(
            st.lists(
                st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:ListBucket"]), min_size=1, max_size=3, unique=True
            )
        ),
        prefixes=draw(
            st.one_of(st.none(), st.lists(st.sampled_from(["images/", "/labels/", "raw"]), min_size=1, max_size=3))
        ),
    )


def restyled(statement, draw):
    """Return statement written differently but meaning the same: lists for strings, shuffled, repeated, actions in other case."""
    rewritten = {}
    for field, value in statement.items():
        if field in ("Action", "NotAction", "Resource", "NotResource"):
            values = value if isinstance(value, list) else [value]
            if field in ("Action", "NotAction"):
                values = [draw(st.sampled_from([action, action.lower(), action.upper()])) for action in values]
            values = draw(st.permutations(values + draw(st.lists(st.sampled_from(values), max_size=2))))
            rewritten[field] = values[0] if len(set(values)) == 1 and draw(st.booleans()) else values
        elif field in ("Principal", "NotPrincipal") and isinstance(value, dict):
            rewritten[field] = {
                kind: draw(st.permutations(names if isinstance(names, list) else [names]))
                for kind, names in value.items()
            }
        elif field in ("Principal", "NotPrincipal") and value == "*":
            rewritten[field] = draw(st.sampled_from(["*", {"AWS": "*"}, {"AWS": ["*"]}]))
        else:
            rewritten[field] = copy.deepcopy(value)
    return dict(draw(st.permutations(list(rewritten.items()))))


@st.composite
def policies(draw, statements=None):
    """Random policy dicts, or None; statements defaults to foreign statements only."""
    if draw(st.integers(0, 9)) == 0:
        return None
    statements = draw(st.lists(foreign_statement(), max_size=6)) if statements is None else statements
    policy = {}
    if draw(st.booleans()):
        policy["Version"] = draw(st.sampled_from([POLICY_VERSION, "2008-10-17"]))
    if draw(st.booleans()):
        policy["Id"] = draw(st.sampled_from(["CustomerPolicy", "PolicyForCloudFront"]))
    if len(statements) == 1 and draw(st.booleans()):
        policy["Statement"] = statements[0]
    elif statements or draw(st.booleans()):
        policy["Statement"] = statements
    return policy


@st.composite
def policies_with_ours(draw):
    """Random policies holding foreign statements and zero or more statements of ours, stale or current, anywhere."""
    our = draw(our_statement())
    statements = draw(st.lists(foreign_statement(), max_size=6))
    for _copy in range(draw(st.integers(0, 3))):
        candidate = draw(st.one_of(our_statement(), st.just(our)))
        statements.insert(draw(st.integers(0, len(statements))), restyled(candidate, draw))
    return draw(policies(statements=statements)), our


def top_level(policy):
    return {key: value for key, value in (policy or {}).items() if key != "Statement"}


def ours_in(policy, sid=DEFAULT_SID):
    return [statement for statement in policy_statements(policy) if statement.get("Sid") == sid]


@EXAMPLES
@given(policies_with_ours())
def test_merge_keeps_foreign_parts_and_holds_ours_once(case):
    policy, our = case
    before = copy.deepcopy(case)
    merged, changed = merge_statement(policy, our)
    assert case == before, "merge_statement mutated its input"
    assert foreign_statements(merged, DEFAULT_SID) == foreign_statements(policy, DEFAULT_SID)
    assert len(ours_in(merged)) == 1 and statements_equal(ours_in(merged)[0], our)
    if policy is None:
        assert merged == {"Version": POLICY_VERSION, "Statement": [our]} and changed
    else:
        assert top_level(merged) == top_level(policy)
        assert changed == (merged != policy)
    existing = [statement.get("Sid") for statement in policy_statements(policy)]
    if DEFAULT_SID in existing:
        assert [statement.get("Sid") for statement in policy_statements(merged)].index(DEFAULT_SID) == existing.index(
            DEFAULT_SID
        )
    else:
        assert policy_statements(merged)[-1] == our


@EXAMPLES
@given(policies_with_ours())
def test_merge_is_idempotent(case):
    policy, our = case
    merged, _changed = merge_statement(policy, our)
    assert merge_statement(merged, our) == (merged, False)
    assert merge_statement(merged, restyled_copy(our)) == (merged, False)


def restyled_copy(statement):
    rewritten = copy.deepcopy(statement)
    rewritten["Action"] = [action.lower() for action in reversed(rewritten["Action"])]
    return rewritten


@EXAMPLES
@given(policies())
def test_remove_after_merge_gives_back_a_policy_without_ours(policy):
    original = copy.deepcopy(policy)
    merged, _changed = merge_statement(policy, ours())
    removed, changed = remove_statement(merged, DEFAULT_SID)
    assert changed
    assert policy == original
    if not foreign_statements(policy, DEFAULT_SID):
        assert removed is None
    elif isinstance(policy["Statement"], dict):
        # Appending ours had to turn a single-object Statement into a list; removal cannot tell it was one.
        assert removed == dict(policy, Statement=[policy["Statement"]])
    else:
        assert removed == policy


@EXAMPLES
@given(policies_with_ours())
def test_remove_drops_every_statement_of_ours_and_nothing_else(case):
    policy, _our = case
    before = copy.deepcopy(policy)
    removed, changed = remove_statement(policy, DEFAULT_SID)
    assert policy == before, "remove_statement mutated its input"
    assert changed == bool(ours_in(policy))
    assert ours_in(removed) == []
    assert foreign_statements(removed, DEFAULT_SID) == foreign_statements(policy, DEFAULT_SID)
    if not changed:
        assert removed == policy
    elif not foreign_statements(policy, DEFAULT_SID):
        assert removed is None
    else:
        assert top_level(removed) == top_level(policy)
        assert type(removed["Statement"]) is type(policy["Statement"])


@EXAMPLES
@given(st.data())
def test_statements_equal_survives_any_restyling(data):
    statement = data.draw(st.one_of(foreign_statement(), our_statement()))
    rewritten = restyled(statement, data.draw)
    assert statements_equal(statement, rewritten)
    assert statement_key(statement) == statement_key(rewritten)
    assert not statements_equal(
        statement, dict(statement, Effect="Deny" if statement["Effect"] == "Allow" else "Allow")
    )


@EXAMPLES
@given(policies_with_ours())
def test_deny_statements_matching_returns_only_deny_statements_in_order(case):
    policy, _our = case
    found = deny_statements_matching(policy, SEGMENTS_PRINCIPAL, bucket=BUCKET)
    denies_in_policy = [statement for statement in policy_statements(policy) if statement.get("Effect") == "Deny"]
    assert all(statement in denies_in_policy for statement in found)
    assert found == [statement for statement in denies_in_policy if statement in found]
    assert len(found) <= len(deny_statements_matching(policy, SEGMENTS_PRINCIPAL, bucket=None))


# build_kms_statement, policies_equal, allow_statements_granting, check_policy_size with a limit


def test_build_kms_statement_grants_decrypt_only_through_s3_in_the_region():
    assert build_kms_statement("eu-west-1") == {
        "Sid": DEFAULT_KMS_SID,
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
    }


def test_kms_statement_merges_into_a_key_policy_like_any_statement():
    key_policy = {"Version": POLICY_VERSION, "Id": "key-default-1", "Statement": [foreign()]}
    merged, changed = merge_statement(key_policy, build_kms_statement("eu-west-1"))
    assert changed and merged["Id"] == "key-default-1" and merged["Statement"][0] == foreign()
    assert merge_statement(merged, build_kms_statement("eu-west-1")) == (merged, False)
    assert remove_statement(merged, DEFAULT_KMS_SID) == (key_policy, True)


def test_policies_equal_compares_meaning_and_order():
    policy = {"Version": POLICY_VERSION, "Id": "x", "Statement": [foreign(), ours()]}
    reformatted = {
        "Id": "x",
        "Version": POLICY_VERSION,
        "Statement": [foreign(Action=["s3:ListBucket", "s3:getobject"]), dict(ours(), Action="s3:GetObject")],
    }
    assert policies_equal(policy, reformatted)
    assert policies_equal(None, None)
    assert not policies_equal(policy, None) and not policies_equal(None, policy)
    assert not policies_equal(policy, {"Version": POLICY_VERSION, "Id": "x", "Statement": [ours(), foreign()]})
    assert not policies_equal(policy, {"Version": POLICY_VERSION, "Id": "y", "Statement": [foreign(), ours()]})
    assert not policies_equal(policy, {"Version": POLICY_VERSION, "Id": "x", "Statement": [foreign()]})
    assert policies_equal(
        {"Version": POLICY_VERSION, "Statement": ours()}, {"Version": POLICY_VERSION, "Statement": [ours()]}
    )


@given(
    statements=st.lists(
        st.sampled_from([foreign(), deny_tls(), ours(), stale_ours(), foreign(sid="Other")]), max_size=5
    )
)
@EXAMPLES
def test_policies_equal_is_reflexive_and_merge_settles(statements):
    policy = {"Version": POLICY_VERSION, "Statement": statements}
    assert policies_equal(policy, copy.deepcopy(policy))
    merged, _changed = merge_statement(policy, ours())
    assert policies_equal(merge_statement(merged, ours())[0], merged)


def test_allow_statements_granting_is_strict():
    objects = "arn:aws:s3:::%s/*" % BUCKET
    granting = {
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "Action": "s3:GetObject",
        "Resource": objects,
    }
    conditional = dict(granting, Condition={"Bool": {"aws:SecureTransport": "true"}})
    not_action = {
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "NotAction": "s3:PutObject",
        "Resource": objects,
    }
    account = dict(granting, Principal={"AWS": "931508227573"})
    other_account = dict(granting, Principal={"AWS": "111122223333"})
    policy = {
        "Version": POLICY_VERSION,
        "Statement": [granting, conditional, not_action, account, other_account, deny_tls()],
    }
    assert allow_statements_granting(policy, SEGMENTS_PRINCIPAL, "s3:GetObject", objects) == [granting, account]
    assert allow_statements_granting(
        policy, SEGMENTS_PRINCIPAL, "s3:GetObject", "arn:aws:s3:::%s/images/a.png" % BUCKET
    ) == [granting, account]
    assert allow_statements_granting(policy, SEGMENTS_PRINCIPAL, "s3:GetObject", "arn:aws:s3:::other/*") == []
    assert allow_statements_granting(None, SEGMENTS_PRINCIPAL, "s3:GetObject", objects) == []


def test_check_policy_size_takes_another_limit():
    policy = {"Version": POLICY_VERSION, "Statement": [foreign(sid="S%d" % index) for index in range(130)]}
    with pytest.raises(PolicyTooLarge):
        check_policy_size(policy)
    check_policy_size(policy, KEY_POLICY_SIZE_LIMIT)
