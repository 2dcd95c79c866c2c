#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_gcs_info
short_description: Check whether Google Cloud Storage buckets are ready for Segments.ai
version_added: 0.1.0
description:
  - A read-only readiness audit of Google Cloud Storage buckets for Segments.ai. It never writes anything.
  - For each bucket it reports whether the bucket exists and where; whether the Segments CORS entry is present
    (see M(segments.cloud.segments_gcs_cors) for which entries count as Segments'); whether O(member) holds O(role);
    uniform bucket-level access, requester pays and public access prevention, for information; and the URL form Segments
    needs for the objects.
  - Each bucket gets C(ready) and a list of C(problems), each a sentence with its remedy.
  - It also returns the parts the other GCS modules manage, C(cors) and (when O(member) is given) C(iam_policy), in the same form as
    their C(before) and C(after), so that M(segments.cloud.segments_backup) can keep them.
  - A bucket that does not exist is reported with C(exists=false) and a problem; it does not fail the task.
    Any other error on a bucket, such as missing permissions, fails that bucket.
options:
  member:
    description:
      - The principal Segments reads with, normally V(serviceAccount:NAME@PROJECT.iam.gserviceaccount.com).
      - When given, the IAM policy is read and the bucket is only ready if an unconditional binding for O(role) lists this member.
        Conditional bindings do not count, because a condition may exclude Segments' requests.
      - When omitted, access is not checked and C(member_has_role) is null.
    type: str
  role:
    description:
      - The role O(member) should hold, as given to M(segments.cloud.segments_gcs_access).
      - Unset means the same default as there, the custom role C(projects/PROJECT/roles/segmentsObjectReader) in
        O(project), which must then be set when O(member) is given.
    type: str
notes:
  - The caller needs C(storage.buckets.get) on each bucket, and C(storage.buckets.getIamPolicy) too when O(member) is given;
    C(roles/storage.legacyBucketReader) does not include the latter, C(roles/storage.admin) has both.
  - With requester pays on, requests that name no billing project are refused, so the module warns about it.
  - With O(member) given and uniform bucket-level access off, the module warns that object ACLs also decide access.
  - With O(member) given, the module warns when the member holds any role on the bucket besides O(role), such as
    V(roles/storage.objectViewer), which also lets it list every object name; it holds more than Segments needs.
    M(segments.cloud.segments_gcs_access) with C(narrow) moves it from V(roles/storage.objectViewer) to O(role).
seealso:
  - module: segments.cloud.segments_gcs_cors
  - module: segments.cloud.segments_gcs_access
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.gcp
  - segments.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Is one bucket ready for Segments.ai?
  segments.cloud.segments_gcs_info:
    name: customer-images
    project: customer-project
    member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
  register: readiness

- name: Audit a whole fleet, with credentials set once for the play
  module_defaults:
    group/segments.cloud.gcs:
      project: customer-project
      auth_kind: serviceaccount
      service_account_file: /etc/gcp/onboarding.json
  block:
    - name: Read every bucket, sixteen at a time
      segments.cloud.segments_gcs_info:
        buckets:
          - customer-images
          - customer-lidar
          - customer-video
        member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
      register: fleet_readiness

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
      sample: "bucket 'customer-images': read IAM policy failed: permission denied (403). Grant the caller storage.buckets.getIamPolicy on this bucket"
    exists:
      description: Whether the bucket exists.
      returned: success
      type: bool
      sample: true
    location:
      description: The bucket's location; null when it does not exist.
      returned: success
      type: str
      sample: EUROPE-WEST1
    cors:
      description:
        - The bucket's CORS entries, in order, as Cloud Storage returned them (the part M(segments.cloud.segments_gcs_cors) manages);
          null when the bucket does not exist.
      returned: success
      type: list
      elements: dict
      sample: [{"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}]
    cors_entry_present:
      description: Whether the bucket's CORS configuration holds a Segments entry.
      returned: success
      type: bool
      sample: true
    cors_entry:
      description: The first Segments CORS entry, or null when there is none.
      returned: success
      type: dict
      sample: {"origin": ["https://segments.ai", "https://*.segments.ai"], "method": ["GET"], "maxAgeSeconds": 3600}
    iam_policy:
      description:
        - The bucket's IAM policy (the part M(segments.cloud.segments_gcs_access) manages), read only when O(member) is given;
          null otherwise or when the bucket does not exist.
      returned: success
      type: dict
      contains:
        bindings:
          description: The bindings in the order Cloud Storage returned them, members sorted; each has C(role), C(members) and,
            when conditional, C(condition).
          type: list
          elements: dict
          sample: [{"role": "roles/storage.objectViewer", "members": ["serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"]}]
    member:
      description: The member checked, or null when O(member) was not given.
      returned: success
      type: str
      sample: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
    role:
      description: The role checked.
      returned: success
      type: str
      sample: roles/storage.objectViewer
    member_extra_roles:
      description:
        - The roles O(member) holds on the bucket besides O(role), conditional bindings included; each is more than
          Segments needs and gets a warning. Null when O(member) was not given or the bucket does not exist.
      returned: success
      type: list
      elements: str
      sample: [roles/storage.objectViewer]
    member_has_role:
      description: Whether an unconditional binding for O(role) lists O(member); null when O(member) was not given or the bucket does not exist.
      returned: success
      type: bool
      sample: true
    uniform_bucket_level_access:
      description: Whether uniform bucket-level access is on, so that IAM alone decides access; null when the bucket does not exist.
      returned: success
      type: bool
      sample: true
    requester_pays:
      description: Whether requester pays is on; null when the bucket does not exist.
      returned: success
      type: bool
      sample: false
    public_access_prevention:
      description: The public access prevention setting, V(enforced) or V(inherited); null when the bucket does not exist.
      returned: success
      type: str
      sample: enforced
    url_prefix:
      description:
        - The URL prefix Segments needs for objects in this bucket; an object's URL is this prefix followed by the object name,
          C(https://storage.googleapis.com/BUCKET/OBJECT).
      returned: success
      type: str
      sample: https://storage.googleapis.com/customer-images/
    ready:
      description: Whether nothing in C(problems) stands in the way of Segments reading the bucket.
      returned: success
      type: bool
      sample: false
    problems:
      description: What stands in the way, each a sentence with its remedy; empty when ready.
      returned: success
      type: list
      elements: str
      sample:
        - There is no Segments CORS entry, so the Segments web app cannot load objects in the browser; run segments.cloud.segments_gcs_cors on this bucket.
    warnings:
      description: Warnings about this bucket that do not affect C(ready); they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import gcp_argument_spec
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import is_ours
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import (
    LEGACY_ROLE,
    role_or_default,
    roles_beyond,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    has_member,
    validate_member,
    validate_role,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import (
    FINE_GRAINED_ACCESS_WARNING,
    bucket_facts,
    gcs_client_for_module,
    read_bucket,
    read_iam_policy,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.urls import gcs_object_url

REQUESTER_PAYS_WARNING = (
    "requester pays is on, so Cloud Storage refuses requests that name no billing project; "
    "ask Segments.ai support whether your setup can bill their reads, or turn requester pays off"
)


def cors_problems(our_entries):
    """Sentences, with remedies, for what is wrong with the bucket's Segments CORS entries (none when one allows GET)."""
    if not our_entries:
        return [
            "There is no Segments CORS entry, so the Segments web app cannot load objects in the browser; "
            "run segments.cloud.segments_gcs_cors on this bucket."
        ]
    if not any("GET" in [str(method).upper() for method in entry.get("method") or []] for entry in our_entries):
        return [
            "The Segments CORS entry does not allow GET, so the Segments web app cannot load objects; "
            "run segments.cloud.segments_gcs_cors on this bucket with methods including GET."
        ]
    return []


def more_than_needed_warning(member, role, extra_roles):
    """The warning for a member that holds roles beyond the one Segments needs, with the way to narrow it."""
    remedy = (
        "run segments.cloud.segments_gcs_access with narrow: true to move it to %s" % role
        if LEGACY_ROLE in extra_roles
        else "remove those bindings if nothing else needs them"
    )
    return "%s holds %s besides %s, more than Segments needs (storage.objects.get only); %s" % (
        member,
        ", ".join(extra_roles),
        role,
        remedy,
    )


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(gcp_argument_spec())
    argument_spec.update(
        member=dict(type="str"),
        role=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    member = module.params["member"]
    role = module.params["role"]
    problem = (validate_member(member, allow_public=True) if member is not None else None) or (
        validate_role(role) if role is not None else None
    )
    if not problem and member is not None:
        role, problem = role_or_default(role, module.params["project"])
    if problem:
        fail_on_options(module, problem)
    client = gcs_client_for_module(module)

    def process_bucket(bucket_name):
        audit = dict(
            name=bucket_name,
            changed=False,
            exists=False,
            location=None,
            cors=None,
            cors_entry_present=False,
            cors_entry=None,
            iam_policy=None,
            member=member,
            role=role,
            member_has_role=None,
            member_extra_roles=None,
            uniform_bucket_level_access=None,
            requester_pays=None,
            public_access_prevention=None,
            url_prefix=gcs_object_url(bucket_name),
            problems=[],
            warnings=[],
        )
        bucket = read_bucket(client, bucket_name, missing_ok=True)
        if bucket is None:
            audit["problems"].append("The bucket does not exist; check the name and the project, or create the bucket.")
            audit["ready"] = False
            return audit
        audit.update(bucket_facts(bucket), exists=True, cors=bucket.cors)
        our_entries = [entry for entry in audit["cors"] if is_ours(entry)]
        audit.update(cors_entry_present=bool(our_entries), cors_entry=our_entries[0] if our_entries else None)
        audit["problems"].extend(cors_problems(our_entries))
        if member is not None:
            policy = read_iam_policy(client, bucket_name)
            # The same managed part segments_gcs_access reports, so that a backup of this audit can be compared with it.
            audit["iam_policy"] = dict(bindings=policy["bindings"])
            audit["member_has_role"] = has_member(policy, role, member)
            audit["member_extra_roles"] = roles_beyond(policy, role, member)
            if audit["member_extra_roles"]:
                audit["warnings"].append(more_than_needed_warning(member, role, audit["member_extra_roles"]))
            if not audit["member_has_role"]:
                audit["problems"].append(
                    "%s does not hold %s on this bucket, so Segments cannot read its objects; "
                    "run segments.cloud.segments_gcs_access on this bucket with this member and role." % (member, role)
                )
            if not audit["uniform_bucket_level_access"]:
                audit["warnings"].append(FINE_GRAINED_ACCESS_WARNING)
        if audit["requester_pays"]:
            audit["warnings"].append(REQUESTER_PAYS_WARNING)
        audit["ready"] = not audit["problems"]
        return audit

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_bucket)
    exit_with_fleet_result(module, results)


if __name__ == "__main__":
    main()
