# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    STORAGE_BLOB_DATA_READER_ROLE_ID,
    account_name_problem,
    account_scope,
    container_name_problem,
    container_scope,
    guid_problem,
    resource_group_problem,
    role_assignment_name,
    role_definition_id,
    same_role,
    scope_covers,
)

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
PRINCIPAL = "66666666-7777-8888-9999-000000000000"
SCOPE = account_scope(SUBSCRIPTION, "imaging", "customerimages")


@pytest.mark.parametrize("name", ["abc", "customerimages", "a" * 24, "seg01"])
def test_valid_account_names(name):
    assert account_name_problem(name) is None


@pytest.mark.parametrize(
    "name", ["", "ab", "a" * 25, "Customer", "customer-images", "customer.images", None, 5, "ſegments"]
)
def test_invalid_account_names_name_the_rule(name):
    problem = account_name_problem(name)
    assert problem and repr(name) in problem


def test_container_names():
    assert container_name_problem("images") is None
    assert container_name_problem("my-images-2") is None
    for bad in ("ab", "My", "a--b", "-ab", "ab-", "a" * 64):
        assert container_name_problem(bad)


def test_guid_and_resource_group_checks():
    assert guid_problem("tenant", PRINCIPAL) is None
    assert "tenant" in guid_problem("tenant", "not-a-guid")
    assert resource_group_problem("imaging-rg(1)") is None
    assert resource_group_problem("ends.")
    assert resource_group_problem("")


def test_scopes():
    assert SCOPE == (
        "/subscriptions/%s/resourceGroups/imaging/providers/Microsoft.Storage/storageAccounts/customerimages"
        % SUBSCRIPTION
    )
    assert container_scope(SUBSCRIPTION, "imaging", "customerimages", "images") == (
        SCOPE + "/blobServices/default/containers/images"
    )
    assert role_definition_id(SUBSCRIPTION).endswith("/roleDefinitions/" + STORAGE_BLOB_DATA_READER_ROLE_ID)


def test_role_assignment_name_is_a_stable_uuid():
    name = role_assignment_name(SCOPE, STORAGE_BLOB_DATA_READER_ROLE_ID, PRINCIPAL)
    assert uuid.UUID(name).version == 5
    # The same on every machine and in every run: a second run PUTs the same name.
    assert name == role_assignment_name(SCOPE, STORAGE_BLOB_DATA_READER_ROLE_ID, PRINCIPAL)


def test_role_assignment_name_ignores_case_trailing_slash_and_role_form():
    name = role_assignment_name(SCOPE, STORAGE_BLOB_DATA_READER_ROLE_ID, PRINCIPAL)
    assert name == role_assignment_name(SCOPE.upper() + "/", role_definition_id(SUBSCRIPTION), PRINCIPAL.upper())


def test_role_assignment_name_differs_by_scope_role_and_principal():
    name = role_assignment_name(SCOPE, STORAGE_BLOB_DATA_READER_ROLE_ID, PRINCIPAL)
    assert name != role_assignment_name(
        SCOPE + "/blobServices/default/containers/x", STORAGE_BLOB_DATA_READER_ROLE_ID, PRINCIPAL
    )
    assert name != role_assignment_name(SCOPE, "acdd72a7-3385-48ef-bd42-f606fba81ae7", PRINCIPAL)
    assert name != role_assignment_name(SCOPE, STORAGE_BLOB_DATA_READER_ROLE_ID, SUBSCRIPTION)


@HYPOTHESIS_SETTINGS
@given(st.uuids(), st.uuids(), st.from_regex(r"[a-z0-9]{3,24}", fullmatch=True))
def test_role_assignment_names_never_collide_across_principals(first, second, account):
    scope = account_scope(SUBSCRIPTION, "rg", account)
    same = first == second
    assert (
        role_assignment_name(scope, STORAGE_BLOB_DATA_READER_ROLE_ID, str(first))
        == role_assignment_name(scope, STORAGE_BLOB_DATA_READER_ROLE_ID, str(second))
    ) is same


def test_same_role_and_scope_covers():
    assert same_role(role_definition_id(SUBSCRIPTION), STORAGE_BLOB_DATA_READER_ROLE_ID.upper())
    assert scope_covers("/subscriptions/%s" % SUBSCRIPTION, SCOPE)
    assert scope_covers(SCOPE.lower(), SCOPE)
    assert not scope_covers(SCOPE + "/blobServices/default/containers/x", SCOPE)
    assert not scope_covers("/subscriptions/%s/resourceGroups/imag" % SUBSCRIPTION, SCOPE)
