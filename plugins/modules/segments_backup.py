#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_backup
short_description: Store the managed state of many buckets as JSON backups, one file per bucket
version_added: 0.1.0
description:
  - Writes what the segments.cloud modules manage on each bucket (bucket policy, CORS configuration, IAM policy,
    KMS key policy, Azure role assignment), as read by M(segments.cloud.segments_s3_info),
    M(segments.cloud.segments_gcs_info) or M(segments.cloud.segments_azure_info), to
    C(DEST/RUN_ID/HOST/PROVIDER/BUCKET.json) (for Azure, BUCKET is the storage account).
  - For Azure the record holds the Blob service CORS rules exactly as stored, the account's scope, and, when the
    audit ran with C(check_access), the Segments app's direct role assignment (null when there was none); an audit
    without C(check_access) leaves role assignments out, and M(segments.cloud.segments_azure_restore) then leaves them
    alone.
  - The onboarding role calls it between its audit and its first write, so the state before each run can be
    recovered; the C(segments.cloud.rollback) playbook restores from these files.
  - One call writes every file, so a fleet costs one task, not one task per bucket.
  - Buckets that do not exist, or whose audit failed, are skipped.
author:
  - Segments.ai (@segments-ai)
options:
  dest:
    description: The backup folder. It is created when missing.
    type: path
    required: true
  run_id:
    description: The name of this run's sub-folder, for example a UTC timestamp.
    type: str
    required: true
  host:
    description: The inventory host (cloud account or project) the buckets belong to.
    type: str
    required: true
  provider:
    description: The cloud the buckets are in.
    type: str
    required: true
    choices: [s3, gcs, azure]
  buckets:
    description:
      - The C(buckets) list returned by M(segments.cloud.segments_s3_info), M(segments.cloud.segments_gcs_info) or
        M(segments.cloud.segments_azure_info).
    type: list
    elements: dict
    required: true
  gcs_member:
    description:
      - For O(provider=gcs), the member the run grants (as given to M(segments.cloud.segments_gcs_access)). It is stored
        in each record, so that M(segments.cloud.segments_gcs_restore) can tell Segments' grant from the others without
        being told the member again.
    type: str
  gcs_role:
    description: For O(provider=gcs), the role the run grants to O(gcs_member); stored with it.
    type: str
  azure_app_id:
    description:
      - For O(provider=azure), the application ID whose service principal the run grants access to (as given to
        M(segments.cloud.segments_azure_access)), when it is not Segments' own app; stored in each record as C(app_id).
    type: str
  azure_role:
    description:
      - For O(provider=azure), the role the run assigns, when it is not Storage Blob Data Reader; stored as C(role).
    type: str
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode nothing is written and the paths that would be written are returned.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: partial
    details:
      - A file with the same content is not rewritten.
"""

EXAMPLES = r"""
- name: Audit the buckets
  segments.cloud.segments_s3_info:
    name: [images-prod, images-staging]
  register: audit

- name: Back up their managed state before onboarding
  segments.cloud.segments_backup:
    dest: /var/backups/segments
    run_id: "{{ now(utc=true, fmt='%Y%m%dT%H%M%SZ') }}"
    host: "{{ inventory_hostname }}"
    provider: s3
    buckets: "{{ audit.buckets }}"

- name: Back up GCS buckets, with the member and role the run grants
  segments.cloud.segments_backup:
    dest: /var/backups/segments
    run_id: "{{ run_id }}"
    host: "{{ inventory_hostname }}"
    provider: gcs
    buckets: "{{ gcs_audit.buckets }}"
    gcs_member: serviceAccount:segments-reader@example-project.iam.gserviceaccount.com
    gcs_role: roles/storage.objectViewer

- name: Audit Azure storage accounts, their role assignments included
  segments.cloud.segments_azure_info:
    name: [customerimages]
    resource_group: imaging
    check_access: true
  register: azure_audit

- name: Back them up
  segments.cloud.segments_backup:
    dest: /var/backups/segments
    run_id: "{{ run_id }}"
    host: "{{ inventory_hostname }}"
    provider: azure
    buckets: "{{ azure_audit.buckets }}"
"""

RETURN = r"""
files:
  description: The backup files written (or, in check mode, that would be written), one per bucket.
  returned: always
  type: list
  elements: str
  sample: ["/var/backups/segments/20261123T000000Z/localhost/s3/images-prod.json"]
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import DEFAULT_ROLE as DEFAULT_GCS_ROLE

# What each provider's info module reports that our modules manage; nothing else is stored.
MANAGED_KEYS = {
    "s3": ("region", "policy", "cors_rules", "encryption", "kms_key_policy"),
    "gcs": ("location", "cors", "iam_policy"),
    "azure": ("plane", "scope", "cors", "role_assignment", "inherited_role_assignments"),
}


def backup_record(host, provider, bucket_entry, grant=None):
    """The JSON document stored for one bucket: where it is and the managed parts, as the audit read them."""
    record = {"host": host, "provider": provider, "bucket": bucket_entry["name"]}
    for key in MANAGED_KEYS[provider]:
        if key in bucket_entry:
            record[key] = bucket_entry[key]
    # GCS: the member and role of the run's grant, which tell Segments' binding from the others on restore.
    record.update(grant or {})
    return record


def write_if_different(path, content):
    """Write content to path atomically unless it already holds it; True when written."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as existing:
            if existing.read() == content:
                return False
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary_path = tempfile.mkstemp(dir=directory, prefix=".segments-backup-")
    with os.fdopen(handle, "w", encoding="utf-8") as temporary:
        temporary.write(content)
    os.replace(temporary_path, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            run_id=dict(type="str", required=True),
            host=dict(type="str", required=True),
            provider=dict(type="str", required=True, choices=list(MANAGED_KEYS)),
            buckets=dict(type="list", elements="dict", required=True),
            gcs_member=dict(type="str"),
            gcs_role=dict(type="str"),
            azure_app_id=dict(type="str"),
            azure_role=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for part in (params["run_id"], params["host"]):
        if not part or "/" in part or part in (".", ".."):
            module.fail_json(msg="run_id and host must be plain names without '/': got %r" % part)
    folder = os.path.join(params["dest"], params["run_id"], params["host"], params["provider"])
    grant = {}
    if params["provider"] == "gcs" and params["gcs_member"]:
        grant = {"member": params["gcs_member"], "role": params["gcs_role"] or DEFAULT_GCS_ROLE}
    if params["provider"] == "azure":
        # Azure: the app and role of the run, when not Segments' defaults, which tell our assignment on restore.
        grant = {key: params["azure_" + key] for key in ("app_id", "role") if params["azure_" + key]}
    files = []
    changed = False
    for bucket_entry in params["buckets"]:
        if bucket_entry.get("failed") or not bucket_entry.get("exists", True) or "/" in bucket_entry.get("name", "/"):
            continue
        path = os.path.join(folder, bucket_entry["name"] + ".json")
        files.append(path)
        content = (
            json.dumps(backup_record(params["host"], params["provider"], bucket_entry, grant), indent=2, sort_keys=True)
            + "\n"
        )
        if module.check_mode:
            changed = changed or not os.path.exists(path)
            continue
        try:
            changed = write_if_different(path, content) or changed
        except OSError as error:
            module.fail_json(
                msg="could not write the backup of bucket '%s' to %s: %s. Check that segments_backup_dir is writable"
                % (bucket_entry["name"], path, error),
                files=files,
            )
    module.exit_json(changed=changed, files=files)


if __name__ == "__main__":
    main()
