# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    DEFAULT_ROLE,
    IAM_POLICY_VERSION,
    LEAST_PRIVILEGE_DOC,
    add_member,
    foreign_bindings,
    has_member,
    remove_member,
    validate_member,
    validate_role,
)

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

OUR_MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
CONDITION = {"title": "only-images", "expression": 'resource.name.startsWith("projects/_/buckets/b/objects/images/")'}


def _policy(*bindings, **top_level):
    policy = {
        "version": IAM_POLICY_VERSION,
        "etag": "BwXYZ123=",
        "bindings": [copy.deepcopy(binding) for binding in bindings],
    }
    policy.update(top_level)
    return policy


ADMIN_BINDING = {
    "role": "roles/storage.admin",
    "members": ["user:owner@customer.example", "group:ops@customer.example"],
}
VIEWER_BINDING = {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example"]}
CONDITIONAL_VIEWER_BINDING = {"role": DEFAULT_ROLE, "members": ["user:bob@customer.example"], "condition": CONDITION}


# add_member


def test_add_to_fresh_policy_appends_a_binding():
    new_policy, changed = add_member(_policy(), DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy({"role": DEFAULT_ROLE, "members": [OUR_MEMBER]})


@pytest.mark.parametrize("policy", [None, {}, {"etag": "abc"}, {"etag": "abc", "bindings": None}])
def test_add_to_policy_without_bindings(policy):
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy["bindings"] == [{"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]
    if policy:
        assert new_policy["etag"] == "abc"


def test_add_keeps_everything_else_and_appends_new_binding_last():
    policy = _policy(
        ADMIN_BINDING, CONDITIONAL_VIEWER_BINDING, kind="storage#policy", resourceId="projects/_/buckets/b"
    )
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy(
        ADMIN_BINDING,
        CONDITIONAL_VIEWER_BINDING,
        {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]},
        kind="storage#policy",
        resourceId="projects/_/buckets/b",
    )


def test_add_joins_existing_unconditional_binding_at_the_end_of_its_members():
    new_policy, changed = add_member(_policy(ADMIN_BINDING, VIEWER_BINDING), DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy(
        ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example", OUR_MEMBER]}
    )


def test_add_never_touches_a_conditional_binding_for_the_same_role():
    policy = _policy(dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER]))
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy["bindings"][0] == dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER])
    assert new_policy["bindings"][1] == {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}


def test_add_treats_condition_none_as_unconditional():
    policy = _policy(dict(VIEWER_BINDING, condition=None))
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy(
        {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example", OUR_MEMBER], "condition": None}
    )


def test_add_member_already_present_is_unchanged():
    policy = _policy(ADMIN_BINDING, dict(VIEWER_BINDING, members=["user:alice@customer.example", OUR_MEMBER]))
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert not changed
    assert new_policy == policy


def test_add_with_duplicate_unconditional_bindings_uses_the_first_only_if_member_is_in_none():
    second_binding = {"role": DEFAULT_ROLE, "members": ["user:carol@customer.example", OUR_MEMBER]}
    policy = _policy(VIEWER_BINDING, second_binding)
    assert add_member(policy, DEFAULT_ROLE, OUR_MEMBER) == (policy, False)

    policy = _policy(VIEWER_BINDING, {"role": DEFAULT_ROLE, "members": ["user:carol@customer.example"]})
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy["bindings"] == [
        {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example", OUR_MEMBER]},
        {"role": DEFAULT_ROLE, "members": ["user:carol@customer.example"]},
    ]


def test_add_for_another_role_does_not_count_a_grant_of_the_default_role():
    policy = _policy({"role": DEFAULT_ROLE, "members": [OUR_MEMBER]})
    new_policy, changed = add_member(policy, "projects/segments-prod/roles/segmentsObjectReader", OUR_MEMBER)
    assert changed
    assert new_policy["bindings"][-1] == {
        "role": "projects/segments-prod/roles/segmentsObjectReader",
        "members": [OUR_MEMBER],
    }


def test_member_comparison_folds_only_the_type_prefix():
    policy = _policy({"role": DEFAULT_ROLE, "members": [OUR_MEMBER]})
    assert has_member(policy, DEFAULT_ROLE, OUR_MEMBER.replace("serviceAccount:", "serviceaccount:"))
    assert not has_member(policy, DEFAULT_ROLE, OUR_MEMBER.replace("segments-reader", "Segments-Reader"))
    new_policy, changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER.replace("segments-reader", "Segments-Reader"))
    assert changed
    assert new_policy["bindings"][0]["members"] == [
        OUR_MEMBER,
        OUR_MEMBER.replace("segments-reader", "Segments-Reader"),
    ]


def test_add_does_not_mutate_or_share_the_input():
    policy = _policy(ADMIN_BINDING, VIEWER_BINDING, CONDITIONAL_VIEWER_BINDING)
    policy_before = copy.deepcopy(policy)
    new_policy, _changed = add_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert policy == policy_before
    new_policy["bindings"][0]["members"].append("user:mallory@evil.example")
    new_policy["bindings"][2]["condition"]["title"] = "changed"
    assert policy == policy_before


# remove_member


def test_remove_drops_a_binding_left_empty_and_keeps_the_rest():
    policy = _policy(ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}, CONDITIONAL_VIEWER_BINDING)
    new_policy, changed = remove_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy(ADMIN_BINDING, CONDITIONAL_VIEWER_BINDING)


