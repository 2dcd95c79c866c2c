# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Azure failures as messages, pure: the error code of an answer mapped to what failed and what the user can do.

Matching is on the error code (the x-ms-error-code header of the data plane, ``error.code`` of ARM and Graph), never
on the message text: ARM changed the text of RoleAssignmentExists in 2025. The I/O side (client.py) extracts the code
and calls ``account_error``; that is the one place an Azure failure becomes a message.
"""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError

AZURE_INFO_MODULE = "segments.cloud.segments_azure_info"

# Codes that are answers, not failures, for the caller who asked for them.
ROLE_ASSIGNMENT_EXISTS = "RoleAssignmentExists"
ROLE_ASSIGNMENT_UPDATE_NOT_PERMITTED = "RoleAssignmentUpdateNotPermitted"

# The permission each action needs, so that a 403 can name it.
PERMISSION_FOR_ACTION = {
    "read blob service properties": "Microsoft.Storage/storageAccounts/blobServices/read",
    "set blob service properties": "Microsoft.Storage/storageAccounts/blobServices/write",
    "read storage account": "Microsoft.Storage/storageAccounts/read",
    "read role assignments": "Microsoft.Authorization/roleAssignments/read",
    "create role assignment": "Microsoft.Authorization/roleAssignments/write",
    "delete role assignment": "Microsoft.Authorization/roleAssignments/delete",
    "look up service principal": "the Microsoft Graph permission Application.Read.All",
    "create service principal": (
        "the Microsoft Graph permission Application.ReadWrite.All (or the Cloud Application Administrator role)"
    ),
}

_NOT_FOUND_CODES = {
    "ResourceNotFound": "the storage account does not exist",
    "StorageAccountNotFound": "the storage account does not exist in this resource group",
    "ResourceGroupNotFound": "the resource group does not exist in this subscription",
    "SubscriptionNotFound": "the subscription does not exist or the credentials cannot see it",
    "ParentResourceNotFound": "the storage account does not exist in this resource group",
    "RoleAssignmentNotFound": "the role assignment does not exist",
    "Request_ResourceNotFound": "the service principal does not exist in this tenant",
}

_AUTH_CODES = ("InvalidAuthenticationToken", "ExpiredAuthenticationToken", "InvalidAuthenticationTokenTenant")
_THROTTLE_CODES = ("TooManyRequests", "ServerBusy", "OperationTimedOut", "InternalError")


class AccountError(BucketError):
    """A failure on one storage account; the message names the account where BucketError names a bucket."""

    noun = "storage account"


class AccountMissing(AccountError):
    """The storage account (or its resource group or subscription) does not exist, or the caller cannot see it."""


def _permission_remedy(action: str) -> str:
    permission = PERMISSION_FOR_ACTION.get(action, "the permission for %s" % action)
    return "Grant the caller %s on this storage account (see docs/permissions.md), then run again" % permission


def account_error(account: str, action: str, status, code, detail: str = "") -> AccountError:
    """The AccountError for an HTTP answer with status and error code (either may be None) during action on account.

    detail is the service's own message, shown as it is, for the codes this table does not know."""
    code = code or ""
    detail = (detail or "").strip().splitlines()[0] if (detail or "").strip() else ""
    shown = " (%s%s)" % (code or "HTTP %s" % status, ", HTTP %s" % status if code and status else "")
    if code == "AuthenticationFailed":
        return AccountError(
            account,
            action,
            "the storage account rejected the credentials%s" % shown,
            "Check this account's connection string or account key (they change when the key is rotated)",
        )
    if code == "AuthorizationFailure":
        # The Blob service's own refusal of a key or SAS request (a SAS without the permission, the account's firewall;
        # Azurite also answers it to a wrong key): no Entra ID role would help.
        return AccountError(
            account,
            action,
            "the storage account refused the request%s" % shown,
            "Check this account's connection string, account key or SAS token (a rotated key, or a SAS without this "
            "permission), and that the account's firewall lets this machine in",
        )
    if code in ("AuthorizationFailed", "AuthorizationPermissionMismatch") or status == 403:
        return AccountError(account, action, "permission denied%s" % shown, _permission_remedy(action))
    if code in _AUTH_CODES or status == 401:
        return AccountError(
            account,
            action,
            "the credentials were rejected%s" % shown,
            "Check client_id, secret and tenant (or refresh the az login), then run again",
        )
    if code in _NOT_FOUND_CODES:
        return AccountMissing(
            account,
            action,
            "%s%s" % (_NOT_FOUND_CODES[code], shown),
            "Check the account name, resource_group and subscription_id",
        )
    if status == 404:
        return AccountError(
            account,
            action,
            "not found%s" % shown,
            "Check the account name, resource_group and subscription_id",
        )
    if code == ROLE_ASSIGNMENT_UPDATE_NOT_PERMITTED:
        return AccountError(
            account,
            action,
            "a role assignment with the same name exists for another principal, role or scope%s" % shown,
            "Look at the role assignments of this scope with segments.cloud.segments_azure_info; "
            "an assignment made by hand with this name must be removed by hand",
        )
    if code == "PrincipalNotFound":
        return AccountError(
            account,
            action,
            "Azure does not know the service principal yet%s" % shown,
            "A new service principal takes a minute to replicate; run again shortly",
        )
    if code == "AccountIsDisabled":
        return AccountError(account, action, "the storage account is disabled%s" % shown, "Enable the account first")
    if code in _THROTTLE_CODES or status in (429, 500, 503):
        return AccountError(
            account,
            action,
            "Azure was busy and the retries ran out%s" % shown,
            "Lower concurrency or run again later",
        )
    return AccountError(
        account,
        action,
        "Azure answered%s%s" % (shown, ": %s" % detail if detail else ""),
        "Check the account and the options, then run again",
    )


def unreachable_error(account: str, action: str, host: str, reason: str) -> AccountError:
    """The AccountError for an endpoint that did not answer at all (no DNS name, no connection)."""
    return AccountError(
        account,
        action,
        "could not reach %s (%s)" % (host, reason),
        "Check the network, and for an emulator its endpoint in the connection string (is it running?)",
    )


def missing_account_error(account: str, action: str, host: str) -> AccountError:
    """The AccountError for a storage account whose blob host has no DNS name: on Azure, the account does not exist."""
    return AccountMissing(
        account,
        action,
        "the storage account does not exist: its blob endpoint %s has no DNS name" % host,
        "Check the account name (storage account names are global, 3 to 24 lowercase letters and digits)",
    )
