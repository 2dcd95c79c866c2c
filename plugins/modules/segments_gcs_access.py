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
      - Unset means the least-privilege custom role Segments.ai's setup page asks for,
        C(projects/PROJECT/roles/segmentsObjectReader) in O(project), holding only C(storage.objects.get).
        M(segments.cloud.segments_gcs_role) creates it, once per project; the C(segments.cloud.onboard) role runs it
        before this module. O(project) must then be set.
      - V(roles/storage.objectViewer), the default before, still works; it also lets the member list every object name.
    type: str
  narrow:
    description:
      - Move O(member) from V(roles/storage.objectViewer), the role this collection granted by default before, to
        O(role), in one IAM policy write that adds O(member) to O(role) and takes it out of the unconditional
        V(roles/storage.objectViewer) bindings.
      - Only O(member) is taken out, and only of those bindings; their other members, conditional bindings and the
        member's other roles are kept exactly. Nothing else is ever removed.
      - This module cannot tell who made a grant, so it never narrows on its own. You say that the grant is the
        collection's by asking for it; the before-state backups of the C(segments.cloud.onboard) role keep the
        policy as it was, for M(segments.cloud.segments_gcs_restore).
      - A bucket where O(member) holds neither V(roles/storage.objectViewer) nor O(role) fails, naming the bucket,
        without a write; drop O(narrow) to grant O(role) there. Where O(member) already holds only O(role), nothing
        changes, so a second run is quiet.
      - Only with O(state=present), and O(role) other than V(roles/storage.objectViewer).
    type: bool
    default: false
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

    - name: The predefined role instead of the custom one (it also lets Segments list object names)
      segments.cloud.segments_gcs_access:
        name: [customer-images]
        member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
        role: roles/storage.objectViewer

    - name: Move Segments from roles/storage.objectViewer, granted by an earlier version, to the custom role
      segments.cloud.segments_gcs_access:
        name: [customer-images]
        member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
        narrow: true

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
                - {"role": "projects/customer-project/roles/segmentsObjectReader",
                   "members": ["serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"]}
    role:
      description: The role granted (or removed), with the default filled in.
      returned: success
      type: str
      sample: projects/customer-project/roles/segmentsObjectReader
    narrowed:
      description: Whether O(member) was taken out of V(roles/storage.objectViewer) (or would be, in check mode).
      returned: success
      type: bool
      sample: false
    warnings:
      description: Warnings about this bucket, such as uniform bucket-level access being off; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import NOT_READ, converge, known_state
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import gcp_argument_spec
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import (
    LEGACY_ROLE,
    holds_legacy_grant,
    narrow_grant,
    role_or_default,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import (
    add_member,
    has_member,
    remove_member,
    validate_member,
    validate_role,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import (
    FINE_GRAINED_ACCESS_WARNING,
    IamPolicyPart,
    bucket_facts,
    gcs_client_for_module,
    known_iam_state,
    read_bucket,
)


def default_role(module):
    """The role option with its default filled in: the custom role of the project, which must then be set."""
    role, problem = role_or_default(module.params["role"], module.params["project"])
    if problem:
        fail_on_options(module, problem)
    return role


def fail_on_bad_narrowing(module, role):
    """Fail before any call when narrow is asked where it means nothing: to remove, or onto the legacy role itself."""
    if not module.params["narrow"]:
        return
    if module.params["state"] != "present":
        fail_on_options(module, "narrow moves a grant to role; it works with state=present only.")
    if role == LEGACY_ROLE:
        fail_on_options(
            module,
            "narrow moves member from %s to role, so role must be another role, such as the default custom role "
            "(leave role unset)." % LEGACY_ROLE,
        )


def no_earlier_grant(bucket_name, member, role):
    """The failure of a narrowing on a bucket where member holds neither the legacy role nor role."""
    return BucketError(
        bucket_name,
        "narrow the grant",
        "%s holds no unconditional %s binding here to narrow, nor %s" % (member, LEGACY_ROLE, role),
        "Run without narrow to grant %s on this bucket" % role,
    )


def fail_on_invalid_member_or_role(module):
    """Fail the module before any call when member or role is malformed, or member is a public principal."""
    public_refusal = (
        "member %r would make every object in the bucket public; this module grants read access to one "
        "principal, such as Segments' service account serviceAccount:NAME@PROJECT.iam.gserviceaccount.com."
    )
    role = module.params["role"]
    problem = validate_member(module.params["member"], public_refusal=public_refusal) or (
        validate_role(role) if role is not None else None
    )
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
        role=dict(type="str"),
        narrow=dict(type="bool", default=False),
        bucket_states=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    fail_on_invalid_member_or_role(module)
    role = default_role(module)
    fail_on_bad_narrowing(module, role)
    client = gcs_client_for_module(module)
    member = module.params["member"]
    narrow = module.params["narrow"]
    bucket_states = module.params["bucket_states"] or {}

    def merge_for(bucket_name):
        def merge(policy):
            if module.params["state"] == "absent":
                return remove_member(policy, role, member)
            if not narrow:
                return add_member(policy, role, member)
            if not holds_legacy_grant(policy, member) and not has_member(policy, role, member):
                raise no_earlier_grant(bucket_name, member, role)
            return narrow_grant(policy, role, member)

        return merge

    def process_bucket(bucket_name):
        known_facts = known_state(bucket_states, bucket_name, "uniform_bucket_level_access", null_is_state=False)
        if known_facts is NOT_READ:
            facts = bucket_facts(read_bucket(client, bucket_name))
        else:
            facts = dict(location=bucket_states[bucket_name].get("location"), uniform_bucket_level_access=known_facts)
        warnings = [] if facts["uniform_bucket_level_access"] else [FINE_GRAINED_ACCESS_WARNING]
        # The caller's read (bucket_states) stands for the first read: the engine reads again only before a write.
        current_policy = known_iam_state(bucket_states, bucket_name)
        part = IamPolicyPart(client, bucket_name, merge_for(bucket_name), role, member)
        policy = converge(part, module.check_mode, current=current_policy)
        before = policy.merged_into
        return dict(
            name=bucket_name,
            changed=policy.changed,
            role=role,
            narrowed=narrow and holds_legacy_grant(before, member) and not holds_legacy_grant(policy.after, member),
            location=facts["location"],
            before=bindings_of(policy.merged_into),
            after=bindings_of(policy.after),
            warnings=warnings,
        )

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_bucket)
    exit_with_fleet_result(module, results, diff_key="iam_policy")


if __name__ == "__main__":
    main()
