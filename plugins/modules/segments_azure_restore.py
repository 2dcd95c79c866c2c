#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_azure_restore
short_description: Restore the Blob CORS rules and Segments role assignment of Azure storage accounts from backups
version_added: 0.2.0
description:
  - "Puts back what the segments.cloud Azure modules manage on each storage account, as a backup file holds it: the
    Blob service CORS list, exactly (every rule, its order and every character of the foreign ones), and, when the
    backup holds it, the Segments app's role assignment."
  - The backup files are those M(segments.cloud.segments_backup) writes from M(segments.cloud.segments_azure_info),
    C(DEST/RUN_ID/HOST/azure/ACCOUNT.json); the onboarding role writes them before every run. Each file names its
    account and the account's scope (subscription and resource group), so one call restores a whole fleet.
  - "The role assignment goes back to what the backup recorded, as M(segments.cloud.segments_gcs_restore) treats
    Segments' IAM grant: when the backup holds the app's direct assignment (the audit ran with C(check_access)), it
    is made again if it is gone; when the backup holds none, the app's direct assignment of the role at that scope
    is removed. Another principal's assignment is never touched, and neither is one at a parent scope (it is
    returned in RV(buckets[].inherited_role_assignments)). A backup without C(role_assignment) (an audit without
    C(check_access)) leaves role assignments alone."
  - "A restore is refused for an account when a CORS rule that names any origin other than Segments' was added,
    removed or changed since the backup: writing the backup back would undo that change, so the account fails with
    a message that names it and says what differs, for example C(CORS rule for https://viewer.customer.example
    removed), and nothing is written to it. O(force=true) restores it anyway. Rules compare by meaning there; rule
    order, spaces and the case of methods do not count."
  - Otherwise each part is written only when it differs from the backup, through the same guard as
    M(segments.cloud.segments_azure_cors) (a read right before the write, a read-back after it), then checked.
options:
  app_id:
    description:
      - The application (client) ID whose service principal holds the role, used when the backup holds no
        assignment (to find the assignment to remove). Unset means the app stored with the backup, else Segments' app.
    type: str
  role:
    description:
      - The role definition (GUID or full ID), used when the backup holds no assignment. Unset means the role stored
        with the backup, else Storage Blob Data Reader.
    type: str
  containers:
    description:
      - Accepted so that C(module_defaults) for the C(azure) group can be shared with the other Azure modules; the
        scope of each account comes from its backup.
    type: dict
    default: {}
notes:
  - An account with a connection string or account key in O(connection_strings) or O(account_keys) has its CORS
    rules restored on the data plane; every other account through Azure Resource Manager. Role assignments always go
    through Azure Resource Manager and Microsoft Graph.
  - The caller needs the permissions of M(segments.cloud.segments_azure_cors) and, for a backup with a role
    assignment, of M(segments.cloud.segments_azure_access).
  - The C(segments.cloud.rollback) playbook finds the backup files of a run and calls this module with the Azure
    C(module_defaults).
  - The data plane is tested against Azurite, the management plane against the project's fake of Azure Resource
    Manager and Microsoft Graph (C(tests/fakes/azure_arm.py)); no local emulator of those exists.
seealso:
  - module: segments.cloud.segments_backup
  - module: segments.cloud.segments_azure_info
  - module: segments.cloud.segments_gcs_restore
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.restore
  - segments.cloud.azure
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Restore one account from the backup taken before an onboarding run
  segments.cloud.segments_azure_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/azure/customerimages.json

- name: Restore every Azure account of a run, with the credentials set once
  module_defaults:
    group/segments.cloud.azure:
      subscription_id: 5e9a0c1d-0000-4000-8000-00000000a2ee
  block:
    - name: Find the backup files of the run
      ansible.builtin.find:
        paths: /var/backups/segments/20261123T101500Z/localhost/azure
        patterns: "*.json"
      register: backup_files

    - name: Restore them
      segments.cloud.segments_azure_restore:
        backup: "{{ backup_files.files | map(attribute='path') }}"

- name: Preview what a restore would change, without writing anything
  segments.cloud.segments_azure_restore:
    backup: "{{ backup_files.files | map(attribute='path') }}"
  check_mode: true
  diff: true

- name: Restore although another team's CORS rule changed since the backup, overwriting that change
  segments.cloud.segments_azure_restore:
    backup: /var/backups/segments/20261123T101500Z/localhost/azure/customerimages.json
    force: true
"""

RETURN = r"""
msg:
  description: A summary, or when any account failed or was refused, each such account and why.
  returned: always
  type: str
  sample: "2 storage account(s) processed, 1 changed"
