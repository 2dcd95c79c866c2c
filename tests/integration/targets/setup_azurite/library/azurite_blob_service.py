#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: azurite_blob_service
short_description: Test helper - set or read an Azurite account's Blob service properties exactly as given
description:
  - Sets CORS rules (comma-joined strings, kept exactly), the delete retention policy and logging of one account,
    or reads them back. For the integration tests only; it never merges anything.
options:
  connection_strings: {description: Connection strings by account., type: dict, required: true}
  names: {description: The accounts to read (state read)., type: list, elements: str, default: []}
  accounts:
    description:
      - The accounts to set (state set), each with name and optionally cors (rules with allowed_origins, allowed_methods,
        allowed_headers, exposed_headers, max_age_in_seconds), delete_retention_days (0 turns soft delete off) and logging.
      - A bare name stands for an account with none of these (no CORS rules, soft delete and logging off).
    type: list
    elements: raw
    default: []
  state: {description: V(set) or V(read)., type: str, choices: [set, read], default: read}
author: [Segments.ai (@segments-ai)]
"""

from ansible.module_utils.basic import AnsibleModule

try:
    from azure.storage.blob import BlobAnalyticsLogging, BlobServiceClient, CorsRule, RetentionPolicy
except ImportError:
    BlobServiceClient = None


def properties_of(service):
    properties = service.get_service_properties()
    return dict(
        cors=[
            dict(
                allowed_origins=rule.allowed_origins,
                allowed_methods=rule.allowed_methods,
                allowed_headers=rule.allowed_headers,
                exposed_headers=rule.exposed_headers,
                max_age_in_seconds=rule.max_age_in_seconds,
            )
            for rule in properties["cors"] or []
        ],
        delete_retention_days=properties["delete_retention_policy"].days
        if properties["delete_retention_policy"].enabled
        else 0,
        logging=bool(properties["analytics_logging"].read),
    )


def set_properties(service, account):
    changes = {}
    changes["cors"] = [
        CorsRule(
            [rule["allowed_origins"]],
            [rule["allowed_methods"]],
            allowed_headers=[rule.get("allowed_headers") or ""],
            exposed_headers=[rule.get("exposed_headers") or ""],
            max_age_in_seconds=int(rule.get("max_age_in_seconds") or 0),
        )
        for rule in account.get("cors") or []
    ]
    days = int(account.get("delete_retention_days") or 0)
    changes["delete_retention_policy"] = RetentionPolicy(enabled=bool(days), days=days or None)
    on = bool(account.get("logging"))
    changes["analytics_logging"] = BlobAnalyticsLogging(
        read=on, write=on, delete=on, retention_policy=RetentionPolicy(enabled=False)
    )
    service.set_service_properties(**changes)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            connection_strings=dict(type="dict", required=True, no_log=True),
            names=dict(type="list", elements="str", default=[]),
            accounts=dict(type="list", elements="raw", default=[]),
            state=dict(type="str", choices=["set", "read"], default="read"),
        )
    )
    if BlobServiceClient is None:
        module.fail_json(msg="azure-storage-blob is required")
    connection_strings = module.params["connection_strings"]
    state = {}
    if module.params["state"] == "set":
        for account in module.params["accounts"]:
            account = {"name": account} if isinstance(account, str) else account
            service = BlobServiceClient.from_connection_string(connection_strings[account["name"]])
            set_properties(service, account)
            state[account["name"]] = properties_of(service)
    else:
        for name in module.params["names"]:
            state[name] = properties_of(BlobServiceClient.from_connection_string(connection_strings[name]))
    module.exit_json(changed=module.params["state"] == "set", state=state)


if __name__ == "__main__":
    main()
