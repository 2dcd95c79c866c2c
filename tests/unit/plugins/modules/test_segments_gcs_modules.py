# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The three GCS modules end to end against the stub Cloud Storage of test_gcs_bucket: input validation before any call,
check mode without writes, per-bucket results and diff, and documentation that states the rules the code follows."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.segments.cloud.plugins.module_utils._gcs import io as gcs_bucket
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import (
    OWNERSHIP_RULE_DOC,
    WILDCARD_ORIGIN_DOC,
    build_entry,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import DEFAULT_ROLE, LEAST_PRIVILEGE_DOC

# The default role of segments_gcs_access and segments_gcs_info in project customer-project.
CUSTOM_ROLE = "projects/customer-project/roles/segmentsObjectReader"
from ansible_collections.segments.cloud.plugins.modules import segments_gcs_access, segments_gcs_cors, segments_gcs_info
from ansible_collections.segments.cloud.tests.unit.plugins.module_utils._gcs.test_gcs_io import FakeGcs

OUR_MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
OUR_ENTRY = build_entry()
CUSTOMER_ENTRY = {"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}
ADMIN_BINDING = {"role": "roles/storage.admin", "members": ["group:ops@customer.example"]}


@pytest.fixture(name="gcs")
def fixture_gcs(monkeypatch):
    """A stub Cloud Storage that the modules get instead of a google-cloud-storage client."""
    fake = FakeGcs()
    monkeypatch.setattr(gcs_bucket, "gcs_client", lambda params, concurrency: fake)
    return fake


@pytest.fixture(name="no_client")
def fixture_no_client(monkeypatch):
    """Fails the test if a module builds a client: validation must come first."""

    def refuse(params, concurrency):
        raise AssertionError("the module built a client before validating its input")

    monkeypatch.setattr(gcs_bucket, "gcs_client", refuse)


def run_module(module, capsys, **args):
    """Run a module's main() with args (in project customer-project unless given) and return its JSON result."""
    args.setdefault("project", "customer-project")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def descriptions(doc_text):
    """The module description and each option's description, each as one string."""
    doc = yaml.safe_load(doc_text)
    texts = {"": " ".join(doc["description"])}
    for option, spec in doc.get("options", {}).items():
        texts[option] = " ".join(spec["description"])
    return texts


# Documentation states the rules the code follows


def test_cors_doc_states_the_ownership_rule_and_what_a_wildcard_origin_means():
    texts = descriptions(segments_gcs_cors.DOCUMENTATION)
    assert OWNERSHIP_RULE_DOC in texts[""]
    assert WILDCARD_ORIGIN_DOC in texts["origins"]


def test_access_doc_states_the_least_privilege():
    assert LEAST_PRIVILEGE_DOC in descriptions(segments_gcs_access.DOCUMENTATION)["role"]


@pytest.mark.parametrize("module", [segments_gcs_cors, segments_gcs_access, segments_gcs_info])
def test_docs_examples_and_return_parse(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == module.__name__.rsplit(".", 1)[-1]
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)
    assert "buckets" in yaml.safe_load(module.RETURN)


# Validation before any call


@pytest.mark.parametrize(
    "origins",
    [
        ["https://app.customer.example"],
        ["*"],
        ["https://segments.ai", "http://segments.ai"],
        ["https://segments.ai.evil.example"],
        [],
    ],
)
def test_cors_refuses_origins_that_are_not_segments_before_any_call(capsys, no_client, origins):
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"], origins=origins)
    assert result["failed"]
    assert "Segments origin" in result["msg"]


def test_cors_refuses_bad_methods_and_negative_max_age(capsys, no_client):
    assert "methods[0]" in run_module(segments_gcs_cors, capsys, name=["customer-images"], methods=["FETCH"])["msg"]
    assert (
        "max_age_seconds" in run_module(segments_gcs_cors, capsys, name=["customer-images"], max_age_seconds=-1)["msg"]
    )


@pytest.mark.parametrize(
    "module, extra", [(segments_gcs_cors, {}), (segments_gcs_access, {"member": OUR_MEMBER}), (segments_gcs_info, {})]
)
def test_bad_bucket_names_fail_before_any_call(capsys, no_client, module, extra):
    result = run_module(module, capsys, name=["customer-images", "Bad_Name!"], **extra)
    assert result["failed"]
    assert "'Bad_Name!' is not a valid Cloud Storage bucket name" in result["msg"]


@pytest.mark.parametrize(
    "member, expected",
    [
        ("segments-reader@segments-prod.iam.gserviceaccount.com", "is not an IAM principal"),
        ("serviceAccount:not an email", "is not an IAM principal"),
        ("allUsers", "would make every object in the bucket public"),
    ],
)
def test_access_refuses_malformed_or_public_members(capsys, no_client, member, expected):
    result = run_module(segments_gcs_access, capsys, name=["customer-images"], member=member)
    assert result["failed"] and expected in result["msg"]
    assert "allow_public_member" not in result["msg"]


def test_access_refuses_malformed_role(capsys, no_client):
    result = run_module(
        segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, role="storage.objectViewer"
    )
    assert result["failed"] and "is not an IAM role" in result["msg"]


# Behaviour against the stub


def test_cors_check_mode_reports_the_change_and_writes_nothing(capsys, gcs):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY])
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"], _ansible_check_mode=True)
    assert result["changed"] and gcs.writes == []
    (bucket,) = result["buckets"]
    assert bucket["before"] == {"cors": [CUSTOMER_ENTRY]}
    assert bucket["after"] == {"cors": [CUSTOMER_ENTRY, OUR_ENTRY]}
    assert result["diff"] == {
        "before": {"customer-images": [CUSTOMER_ENTRY]},
        "after": {"customer-images": [CUSTOMER_ENTRY, OUR_ENTRY]},
    }


