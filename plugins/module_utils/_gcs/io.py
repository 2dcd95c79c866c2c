# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-bucket reads and guarded writes for the GCS modules.

CORS is written with a PATCH of the ``cors`` field alone, guarded by the metageneration that was read; the IAM
policy is written with the etag that was read. When another writer got there first, the bucket is read again,
the pure merge runs again on what is there now, and the write is retried a bounded number of times with backoff.
After a write the state is read back and checked. The merging itself lives in gcs_cors.py and gcs_iam.py.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time

try:
    from google.api_core import exceptions as google_exceptions
    from google.api_core.iam import Policy

    # 412 answers a stale if_metageneration_match or IAM etag; some IAM front ends answer a stale etag with 409.
    CONFLICT_ERRORS = (google_exceptions.PreconditionFailed, google_exceptions.Conflict)
except ImportError:
    # gcs_client() reports the missing library before any of this is used.
    CONFLICT_ERRORS = ()

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    BucketError,
    fail_on_options,
    read_after_write,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import (
    GcsSetupError,
    gcs_client,
    gcs_error_to_bucket_error,
    gcs_errors,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import entries_equal, is_ours
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    IAM_POLICY_VERSION,
    foreign_bindings,
    has_member,
)

MAX_WRITE_ATTEMPTS = 5
GCS_INFO_MODULE = "segments.cloud.segments_gcs_info"
# Cloud Storage allows about one metadata update per second per bucket, so the first retry waits about that long.
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 16.0

FINE_GRAINED_ACCESS_WARNING = (
    "uniform bucket-level access is off, so access to the objects also depends on object ACLs, not only on the IAM policy; "
    "enable uniform bucket-level access to let IAM alone decide who can read them"
)

_BUCKET_NAME_COMPONENT_RE = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?", re.ASCII)
_IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)


def validate_bucket_name(name) -> str | None:
    """Return None if name follows Cloud Storage's bucket naming rules, else a sentence saying which rule it breaks."""
    if not isinstance(name, str) or not name:
        return "bucket name %r is empty or not a string." % (name,)
    prefix = "bucket name %r is not a valid Cloud Storage bucket name: " % name
    limit = 222 if "." in name else 63
    if not 3 <= len(name) <= limit:
        return prefix + "it must be 3 to 63 characters long (up to 222 with dots, 63 per dot-separated part)."
    components = name.split(".")
    if not all(_BUCKET_NAME_COMPONENT_RE.fullmatch(component) for component in components):
        return prefix + (
            "use only lowercase letters, digits, '-', '_' and '.', start and end each dot-separated part "
            "with a letter or digit, and keep each part at most 63 characters."
        )
    if _IPV4_RE.fullmatch(name):
        return prefix + "it must not be an IP address."
    if name.startswith("goog") or "google" in name:
        return prefix + "it must not start with 'goog' or contain 'google'."
    return None


def backoff_seconds(attempt: int) -> float:
    """Seconds to wait before retry number attempt + 1: at least FIRST_BACKOFF_SECONDS * 2**attempt, up to half again
    as much, never more than MAX_BACKOFF_SECONDS."""
    floor = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * (2**attempt))
    # Jitter keeps writers that lost the same race from retrying in lockstep; the floor keeps to the update rate.
    return min(MAX_BACKOFF_SECONDS, floor * random.uniform(1.0, 1.5))


def read_bucket(client, bucket_name: str, missing_ok: bool = False):
    """The bucket with its metadata loaded, or None when missing_ok and it does not exist; other failures raise BucketError."""
    with gcs_errors(bucket_name, "read bucket"):
        try:
            return client.get_bucket(bucket_name)
        except google_exceptions.NotFound:
            if missing_ok:
                return None
            raise


def bucket_facts(bucket) -> dict:
    """Location and the access settings of a loaded bucket, as plain values for the module results."""
    iam_configuration = bucket.iam_configuration
    return dict(
        location=bucket.location,
        uniform_bucket_level_access=bool(iam_configuration.uniform_bucket_level_access_enabled),
        requester_pays=bool(bucket.requester_pays),
        public_access_prevention=iam_configuration.get("publicAccessPrevention") or "inherited",
    )


def policy_to_dict(policy) -> dict:
    """A JSON-able copy of an IAM Policy: version, etag and the bindings in the order the API returned them.

    google-cloud-storage holds members as sets, so they become sorted lists (a list is kept in its order)."""
    bindings = []
    for binding in policy.bindings or []:
        members = binding.get("members") or []
        plain_binding = {
            "role": binding.get("role"),
            "members": list(members) if isinstance(members, list) else sorted(members),
        }
        plain_binding.update(
            {key: copy.deepcopy(value) for key, value in binding.items() if key not in ("role", "members")}
        )
        bindings.append(plain_binding)
    return {"version": policy.version, "etag": policy.etag, "bindings": bindings}


