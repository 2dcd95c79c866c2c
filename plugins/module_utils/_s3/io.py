# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import threading
from contextlib import ExitStack, contextmanager
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from ansible.module_utils.urls import open_url

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import WriteOutcomeUnknown
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError, fail_on_options
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import aws_errors
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import TooManyRules, check_rule_count, rule_lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    DEFAULT_KMS_SID,
    POLICY_SIZE_LIMIT,
    PolicyTooLarge,
    check_policy_size,
    merge_statement,
    policies_equal,
    policy_statements,
    remove_statement,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import (
    check_bucket_name,
    encryption_summary,
    preflight_allows,
    virtual_hosted_url,
)

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = """Per-bucket S3 and KMS reads and writes shared by the S3 modules, and the parts they hand to the converge engine.

Every call goes through the shared clients of aws.S3Clients with AWSRetry, inside aws_errors, so a failure becomes a
BucketError naming the bucket, the call and the remedy. S3 has no conditional write for bucket policies or CORS,
and KMS none for key policies: the parts leave compare_before_write on (a read right before each write). "Not configured" answers (no policy, no CORS, no encryption,
no ownership controls, no public access block) are states, not errors; every other error is raised, never swallowed.
The merging itself is pure and lives in s3_policy.py and s3_cors.py.
"""

PREFLIGHT_TIMEOUT_SECONDS = 10
_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def read_policy(s3, bucket: str) -> dict | None:
    """Return the bucket policy as a dict, or None when the bucket has none."""
    with aws_errors(bucket):
        try:
            text = s3.get_bucket_policy(aws_retry=True, Bucket=bucket)["Policy"]
        except is_boto3_error_code("NoSuchBucketPolicy"):
            return None
    try:
        return json.loads(text)
    except ValueError:
        raise BucketError(
            bucket,
            "GetBucketPolicy",
            "S3 returned a bucket policy that is not valid JSON",
            "Look at the policy in the S3 console and fix it by hand",
        ) from None


def write_policy(s3, bucket: str, policy: dict | None) -> None:
    """Put policy as the bucket policy, or delete the bucket policy when policy is None."""
    with aws_errors(bucket):
        if policy is None:
            s3.delete_bucket_policy(aws_retry=True, Bucket=bucket)
        else:
            s3.put_bucket_policy(aws_retry=True, Bucket=bucket, Policy=json.dumps(policy, separators=(",", ":")))


def read_cors(s3, bucket: str) -> list:
    """Return the bucket's CORS rules, [] when it has no CORS configuration; any other error is raised."""
    with aws_errors(bucket):
        try:
            return s3.get_bucket_cors(aws_retry=True, Bucket=bucket).get("CORSRules") or []
        except is_boto3_error_code("NoSuchCORSConfiguration"):
            return []


