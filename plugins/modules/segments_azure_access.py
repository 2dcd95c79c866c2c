#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_azure_access
short_description: Give the Segments.ai app read access to Azure storage accounts
version_added: 0.1.0
description:
  - Ensures that the Segments.ai multi-tenant app, "Segments.ai Blob Link Service", has a service principal in the
    caller's Microsoft Entra tenant (looked up by application ID; created only with O(create_service_principal)), and
    that this service principal holds the Storage Blob Data Reader role on each storage account, or on one container of
    it.
  - The role assignment's name is a UUID derived from the scope, the role and the principal, so every run asks for the
    same one. A C(RoleAssignmentExists) answer (HTTP 409) is recognised by its error code, not its message, and reported
    as in place. A C(RoleAssignmentUpdateNotPermitted) answer (HTTP 400, the name is taken by another principal, role or
    scope) fails the account.
  - O(state=absent) removes only assignments of that role to that principal at exactly that scope. Another principal's
    assignment is never removed, and neither is one at a parent scope (resource group, subscription); that one is
    reported in C(inherited_assignments).
  - Returns the tenant ID, which the customer sends to Segments.ai.
  - Role assignments live in Azure Resource Manager, so every account needs O(subscription_id) and a resource group,
    whatever data-plane credentials are given. New assignments can take a few minutes to take effect.
options:
  state:
    description:
      - V(present) makes sure the assignment exists; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  app_id:
    description:
      - The application (client) ID of the app to grant access to.
    type: str
    default: d47021c7-05d1-44c3-a594-93c2c30c68fc
  create_service_principal:
    description:
      - Create the app's service principal in the tenant when it is not there (Microsoft Graph C(POST
        /v1.0/servicePrincipals), what C(az ad sp create --id APP_ID) does). Without it, a missing service principal
        fails the task with what to run.
    type: bool
    default: false
  role:
    description:
      - The role definition to assign, as a GUID or a full role definition ID.
    type: str
    default: 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1
  containers:
    description:
      - For least privilege, a container per account (a dict from account name to container name); the role is then
        assigned on that container only, instead of on the whole account.
    type: dict
    default: {}
notes:
  - "The caller needs C(Microsoft.Authorization/roleAssignments/read), C(write) and C(delete) on each scope (for example
    the Role Based Access Control Administrator role, limited to this role), and the Microsoft Graph permission
    C(Application.Read.All) (C(Application.ReadWrite.All) to create the service principal)."
  - The role assignment calls are tested against a fake of ARM and Microsoft Graph in C(tests/fakes/azure_arm.py); there
    is no local emulator.
seealso:
  - module: segments.cloud.segments_azure_cors
  - module: segments.cloud.segments_azure_info
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.azure.accounts
  - segments.cloud.azure
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Give Segments.ai read access to two accounts, creating its service principal when needed
  segments.cloud.segments_azure_access:
    name: [customerimages, customerlidar]
    resource_group: imaging
    create_service_principal: true
  register: access

- name: Tell the customer what to send Segments.ai
  ansible.builtin.debug:
    msg: "Send Segments.ai your tenant ID: {{ access.buckets[0].tenant_id }}"

- name: Least privilege, one container only
  segments.cloud.segments_azure_access:
    name: customerimages
    resource_group: imaging
    containers:
      customerimages: labelling

- name: Take the access away again (an inherited assignment is reported, not removed)
  segments.cloud.segments_azure_access:
    name: customerimages
    resource_group: imaging
    state: absent
"""

RETURN = r"""
msg:
  description: A summary, or when any account failed, each failed account and why.
  returned: always
  type: str
