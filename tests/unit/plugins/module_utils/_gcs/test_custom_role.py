# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import (
    LEGACY_ROLE,
    ROLE_MARKER,
    carries_marker,
    desired_role,
    holds_legacy_grant,
    narrow_grant,
    plan_role,
    role_name,
    role_or_default,
    roles_beyond,
    validate_permissions,
    validate_project,
    validate_role_id,
)

MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
CUSTOM = "projects/customer-project/roles/segmentsObjectReader"
WANTED = desired_role()


def test_desired_role_holds_only_storage_objects_get_and_our_marker():
    assert WANTED["includedPermissions"] == ["storage.objects.get"]
    assert carries_marker(WANTED)
    assert role_name("customer-project") == CUSTOM


@pytest.mark.parametrize("role_id", ["segmentsObjectReader", "a.b_c", "abc", "x" * 64])
def test_valid_role_ids(role_id):
    assert validate_role_id(role_id) is None


@pytest.mark.parametrize("role_id", ["ab", "x" * 65, "bad id", "roles/x", "", None, "seg-reader"])
def test_malformed_role_ids_are_refused_with_the_rule(role_id):
    assert "3 to 64 letters" in validate_role_id(role_id)


def test_permissions_must_be_service_resource_verb():
    assert validate_permissions(["storage.objects.get"]) is None
    assert "SERVICE.RESOURCE.VERB" in validate_permissions(["storage.objects"])
    assert "non-empty" in validate_permissions([])


def test_project_rule_and_the_default_role():
    assert validate_project("customer-project") is None
    assert "not a GCP project ID" in validate_project(None)
    assert role_or_default(None, "customer-project") == (CUSTOM, None)
    assert role_or_default(LEGACY_ROLE, None) == (LEGACY_ROLE, None)
    role, problem = role_or_default(None, None)
    assert role is None and "Or pass role" in problem


def test_plan_creates_a_missing_role():
    assert plan_role(None, WANTED, "p-project", "segmentsObjectReader") == (WANTED, True)


def test_plan_leaves_a_right_role_alone_whatever_its_title():
    current = {"title": "Someone's", "description": "", "includedPermissions": ["storage.objects.get"], "etag": "e1"}
    assert plan_role(current, WANTED, "p-project", "x_id") == (current, False)


def test_plan_undeletes_a_soft_deleted_role():
    current = dict(WANTED, deleted=True, etag="e1")
    desired, needs_write = plan_role(current, WANTED, "p-project", "x_id")
    assert needs_write and "deleted" not in desired and desired["etag"] == "e1"


def test_plan_corrects_a_marked_role_and_keeps_the_input():
    current = dict(WANTED, includedPermissions=["storage.objects.get", "storage.objects.list"], etag="e1")
    kept = copy.deepcopy(current)
    desired, needs_write = plan_role(current, WANTED, "p-project", "x_id")
    assert needs_write and desired["includedPermissions"] == ["storage.objects.get"]
    assert current == kept


@pytest.mark.parametrize("deleted", [False, True])
def test_plan_refuses_an_unmarked_role_with_other_permissions(deleted):
    current = {
        "title": "ops",
        "description": "ours",
        "includedPermissions": ["storage.objects.list"],
        "deleted": deleted,
    }
    with pytest.raises(BucketError) as refused:
        plan_role(current, WANTED, "p-project", "x_id")
    assert refused.value.bucket == "p-project"
    assert ROLE_MARKER in refused.value.problem and "storage.objects.list" in refused.value.problem
    assert "role_id" in refused.value.remedy


def test_marker_is_found_in_title_or_description_in_any_case():
    assert carries_marker({"title": "Managed by segments.cloud"})
    assert carries_marker({"description": "x MANAGED BY SEGMENTS.CLOUD"})
    assert not carries_marker({"title": "Segments reader"})
    assert not carries_marker(None)


def _policy(*bindings):
    return {"etag": "e", "version": 3, "bindings": [copy.deepcopy(binding) for binding in bindings]}


ADMIN = {"role": "roles/storage.admin", "members": ["group:ops@customer.example"]}
LEGACY = {"role": LEGACY_ROLE, "members": [MEMBER, "user:alice@customer.example"]}
CONDITIONAL = {"role": LEGACY_ROLE, "members": [MEMBER], "condition": {"title": "t", "expression": "true"}}


def test_narrowing_moves_only_the_member_and_keeps_every_other_binding():
    policy = _policy(ADMIN, LEGACY, CONDITIONAL)
    kept = copy.deepcopy(policy)
    narrowed, changed = narrow_grant(policy, CUSTOM, MEMBER)
    assert changed and policy == kept
    assert narrowed["bindings"] == [
        ADMIN,
        {"role": LEGACY_ROLE, "members": ["user:alice@customer.example"]},
        CONDITIONAL,
        {"role": CUSTOM, "members": [MEMBER]},
    ]
    assert not holds_legacy_grant(narrowed, MEMBER)
    assert narrow_grant(narrowed, CUSTOM, MEMBER) == (narrowed, False)


def test_roles_beyond_lists_what_the_member_holds_besides_the_role():
    assert roles_beyond(_policy(ADMIN, LEGACY, CONDITIONAL), CUSTOM, MEMBER) == [LEGACY_ROLE]
    assert roles_beyond(_policy(ADMIN, {"role": CUSTOM, "members": [MEMBER]}), CUSTOM, MEMBER) == []
    assert holds_legacy_grant(_policy(LEGACY), MEMBER)
    assert not holds_legacy_grant(_policy(CONDITIONAL), MEMBER)
