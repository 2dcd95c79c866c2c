#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_azure_cors
short_description: Merge the Segments.ai CORS rule into the Blob service of Azure storage accounts
version_added: 0.1.0
description:
  - Adds, updates or removes the Blob service CORS rule that lets the Segments.ai web app load blobs in the browser, the
    rule Segments' setup page gives as C(az storage cors add --services b --methods GET --origins
    https://app.segments.ai --max-age 3600).
  - Only the Segments rule is changed. Every other rule is kept exactly as it is, in its place, spaces and case
    included, and every other Blob service property (logging, metrics, delete retention, static website) is left as it
    was.
  - "Which rules are Segments': Blob service CORS rules carry no ID, so a rule counts as Segments' own when its
    C(allowed_origins) holds at least one origin and every origin in it is a Segments origin (C(https://segments.ai) or
    C(https://SUBDOMAIN.segments.ai)); spaces around the commas and the case of the methods do not matter. All such
    rules are replaced by the single desired rule, placed where the first of them was (appended when there was none), or
    all removed."
  - The Blob service allows at most five CORS rules. When the merged list would hold more, that account fails with a
    message saying so, and nothing is written to it.
  - On the data plane (an account in O(connection_strings) or O(account_keys)) the write is Set Blob Service Properties
    with the C(cors) element alone, which keeps every element it leaves out. Through Azure Resource Manager the write is
    a PUT of C(blobServices/default) that sends every property it read back unchanged, with only C(cors) replaced.
  - Neither write can be made conditional (no ETag), so the rules are read again right before the write, and read back
    after it; when another writer changed them in between, the merge is done again on what is there now.
options:
  state:
    description:
      - V(present) makes the account hold exactly one Segments rule with the given settings.
      - V(absent) removes every Segments rule, whatever its settings; the other options are then not used.
    type: str
    choices: [present, absent]
    default: present
  origins:
    description:
      - The origins of the Segments rule. Every origin must be a Segments origin; anything else fails the task before
        any call, because a rule naming another origin would count as someone else's on the next run and be added again
        every time.
    type: list
    elements: str
    default: ["https://app.segments.ai"]
  methods:
    description:
      - The HTTP methods the rule allows, in any case; they are written in upper case.
    type: list
    elements: str
    default: [GET]
  allowed_headers:
    description:
      - Request headers a cross-origin request may carry (the rule's C(AllowedHeaders)); C(*) allows any.
      - The default differs from Segments' setup page, which sets none. The app's plain reads (a GET of a SAS URL by
        C(fetch()) or an image, with or without a C(Range) header) send no preflight and work either way. A read that
        sends any other header (the Azure Storage JavaScript SDK sends C(x-ms-version), for example) is preflighted
        first, and with no allowed headers the Blob service refuses every such preflight. C(*) holds for the rule's
        origins only.
    type: list
    elements: str
    default: ["*"]
  exposed_headers:
    description:
      - Response headers the browser may show to Segments (the rule's C(ExposedHeaders)).
    type: list
    elements: str
    default: []
  max_age_seconds:
    description:
      - How long a browser may cache the preflight answer, in seconds (the rule's C(MaxAgeInSeconds)).
    type: int
    default: 3600
notes:
  - "The caller needs, per account: on the data plane a connection string or account key; through Azure Resource Manager
    C(Microsoft.Storage/storageAccounts/blobServices/read) and C(Microsoft.Storage/storageAccounts/blobServices/write)
    (for example the Storage Account Contributor role)."
seealso:
  - module: segments.cloud.segments_azure_info
  - name: CORS support for Azure Storage
    description: How the Blob service evaluates CORS rules.
    # A double-quoted scalar: the backslash at the end of the line joins the two halves of the address with no space.
    link: "https://learn.microsoft.com/en-us/rest/api/storageservices/\
      cross-origin-resource-sharing--cors--support-for-the-azure-storage-services"
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.azure.accounts
  - segments.cloud.azure
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Let Segments.ai load blobs of two accounts in the browser, with AWX's Azure credential in the environment
  segments.cloud.segments_azure_cors:
    name: [customerimages, customerlidar]
    resource_group: imaging

- name: The same on the data plane, one connection string per account
  segments.cloud.segments_azure_cors:
    name: customerimages
    connection_strings:
      customerimages: "{{ vault_customerimages_connection_string }}"

- name: Preview the change without writing anything
  segments.cloud.segments_azure_cors:
    name: customerimages
    resource_group: imaging
  check_mode: true
  diff: true

- name: Remove the Segments rule, keeping every other rule
  segments.cloud.segments_azure_cors:
    name: customerimages
    resource_group: imaging
    state: absent
"""

RETURN = r"""
msg:
  description: A summary, or when any account failed, each failed account and why.
  returned: always
  type: str
  sample: "2 storage account(s) processed, 1 changed"
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
      sample: customerimages
    changed:
      description: Whether the account's CORS rules were changed (or would be, in check mode).
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
      sample: >-
        storage account 'customerimages': merge CORS rules failed: the Blob service CORS list would hold 6 rules, over
        Azure's limit of 5, so nothing was written. Remove a CORS rule this account no longer needs
        (segments.cloud.segments_azure_info lists them), then run again
    plane:
      description: How the account was reached, V(data) (connection string or key) or V(management) (Azure Resource
        Manager).
      returned: success
      type: str
      sample: data
    before:
      description: The CORS rules as read before any change.
      returned: success
      type: dict
      contains:
        cors:
          description: The rules, in order, with comma-joined fields as the Blob service stores them.
          type: list
          elements: dict
          sample: [{"allowed_origins": "https://app.customer.example", "allowed_methods": "GET,PUT",
                    "allowed_headers": "*", "exposed_headers": "", "max_age_in_seconds": 600}]
    after:
      description: The CORS rules as read back after the change; in check mode, or when nothing changed, what they would
        be.
      returned: success
      type: dict
      contains:
        cors:
          description: The rules, in order.
          type: list
          elements: dict
    warnings:
      description: Warnings about this account; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    azure_module_argument_spec,
    clients_for_module,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import (
    DEFAULT_ALLOWED_HEADERS,
    DEFAULT_EXPOSED_HEADERS,
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_METHODS,
    DEFAULT_ORIGINS,
    build_rule,
    headers_problem,
    merge_rule,
    methods_problem,
    origins_problem,
    remove_rules,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AccountError
from ansible_collections.segments.cloud.plugins.module_utils._azure.io import BlobCorsPart
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    run_per_bucket,
)


def desired_rule_or_fail(module):
    """The Segments rule the options describe; fails the module before any call when an option is malformed."""
    params = module.params
    problems = [
        origins_problem(params["origins"]),
        methods_problem(params["methods"]),
        headers_problem("allowed_headers", params["allowed_headers"]),
        headers_problem("exposed_headers", params["exposed_headers"]),
    ]
    if params["max_age_seconds"] < 0:
        problems.append("max_age_seconds must be 0 or more, got %d." % params["max_age_seconds"])
    problems = [problem for problem in problems if problem]
    if problems:
        fail_on_options(module, problems, noun=AccountError.noun)
    return build_rule(
        params["origins"],
        params["methods"],
        params["allowed_headers"],
        params["exposed_headers"],
        params["max_age_seconds"],
    )


def main():
    argument_spec = azure_module_argument_spec()
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        origins=dict(type="list", elements="str", default=list(DEFAULT_ORIGINS)),
        methods=dict(type="list", elements="str", default=list(DEFAULT_METHODS)),
        allowed_headers=dict(type="list", elements="str", default=list(DEFAULT_ALLOWED_HEADERS)),
        exposed_headers=dict(type="list", elements="str", default=list(DEFAULT_EXPOSED_HEADERS)),
        max_age_seconds=dict(type="int", default=DEFAULT_MAX_AGE_SECONDS),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    desired_rule = desired_rule_or_fail(module)
    clients = clients_for_module(module)

    if module.params["state"] == "present":

        def merge(rules):
            return merge_rule(rules, desired_rule)
    else:
        merge = remove_rules

    def process_account(account):
        part = BlobCorsPart(clients, account, merge)
        outcome = converge(part, module.check_mode)
        return dict(
            name=account,
            changed=outcome.changed,
            plane=part.plane,
            before=dict(cors=outcome.before["cors"]),
            after=dict(cors=outcome.after["cors"]),
            warnings=[],
        )

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_account)
    exit_with_fleet_result(module, results, diff_key="cors", noun=AccountError.noun)


if __name__ == "__main__":
    main()