def policy_from_dict(policy_dict: dict):
    """An IAM Policy for set_iam_policy from a dict made by policy_to_dict (etag kept, version 3 so conditions survive)."""
    policy = Policy(etag=policy_dict.get("etag"), version=IAM_POLICY_VERSION)
    policy.bindings = [
        dict(copy.deepcopy(binding), members=set(binding.get("members") or []))
        for binding in policy_dict.get("bindings") or []
    ]
    return policy


def read_iam_policy(client, bucket_name: str) -> dict:
    """The bucket's IAM policy as a dict (see policy_to_dict), read with requested_policy_version=3 so conditions are seen."""
    with gcs_errors(bucket_name, "read IAM policy"):
        return policy_to_dict(client.bucket(bucket_name).get_iam_policy(requested_policy_version=IAM_POLICY_VERSION))


def _read_merge_write(bucket_name, action, read, merge, write, check_mode, sleep, same):
    """read() -> (resource, current); merge(current) -> (desired, changed); write(resource, desired) unless unchanged or check mode.

    A conflict answer re-reads and re-merges; after MAX_WRITE_ATTEMPTS lost races it raises BucketError. A write whose
    answer was lost can have landed all the same: the client's own retry then meets the precondition our write made stale
    (412 / 409), or the write fails outright. Either way the state is read again, and when same(state, sent) says it holds
    exactly what we sent, the write is ours and is reported changed, with the state it was merged into as before.
    Returns (resource, before, desired, changed)."""
    conflict = None
    sent = []  # (state merged into, state sent) of each write whose answer we did not see succeed
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            sleep(backoff_seconds(attempt - 1))
        resource, current = read()
        desired, changed = merge(current)
        if not changed or check_mode:
            merged_into = _landed(sent, current, same)
            if merged_into is not None:
                return resource, merged_into, current, True
            return resource, current, desired, changed
        try:
            with gcs_errors(bucket_name, action):
                try:
                    write(resource, desired)
                    return resource, current, desired, True
                except CONFLICT_ERRORS as error:
                    conflict = error
                    sent.append((current, desired))
        except BucketError as write_error:
            sent.append((current, desired))
            return _outcome_of_failed_write(bucket_name, write_error, read, sent, same, sleep)
    raise gcs_error_to_bucket_error(bucket_name, action, conflict)


def _landed(sent, state, same):
    """The state a sent write was merged into when state holds exactly what that write sent, else None."""
    return next((merged_into for merged_into, sent_state in sent if same(state, sent_state)), None)


def _outcome_of_failed_write(bucket_name, write_error, read, sent, same, sleep):
    """After a write failed without a conflict: (resource, before, state, True) when the state read now shows that it landed;
    else the write's own error, or, when the state cannot be read, a WriteOutcomeUnknown saying that the change may have been applied."""
    resource, state = read_after_write(bucket_name, "bucket", read, GCS_INFO_MODULE, write_error, sleep)
    merged_into = _landed(sent, state, same)
    if merged_into is not None:
        return resource, merged_into, state, True
    raise write_error


def merge_cors(client, bucket_name: str, merge, check_mode: bool, sleep=time.sleep):
    """Read the bucket, merge(current_entries) -> (new_entries, changed), and when changed PATCH the cors field alone with
    if_metageneration_match set to the metageneration read (never in check mode). Returns (bucket, before, desired, changed)."""

    def read():
        bucket = read_bucket(client, bucket_name)
        return bucket, bucket.cors

    def write(bucket, new_entries):
        bucket.cors = new_entries
        bucket.patch(if_metageneration_match=bucket.metageneration)

    def same(entries, sent_entries):
        return cors_read_back_problem(entries, sent_entries) is None

    return _read_merge_write(bucket_name, "update CORS", read, merge, write, check_mode, sleep, same)


def merge_iam_policy(client, bucket_name: str, merge, check_mode: bool, sleep=time.sleep):
    """Read the IAM policy (version 3), merge(current_policy) -> (new_policy, changed), and when changed write it back with the
    etag read (never in check mode). Returns (before, desired, changed), both dicts as made by policy_to_dict."""

    def read():
        return None, read_iam_policy(client, bucket_name)

    def write(_resource, new_policy):
        client.bucket(bucket_name).set_iam_policy(policy_from_dict(new_policy))

    def same(policy, sent_policy):
        return _bindings_meaning(policy.get("bindings")) == _bindings_meaning(sent_policy.get("bindings"))

    _resource, before, desired, changed = _read_merge_write(
        bucket_name, "set IAM policy", read, merge, write, check_mode, sleep, same
    )
    return before, desired, changed


