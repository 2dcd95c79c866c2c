#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_s3_info
short_description: Check whether S3 buckets are ready for Segments.ai, and back up what the onboarding changes
version_added: 0.1.0
description:
  - A read-only readiness audit of S3 buckets for Segments.ai. It never writes anything, so it behaves the same in check mode.
  - For each bucket it reports whether it exists and its region; the virtual-hosted URL prefix Segments needs; whether the bucket
    policy grants O(principal) read access; whether the Segments CORS rule is present; the default encryption and whether a KMS
    grant is needed and present; Object Ownership, Requester Pays, Block Public Access (for information) and whether the name has dots.
  - Each bucket gets C(ready) and C(problems), a list of sentences that each say what to do.
  - It also returns the raw state that M(segments.cloud.segments_s3_access) and M(segments.cloud.segments_s3_cors) manage, the bucket
    policy, the CORS rules and the key policy of a customer-managed default-encryption key, so that a playbook can keep it as a
    backup before onboarding and restore it later.
  - A bucket that does not exist is reported with C(exists=false), C(ready=false) and a problem; it does not fail the task.
    Any other error on a bucket, such as a denied read, fails that bucket as usual.
  - With O(preflight=true) it also sends the request a browser sends before loading an object from Segments, a CORS preflight,
    and reports whether S3 allowed it.
