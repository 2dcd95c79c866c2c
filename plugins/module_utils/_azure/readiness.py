# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What would stop Segments.ai reading an account's blobs, pure: from the account facts and its CORS rules."""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._azure.cors import our_rules, rules_mean_same

# FileStorage accounts have no Blob service; every other kind in use today has one.
KINDS_WITHOUT_BLOB_SERVICE = ("FileStorage",)


def blockers(facts: dict) -> list:
    """Sentences, one per setting of the account that would stop Segments reading its blobs; [] when none is seen.

    facts: read_account_facts' keys; a None value (not readable on this plane) is not a blocker."""
    found = []
    if facts.get("kind") in KINDS_WITHOUT_BLOB_SERVICE:
        found.append(
            "the account kind is %s, which has no Blob service: "
            "keep the images in a StorageV2 or BlockBlobStorage account" % facts["kind"]
        )
    if (facts.get("public_network_access") or "").lower() == "disabled":
        found.append(
            "publicNetworkAccess is Disabled, so Segments cannot reach the account from the internet: enable public "
            "network access (Segments reads over the public endpoint)"
        )
    if (facts.get("network_default_action") or "").lower() == "deny":
        found.append(
            "the account's network rules deny by default (networkAcls.defaultAction: Deny), so requests from Segments "
            "and from the annotators' browsers are refused: allow them, or set the default action to Allow"
        )
    return found


def cors_status(rules, desired_rule: dict) -> dict:
    """Our rule as found (None when absent), whether it is the desired one, and how many rules there are."""
    ours = our_rules(rules)
    return dict(
        segments_rule=ours[0] if ours else None,
        segments_rule_count=len(ours),
        matches_desired=len(ours) == 1 and rules_mean_same(ours[0], desired_rule),
        rule_count=len(rules or []),
    )