def test_cors_list_with_a_missing_bucket_fails_naming_it_and_still_does_the_others(capsys, gcs):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY])
    result = run_module(segments_gcs_cors, capsys, name=["customer-images", "customer-missing", "customer-images"])
    assert result["failed"] and result["changed"]
    assert "1 of 2 bucket(s) failed: bucket 'customer-missing'" in result["msg"] and "404" in result["msg"]
    assert [bucket["name"] for bucket in result["buckets"]] == ["customer-images", "customer-missing"]
    assert gcs.buckets["customer-images"]["cors"] == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert list(result["diff"]["after"]) == ["customer-images"]


def test_cors_second_run_is_unchanged(capsys, gcs):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY])
    assert run_module(segments_gcs_cors, capsys, name=["customer-images"])["changed"]
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"])
    assert not result["changed"] and len(gcs.writes) == 1


def test_cors_read_back_without_ours_is_merged_again(capsys, gcs, monkeypatch):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY])
    real_get_bucket = gcs.get_bucket
    calls = []

    def get_bucket_after_another_writer(name):
        calls.append(name)
        if len(calls) == 2:
            # Another writer, working from a stale copy, removes our entry between our write and the read-back.
            gcs.concurrent_cors_change(name, [CUSTOMER_ENTRY])
        return real_get_bucket(name)

    monkeypatch.setattr(gcs, "get_bucket", get_bucket_after_another_writer)
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"])
    assert result["changed"] and not result.get("failed")
    (bucket,) = result["buckets"]
    assert bucket["before"] == {"cors": [CUSTOMER_ENTRY]}
    assert bucket["after"]["cors"] == gcs.buckets["customer-images"]["cors"] and len(bucket["after"]["cors"]) == 2
    assert len([write for write in gcs.writes if write[0] == "patch"]) == 2


