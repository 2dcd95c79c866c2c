# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""segments_azure_restore on the management plane, over real HTTP against tests/fakes/azure_arm.py (no local emulator
of ARM or Graph exists), and its pure rules: the Blob CORS list back exactly, our role assignment back to what the
backup recorded, refusal when a foreign rule changed, check mode writing nothing."""

from __future__ import annotations

import base64
import json
import os
import sys
import time

import pytest
from azure.core.credentials import AccessToken

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "fakes"))
from azure_arm import FakeAzure, serve  # noqa: E402

from ansible_collections.segments.cloud.plugins.module_utils._azure.client import AzureClients  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (  # noqa: E402
    SEGMENTS_APP_ID,
    STORAGE_BLOB_DATA_READER_ROLE_ID,
    account_scope,
    parse_scope,
    role_definition_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.restore import (  # noqa: E402
    assignment_target,
    azure_cors_differences,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import run_per_bucket  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._common.restore import backups_by_bucket  # noqa: E402
from ansible_collections.segments.cloud.plugins.modules import segments_azure_restore  # noqa: E402

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ROLE = role_definition_id(SUBSCRIPTION, STORAGE_BLOB_DATA_READER_ROLE_ID)
PRINCIPAL = "aaaaaaaa-0000-0000-0000-000000000001"
OTHER_PRINCIPAL = "99999999-0000-0000-0000-000000000001"
SCOPE = account_scope(SUBSCRIPTION, "imaging", "acct1")
FOREIGN_RULE = {
    "allowed_origins": "https://viewer.customer.example, https://Admin.customer.example",
    "allowed_methods": "get,PUT",
    "allowed_headers": "*",
    "exposed_headers": "",
    "max_age_in_seconds": 600,
}
OUR_RULE = {
    "allowed_origins": "https://app.segments.ai",
    "allowed_methods": "GET",
    "allowed_headers": "*",
    "exposed_headers": "",
    "max_age_in_seconds": 3600,
}


def arm_rule(rule):
    return {
        "allowedOrigins": rule["allowed_origins"].split(","),
        "allowedMethods": rule["allowed_methods"].split(","),
        "allowedHeaders": rule["allowed_headers"].split(",") if rule["allowed_headers"] else [],
        "exposedHeaders": rule["exposed_headers"].split(",") if rule["exposed_headers"] else [],
        "maxAgeInSeconds": rule["max_age_in_seconds"],
    }


class StaticToken:
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
    state.service_principals[SEGMENTS_APP_ID] = {"id": PRINCIPAL, "appId": SEGMENTS_APP_ID}
    state.add_account(
        SUBSCRIPTION,
        "imaging",
        "acct1",
        blob_properties={
            "deleteRetentionPolicy": {"enabled": True, "days": 7},
            "cors": {"corsRules": [arm_rule(FOREIGN_RULE)]},
        },
    )
    yield state
    server.shutdown()
    server.server_close()


def stored(fake):
    return fake.accounts[SCOPE.lower()]["blob_service"]["properties"]


def write_backup(tmp_path, record):
    path = tmp_path / ("%s.json" % record["bucket"])
    path.write_text(json.dumps(dict({"host": "localhost", "provider": "azure"}, **record)))
    return str(path)


def restore(fake, paths, check_mode=False, **overrides):
    params = {key: spec.get("default") for key, spec in segments_azure_restore.argument_spec().items()}
    params.update(backup=paths, concurrency=2)
    params.update(overrides)
    backups, problems = backups_by_bucket(paths, "azure")
    assert problems == []

    def make_clients(client_params):
        return AzureClients(client_params, arm_endpoint=fake.url, graph_endpoint=fake.url, credential=StaticToken())

    run = segments_azure_restore.RestoreRun(StubModule(params, check_mode), backups, make_clients)
    return run_per_bucket(list(backups), 2, run.process_account)


def backup_before_onboarding(tmp_path, role_assignment=None, with_access=True):
    record = dict(bucket="acct1", plane="management", scope=SCOPE, cors=[FOREIGN_RULE])
    if with_access:
        record["role_assignment"] = role_assignment
    return write_backup(tmp_path, record)


def onboard(fake):
    stored(fake)["cors"]["corsRules"].append(arm_rule(OUR_RULE))
    return fake.add_assignment(SCOPE, ROLE, PRINCIPAL)


def test_restore_takes_our_rule_and_assignment_away_and_keeps_everything_else(fake, tmp_path):
    path = backup_before_onboarding(tmp_path)
    onboard(fake)
    foreign_assignment = fake.add_assignment(SCOPE, ROLE, OTHER_PRINCIPAL)
    inherited = fake.add_assignment("/subscriptions/%s/resourceGroups/imaging" % SUBSCRIPTION, ROLE, PRINCIPAL)

    [checked] = restore(fake, [path], check_mode=True)
    assert checked["changed"] and checked["restored"] == ["cors", "role_assignment"], checked
    assert checked["after"] == dict(cors=[FOREIGN_RULE], role_assignment=None)
    assert len(stored(fake)["cors"]["corsRules"]) == 2 and len(fake.assignments) == 3

    [result] = restore(fake, [path])
    assert not result["failed"] and result["changed"], result
    assert result["before"]["role_assignment"]["principal_id"] == PRINCIPAL
    assert result["after"] == dict(cors=[FOREIGN_RULE], role_assignment=None)
    assert stored(fake) == {
        "deleteRetentionPolicy": {"enabled": True, "days": 7},
        "cors": {"corsRules": [arm_rule(FOREIGN_RULE)]},
    }
    assert set(fake.assignments) == {foreign_assignment.lower(), inherited.lower()}
    assert [item["scope"] for item in result["inherited_role_assignments"]] == [
        "/subscriptions/%s/resourceGroups/imaging" % SUBSCRIPTION
    ]
    assert "parent scope" in result["warnings"][0]

    [again] = restore(fake, [path])
    assert not again["changed"] and not again["failed"]


def test_restore_makes_the_recorded_assignment_again(fake, tmp_path):
    recorded = {"name": "recorded", "scope": SCOPE, "role_definition_id": ROLE, "principal_id": PRINCIPAL}
    path = backup_before_onboarding(tmp_path, role_assignment=recorded)
    [result] = restore(fake, [path])
    assert result["changed"] and result["restored"] == ["role_assignment"], result
    assert result["after"]["role_assignment"]["principal_id"] == PRINCIPAL
    assert [item["properties"]["principalId"] for item in fake.assignments.values()] == [PRINCIPAL]


def test_a_backup_without_role_assignment_leaves_assignments_alone(fake, tmp_path):
    path = backup_before_onboarding(tmp_path, with_access=False)
    ours = onboard(fake)
    [result] = restore(fake, [path])
    assert result["restored"] == ["cors"] and result["scope"] is None
    assert ours.lower() in fake.assignments


def test_a_changed_foreign_rule_refuses_the_account_unless_forced(fake, tmp_path):
    path = backup_before_onboarding(tmp_path)
    onboard(fake)
    stored(fake)["cors"]["corsRules"][0]["maxAgeInSeconds"] = 60
    [refused] = restore(fake, [path])
    assert refused["failed"]
    assert refused["msg"].startswith("storage account 'acct1': restore failed: refused")
    assert "CORS rule for https://Admin.customer.example, https://viewer.customer.example changed" in refused["msg"]
    assert len(stored(fake)["cors"]["corsRules"]) == 2 and len(fake.assignments) == 1

    [forced] = restore(fake, [path], force=True)
    assert forced["changed"] and "force=true overwrote" in forced["warnings"][0]
    assert stored(fake)["cors"]["corsRules"] == [arm_rule(FOREIGN_RULE)]


def test_pure_rules():
    moved = dict(FOREIGN_RULE, allowed_origins="https://viewer.customer.example,https://Admin.customer.example")
    assert azure_cors_differences([FOREIGN_RULE], [OUR_RULE, moved]) == []
    assert azure_cors_differences([FOREIGN_RULE], [OUR_RULE]) == [
        "CORS rule for https://Admin.customer.example, https://viewer.customer.example removed"
    ]
    assert assignment_target({"cors": []}, SCOPE) is None
    assert assignment_target({"cors": [], "role_assignment": None}, SCOPE)["state"] == "absent"
    assert parse_scope(SCOPE + "/blobServices/default/containers/labelling")["container"] == "labelling"
    assert parse_scope("/subscriptions/x") is None
