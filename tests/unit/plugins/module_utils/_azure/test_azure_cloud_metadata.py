# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""cloud_environment as a metadata discovery endpoint URL: the pure reading of the answer, and the whole sign-in
(azure-identity's ClientSecretCredential, MSAL's tenant discovery, the client-credentials grant) over verified TLS
against tests/fakes/azure_arm.py, with the fake's CA given through REQUESTS_CA_BUNDLE as a playbook run gives it."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fakes"))
from azure_arm import FakeAzure, make_certificates, serve, server_context  # noqa: E402

from ansible_collections.segments.cloud.plugins.module_utils._azure import client as azure_client  # noqa: E402
from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (  # noqa: E402
    AzureClients,
    AzureSetupError,
    cloud_environment_problem,
    option_problems,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cloud_metadata import (  # noqa: E402
    endpoints_from_metadata,
    metadata_request_url,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (  # noqa: E402
    SEGMENTS_APP_ID,
    account_scope,
)
from ansible_collections.segments.cloud.plugins.modules import segments_azure_access  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUBSCRIPTION = "5e9a0c1d-0000-4000-8000-00000000a2ee"
CLIENT_ID = "0f1e2d3c-4b5a-4968-8776-655443322110"
SECRET = "test-secret"

PUBLIC_METADATA = [
    {
        "name": "AzureCloud",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
        },
        "resourceManager": "https://management.azure.com/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "graph": "https://graph.windows.net/",
        "suffixes": {"storage": "core.windows.net"},
    },
    {
        "name": "AzureChinaCloud",
        "authentication": {"loginEndpoint": "https://login.chinacloudapi.cn", "audiences": []},
        "resourceManager": "https://management.chinacloudapi.cn",
        "suffixes": {"storage": "core.chinacloudapi.cn"},
    },
]


def test_the_metadata_url_is_the_arm_endpoint_or_the_full_url():
    assert metadata_request_url("https://management.local.azurestack.external") == (
        "https://management.local.azurestack.external/metadata/endpoints?api-version=2022-09-01"
    )
    full = "https://127.0.0.1:9443/metadata/endpoints?api-version=2022-09-01"
    assert metadata_request_url(full) == full


def test_the_cloud_whose_resource_manager_is_on_the_url_host_is_read():
    url = "https://management.chinacloudapi.cn/metadata/endpoints?api-version=2022-09-01"
    endpoints, problem = endpoints_from_metadata(PUBLIC_METADATA, url)
    assert problem is None
    assert endpoints["arm"] == "https://management.chinacloudapi.cn"
    assert endpoints["blob_suffix"] == "blob.core.chinacloudapi.cn"
    assert endpoints["graph"] is None and not endpoints["known_authority"]

    endpoints, problem = endpoints_from_metadata(PUBLIC_METADATA, "https://management.azure.com/metadata/endpoints")
    assert endpoints == dict(
        arm="https://management.azure.com",
        arm_audience="https://management.core.windows.net/",
        graph="https://graph.microsoft.com",
        authority="https://login.microsoftonline.com",
        blob_suffix="blob.core.windows.net",
        known_authority=False,
    )


def test_an_answer_without_the_needed_endpoints_is_named():
    _endpoints, problem = endpoints_from_metadata({"resourceManager": "http://x"}, "https://x/metadata/endpoints")
    assert "resourceManager (an https URL)" in problem
    assert "authentication.loginEndpoint" in problem and "suffixes.storage" in problem
    assert endpoints_from_metadata([], "https://x/metadata/endpoints")[1] == (
        "the metadata at https://x/metadata/endpoints names no cloud."
    )


def test_cloud_environment_is_a_known_name_or_an_https_url():
    assert cloud_environment_problem("AzureUSGovernment") is None
    assert cloud_environment_problem("https://127.0.0.1:9443/metadata/endpoints?api-version=2022-09-01") is None
    assert "is not an https URL" in cloud_environment_problem("http://127.0.0.1:9443/metadata/endpoints")
    assert "nor a metadata discovery endpoint URL" in cloud_environment_problem("AzureMoon")
    problems = option_problems(
        dict(name=["acct1"], concurrency=1, cloud_environment="AzureMoon", subscription_id="s", resource_group="g")
    )
    assert any("AzureMoon" in problem for problem in problems)


@pytest.fixture
def tls_fake(tmp_path, monkeypatch):
    certificates = make_certificates(str(tmp_path), "azure-fake-test")
    state = FakeAzure(TENANT)
    state.client_id, state.client_secret, state.check_tokens = CLIENT_ID, SECRET, True
    server, url = serve(state, tls=server_context(certificates))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificates["bundle"])
    monkeypatch.setattr(azure_client, "_METADATA_ENDPOINTS", {})
    yield state, url
    server.shutdown()
    server.server_close()


def params_for(url, **overrides):
    params = {key: spec.get("default") for key, spec in segments_azure_access.argument_spec().items()}
    params.update(
        name=["acct1"],
        subscription_id=SUBSCRIPTION,
        resource_group="imaging",
        client_id=CLIENT_ID,
        secret=SECRET,
        tenant=TENANT,
        cloud_environment=url + "/metadata/endpoints?api-version=2022-09-01",
        create_service_principal=True,
    )
    params.update(overrides)
    return params


class StubModule:
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode


def test_a_service_principal_signs_in_and_assigns_the_role_over_verified_tls(tls_fake):
    fake, url = tls_fake
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    params = params_for(url)
    [result] = segments_azure_access.run(StubModule(params), AzureClients(params))
    assert not result["failed"], result
    assert result["changed"] and result["tenant_id"] == TENANT
    assert fake.service_principals[SEGMENTS_APP_ID]["id"] == result["principal_id"]
    assert result["after"]["role_assignments"][0]["scope"] == account_scope(SUBSCRIPTION, "imaging", "acct1")
    token_requests = [request for request in fake.requests if request[1].endswith("/oauth2/v2.0/token")]
    # One token for ARM and one for Graph, each for its own audience, and no secret in what the fake keeps.
    assert sorted(request[2]["scope"] for request in token_requests) == [url + "/.default", url + "/graph/.default"]
    assert all("client_secret" not in request[2] for request in token_requests)


def test_a_wrong_secret_fails_the_account_with_entra_ids_code(tls_fake):
    fake, url = tls_fake
    fake.add_account(SUBSCRIPTION, "imaging", "acct1")
    params = params_for(url, secret="wrong")
    [result] = segments_azure_access.run(StubModule(params), AzureClients(params))
    assert result["failed"] and "storage account 'acct1'" in result["msg"]
    assert "AADSTS7000215" in result["msg"]
    assert fake.assignments == {}


def test_an_untrusted_certificate_is_refused(tls_fake, monkeypatch):
    _fake, url = tls_fake
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(AzureSetupError, match="could not be read .*REQUESTS_CA_BUNDLE"):
        AzureClients(params_for(url)).endpoints()
