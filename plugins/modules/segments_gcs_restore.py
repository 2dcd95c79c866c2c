#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_gcs_restore
short_description: Restore the CORS configuration and IAM bindings of many Google Cloud Storage buckets from segments.cloud backups
version_added: 0.1.0
description:
  - Puts back what the segments.cloud GCS modules manage on each bucket (the CORS entries and, when the backup holds them,
    the IAM bindings) exactly as a backup file holds it.
  - The backup files are those M(segments.cloud.segments_backup) writes, C(DEST/RUN_ID/HOST/gcs/BUCKET.json); the onboarding
    role writes them before every run. Each file names its bucket, so one call restores a whole fleet.
  - "A restore is refused for a bucket when what is not Segments' changed since the backup: a CORS entry that names any origin
    other than Segments' was added, removed or changed, a member was added to or removed from any role other than through
    O(member)'s unconditional grant of O(role), or the bucket is now in another location. Writing the backup back would undo
    those changes, so the bucket fails with a message that names the bucket and says what differs, for example
    C(CORS entry for https://app.example.com removed; IAM member user:bob@example.com added to roles/storage.admin), and nothing
    is written to it. O(force=true) restores it anyway."
  - Foreign parts compare by meaning; entry, binding and member order, the case of CORS methods and how grants are split into
    bindings do not count as a change.
  - Otherwise each part is written only when it differs from the backup, then read back and checked. CORS is written with a PATCH
    of the C(cors) field alone guarded by C(if_metageneration_match) on the metageneration read; the IAM policy with the etag read.
    When another writer got there first, the bucket is read again, the foreign parts checked again, and the write retried.
options:
  member:
    description:
      - The member Segments reads as (as given to M(segments.cloud.segments_gcs_access)); its unconditional grant of O(role) is ours,
        every other grant is foreign.
      - Without it, the member stored in each backup is used (the onboarding role's backups store the member and role
        of the run). It is required for a backup that holds IAM bindings but no member.
    type: str
  role:
    description:
      - The role granted to O(member). Unset means the role stored with the backup (the custom role since that became
        the default), or V(roles/storage.objectViewer) for a backup that stored none.
    type: str
notes:
  - The caller needs C(storage.buckets.get) and C(storage.buckets.update), and for a backup with IAM bindings also
    C(storage.buckets.getIamPolicy) and C(storage.buckets.setIamPolicy).
  - A backup without IAM bindings (an audit run without a member) leaves the IAM policy alone.
  - The C(segments.cloud.rollback) playbook finds the backup files of a run and calls this module once per project.
seealso:
  - module: segments.cloud.segments_backup
  - module: segments.cloud.segments_s3_restore
  - module: segments.cloud.segments_gcs_info
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.restore
  - segments.cloud.gcp
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Restore one bucket from the backup taken before an onboarding run
  segments.cloud.segments_gcs_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/gcs/customer-images.json
    member: serviceAccount:segments-reader@example-project.iam.gserviceaccount.com
    project: customer-project

- name: Restore every GCS bucket of a run, with the credentials set once
  module_defaults:
    group/segments.cloud.gcs:
      project: customer-project
      auth_kind: serviceaccount
      service_account_file: /etc/gcp/onboarding.json
  block:
    - name: Find the backup files of the run
      ansible.builtin.find:
        paths: /var/backups/segments/20261123T101500Z/gcp-vision-prod/gcs
        patterns: "*.json"
      register: backup_files

    - name: Restore them, eight buckets at a time
      segments.cloud.segments_gcs_restore:
        backup: "{{ backup_files.files | map(attribute='path') }}"
        member: serviceAccount:segments-reader@example-project.iam.gserviceaccount.com
        concurrency: 8

- name: Preview what a restore would change, without writing anything
  segments.cloud.segments_gcs_restore:
    backup: "{{ backup_files.files | map(attribute='path') }}"
    member: serviceAccount:segments-reader@example-project.iam.gserviceaccount.com
  check_mode: true
  diff: true

- name: Restore although other entries or bindings changed since the backup, overwriting those changes
  segments.cloud.segments_gcs_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/gcs/customer-images.json
    member: serviceAccount:segments-reader@example-project.iam.gserviceaccount.com
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
      sample: "bucket 'customer-images': restore failed: refused, because what is not Segments' changed since the backup: CORS entry for
        https://app.example.com removed; nothing was written. Look at those changes first; run again with force=true to overwrite them with
        the backup, or keep them and leave the bucket as it is"
    backup:
      description: The backup file the bucket was restored from.
      returned: success
      type: str
      sample: /var/backups/segments/20261123T101500Z/localhost/gcs/customer-images.json
    location:
      description: The bucket's location.
      returned: success
      type: str
      sample: EUROPE-WEST1
    restored:
      description: The parts written (or that would be, in check mode), among V(cors) and V(iam_policy).
      returned: success
      type: list
      elements: str
      sample: [cors, iam_policy]
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
        cors:
          description: The CORS entries, in order.
          type: list
          elements: dict
          sample: [{"origin": ["https://segments.ai", "https://*.segments.ai"], "method": ["GET"], "responseHeader": [], "maxAgeSeconds": 3600}]
        iam_policy:
          description: The IAM bindings, as C(bindings); null when the backup holds none.
          type: dict
          sample: {"bindings": [{"role": "roles/storage.objectViewer", "members": ["serviceAccount:segments-reader@example-project.iam.gserviceaccount.com"]}]}
    after:
      description:
        - The managed parts after the restore, as read back from Cloud Storage.
        - In check mode, or when nothing changed, what they would be.
      returned: success
      type: dict
      contains:
        cors:
          description: The CORS entries, in order.
          type: list
          elements: dict
          sample: []
        iam_policy:
          description: The IAM bindings, as C(bindings); null when the backup holds none.
          type: dict
          sample: {"bindings": []}
    warnings:
      description: Warnings about this bucket, such as the foreign changes O(force=true) overwrote; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
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
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import (
    GcsSetupError,
    gcp_argument_spec,
    gcs_client,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import entry_lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import LEGACY_ROLE, role_or_default
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    DEFAULT_ROLE,
    bindings_equal,
    remove_member,
    validate_member,
    validate_role,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import CorsPart, IamPolicyPart, read_iam_policy
from ansible_collections.segments.cloud.plugins.module_utils._gcs.names import validate_bucket_name
from ansible_collections.segments.cloud.plugins.module_utils._gcs.restore import (
    gcs_cors_differences,
    iam_differences,
    restored_iam_policy,
)


def backups_or_fail(module):
    """{bucket: (path, record)} of the backup files; fails the module before any call when a file or an option is unusable."""
    params = module.params
    backups, problems = backups_by_bucket(params["backup"], "gcs")
    for bucket, (path, _record) in backups.items():
        problems.append(validate_bucket_name(bucket) and "backup file %s: %s" % (path, validate_bucket_name(bucket)))
    # The member comes from the option, else from the backup (segments_backup stores the run's member and role).
    with_bindings = [
        path for path, record in backups.values() if record.get("iam_policy") is not None and not record.get("member")
    ]
    if with_bindings and not params["member"]:
        problems.append(
            "member is required because backups hold IAM bindings (%s): give the member Segments reads as, as given when the "
            "backup was taken, so that its grant is told from everyone else's." % ", ".join(with_bindings)
        )
    if params["member"]:
        public_refusal = (
            "member %r is not a member segments.cloud grants (it would make every object public); give the member "
            "Segments reads as, such as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com."
        )
        problems.append(validate_member(params["member"], public_refusal=public_refusal))
    for path, record in backups.values():
        if record.get("member") and not params["member"]:
            stored = validate_member(record["member"], public_refusal="member %r is public.")
            if stored:
                problems.append(
                    "backup file %s holds a member segments.cloud does not grant: %s Give the member with the member option."
                    % (path, stored)
                )
    problems.append(validate_role(params["role"]) if params["role"] is not None else None)
    problems.extend(option_problems(params))
    if any(problems):
        fail_on_options(module, problems, list(backups))
    return backups


def managed_parts(cors, iam_policy):
    """The managed parts for the results and the diff: the CORS entries, and of the IAM policy its bindings only (the etag
    changes on every write), null when the backup holds none."""
    return dict(cors=cors, iam_policy=None if iam_policy is None else dict(bindings=iam_policy.get("bindings") or []))


class RestoreRun:
    """One run of the module: the options, the backups, the client and the per-bucket restore."""

    def __init__(self, module, backups, client):
        self.params = module.params
        self.check_mode = module.check_mode
        self.force = module.params["force"]
        self.backups = backups
        self.client = client

    def grant(self, record):
        """(member, role) of Segments' grant on the bucket of record: the options when member is given, else the backup's."""
        if self.params["member"] or not record.get("member"):
            return self.params["member"], self.params["role"] or record.get("role") or self.default_role()
        return record["member"], record.get("role") or self.default_role()

    def default_role(self):
        """The role segments_gcs_access grants when none is given: the project's custom role (the legacy
        roles/storage.objectViewer when no project is known)."""
        role, _problem = role_or_default(None, self.params["project"] or getattr(self.client, "project", None))
        return role or DEFAULT_ROLE

    def cors_foreign_differences(self, record):
        """entries -> sentences saying how their foreign entries differ from the backup's."""
        return lambda entries: gcs_cors_differences(record.get("cors"), entries)

    def iam_foreign_differences(self, record):
        """policy -> sentences saying how its grants other than ours differ from the backup's. The member's
        unconditional roles/storage.objectViewer grant counts as ours too: narrowing moved it (segments_gcs_access)."""
        member, role = self.grant(record)

        def without_legacy_grant(policy):
            return remove_member(policy, LEGACY_ROLE, member)[0] if policy is not None else None

        return lambda policy: iam_differences(
            without_legacy_grant(record["iam_policy"]), without_legacy_grant(policy), role, member
        )

    def restore_cors(self, bucket_name, record, current):
        """Write the backup's CORS entries when they differ, guarded by the metageneration read; (after, changed)."""
        merge = guarded_restore(
            bucket_name,
            "CORS configuration",
            backup_value(record.get("cors") or []),
            self.cors_foreign_differences(record),
            entry_lists_equal,
            self.force,
        )
        outcome = converge(CorsPart(self.client, bucket_name, merge), self.check_mode, current=current)
        return outcome.after["cors"], outcome.changed

    def restore_iam(self, bucket_name, record, current):
        """Write the backup's bindings when they differ, with the etag read; (after, changed)."""
        merge = guarded_restore(
            bucket_name,
            "IAM policy",
            lambda policy: restored_iam_policy(policy, record["iam_policy"]),
            self.iam_foreign_differences(record),
            bindings_equal,
            self.force,
        )
        member, role = self.grant(record)
        part = IamPolicyPart(self.client, bucket_name, merge, role, member)
        outcome = converge(part, self.check_mode, current=current)
        return outcome.after, outcome.changed

    def process_bucket(self, bucket_name):
        path, record = self.backups[bucket_name]
        bucket_state = CorsPart(self.client, bucket_name, None).read()
        with_bindings = record.get("iam_policy") is not None
        current = dict(
            cors=bucket_state["cors"], iam_policy=read_iam_policy(self.client, bucket_name) if with_bindings else None
        )
        differences = self.cors_foreign_differences(record)(current["cors"])
        if with_bindings:
            differences += self.iam_foreign_differences(record)(current["iam_policy"])
        differences += place_difference(record.get("location"), bucket_state["location"], "location")
        if differences and not self.force:
            raise refusal(bucket_name, differences)
        warnings = forced_warnings(differences)

        restored = []
        cors_after, cors_changed = self.restore_cors(bucket_name, record, bucket_state)
        if cors_changed:
            restored.append("cors")
        iam_after = current["iam_policy"]
        if with_bindings:
            iam_after, iam_changed = self.restore_iam(bucket_name, record, current["iam_policy"])
            if iam_changed:
                restored.append("iam_policy")
        return dict(
            name=bucket_name,
            changed=bool(restored),
            backup=path,
            location=bucket_state["location"],
            restored=restored,
            differences=differences,
            before=managed_parts(current["cors"], current["iam_policy"]),
            after=managed_parts(cors_after, iam_after),
            warnings=warnings,
        )


def main():
    argument_spec = gcp_argument_spec()
    argument_spec.update(restore_argument_spec())
    argument_spec.update(
        member=dict(type="str"),
        role=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    backups = backups_or_fail(module)
    try:
        client = gcs_client(module.params, module.params["concurrency"])
    except GcsSetupError as error:
        fail_on_options(module, str(error), list(backups))
    run = RestoreRun(module, backups, client)
    results = run_per_bucket(list(backups), module.params["concurrency"], run.process_bucket)
    exit_with_fleet_result(module, results, diff_key=list(MANAGED_PARTS["gcs"]))


if __name__ == "__main__":
    main()
