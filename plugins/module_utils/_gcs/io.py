# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-bucket reads and guarded writes for the GCS modules.

CORS is written with a PATCH of the ``cors`` field alone, guarded by the metageneration that was read; the IAM
policy is written with the etag that was read. Both are parts for the converge engine (_common/converge.py), which
merges again when another writer got there first and reads back after each write. The merging itself lives in
cors.py and iam.py.
"""

from __future__ import annotations

import copy

from ansible_collections.segments.cloud.plugins.module_utils._gcs.names import validate_bucket_name

try:
    from google.api_core import exceptions as google_exceptions
    from google.api_core.iam import Policy

    # 412 answers a stale if_metageneration_match or IAM etag; some IAM front ends answer a stale etag with 409.
    CONFLICT_ERRORS = (google_exceptions.PreconditionFailed, google_exceptions.Conflict)
except ImportError:
    # gcs_client() reports the missing library before any of this is used.
    CONFLICT_ERRORS = ()  # type: ignore[assignment]

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import (
    NOT_READ,
    ManagedPart,
    WriteConflict,
    known_state,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import fail_on_options, fleet_option_problems
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import (
    GcsSetupError,
    gcs_client,
    gcs_error_to_bucket_error,
    gcs_errors,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import cors_read_back_problem, entry_lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    IAM_POLICY_VERSION,
    bindings_equal,
    iam_read_back_problem,
)

GCS_INFO_MODULE = "segments.cloud.segments_gcs_info"

FINE_GRAINED_ACCESS_WARNING = (
    "uniform bucket-level access is off, so access to the objects also depends on object ACLs, not only on the IAM policy; "
    "enable uniform bucket-level access to let IAM alone decide who can read them"
)


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


class CorsPart(ManagedPart):
    """The CORS entries of one bucket for the converge engine. Its state is {"cors", "metageneration", "location"};
    the write is a PATCH of the cors field alone, guarded by the metageneration of the state merged into.

    merge(entries) -> (new_entries, needs_write) works on the entries alone."""

    def __init__(self, client, bucket_name: str, merge):
        super().__init__(bucket_name, "CORS", GCS_INFO_MODULE, compare_before_write=False)
        self.client = client
        self.entries_merge = merge

    def read(self) -> dict:
        return cors_state(read_bucket(self.client, self.bucket))

    def merge(self, state):
        new_entries, needs_write = self.entries_merge(state["cors"])
        return dict(state, cors=new_entries), needs_write

    def write(self, desired, merged_into):
        bucket = self.client.bucket(self.bucket)
        bucket.cors = desired["cors"]
        conditional_write(
            self.bucket, "update CORS", bucket.patch, if_metageneration_match=merged_into["metageneration"]
        )

    def equal(self, first, second):
        return entry_lists_equal(first["cors"], second["cors"])

    def read_back_problem(self, read_back, written):
        return cors_read_back_problem(read_back["cors"], written["cors"])


def cors_state(bucket) -> dict:
    """The state of a CorsPart from a loaded bucket: its entries, and the metageneration and location read with them."""
    return {"cors": bucket.cors, "metageneration": bucket.metageneration, "location": bucket.location}


def known_cors_state(bucket_states: dict | None, bucket_name: str):
    """A CorsPart state from the bucket's segments_gcs_info entry in bucket_states (its cors and location; the
    metageneration comes from the engine's read before any write), or NOT_READ when the entry holds none."""
    entries = known_state(bucket_states, bucket_name, "cors", null_is_state=False)
    if entries is NOT_READ:
        return NOT_READ
    location = (bucket_states or {})[bucket_name].get("location")
    return {"cors": entries, "metageneration": None, "location": location}


def known_iam_state(bucket_states: dict | None, bucket_name: str):
    """An IamPolicyPart state from the bucket's segments_gcs_info entry in bucket_states (its bindings; the etag comes
    from the engine's read before any write), or NOT_READ when the entry holds none (no member was audited)."""
    policy = known_state(bucket_states, bucket_name, "iam_policy", null_is_state=False)
    if policy is NOT_READ or not isinstance(policy, dict):
        return NOT_READ
    return {"bindings": policy.get("bindings") or [], "etag": None}


class IamPolicyPart(ManagedPart):
    """The IAM policy of one bucket for the converge engine, as a dict made by policy_to_dict; the write carries the
    etag of the policy merged into. role and member, when given, name our grant for the read-back's error."""

    def __init__(self, client, bucket_name: str, merge, role: str | None = None, member: str | None = None):
        super().__init__(bucket_name, "IAM policy", GCS_INFO_MODULE, merge=merge, compare_before_write=False)
        self.client = client
        self.role = role
        self.member = member

    def read(self) -> dict:
        return read_iam_policy(self.client, self.bucket)

    def write(self, desired, merged_into):
        policy = policy_from_dict(dict(desired, etag=merged_into.get("etag")))
        conditional_write(self.bucket, "set IAM policy", self.client.bucket(self.bucket).set_iam_policy, policy)

    def equal(self, first, second):
        return bindings_equal(first, second)

    def read_back_problem(self, read_back, written):
        if self.role is None or self.member is None:
            return None
        return iam_read_back_problem(read_back, written, self.role, self.member)


def conditional_write(bucket_name: str, action: str, write, *args, **kwargs) -> None:
    """write(*args, **kwargs) inside gcs_errors; a refused precondition (412, or 409 from some IAM front ends)
    becomes WriteConflict carrying the mapped error, every other failure a BucketError."""
    with gcs_errors(bucket_name, action):
        try:
            write(*args, **kwargs)
        except CONFLICT_ERRORS as error:
            raise WriteConflict(gcs_error_to_bucket_error(bucket_name, action, error)) from None


def gcs_client_for_module(module):
    """Check the bucket names and concurrency, then return a GCS client; fails the module (before any call) otherwise."""
    problems = [problem for problem in map(validate_bucket_name, module.params["name"]) if problem]
    problems.extend(fleet_option_problems(module.params))
    if problems:
        fail_on_options(module, problems)
    try:
        return gcs_client(module.params, module.params["concurrency"])
    except GcsSetupError as error:
        fail_on_options(module, str(error))
    return None  # not reached: fail_json exits
