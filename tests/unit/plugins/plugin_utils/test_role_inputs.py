# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.plugin_utils.role_inputs import (
    azure_input_problems,
    onboard_input_problems,
)

PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
ORIGINS = ["https://segments.ai", "https://*.segments.ai"]
MEMBER = "serviceAccount:reader@segments-prod.iam.gserviceaccount.com"
ROLE = "roles/storage.objectViewer"


def test_the_defaults_pass():
    assert onboard_input_problems(["a"], ["g"], PRINCIPAL, ORIGINS, MEMBER, ROLE) == []


def test_each_bad_option_is_stated_as_the_module_states_it():
    problems = onboard_input_problems(["a"], [], "*", ["https://*.*.segments.ai"], "", ROLE)
    assert len(problems) == 2
    assert "allow_public_principal" in problems[0]
    assert "one wildcard per origin" in problems[1]


def test_gcs_options_are_checked_only_with_gcs_buckets():
    assert onboard_input_problems(["a"], [], PRINCIPAL, ORIGINS, "bob", "viewer") == []
    problems = onboard_input_problems([], ["g"], "*", ORIGINS, "bob", "viewer")
    assert len(problems) == 2 and "serviceAccount:" in problems[0] and "roles/NAME" in problems[1]


def test_an_empty_member_is_left_to_the_argument_check():
    assert onboard_input_problems([], ["g"], PRINCIPAL, ORIGINS, "", ROLE) == []


def test_azure_inputs_that_pass():
    accounts = [
        "customerimages",
        {"name": "lidar", "resource_group": "imaging", "subscription_id": "00000000-0000-0000-0000-000000000001"},
        {"name": "frames01", "container": "labelling"},
    ]
    assert azure_input_problems(accounts, "imaging", ["https://app.segments.ai"]) == []
    assert azure_input_problems([], "bad group.", ["https://example.com"]) == []


def test_each_bad_azure_entry_is_named_with_its_problem():
    problems = azure_input_problems(
        [
            "Customer-Images",
            {"name": "ok1", "subscription_id": "not-a-guid"},
            {"name": "ok2", "container": "A_B"},
            {"name": "ok3", "resource_group": "ends-with-dot."},
            {"name": "ok4", "region": "westeurope"},
            {"resource_group": "rg"},
            42,
        ],
        "",
        ["https://example.com"],
    )
    assert len(problems) == 8
    assert problems[0].startswith("segments_azure_accounts[0]: storage account name 'Customer-Images'")
    assert problems[1].startswith("segments_azure_accounts[1] (ok1): subscription_id 'not-a-guid' is not a GUID")
    assert "container name 'A_B'" in problems[2]
    assert "resource group name 'ends-with-dot.'" in problems[3]
    assert "unknown key(s) region" in problems[4]
    assert problems[5].startswith("segments_azure_accounts[5]: storage account name None")
    assert "must be a storage account name or a dict" in problems[6]
    assert "is not a Segments origin" in problems[7]


def test_the_app_id_and_role_must_be_guids():
    role_id = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    assert azure_input_problems(["acct"], app_id="d47021c7-05d1-44c3-a594-93c2c30c68fc", role=role_id) == []
    problems = azure_input_problems(["acct"], app_id="segments", role="Storage Blob Data Reader")
    assert len(problems) == 2 and "segments_azure_app_id 'segments'" in problems[0]
    assert "segments_azure_role 'Storage Blob Data Reader'" in problems[1]


def test_the_default_resource_group_and_a_non_list_are_refused():
    assert "resource group name 'x.'" in azure_input_problems(["acct"], "x.")[0]
    assert azure_input_problems("acct") == ["segments_azure_accounts must be a list of storage account names or dicts."]
