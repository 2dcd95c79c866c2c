# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.segments.cloud.plugins.module_utils._azure.errors import (
    AccountError,
    AccountMissing,
    account_error,
    missing_account_error,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError


def test_account_error_is_the_one_exception_type_and_names_the_account():
    error = account_error("customerimages", "set blob service properties", 403, "AuthorizationFailed", "The client ...")
    assert isinstance(error, BucketError)
    assert error.message.startswith(
        "storage account 'customerimages': set blob service properties failed: permission denied"
    )
    assert "Microsoft.Storage/storageAccounts/blobServices/write" in error.message


@pytest.mark.parametrize(
    "status, code, expected, missing",
    [
        (403, "AuthenticationFailed", "rejected the credentials", False),
        (403, "AuthorizationPermissionMismatch", "permission denied", False),
        (401, "InvalidAuthenticationToken", "credentials were rejected", False),
        (404, "ResourceNotFound", "does not exist", True),
        (404, "ResourceGroupNotFound", "resource group does not exist", True),
        (404, "SomethingElse", "not found", False),
        (400, "RoleAssignmentUpdateNotPermitted", "same name exists", False),
        (400, "PrincipalNotFound", "does not know the service principal", False),
        (503, "ServerBusy", "busy", False),
        (429, None, "busy", False),
        (400, "InvalidXmlDocument", "Azure answered (InvalidXmlDocument, HTTP 400): bad xml", False),
    ],
)
def test_codes_map_to_problems_and_remedies(status, code, expected, missing):
    error = account_error("acct1", "read storage account", status, code, "bad xml\nsecond line")
    assert expected in error.message
    assert error.remedy
    assert isinstance(error, AccountMissing) is missing


def test_matching_is_on_the_code_not_the_message():
    # ARM changed RoleAssignmentUpdateNotPermitted's and RoleAssignmentExists' text in 2025; only the code counts.
    first = account_error("acct1", "create role assignment", 400, "RoleAssignmentUpdateNotPermitted", "old text")
    second = account_error("acct1", "create role assignment", 400, "RoleAssignmentUpdateNotPermitted", "new text")
    assert first.message == second.message


def test_missing_account_names_the_host():
    error = missing_account_error("nosuchacct", "read blob service properties", "nosuchacct.blob.core.windows.net")
    assert isinstance(error, AccountError) and isinstance(error, AccountMissing)
    assert "nosuchacct.blob.core.windows.net" in error.message
