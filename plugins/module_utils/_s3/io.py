# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    BucketError,
    fail_on_options,
    fleet_option_problems,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import aws_errors
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import (
    TooManyRules,
    check_rule_count,
    rule_lists_equal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.names import check_bucket_name
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    POLICY_SIZE_LIMIT,
    PolicyTooLarge,
    check_policy_size,
    policies_equal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import encryption_summary

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = """Per-bucket S3 and KMS reads and writes shared by the S3 modules, and the parts they hand to the converge engine.

Every call goes through the shared clients of aws.S3Clients with AWSRetry, inside aws_errors, so a failure becomes a
BucketError naming the bucket, the call and the remedy. S3 has no conditional write for bucket policies or CORS,
and KMS none for key policies: the parts leave compare_before_write on (a read right before each write).
"Not configured" answers (no policy, no CORS, no encryption,
no ownership controls, no public access block) are states, not errors; every other error is raised, never swallowed.
The merging itself is pure and lives in s3_policy.py and s3_cors.py.
"""


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
    problems.extend(fleet_option_problems(module.params))
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
