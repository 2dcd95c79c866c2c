#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_gcs_role
short_description: Ensure the least-privilege custom role through which Segments.ai reads Google Cloud Storage objects
version_added: 0.1.0
description:
  - Segments.ai's setup page asks for a custom role in the project holding only C(storage.objects.get), granted to
    Segments' service account on each bucket. This module ensures that role, once per project; then
    M(segments.cloud.segments_gcs_access) binds the member to it on each bucket (its default role is this one).
  - The role is C(projects/PROJECT/roles/segmentsObjectReader) unless O(role_id) says otherwise. It is created with the
    title C(Segments.ai object reader) and a description that carries our marker, C(managed by segments.cloud).
  - It goes through the IAM API's C(projects.roles) C(get), C(create), C(patch) and C(undelete). A patch and an undelete
    carry the etag that was read; when another writer changed the role in between, it is read again and the decision
    made again.
  - A custom role deleted in the last days is soft-deleted, and its ID cannot be reused. Such a role is undeleted,
    then corrected if needed.
  - A role with this ID whose permissions differ is corrected only when its title or description carries our marker.
    Otherwise it is someone else's; the task fails and says why, and nothing is written.
  - A role with the right permissions is left as it is, whatever its title and description.
options:
  role_id:
    description:
      - The custom role's ID in the project; 3 to 64 letters, digits, C(_) and C(.).
    type: str
    default: segmentsObjectReader
  permissions:
    description:
      - The permissions the role holds. Segments.ai needs only C(storage.objects.get); C(roles/storage.objectViewer)
        would also let it list every object name.
      - Each must be a permission IAM knows and allows in custom roles; the IAM API refuses any other.
    type: list
    elements: str
    default: [storage.objects.get]
  iam_endpoint:
    description:
      - The IAM API endpoint. Unset means V(https://iam.googleapis.com).
      - Falls back to the E(SEGMENTS_GCP_IAM_ENDPOINT) environment variable. The collection's tests and C(make demo)
        point it at a fake of C(projects.roles) (C(tests/fakes/gcp_iam_roles.py)), because no local emulator exists.
    type: str
notes:
  - The caller needs C(iam.roles.get), C(iam.roles.create), C(iam.roles.update) and C(iam.roles.undelete) on the
    project, for example through C(roles/iam.roleAdmin). Without them the task names what is missing and the way out
    that needs none of them, creating the role by hand and passing it to M(segments.cloud.segments_gcs_access) as
    C(role).
  - The scope requested is C(https://www.googleapis.com/auth/cloud-platform), whatever O(scopes) says.
  - O(api_endpoint) is the Cloud Storage endpoint and plays no part here; it is accepted so that the
    C(group/segments.cloud.gcs) module defaults reach this module too.
  - The role is never deleted; offboarding removes the bindings, and the role, holding one read permission and bound
    to nothing, stays for the next onboarding.
seealso:
  - module: segments.cloud.segments_gcs_access
  - name: Creating and managing custom roles
    description: Custom roles, their IDs and their soft deletion.
    link: https://cloud.google.com/iam/docs/creating-custom-roles
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.gcp
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Ensure the Segments.ai custom role in the project
  segments.cloud.segments_gcs_role:
    project: customer-project
  register: segments_role

- name: Grant it to Segments' service account on the buckets
  segments.cloud.segments_gcs_access:
    name: [customer-images, customer-lidar]
    project: customer-project
    member: serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com
    role: "{{ segments_role.role }}"

- name: Preview what would be created or corrected
  segments.cloud.segments_gcs_role:
    project: customer-project
  check_mode: true
  diff: true
"""

RETURN = r"""
role:
  description: The role's resource name, the form a bucket binding takes.
  returned: always
  type: str
  sample: projects/customer-project/roles/segmentsObjectReader
msg:
  description: What was done, or what failed, naming the project, the call and what to do.
  returned: always
  type: str
  sample: "project 'customer-project': custom role projects/customer-project/roles/segmentsObjectReader created"
before:
  description: The role as read before any change (etag left out); null when it did not exist.
  returned: success
  type: dict
  sample: null
after:
  description: The role after the change as read back; in check mode, or when nothing changed, what it would be.
  returned: success
  type: dict
  sample:
    title: Segments.ai object reader
    description: >-
      Lets Segments.ai read the objects of the buckets it is granted on (storage.objects.get only);
      managed by segments.cloud.
    includedPermissions: [storage.objects.get]
    stage: GA
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import GcsSetupError, gcp_argument_spec
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import (
    SEGMENTS_PERMISSIONS,
    SEGMENTS_ROLE_ID,
    desired_role,
    role_name,
    validate_permissions,
    validate_project,
    validate_role_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam_roles_api import (
    CustomRolePart,
    RolesApi,
    iam_session,
)


def shown(role):
    """A role for the results and the diff: without the etag, which changes on every write and grants nothing."""
    if role is None:
        return None
    return {key: value for key, value in role.items() if key != "etag"}


def project_message(error: BucketError) -> str:
    """The one message of a failure here: the project, what failed, why and what to do."""
    text = "project '%s': %s failed: %s" % (error.bucket, error.action, error.problem)
    return text + (". " + error.remedy if error.remedy else "")


def main():
    argument_spec = gcp_argument_spec()
    argument_spec.update(
        role_id=dict(type="str", default=SEGMENTS_ROLE_ID),
        permissions=dict(type="list", elements="str", default=list(SEGMENTS_PERMISSIONS)),
        iam_endpoint=dict(type="str", fallback=(env_fallback, ["SEGMENTS_GCP_IAM_ENDPOINT"])),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    project, role_id = params["project"], params["role_id"]
    problems = [
        problem
        for problem in (
            validate_project(project),
            validate_role_id(role_id),
            validate_permissions(params["permissions"]),
        )
        if problem
    ]
    if problems:
        module.fail_json(msg=" ".join(problems), role=None)
    name = role_name(project, role_id)
    try:
        api = RolesApi(iam_session(params), project, params["iam_endpoint"])
    except GcsSetupError as error:
        module.fail_json(msg="project '%s': %s" % (project, error), role=name)
    part = CustomRolePart(api, role_id, desired_role(params["permissions"]))
    try:
        outcome = converge(part, module.check_mode)
    except BucketError as error:
        module.fail_json(msg=project_message(error), role=name)
    before, after = shown(outcome.before), shown(outcome.after)
    if not outcome.changed:
        done = "is in place"
    elif before is None:
        done = "created"
    elif before.get("deleted"):
        done = "undeleted"
    else:
        done = "updated"
    if outcome.changed and module.check_mode:
        done = "would be " + done
    result = dict(
        changed=outcome.changed,
        role=name,
        msg="project '%s': custom role %s %s" % (project, name, done),
        before=before,
        after=after,
    )
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