def test_remove_keeps_other_members_of_our_binding_in_order():
    policy = _policy(
        {"role": DEFAULT_ROLE, "members": ["user:a@customer.example", OUR_MEMBER, "user:b@customer.example"]}
    )
    new_policy, changed = remove_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy(
        {"role": DEFAULT_ROLE, "members": ["user:a@customer.example", "user:b@customer.example"]}
    )


def test_remove_from_every_unconditional_binding_but_never_a_conditional_one():
    conditional_binding = dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER])
    policy = _policy(
        {"role": DEFAULT_ROLE, "members": [OUR_MEMBER, "user:a@customer.example"]},
        conditional_binding,
        {"role": DEFAULT_ROLE, "members": [OUR_MEMBER], "condition": None},
    )
    new_policy, changed = remove_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert changed
    assert new_policy == _policy({"role": DEFAULT_ROLE, "members": ["user:a@customer.example"]}, conditional_binding)


def test_remove_absent_member_is_unchanged():
    policy = _policy(ADMIN_BINDING, VIEWER_BINDING, dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER]))
    assert remove_member(policy, DEFAULT_ROLE, OUR_MEMBER) == (policy, False)


def test_remove_leaves_a_pre_existing_empty_binding_alone_when_member_is_absent():
    policy = _policy({"role": DEFAULT_ROLE, "members": []})
    assert remove_member(policy, DEFAULT_ROLE, OUR_MEMBER) == (policy, False)


def test_remove_does_not_mutate_the_input():
    policy = _policy(ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]})
    policy_before = copy.deepcopy(policy)
    remove_member(policy, DEFAULT_ROLE, OUR_MEMBER)
    assert policy == policy_before


# has_member and foreign_bindings


def test_has_member_looks_at_unconditional_bindings_only():
    assert not has_member(_policy(dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER])), DEFAULT_ROLE, OUR_MEMBER)
    assert has_member(_policy({"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}), DEFAULT_ROLE, OUR_MEMBER)
    assert not has_member(_policy({"role": "roles/storage.admin", "members": [OUR_MEMBER]}), DEFAULT_ROLE, OUR_MEMBER)
    assert not has_member(None, DEFAULT_ROLE, OUR_MEMBER)


def test_foreign_bindings_strip_only_our_grant():
    policy = _policy(
        ADMIN_BINDING,
        {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]},
        {"role": DEFAULT_ROLE, "members": ["user:a@customer.example", OUR_MEMBER]},
        dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER]),
    )
    assert foreign_bindings(policy, DEFAULT_ROLE, OUR_MEMBER) == [
        ADMIN_BINDING,
        {"role": DEFAULT_ROLE, "members": ["user:a@customer.example"]},
        dict(CONDITIONAL_VIEWER_BINDING, members=[OUR_MEMBER]),
    ]
    assert foreign_bindings(None, DEFAULT_ROLE, OUR_MEMBER) == []


