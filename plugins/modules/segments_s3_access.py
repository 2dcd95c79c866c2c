#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_s3_access
short_description: Merge the Segments.ai statement into S3 bucket policies
version_added: 0.1.0
description:
  - Adds, updates or removes the bucket-policy statement that lets Segments.ai read the objects of S3 buckets,
    and with O(kms=true) the matching statement in the key policy of the bucket's default-encryption KMS key.
  - Only the statement whose C(Sid) is O(sid) is changed. Every other statement, their order, the policy's C(Version)
    and C(Id) are kept exactly as they were. A policy whose C(Statement) is a single object works too and keeps that form.
  - With O(state=present) a missing statement is appended, a statement that differs is replaced in its place, and a
    statement that already means the same (list order, a string for a one-item list and an account id for its root ARN
    aside) is left alone, so nothing is written.
  - With O(state=absent) only the statement with O(sid) is removed; when no statement is left, the bucket policy is deleted.
    A bucket without a policy, or without our statement, is left alone.
  - The merged policy is checked against S3's 20 KB bucket-policy limit (and a key policy against KMS's 32 KB limit)
    before anything is written; a policy that would be over it fails that bucket without a write.
  - "After a write the policy is read back. S3 has no conditional write for bucket policies, so the module guards against
    other writers this way: it reads the policy right before it merges and writes (and again just before the write when it
    changed a key policy in between, and before each retry), so it merges into what is there at that moment; after the write
    it reads the policy back, and if that differs from what was written it merges again on the read-back and writes again.
    At most 3 rounds; if the policy still does not settle, the bucket fails."
  - Unlike M(amazon.aws.s3_bucket), which replaces the whole policy, has no check mode and creates a missing bucket,
    this module merges only its own statement, supports check mode and diff, and never creates a bucket.
  - "With O(state=present) it also warns, without failing, about what would stop Segments reading the objects: a bucket
    name with dots (virtual-hosted HTTPS URLs break on them); Requester Pays enabled; Object Ownership other than
    C(BucketOwnerEnforced) (objects uploaded by other accounts stay unreadable); a Deny statement that may match the
    principal's C(s3:GetObject) (one that only denies requests without TLS is not reported, since Segments always uses
    HTTPS); and default encryption with a KMS key that Segments cannot use. Those checks are read-only GET calls;
    O(readiness_warnings=false) leaves out the three reads (encryption, Requester Pays, Object Ownership) when an audit
    with M(segments.cloud.segments_s3_info) reports them anyway, as the onboarding role's does."
  - A bucket in another region than O(region) works; its region is taken from O(bucket_regions) or discovered with
    GetBucketLocation (or, when that is denied, the C(x-amz-bucket-region) header of HeadBucket), and a client for that
    region is used.