options:
  principal:
    description:
      - The AWS principal Segments reads with, as for M(segments.cloud.segments_s3_access).
      - "Access counts as granted when the bucket policy holds an Allow statement with O(sid), or any Allow statement without a
        condition whose principal is O(principal), its account or C(*), and that covers C(s3:GetObject) on C(arn:aws:s3:::BUCKET/*).
        A statement with a condition is not counted, since the audit cannot tell whether the condition lets Segments in."
    type: str
    default: arn:aws:iam::931508227573:user/segmentsai-prod-user
  sid:
    description:
      - The C(Sid) of our bucket-policy statement, as given to M(segments.cloud.segments_s3_access).
    type: str
    default: segments-s3-access
  rule_id:
    description:
      - The C(ID) of our CORS rule, as given to M(segments.cloud.segments_s3_cors). A hand-made Segments-only rule without an ID
        counts too, as that module would adopt it.
    type: str
    default: segments-cors
  preflight:
    description:
      - Also send a real browser-style CORS preflight for each of O(origins); the bucket is only ready if S3 allows every one.
      - "The preflight is an HTTP C(OPTIONS) request with C(Origin: ORIGIN) and C(Access-Control-Request-Method: GET). It goes to
        C(https://BUCKET.s3.REGION.amazonaws.com/), or path style to C(ENDPOINT/BUCKET/) when the S3 endpoint is not AWS's own
        (O(endpoint_url), an emulator)."
      - It is allowed when the C(Access-Control-Allow-Origin) answer is the origin or C(*).
    type: bool
    default: false
  origins:
    description:
      - The origins O(preflight) sends, one preflight each.
    type: list
    elements: str
    default: ["https://app.segments.ai"]
notes:
  - "The caller needs C(s3:GetBucketLocation) (or C(s3:ListBucket) for HeadBucket), C(s3:GetBucketPolicy), C(s3:GetBucketCORS),
    C(s3:GetEncryptionConfiguration), C(s3:GetBucketOwnershipControls), C(s3:GetBucketRequestPayment) and
    C(s3:GetBucketPublicAccessBlock); for a KMS default-encryption key also C(kms:DescribeKey) and C(kms:GetKeyPolicy). Without
    the KMS permissions the key is reported as not described, with a warning, instead of failing the bucket."
  - "The KMS grant counts as present when the key policy holds an Allow statement with Sid C(segments-kms-decrypt), or an
    unconditional Allow of C(kms:Decrypt) for O(principal) or its account."
  - A Deny statement without a condition that may match O(principal)'s C(s3:GetObject) is a problem; one with a condition is a
    warning, and one that only denies requests without TLS is not reported, since Segments always uses HTTPS.
  - Object Ownership other than C(BucketOwnerEnforced) is a warning, not a problem; objects uploaded by other accounts stay unreadable.
  - Bucket names are checked before any call, as in M(segments.cloud.segments_s3_access).
seealso:
  - module: segments.cloud.segments_s3_access
  - module: segments.cloud.segments_s3_cors
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.s3_regions
  - segments.cloud.attributes.info_module
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Is one bucket ready for Segments.ai?
  segments.cloud.segments_s3_info:
    name: customer-images
    preflight: true
  register: readiness

- name: Audit a whole fleet in one call, with the AWS connection set once
  module_defaults:
    group/segments.cloud.aws:
      profile: customer-onboarding
      region: eu-west-1
  block:
    - name: Read every bucket, sixteen at a time, and keep what onboarding will change as a backup
      segments.cloud.segments_s3_info:
        buckets:
          - customer-images
          - customer-lidar
          - customer-video
      register: fleet_readiness

    - name: Save the before-state for a rollback
      ansible.builtin.copy:
        content: "{{ fleet_readiness.buckets | items2dict(key_name='name', value_name='policy') | to_nice_json }}"
        dest: backups/bucket-policies.json
        mode: "0600"
      delegate_to: localhost

    - name: Show what is left to do
      ansible.builtin.debug:
        msg: "{{ item.name }}: {{ item.problems | join(' ') }}"
      loop: "{{ fleet_readiness.buckets | rejectattr('ready') }}"
      loop_control:
        label: "{{ item.name }}"

    - name: Stop unless every bucket is ready
      ansible.builtin.assert:
        that: fleet_readiness.buckets | map(attribute='ready') | min
        fail_msg: Some buckets are not ready for Segments.ai yet
"""

RETURN = r"""
msg:
  description: A summary, or when any bucket failed, each failed bucket and why.
  returned: always
  type: str
  sample: "3 bucket(s) processed, 0 changed"
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
      description: Always false; the module never writes.
      returned: always
      type: bool
      sample: false
    failed:
      description: Whether the bucket could not be audited.
      returned: always
      type: bool
      sample: false
    msg:
      description: What failed on this bucket, naming the bucket, the call and what to do about it.
      returned: when failed
      type: str
      sample: "bucket 'customer-images': GetBucketPolicy failed: access denied (AccessDenied). Grant the caller s3:GetBucketPolicy on this bucket
        (or its KMS key), or check the bucket policy and SCPs for a Deny"
    exists:
      description: Whether the bucket exists (and the credentials may see it).
      returned: success
      type: bool
      sample: true
    region:
      description: The region the bucket lives in; null when it does not exist.
      returned: success
      type: str
      sample: eu-west-1
    url_prefix:
      description: The virtual-hosted URL prefix Segments uses for the bucket's objects; null when the bucket does not exist.
      returned: success
      type: str
      sample: https://customer-images.s3.eu-west-1.amazonaws.com/
    dotted_name:
      description: Whether the bucket name has dots, which break virtual-hosted HTTPS URLs.
      returned: success
      type: bool
      sample: false
    s3_access_granted:
      description: Whether the bucket policy grants O(principal) C(s3:GetObject) on the objects (see O(principal)).
      returned: success
      type: bool
      sample: true
    cors_rule_present:
      description: Whether the CORS configuration holds our rule (see O(rule_id)).
      returned: success
      type: bool
      sample: true
    encryption:
      description: The bucket's default encryption.
      returned: success
      type: dict
      contains:
        algorithm:
          description: V(AES256), V(aws:kms) or V(aws:kms:dsse); null when none is set or the bucket does not exist.
          type: str
          sample: aws:kms
        kms_key:
          description: The KMS key as the encryption configuration names it (ARN, id or alias); null for SSE-S3 or the AWS managed key.
          type: str
          sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
        bucket_key_enabled:
          description: Whether S3 Bucket Keys are enabled.
          type: bool
          sample: true
    kms_key_kind:
      description:
        - What the default-encryption key means for Segments.
        - V(none) (not SSE-KMS), V(customer) (a customer-managed key of the caller's account), V(other_account),
          V(aws_managed) (aws/s3, which no other account can use) or V(unknown) (the key could not be described or its policy read).
      returned: success
      type: str
      sample: customer
    kms_grant_needed:
      description: Whether Segments needs a KMS grant to read the objects, that is, whether default encryption is SSE-KMS.
      returned: success
      type: bool
      sample: true
    kms_grant_present:
      description: Whether the key policy lets O(principal) decrypt; null when no grant is needed or the key policy could not be read.
      returned: success
      type: bool
      sample: true
    object_ownership:
      description: V(BucketOwnerEnforced), V(BucketOwnerPreferred) or V(ObjectWriter); null when no ownership controls are set.
      returned: success
      type: str
      sample: BucketOwnerEnforced
    requester_pays:
      description: Whether Requester Pays is enabled; null when the bucket does not exist.
      returned: success
      type: bool
      sample: false
    public_access_block:
      description: The bucket's own Block Public Access settings, for information; null when it has none (or does not exist).
      returned: success
      type: dict
      sample: {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}
    ready:
      description: Whether nothing in RV(buckets[].problems) stands in the way of Segments reading the objects.
      returned: success
      type: bool
      sample: false
    problems:
      description: What stands in the way, each a sentence that says what to do.
      returned: success
      type: list
      elements: str
      sample: ["the CORS configuration has no Segments rule, so browsers cannot load the objects from Segments;
               run segments.cloud.segments_s3_cors on the bucket"]
    warnings:
      description: Findings that may matter but do not make the bucket unready; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
    policy:
      description: The bucket policy as S3 returned it, or null when there is none; for backups.
      returned: success
      type: dict
      sample: {"Version": "2012-10-17", "Statement": [{"Sid": "segments-s3-access", "Effect": "Allow",
               "Principal": {"AWS": "arn:aws:iam::931508227573:user/segmentsai-prod-user"}, "Action": ["s3:GetObject"],
               "Resource": "arn:aws:s3:::customer-images/*"}]}
    cors_rules:
      description: The CORS rules as S3 returned them, empty when there is no CORS configuration; for backups.
      returned: success
      type: list
      elements: dict
      sample: [{"ID": "segments-cors", "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"], "AllowedMethods": ["GET"],
                "AllowedHeaders": ["*"]}]
    kms_key_policy:
      description:
        - The key policy of the default-encryption key when it is a customer-managed key of the caller's account that the caller may read;
          else null. For backups.
      returned: success
      type: dict
      sample: {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
               "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}
    preflight:
      description:
        - The outcome of the CORS preflight; for several O(origins), the first that was not allowed (else the first), with every one in C(checks).
      returned: success and O(preflight=true) and the bucket exists
      type: dict
      contains:
        url:
          description: The URL the preflight went to.
          type: str
          sample: https://customer-images.s3.eu-west-1.amazonaws.com/
        origin:
          description: The C(Origin) sent.
          type: str
          sample: https://app.segments.ai
        status:
          description: The HTTP status of the answer; null when no answer came.
          type: int
          sample: 200
        allowed:
          description: Whether every origin was allowed.
          type: bool
          sample: true
        allow_origin:
          description: The C(Access-Control-Allow-Origin) header of the answer, or null.
          type: str
          sample: https://app.segments.ai
        error:
          description: Why no HTTP answer came.
          returned: when no answer came
          type: str
          sample: "[Errno 111] Connection refused"
        checks:
          description: One entry per origin, each with C(url), C(origin), C(status), C(allowed), C(allow_origin) and, when no answer came, C(error).
          type: list
          elements: dict
          sample: [{"url": "https://customer-images.s3.eu-west-1.amazonaws.com/", "origin": "https://app.segments.ai", "status": 200,
                    "allowed": true, "allow_origin": "https://app.segments.ai"}]
"""

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import (
    BucketNotFound,
    S3Clients,
    SegmentsAWSModule,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import DEFAULT_RULE_ID
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import (
    checked_bucket_names,
    read_cors,
    read_encryption,
    read_object_ownership,
    read_or_warn,
    read_policy,
    read_public_access_block,
    read_request_payer,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.kms import KmsKeys
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    DEFAULT_KMS_SID,
    DEFAULT_SID,
    SEGMENTS_PRINCIPAL,
    validate_principal,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.preflight import cors_preflight, preflight_url
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import (
    KMS_ALGORITHMS,
    KMS_AWS_MANAGED,
    KMS_CUSTOMER,
    KMS_NONE,
    KMS_UNKNOWN,
    PREFLIGHT_ORIGIN,
    access_granted,
    classify_kms_key,
    cors_rule_present,
    encryption_summary,
    key_region,
    kms_grant_present,
    readiness,
    virtual_hosted_url,
)


class InfoRun:
    """One run of the audit: the options, the shared clients and the per-bucket reads."""

    def __init__(self, module, name_warnings):
        self.module = module
        self.params = module.params
        self.name_warnings = name_warnings
        self.clients = S3Clients(module, module.params["concurrency"])
        self.keys = KmsKeys(self.clients, check_mode=False)

    def kms_facts(self, bucket, region, encryption, warnings):
        """Kind of the default-encryption key, its ARN, account, readable key policy and whether it grants the principal."""
        facts = dict(
            kms_kind=KMS_NONE,
            kms_key=encryption["kms_key"],
            kms_key_account=None,
            kms_key_policy=None,
            kms_grant_present=None,
        )
        if encryption["algorithm"] not in KMS_ALGORITHMS:
            return facts
        key_id, key = encryption["kms_key"], None
        if key_id and key_id != "alias/aws/s3":
            key = read_or_warn(
                warnings,
                "the default-encryption KMS key",
                self.keys.describe,
                bucket,
                key_id,
                key_region(key_id, region),
            )
        kind = classify_kms_key(
            encryption["algorithm"],
            key_id,
            key and key["manager"],
            key and key["account"],
            self.keys.caller_account() if key else None,
        )
        if key:
            facts.update(kms_key=key["arn"], kms_key_account=key["account"])
        if kind == KMS_CUSTOMER:
            key_policy = read_or_warn(warnings, "the KMS key policy", self.keys.read_policy, bucket, key)
            if key_policy is None:
                kind = KMS_UNKNOWN
            else:
                facts.update(
                    kms_key_policy=key_policy,
                    kms_grant_present=kms_grant_present(
                        key_policy, key["arn"], self.params["principal"], DEFAULT_KMS_SID
                    ),
                )
        elif kind == KMS_AWS_MANAGED:
            facts.update(kms_grant_present=False)
        facts.update(kms_kind=kind)
        return facts

    def preflight(self, s3, bucket, region):
        """Preflight each origin; the summary is the first that was not allowed (else the first), with every check listed."""
        url = preflight_url(s3, bucket, region)
        checks = [
            cors_preflight(url, origin, validate_certs=self.params["validate_certs"])
            for origin in self.params["origins"]
        ]
        summary = dict(next((check for check in checks if not check["allowed"]), checks[0]))
        summary.update(allowed=all(check["allowed"] for check in checks), checks=checks)
        return summary

    def missing_bucket(self, bucket, warnings):
        ready, problems, more_warnings = readiness(dict(exists=False, bucket=bucket))
        return dict(
            name=bucket,
            changed=False,
            exists=False,
            region=None,
            url_prefix=None,
            dotted_name="." in bucket,
            s3_access_granted=False,
            cors_rule_present=False,
            encryption=encryption_summary(None),
            kms_key_kind=KMS_NONE,
            kms_grant_needed=False,
            kms_grant_present=None,
            object_ownership=None,
            requester_pays=None,
            public_access_block=None,
            ready=ready,
            problems=problems,
            warnings=warnings + more_warnings,
            policy=None,
            cors_rules=[],
            kms_key_policy=None,
        )

    def process_bucket(self, bucket):
        warnings = list(self.name_warnings.get(bucket, []))
        try:
            region, s3 = self.clients.s3_for_bucket(bucket)
        except BucketNotFound:
            return self.missing_bucket(bucket, warnings)
        principal = self.params["principal"]
        policy = read_policy(s3, bucket)
        cors_rules = read_cors(s3, bucket)
        encryption = read_encryption(s3, bucket)
        object_ownership = read_object_ownership(s3, bucket)
        request_payer = read_request_payer(s3, bucket)
        public_access_block = read_public_access_block(s3, bucket)
        kms = self.kms_facts(bucket, region, encryption, warnings)
        facts = dict(
            exists=True,
            bucket=bucket,
            region=region,
            principal=principal,
            policy=policy,
            s3_access_granted=access_granted(policy, bucket, principal, self.params["sid"]),
            cors_rule_present=cors_rule_present(cors_rules, self.params["rule_id"]),
            request_payer=request_payer,
            object_ownership=object_ownership,
            **kms,
        )
        if self.params["preflight"]:
            facts["preflight"] = self.preflight(s3, bucket, region)
        ready, problems, more_warnings = readiness(facts)
        result = dict(
            name=bucket,
            changed=False,
            exists=True,
            region=region,
            url_prefix=virtual_hosted_url(bucket, region),
            dotted_name="." in bucket,
            s3_access_granted=facts["s3_access_granted"],
            cors_rule_present=facts["cors_rule_present"],
            encryption=encryption,
            kms_key_kind=kms["kms_kind"],
            kms_grant_needed=kms["kms_kind"] != KMS_NONE,
            kms_grant_present=kms["kms_grant_present"],
            object_ownership=object_ownership,
            requester_pays=request_payer == "Requester",
            public_access_block=public_access_block,
            ready=ready,
            problems=problems,
            warnings=warnings + more_warnings,
            policy=policy,
            cors_rules=cors_rules,
            kms_key_policy=kms["kms_key_policy"],
        )
        if self.params["preflight"]:
            result["preflight"] = facts["preflight"]
        return result


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(
        principal=dict(type="str", default=SEGMENTS_PRINCIPAL),
        sid=dict(type="str", default=DEFAULT_SID),
        rule_id=dict(type="str", default=DEFAULT_RULE_ID),
        preflight=dict(type="bool", default=False),
        origins=dict(type="list", elements="str", default=[PREFLIGHT_ORIGIN]),
        bucket_regions=dict(type="dict", default={}),
    )
    module = SegmentsAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    name_warnings = checked_bucket_names(module)
    problem = validate_principal(module.params["principal"], allow_wildcard=True)
    if problem is None and module.params["preflight"] and not module.params["origins"]:
        problem = "origins must list at least one origin for preflight, such as https://app.segments.ai."
    if problem:
        fail_on_options(module, problem)
    run = InfoRun(module, name_warnings)
    results = run_per_bucket(module.params["name"], module.params["concurrency"], run.process_bucket)
    exit_with_fleet_result(module, results)


if __name__ == "__main__":
    main()