# validators


@pytest.mark.parametrize(
    "member",
    [
        OUR_MEMBER,
        "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com",
        "user:alice@example.com",
        "group:data-team@example.co.uk",
        "domain:example.com",
        "principal://iam.googleapis.com/locations/global/workforcePools/pool/subject/alice",
        "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/attribute.team/ml",
    ],
)
def test_validate_member_accepts(member):
    assert validate_member(member) is None


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers"])
def test_validate_member_refuses_public_members_unless_allowed(member):
    message = validate_member(member)
    assert message is not None and "allow_public_member" in message
    assert validate_member(member, allow_public=True) is None


@pytest.mark.parametrize(
    "member",
    [
        None,
        "",
        "segments-reader@segments-prod.iam.gserviceaccount.com",
        "serviceAccount:",
        "serviceAccount:not-an-email",
        "serviceAccount:a@b",
        "user:alice@example.com ",
        "domain:",
        "domain:example",
        "principal://",
        "projectOwner:my-project",
        "deleted:serviceAccount:a@b.iam.gserviceaccount.com?uid=1",
        "allusers",
    ],
)
def test_validate_member_refuses(member):
    message = validate_member(member)
    assert isinstance(message, str) and "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com" in message


@pytest.mark.parametrize(
    "role",
    [
        DEFAULT_ROLE,
        "roles/storage.legacyObjectReader",
        "roles/custom_role.v2",
        "projects/segments-prod/roles/segmentsObjectReader",
        "projects/example.com:segments-prod/roles/reader",
        "organizations/123456789/roles/segments.reader",
    ],
)
def test_validate_role_accepts(role):
    assert validate_role(role) is None


@pytest.mark.parametrize(
    "role",
    [
        None,
        "",
        "storage.objectViewer",
        "roles/",
        "roles/storage objectViewer",
        "roles/storage-objectViewer",
        "projects//roles/reader",
        "projects/segments-prod/roles/",
        "organizations/acme/roles/reader",
        "folders/123/roles/reader",
        "roles/storage.objectViewer\n",
    ],
)
def test_validate_role_refuses(role):
    message = validate_role(role)
    assert isinstance(message, str) and message


def test_least_privilege_doc_names_the_permission():
    assert "storage.objects.get" in LEAST_PRIVILEGE_DOC


# property-based tests