def test_access_grants_additively_and_warns_without_uniform_access(capsys, gcs, monkeypatch):
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING], uniform=False)
    # Where the task warnings end up depends on what else this process imported (on the controller they go to the
    # display).
    task_warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, warning: task_warnings.append(warning))
    result = run_module(segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER)
    assert result["changed"] and not result.get("failed")
    (bucket,) = result["buckets"]
    assert bucket["before"] == {"iam_policy": {"bindings": [ADMIN_BINDING]}}
    # The fake, like Cloud Storage, hands the bindings back in its own order.
    assert sorted(bucket["after"]["iam_policy"]["bindings"], key=lambda binding: binding["role"]) == [
        {"role": CUSTOM_ROLE, "members": [OUR_MEMBER]},
        ADMIN_BINDING,
    ]
    assert "uniform bucket-level access is off" in bucket["warnings"][0]
    assert len(task_warnings) == 1 and task_warnings[0].startswith(
        "bucket 'customer-images': uniform bucket-level access is off"
    )
    assert set(result["diff"]["after"]) == {"customer-images"}


def test_access_check_mode_absent_writes_nothing(capsys, gcs):
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING, {"role": CUSTOM_ROLE, "members": [OUR_MEMBER]}])
    result = run_module(
        segments_gcs_access,
        capsys,
        name=["customer-images"],
        member=OUR_MEMBER,
        state="absent",
        _ansible_check_mode=True,
    )
    assert result["changed"] and gcs.writes == []
    assert result["buckets"][0]["after"] == {"iam_policy": {"bindings": [ADMIN_BINDING]}}
    assert result["buckets"][0]["warnings"] == []


def test_info_reports_readiness_problems_and_a_missing_bucket_without_failing(capsys, gcs):
    gcs.add_bucket(
        "customer-ready", cors=[CUSTOMER_ENTRY, OUR_ENTRY], bindings=[{"role": CUSTOM_ROLE, "members": [OUR_MEMBER]}]
    )
    gcs.add_bucket("customer-bare", cors=[CUSTOMER_ENTRY], uniform=False, requester_pays=True)
    result = run_module(
        segments_gcs_info, capsys, name=["customer-ready", "customer-bare", "customer-missing"], member=OUR_MEMBER
    )
    assert not result.get("failed") and not result["changed"] and gcs.writes == []
    ready, bare, missing = result["buckets"]
    assert ready["ready"] and ready["problems"] == [] and ready["cors_entry"] == OUR_ENTRY and ready["member_has_role"]
    assert ready["url_prefix"] == "https://storage.googleapis.com/customer-ready/"
    assert ready["cors"] == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert ready["iam_policy"] == {"bindings": [{"role": CUSTOM_ROLE, "members": [OUR_MEMBER]}]}
    assert missing["cors"] is None and missing["iam_policy"] is None
    assert not bare["ready"] and not bare["cors_entry_present"] and bare["member_has_role"] is False
    assert (
        len(bare["problems"]) == 2
        and "segments_gcs_cors" in bare["problems"][0]
        and "segments_gcs_access" in bare["problems"][1]
    )
    assert bare["requester_pays"] and not bare["uniform_bucket_level_access"] and len(bare["warnings"]) == 2
    assert (
        missing["exists"] is False
        and not missing["ready"]
        and not missing["failed"]
        and "does not exist" in missing["problems"][0]
    )


def test_access_without_project_or_role_names_what_to_set(capsys, no_client):
    result = run_module(segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, project=None)
    assert result["failed"] and "customer-images" in result["msg"]
    assert "segmentsObjectReader" in result["msg"] and "Or pass role" in result["msg"]


def test_access_narrows_the_earlier_grant_in_one_write_and_info_warns_before(capsys, gcs, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, warning: None)
    shared = {"role": DEFAULT_ROLE, "members": [OUR_MEMBER, "user:alice@customer.example"]}
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING, shared])
    audit = run_module(segments_gcs_info, capsys, name=["customer-images"], member=OUR_MEMBER)
    assert audit["buckets"][0]["member_extra_roles"] == [DEFAULT_ROLE]
    assert "narrow: true" in audit["buckets"][0]["warnings"][-1]
    result = run_module(segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, narrow=True)
    assert result["changed"] and result["buckets"][0]["narrowed"] and result["buckets"][0]["role"] == CUSTOM_ROLE
    assert sorted(result["buckets"][0]["after"]["iam_policy"]["bindings"], key=lambda binding: binding["role"]) == [
        {"role": CUSTOM_ROLE, "members": [OUR_MEMBER]},
        ADMIN_BINDING,
        {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example"]},
    ]
    assert len([write for write in gcs.writes if write[0] != "patch"]) == 1


def test_access_narrowing_without_an_earlier_grant_fails_the_bucket_without_a_write(capsys, gcs):
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING])
    result = run_module(segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, narrow=True)
    assert result["failed"] and gcs.writes == []
    assert "customer-images" in result["msg"] and "Run without narrow" in result["msg"]