buckets:
  description: One result per backup file, in the order given.
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
      description: Whether anything was restored (or would be, in check mode).
      returned: always
      type: bool
    failed:
      description: Whether this account failed or was refused.
      returned: always
      type: bool
    msg:
      description: Why this account failed, naming it; for a refused account, what is not Segments' and changed.
      returned: when failed
      type: str
      sample: "storage account 'customerimages': restore failed: refused, because what is not Segments' changed since
        the backup: CORS rule for https://viewer.customer.example removed; nothing was written. Look at those changes
        first; run again with force=true to overwrite them with the backup, or keep them and leave the bucket as it is"
    backup:
      description: The backup file the account was restored from.
      returned: success
      type: str
    plane:
      description: How the CORS rules were reached, V(data) or V(management).
      returned: success
      type: str
    scope:
      description: The scope of the role assignment, from the backup; V(null) when the backup holds no assignment.
      returned: success
      type: str
    restored:
      description: The parts written (or that would be, in check mode), among V(cors) and V(role_assignment).
      returned: success
      type: list
      elements: str
      sample: [cors]
    differences:
      description:
        - What is not Segments' and differs between the backup and the account, one sentence each.
        - Only a run with O(force=true) returns it non-empty for an account that did not fail.
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
          description: The Blob service CORS rules, in order, as stored (comma-joined fields).
          type: list
          elements: dict
        role_assignment:
          description: The app's direct assignment at the scope (name, scope, role definition and principal), or null.
          type: dict
    after:
      description:
        - The managed parts after the restore, as read back; in check mode, or when nothing changed, what they would be.
      returned: success
      type: dict
      contains:
        cors:
          description: The Blob service CORS rules, in order, as stored.
          type: list
          elements: dict
        role_assignment:
          description: The app's direct assignment at the scope, or null.
          type: dict
    inherited_role_assignments:
      description: Assignments of the role to the app at a parent scope; a restore never removes them.
      returned: success
      type: list
      elements: dict
    warnings:
      description: Warnings about this account, such as what O(force=true) overwrote; also shown as task warnings.
      returned: success
      type: list
      elements: str
"""

import copy
import threading

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._azure.access import RoleAssignmentPart, ServicePrincipal
from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    AzureClients,
    AzureSetupError,
    azure_argument_spec,
    cloud_environment_problem,
    data_plane_problems,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import rule_lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError
from ansible_collections.segments.cloud.plugins.module_utils._azure.io import CORS_WHAT, BlobCorsPart
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import (
    SEGMENTS_APP_ID,
    STORAGE_BLOB_DATA_READER_ROLE_ID,
    account_name_problem,
    account_scope,
    guid_problem,
    parse_scope,
    role_definition_id,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.restore import (
    assignment_target,
    azure_cors_differences,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.roles import assignment_summary
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
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
    refusal,
    restore_argument_spec,
)


def argument_spec():
    spec = azure_argument_spec()
    spec.update(restore_argument_spec())
    spec.update(app_id=dict(type="str"), role=dict(type="str"), containers=dict(type="dict", default={}))
    return spec


def record_location(params, account, record) -> dict:
    """{subscription_id, resource_group} of account: from the backup's scope, else from the options."""
    scope = parse_scope(record.get("scope") or (record.get("role_assignment") or {}).get("scope")) or {}
    return dict(
        subscription_id=scope.get("subscription_id") or params.get("subscription_id"),
        resource_group=scope.get("resource_group")
        or (params.get("resource_groups") or {}).get(account)
        or params.get("resource_group"),
    )


def backups_or_fail(module):
    """{account: (path, record)} of the backup files; fails the module before any call when a file or an option is
    unusable."""
    params = module.params
    backups, problems = backups_by_bucket(params["backup"], "azure")
    data_plane_accounts = set(params.get("connection_strings") or {}) | set(params.get("account_keys") or {})
    for account, (path, record) in backups.items():
        name_problem = account_name_problem(account)
        if name_problem:
            problems.append("backup file %s: %s" % (path, name_problem))
            continue
        location = record_location(params, account, record)
        needs_management = account not in data_plane_accounts or "role_assignment" in record
        if needs_management and not (location["subscription_id"] and location["resource_group"]):
            problems.append(
                "backup file %s holds no scope for storage account '%s', which is reached through Azure Resource "
                "Manager: set subscription_id and resource_group (or resource_groups), or give its connection string."
                % (path, account)
            )
    problems.extend(data_plane_problems(params))
    if params.get("app_id"):
        problems.append(guid_problem("app_id", params["app_id"]))
    if params.get("role"):
        problems.append(guid_problem("role", params["role"].rstrip("/").rsplit("/", 1)[-1]))
    if params.get("cloud_environment"):
        problems.append(cloud_environment_problem(params["cloud_environment"]))
    problems.extend(option_problems(params))
    problems = [problem for problem in problems if problem]
    if problems:
        fail_on_options(module, problems, list(backups), noun=AccountError.noun)
    return backups


def _direct_summary(part, state):
    direct = part.direct(state)
    return assignment_summary(direct[0]) if direct else None


