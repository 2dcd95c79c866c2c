# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.segments.cloud.plugins.modules.segments_backup import backup_record, write_if_different


def test_record_keeps_only_the_managed_parts():
    entry = {
        "name": "b",
        "exists": True,
        "region": "eu-west-1",
        "policy": {"Statement": []},
        "cors_rules": [],
        "ready": True,
        "problems": [],
    }
    expected = {
        "host": "acct",
        "provider": "s3",
        "bucket": "b",
        "region": "eu-west-1",
        "policy": {"Statement": []},
        "cors_rules": [],
    }
    assert backup_record("acct", "s3", entry) == expected


def test_a_gcs_record_carries_the_grant_of_the_run():
    entry = {"name": "g", "exists": True, "location": "US", "cors": [], "iam_policy": {"bindings": []}}
    record = backup_record(
        "proj",
        "gcs",
        entry,
        {"member": "serviceAccount:r@p.iam.gserviceaccount.com", "role": "roles/storage.objectViewer"},
    )
    assert record == {
        "host": "proj",
        "provider": "gcs",
        "bucket": "g",
        "location": "US",
        "cors": [],
        "iam_policy": {"bindings": []},
        "member": "serviceAccount:r@p.iam.gserviceaccount.com",
        "role": "roles/storage.objectViewer",
    }


def test_an_azure_record_keeps_the_audit_of_segments_azure_info_and_null_for_no_assignment():
    scope = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct1"
    entry = {
        "name": "acct1",
        "exists": True,
        "plane": "data",
        "scope": scope,
        "cors": [{"allowed_origins": "https://a.example", "allowed_methods": "GET"}],
        "cors_rule": None,
        "role_assignment": None,
        "inherited_role_assignments": [],
        "ready": False,
    }
    record = backup_record("localhost", "azure", entry)
    assert record == {
        "host": "localhost",
        "provider": "azure",
        "bucket": "acct1",
        "plane": "data",
        "scope": scope,
        "cors": [{"allowed_origins": "https://a.example", "allowed_methods": "GET"}],
        "role_assignment": None,
        "inherited_role_assignments": [],
    }
    without_access = backup_record("localhost", "azure", {"name": "acct1", "cors": []})
    assert "role_assignment" not in without_access


def test_same_content_is_not_rewritten(tmp_path):
    path = str(tmp_path / "run" / "h" / "s3" / "b.json")
    content = json.dumps({"a": 1})
    assert write_if_different(path, content) is True
    assert write_if_different(path, content) is False
    assert write_if_different(path, content + " ") is True
    with open(path, encoding="utf-8") as written:
        assert written.read() == content + " "