def write_cors(s3, bucket: str, rules: list) -> None:
    """Put rules as the bucket's CORS configuration, or delete it when rules is empty (S3 refuses an empty one)."""
    with aws_errors(bucket):
        if rules:
            s3.put_bucket_cors(aws_retry=True, Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        else:
            s3.delete_bucket_cors(aws_retry=True, Bucket=bucket)


def read_encryption(s3, bucket: str) -> dict:
    """Return the default encryption as {"algorithm", "kms_key", "bucket_key_enabled"}, all None when none is set."""
    with aws_errors(bucket):
        try:
            answer = s3.get_bucket_encryption(aws_retry=True, Bucket=bucket)
        except is_boto3_error_code("ServerSideEncryptionConfigurationNotFoundError"):
            answer = {}
    return encryption_summary(answer.get("ServerSideEncryptionConfiguration"))


def read_object_ownership(s3, bucket: str) -> str | None:
    """Return the Object Ownership setting (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter), None when unset."""
    with aws_errors(bucket):
        try:
            rules = (
                s3.get_bucket_ownership_controls(aws_retry=True, Bucket=bucket)["OwnershipControls"].get("Rules") or []
            )
        except is_boto3_error_code("OwnershipControlsNotFoundError"):
            return None
    return rules[0].get("ObjectOwnership") if rules else None


def read_request_payer(s3, bucket: str) -> str | None:
    """Return who pays for requests: BucketOwner or Requester."""
    with aws_errors(bucket):
        return s3.get_bucket_request_payment(aws_retry=True, Bucket=bucket).get("Payer")


def read_public_access_block(s3, bucket: str) -> dict | None:
    """Return the bucket's Block Public Access settings, or None when the bucket has none of its own."""
    with aws_errors(bucket):
        try:
            return s3.get_public_access_block(aws_retry=True, Bucket=bucket).get("PublicAccessBlockConfiguration")
        except is_boto3_error_code("NoSuchPublicAccessBlockConfiguration"):
            return None


def read_or_warn(warnings: list, what: str, read, *args, unreadable=None):
    """Return read(*args), or unreadable after adding a warning when it fails: for reads that only feed warnings."""
    try:
        return read(*args)
    except BucketError as error:
        warnings.append(
            "could not check %s: %s failed: %s%s"
            % (what, error.action, error.problem, ". " + error.remedy if error.remedy else "")
        )
        return unreadable


def checked_bucket_names(module) -> dict:
    """Fail the module before any call when a bucket name can belong to no bucket, or concurrency is below 1;
    return {name: [warnings]} for legacy names that S3 still serves."""
    problems, name_warnings = [], {}
    names = module.params["name"] or []
    if not names:
        problems.append("name must list at least one bucket.")
    for name in names:
        error, warnings = check_bucket_name(name)
        if error:
            problems.append(error)
        name_warnings[name] = warnings
    if module.params["concurrency"] < 1:
        problems.append("concurrency must be 1 or more, got %d." % module.params["concurrency"])
    if problems:
        fail_on_options(module, problems)
    return name_warnings


def size_checked_policy_merge(bucket: str, merge, what: str = "bucket policy", limit: int | None = None):
    """Wrap merge(policy) -> (new_policy, changed) so that a policy over its size limit raises a BucketError before any write."""

    def checked(policy):
        new_policy, changed = merge(policy)
        if changed and new_policy is not None:
            try:
                check_policy_size(new_policy, limit or POLICY_SIZE_LIMIT)
            except PolicyTooLarge as error:
                raise BucketError(
                    bucket,
                    "merge %s" % what,
                    "the merged %s would be %d bytes, over the %d-byte limit" % (what, error.size, error.limit),
                    "Remove unused statements from it, then run again",
                ) from None
        return new_policy, changed

    return checked


def count_checked_cors_merge(bucket: str, merge):
    """Wrap merge(rules) -> (new_rules, changed) so that more rules than S3 allows raise a BucketError before any write."""

    def checked(rules):
        new_rules, changed = merge(rules)
        if changed:
            try:
                check_rule_count(new_rules)
            except TooManyRules as error:
                raise BucketError(
                    bucket,
                    "merge CORS configuration",
                    "the CORS configuration would have %d rules, over S3's limit of %d" % (error.count, error.limit),
                    "Remove unused CORS rules, then run again",
                ) from None
        return new_rules, changed

    return checked


S3_INFO_MODULE = "segments.cloud.segments_s3_info"


class BucketPolicyPart(ManagedPart):
    """The bucket policy of one bucket for the converge engine: a plain write, guarded by a read right before it."""

    def __init__(self, s3, bucket: str, merge):
        super().__init__(bucket, "bucket policy", S3_INFO_MODULE, merge=merge)
        self.s3 = s3

    def read(self):
        return read_policy(self.s3, self.bucket)

    def write(self, desired, merged_into):
        write_policy(self.s3, self.bucket, desired)

    def equal(self, first, second):
        return policies_equal(first, second)


class CorsPart(ManagedPart):
    """The CORS rules of one bucket for the converge engine: a plain write, guarded by a read right before it."""

    def __init__(self, s3, bucket: str, merge):
        super().__init__(bucket, "CORS configuration", S3_INFO_MODULE, merge=merge)
        self.s3 = s3

    def read(self):
        return read_cors(self.s3, self.bucket)

    def write(self, desired, merged_into):
        write_cors(self.s3, self.bucket, desired)

    def equal(self, first, second):
        return rule_lists_equal(first, second)


def our_statement(policy: dict | None, sid: str) -> dict | None:
    """Return a copy of the first statement of policy whose Sid is sid, or None."""
    return next(
        (
            statement
            for statement in policy_statements(policy)
            if isinstance(statement, dict) and statement.get("Sid") == sid
        ),
        None,
    )


class KmsKeys:
    """KMS state shared by the workers of one module run: the caller's account, one lock per key, and in check
    mode the key policies as they would be after this run's earlier buckets, so that two buckets that share a
    key neither race each other nor both report the same change."""

    def __init__(self, clients, check_mode: bool):
        self._clients = clients
        self._check_mode = check_mode
        self._lock = threading.Lock()
        self._key_locks = {}
        self._planned_policies = {}
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


def custom_endpoint(s3) -> str | None:
    """Return the S3 endpoint URL the client talks to when it is not AWS's own (endpoint_url, an emulator), else None."""
    endpoint = getattr(getattr(s3, "meta", None), "endpoint_url", None)
    host = (urlparse(endpoint).hostname or "") if endpoint else ""
    if not host or host == "amazonaws.com" or host.endswith(_AWS_HOST_SUFFIXES):
        return None
    return endpoint


def preflight_url(s3, bucket: str, region: str) -> str:
    """The bucket URL a browser preflight goes to: path style on a custom endpoint, else the virtual-hosted URL."""
    endpoint = custom_endpoint(s3)
    if endpoint:
        return "%s/%s/" % (endpoint.rstrip("/"), bucket)
    return virtual_hosted_url(bucket, region)


def cors_preflight(
    url: str, origin: str, validate_certs: bool = True, timeout: int = PREFLIGHT_TIMEOUT_SECONDS
) -> dict:
    """Send a browser-style CORS preflight (OPTIONS, Origin, Access-Control-Request-Method: GET) and return
    {"url", "origin", "status", "allowed", "allow_origin"} (and "error" when no HTTP answer came)."""
    headers = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    outcome = {"url": url, "origin": origin, "status": None, "allowed": False, "allow_origin": None}
    try:
        response = open_url(
            url, method="OPTIONS", headers=headers, validate_certs=validate_certs, timeout=timeout, use_proxy=True
        )
        status, answer_headers = response.getcode(), response.headers
    except HTTPError as error:
        status, answer_headers = error.code, error.headers
    except (URLError, OSError, ValueError) as error:
        outcome["error"] = str(getattr(error, "reason", error))
        return outcome
    allow_origin = answer_headers.get("Access-Control-Allow-Origin") if answer_headers is not None else None
    outcome.update(status=status, allow_origin=allow_origin, allowed=preflight_allows(allow_origin, origin))
    return outcome