buckets:
  description: One result per distinct storage account, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The storage account name.
      returned: always
      type: str
    changed:
      description: Whether an assignment (or the service principal) was created or removed, or would be in check mode.
      returned: always
      type: bool
    failed:
      description: Whether this account failed.
      returned: always
      type: bool
    msg:
      description: What failed on this account, naming the account, the call and what to do about it.
      returned: when failed
      type: str
    scope:
      description: The scope of the assignment, the account's or the container's resource ID.
      returned: success
      type: str
    tenant_id:
      description: The Microsoft Entra tenant ID to send to Segments.ai.
      returned: success
      type: str
    principal_id:
      description: The object ID of the Segments app's service principal in this tenant (null in check mode before it
        exists).
      returned: success
      type: str
    service_principal_created:
      description: Whether this run created the service principal (or would, in check mode).
      returned: success
      type: bool
    before:
      description: The assignments of our role to our principal at exactly this scope, before the run.
      returned: success
      type: dict
      contains:
        role_assignments:
          description: Name, scope, role definition ID and principal ID of each.
          type: list
          elements: dict
    after:
      description: The same, after the run (as read back; in check mode, as it would be).
      returned: success
      type: dict
      contains:
        role_assignments:
          description: Name, scope, role definition ID and principal ID of each.
          type: list
          elements: dict
    inherited_assignments:
      description: Assignments of the role to the principal at a parent scope; they are never removed.
      returned: success
      type: list
      elements: dict
    warnings:
      description: Warnings about this account; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._azure.access import (
    RoleAssignmentPart,
    ServicePrincipal,
    tenant_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    azure_module_argument_spec,
    clients_for_module,
    segments_role_argument_spec,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    account_scope,
    container_name_problem,
    container_scope,
    guid_problem,
    role_definition_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.roles import assignment_summary
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    run_per_bucket,
)


def option_problems(params) -> list:
    """Sentences about the access options, found before any call."""
    problems = [guid_problem("app_id", params["app_id"])]
    role = params["role"] or ""
    problems.append(guid_problem("role", role.rstrip("/").rsplit("/", 1)[-1]))
    for account, container in (params["containers"] or {}).items():
        problem = container_name_problem(container)
        problems.append("containers[%s]: %s" % (account, problem) if problem else None)
    if not params.get("subscription_id"):
        problems.append(
            "role assignments live in Azure Resource Manager: set subscription_id (or AZURE_SUBSCRIPTION_ID)."
        )
    return [problem for problem in problems if problem]


def run(module, clients):
    """Process every account; returns the per-account results (split from main so that tests can drive it)."""
    params = module.params
    subscription_id = params["subscription_id"]
    role = params["role"]
    role_definition = role if role.startswith("/") else role_definition_id(subscription_id, role)
    principal = ServicePrincipal(
        clients,
        params["app_id"],
        params["create_service_principal"],
        module.check_mode,
        missing_ok=params["state"] == "absent",
    )
    tenant_cache = {}

    def process_account(account):
        resource_group = clients.resource_group(account)
        container = (params["containers"] or {}).get(account)
        if container:
            scope = container_scope(subscription_id, resource_group, account, container)
        else:
            scope = account_scope(subscription_id, resource_group, account)
        principal_id = principal.resolve(account)
        part = RoleAssignmentPart(clients, account, scope, role_definition, principal_id, params["state"])
        outcome = converge(part, module.check_mode)
        if "tenant" not in tenant_cache:
            tenant_cache["tenant"] = tenant_id(clients, account)
        inherited = part.inherited(outcome.after)
        warnings = []
        if inherited and params["state"] == "absent":
            warnings.append(
                "the role is also assigned to the Segments app at a parent scope (%s), "
                "which this module never removes; remove it there if Segments must lose access"
                % ", ".join(item["properties"]["scope"] for item in inherited)
            )
        return dict(
            name=account,
            changed=outcome.changed or (principal.created and params["state"] == "present"),
            scope=scope,
            tenant_id=tenant_cache["tenant"],
            principal_id=principal_id,
            service_principal_created=principal.created,
            before=dict(role_assignments=[assignment_summary(item) for item in part.direct(outcome.before)]),
            after=dict(role_assignments=[assignment_summary(item) for item in part.direct(outcome.after)]),
            inherited_assignments=[assignment_summary(item) for item in inherited],
            warnings=warnings,
        )

    return run_per_bucket(params["name"], params["concurrency"], process_account)


def argument_spec():
    spec = azure_module_argument_spec()
    spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        create_service_principal=dict(type="bool", default=False),
    )
    spec.update(segments_role_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    problems = option_problems(module.params)
    if problems:
        fail_on_options(module, problems, noun=AccountError.noun)
    # Every account is reached through ARM here, whatever data-plane credentials were given for CORS.
    clients = clients_for_module(module, require_management=True)
    results = run(module, clients)
    exit_with_fleet_result(module, results, diff_key="role_assignments", noun=AccountError.noun)


if __name__ == "__main__":
    main()