def test_info_without_member_does_not_read_iam(capsys, gcs):
    gcs.add_bucket("customer-ready", cors=[OUR_ENTRY])
    result = run_module(segments_gcs_info, capsys, name=["customer-ready"])
    assert result["buckets"][0]["ready"] and result["buckets"][0]["member_has_role"] is None
    assert result["buckets"][0]["iam_policy"] is None and result["buckets"][0]["cors"] == [OUR_ENTRY]
    assert all(read[0] == "bucket" for read in gcs.reads)


# bucket_states: the audit's read stands for the first read


def test_access_with_a_known_state_holding_ours_reads_and_writes_nothing(capsys, gcs):
    ours = {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING, ours])
    # The audit's entry: the same grant, split differently, means the same.
    known = {
        "customer-images": {
            "name": "customer-images",
            "exists": True,
            "location": "EUROPE-WEST1",
            "uniform_bucket_level_access": True,
            "iam_policy": {"bindings": [ours, ADMIN_BINDING]},
        }
    }
    result = run_module(
        segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, role=DEFAULT_ROLE, bucket_states=known
    )
    assert not result["changed"] and gcs.reads == [] and gcs.writes == []
    assert result["buckets"][0]["location"] == "EUROPE-WEST1"


def test_access_with_a_known_state_without_ours_reads_before_writing_and_reads_back(capsys, gcs):
    gcs.add_bucket("customer-images", bindings=[ADMIN_BINDING])
    known = {
        "customer-images": {
            "name": "customer-images",
            "exists": True,
            "location": "EUROPE-WEST1",
            "uniform_bucket_level_access": True,
            "iam_policy": {"bindings": [ADMIN_BINDING]},
        }
    }
    result = run_module(
        segments_gcs_access, capsys, name=["customer-images"], member=OUR_MEMBER, role=DEFAULT_ROLE, bucket_states=known
    )
    assert result["changed"]
    assert [read[0] for read in gcs.reads] == ["iam", "iam"]  # the race guard, then the read-back
    # The write carries the etag of the guard read, not the audit's (which has none).
    assert [write[2]["etag"] for write in gcs.writes] == ["etag-1"]
    assert {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]} in result["buckets"][0]["after"]["iam_policy"]["bindings"]


def test_cors_with_a_known_state_holding_ours_reads_and_writes_nothing(capsys, gcs):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY, OUR_ENTRY])
    known = {"customer-images": {"name": "customer-images", "location": "EU", "cors": [CUSTOMER_ENTRY, OUR_ENTRY]}}
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"], bucket_states=known)
    assert not result["changed"] and gcs.reads == [] and gcs.writes == []
    assert result["buckets"][0]["location"] == "EU"


def test_cors_with_a_stale_known_state_writes_with_the_metageneration_read_right_before(capsys, gcs):
    gcs.add_bucket("customer-images", cors=[CUSTOMER_ENTRY])
    gcs.concurrent_cors_change("customer-images", [CUSTOMER_ENTRY])  # metageneration 2 since the audit
    known = {"customer-images": {"name": "customer-images", "location": "EUROPE-WEST1", "cors": [CUSTOMER_ENTRY]}}
    result = run_module(segments_gcs_cors, capsys, name=["customer-images"], bucket_states=known)
    assert result["changed"]
    assert [write[3] for write in gcs.writes] == [2]
    assert result["buckets"][0]["after"]["cors"] == [CUSTOMER_ENTRY, OUR_ENTRY]
