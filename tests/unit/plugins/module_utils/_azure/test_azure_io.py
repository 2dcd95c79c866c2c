# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The I/O edges that need no server: SDK and ARM shapes, the error path, the host check and the option checks.

The writes themselves run against Azurite (integration targets) and, for ARM, against tests/fakes (when present)."""

from __future__ import annotations

import socket

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

from ansible_collections.segments.cloud.plugins.module_utils._azure import client as azure_client
from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    HostCheck,
    azure_errors,
    option_problems,
    parse_connection_string,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import build_rule
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError, AccountMissing
from ansible_collections.segments.cloud.plugins.module_utils._azure.io import (
    rule_from_arm,
    rule_from_sdk,
    rule_to_arm,
    rule_to_sdk,
    states_equal,
)

FOREIGN_RULE = {
    "allowed_origins": "https://viewer.customer.example, https://Admin.customer.example",
    "allowed_methods": "get,PUT",
    "allowed_headers": "x-ms-meta-*, Content-Type",
    "exposed_headers": "",
    "max_age_in_seconds": 60,
}


def test_sdk_round_trip_keeps_every_character():
    # CorsRule joins a list itself: a bare string would become "g,e,t,,,P,U,T".
    sdk_rule = rule_to_sdk(FOREIGN_RULE)
    assert sdk_rule.allowed_methods == "get,PUT"
    assert sdk_rule.allowed_origins == FOREIGN_RULE["allowed_origins"]
    assert rule_from_sdk(sdk_rule) == FOREIGN_RULE


def test_arm_round_trip_keeps_every_item():
    arm_rule = {
        "allowedOrigins": ["https://viewer.customer.example", " https://Admin.customer.example"],
        "allowedMethods": ["get", "PUT"],
        "allowedHeaders": [],
        "exposedHeaders": ["ETag"],
        "maxAgeInSeconds": 5,
    }
    assert rule_to_arm(rule_from_arm(arm_rule)) == arm_rule
    assert rule_to_arm(build_rule())["allowedOrigins"] == ["https://app.segments.ai"]


def test_states_equal_sees_other_properties():
    state = {"cors": [FOREIGN_RULE], "properties": {"deleteRetentionPolicy": {"enabled": True, "days": 7}}}
    moved = {"cors": [FOREIGN_RULE], "properties": {"deleteRetentionPolicy": {"enabled": False}}}
    assert states_equal(state, {"cors": [dict(FOREIGN_RULE)], "properties": dict(state["properties"])})
    assert not states_equal(state, moved)


def test_connection_string_parsing_keeps_key_padding():
    pairs = parse_connection_string("AccountName=a1b;AccountKey=abc==;BlobEndpoint=http://127.0.0.1:1/a1b;")
    assert pairs == {"AccountName": "a1b", "AccountKey": "abc==", "BlobEndpoint": "http://127.0.0.1:1/a1b"}


def _params(**overrides):
    params = dict(
        name=["acct1"],
        concurrency=4,
        connection_strings={},
        account_keys={},
        subscription_id=None,
        resource_group=None,
        resource_groups={},
        cloud_environment="AzureCloud",
    )
    params.update(overrides)
    return params


def test_option_problems_need_a_plane_per_account():
    assert option_problems(_params(connection_strings={"acct1": "AccountName=acct1;AccountKey=a2V5"})) == []
    assert option_problems(_params(account_keys={"acct1": "a2V5"})) == []
    assert option_problems(_params(account_keys={"acct1": "not base64!"})) == [
        "account_keys[acct1] is not a storage account key: a key is base64 text, as the portal shows it under "
        "Access keys."
    ]
    problems = option_problems(_params(connection_strings={"acct1": "AccountName=acct1;AccountKey=k"}))
    assert problems == [
        "the AccountKey of connection_strings[acct1] is not a storage account key: a key is base64 text, as the portal "
        "shows it under Access keys."
    ]
    assert option_problems(_params(subscription_id="s", resource_group="rg")) == []
    problems = " ".join(
        option_problems(_params(name=["acct1", "acct2"], subscription_id="s", resource_groups={"acct1": "rg"}))
    )
    assert "'acct2' have no resource group" in problems
    assert "needs subscription_id" in " ".join(option_problems(_params(resource_group="rg")))


def test_option_problems_refuse_another_accounts_connection_string_and_bad_names():
    problems = option_problems(_params(connection_strings={"acct1": "AccountName=other;AccountKey=k"}))
    assert problems == [
        "connection_strings[acct1] belongs to storage account 'other', not 'acct1': "
        "each account needs its own connection string."
    ]
    problems = option_problems(_params(name=["Bad-Name"]))
    assert len(problems) == 1 and "'Bad-Name' is not a valid Azure storage account name" in problems[0]


def test_sdk_errors_become_account_errors_by_code():
    error = ResourceNotFoundError(message="The specified resource does not exist.")
    error.error_code = "ResourceNotFound"
    error.status_code = 404
    with pytest.raises(AccountMissing) as raised:
        with azure_errors("acct1", "read blob service properties"):
            raise error
    assert raised.value.message.startswith("storage account 'acct1': read blob service properties failed")


def test_forbidden_names_the_permission():
    error = HttpResponseError(message="no")
    error.status_code = 403
    error.error_code = "AuthorizationPermissionMismatch"
    with pytest.raises(AccountError, match="blobServices/write"):
        with azure_errors("acct1", "set blob service properties"):
            raise error


def test_the_storage_error_code_enum_is_read_as_its_value():
    from azure.storage.blob import StorageErrorCode

    error = HttpResponseError(message="Server failed to authenticate the request.")
    error.status_code = 403
    error.error_code = StorageErrorCode.AUTHORIZATION_FAILURE
    with pytest.raises(AccountError, match=r"\(AuthorizationFailure, HTTP 403\)"):
        with azure_errors("acct1", "read blob service properties"):
            raise error


def test_no_connection_names_the_host():
    with pytest.raises(AccountError, match=r"could not reach 127\.0\.0\.1"):
        with azure_errors("acct1", "read blob service properties", "http://127.0.0.1:9/acct1"):
            raise ServiceRequestError("Connection refused")


def test_host_check_fails_a_missing_account_at_once(monkeypatch):
    calls = []

    def no_such_host(host, port):
        calls.append(host)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(azure_client.socket, "getaddrinfo", no_such_host)
    check = HostCheck("blob.core.windows.net")
    for _attempt in range(2):
        with pytest.raises(AccountMissing, match="nosuchacct.blob.core.windows.net has no DNS name"):
            check.check("nosuchacct", "read blob service properties", "https://nosuchacct.blob.core.windows.net")
    assert calls == ["nosuchacct.blob.core.windows.net"]  # resolved once, remembered
    with pytest.raises(AccountError, match="could not reach proxy.example"):
        check.check("acct1", "read", "https://proxy.example/acct1")


def test_host_check_leaves_loopback_alone(monkeypatch):
    monkeypatch.setattr(azure_client.socket, "getaddrinfo", lambda *args: pytest.fail("no lookup for loopback"))
    HostCheck("blob.core.windows.net").check("acct1", "read", "http://127.0.0.1:10000/acct1")


def test_secrets_are_no_log():
    spec = azure_client.azure_module_argument_spec()
    assert {key for key, option in spec.items() if option.get("no_log")} == {
        "secret",
        "connection_strings",
        "account_keys",
    }


def test_the_options_and_variables_are_azure_azcollections():
    spec = azure_client.azure_argument_spec()
    fallbacks = {key: option["fallback"][1] for key, option in spec.items() if "fallback" in option}
    assert fallbacks["subscription_id"] == ["AZURE_SUBSCRIPTION_ID"]
    assert fallbacks["client_id"] == ["AZURE_CLIENT_ID"]
    assert fallbacks["secret"] == ["AZURE_SECRET"]
    assert fallbacks["tenant"] == ["AZURE_TENANT"]
    assert fallbacks["cloud_environment"] == ["AZURE_CLOUD_ENVIRONMENT"]
    assert fallbacks["profile"] == ["AZURE_PROFILE"]


def test_tenant_from_token():
    from ansible_collections.segments.cloud.plugins.module_utils._azure.access import tenant_from_token

    assert tenant_from_token("e30.eyJ0aWQiOiAidCJ9.sig") == "t"
    assert tenant_from_token("not-a-jwt") is None
