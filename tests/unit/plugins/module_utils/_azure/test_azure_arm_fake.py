# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The management plane over real HTTP, against tests/fakes/azure_arm.py (no local emulator of ARM or Graph exists).

Covers segments_azure_access (service principal lookup and create, the role assignment with its deterministic name,
RoleAssignmentExists by code, RoleAssignmentUpdateNotPermitted, 403, 404, absent removing only ours, inherited
assignments reported) and the ARM path of segments_azure_cors and segments_azure_info (blobServices/default read and
PUT with every other property sent back, the storage account's network settings)."""

from __future__ import annotations

import base64
import json
import os
import sys
import time

import pytest
from azure.core.credentials import AccessToken

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fakes"))
from azure_arm import FakeAzure, serve  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.segments.cloud.plugins.module_utils._azure.client import AzureClients  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import build_rule, merge_rule, remove_rules  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._azure.io import (  # noqa: E402
    BlobCorsPart,
    read_account_facts,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (  # noqa: E402
    SEGMENTS_APP_ID,
    STORAGE_BLOB_DATA_READER_ROLE_ID,
    account_scope,
    role_assignment_name,
    role_definition_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.readiness import blockers  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge  # noqa: E402
from ansible_collections.segments.cloud.plugins.modules import segments_azure_access  # noqa: E402

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ROLE = role_definition_id(SUBSCRIPTION, STORAGE_BLOB_DATA_READER_ROLE_ID)
OTHER_PRINCIPAL = "99999999-0000-0000-0000-000000000001"


class StaticToken:
    """A credential with a token carrying a tid claim, as Entra ID's do; the fake only checks that one is sent."""

    def get_token(self, *scopes, **kwargs):
        claims = base64.urlsafe_b64encode(json.dumps({"tid": TENANT}).encode()).decode().rstrip("=")
        return AccessToken("e30.%s.signature" % claims, int(time.time()) + 3600)


class StubModule:
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode


@pytest.fixture
def fake():
    state = FakeAzure(TENANT)
    server, url = serve(state)
    state.url = url
    yield state
    server.shutdown()
    server.server_close()


def params_for(names, **overrides):
    params = {key: spec.get("default") for key, spec in segments_azure_access.argument_spec().items()}
    params.update(name=names, subscription_id=SUBSCRIPTION, resource_group="imaging", concurrency=4)
    params.update(overrides)
    return params


def clients_for(fake, params):
    return AzureClients(params, arm_endpoint=fake.url, graph_endpoint=fake.url, credential=StaticToken())


def access(fake, names, check_mode=False, **overrides):
    params = params_for(names, **overrides)
    return segments_azure_access.run(StubModule(params, check_mode), clients_for(fake, params))


def add_segments_principal(fake):
    fake.service_principals[SEGMENTS_APP_ID] = {"id": "aaaaaaaa-0000-0000-0000-000000000001", "appId": SEGMENTS_APP_ID}
    return "aaaaaaaa-0000-0000-0000-000000000001"


def test_present_creates_the_assignment_with_its_deterministic_name_and_returns_the_tenant(fake):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    scope = account_scope(SUBSCRIPTION, "imaging", "acct1")
    foreign = fake.add_assignment(scope, ROLE, OTHER_PRINCIPAL)

    [result] = access(fake, ["acct1"])
    assert not result["failed"], result
    assert result["changed"]
    assert result["tenant_id"] == TENANT
    assert result["after"]["role_assignments"] == [
        {
            "name": role_assignment_name(scope, ROLE, principal),
            "scope": scope,
            "role_definition_id": ROLE,
            "principal_id": principal,
        }
    ]
    assert foreign.lower() in fake.assignments  # another principal's assignment is untouched

    [again] = access(fake, ["acct1"])
    assert not again["changed"] and not again["failed"]
    puts = [request for request in fake.requests if request[0] == "PUT"]
    assert len(puts) == 1


def test_role_assignment_exists_under_another_name_is_in_place(fake):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    scope = account_scope(SUBSCRIPTION, "imaging", "acct1")
    # Made by hand (az role assignment create) under a random name: the next read shows it, so nothing is written.
    fake.add_assignment(scope, ROLE, principal)
    [result] = access(fake, ["acct1"])
    assert not result["changed"] and not result["failed"]


def test_a_409_role_assignment_exists_is_recognised_by_its_code(fake, monkeypatch):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    scope = account_scope(SUBSCRIPTION, "imaging", "acct1")
    # Another writer makes the same assignment right after our read: our PUT meets 409 RoleAssignmentExists.
    original = FakeAzure.handle

    def racing(self, method, path, query, body, authorized):
        if (
            method == "PUT"
            and "roleAssignments" in path
            and not any(a["properties"]["principalId"] == principal for a in self.assignments.values())
        ):
            self.add_assignment(scope, ROLE, principal, "bbbbbbbb-0000-0000-0000-000000000002")
        return original(self, method, path, query, body, authorized)

    monkeypatch.setattr(FakeAzure, "handle", racing)
    [result] = access(fake, ["acct1"])
    assert not result["failed"], result
    assert [item["name"] for item in result["after"]["role_assignments"]] == ["bbbbbbbb-0000-0000-0000-000000000002"]


def test_a_name_taken_by_another_principal_fails_with_update_not_permitted(fake):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    scope = account_scope(SUBSCRIPTION, "imaging", "acct1")
    fake.add_assignment(scope, ROLE, OTHER_PRINCIPAL, role_assignment_name(scope, ROLE, principal))
    [result] = access(fake, ["acct1"])
    assert result["failed"]
    assert "storage account 'acct1': create role assignment failed" in result["msg"]
    assert "RoleAssignmentUpdateNotPermitted" in result["msg"]
    assert len([a for a in fake.assignments.values() if a["properties"]["principalId"] == OTHER_PRINCIPAL]) == 1


def test_forbidden_and_missing_accounts_fail_alone_with_clear_messages(fake):
    add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    fake.add_account(SUBSCRIPTION, "imaging", "acct2")
    fake.forbidden.add(account_scope(SUBSCRIPTION, "imaging", "acct2").lower())
    results = access(fake, ["acct1", "acct2"], resource_groups={"acct1": "imaging", "acct2": "imaging"})
    assert not results[0]["failed"] and results[0]["changed"]
    assert results[1]["failed"]
    assert (
        "storage account 'acct2': read role assignments failed: permission denied (AuthorizationFailed, HTTP 403)"
        in results[1]["msg"]
    )
    assert "Microsoft.Authorization/roleAssignments/read" in results[1]["msg"]


def test_missing_service_principal_fails_unless_creation_is_allowed(fake):
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    [refused] = access(fake, ["acct1"])
    assert refused["failed"] and "az ad sp create --id %s" % SEGMENTS_APP_ID in refused["msg"]

    [checked] = access(fake, ["acct1"], check_mode=True, create_service_principal=True)
    assert checked["changed"] and checked["service_principal_created"] and checked["principal_id"] is None
    assert fake.service_principals == {} and fake.assignments == {}

    [created] = access(fake, ["acct1"], create_service_principal=True)
    assert created["changed"] and not created["failed"], created
    assert fake.service_principals[SEGMENTS_APP_ID]["id"] == created["principal_id"]
    assert ("POST", "/v1.0/servicePrincipals", {"appId": SEGMENTS_APP_ID}) in fake.requests


def test_check_mode_writes_nothing(fake):
    add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    [result] = access(fake, ["acct1"], check_mode=True)
    assert result["changed"] and fake.assignments == {}
    assert [request for request in fake.requests if request[0] != "GET"] == []


def test_absent_removes_only_ours_and_reports_inherited(fake):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    scope = account_scope(SUBSCRIPTION, "imaging", "acct1")
    group_scope = "/subscriptions/%s/resourceGroups/imaging" % SUBSCRIPTION
    ours = fake.add_assignment(scope, ROLE, principal)
    inherited = fake.add_assignment(group_scope, ROLE, principal)
    other_role = fake.add_assignment(
        scope, role_definition_id(SUBSCRIPTION, "acdd72a7-3385-48ef-bd42-f606fba81ae7"), principal
    )
    foreign = fake.add_assignment(scope, ROLE, OTHER_PRINCIPAL)

    [result] = access(fake, ["acct1"], state="absent")
    assert result["changed"] and not result["failed"], result
    assert ours.lower() not in fake.assignments
    assert {inherited.lower(), other_role.lower(), foreign.lower()} <= set(fake.assignments)
    assert [item["scope"] for item in result["inherited_assignments"]] == [group_scope]
    assert result["warnings"] and "parent scope" in result["warnings"][0]

    [again] = access(fake, ["acct1"], state="absent")
    assert not again["changed"]


def test_container_scope(fake):
    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    [result] = access(fake, ["acct1"], containers={"acct1": "labelling"})
    assert result["scope"].endswith("/blobServices/default/containers/labelling")
    assert result["after"]["role_assignments"][0]["principal_id"] == principal


def test_management_plane_cors_sends_every_other_property_back(fake):
    other_properties = {
        "deleteRetentionPolicy": {"enabled": True, "days": 7},
        "isVersioningEnabled": True,
        "cors": {
            "corsRules": [
                {
                    "allowedOrigins": ["https://viewer.customer.example", " https://Admin.customer.example"],
                    "allowedMethods": ["get", "PUT"],
                    "allowedHeaders": ["*"],
                    "exposedHeaders": [],
                    "maxAgeInSeconds": 60,
                }
            ]
        },
    }
    fake.add_account(SUBSCRIPTION, "imaging", "acct1", blob_properties=json.loads(json.dumps(other_properties)))
    params = params_for(["acct1"])
    clients = clients_for(fake, params)
    desired = build_rule()

    outcome = converge(BlobCorsPart(clients, "acct1", lambda rules: merge_rule(rules, desired)), check_mode=False)
    assert outcome.changed
    stored = fake.accounts[account_scope(SUBSCRIPTION, "imaging", "acct1").lower()]["blob_service"]["properties"]
    assert stored["deleteRetentionPolicy"] == {"enabled": True, "days": 7} and stored["isVersioningEnabled"]
    assert stored["cors"]["corsRules"][0] == other_properties["cors"]["corsRules"][0]
    assert stored["cors"]["corsRules"][1]["allowedOrigins"] == ["https://app.segments.ai"]

    again = converge(BlobCorsPart(clients, "acct1", lambda rules: merge_rule(rules, desired)), check_mode=False)
    assert not again.changed
    removed = converge(BlobCorsPart(clients, "acct1", remove_rules), check_mode=False)
    assert removed.changed
    stored = fake.accounts[account_scope(SUBSCRIPTION, "imaging", "acct1").lower()]["blob_service"]["properties"]
    assert stored == other_properties


def test_management_plane_account_facts_and_blockers(fake):
    fake.add_account(
        SUBSCRIPTION,
        "imaging",
        "acct1",
        properties={"publicNetworkAccess": "Disabled", "networkAcls": {"defaultAction": "Deny"}},
    )
    clients = clients_for(fake, params_for(["acct1"]))
    facts = read_account_facts(clients, "acct1")
    assert facts["public_network_access"] == "Disabled" and facts["network_default_action"] == "Deny"
    assert len(blockers(facts)) == 2


def test_missing_account_and_resource_group_through_arm(fake):
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    clients = clients_for(fake, params_for(["acct2"], resource_groups={"acct3": "nosuchgroup"}))
    with pytest.raises(
        Exception, match="storage account 'acct2': read storage account failed: the storage account does not exist"
    ):
        read_account_facts(clients, "acct2")
    with pytest.raises(Exception, match="resource group does not exist"):
        read_account_facts(clients, "acct3")


def test_info_checks_access_direct_and_inherited(fake):
    from ansible_collections.segments.cloud.plugins.modules import segments_azure_info

    principal = add_segments_principal(fake)
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    fake.add_account(SUBSCRIPTION, "imaging", "acct2")
    fake.add_account(SUBSCRIPTION, "other", "acct3")
    fake.add_assignment(account_scope(SUBSCRIPTION, "imaging", "acct1"), ROLE, principal)
    fake.add_assignment("/subscriptions/%s/resourceGroups/imaging" % SUBSCRIPTION, ROLE, OTHER_PRINCIPAL)
    fake.add_assignment("/subscriptions/%s/resourceGroups/other" % SUBSCRIPTION, ROLE, principal)
    params = {key: spec.get("default") for key, spec in segments_azure_info.argument_spec().items()}
    params.update(
        name=["acct1", "acct2", "acct3"],
        subscription_id=SUBSCRIPTION,
        resource_groups={"acct1": "imaging", "acct2": "imaging", "acct3": "other"},
        check_access=True,
    )
    audit = segments_azure_info.account_auditor(params, clients_for(fake, params))
    direct, none, inherited = audit("acct1"), audit("acct2"), audit("acct3")
    assert direct["role_assignment"]["principal_id"] == principal
    assert none["role_assignment"] is None and not none["ready"]
    assert any("segments_azure_access" in problem for problem in none["problems"])
    assert inherited["role_assignment"] is None
    assert inherited["inherited_role_assignments"][0]["scope"].endswith("/resourceGroups/other")
    assert not any("segments_azure_access" in problem for problem in inherited["problems"])
    assert [request for request in fake.requests if request[0] != "GET"] == []