class RestoreRun:
    """One run of the module: the options, the backups, the clients per subscription and the per-account restore."""

    def __init__(self, module, backups, make_clients=AzureClients):
        self.params = module.params
        self._make_clients = make_clients  # AzureClients(params); tests give their own endpoints
        self.check_mode = module.check_mode
        self.force = module.params["force"]
        self.backups = backups
        self._lock = threading.Lock()
        self._clients: dict = {}
        self._principals: dict = {}
        self._resource_groups = dict(self.params.get("resource_groups") or {})
        for account, (_path, record) in backups.items():
            location = record_location(self.params, account, record)
            if location["resource_group"]:
                self._resource_groups[account] = location["resource_group"]

    def clients_for(self, subscription_id):
        """The AzureClients of one subscription (the backup's), built once and shared by the workers."""
        with self._lock:
            if subscription_id not in self._clients:
                params = dict(self.params, subscription_id=subscription_id, resource_groups=self._resource_groups)
                self._clients[subscription_id] = self._make_clients(params)
            return self._clients[subscription_id]

    def principal_for(self, clients, app_id):
        with self._lock:
            if app_id not in self._principals:
                self._principals[app_id] = ServicePrincipal(
                    clients, app_id, create=False, check_mode=self.check_mode, missing_ok=True
                )
            return self._principals[app_id]

    def restore_cors(self, clients, account, record, current):
        """Write the backup's CORS list when it differs; (after rules, changed)."""
        merge = guarded_restore(
            account,
            CORS_WHAT,
            backup_value(record.get("cors") or []),
            lambda rules: azure_cors_differences(record.get("cors"), rules),
            rule_lists_equal,
            self.force,
        )
        outcome = converge(BlobCorsPart(clients, account, merge), self.check_mode, current=current)
        return outcome.after["cors"], outcome.changed

    def assignment_part(self, clients, account, record, location):
        """The RoleAssignmentPart that puts our assignment back as the backup recorded it, or None to leave it."""
        options_scope = (
            account_scope(location["subscription_id"], location["resource_group"], account)
            if location["subscription_id"] and location["resource_group"]
            else None
        )
        target = assignment_target(record, options_scope)
        if target is None:
            return None
        if target["state"] == "present":
            return RoleAssignmentPart(
                clients, account, target["scope"], target["role_definition_id"], target["principal_id"], "present"
            )
        role = self.params.get("role") or record.get("role") or STORAGE_BLOB_DATA_READER_ROLE_ID
        subscription_id = (parse_scope(target["scope"]) or {}).get("subscription_id") or location["subscription_id"]
        role_definition = role if role.startswith("/") else role_definition_id(subscription_id, role)
        app_id = self.params.get("app_id") or record.get("app_id") or SEGMENTS_APP_ID
        principal_id = self.principal_for(clients, app_id).resolve(account)
        return RoleAssignmentPart(clients, account, target["scope"], role_definition, principal_id, "absent")

    def process_account(self, account):
        try:
            return self._restore(account)
        except AccountError:
            raise
        except BucketError as error:  # the shared restore rules name a bucket; here it is a storage account
            raise AccountError(account, error.action, error.problem, error.remedy) from None
        except AzureSetupError as error:
            raise AccountError(account, "restore", str(error), "Check the options, then run again") from None

    def _restore(self, account):
        path, record = self.backups[account]
        location = record_location(self.params, account, record)
        clients = self.clients_for(location["subscription_id"])
        current = BlobCorsPart(clients, account, None).read()
        differences = azure_cors_differences(record.get("cors"), current["cors"])
        if differences and not self.force:
            raise refusal(account, differences)

        restored = []
        cors_after, cors_changed = self.restore_cors(clients, account, record, current)
        if cors_changed:
            restored.append("cors")
        part = self.assignment_part(clients, account, record, location)
        assignment_before = assignment_after = None
        inherited: list = []
        warnings = forced_warnings(differences)
        if part is not None:
            outcome = converge(part, self.check_mode)
            assignment_before, assignment_after = (
                _direct_summary(part, outcome.before),
                _direct_summary(part, outcome.after),
            )
            if outcome.changed:
                restored.append("role_assignment")
            inherited = [assignment_summary(item) for item in part.inherited(outcome.after)]
            if inherited and part.state == "absent":
                warnings.append(
                    "the role is also assigned to the app at a parent scope (%s), which a restore never removes"
                    % ", ".join(item["scope"] for item in inherited)
                )
        return dict(
            name=account,
            changed=bool(restored),
            backup=path,
            plane=clients.plane(account),
            scope=part.scope if part is not None else None,
            restored=restored,
            differences=differences,
            before=dict(cors=copy.deepcopy(current["cors"]), role_assignment=assignment_before),
            after=dict(cors=cors_after, role_assignment=assignment_after),
            inherited_role_assignments=inherited,
            warnings=warnings,
        )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    backups = backups_or_fail(module)
    run = RestoreRun(module, backups)
    results = run_per_bucket(list(backups), module.params["concurrency"], run.process_account)
    exit_with_fleet_result(module, results, diff_key=list(MANAGED_PARTS["azure"]), noun=AccountError.noun)


if __name__ == "__main__":
    main()
