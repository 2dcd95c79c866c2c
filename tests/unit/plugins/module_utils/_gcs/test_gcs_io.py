# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the GCS read-merge-write helpers against a stub Cloud Storage that enforces preconditions.

The local emulator ignores if_metageneration_match and IAM etags, so the retry paths are proven here: the stub
answers a stale metageneration or etag with 412 (or 409) the way Cloud Storage does, and a "concurrent writer"
hook changes the bucket between our read and our write, so the first attempt really loses the race.
"""

from __future__ import annotations

import copy
import os

import pytest
from google.api_core import exceptions as google_exceptions
from google.api_core.iam import Policy
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import DEFAULT_RETRY_POLICY, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError, WriteOutcomeUnknown
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import gcs_errors
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import (
    build_entry,
    cors_read_back_problem,
    merge_entry,
    remove_entries,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    DEFAULT_ROLE,
    add_member,
    iam_read_back_problem,
    remove_member,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import (
    CorsPart,
    IamPolicyPart,
    bucket_facts,
    policy_from_dict,
    policy_to_dict,
    read_bucket,
    read_iam_policy,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.names import validate_bucket_name

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)
MAX_WRITE_ATTEMPTS = DEFAULT_RETRY_POLICY.attempts
FIRST_BACKOFF_SECONDS = DEFAULT_RETRY_POLICY.first_pause_seconds
MAX_BACKOFF_SECONDS = DEFAULT_RETRY_POLICY.max_pause_seconds

BUCKET = "customer-images"
OUR_MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
OUR_ENTRY = build_entry()
CUSTOMER_ENTRY = {"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}
LATE_CUSTOMER_ENTRY = {"origin": ["https://late.customer.example"], "method": ["GET"]}
CONDITION = {
    "title": "images-only",
    "expression": 'resource.name.startsWith("projects/_/buckets/customer-images/objects/images/")',
}


class FakeGcs:
    """A stub Cloud Storage holding bucket metadata and IAM policies, with real precondition and etag checks.

    ``before_write`` hooks run once each, in order, just before a write is checked: they play another writer
    that changes the bucket after our read. ``write_errors`` are raised, in order, instead of writes."""

    def __init__(self, conflict_error=google_exceptions.PreconditionFailed):
        self.buckets = {}
        self.policies = {}
        self.before_write = []
        self.write_errors = []
        self.conflict_error = conflict_error
        self.reads = []
        self.writes = []

    def add_bucket(self, name, cors=None, bindings=None, uniform=True, location="EUROPE-WEST1", requester_pays=False):
        self.buckets[name] = {
            "name": name,
            "metageneration": "1",
            "location": location,
            "iamConfiguration": {
                "uniformBucketLevelAccess": {"enabled": uniform},
                "publicAccessPrevention": "enforced",
            },
            "billing": {"requesterPays": requester_pays},
        }
        if cors is not None:
            self.buckets[name]["cors"] = copy.deepcopy(cors)
        self.policies[name] = {"version": 1, "etag": "etag-1", "bindings": copy.deepcopy(bindings or [])}

    # What another writer does between our read and our write.
    def concurrent_cors_change(self, name, entries):
        self.buckets[name]["cors"] = copy.deepcopy(entries)
        self.buckets[name]["metageneration"] = str(int(self.buckets[name]["metageneration"]) + 1)

    def concurrent_policy_change(self, name, bindings):
        self.policies[name]["bindings"] = copy.deepcopy(bindings)
        self.policies[name]["etag"] = "etag-%d" % (int(self.policies[name]["etag"].split("-")[1]) + 1)

    def _before_write(self, name):
        if self.before_write:
            self.before_write.pop(0)()
        if self.write_errors:
            raise self.write_errors.pop(0)
        if name not in self.buckets:
            raise google_exceptions.NotFound("bucket not found")

    # The part of google.cloud.storage.Client the helpers use.
    def get_bucket(self, name):
        self.reads.append(("bucket", name))
        if name not in self.buckets:
            raise google_exceptions.NotFound("GET https://storage.googleapis.com/storage/v1/b/%s: Not Found" % name)
        return FakeBucket(self, name, copy.deepcopy(self.buckets[name]))

    def bucket(self, name):
        return FakeBucket(self, name, {"name": name})


class FakeBucket:
    """The part of google.cloud.storage.Bucket the helpers use, backed by FakeGcs."""

    def __init__(self, gcs, name, properties):
        self.gcs = gcs
        self.name = name
        self.properties = properties
        self.changed_fields = {}

    @property
    def metageneration(self):
        return int(self.properties["metageneration"]) if "metageneration" in self.properties else None

    @property
    def location(self):
        return self.properties.get("location")

    @property
    def requester_pays(self):
        return self.properties.get("billing", {}).get("requesterPays", False)

    @property
    def iam_configuration(self):
        return FakeIamConfiguration(self.properties.get("iamConfiguration", {}))

    @property
    def cors(self):
        return copy.deepcopy(self.properties.get("cors", []))

    @cors.setter
    def cors(self, entries):
        self.changed_fields["cors"] = copy.deepcopy(entries)

    def patch(self, if_metageneration_match=None):
        self.gcs.writes.append(("patch", self.name, copy.deepcopy(self.changed_fields), if_metageneration_match))
        self.gcs._before_write(self.name)  # pylint: disable=protected-access
        stored = self.gcs.buckets[self.name]
        if if_metageneration_match is not None and int(stored["metageneration"]) != if_metageneration_match:
            raise google_exceptions.PreconditionFailed("PATCH .../b/%s: conditionNotMet" % self.name)
        stored.update(copy.deepcopy(self.changed_fields))
        stored["metageneration"] = str(int(stored["metageneration"]) + 1)
        self.properties = copy.deepcopy(stored)

    def get_iam_policy(self, requested_policy_version=None):
        self.gcs.reads.append(("iam", self.name, requested_policy_version))
        if self.name not in self.gcs.policies:
            raise google_exceptions.NotFound("bucket not found")
        return Policy.from_api_repr(copy.deepcopy(self.gcs.policies[self.name]))

    def set_iam_policy(self, policy):
        resource = policy.to_api_repr()
        self.gcs.writes.append(("set_iam_policy", self.name, copy.deepcopy(resource)))
        self.gcs._before_write(self.name)  # pylint: disable=protected-access
        stored = self.gcs.policies[self.name]
        if resource.get("etag") != stored["etag"]:
            raise self.gcs.conflict_error("PUT .../b/%s/iam: etag mismatch" % self.name)
        number = int(stored["etag"].split("-")[1]) + 1
        self.gcs.policies[self.name] = dict(resource, etag="etag-%d" % number)
        return Policy.from_api_repr(copy.deepcopy(self.gcs.policies[self.name]))


class FakeIamConfiguration(dict):
    @property
    def uniform_bucket_level_access_enabled(self):
        return self.get("uniformBucketLevelAccess", {}).get("enabled", False)


class SleepRecorder:
    """Stands in for time.sleep: records the pauses instead of waiting."""

    def __init__(self):
        self.pauses = []

    def __call__(self, seconds):
        self.pauses.append(seconds)


def merge_ours(entries):
    return merge_entry(entries, OUR_ENTRY)


def merge_ours_unless_present(entries):
    """Like a merge that accepts any Segments entry already there."""
    if any(entry.get("origin") == OUR_ENTRY["origin"] for entry in entries):
        return entries, False
    return merge_ours(entries)


def grant(policy):
    return add_member(policy, DEFAULT_ROLE, OUR_MEMBER)


def revoke(policy):
    return remove_member(policy, DEFAULT_ROLE, OUR_MEMBER)


def converge_cors(gcs, bucket_name, merge, check_mode, sleep):
    """The engine on the CORS part: (location, before, after, changed) as segments_gcs_cors reports them."""
    outcome = converge(CorsPart(gcs, bucket_name, merge), check_mode, sleep=sleep)
    return outcome.merged_into["location"], outcome.merged_into["cors"], outcome.after["cors"], outcome.changed


def converge_iam_policy(gcs, bucket_name, merge, role=DEFAULT_ROLE, member=OUR_MEMBER, check_mode=False, sleep=None):
    """The engine on the IAM policy part: (before, after, changed) as segments_gcs_access reports them."""
    outcome = converge(IamPolicyPart(gcs, bucket_name, merge, role, member), check_mode, sleep=sleep)
    return outcome.merged_into, outcome.after, outcome.changed


def cors_patches(gcs):
    return [write for write in gcs.writes if write[0] == "patch"]


# The CORS part on the engine: precondition and retry


def test_cors_write_is_a_patch_of_cors_alone_guarded_by_the_metageneration_read():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    sleep = SleepRecorder()
    bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=sleep)
    assert changed
    assert before == [CUSTOMER_ENTRY]
    assert after == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert gcs.writes == [("patch", BUCKET, {"cors": [CUSTOMER_ENTRY, OUR_ENTRY]}, 1)]
    assert gcs.buckets[BUCKET]["cors"] == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert bucket == "EUROPE-WEST1"  # the location read with the CORS
    assert sleep.pauses == []


def test_cors_precondition_failure_rereads_remerges_and_keeps_the_other_writers_entry():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    # Another writer adds its entry after our first read: our first PATCH carries a stale metageneration.
    gcs.before_write.append(lambda: gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY]))
    sleep = SleepRecorder()
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=sleep)
    assert changed
    assert [write[3] for write in cors_patches(gcs)] == [1, 2]
    # The first read, the read after the refused write (which merges again), the read-back of the second write.
    assert gcs.reads == [("bucket", BUCKET)] * 3
    assert before == [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY]
    assert after == [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY, OUR_ENTRY]
    assert gcs.buckets[BUCKET]["cors"] == [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY, OUR_ENTRY]
    assert len(sleep.pauses) == 1
    # Cloud Storage allows about one metadata update per second per bucket: never retry sooner.
    assert FIRST_BACKOFF_SECONDS <= sleep.pauses[0] <= FIRST_BACKOFF_SECONDS * 1.5


def test_cors_write_refused_as_stale_but_holding_what_we_sent_is_reported_as_our_change():
    # Exactly what a lost answer looks like: the write landed, the client's retry met the metageneration it made stale.
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    gcs.before_write.append(lambda: gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, OUR_ENTRY]))
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    assert changed
    assert before == [CUSTOMER_ENTRY]
    assert after == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert len(cors_patches(gcs)) == 1


def test_cors_retry_finds_another_version_of_ours_and_writes_nothing_more():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    # Another writer put a Segments entry of its own (other methods) before our write: not what we sent, so not ours.
    gcs.before_write.append(
        lambda: gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, dict(OUR_ENTRY, method=["GET", "HEAD"])])
    )
    _bucket, before, after, changed = converge_cors(
        gcs, BUCKET, merge_ours_unless_present, check_mode=False, sleep=SleepRecorder()
    )
    assert not changed
    assert before == after == [CUSTOMER_ENTRY, dict(OUR_ENTRY, method=["GET", "HEAD"])]
    assert len(cors_patches(gcs)) == 1


def test_cors_gives_up_after_bounded_attempts_with_a_clear_message():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    gcs.before_write.extend(
        lambda: gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY]) for _attempt in range(MAX_WRITE_ATTEMPTS)
    )
    sleep = SleepRecorder()
    with pytest.raises(BucketError) as raised:
        converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=sleep)
    assert len(cors_patches(gcs)) == MAX_WRITE_ATTEMPTS
    assert len(sleep.pauses) == MAX_WRITE_ATTEMPTS - 1
    assert all(
        FIRST_BACKOFF_SECONDS * 2**attempt <= pause <= MAX_BACKOFF_SECONDS for attempt, pause in enumerate(sleep.pauses)
    )
    assert "bucket '%s'" % BUCKET in raised.value.message
    assert "412" in raised.value.message and "update CORS" in raised.value.message
    assert gcs.buckets[BUCKET]["cors"] == [CUSTOMER_ENTRY]


def test_cors_check_mode_makes_no_write():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY, dict(OUR_ENTRY, method=["PUT"])])
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=True, sleep=SleepRecorder())
    assert changed
    assert after == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert before == [CUSTOMER_ENTRY, dict(OUR_ENTRY, method=["PUT"])]
    assert gcs.writes == []


def test_cors_unchanged_makes_no_write():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[OUR_ENTRY, CUSTOMER_ENTRY])
    _bucket, _before, _after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    assert not changed
    assert gcs.writes == []


def test_cors_absent_on_a_bucket_without_cors_writes_nothing():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET)
    _bucket, before, after, changed = converge_cors(
        gcs, BUCKET, remove_entries, check_mode=False, sleep=SleepRecorder()
    )
    assert (before, after, changed) == ([], [], False)
    assert gcs.writes == []


@pytest.mark.parametrize(
    "error, expected",
    [
        (google_exceptions.Forbidden("forbidden"), "Grant the caller storage.buckets.update"),
        (google_exceptions.TooManyRequests("slow down"), "throttled"),
        (google_exceptions.BadRequest("Invalid argument"), "rejected the request"),
    ],
)
def test_cors_write_errors_are_not_retried_and_name_the_bucket(error, expected):
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET)
    gcs.write_errors.append(error)
    sleep = SleepRecorder()
    with pytest.raises(BucketError) as raised:
        converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=sleep)
    assert expected in raised.value.message
    assert raised.value.message.startswith("bucket '%s': update CORS failed" % BUCKET)
    assert len(gcs.writes) == 1 and sleep.pauses == []


def test_missing_bucket_is_a_404_bucket_error_or_none():
    gcs = FakeGcs()
    with pytest.raises(BucketError) as raised:
        converge_cors(gcs, "no-such-bucket", merge_ours, check_mode=False, sleep=SleepRecorder())
    assert raised.value.message == (
        "bucket 'no-such-bucket': read bucket failed: the bucket does not exist (404). "
        "Check the bucket name and the project"
    )
    assert read_bucket(gcs, "no-such-bucket", missing_ok=True) is None


# The IAM policy part on the engine: etag and retry

ADMIN_BINDING = {
    "role": "roles/storage.admin",
    "members": ["group:ops@customer.example", "user:owner@customer.example"],
}
CONDITIONAL_VIEWER = {"role": DEFAULT_ROLE, "members": ["user:bob@customer.example"], "condition": CONDITION}
VIEWER_BINDING = {"role": DEFAULT_ROLE, "members": ["user:alice@customer.example"]}


def iam_writes(gcs):
    return [write for write in gcs.writes if write[0] == "set_iam_policy"]


def test_iam_write_carries_the_etag_read_and_keeps_every_other_binding():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING, CONDITIONAL_VIEWER, VIEWER_BINDING])
    before, after, changed = converge_iam_policy(gcs, BUCKET, grant, check_mode=False, sleep=SleepRecorder())
    assert changed
    assert before["bindings"] == [ADMIN_BINDING, CONDITIONAL_VIEWER, VIEWER_BINDING]
    # after is the read-back, whose members Cloud Storage (and policy_to_dict) sorts.
    assert after["bindings"][2] == {
        "role": DEFAULT_ROLE,
        "members": sorted(["user:alice@customer.example", OUR_MEMBER]),
    }
    (write,) = iam_writes(gcs)
    assert write[2]["etag"] == "etag-1" and write[2]["version"] == 3
    assert gcs.reads == [("iam", BUCKET, 3)] * 2  # the read merged into, and the read-back
    stored = read_iam_policy(gcs, BUCKET)
    assert CONDITIONAL_VIEWER in stored["bindings"] and ADMIN_BINDING in stored["bindings"]
    assert iam_read_back_problem(stored, after, DEFAULT_ROLE, OUR_MEMBER) is None


@pytest.mark.parametrize("conflict_error", [google_exceptions.PreconditionFailed, google_exceptions.Conflict])
def test_iam_etag_conflict_rereads_remerges_and_keeps_the_other_writers_member(conflict_error):
    gcs = FakeGcs(conflict_error=conflict_error)
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    late_admin = dict(ADMIN_BINDING, members=sorted(ADMIN_BINDING["members"] + ["user:late@customer.example"]))
    gcs.before_write.append(lambda: gcs.concurrent_policy_change(BUCKET, [late_admin, CONDITIONAL_VIEWER]))
    sleep = SleepRecorder()
    before, after, changed = converge_iam_policy(gcs, BUCKET, grant, check_mode=False, sleep=sleep)
    assert changed
    assert [write[2]["etag"] for write in iam_writes(gcs)] == ["etag-1", "etag-2"]
    assert before["bindings"] == [late_admin, CONDITIONAL_VIEWER]
    stored = gcs.policies[BUCKET]["bindings"]
    assert late_admin in stored and CONDITIONAL_VIEWER in stored
    assert {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]} in stored
    assert after["bindings"] == [late_admin, CONDITIONAL_VIEWER, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]
    assert len(sleep.pauses) == 1


def test_iam_gives_up_after_bounded_attempts_with_a_clear_message():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    gcs.before_write.extend(
        lambda: gcs.concurrent_policy_change(BUCKET, [ADMIN_BINDING]) for _attempt in range(MAX_WRITE_ATTEMPTS)
    )
    sleep = SleepRecorder()
    with pytest.raises(BucketError) as raised:
        converge_iam_policy(gcs, BUCKET, grant, check_mode=False, sleep=sleep)
    assert len(iam_writes(gcs)) == MAX_WRITE_ATTEMPTS
    assert len(sleep.pauses) == MAX_WRITE_ATTEMPTS - 1
    assert raised.value.message.startswith("bucket '%s': set IAM policy failed" % BUCKET)
    assert "after retries" in raised.value.message


def test_iam_check_mode_makes_no_write():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    before, after, changed = converge_iam_policy(gcs, BUCKET, grant, check_mode=True, sleep=SleepRecorder())
    assert changed
    assert before["bindings"] == [ADMIN_BINDING]
    assert after["bindings"] == [ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]
    assert gcs.writes == []


def test_iam_remove_drops_only_our_member_and_an_emptied_binding():
    gcs = FakeGcs()
    gcs.add_bucket(
        BUCKET,
        bindings=[
            ADMIN_BINDING,
            {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]},
            dict(CONDITIONAL_VIEWER, members=[OUR_MEMBER]),
        ],
    )
    _before, after, changed = converge_iam_policy(gcs, BUCKET, revoke, check_mode=False, sleep=SleepRecorder())
    assert changed
    assert after["bindings"] == [ADMIN_BINDING, dict(CONDITIONAL_VIEWER, members=[OUR_MEMBER])]
    assert sorted(gcs.policies[BUCKET]["bindings"], key=str) == sorted(after["bindings"], key=str)


def test_iam_forbidden_names_set_iam_policy_permission():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET)
    gcs.write_errors.append(google_exceptions.Forbidden("forbidden"))
    with pytest.raises(BucketError) as raised:
        converge_iam_policy(gcs, BUCKET, grant, check_mode=False, sleep=SleepRecorder())
    assert "storage.buckets.setIamPolicy" in raised.value.message


# A write whose answer was lost, and a read-back that shows another writer


def test_cors_write_that_landed_but_failed_is_reported_changed_from_the_state_merged_into():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    # The PATCH lands, then the answer is lost and google-api-core's retries give up.
    gcs.before_write.append(lambda: gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, OUR_ENTRY]))
    gcs.write_errors.append(google_exceptions.ServiceUnavailable("backendError"))
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    assert changed and before == [CUSTOMER_ENTRY] and after == [CUSTOMER_ENTRY, OUR_ENTRY]
    assert len(cors_patches(gcs)) == 1


def test_iam_write_that_landed_but_lost_its_answer_to_a_stale_etag_retry_is_reported_changed():
    gcs = FakeGcs(conflict_error=google_exceptions.Conflict)
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    gcs.before_write.append(
        lambda: gcs.concurrent_policy_change(BUCKET, [ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}])
    )
    before, after, changed = converge_iam_policy(gcs, BUCKET, grant, check_mode=False, sleep=SleepRecorder())
    assert changed and before["bindings"] == [ADMIN_BINDING]
    assert after["bindings"] == [ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]
    assert len(iam_writes(gcs)) == 1


def test_a_failed_write_followed_by_a_failed_read_says_the_change_may_have_been_applied():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    gcs.write_errors.append(google_exceptions.RetryError("Deadline of 120.0s exceeded", ConnectionError("reset")))
    real_get_bucket = gcs.get_bucket
    reads = []

    def get_bucket_failing_after_the_write(name):
        reads.append(name)
        if len(reads) > 1:
            raise google_exceptions.ServiceUnavailable("backendError")
        return real_get_bucket(name)

    gcs.get_bucket = get_bucket_failing_after_the_write
    with pytest.raises(BucketError) as raised:
        converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    message = raised.value.message
    assert message.startswith(
        "bucket '%s': update CORS failed: Cloud Storage did not answer before the retry deadline" % BUCKET
    )
    assert "may have been applied" in message and "segments_gcs_info" in message


def test_retry_error_is_mapped_with_the_last_error_and_the_remedy():
    with pytest.raises(BucketError) as raised:
        with gcs_errors(BUCKET, "read bucket"):
            raise google_exceptions.RetryError("Deadline of 120.0s exceeded", ConnectionError("Connection refused"))
    message = raised.value.message
    assert message.startswith(
        "bucket '%s': read bucket failed: Cloud Storage did not answer before the retry deadline" % BUCKET
    )
    assert "ConnectionError: Connection refused" in message and "api_endpoint" in message


def read_back_hook(gcs, change_on_read):
    """Make gcs.get_bucket call change_on_read(number of the read) before each read."""
    real_get_bucket = gcs.get_bucket
    count = []

    def get_bucket(name):
        count.append(name)
        change_on_read(len(count))
        return real_get_bucket(name)

    gcs.get_bucket = get_bucket


def test_read_back_with_a_later_foreign_entry_and_ours_kept_is_the_result():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    read_back_hook(
        gcs,
        lambda number: (
            number == 2 and gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, OUR_ENTRY, LATE_CUSTOMER_ENTRY])
        ),
    )
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    assert changed and before == [CUSTOMER_ENTRY] and after == [CUSTOMER_ENTRY, OUR_ENTRY, LATE_CUSTOMER_ENTRY]
    assert len(cors_patches(gcs)) == 1


def test_read_back_from_a_writer_that_dropped_ours_is_merged_again_keeping_theirs():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    read_back_hook(
        gcs, lambda number: number == 2 and gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY])
    )
    sleep = SleepRecorder()
    _bucket, before, after, changed = converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=sleep)
    assert changed and before == [CUSTOMER_ENTRY]
    assert after == gcs.buckets[BUCKET]["cors"] == [CUSTOMER_ENTRY, LATE_CUSTOMER_ENTRY, OUR_ENTRY]
    assert len(cors_patches(gcs)) == 2 and len(sleep.pauses) == 1


def test_read_back_that_never_keeps_ours_fails_naming_the_verify_step():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, cors=[CUSTOMER_ENTRY])
    # Every read after a write of ours (every read after the first) finds that another writer dropped our entry again.
    read_back_hook(gcs, lambda number: number >= 2 and gcs.concurrent_cors_change(BUCKET, [CUSTOMER_ENTRY]))
    with pytest.raises(BucketError) as raised:
        converge_cors(gcs, BUCKET, merge_ours, check_mode=False, sleep=SleepRecorder())
    assert raised.value.message.startswith(
        "bucket '%s': verify CORS failed: the Segments CORS entry read back" % BUCKET
    )
    assert len(cors_patches(gcs)) == MAX_WRITE_ATTEMPTS


def test_iam_read_back_with_a_later_foreign_member_is_the_result():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    late = {"role": "roles/storage.legacyObjectReader", "members": ["user:late@customer.example"]}
    real_get_policy = FakeBucket.get_iam_policy
    reads = []

    def get_iam_policy(bucket, requested_policy_version=None):
        reads.append(1)
        if len(reads) == 2:
            gcs.concurrent_policy_change(BUCKET, gcs.policies[BUCKET]["bindings"] + [late])
        return real_get_policy(bucket, requested_policy_version)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeBucket, "get_iam_policy", get_iam_policy)
        before, after, changed = converge_iam_policy(
            gcs, BUCKET, grant, DEFAULT_ROLE, OUR_MEMBER, check_mode=False, sleep=SleepRecorder()
        )
    assert changed and before["bindings"] == [ADMIN_BINDING]
    assert late in after["bindings"] and {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]} in after["bindings"]
    assert len(iam_writes(gcs)) == 1


# Conversions between google-cloud-storage's Policy and plain dicts


def test_policy_to_dict_turns_member_sets_into_sorted_lists_and_keeps_binding_order_and_conditions():
    policy = Policy.from_api_repr(
        {
            "version": 3,
            "etag": "abc",
            "bindings": [
                {
                    "role": "roles/storage.objectViewer",
                    "members": ["user:z@x.example", "user:a@x.example"],
                    "condition": CONDITION,
                },
                {"role": "roles/storage.admin", "members": ["user:b@x.example"]},
            ],
        }
    )
    assert policy_to_dict(policy) == {
        "version": 3,
        "etag": "abc",
        "bindings": [
            {
                "role": "roles/storage.objectViewer",
                "members": ["user:a@x.example", "user:z@x.example"],
                "condition": CONDITION,
            },
            {"role": "roles/storage.admin", "members": ["user:b@x.example"]},
        ],
    }


def test_policy_from_dict_round_trips_through_the_api_form():
    policy_dict = {"version": 1, "etag": "abc", "bindings": [ADMIN_BINDING, CONDITIONAL_VIEWER]}
    policy = policy_from_dict(policy_dict)
    resource = policy.to_api_repr()
    assert resource["etag"] == "abc" and resource["version"] == 3
    assert policy_to_dict(Policy.from_api_repr(resource))["bindings"] == [ADMIN_BINDING, CONDITIONAL_VIEWER]
    assert policy_dict["bindings"][0]["members"] == ADMIN_BINDING["members"]


# Read-back checks


def test_cors_read_back_problem():
    written = [CUSTOMER_ENTRY, OUR_ENTRY]
    assert (
        cors_read_back_problem(
            [
                CUSTOMER_ENTRY,
                {"origin": OUR_ENTRY["origin"], "method": ["get"], "responseHeader": ["*"], "maxAgeSeconds": 3600},
            ],
            written,
        )
        is None
    )
    assert "Segments CORS entry" in cors_read_back_problem([CUSTOMER_ENTRY], written)
    assert "other CORS entries" in cors_read_back_problem([LATE_CUSTOMER_ENTRY, OUR_ENTRY], written)
    assert cors_read_back_problem(None, []) is None


def test_iam_read_back_problem():
    written = {"bindings": [ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]}
    reordered = {
        "bindings": [
            {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]},
            dict(ADMIN_BINDING, members=ADMIN_BINDING["members"][::-1]),
        ]
    }
    assert iam_read_back_problem(reordered, written, DEFAULT_ROLE, OUR_MEMBER) is None
    assert "binding of" in iam_read_back_problem({"bindings": [ADMIN_BINDING]}, written, DEFAULT_ROLE, OUR_MEMBER)
    assert "other IAM bindings" in iam_read_back_problem(
        {"bindings": [{"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}]}, written, DEFAULT_ROLE, OUR_MEMBER
    )


# Bucket names, facts, URL and backoff


@pytest.mark.parametrize(
    "name", ["abc", "customer-images", "customer_images.v2", "a" * 63, ".".join(["a" * 63] * 3), "1bucket9"]
)
def test_valid_bucket_names(name):
    assert validate_bucket_name(name) is None


@pytest.mark.parametrize(
    "name, rule",
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Customer", "lowercase"),
        ("-bucket", "lowercase"),
        ("bucket-", "lowercase"),
        ("bucket..name", "lowercase"),
        ("s3://bucket", "lowercase"),
        ("bucket/key", "lowercase"),
        ("192.168.5.4", "IP address"),
        ("goog-bucket", "goog"),
        ("my-google-bucket", "google"),
        ("", "empty"),
        (None, "empty"),
    ],
)
def test_invalid_bucket_names(name, rule):
    problem = validate_bucket_name(name)
    assert problem is not None and rule in problem


def test_bucket_facts():
    gcs = FakeGcs()
    gcs.add_bucket(BUCKET, uniform=False, requester_pays=True)
    assert bucket_facts(gcs.get_bucket(BUCKET)) == dict(
        location="EUROPE-WEST1",
        uniform_bucket_level_access=False,
        requester_pays=True,
        public_access_prevention="enforced",
    )


@HYPOTHESIS_SETTINGS
@given(st.integers(min_value=0, max_value=64))
def test_backoff_is_bounded_and_never_below_the_exponential_floor(attempt):
    pause = DEFAULT_RETRY_POLICY.pause_seconds(attempt)
    assert (
        FIRST_BACKOFF_SECONDS
        <= min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2**attempt)
        <= pause
        <= MAX_BACKOFF_SECONDS
    )


def test_a_landed_iam_write_refused_on_retry_then_unreadable_says_the_change_may_have_been_applied():
    """The fresh-clone failure: PUT iam landed (answer lost), the client's retry got 409, then GET iam failed."""
    gcs = FakeGcs(conflict_error=google_exceptions.Conflict)
    gcs.add_bucket(BUCKET, bindings=[ADMIN_BINDING])
    gcs.before_write.append(
        lambda: gcs.concurrent_policy_change(BUCKET, [ADMIN_BINDING, {"role": DEFAULT_ROLE, "members": [OUR_MEMBER]}])
    )
    real_get_policy = FakeBucket.get_iam_policy
    reads = []

    def get_iam_policy(bucket, requested_policy_version=None):
        reads.append(1)
        if len(reads) > 1:
            raise google_exceptions.BadGateway("502")
        return real_get_policy(bucket, requested_policy_version)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FakeBucket, "get_iam_policy", get_iam_policy)
        patch.setattr("time.sleep", lambda _seconds: None)
        with pytest.raises(WriteOutcomeUnknown) as raised:
            converge_iam_policy(gcs, BUCKET, grant, sleep=SleepRecorder())
    message = raised.value.message
    assert message.startswith("bucket '%s': set IAM policy failed" % BUCKET)
    assert "may have been applied" in message and "segments_gcs_info" in message
