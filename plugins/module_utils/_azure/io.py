# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-account reads and writes of the Blob service CORS list, on the data plane or through ARM.

The state of the managed part is ``{"cors": [rule, ...], "properties": {...}}``: the CORS rules (cors.py's shape) and,
on the management plane, every other Blob service property as ARM returned it. ARM's documentation does not promise
that a PUT of ``blobServices/default`` keeps the properties it leaves out (it does say that a body without CORS rules
deletes them all), so the PUT sends every property it read back unchanged, with only ``cors`` replaced. The data plane
keeps the elements a request leaves out, so there only ``cors`` is sent. Neither has an ETag: the converge engine
reads right before each write and reads back after it (compare-before-write).
"""

from __future__ import annotations

import copy

try:
    from azure.storage.blob import CorsRule
except ImportError:
    # AzureClients reports the missing library before any of this is used.
    CorsRule = None  # type: ignore[misc,assignment]

from ansible_collections.segments.cloud.plugins.module_utils._azure.client import (
    ARM_API_VERSION,
    azure_errors,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import (
    MAX_RULES,
    TooManyRules,
    rule_lists_equal,
)
from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import AZURE_INFO_MODULE, AccountError
from ansible_collections.segments.cloud.plugins.module_utils._azure.names import account_scope
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart

CORS_WHAT = "Blob service CORS rules"


def rule_from_sdk(sdk_rule) -> dict:
    """A cors.py rule from the storage SDK's CorsRule, whose fields are the comma-joined strings the service
    returned."""
    return {
        "allowed_origins": sdk_rule.allowed_origins or "",
        "allowed_methods": sdk_rule.allowed_methods or "",
        "allowed_headers": sdk_rule.allowed_headers or "",
        "exposed_headers": sdk_rule.exposed_headers or "",
        "max_age_in_seconds": int(sdk_rule.max_age_in_seconds or 0),
    }


def rule_to_sdk(rule: dict):
    """The storage SDK's CorsRule for a cors.py rule, every field exactly as stored.

    CorsRule joins the list it is given with commas, so each stored string goes in as a one-element list: a bare
    string would be split into its characters ("GET" -> "G,E,T")."""
    return CorsRule(
        [rule["allowed_origins"]],
        [rule["allowed_methods"]],
        allowed_headers=[rule.get("allowed_headers") or ""],
        exposed_headers=[rule.get("exposed_headers") or ""],
        max_age_in_seconds=int(rule.get("max_age_in_seconds") or 0),
    )


def _split_exact(text) -> list:
    # No stripping: ARM's list items go back exactly as they came.
    return text.split(",") if text else []


def rule_from_arm(arm_rule: dict) -> dict:
    """A cors.py rule from an ARM corsRules item (lists of strings), joined as the data plane stores them."""
    return {
        "allowed_origins": ",".join(arm_rule.get("allowedOrigins") or []),
        "allowed_methods": ",".join(arm_rule.get("allowedMethods") or []),
        "allowed_headers": ",".join(arm_rule.get("allowedHeaders") or []),
        "exposed_headers": ",".join(arm_rule.get("exposedHeaders") or []),
        "max_age_in_seconds": int(arm_rule.get("maxAgeInSeconds") or 0),
    }


def rule_to_arm(rule: dict) -> dict:
    """An ARM corsRules item for a cors.py rule (ARM requires all five fields)."""
    return {
        "allowedOrigins": _split_exact(rule.get("allowed_origins")),
        "allowedMethods": _split_exact(rule.get("allowed_methods")),
        "allowedHeaders": _split_exact(rule.get("allowed_headers")),
        "exposedHeaders": _split_exact(rule.get("exposed_headers")),
        "maxAgeInSeconds": int(rule.get("max_age_in_seconds") or 0),
    }


def states_equal(first, second) -> bool:
    """True if two CORS states are the same: the rules exactly, in order, and every other property read."""
    return rule_lists_equal(first["cors"], second["cors"]) and first.get("properties") == second.get("properties")


def count_checked(account: str, merge):
    """Wrap merge(rules) -> (new_rules, changed) so that a list over the Blob service's limit fails the account
    before any write, with a message saying what to do."""

    def checked(rules):
        try:
            return merge(rules)
        except TooManyRules as error:
            raise AccountError(
                account,
                "merge CORS rules",
                "the Blob service CORS list would hold %d rules, over Azure's limit of %d, so nothing was written"
                % (error.count, MAX_RULES),
                "Remove a CORS rule this account no longer needs (segments.cloud.segments_azure_info lists them), "
                "then run again",
            ) from None

    return checked


class BlobCorsPart(ManagedPart):
    """The Blob service CORS list of one account, on the plane its credentials reach."""

    def __init__(self, clients, account: str, merge_rules):
        super().__init__(account, CORS_WHAT, AZURE_INFO_MODULE, compare_before_write=True)
        self.clients = clients
        self.account = account
        self.plane = clients.plane(account)
        self._merge_rules = count_checked(account, merge_rules)

    def _arm_path(self):
        subscription_id = self.clients.params.get("subscription_id")
        resource_group = self.clients.resource_group(self.account)
        return account_scope(subscription_id, resource_group, self.account) + "/blobServices/default"

    def read(self):
        if self.plane == "data":
            service = self.clients.data_plane.client(self.account, "read blob service properties")
            with azure_errors(self.account, "read blob service properties", service.url):
                properties = service.get_service_properties()
            return {"cors": [rule_from_sdk(rule) for rule in properties.get("cors") or []], "properties": {}}
        _status, payload = self.clients.arm.call(
            self.account,
            "read blob service properties",
            "GET",
            self._arm_path(),
            params={"api-version": ARM_API_VERSION},
        )
        properties = copy.deepcopy((payload or {}).get("properties") or {})
        arm_rules = (properties.pop("cors", None) or {}).get("corsRules") or []
        return {"cors": [rule_from_arm(rule) for rule in arm_rules], "properties": properties}

    def merge(self, state):
        new_rules, needs_write = self._merge_rules(state["cors"])
        return {"cors": new_rules, "properties": copy.deepcopy(state.get("properties") or {})}, needs_write

    def write(self, desired, merged_into):
        if self.plane == "data":
            service = self.clients.data_plane.client(self.account, "set blob service properties")
            with azure_errors(self.account, "set blob service properties", service.url):
                # Only cors is sent: the service keeps logging, metrics, retention and static website as they are.
                service.set_service_properties(cors=[rule_to_sdk(rule) for rule in desired["cors"]])
            return
        body = {
            "properties": dict(
                copy.deepcopy(desired["properties"]),
                cors={"corsRules": [rule_to_arm(rule) for rule in desired["cors"]]},
            )
        }
        self.clients.arm.call(
            self.account,
            "set blob service properties",
            "PUT",
            self._arm_path(),
            params={"api-version": ARM_API_VERSION},
            body=body,
        )

    def equal(self, first, second):
        return states_equal(first, second)


def read_account_facts(clients, account: str) -> dict:
    """What the account itself says about reaching its blobs: kind, SKU and, through ARM, the network settings.

    Keys: kind, sku, public_network_access, network_default_action, blob_endpoint (None where the plane cannot tell)."""
    facts = dict(kind=None, sku=None, public_network_access=None, network_default_action=None, blob_endpoint=None)
    if clients.plane(account) == "data":
        service = clients.data_plane.client(account, "read storage account")
        with azure_errors(account, "read storage account", service.url):
            information = service.get_account_information()
        facts.update(kind=information.get("account_kind"), sku=information.get("sku_name"), blob_endpoint=service.url)
        return facts
    path = account_scope(clients.params.get("subscription_id"), clients.resource_group(account), account)
    _status, payload = clients.arm.call(
        account, "read storage account", "GET", path, params={"api-version": ARM_API_VERSION}
    )
    payload = payload or {}
    properties = payload.get("properties") or {}
    facts.update(
        kind=payload.get("kind"),
        sku=(payload.get("sku") or {}).get("name"),
        public_network_access=properties.get("publicNetworkAccess"),
        network_default_action=(properties.get("networkAcls") or {}).get("defaultAction"),
        blob_endpoint=(properties.get("primaryEndpoints") or {}).get("blob"),
    )
    return facts