OTHER_MEMBERS = [
    "user:alice@customer.example",
    "group:ops@customer.example",
    "domain:customer.example",
    "serviceAccount:other@customer-prod.iam.gserviceaccount.com",
    OUR_MEMBER.replace("segments-reader", "Segments-Reader"),
    "allUsers",
    "deleted:serviceAccount:gone@customer-prod.iam.gserviceaccount.com?uid=123",
]
ROLES = [
    DEFAULT_ROLE,
    "roles/storage.admin",
    "roles/storage.legacyBucketReader",
    "projects/segments-prod/roles/segmentsObjectReader",
]
CONDITIONS = [
    CONDITION,
    {"title": "expires", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")', "description": "temporary"},
]

members = st.sampled_from(OTHER_MEMBERS + [OUR_MEMBER])


@st.composite
def bindings(draw):
    """One binding; IAM never returns an empty members list, so neither do we."""
    binding = {"role": draw(st.sampled_from(ROLES)), "members": draw(st.lists(members, min_size=1, max_size=4))}
    condition_kind = draw(st.sampled_from(["absent", "none", "set"]))
    if condition_kind == "none":
        binding["condition"] = None
    elif condition_kind == "set":
        binding["condition"] = copy.deepcopy(draw(st.sampled_from(CONDITIONS)))
    return binding


@st.composite
def policies(draw):
    """A policy as the storage client returns it: version, etag, sometimes extra keys, sometimes no bindings key at
    all."""
    policy = {"version": draw(st.sampled_from([1, 3])), "etag": draw(st.text(min_size=1, max_size=12))}
    if draw(st.booleans()):
        policy["kind"] = "storage#policy"
    if draw(st.integers(min_value=0, max_value=9)) > 0:
        # Duplicate roles are common here because ROLES is small.
        policy["bindings"] = draw(st.lists(bindings(), max_size=6))
    return policy


roles = st.sampled_from(ROLES)


def _occurrences(policy, role, member):
    return sum(
        binding.get("members", []).count(member)
        for binding in policy.get("bindings") or []
        if binding.get("role") == role and binding.get("condition") is None
    )


def _conditional_bindings(policy):
    return [binding for binding in policy.get("bindings") or [] if binding.get("condition") is not None]


def _without_bindings(policy):
    return {key: value for key, value in policy.items() if key != "bindings"}


@HYPOTHESIS_SETTINGS
@given(policy=policies(), role=roles)
def test_property_add(policy, role):
    policy_before = copy.deepcopy(policy)

    new_policy, changed = add_member(policy, role, OUR_MEMBER)

    assert policy == policy_before
    assert changed == (not has_member(policy, role, OUR_MEMBER))
    assert has_member(new_policy, role, OUR_MEMBER)
    if changed:
        assert _occurrences(new_policy, role, OUR_MEMBER) == 1
    else:
        assert new_policy == policy
    assert _without_bindings(new_policy) == _without_bindings(policy)
    assert _conditional_bindings(new_policy) == _conditional_bindings(policy)
    assert foreign_bindings(new_policy, role, OUR_MEMBER) == foreign_bindings(policy, role, OUR_MEMBER)

    again, changed_again = add_member(new_policy, role, OUR_MEMBER)
    assert not changed_again
    assert again == new_policy


@HYPOTHESIS_SETTINGS
@given(policy=policies(), role=roles)
def test_property_add_keeps_every_other_binding_in_order(policy, role):
    new_policy, changed = add_member(policy, role, OUR_MEMBER)
    old_bindings = policy.get("bindings") or []
    new_bindings = new_policy.get("bindings") or []
    if not changed:
        return
    grew_by_one_binding = len(new_bindings) == len(old_bindings) + 1
    if grew_by_one_binding:
        assert new_bindings[:-1] == old_bindings
        assert new_bindings[-1] == {"role": role, "members": [OUR_MEMBER]}
    else:
        assert len(new_bindings) == len(old_bindings)
        changed_indexes = [index for index, (old, new) in enumerate(zip(old_bindings, new_bindings)) if old != new]
        assert len(changed_indexes) == 1
        index = changed_indexes[0]
        assert new_bindings[index]["members"] == old_bindings[index]["members"] + [OUR_MEMBER]
        assert {key: value for key, value in new_bindings[index].items() if key != "members"} == {
            key: value for key, value in old_bindings[index].items() if key != "members"
        }


@HYPOTHESIS_SETTINGS
@given(policy=policies(), role=roles)
def test_property_remove_after_add_restores_a_policy_without_our_grant(policy, role):
    policy_without_ours, _removed = remove_member(policy, role, OUR_MEMBER)
    added_policy, added = add_member(policy_without_ours, role, OUR_MEMBER)
    assert added
    restored_policy, removed = remove_member(added_policy, role, OUR_MEMBER)
    assert removed
    expected_policy = dict(policy_without_ours, bindings=policy_without_ours.get("bindings") or [])
    assert restored_policy == expected_policy


@HYPOTHESIS_SETTINGS
@given(policy=policies(), role=roles)
def test_property_remove(policy, role):
    policy_before = copy.deepcopy(policy)

    new_policy, changed = remove_member(policy, role, OUR_MEMBER)

    assert policy == policy_before
    assert changed == has_member(policy, role, OUR_MEMBER)
    assert not has_member(new_policy, role, OUR_MEMBER)
    assert _occurrences(new_policy, role, OUR_MEMBER) == 0
    assert _without_bindings(new_policy) == _without_bindings(policy)
    assert _conditional_bindings(new_policy) == _conditional_bindings(policy)
    assert (new_policy.get("bindings") or []) == foreign_bindings(policy, role, OUR_MEMBER)
    assert all(binding["members"] for binding in new_policy.get("bindings") or [])
    assert remove_member(new_policy, role, OUR_MEMBER) == (new_policy, False)
    if not changed:
        assert new_policy == policy
