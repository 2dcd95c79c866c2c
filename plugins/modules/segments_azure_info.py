#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_azure_info
short_description: Check whether Azure storage accounts are ready for Segments.ai
version_added: 0.1.0
description:
  - A read-only audit of each storage account, the Azure counterpart of M(segments.cloud.segments_gcs_info).
  - For each account it reports whether the account exists and the caller can see it; its kind and SKU; the Blob
    service CORS rules and which of them is Segments'; what would stop Segments reading its blobs (network rules that
    deny by default, C(publicNetworkAccess=Disabled), an account kind without a Blob service); and the URL prefix
    Segments reads from.
  - Network settings are read through Azure Resource Manager only; on the data plane (a connection string or account
    key) they are reported as V(null) and not checked.
  - Each account gets C(ready) and a list of C(problems), each a sentence with its remedy.
  - An account that does not exist is reported with C(exists=false) and a problem; it does not fail the task.
  - With O(check_access), the role assignment of the Segments app's service principal is checked too, direct (on the
    account or the container in O(containers)) or inherited from a parent scope; this needs Azure Resource Manager and
    Microsoft Graph (C(Application.Read.All)) for every account.
options:
  check_access:
    description:
      - Also check that the Segments app's service principal holds O(role) on each account (or its container).
    type: bool
    default: false
  app_id:
    description:
      - The application (client) ID of the Segments app, for O(check_access).
    type: str
    default: d47021c7-05d1-44c3-a594-93c2c30c68fc
  role:
    description:
      - The role definition to look for, as a GUID or a full role definition ID, for O(check_access).
    type: str
    default: 2a2b9908-6ea1-4ae2-8e65-a410df84e7d1
  containers:
    description:
      - The container per account whose scope the assignment may be on (a dict from account name to container name).
    type: dict
    default: {}
  origins:
    description:
      - The origins the Segments rule is expected to allow, to report whether the rule found is the one O(origins)
        describes.
    type: list
    elements: str
    default: ["https://app.segments.ai"]
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.azure.accounts
  - segments.cloud.azure
  - segments.cloud.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Is one account ready for Segments.ai?
  segments.cloud.segments_azure_info:
    name: customerimages
    resource_group: imaging
  register: readiness

- name: Audit a fleet on the data plane
  segments.cloud.segments_azure_info:
    name: "{{ accounts | map(attribute='name') | list }}"
    connection_strings: "{{ accounts | items2dict(key_name='name', value_name='connection_string') }}"
  register: fleet_readiness

- name: Stop unless every account is ready
  ansible.builtin.assert:
    that: fleet_readiness.buckets | map(attribute='ready') | min
    fail_msg: Some storage accounts are not ready for Segments.ai yet
"""

RETURN = r"""
msg:
  description: A summary, or when any account failed, each failed account and why.
  returned: always
  type: str
buckets:
  description: One audit per distinct storage account, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The storage account name.
      returned: always
      type: str
      sample: customerimages
    changed:
      description: Always false.
      returned: always
      type: bool
    failed:
      description: Whether this account could not be audited.
      returned: always
      type: bool
    exists:
      description: Whether the account exists and the caller can see it.
      returned: success
      type: bool
    plane:
      description: How the account was reached, V(data) or V(management).
      returned: success
      type: str
    kind:
      description: The account kind, for example V(StorageV2).
      returned: success
      type: str
    sku:
      description: The account SKU, for example V(Standard_LRS).
      returned: success
      type: str
    public_network_access:
      description: C(publicNetworkAccess) of the account; V(null) on the data plane.
      returned: success
      type: str
    network_default_action:
      description: C(networkAcls.defaultAction) of the account; V(null) on the data plane.
      returned: success
      type: str
    cors:
      description: The Blob service CORS rules, in order, as the service stores them (comma-joined fields).
      returned: success
      type: list
      elements: dict
    cors_rule_present:
      description: Whether a Segments CORS rule is present.
      returned: success
      type: bool
    cors_rule:
      description: The first Segments CORS rule, or V(null).
      returned: success
      type: dict
    cors_rule_matches:
      description: Whether there is exactly one Segments rule and it means the same as the default rule with O(origins).
      returned: success
      type: bool
    scope:
      description:
        - The ARM scope of the account (or, with O(containers), of its container), where the Segments role is
          assigned; V(null) when no O(subscription_id) and resource group are given. Stored by
          M(segments.cloud.segments_backup), so that a restore finds the scope again.
      returned: success
      type: str
    role_assignment:
      description:
        - With O(check_access), the direct assignment of the role to the Segments app's service principal, or V(null).
      returned: success
      type: dict
    inherited_role_assignments:
      description: With O(check_access), assignments of the role to the Segments app at a parent scope.
      returned: success
      type: list
      elements: dict
    url_prefix:
      description: The URL prefix of the account's blobs, C(https://ACCOUNT.blob.core.windows.net/).
      returned: success
      type: str
      sample: https://customerimages.blob.core.windows.net/
    ready:
      description: Whether nothing seen stands in the way of Segments reading the account's blobs in the browser.
      returned: success
      type: bool
    problems:
      description: What stands in the way, each a sentence with its remedy; empty when ready.
      returned: success
      type: list
      elements: str
    warnings:
      description: Warnings that do not affect C(ready); they are also shown as task warnings.
      returned: success
      type: list
      elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._azure.access import RoleAssignmentPart, ServicePrincipal
