# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure storage accounts on the local Azurite for the system tests: which accounts each test file may use, a direct
client (never through a proxy), the customer's own CORS rules and service properties, and true-state snapshots.

Azurite cannot create accounts at run time: scripts/local-clouds starts it with segsys1 to segsys100 (and the
integration targets' segtest1 to segtest40), all with the well-known development key. The system stage runs its test
files side by side, so each file keeps to its own range (ACCOUNT_RANGES), and every test resets the accounts it uses
before and after (CORS emptied, the other properties back to the service defaults).

Rules are kept as the Blob service stores them: five fields, the first four comma-joined strings, exactly as written
(spaces and case included), so "foreign rules come back byte for byte" is a plain comparison.
"""

from __future__ import annotations

import os
import re

from azure.storage.blob import BlobAnalyticsLogging, BlobServiceClient, CorsRule, RetentionPolicy
from bucket_state import BEFORE, ONBOARDED, OTHER

# Azurite's well-known development key (public, in Microsoft's Azurite documentation); scripts/lib.sh has the same.
AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The segsys accounts of each test file (first, last), disjoint because the files run at once.
ACCOUNT_RANGES = {
    "faults": (1, 44),
    "races": (45, 56),
    "bad_inputs": (57, 74),
    "security": (75, 80),
    "faults_absent": (81, 92),
}
SEGMENTS_ORIGIN = re.compile(r"^https://([a-z0-9-]+\.)*segments\.ai$")
OUR_ORIGINS = "https://app.segments.ai"
CORS_LIMIT = 5
RULE_FIELDS = ("allowed_origins", "allowed_methods", "allowed_headers", "exposed_headers", "max_age_in_seconds")


def accounts(group: str, count: int, skip: int = 0) -> list:
    """count account names of a test file's range (group: a key of ACCOUNT_RANGES), after the first skip of them."""
    first, last = ACCOUNT_RANGES[group]
    names = ["segsys%d" % number for number in range(first + skip, first + skip + count)]
    assert first + skip + count - 1 <= last, "the %s tests have only segsys%d to segsys%d" % (group, first, last)
    return names


def azurite_endpoint() -> str | None:
    """Azurite's base URL from scripts/lib.sh local_cloud_env (SEGMENTS_AZURITE_ENDPOINT), or None."""
    return os.environ.get("SEGMENTS_AZURITE_ENDPOINT") or None


def connection_string(endpoint: str, account: str, key: str = AZURITE_ACCOUNT_KEY, blob_endpoint=None) -> str:
    """A path-style connection string of account on endpoint (Azurite itself, or a proxy in front of it)."""
    return "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;" % (
        account,
        key,
        blob_endpoint or "%s/%s" % (endpoint.rstrip("/"), account),
    )


def connection_strings(endpoint: str, names) -> dict:
    """{account: its connection string through endpoint} for the module option connection_strings."""
    return {name: connection_string(endpoint, name) for name in names}


def foreign_azure_rules(tag: str = "a") -> list:
    """Two customer rules written the way people write them: spaces after commas, mixed-case headers, a lower-case
    method. The Blob service stores each field as the string it was given; the module must write them back as is."""
    return [
        {
            "allowed_origins": "https://app.customer-%s.example, https://Viewer.Customer-%s.example" % (tag, tag),
            "allowed_methods": "GET, HEAD,put",
            "allowed_headers": "x-ms-meta-*, Content-Type",
            "exposed_headers": "x-ms-meta-*,ETag",
            "max_age_in_seconds": 600,
        },
        {
            "allowed_origins": "*",
            "allowed_methods": "GET",
            "allowed_headers": "",
            "exposed_headers": "",
            "max_age_in_seconds": 0,
        },
    ]


def foreign_rule(index: int) -> dict:
    """One more customer rule, told apart by index (to fill the list up to the limit)."""
    return {
        "allowed_origins": "https://tool%02d.customer.example" % index,
        "allowed_methods": "GET,OPTIONS",
        "allowed_headers": "*",
        "exposed_headers": "",
        "max_age_in_seconds": 60 + index,
    }


def our_azure_rule() -> dict:
    """The rule segments_azure_cors writes with its defaults, as the service stores it."""
    return {
        "allowed_origins": OUR_ORIGINS,
        "allowed_methods": "GET",
        "allowed_headers": "*",
        "exposed_headers": "",
        "max_age_in_seconds": 3600,
    }


def is_our_azure_rule(rule: dict) -> bool:
    """Segments' rule, as the module decides it: every origin (spaces stripped, case ignored) a Segments origin."""
    origins = [origin.strip().lower() for origin in (rule.get("allowed_origins") or "").split(",") if origin.strip()]
    return bool(origins) and all(SEGMENTS_ORIGIN.match(origin) for origin in origins)


def judge_azure_cors(before: list, after: list) -> tuple:
    """(verdict, foreign_intact) of an account's CORS rules after a present run; before had no rule of ours.
    Foreign rules must be intact byte for byte, in their order."""
    ours = [rule for rule in after if is_our_azure_rule(rule)]
    foreign_after = [rule for rule in after if not is_our_azure_rule(rule)]
    foreign_before = [rule for rule in before if not is_our_azure_rule(rule)]
    foreign_intact = foreign_after == foreign_before
    if after == before:
        return BEFORE, foreign_intact
    ours_right = (
        len(ours) == 1
        and ours[0]["allowed_origins"] == OUR_ORIGINS
        and ours[0]["allowed_methods"] == "GET"
        and ours[0]["max_age_in_seconds"] == 3600
    )
    if ours_right and foreign_after == before:
        return ONBOARDED, foreign_intact
    return OTHER, foreign_intact


def judge_azure_cors_removed(before: list, after: list) -> tuple:
    """(verdict, foreign_intact) of an account's CORS rules after an absent run; before held Segments' rule.
    ONBOARDED here means done: exactly the foreign rules are left, byte for byte, in their order."""
    foreign_before = [rule for rule in before if not is_our_azure_rule(rule)]
    foreign_after = [rule for rule in after if not is_our_azure_rule(rule)]
    if after == before:
        return BEFORE, foreign_after == foreign_before
    if after == foreign_before:
        return ONBOARDED, True
    return OTHER, foreign_after == foreign_before


def _plain(value):
    """An SDK model as plain data (dicts, lists, scalars) for comparisons."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "__dict__"):
        return {key: _plain(item) for key, item in sorted(vars(value).items()) if not key.startswith("_")}
    return value


class AzuriteDirect:
    """The Blob service of the segsys accounts on Azurite, straight (never through a proxy)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self._services: dict = {}

    def connection_string(self, account: str) -> str:
        return connection_string(self.endpoint, account)

    def service(self, account: str) -> BlobServiceClient:
        if account not in self._services:
            self._services[account] = BlobServiceClient.from_connection_string(self.connection_string(account))
        return self._services[account]

    def properties(self, account: str) -> dict:
        """Every Blob service property, as plain data; cors as the rules of this module (strings as stored)."""
        found = self.service(account).get_service_properties()
        plain = {key: _plain(value) for key, value in found.items() if key != "cors"}
        plain["cors"] = [
            {
                "allowed_origins": rule.allowed_origins or "",
                "allowed_methods": rule.allowed_methods or "",
                "allowed_headers": rule.allowed_headers or "",
                "exposed_headers": rule.exposed_headers or "",
                "max_age_in_seconds": int(rule.max_age_in_seconds or 0),
            }
            for rule in found.get("cors") or []
        ]
        return plain

    def cors(self, account: str) -> list:
        return self.properties(account)["cors"]

    def set_cors(self, account: str, rules: list, **headers) -> None:
        """Write the rules exactly as given (each field goes in as one string, so the SDK does not split it)."""
        self.service(account).set_service_properties(
            cors=[
                CorsRule(
                    [rule["allowed_origins"]],
                    [rule["allowed_methods"]],
                    allowed_headers=[rule.get("allowed_headers") or ""],
                    exposed_headers=[rule.get("exposed_headers") or ""],
                    max_age_in_seconds=int(rule.get("max_age_in_seconds") or 0),
                )
                for rule in rules
            ],
            headers=headers or None,
        )

    def set_customer_properties(self, account: str) -> None:
        """The customer's own logging and delete retention: properties the module must leave as they are."""
        self.service(account).set_service_properties(
            analytics_logging=BlobAnalyticsLogging(
                read=True, write=True, delete=False, retention_policy=RetentionPolicy(enabled=True, days=7)
            ),
            delete_retention_policy=RetentionPolicy(enabled=True, days=5),
        )

    def reset(self, account: str) -> None:
        """No CORS rule and the service's default logging and retention: a clean account for the next test."""
        self.service(account).set_service_properties(
            cors=[],
            analytics_logging=BlobAnalyticsLogging(),
            delete_retention_policy=RetentionPolicy(enabled=False),
        )

    def prepare(self, account: str, rules=None, customer_properties: bool = True) -> dict:
        """Reset the account, then give it rules and (by default) the customer's properties; return its properties."""
        self.reset(account)
        if customer_properties:
            self.set_customer_properties(account)
        if rules:
            self.set_cors(account, rules)
        return self.properties(account)


def other_properties(properties: dict) -> dict:
    """Every property but cors: what no CORS write may touch."""
    return {key: value for key, value in properties.items() if key != "cors"}