options:
  state:
    description:
      - V(present) makes the bucket policy hold exactly one statement with O(sid) that allows O(principal) O(actions) on the objects.
      - V(absent) removes the statement with O(sid), whatever it holds, and with O(kms=true) the key-policy statement
        C(segments-kms-decrypt) too.
    type: str
    choices: [present, absent]
    default: present
  principal:
    description:
      - The AWS principal Segments reads with, as an IAM user, role or root ARN, or a 12-digit account id.
      - The default is Segments.ai's production user.
      - C(*) (everyone) is refused unless O(allow_public_principal=true).
    type: str
    default: arn:aws:iam::931508227573:user/segmentsai-prod-user
  sid:
    description:
      - The C(Sid) that marks our statement in the bucket policy. It is how the statement is found again, so keep it stable.
    type: str
    default: segments-s3-access
  actions:
    description:
      - The S3 actions our statement allows, each like V(s3:GetObject).
      - Wildcards such as V(s3:*) or V(s3:Get*) are refused unless O(allow_wildcard_actions=true).
    type: list
    elements: str
    default: [s3:GetObject]
  prefixes:
    description:
      - Restrict the statement to objects under these key prefixes. Each becomes the resource C(arn:aws:s3:::BUCKET/PREFIX*).
      - Without it the resource is C(arn:aws:s3:::BUCKET/*), every object of the bucket.
      - A prefix may not be empty or hold C(*) or C(?); a leading C(/) is dropped.
    type: list
    elements: str
  kms:
    description:
      - When true and the bucket's default encryption is SSE-KMS with a customer-managed key in the caller's account,
        also ensure (or with O(state=absent), remove) the key-policy statement C(segments-kms-decrypt), which lets
        O(principal) use C(kms:Decrypt) with the key only through S3 in the bucket's region (condition
        C(kms:ViaService = s3.REGION.amazonaws.com)). It is merged by the same rules as the bucket policy.
      - The key-policy change is made first and the bucket-policy change second; if the second fails, the first is undone,
        so a failed bucket is not left half done.
      - When false and the bucket uses such a key, the module warns that Segments will not be able to read the objects.
      - A key of another account, or the AWS managed key C(aws/s3), cannot be granted from here; the module warns and says what to do.
    type: bool
    default: false
  allow_public_principal:
    description:
      - Allow O(principal=*), which grants the O(actions) to everyone on the internet.
    type: bool
    default: false
  allow_wildcard_actions:
    description:
      - Allow wildcards in O(actions), which may grant more than intended.
    type: bool
    default: false
  readiness_warnings:
    description:
      - With O(state=present), read the bucket's default encryption, Requester Pays and Object Ownership to warn about what
        would stop Segments reading the objects (three read-only calls per bucket).
      - Set it to false when an audit with M(segments.cloud.segments_s3_info) reports the same; the warnings that need no
        extra call (dotted name, Deny statements) stay. O(kms=true) still reads the encryption it needs.
    type: bool
    default: true
notes:
  - "The caller needs C(s3:GetBucketLocation) (or C(s3:ListBucket) for HeadBucket), C(s3:GetBucketPolicy), C(s3:PutBucketPolicy)
    and C(s3:DeleteBucketPolicy); with O(state=present) also C(s3:GetEncryptionConfiguration), C(s3:GetBucketRequestPayment)
    and C(s3:GetBucketOwnershipControls) for the warnings (a denied warning check becomes a warning, not a failure); with
    O(kms=true) also C(s3:GetEncryptionConfiguration), C(kms:DescribeKey), C(kms:GetKeyPolicy) and C(kms:PutKeyPolicy)."
  - "What the race guard can and cannot catch: it catches another writer whose change lands after this module's write but
    before its read-back (the merge is redone on the read-back, so that change is kept), and one whose change lands before the
    last read. It cannot catch a change that lands in the few milliseconds between the last read and the write: S3 then keeps
    this module's policy and that change is lost. Nor can it see a change made after the read-back. S3 offers no conditional
    write for bucket policies (nor KMS for key policies) that would close that gap."
  - Bucket-policy changes take a moment to spread through S3; the retries pause between rounds so that a read-back that is
    still the old policy settles.
  - The key-policy statement is the same for every bucket in one region that uses the key, so O(state=absent) with O(kms=true)
    on one bucket removes Segments' decrypt access for all of them. Buckets of one run that share a key are handled one at a time
    for the key.
  - Default encryption applies to new objects only; objects written before may be encrypted otherwise.
  - "Bucket names are checked before any call. A name no S3 bucket can have fails the task. A name that breaks today's naming rules
    but was allowed for us-east-1 buckets created before March 2018 (upper case, underscores, up to 255 characters) is accepted
    with a warning that virtual-hosted HTTPS URLs will not work for it."
  - Errors name the bucket, the call and the fix; AccessDenied names the missing permission, for example C(s3:PutBucketPolicy).
    Throttled calls are retried with backoff before the bucket fails.
  - LocalStack does not check that bucket-policy principals exist; AWS refuses an unknown principal with C(MalformedPolicy),
    which the module reports for that bucket.
seealso:
  - module: segments.cloud.segments_s3_cors
  - module: segments.cloud.segments_s3_info
  - module: amazon.aws.s3_bucket
  - name: Bucket policy examples
    description: How S3 evaluates bucket policies.
    link: https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.bucket_states
  - segments.cloud.s3_regions
  - segments.cloud.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let Segments.ai read the objects of one bucket
  segments.cloud.segments_s3_access:
    name: customer-images

- name: The same for a whole fleet in one call, with the AWS connection set once
  module_defaults:
    group/segments.cloud.aws:
      profile: customer-onboarding
      region: eu-west-1
  block:
    - name: Merge the Segments statement into every bucket policy, and grant decrypt on customer-managed keys
      segments.cloud.segments_s3_access:
        buckets:
          - customer-images
          - customer-lidar
          - customer-video
        kms: true
        concurrency: 32
      register: access_result

    - name: Show the warnings per bucket
      ansible.builtin.debug:
        msg: "{{ item.name }}: {{ item.warnings | join('; ') }}"
      loop: "{{ access_result.buckets | selectattr('warnings', 'defined') | selectattr('warnings') }}"
      loop_control:
        label: "{{ item.name }}"

- name: Only the objects under two prefixes
  segments.cloud.segments_s3_access:
    name: customer-images
    prefixes:
      - datasets/train/
      - datasets/val/

- name: Preview the change without writing anything
  segments.cloud.segments_s3_access:
    name: [customer-images, customer-lidar]
  check_mode: true
  diff: true

- name: Remove the Segments statement (and the key-policy statement), keeping everything else
  segments.cloud.segments_s3_access:
    name: customer-images
    state: absent
    kms: true
"""

RETURN = r"""
msg:
  description: A summary, or when any bucket failed, each failed bucket and why.
  returned: always
  type: str
  sample: "2 bucket(s) processed, 1 changed"
buckets:
  description: One result per distinct bucket, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The bucket name.
      returned: always
      type: str
      sample: customer-images
    changed:
      description: Whether the bucket policy (or the key policy) was changed, or would be in check mode.
      returned: always
      type: bool
      sample: true
    failed:
      description: Whether this bucket failed.
      returned: always
      type: bool
      sample: false
    msg:
      description: What failed on this bucket, naming the bucket, the call and what to do about it.
      returned: when failed
      type: str
      sample: "bucket 'customer-images': PutBucketPolicy failed: access denied (AccessDenied). Grant the caller s3:PutBucketPolicy on this bucket
        (or its KMS key), or check the bucket policy and SCPs for a Deny"
    region:
      description: The region the bucket lives in.
      returned: success
      type: str
      sample: eu-west-1
    kms_key:
      description:
        - The ARN of the customer-managed KMS key whose policy the module manages for this bucket, or null when there is none.
      returned: success and O(kms=true)
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    before:
      description: What the module manages, as read before any change.
      returned: success
      type: dict
      contains:
        policy:
          description: The bucket policy, or null when the bucket had none.
          type: dict
          sample: {"Version": "2012-10-17", "Statement": [{"Sid": "CustomerRead", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:role/analytics"}, "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::customer-images/*"}]}
        kms_key_policy:
          description: The key policy of RV(buckets[].kms_key), or null when there is no such key.
          returned: when O(kms=true)
          type: dict
    after:
      description:
        - What the module manages after the change, as read back from AWS.
        - In check mode, or when nothing changed, what it would be.
      returned: success
      type: dict
      contains:
        policy:
          description: The bucket policy, or null when it was deleted (or there is none).
          type: dict
          sample: {"Version": "2012-10-17", "Statement": [{"Sid": "CustomerRead", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:role/analytics"}, "Action": "s3:GetObject",
                   "Resource": "arn:aws:s3:::customer-images/*"},
                   {"Sid": "segments-s3-access", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::931508227573:user/segmentsai-prod-user"},
                    "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::customer-images/*"}]}
        kms_key_policy:
          description: The key policy of RV(buckets[].kms_key), or null when there is no such key.
          returned: when O(kms=true)
          type: dict
    warnings:
      description: Warnings about this bucket that do not fail it; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: ["Requester Pays is enabled, so S3 refuses Segments' requests, which do not agree to pay; turn Requester Pays off for this bucket"]
"""

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import NOT_READ, converge, known_state
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import S3Clients, SegmentsAWSModule
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import (
    BucketPolicyPart,
    checked_bucket_names,
    read_encryption,
    read_object_ownership,
    read_or_warn,
    read_request_payer,
    size_checked_policy_merge,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.kms import KmsKeys
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    DEFAULT_ACTIONS,
    DEFAULT_KMS_SID,
    DEFAULT_SID,
    KEY_POLICY_SIZE_LIMIT,
    SEGMENTS_PRINCIPAL,
    build_kms_statement,
    build_statement,
    merge_statement,
    remove_statement,
    validate_actions,
    validate_principal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import (
    BUCKET_OWNER_ENFORCED,
    KMS_ALGORITHMS,
    KMS_CUSTOMER,
    access_warnings,
    classify_kms_key,
    key_region,
    kms_sentence,
)


def validate_or_fail(module):
    """Fail the module before any call when an option is malformed; return each bucket's name warnings."""
    params = module.params
    name_warnings = checked_bucket_names(module)
    problems = [
        validate_principal(params["principal"], allow_wildcard=params["allow_public_principal"]),
        validate_actions(params["actions"], allow_wildcard=params["allow_wildcard_actions"]),
    ]
    if not params["sid"]:
        problems.append("sid must not be empty: it is how our statement is found again.")
    for prefix in params["prefixes"] or []:
        if not prefix.lstrip("/") or "*" in prefix or "?" in prefix:
            problems.append("prefix %r must be a non-empty key prefix without '*' or '?'." % prefix)
    if any(problems):
        fail_on_options(module, problems)
    return name_warnings


class AccessRun:
    """One run of the module: the options, the shared clients and the per-bucket work."""

    def __init__(self, module, name_warnings):
        self.module = module
        self.params = module.params
        self.present = module.params["state"] == "present"
        self.check_mode = module.check_mode
        self.name_warnings = name_warnings
        self.clients = S3Clients(module, module.params["concurrency"])
        self.keys = KmsKeys(self.clients, module.check_mode)
        self.bucket_states = module.params["bucket_states"] or {}

    def bucket_policy_merge(self, bucket):
        if not self.present:
            return lambda policy: remove_statement(policy, self.params["sid"])
        statement = build_statement(
            bucket, self.params["principal"], self.params["actions"], self.params["sid"], self.params["prefixes"]
        )
        return size_checked_policy_merge(bucket, lambda policy: merge_statement(policy, statement))

    def key_policy_merge(self, bucket, key):
        if not self.present:
            return lambda policy: remove_statement(policy, DEFAULT_KMS_SID)
        statement = build_kms_statement(key["region"], self.params["principal"])
        return size_checked_policy_merge(
            bucket, lambda policy: merge_statement(policy, statement), "KMS key policy", KEY_POLICY_SIZE_LIMIT
        )

    def key_to_manage(self, bucket, region, s3, warnings):
        """The customer-managed key of this account whose policy we manage for the bucket, else None (with a warning when due)."""
        kms = self.params["kms"]
        if not (kms or (self.present and self.params["readiness_warnings"])):
            return None
        if kms:
            encryption = read_encryption(s3, bucket)
        else:
            encryption = read_or_warn(warnings, "default encryption", read_encryption, s3, bucket)
        if not encryption or encryption["algorithm"] not in KMS_ALGORITHMS:
            return None
        key_id, key = encryption["kms_key"], None
        if key_id and key_id != "alias/aws/s3":
            lookup_region = key_region(key_id, region)
            if kms:
                key = self.keys.describe(bucket, key_id, lookup_region)
            else:
                key = read_or_warn(
                    warnings, "the default-encryption KMS key", self.keys.describe, bucket, key_id, lookup_region
                )
                if key is None:
                    return None
        kind = classify_kms_key(
            encryption["algorithm"],
            key_id,
            key and key["manager"],
            key and key["account"],
            self.keys.caller_account() if key else None,
        )
        if kms and kind == KMS_CUSTOMER:
            return key
        if self.present:
            sentence = kms_sentence(
                kind,
                key["arn"] if key else key_id,
                self.params["principal"],
                region,
                key and key["account"],
                kms_option=kms,
            )
            if sentence:
                warnings.append(sentence)
        return None

    def process_bucket(self, bucket):
        warnings = list(self.name_warnings.get(bucket, []))
        region, s3 = self.clients.s3_for_bucket(bucket)
        key = self.key_to_manage(bucket, region, s3, warnings)
        policy_part = BucketPolicyPart(s3, bucket, self.bucket_policy_merge(bucket))
        # The caller's read (bucket_states) stands for the first read: the engine reads again only before a write.
        current_policy = known_state(self.bucket_states, bucket, "policy")
        key_before = key_after = None
        key_changed = False
        if key is None:
            policy = converge(policy_part, self.check_mode, current=current_policy)
        else:
            if current_policy is NOT_READ:
                current_policy = policy_part.read()
            policy_part.merge(current_policy)  # a policy over the size limit fails here, before the key-policy write
            with self.keys.policy_change(bucket, key, self.key_policy_merge(bucket, key)) as key_outcome:
                key_before, key_after, key_changed = key_outcome.before, key_outcome.after, key_outcome.changed
                policy = converge(policy_part, self.check_mode, current=current_policy)

        if self.present:
            request_payer, ownership = None, BUCKET_OWNER_ENFORCED  # unread settings count as the good ones
            if self.params["readiness_warnings"]:
                request_payer = read_or_warn(warnings, "Requester Pays", read_request_payer, s3, bucket)
                # An unreadable setting has its own warning already, so it counts as the good one here.
                ownership = read_or_warn(
                    warnings, "Object Ownership", read_object_ownership, s3, bucket, unreadable=BUCKET_OWNER_ENFORCED
                )
            warnings.extend(
                access_warnings(bucket, region, self.params["principal"], policy.after, request_payer, ownership)
            )
        result = dict(
            name=bucket,
            changed=policy.changed or key_changed,
            region=region,
            before=dict(policy=policy.before),
            after=dict(policy=policy.after),
            warnings=warnings,
        )
        if self.params["kms"]:
            result.update(kms_key=key["arn"] if key else None)
            result["before"]["kms_key_policy"] = key_before
            result["after"]["kms_key_policy"] = key_after
        return result


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        principal=dict(type="str", default=SEGMENTS_PRINCIPAL),
        sid=dict(type="str", default=DEFAULT_SID),
        actions=dict(type="list", elements="str", default=list(DEFAULT_ACTIONS)),
        prefixes=dict(type="list", elements="str"),
        kms=dict(type="bool", default=False),
        allow_public_principal=dict(type="bool", default=False),
        allow_wildcard_actions=dict(type="bool", default=False),
        readiness_warnings=dict(type="bool", default=True),
        bucket_regions=dict(type="dict", default={}),
        bucket_states=dict(type="dict", default={}),
    )
    module = SegmentsAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run = AccessRun(module, validate_or_fail(module))
    results = run_per_bucket(module.params["name"], module.params["concurrency"], run.process_bucket)
    exit_with_fleet_result(module, results, diff_key=("policy", "kms_key_policy") if module.params["kms"] else "policy")


if __name__ == "__main__":
    main()