from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    azure_module_argument_spec,
    clients_for_module,
    segments_role_argument_spec,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import (
    DEFAULT_ORIGINS,
    build_rule,
    origins_problem,
    split_values,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError, AccountMissing
from ansible_collections.segments.cloud.plugins.module_utils._azure.io import BlobCorsPart, read_account_facts
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    account_scope,
    container_scope,
    role_definition_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.readiness import blockers, cors_status
from ansible_collections.segments.cloud.plugins.module_utils._azure.roles import assignment_summary
from ansible_collections.segments.cloud.plugins.module_utils._azure.urls import azure_blob_url
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    run_per_bucket,
)


def cors_problems(status) -> list:
    """Sentences, with remedies, for what is wrong with the account's Segments CORS rule (none when one allows GET)."""
    rule = status["segments_rule"]
    if rule is None:
        return [
            "There is no Segments CORS rule, so the Segments web app cannot load blobs in the browser; "
            "run segments.cloud.segments_azure_cors on this account."
        ]
    if "GET" not in [method.upper() for method in split_values(rule.get("allowed_methods"))]:
        return [
            "The Segments CORS rule does not allow GET, so the Segments web app cannot load blobs; "
            "run segments.cloud.segments_azure_cors on this account."
        ]
    return []


def access_scope(clients, params, account) -> str | None:
    """The scope of the Segments role on account (its container's with containers), or None without a subscription
    and resource group."""
    subscription_id = params["subscription_id"]
    resource_group = clients.resource_group(account)
    if not subscription_id or not resource_group:
        return None
    container = (params["containers"] or {}).get(account)
    if container:
        return container_scope(subscription_id, resource_group, account, container)
    return account_scope(subscription_id, resource_group, account)


def access_audit(clients, params, principal, account) -> dict:
    """role_assignment, inherited_role_assignments and problems for the Segments app's access to account (ARM and
    Graph)."""
    subscription_id = params["subscription_id"]
    scope = access_scope(clients, params, account)
    role = params["role"]
    role_definition = role if role.startswith("/") else role_definition_id(subscription_id, role)
    principal_id = principal.resolve(account)
    if principal_id is None:
        return dict(
            role_assignment=None,
            inherited_role_assignments=[],
            problems=[
                "The Segments.ai app has no service principal in this tenant; run segments.cloud.segments_azure_access "
                "with create_service_principal: true, or 'az ad sp create --id %s'." % params["app_id"]
            ],
        )
    part = RoleAssignmentPart(clients, account, scope, role_definition, principal_id, "present")
    assignments = part.read()
    direct = part.direct(assignments)
    inherited = part.inherited(assignments)
    problems = []
    if not direct and not inherited:
        problems.append(
            "The Segments.ai app does not hold the role on %s, so Segments cannot read its blobs; run "
            "segments.cloud.segments_azure_access on this account." % scope
        )
    return dict(
        role_assignment=assignment_summary(direct[0]) if direct else None,
        inherited_role_assignments=[assignment_summary(item) for item in inherited],
        problems=problems,
    )


def argument_spec():
    spec = azure_module_argument_spec()
    spec.update(
        origins=dict(type="list", elements="str", default=list(DEFAULT_ORIGINS)),
        check_access=dict(type="bool", default=False),
    )
    spec.update(segments_role_argument_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    problem = origins_problem(module.params["origins"])
    if problem:
        fail_on_options(module, problem, noun=AccountError.noun)
    check_access = module.params["check_access"]
    if check_access and not module.params.get("subscription_id"):
        fail_on_options(
            module,
            "check_access reads role assignments through Azure Resource Manager: set subscription_id.",
            noun=AccountError.noun,
        )
    clients = clients_for_module(module, require_management=check_access)
    results = run_per_bucket(
        module.params["name"], module.params["concurrency"], account_auditor(module.params, clients)
    )
    exit_with_fleet_result(module, results, noun=AccountError.noun)


def account_auditor(params, clients):
    """process_account(name) -> the audit of one account (split from main so that tests can drive it)."""
    desired_rule = build_rule(params["origins"])
    check_access = params["check_access"]
    principal = ServicePrincipal(clients, params["app_id"], create=False, check_mode=True, missing_ok=True)

    def process_account(account):
        audit = dict(
            name=account,
            changed=False,
            exists=False,
            plane=clients.plane(account),
            kind=None,
            sku=None,
            public_network_access=None,
            network_default_action=None,
            cors=None,
            cors_rule_present=False,
            cors_rule=None,
            cors_rule_matches=False,
            url_prefix=azure_blob_url(account),
            scope=access_scope(clients, params, account),
            problems=[],
            warnings=[],
        )
        try:
            facts = read_account_facts(clients, account)
        except AccountMissing as missing:
            audit["problems"].append(
                "The storage account does not exist or the caller cannot see it (%s); check the name, resource group "
                "and subscription." % missing.problem
            )
            audit["ready"] = False
            return audit
        audit.update(
            exists=True,
            kind=facts["kind"],
            sku=facts["sku"],
            public_network_access=facts["public_network_access"],
            network_default_action=facts["network_default_action"],
        )
        audit["problems"].extend(blockers(facts))
        rules = BlobCorsPart(clients, account, lambda rules: (rules, False)).read()["cors"]
        status = cors_status(rules, desired_rule)
        audit.update(
            cors=rules,
            cors_rule_present=status["segments_rule"] is not None,
            cors_rule=status["segments_rule"],
            cors_rule_matches=status["matches_desired"],
        )
        audit["problems"].extend(cors_problems(status))
        if status["segments_rule_count"] > 1:
            audit["warnings"].append(
                "there are %d Segments CORS rules; segments.cloud.segments_azure_cors would keep one"
                % status["segments_rule_count"]
            )
        if check_access:
            access = access_audit(clients, params, principal, account)
            audit["problems"].extend(access.pop("problems"))
            audit.update(access)
        audit["ready"] = not audit["problems"]
        return audit

    return process_account


if __name__ == "__main__":
    main()
