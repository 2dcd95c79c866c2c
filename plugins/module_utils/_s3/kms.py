# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS for the S3 modules: the key lookup, the key policy as a part for the converge engine, one lock per key, and a
key-policy change with its undo as a context manager."""

from __future__ import annotations

import json
import threading
from contextlib import ExitStack, contextmanager

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError, WriteOutcomeUnknown
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import aws_errors
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import S3_INFO_MODULE
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    DEFAULT_KMS_SID,
    merge_statement,
    our_statement,
    policies_equal,
    remove_statement,
)


class KmsKeys:
    """KMS state shared by the workers of one module run: the caller's account, one lock per key, and in check
    mode the key policies as they would be after this run's earlier buckets, so that two buckets that share a
    key neither race each other nor both report the same change."""

    def __init__(self, clients, check_mode: bool):
        self._clients = clients
        self._check_mode = check_mode
        self._lock = threading.Lock()
        self._key_locks: dict = {}
        self._planned_policies: dict = {}
        self._caller_account = None
        self._caller_account_read = False

    def caller_account(self) -> str | None:
        """The account id of the credentials (sts:GetCallerIdentity, which cannot be denied), or None if it cannot be read."""
        with self._lock:
            if not self._caller_account_read:
                try:
                    with aws_errors("-"):
                        self._caller_account = (
                            self._clients.client("sts").get_caller_identity(aws_retry=True).get("Account")
                        )
                except BucketError:
                    self._caller_account = None
                self._caller_account_read = True
            return self._caller_account

    def describe(self, bucket: str, key_id: str, region: str) -> dict:
        """Return {"arn", "account", "region", "manager"} of a key given by id, ARN or alias (DescribeKey in region)."""
        with aws_errors(bucket):
            metadata = self._clients.client("kms", region).describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
        arn = metadata["Arn"]
        return {
            "arn": arn,
            "account": metadata.get("AWSAccountId"),
            "region": arn.split(":")[3],
            "manager": metadata.get("KeyManager"),
        }

    def key_lock(self, key_arn: str):
        """The lock that serialises this run's changes to one key's policy."""
        with self._lock:
            return self._key_locks.setdefault(key_arn, threading.Lock())

    def read_policy(self, bucket: str, key: dict) -> dict:
        """Return the key's default key policy (in check mode, as this run would have left it)."""
        with self._lock:
            if key["arn"] in self._planned_policies:
                return self._planned_policies[key["arn"]]
        with aws_errors(bucket):
            text = self._clients.client("kms", key["region"]).get_key_policy(
                aws_retry=True, KeyId=key["arn"], PolicyName="default"
            )["Policy"]
        try:
            return json.loads(text)
        except ValueError:
            raise BucketError(
                bucket,
                "GetKeyPolicy",
                "KMS returned a key policy for %s that is not valid JSON" % key["arn"],
                "Fix the key policy by hand",
            ) from None

    def write_policy(self, bucket: str, key: dict, policy: dict | None) -> None:
        """Put policy as the key's default key policy; a key policy can never be deleted, so None is refused."""
        if policy is None:
            raise BucketError(
                bucket,
                "PutKeyPolicy",
                "removing the Segments statement would leave the key policy of %s empty" % key["arn"],
                "Add the key administrators' statements to the key policy first",
            )
        kms = self._clients.client("kms", key["region"])
        with aws_errors(bucket):
            kms.put_key_policy(
                aws_retry=True, KeyId=key["arn"], PolicyName="default", Policy=json.dumps(policy, separators=(",", ":"))
            )

    def plan(self, key: dict, policy: dict) -> None:
        """In check mode, remember the key policy this run would leave, for later buckets that share the key."""
        if self._check_mode:
            with self._lock:
                self._planned_policies[key["arn"]] = policy

    def policy_part(self, bucket: str, key: dict, merge) -> KeyPolicyPart:
        """The default key policy of key, managed for bucket, as a part for the converge engine."""
        return KeyPolicyPart(self, bucket, key, merge)

    @contextmanager
    def policy_change(self, bucket: str, key: dict, merge):
        """Converge the key policy of key for bucket with merge, and yield the Outcome; then run the body (the
        bucket's own write, which needs the key's grant).

        The key's lock is held while the body runs only when this run wrote the key policy, because only such a
        change may need undoing: when the body raises a BucketError that says nothing was applied, our key-policy
        statement is put back as it was before (or removed), and the error raised names what the undo did. A body
        that may have applied its change (WriteOutcomeUnknown) keeps the grant it needs."""
        with ExitStack() as held:
            held.enter_context(self.key_lock(key["arn"]))
            outcome = converge(self.policy_part(bucket, key, merge), self._check_mode)
            if outcome.changed:
                self.plan(key, outcome.after)
            undo_due = outcome.changed and not self._check_mode
            if not undo_due:
                held.close()  # later buckets on this key need not wait for this one's bucket write
            try:
                yield outcome
            except WriteOutcomeUnknown:
                raise
            except BucketError as error:
                if not undo_due:
                    raise
                raise self._undone(bucket, key, outcome.before, error) from None

    def _undone(self, bucket: str, key: dict, key_policy_before, error: BucketError) -> BucketError:
        """error, its remedy extended by what putting our key-policy statement back as in key_policy_before did."""
        previous = our_statement(key_policy_before, DEFAULT_KMS_SID)

        def undo_merge(policy):
            return remove_statement(policy, DEFAULT_KMS_SID) if previous is None else merge_statement(policy, previous)

        try:
            converge(self.policy_part(bucket, key, undo_merge), False)
            note = "The key-policy change made for this bucket was undone"
        except BucketError as undo_error:
            note = "Undoing the key-policy change failed too (%s); restore Sid %s in the key policy of %s by hand" % (
                undo_error.message,
                DEFAULT_KMS_SID,
                key["arn"],
            )
        return BucketError(
            error.bucket, error.action, error.problem, "%s. %s" % (error.remedy, note) if error.remedy else note
        )


class KeyPolicyPart(ManagedPart):
    """The default key policy of one KMS key, managed for one bucket: a plain write, guarded by a read before it."""

    def __init__(self, keys: KmsKeys, bucket: str, key: dict, merge):
        super().__init__(bucket, "KMS key policy", S3_INFO_MODULE, merge=merge)
        self.keys = keys
        self.key = key

    def read(self):
        return self.keys.read_policy(self.bucket, self.key)

    def write(self, desired, merged_into):
        self.keys.write_policy(self.bucket, self.key, desired)

    def equal(self, first, second):
        return policies_equal(first, second)