def write_and_verify(
    bucket_name: str, what: str, merge_write, read_back, merge, read_back_problem, check_mode: bool, sleep=time.sleep
):
    """merge_write() -> (before, after, changed) (merge_cors or merge_iam_policy bound to merge), then, after a write, read_back()
    and read_back_problem(read_back, after) -> None or a sentence; returns (before, after, changed), after as read back.

    A read-back that differs from what was written means another writer wrote the same part at about the same time. Our writes
    are conditional, so nothing of theirs was lost: when merge(read_back) needs no write, our part is in place and the read-back
    is the result; else (their write, made from a stale copy, dropped ours) the merge is redone on it, at most
    MAX_WRITE_ATTEMPTS rounds, and then a BucketError names the bucket and the verify step."""
    before, after, changed = merge_write()
    if not changed or check_mode:
        return before, after, changed
    for attempt in range(MAX_WRITE_ATTEMPTS):
        state = read_after_write(bucket_name, what, read_back, GCS_INFO_MODULE, sleep=sleep)
        problem = read_back_problem(state, after)
        if problem is None or not merge(state)[1]:
            return before, state, True
        if attempt + 1 == MAX_WRITE_ATTEMPTS:
            break
        sleep(backoff_seconds(attempt))
        _before, after, wrote = merge_write()
        if not wrote:
            return before, after, True
    raise BucketError(
        bucket_name,
        "verify %s" % what,
        "%s, and it stayed so through %d rounds of merging again" % (problem, MAX_WRITE_ATTEMPTS),
        "Another tool keeps writing this bucket's %s; let it finish, then run again" % what,
    )


def converge_cors(client, bucket_name: str, merge, check_mode: bool, sleep=time.sleep):
    """merge_cors, then (after a write) the read-back check of write_and_verify; returns (bucket, before, after, changed),
    bucket as first read (for its location), after as read back."""
    first_read = []

    def merge_write():
        bucket, before, after, changed = merge_cors(client, bucket_name, merge, check_mode, sleep)
        first_read.append(bucket)
        return before, after, changed

    before, after, changed = write_and_verify(
        bucket_name,
        "CORS",
        merge_write,
        lambda: read_bucket(client, bucket_name).cors,
        merge,
        cors_read_back_problem,
        check_mode,
        sleep,
    )
    return first_read[0], before, after, changed


def converge_iam_policy(client, bucket_name: str, merge, role: str, member: str, check_mode: bool, sleep=time.sleep):
    """merge_iam_policy, then (after a write) the read-back check of write_and_verify for the grant of role to member;
    returns (before, after, changed), after as read back."""
    return write_and_verify(
        bucket_name,
        "IAM policy",
        lambda: merge_iam_policy(client, bucket_name, merge, check_mode, sleep),
        lambda: read_iam_policy(client, bucket_name),
        merge,
        lambda read_back, written: iam_read_back_problem(read_back, written, role, member),
        check_mode,
        sleep,
    )


def cors_read_back_problem(read_back_entries, written_entries) -> str | None:
    """None if the CORS read back means the same as what was written, entry by entry in order, else a sentence saying what differs."""
    read_back_entries = read_back_entries or []
    written_entries = written_entries or []
    ours_read_back = [entry for entry in read_back_entries if is_ours(entry)]
    ours_written = [entry for entry in written_entries if is_ours(entry)]
    if len(ours_read_back) != len(ours_written) or not all(map(entries_equal, ours_read_back, ours_written)):
        return "the Segments CORS entry read back after the write is not the one written"
    if len(read_back_entries) != len(written_entries) or not all(
        map(entries_equal, read_back_entries, written_entries)
    ):
        return "the other CORS entries read back after the write are not the ones written"
    return None


def _bindings_meaning(bindings) -> list:
    """Bindings reduced to what IAM acts on: order of bindings and members ignored, empty bindings dropped."""
    return sorted(
        json.dumps(
            {
                "role": binding.get("role"),
                "condition": binding.get("condition"),
                "members": sorted(set(binding.get("members") or [])),
            },
            sort_keys=True,
        )
        for binding in bindings or []
        if binding.get("members")
    )


def iam_read_back_problem(read_back_policy: dict, written_policy: dict, role: str, member: str) -> str | None:
    """None if the policy read back grants role to member exactly when the written one does and every other binding
    means the same, else a sentence saying what differs."""
    if has_member(read_back_policy, role, member) != has_member(written_policy, role, member):
        return "the binding of %s to %s read back after the write is not the one written" % (member, role)
    if _bindings_meaning(foreign_bindings(read_back_policy, role, member)) != _bindings_meaning(
        foreign_bindings(written_policy, role, member)
    ):
        return "the other IAM bindings read back after the write are not the ones written"
    return None


def gcs_client_for_module(module):
    """Check the bucket names and concurrency, then return a GCS client; fails the module (before any call) otherwise."""
    problems = [problem for problem in map(validate_bucket_name, module.params["name"]) if problem]
    if module.params["concurrency"] < 1:
        problems.append("concurrency must be 1 or more, got %d." % module.params["concurrency"])
    if problems:
        fail_on_options(module, problems)
    try:
        return gcs_client(module.params, module.params["concurrency"])
    except GcsSetupError as error:
        fail_on_options(module, str(error))
    return None  # not reached: fail_json exits
