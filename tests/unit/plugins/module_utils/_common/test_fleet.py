# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""fleet.py: a whole-task failure on the options names the call's buckets (or Azure's storage accounts), and keeps
every sentence whole."""

from __future__ import annotations

import pytest

from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    fail_on_options,
    fleet_result,
    options_message,
)


def test_options_message_names_every_bucket_once_in_input_order():
    assert options_message(["b", "a", "b"], "sid must not be empty: it is how our statement is found again.") == (
        "bucket(s) 'b', 'a': sid must not be empty: it is how our statement is found again."
    )


def test_options_message_joins_the_problems_and_drops_empty_ones():
    assert options_message(
        ["a"], [None, "origins must list at least one origin.", "", "rule_id must be 1 to 255 characters."]
    ) == ("bucket(s) 'a': origins must list at least one origin. rule_id must be 1 to 255 characters.")


def test_options_message_without_buckets_is_the_problems_alone():
    assert options_message([], "name must list at least one bucket.") == "name must list at least one bucket."
    assert options_message(None, ["backup file x.json is not valid JSON."]) == "backup file x.json is not valid JSON."


class Failed(Exception):
    pass


class Module:
    def __init__(self, params):
        self.params = params
        self.failures = []

    def fail_json(self, **kwargs):
        self.failures.append(kwargs)
        raise Failed()


def test_fail_on_options_takes_the_buckets_from_the_name_option_unless_given():
    module = Module({"name": ["customer-images", "customer-videos"]})
    with pytest.raises(Failed):
        fail_on_options(module, "concurrency must be 1 or more, got 0.")
    with pytest.raises(Failed):
        fail_on_options(module, ["member is required."], bucket_names=["restored-bucket"])
    assert module.failures == [
        {"msg": "bucket(s) 'customer-images', 'customer-videos': concurrency must be 1 or more, got 0."},
        {"msg": "bucket(s) 'restored-bucket': member is required."},
    ]


def test_azure_messages_speak_of_storage_accounts():
    module = Module({"name": ["segtest31"]})
    with pytest.raises(Failed):
        fail_on_options(module, "subscription_id 'prod' is not a GUID.", noun=AccountError.noun)
    assert module.failures == [{"msg": "storage account(s) 'segtest31': subscription_id 'prod' is not a GUID."}]
    results = [
        {"name": "segtest31", "changed": True, "failed": False, "warnings": ["Blob service CORS is at its limit."]},
        {"name": "segtest32", "changed": False, "failed": True, "msg": "storage account 'segtest32': read failed"},
    ]
    summary = fleet_result(results, noun=AccountError.noun)
    assert summary["msg"] == "1 of 2 storage account(s) failed: storage account 'segtest32': read failed"
    assert summary["segments_warnings"] == ["storage account 'segtest31': Blob service CORS is at its limit."]
    assert fleet_result(results[:1], noun=AccountError.noun)["msg"] == "1 storage account(s) processed, 1 changed"
    assert fleet_result(results[:1])["msg"] == "1 bucket(s) processed, 1 changed"
