#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_gcs_access
short_description: Grant Segments.ai's service account read access to Google Cloud Storage buckets
version_added: 0.1.0
description:
  - Segments.ai reads the objects of a Google Cloud Storage bucket through a service account that it gives each customer.
    This module adds that member to the bucket's IAM policy with a read role, or removes it again.
  - The change is additive, like Terraform's C(google_storage_bucket_iam_member), and unlike a whole-policy update it never
    takes anything away from anyone else. The google.cloud collection has no bucket IAM member module.
  - The policy is read with C(requested_policy_version=3), so conditional bindings are seen. The member is added to the first
    unconditional binding for O(role), or a new binding is created for it. Every other binding, every other member and every
    conditional binding is kept exactly.
  - The policy is written back with the etag that was read. If another writer changed the policy in between, the policy is read again,
    the member is merged again into what is there now, and the write is retried, up to five attempts with a growing pause.
  - After a write the policy is read back and compared with what was written; a difference fails that bucket.
  - When the bucket does not use uniform bucket-level access, the module warns, without failing, that object ACLs also decide access.
options:
  state:
    description:
      - V(present) makes O(member) hold O(role) through an unconditional binding.
      - V(absent) removes O(member) from the unconditional bindings for O(role) only, and drops such a binding if it is left empty.
        The member keeps any other role and any conditional binding.
    type: str
    choices: [present, absent]
    default: present
  member:
    description:
      - The principal to grant, in IAM member form. Segments gives you a service account, so this is normally
        V(serviceAccount:NAME@PROJECT.iam.gserviceaccount.com).
      - C(user:EMAIL), C(group:EMAIL), C(domain:DOMAIN), C(principal://...) and C(principalSet://...) are accepted too.
        V(allUsers) and V(allAuthenticatedUsers) are refused, because they would make every object public.
      - A malformed member fails the task before any call.
    type: str
    required: true
  role:
    description:
      - The role to grant, a predefined role C(roles/NAME) or a custom role C(projects/PROJECT/roles/NAME) or
        C(organizations/ORGANIZATION_ID/roles/NAME).
      - The default role C(roles/storage.objectViewer) also lets the member list the bucket; the least privilege Segments needs is a
        custom role holding only C(storage.objects.get), for example C(projects/PROJECT/roles/segmentsObjectReader), passed as O(role).
    type: str
    default: roles/storage.objectViewer
notes:
  - The caller needs C(storage.buckets.get), C(storage.buckets.getIamPolicy) and C(storage.buckets.setIamPolicy) on each bucket,
    for example through C(roles/storage.admin).
  - Throttled requests (HTTP 429 and 503) are retried by google-cloud-storage with exponential backoff; a bucket that is still throttled
    afterwards fails with a message saying so.
  - Member type prefixes are compared without regard to case (C(serviceAccount:) and C(serviceaccount:) are the same), the rest exactly.
  - In the results, the members of each binding are listed in sorted order, because google-cloud-storage hands them over as sets.
seealso:
  - module: segments.cloud.segments_gcs_cors
  - module: segments.cloud.segments_gcs_info
  - name: IAM roles for Cloud Storage
    description: The predefined roles and the permissions they hold.
    link: https://cloud.google.com/storage/docs/access-control/iam-roles
  - name: Uniform bucket-level access
    description: Why IAM alone should decide who can read the objects.
    link: https://cloud.google.com/storage/docs/uniform-bucket-level-access
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.bucket_states
  - segments.cloud.gcp
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Let Segments.ai's service account read the objects of one bucket
  segments.cloud.segments_gcs_access:
    name: customer-images
    project: customer-project
    member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com

- name: The same for a whole fleet, with credentials set once for the play
  module_defaults:
    group/segments.cloud.gcs:
      project: customer-project
      auth_kind: serviceaccount
      service_account_file: /etc/gcp/onboarding.json
  block:
    - name: Grant read access on every bucket, eight at a time
      segments.cloud.segments_gcs_access:
        buckets:
          - customer-images
          - customer-lidar
          - customer-video
        member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
        concurrency: 8

    - name: Least privilege, with a custom role that holds only storage.objects.get
      segments.cloud.segments_gcs_access:
        name: [customer-images]
        member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
        role: projects/customer-project/roles/segmentsObjectReader

- name: Preview the change without writing anything
  segments.cloud.segments_gcs_access:
    name: customer-images
    member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
  check_mode: true
  diff: true

- name: Take the access away again, leaving every other binding alone
  segments.cloud.segments_gcs_access:
    name: customer-images
    member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
    state: absent
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
      description: Whether the bucket's IAM policy was changed (or would be, in check mode).
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
      sample: "bucket 'customer-images': set IAM policy failed: permission denied (403). Grant the caller storage.buckets.setIamPolicy on this bucket"
    location:
      description: The bucket's location.
      returned: success
      type: str
      sample: EUROPE-WEST1
    before:
      description: The bucket's IAM policy as read before any change.
      returned: success
      type: dict
      contains:
        iam_policy:
          description: The policy's bindings.
          type: dict
          contains:
            bindings:
              description:
                - The bindings in the order Cloud Storage returned them; each has C(role), C(members) and, when conditional, C(condition).
              type: list
              elements: dict
              sample: [{"role": "roles/storage.admin", "members": ["group:ops@customer.example"]}]
    after:
      description:
        - The bucket's IAM policy after the change, as read back from Cloud Storage.
        - In check mode, or when nothing changed, what it would be.
      returned: success
      type: dict
      contains:
        iam_policy:
          description: The policy's bindings.
          type: dict
          contains:
            bindings:
              description: The bindings; each has C(role), C(members) and, when conditional, C(condition).
              type: list
              elements: dict
              sample:
                - {"role": "roles/storage.admin", "members": ["group:ops@customer.example"]}
                - {"role": "roles/storage.objectViewer", "members": ["serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"]}
    warnings:
      description: Warnings about this bucket, such as uniform bucket-level access being off; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import NOT_READ, converge, known_state
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import gcp_argument_spec
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    DEFAULT_ROLE,
    PUBLIC_MEMBERS,
    add_member,
    remove_member,
    validate_member,
    validate_role,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import (
    FINE_GRAINED_ACCESS_WARNING,
    bucket_facts,
    IamPolicyPart,
    gcs_client_for_module,
    known_iam_state,
    read_bucket,
)


def fail_on_invalid_member_or_role(module):
    """Fail the module before any call when member or role is malformed, or member is a public principal."""
    member = module.params["member"]
    if member in PUBLIC_MEMBERS:
        fail_on_options(
            module,
            "member %r would make every object in the bucket public; this module grants read access to one "
            "principal, such as Segments' service account serviceAccount:NAME@PROJECT.iam.gserviceaccount.com."
            % member,
        )
    problem = validate_member(member) or validate_role(module.params["role"])
    if problem:
        fail_on_options(module, problem)


def bindings_of(policy):
    """The managed part of a policy for the results and the diff: its bindings only (the etag changes on every write)."""
    return dict(iam_policy=dict(bindings=policy.get("bindings") or []))


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(gcp_argument_spec())
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        member=dict(type="str", required=True),
        role=dict(type="str", default=DEFAULT_ROLE),
        bucket_states=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    fail_on_invalid_member_or_role(module)
    client = gcs_client_for_module(module)
    member = module.params["member"]
    role = module.params["role"]
    bucket_states = module.params["bucket_states"] or {}

    def merge(policy):
        if module.params["state"] == "present":
            return add_member(policy, role, member)
        return remove_member(policy, role, member)

    def process_bucket(bucket_name):
        known_facts = known_state(bucket_states, bucket_name, "uniform_bucket_level_access", null_is_state=False)
        if known_facts is NOT_READ:
            facts = bucket_facts(read_bucket(client, bucket_name))
        else:
            facts = dict(location=bucket_states[bucket_name].get("location"), uniform_bucket_level_access=known_facts)
        warnings = [] if facts["uniform_bucket_level_access"] else [FINE_GRAINED_ACCESS_WARNING]
        # The caller's read (bucket_states) stands for the first read: the engine reads again only before a write.
        current_policy = known_iam_state(bucket_states, bucket_name)
        part = IamPolicyPart(client, bucket_name, merge, role, member)
        policy = converge(part, module.check_mode, current=current_policy)
        return dict(
            name=bucket_name,
            changed=policy.changed,
            location=facts["location"],
            before=bindings_of(policy.merged_into),
            after=bindings_of(policy.after),
            warnings=warnings,
        )

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_bucket)
    exit_with_fleet_result(module, results, diff_key="iam_policy")


if __name__ == "__main__":
    main()
