#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_s3_restore
short_description: Restore the bucket policy, CORS rules and KMS key policy of many S3 buckets from segments.cloud backups
version_added: 0.1.0
description:
  - Puts back what the segments.cloud S3 modules manage on each bucket (the bucket policy, the CORS configuration and,
    when the backup holds one, the policy of the bucket's default-encryption KMS key) exactly as a backup file holds it.
  - The backup files are those M(segments.cloud.segments_backup) writes, C(DEST/RUN_ID/HOST/s3/BUCKET.json); the onboarding
    role writes them before every run. Each file names its bucket, so one call restores a whole fleet.
  - "A restore is refused for a bucket when what is not Segments' changed since the backup: a statement whose C(Sid) is not
    O(sid) was added, removed or changed, a CORS rule that is not ours (see O(rule_id)) was added, removed or changed, a key-policy
    statement other than C(segments-kms-decrypt) changed, the policy's C(Version) or C(Id) changed, or the bucket is now in
    another region. Writing the backup back would undo those changes, so the bucket fails with a message that names the bucket
    and says what differs, for example C(statement DataTeamRead changed; statement Audit added; CORS rule webapp removed), and
    nothing is written to it. O(force=true) restores it anyway."
  - Foreign parts compare by meaning, as AWS reads them; statement and rule order, a string for a one-item list, an account
    id for its root ARN and the case of CORS methods do not count as a change.
  - Otherwise each part is written only when it differs from the backup (the policy put, or deleted when the backup has none;
    the CORS configuration put, or deleted when the backup has no rule; the key policy put), then read back and checked.
    Just before each write the part is read again and the foreign parts checked again, so a change made in between is not overwritten.
  - Buckets whose backups share a KMS key are restored one at a time for that key.
options:
  sid:
    description:
      - The C(Sid) of our bucket-policy statement (as given to M(segments.cloud.segments_s3_access)); every other statement is foreign.
    type: str
    default: segments-s3-access
  rule_id:
    description:
      - The ID of our CORS rule (as given to M(segments.cloud.segments_s3_cors)); every other rule is foreign, but for
        an ID-less rule that only names Segments origins, which that module adopts as ours.
    type: str
    default: segments-cors
notes:
  - The caller needs C(s3:GetBucketLocation), C(s3:GetBucketPolicy), C(s3:PutBucketPolicy), C(s3:DeleteBucketPolicy),
    C(s3:GetBucketCORS) and C(s3:PutBucketCORS); for a backup with a key policy also C(kms:DescribeKey), C(kms:GetKeyPolicy) and
    C(kms:PutKeyPolicy).
  - The key policy restored is that of the key the backup's default encryption named, even when the bucket uses another key now.
  - S3 has no conditional write for bucket policies or CORS, nor KMS for key policies; a change that lands in the short moment
    between the last read and the write cannot be detected (see M(segments.cloud.segments_s3_access)).
  - The C(segments.cloud.rollback) playbook finds the backup files of a run and calls this module once per account.
seealso:
  - module: segments.cloud.segments_backup
  - module: segments.cloud.segments_gcs_restore
  - module: segments.cloud.segments_s3_info
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.restore
  - segments.cloud.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore one bucket from the backup taken before an onboarding run
  segments.cloud.segments_s3_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/s3/customer-images.json

- name: Restore every S3 bucket of a run, with the AWS connection set once
  module_defaults:
    group/segments.cloud.aws:
      profile: customer-onboarding
      region: eu-west-1
  block:
    - name: Find the backup files of the run
      ansible.builtin.find:
        paths: /var/backups/segments/20261123T101500Z/aws-123456789012-prod/s3
        patterns: "*.json"
      register: backup_files

    - name: Restore them, eight buckets at a time
      segments.cloud.segments_s3_restore:
        backup: "{{ backup_files.files | map(attribute='path') }}"
        concurrency: 8
      register: restore_result

- name: Preview what a restore would change, without writing anything
  segments.cloud.segments_s3_restore:
    backup: "{{ backup_files.files | map(attribute='path') }}"
  check_mode: true
  diff: true

- name: Restore although other statements or rules changed since the backup, overwriting those changes
  segments.cloud.segments_s3_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/s3/customer-images.json
    force: true
"""

RETURN = r"""
msg:
  description: A summary, or when any bucket failed or was refused, each such bucket and why.
  returned: always
  type: str
  sample: "2 bucket(s) processed, 1 changed"
buckets:
  description: One result per backup file, in the order given.
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
      description: Whether anything was restored (or would be, in check mode).
      returned: always
      type: bool
      sample: true
    failed:
      description: Whether this bucket failed or was refused.
      returned: always
      type: bool
      sample: false
    msg:
      description: Why this bucket failed, naming the bucket; for a refused bucket, what is not Segments' and changed since the backup.
      returned: when failed
      type: str
      sample: "bucket 'customer-images': restore failed: refused, because what is not Segments' changed since the backup: statement DataTeamRead
        changed; statement Audit added; CORS rule webapp removed; nothing was written. Look at those changes first; run again with force=true
        to overwrite them with the backup, or keep them and leave the bucket as it is"
    backup:
      description: The backup file the bucket was restored from.
      returned: success
      type: str
      sample: /var/backups/segments/20261123T101500Z/localhost/s3/customer-images.json
    region:
      description: The region the bucket lives in.
      returned: success
      type: str
      sample: eu-west-1
    kms_key:
      description: The ARN of the KMS key whose policy was restored, or null when the backup holds no key policy.
      returned: success
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    restored:
      description: The parts written (or that would be, in check mode), among V(policy), V(cors_rules) and V(kms_key_policy).
      returned: success
      type: list
      elements: str
      sample: [policy, cors_rules]
    differences:
      description:
        - What is not Segments' and differs between the backup and the bucket, one sentence each; empty when nothing does.
        - Only a run with O(force=true) returns it non-empty for a bucket that did not fail.
      returned: success
      type: list
      elements: str
      sample: []
    before:
      description: The managed parts as read before the restore.
      returned: success
      type: dict
      contains:
        policy:
          description: The bucket policy, or null when there was none.
          type: dict
          sample: {"Version": "2012-10-17", "Statement": [{"Sid": "segments-s3-access", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::931508227573:user/segmentsai-prod-user"}, "Action": ["s3:GetObject"],
                   "Resource": "arn:aws:s3:::customer-images/*"}]}
        cors_rules:
          description: The CORS rules, empty when there was no CORS configuration.
          type: list
          elements: dict
          sample: [{"ID": "segments-cors", "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"], "AllowedMethods": ["GET"],
                    "AllowedHeaders": ["*"]}]
        kms_key_policy:
          description: The policy of RV(buckets[].kms_key), or null when the backup holds no key policy.
          type: dict
          sample: null
    after:
      description:
        - The managed parts after the restore, as read back from AWS.
        - In check mode, or when nothing changed, what they would be.
      returned: success
      type: dict
      contains:
        policy:
          description: The bucket policy, or null when there is none.
          type: dict
          sample: null
        cors_rules:
          description: The CORS rules, empty when there is no CORS configuration.
          type: list
          elements: dict
          sample: []
        kms_key_policy:
          description: The policy of RV(buckets[].kms_key), or null when the backup holds no key policy.
          type: dict
          sample: null
    warnings:
      description: Warnings about this bucket, such as the foreign changes O(force=true) overwrote; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from typing import Callable, NamedTuple

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.restore import (
    MANAGED_PARTS,
    backup_value,
    backups_by_bucket,
    forced_warnings,
    guarded_restore,
    option_problems,
    place_difference,
    refusal,
    restore_argument_spec,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import S3Clients, SegmentsAWSModule
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import DEFAULT_RULE_ID
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import BucketPolicyPart, CorsPart
from ansible_collections.segments.cloud.plugins.module_utils._s3.kms import KmsKeys
from ansible_collections.segments.cloud.plugins.module_utils._s3.names import check_bucket_name
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import DEFAULT_KMS_SID, DEFAULT_SID
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import key_region
from ansible_collections.segments.cloud.plugins.module_utils._s3.restore import policy_differences, s3_cors_differences


def backups_or_fail(module):
    """{bucket: (path, record)} of the backup files; fails the module before any call when a file or an option is unusable."""
    backups, problems = backups_by_bucket(module.params["backup"], "s3")
    name_warnings = {}
    for bucket in backups:
        problem, name_warnings[bucket] = check_bucket_name(bucket)
        if problem:
            problems.append("backup file %s: %s" % (backups[bucket][0], problem))
    if not module.params["sid"] or not module.params["rule_id"]:
        problems.append(
            "sid and rule_id must not be empty: they are how our statement and rule are told from everyone else's."
        )
    problems.extend(option_problems(module.params))
    if problems:
        fail_on_options(module, problems, list(backups))
    return backups, name_warnings


class RestoredPart(NamedTuple):
    """One part a backup restores: its name in the results and the records, the part for the converge engine (its
    merge the guarded restore of the backup's value) and how its foreign content differs from the backup's."""

    name: str
    part: ManagedPart
    foreign_differences: Callable


class RestoreRun:
    """One run of the module: the options, the backups, the shared clients and the per-bucket restore."""

    def __init__(self, module, backups, name_warnings):
        self.params = module.params
        self.check_mode = module.check_mode
        self.force = module.params["force"]
        self.backups = backups
        self.name_warnings = name_warnings
        self.clients = S3Clients(module, module.params["concurrency"])
        self.keys = KmsKeys(self.clients, module.check_mode)

    def restored_part(self, bucket, record, name, make_part, foreign_differences):
        """A RestoredPart of name, made by make_part(merge) with the guarded restore of the backup's value as merge."""
        what_and_equal = make_part(None)
        merge = guarded_restore(
            bucket,
            what_and_equal.what,
            backup_value(record.get(name)),
            foreign_differences,
            what_and_equal.equal,
            self.force,
        )
        return RestoredPart(name, make_part(merge), foreign_differences)

    def managed_parts(self, bucket, record, s3, key):
        """The parts the backup record restores: the bucket policy, the CORS rules and, with a key, its key policy."""
        sid, rule_id = self.params["sid"], self.params["rule_id"]
        parts = [
            self.restored_part(
                bucket,
                record,
                "policy",
                lambda merge: BucketPolicyPart(s3, bucket, merge),
                lambda policy: policy_differences(record.get("policy"), policy, sid),
            ),
            self.restored_part(
                bucket,
                record,
                "cors_rules",
                lambda merge: CorsPart(s3, bucket, merge),
                lambda rules: s3_cors_differences(record.get("cors_rules"), rules, rule_id),
            ),
        ]
        if key:
            parts.append(
                self.restored_part(
                    bucket,
                    record,
                    "kms_key_policy",
                    lambda merge: self.keys.policy_part(bucket, key, merge),
                    lambda policy: policy_differences(record["kms_key_policy"], policy, DEFAULT_KMS_SID, "key policy"),
                )
            )
        return parts

    def restore_bucket(self, bucket, path, record, region, s3, key):
        """Compare the foreign parts with the backup, refuse or write back what differs, and report the bucket's result."""
        parts = self.managed_parts(bucket, record, s3, key)
        current = dict.fromkeys(MANAGED_PARTS["s3"])
        current.update((restored.name, restored.part.read()) for restored in parts)
        differences = [
            sentence for restored in parts for sentence in restored.foreign_differences(current[restored.name])
        ]
        differences += place_difference(record.get("region"), region, "region")
        if differences and not self.force:
            raise refusal(bucket, differences)

        after, restored = dict(current), []
        for name, part, _foreign_differences in parts:
            outcome = converge(part, self.check_mode, current=current[name])
            after[name] = outcome.after
            if outcome.changed:
                restored.append(name)
        if "kms_key_policy" in restored:
            self.keys.plan(key, after["kms_key_policy"])
        return dict(
            name=bucket,
            changed=bool(restored),
            backup=path,
            region=region,
            kms_key=key["arn"] if key else None,
            restored=restored,
            differences=differences,
            before=current,
            after=after,
            warnings=list(self.name_warnings.get(bucket, [])) + forced_warnings(differences),
        )

    def process_bucket(self, bucket):
        path, record = self.backups[bucket]
        region, s3 = self.clients.s3_for_bucket(bucket)
        if record.get("kms_key_policy") is None:
            return self.restore_bucket(bucket, path, record, region, s3, None)
        key_id = record["encryption"]["kms_key"]
        key = self.keys.describe(bucket, key_id, key_region(key_id, region))
        # The key policy is shared by every bucket that uses the key: one bucket at a time compares and writes it.
        with self.keys.key_lock(key["arn"]):
            return self.restore_bucket(bucket, path, record, region, s3, key)


def main():
    argument_spec = restore_argument_spec()
    argument_spec.update(
        sid=dict(type="str", default=DEFAULT_SID),
        rule_id=dict(type="str", default=DEFAULT_RULE_ID),
    )
    module = SegmentsAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    backups, name_warnings = backups_or_fail(module)
    run = RestoreRun(module, backups, name_warnings)
    results = run_per_bucket(list(backups), module.params["concurrency"], run.process_bucket)
    exit_with_fleet_result(module, results, diff_key=list(MANAGED_PARTS["s3"]))


if __name__ == "__main__":
    main()
