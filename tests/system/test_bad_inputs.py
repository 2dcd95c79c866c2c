# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 7, part 4: the bad-input matrix, against the real LocalStack and GCS emulator.

Each row runs one of the six modules or the role (``ansible-playbook segments.cloud.onboard`` with bad extra vars) on
buckets made for that row alone, behind proxies of its own, and demands:
no traceback; the task (or play) failed; nothing written, judged by reading the servers directly before and after
and by the proxy's log of requests that reached them; a message with a remedy; and the name of every bucket involved.

Cloud-side failures come from faultproxy.FaultProxy in front of the servers: AccessDenied on a chosen call or on every
call (its deny-all mode), and, through helpers_proxy.AnswerProxy, expired credentials, a policy AWS rejects as malformed
and a bucket in another region. A cloud that is down is an endpoint where nothing listens.

A few rows are reads that report instead of failing (a denied read that only feeds a warning, a missing bucket in
an audit, a name with dots): those must not fail, must warn or report with the remedy, and must write nothing.

The module rows run as the tasks of one playbook per cloud (a few ansible start-ups instead of one per row), the role
rows one playbook each, side by side, before the first row is judged; each row then is its own test.

A row a module bug breaks is marked xfail(strict=True, raises=...) with the bug in the reason: ``raises`` names the one
check that fails, so every other check of that row still has to pass, and a fixed bug turns the row into a failure
that asks for the mark to go. The terminal summary counts the cases, the known bugs and the tracebacks seen.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultproxy import FaultProxy
from helpers_clouds import (
    GCS_KINDS,
    PlaybookRun,
    create_bucket,
    delete_bucket,
    normalise_space,
    result_crash_signs,
    run_playbook,
    run_task_batch,
    snapshot,
)
from helpers_proxy import AnswerProxy, forwarded_writes

GCS_MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens there on a test machine


class RunDidNotFail(AssertionError):
    """The task or play succeeded on a bad input."""


class StateChanged(AssertionError):
    """A bad input led to a write: the servers hold something else than before, or a write reached them."""


class MessageLacksRemedy(AssertionError):
    """The failure message does not say what to do."""


class MessageLacksBucket(AssertionError):
    """The failure message does not name every bucket involved."""


# Known bugs: the one check each breaks (see the module docstring), a short title for the summary, and the reason.


@dataclass(frozen=True)
class Case:
    """One row: ``target`` is a module name or "role"; ``kinds`` the bucket set-ups (helpers_clouds.create_bucket) the
    row makes, written {KIND} in args and expect; ``names`` literal bucket names ({token} is the row's unique token);
    ``deny`` the proxy's operations answered with AccessDenied, or with ``answer`` (helpers_proxy.ANSWER_KINDS), ("*",)
    for every call; ``expect`` substrings of the message (case and spacing aside) that give the remedy."""

    case_id: str
    target: str
    kinds: tuple = ()
    args: dict = None
    expect: tuple = ()
    names: tuple = ()
    deny: tuple = ()
    answer: str | None = None
    endpoint_down: bool = False
    expect_failed: bool = True
    writes_undone: bool = False
    bug: tuple | None = None

    @property
    def cloud(self) -> str:
        if (
            self.target.startswith("segments_gcs_")
            or any(kind in GCS_KINDS for kind in self.kinds)
            or any(key.startswith("segments_gcs") for key in self.args or {})
        ):
            return "gcs"
        return "s3"


def access(case_id, **fields):
    return Case(case_id, "segments_s3_access", **fields)


def s3_cors(case_id, **fields):
    return Case(case_id, "segments_s3_cors", **fields)


def s3_info(case_id, **fields):
    return Case(case_id, "segments_s3_info", **fields)


def gcs_access(case_id, args=None, **fields):
    return Case(case_id, "segments_gcs_access", args=dict({"member": GCS_MEMBER}, **(args or {})), **fields)


def gcs_cors(case_id, **fields):
    return Case(case_id, "segments_gcs_cors", **fields)


def gcs_info(case_id, args=None, **fields):
    return Case(case_id, "segments_gcs_info", args=dict({"member": GCS_MEMBER}, **(args or {})), **fields)


def role(case_id, **fields):
    return Case(case_id, "role", **fields)


GRANT = "Grant the caller"

CASES = [
    # segments_s3_access
    access(
        "s3-access-invalid-name", names=("Bad_Name!",), args={"name": ["Bad_Name!"]}, expect=("check the spelling",)
    ),
    access("s3-access-name-too-short", names=("ab",), args={"name": ["ab"]}, expect=("3 to 63", "check the spelling")),
    access(
        "s3-access-legacy-name-missing",
        names=("Bi_Legacy_{token}",),
        args={"name": ["Bi_Legacy_{token}"]},
        expect=("does not exist", "check the bucket name"),
    ),
    access(
        "s3-access-missing-bucket",
        kinds=("missing",),
        args={"name": ["{missing}"]},
        expect=("does not exist", "check the bucket name"),
    ),
    access(
        "s3-access-malformed-principal",
        kinds=("plain",),
        args={"name": ["{plain}"], "principal": "arn:aws:iam::12345:user/reader"},
        expect=("12-digit account id",),
    ),
    access(
        "s3-access-principal-star",
        kinds=("plain",),
        args={"name": ["{plain}"], "principal": "*"},
        expect=("allow_public_principal",),
    ),
    access(
        "s3-access-partial-wildcard-principal",
        kinds=("plain",),
        args={"name": ["{plain}"], "principal": "arn:aws:iam::123456789012:user/*", "allow_public_principal": True},
        expect=("'*' on its own",),
    ),
    access(
        "s3-access-wildcard-action",
        kinds=("plain",),
        args={"name": ["{plain}"], "actions": ["s3:*"]},
        expect=("allow_wildcard_actions",),
    ),
    access(
        "s3-access-non-s3-action",
        kinds=("plain",),
        args={"name": ["{plain}"], "actions": ["ec2:RunInstances"]},
        expect=("s3:GetObject",),
    ),
    access(
        "s3-access-no-actions",
        kinds=("plain",),
        args={"name": ["{plain}"], "actions": []},
        expect=("at least one S3 action",),
    ),
    access(
        "s3-access-wildcard-prefix",
        kinds=("plain",),
        args={"name": ["{plain}"], "prefixes": ["images/*"]},
        expect=("without '*'",),
    ),
    access(
        "s3-access-empty-sid",
        kinds=("plain",),
        args={"name": ["{plain}"], "sid": ""},
        expect=("sid must not be empty",),
    ),
    access(
        "s3-access-concurrency-zero",
        kinds=("plain",),
        args={"name": ["{plain}"], "concurrency": 0},
        expect=("1 or more",),
    ),
    access(
        "s3-access-policy-over-20kb-after-merge",
        kinds=("big",),
        args={"name": ["{big}"]},
        expect=("20480", "Remove unused statements"),
    ),
    access(
        "s3-access-deny-all",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("*",),
        expect=("s3:GetBucketLocation", GRANT),
    ),
    access(
        "s3-access-denied-GetBucketPolicy",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("GET policy",),
        expect=("s3:GetBucketPolicy", GRANT),
    ),
    access(
        "s3-access-denied-PutBucketPolicy",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("PUT policy",),
        expect=("s3:PutBucketPolicy", GRANT),
    ),
    access(
        "s3-access-denied-DeleteBucketPolicy",
        kinds=("only_ours",),
        args={"name": ["{only_ours}"], "state": "absent"},
        deny=("DELETE policy",),
        expect=("s3:DeleteBucketPolicy", GRANT),
    ),
    access(
        "s3-access-kms-denied-GetBucketEncryption",
        kinds=("kms",),
        args={"name": ["{kms}"], "kms": True},
        deny=("GET encryption",),
        expect=("s3:GetEncryptionConfiguration", GRANT),
    ),
    access(
        "s3-access-kms-denied-DescribeKey",
        kinds=("kms",),
        args={"name": ["{kms}"], "kms": True},
        deny=("POST DescribeKey",),
        expect=("kms:DescribeKey", GRANT),
    ),
    access(
        "s3-access-kms-denied-GetKeyPolicy",
        kinds=("kms",),
        args={"name": ["{kms}"], "kms": True},
        deny=("POST GetKeyPolicy",),
        expect=("kms:GetKeyPolicy", GRANT),
    ),
    access(
        "s3-access-kms-denied-PutKeyPolicy",
        kinds=("kms",),
        args={"name": ["{kms}"], "kms": True},
        deny=("POST PutKeyPolicy",),
        expect=("kms:PutKeyPolicy", GRANT),
    ),
    # The key policy is written first; when the bucket policy is then refused, that change is undone: net, nothing
    # written.
    access(
        "s3-access-kms-denied-PutBucketPolicy-key-change-undone",
        kinds=("kms",),
        args={"name": ["{kms}"], "kms": True},
        deny=("PUT policy",),
        writes_undone=True,
        expect=("s3:PutBucketPolicy", "undone"),
    ),
    access(
        "s3-access-expired-credentials",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("*",),
        answer="expired_token",
        expect=("ExpiredToken", "Refresh the credentials"),
    ),
    access(
        "s3-access-principal-aws-rejects",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("PUT policy",),
        answer="malformed_policy",
        expect=("malformed", "existing IAM user"),
    ),
    access(
        "s3-access-wrong-region",
        kinds=("plain",),
        args={"name": ["{plain}"], "region": "us-west-2"},
        deny=("GET policy",),
        answer="wrong_region",
        expect=("eu-central-1", "Set region to eu-central-1"),
    ),
    access(
        "s3-access-endpoint-down",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        endpoint_down=True,
        expect=("could not reach AWS", "endpoint_url"),
    ),
    access(
        "s3-access-denied-GetBucketRequestPayment-warns",
        kinds=("ours",),
        args={"name": ["{ours}"]},
        deny=("GET requestPayment",),
        expect_failed=False,
        expect=("s3:GetBucketRequestPayment",),
    ),
    access(
        "s3-access-denied-GetBucketOwnershipControls-warns",
        kinds=("ours",),
        args={"name": ["{ours}"]},
        deny=("GET ownershipControls",),
        expect_failed=False,
        expect=("s3:GetBucketOwnershipControls",),
    ),
    access(
        "s3-access-denied-GetBucketEncryption-warns",
        kinds=("ours",),
        args={"name": ["{ours}"]},
        deny=("GET encryption",),
        expect_failed=False,
        expect=("s3:GetEncryptionConfiguration",),
    ),
    access(
        "s3-access-dotted-name-warns",
        kinds=("dotted",),
        args={"name": ["{dotted}"]},
        expect_failed=False,
        expect=("dots", "copy the data to a bucket whose name has no dots"),
    ),
    # segments_s3_cors
    s3_cors(
        "s3-cors-no-origins",
        kinds=("plain",),
        args={"name": ["{plain}"], "origins": []},
        expect=("at least one origin",),
    ),
    s3_cors(
        "s3-cors-origin-with-two-stars",
        kinds=("plain",),
        args={"name": ["{plain}"], "origins": ["https://*.*.segments.ai"]},
        expect=("one wildcard per origin",),
    ),
    s3_cors(
        "s3-cors-any-origin",
        kinds=("plain",),
        args={"name": ["{plain}"], "origins": ["*"]},
        expect=("allow_any_origin",),
    ),
    s3_cors(
        "s3-cors-bad-method", kinds=("plain",), args={"name": ["{plain}"], "methods": ["PATCH"]}, expect=("use GET",)
    ),
    s3_cors(
        "s3-cors-rule-id-too-long",
        kinds=("plain",),
        args={"name": ["{plain}"], "rule_id": "r" * 256},
        expect=("1 to 255 characters",),
    ),
    s3_cors(
        "s3-cors-negative-max-age",
        kinds=("plain",),
        args={"name": ["{plain}"], "max_age_seconds": -1},
        expect=("0 or more",),
    ),
    s3_cors(
        "s3-cors-101st-rule",
        kinds=("full_cors",),
        args={"name": ["{full_cors}"]},
        expect=("limit of 100", "Remove unused CORS rules"),
    ),
    s3_cors("s3-cors-invalid-name", names=("-Bad!-",), args={"name": ["-Bad!-"]}, expect=("check the spelling",)),
    s3_cors(
        "s3-cors-missing-bucket",
        kinds=("missing",),
        args={"name": ["{missing}"]},
        expect=("does not exist", "check the bucket name"),
    ),
    s3_cors(
        "s3-cors-denied-GetBucketCors",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("GET cors",),
        expect=("s3:GetBucketCORS", GRANT),
    ),
    s3_cors(
        "s3-cors-denied-PutBucketCors",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("PUT cors",),
        expect=("s3:PutBucketCORS", GRANT),
    ),
    s3_cors(
        "s3-cors-denied-DeleteBucketCors",
        kinds=("only_ours",),
        args={"name": ["{only_ours}"], "state": "absent"},
        deny=("DELETE cors",),
        expect=("s3:PutBucketCORS", GRANT),
    ),
    s3_cors(
        "s3-cors-expired-credentials",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("*",),
        answer="expired_token",
        expect=("Refresh the credentials",),
    ),
    # segments_s3_info
    s3_info(
        "s3-info-deny-all",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("*",),
        expect=("s3:GetBucketLocation", GRANT),
    ),
    s3_info(
        "s3-info-denied-GetBucketPolicy",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("GET policy",),
        expect=("s3:GetBucketPolicy", GRANT),
    ),
    s3_info(
        "s3-info-denied-GetPublicAccessBlock",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("GET publicAccessBlock",),
        expect=("s3:GetBucketPublicAccessBlock", GRANT),
    ),
    s3_info(
        "s3-info-malformed-principal",
        kinds=("plain",),
        args={"name": ["{plain}"], "principal": "bob"},
        expect=("12-digit account id",),
    ),
    s3_info(
        "s3-info-preflight-without-origins",
        kinds=("plain",),
        args={"name": ["{plain}"], "preflight": True, "origins": []},
        expect=("at least one origin",),
    ),
    s3_info("s3-info-invalid-name", names=("Bad Name",), args={"name": ["Bad Name"]}, expect=("check the spelling",)),
    s3_info(
        "s3-info-endpoint-down",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        endpoint_down=True,
        expect=("could not reach AWS", "endpoint_url"),
    ),
    s3_info(
        "s3-info-expired-credentials",
        kinds=("plain",),
        args={"name": ["{plain}"]},
        deny=("*",),
        answer="expired_token",
        expect=("Refresh the credentials",),
    ),
    s3_info(
        "s3-info-missing-bucket-reports",
        kinds=("missing",),
        args={"name": ["{missing}"]},
        expect_failed=False,
        expect=("does not exist", "check the name"),
    ),
    s3_info(
        "s3-info-kms-denied-GetKeyPolicy-warns",
        kinds=("kms",),
        args={"name": ["{kms}"]},
        deny=("POST GetKeyPolicy",),
        expect_failed=False,
        expect=("kms:GetKeyPolicy",),
    ),
    # segments_gcs_access
    gcs_access(
        "gcs-access-invalid-member",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "member": "bob"},
        expect=("serviceAccount:NAME@PROJECT.iam.gserviceaccount.com",),
    ),
    gcs_access(
        "gcs-access-all-users",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "member": "allUsers"},
        expect=("serviceAccount:",),
    ),
    gcs_access(
        "gcs-access-invalid-role",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "role": "storage.admin"},
        expect=("roles/NAME",),
    ),
    gcs_access(
        "gcs-access-invalid-name",
        names=("Bad_Name!",),
        args={"name": ["Bad_Name!"]},
        expect=("use only lowercase letters",),
    ),
    gcs_access(
        "gcs-access-name-with-google",
        names=("bi-google-{token}",),
        args={"name": ["bi-google-{token}"]},
        expect=("must not start with 'goog' or contain 'google'",),
    ),
    gcs_access(
        "gcs-access-missing-bucket",
        kinds=("gmissing",),
        args={"name": ["{gmissing}"]},
        expect=("does not exist", "check the bucket name"),
    ),
    gcs_access(
        "gcs-access-denied-get",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("GET bucket",),
        expect=("storage.buckets.get", GRANT),
    ),
    gcs_access(
        "gcs-access-denied-getIamPolicy",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("GET iam",),
        expect=("storage.buckets.getIamPolicy", GRANT),
    ),
    gcs_access(
        "gcs-access-denied-setIamPolicy",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("PUT iam",),
        expect=("storage.buckets.setIamPolicy", GRANT),
    ),
    gcs_access(
        "gcs-access-denied-setIamPolicy-absent",
        kinds=("gours",),
        args={"name": ["{gours}"], "state": "absent"},
        deny=("PUT iam",),
        expect=("storage.buckets.setIamPolicy", GRANT),
    ),
    gcs_access(
        "gcs-access-expired-token",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "auth_kind": "accesstoken", "access_token": "expired"},
        deny=("*",),
        answer="expired_token",
        expect=("credentials",),
    ),
    gcs_access(
        "gcs-access-accesstoken-without-token",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "auth_kind": "accesstoken"},
        expect=("needs access_token",),
    ),
    gcs_access(
        "gcs-access-unusable-service-account",
        kinds=("gplain",),
        args={
            "name": ["{gplain}"],
            "auth_kind": "serviceaccount",
            "service_account_contents": {"type": "service_account"},
        },
        expect=("could not load GCP credentials",),
    ),
    gcs_access(
        "gcs-access-narrow-no-earlier-grant",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "narrow": True},
        expect=("holds no unconditional roles/storage.objectViewer binding", "run without narrow"),
    ),
    gcs_access(
        "gcs-access-narrow-onto-the-legacy-role",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "narrow": True, "role": "roles/storage.objectViewer"},
        expect=("role must be another role",),
    ),
    # segments_gcs_cors
    gcs_cors(
        "gcs-cors-no-origins",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "origins": []},
        expect=("at least one Segments origin",),
    ),
    gcs_cors(
        "gcs-cors-origin-with-two-stars",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "origins": ["https://*.*.segments.ai"]},
        expect=("https://*.segments.ai",),
    ),
    gcs_cors(
        "gcs-cors-foreign-origin",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "origins": ["https://example.com"]},
        expect=("Give other origins their own CORS entry",),
    ),
    gcs_cors(
        "gcs-cors-any-origin",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "origins": ["*"]},
        expect=("not a Segments origin",),
    ),
    gcs_cors(
        "gcs-cors-bad-method",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "methods": ["TRACE"]},
        expect=("is not one of",),
    ),
    gcs_cors(
        "gcs-cors-negative-max-age",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "max_age_seconds": -1},
        expect=("0 or more",),
    ),
    gcs_cors("gcs-cors-invalid-name", names=("ab",), args={"name": ["ab"]}, expect=("3 to 63 characters",)),
    gcs_cors(
        "gcs-cors-missing-bucket",
        kinds=("gmissing",),
        args={"name": ["{gmissing}"]},
        expect=("does not exist", "check the bucket name"),
    ),
    gcs_cors(
        "gcs-cors-denied-get",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("GET bucket",),
        expect=("storage.buckets.get", GRANT),
    ),
    gcs_cors(
        "gcs-cors-denied-update",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("PATCH bucket",),
        expect=("storage.buckets.update", GRANT),
    ),
    # segments_gcs_info
    gcs_info(
        "gcs-info-invalid-member",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "member": "bob"},
        expect=("serviceAccount:NAME@PROJECT",),
    ),
    gcs_info(
        "gcs-info-invalid-role",
        kinds=("gplain",),
        args={"name": ["{gplain}"], "role": "roles/"},
        expect=("roles/NAME",),
    ),
    gcs_info(
        "gcs-info-deny-all",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("*",),
        expect=("storage.buckets.get", GRANT),
    ),
    gcs_info(
        "gcs-info-denied-getIamPolicy",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        deny=("GET iam",),
        expect=("storage.buckets.getIamPolicy", GRANT),
    ),
    gcs_info(
        "gcs-info-emulator-down",
        kinds=("gplain",),
        args={"name": ["{gplain}"]},
        endpoint_down=True,
        expect=("api_endpoint",),
    ),
    gcs_info(
        "gcs-info-missing-bucket-reports",
        kinds=("gmissing",),
        args={"name": ["{gmissing}"]},
        expect_failed=False,
        expect=("does not exist", "check the name"),
    ),
    # the role, through ansible-playbook segments.cloud.onboard -e @vars
    role(
        "role-s3-invalid-name",
        names=("Bad_Name!",),
        args={"segments_s3_buckets": ["Bad_Name!"]},
        expect=("check the spelling",),
    ),
    role(
        "role-s3-principal-star",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"], "segments_s3_principal": "*"},
        expect=("allow_public_principal",),
    ),
    role(
        "role-s3-wildcard-prefix",
        kinds=("plain",),
        args={"segments_s3_buckets": [{"name": "{plain}", "prefixes": ["*"]}]},
        expect=("without '*'",),
    ),
    role(
        "role-s3-origin-with-two-stars",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"], "segments_cors_origins": ["https://*.*.segments.ai"]},
        expect=("one wildcard per origin",),
    ),
    role(
        "role-concurrency-zero",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"], "segments_concurrency": 0},
        expect=("1 or more",),
    ),
    role(
        "role-s3-missing-bucket",
        kinds=("missing",),
        args={"segments_s3_buckets": ["{missing}"]},
        expect=("does not exist", "check the name"),
    ),
    role(
        "role-s3-deny-all",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"]},
        deny=("*",),
        expect=("s3:GetBucketLocation",),
    ),
    role(
        "role-s3-endpoint-down",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"]},
        endpoint_down=True,
        expect=("endpoint_url",),
    ),
    role(
        "role-state-not-a-choice",
        kinds=("plain",),
        args={"segments_s3_buckets": ["{plain}"], "segments_state": "onboarded"},
        expect=("must be one of: present, absent",),
    ),
    role(
        "role-gcs-member-missing",
        kinds=("gplain",),
        args={"segments_gcs_buckets": ["{gplain}"]},
        expect=("segments_gcs_member is required",),
    ),
    role(
        "role-gcs-invalid-member",
        kinds=("gplain",),
        args={"segments_gcs_buckets": ["{gplain}"], "segments_gcs_member": "bob"},
        expect=("serviceAccount:NAME@PROJECT",),
    ),
    role(
        "role-gcs-missing-bucket",
        kinds=("gmissing",),
        args={"segments_gcs_buckets": ["{gmissing}"], "segments_gcs_member": GCS_MEMBER},
        expect=("does not exist", "check the name"),
    ),
    role(
        "role-gcs-malformed-role-id",
        kinds=("gplain",),
        args={
            "segments_gcs_buckets": ["{gplain}"],
            "segments_gcs_member": GCS_MEMBER,
            "segments_gcs_role_id": "bad id!",
        },
        expect=("is not a custom role id", "3 to 64 letters"),
    ),
    role(
        "role-gcs-unknown-permission",
        kinds=("gplain",),
        args={
            "segments_gcs_buckets": ["{gplain}"],
            "segments_gcs_member": GCS_MEMBER,
            "segments_gcs_role_id": "bi_{token}",
            "segments_gcs_role_permissions": ["storage.objects.frobnicate"],
        },
        expect=("permission storage.objects.frobnicate is not valid", "check role_id and permissions"),
    ),
    role(
        "role-gcs-denied-setIamPolicy",
        kinds=("gplain",),
        args={"segments_gcs_buckets": ["{gplain}"], "segments_gcs_member": GCS_MEMBER},
        deny=("PUT iam",),
        expect=("storage.buckets.setIamPolicy",),
    ),
]


def case_params():
    params = []
    for case in CASES:
        marks = ()
        if case.bug:
            check, _title, reason = case.bug
            marks = (pytest.mark.xfail(strict=True, raises=check, reason=reason),)
        params.append(pytest.param(case, id=case.case_id, marks=marks))
    return params


# ---------------------------------------------------------------- the summary


class MatrixSummary:
    """Counts of the matrix for the terminal summary: cases by target, outcomes, known bugs and tracebacks seen."""

    def __init__(self):
        self.targets = Counter(case.target for case in CASES)
        self.tracebacks = 0
        self.batch_tracebacks = 0
        self.runs = 0

    def pytest_terminal_summary(self, terminalreporter):
        outcomes = Counter()
        for outcome in ("passed", "failed", "xfailed", "xpassed", "skipped", "error"):
            for report in terminalreporter.stats.get(outcome, []):
                if "test_bad_inputs.py::test_bad_input[" in getattr(report, "nodeid", "") and getattr(
                    report, "when", "call"
                ) in ("call", "setup"):
                    outcomes[outcome] += 1
        bugs = Counter(case.bug[1] for case in CASES if case.bug)
        terminalreporter.write_sep("-", "bad-input matrix")
        terminalreporter.write_line(
            "bad-input matrix: %d cases (%s); ran %d: %s"
            % (
                len(CASES),
                ", ".join("%s %d" % item for item in sorted(self.targets.items())),
                self.runs,
                ", ".join("%d %s" % (count, outcome) for outcome, count in sorted(outcomes.items())) or "none",
            )
        )
        for bug, count in sorted(bugs.items()):
            terminalreporter.write_line("  known bug (xfail strict), %2d case(s): %s" % (count, bug))
        terminalreporter.write_line(
            "bad-input matrix: tracebacks seen: %d (in the rows' results and output), "
            "%d (elsewhere in the batch output)" % (self.tracebacks, self.batch_tracebacks)
        )


SUMMARY = MatrixSummary()


@pytest.fixture(scope="module", autouse=True)
def matrix_summary(request):
    """Register the matrix's terminal summary once per session."""
    if not request.config.pluginmanager.has_plugin("segments-bad-input-matrix"):
        request.config.pluginmanager.register(SUMMARY, "segments-bad-input-matrix")
    return SUMMARY


# ---------------------------------------------------------------- the test


def _substitute(value, replacements: dict):
    """value with every {KEY} in its strings replaced, recursively through lists and dicts."""
    if isinstance(value, str):
        for key, replacement in replacements.items():
            value = value.replace("{%s}" % key, replacement)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, replacements) for key, item in value.items()}
    return value


def bucket_name(token: str, kind: str) -> str:
    """A unique bucket name for one row's set-up of kind (a dotted name for kind "dotted")."""
    if kind == "dotted":
        return "bi-%s.dotted" % token
    return "bi-%s-%s" % (token, kind.replace("_", "-"))


def start_proxies(case: Case, clouds, finalizers: list) -> dict:
    """One proxy per cloud in front of the servers; the row's cloud gets its deny rule (as AccessDenied or as
    ``answer``)."""
    proxies = {}
    for cloud in ("s3", "gcs"):
        upstream = clouds.aws_endpoint if cloud == "s3" else clouds.gcs_endpoint
        proxy = (
            AnswerProxy(upstream, cloud, case.answer)
            if case.answer and cloud == case.cloud
            else FaultProxy(upstream, cloud)
        )
        proxy.start()
        finalizers.append(proxy.stop)
        if case.deny and cloud == case.cloud:
            proxy.deny_all(only=None if case.deny == ("*",) else [(None, operation, None) for operation in case.deny])
        proxies[cloud] = proxy
    return proxies


def module_message(result: dict) -> str:
    """What the module tells the user: the task message, each bucket's message, and the warnings and problems listed
    in each bucket's entry (shown under its name)."""
    parts = [str(result.get("msg") or "")]
    parts.extend(str(warning) for warning in result.get("warnings") or [])
    for bucket in result.get("buckets") or []:
        parts.append(str(bucket.get("msg") or ""))
        parts.extend(
            "%s: %s" % (bucket.get("name"), text)
            for text in (bucket.get("warnings") or []) + (bucket.get("problems") or [])
        )
    return "\n".join(part for part in parts if part)


@dataclass
class Row:
    """One row prepared and run: its buckets and proxies, the states read before and after, and what the run showed."""

    case: Case
    created: list
    replacements: dict
    proxies: dict
    before: list
    after: list = None
    failed: bool = None
    message: str = ""
    tracebacks: int = 0
    seconds: float = None

    @property
    def bucket_names(self) -> list:
        return [bucket["name"] for bucket in self.created] + [
            _substitute(name, self.replacements) for name in self.case.names
        ]

    @property
    def args(self) -> dict:
        return _substitute(self.case.args or {}, self.replacements)

    def endpoint(self, cloud: str) -> str:
        return DEAD_ENDPOINT if self.case.endpoint_down and cloud == self.case.cloud else self.proxies[cloud].url


def prepare_row(case: Case, clouds, finalizers: list) -> Row:
    """Make the row's buckets, read their state, and start its proxies."""
    token = secrets.token_hex(4)
    created = [create_bucket(clouds, kind, bucket_name(token, kind)) for kind in case.kinds]
    finalizers.append(lambda: [delete_bucket(clouds, bucket) for bucket in created])
    replacements = dict({kind: bucket["name"] for kind, bucket in zip(case.kinds, created)}, token=token)
    return Row(
        case,
        created,
        replacements,
        start_proxies(case, clouds, finalizers),
        [snapshot(clouds, bucket) for bucket in created],
    )


def run_module_rows(rows: list, clouds, workdir: Path) -> PlaybookRun:
    """Run the module rows as the tasks of one playbook, each against its own proxies (or a dead endpoint). Anything
    that would fall back to the environment's endpoints reaches nothing: the environment points at the dead endpoint."""
    tasks = {}
    for index, row in enumerate(rows):
        endpoint_option = (
            {"endpoint_url": row.endpoint("s3")} if row.case.cloud == "s3" else {"api_endpoint": row.endpoint("gcs")}
        )
        tasks["row_%03d" % index] = {"segments.cloud.%s" % row.case.target: dict(row.args, **endpoint_option)}
    module_defaults = {
        "group/segments.cloud.aws": {
            "access_key": clouds.access_key,
            "secret_key": clouds.secret_key,
            "region": clouds.region,
        },
        "group/segments.cloud.gcs": {"project": clouds.project},
    }
    results, run = run_task_batch(
        tasks, workdir, module_defaults, aws_endpoint=DEAD_ENDPOINT, gcs_endpoint=DEAD_ENDPOINT
    )
    assert results, "the batch saved no results (rc %s):\n%s\n%s" % (
        run.returncode,
        run.stdout[-3000:],
        run.stderr[-3000:],
    )
    for index, row in enumerate(rows):
        result = results["row_%03d" % index]
        row.failed, row.message, row.tracebacks = (
            bool(result.get("failed")),
            module_message(result),
            result_crash_signs(result),
        )
    return run


def run_role_row(row: Row, workdir: Path) -> None:
    """Run ansible-playbook segments.cloud.onboard with the row's extra vars, its endpoints pointing at the row's
    proxies."""
    extra_vars = dict(
        row.args,
        segments_backup_dir=str(workdir / "backups"),
        segments_aws_endpoint_url=row.endpoint("s3"),
        segments_gcs_api_endpoint=row.endpoint("gcs"),
    )
    run = run_playbook(
        "segments.cloud.onboard", extra_vars, workdir, aws_endpoint=row.endpoint("s3"), gcs_endpoint=row.endpoint("gcs")
    )
    row.failed, row.message, row.tracebacks, row.seconds = (
        run.returncode != 0,
        run.output,
        len(run.tracebacks()),
        run.seconds,
    )


def selected_cases(session) -> list:
    """The matrix rows this session runs (after -k and the like)."""
    return [
        item.callspec.params["case"]
        for item in session.items
        if getattr(item, "originalname", None) == "test_bad_input" and hasattr(item, "callspec")
    ]


@pytest.fixture(scope="module")
def matrix_rows(request, clouds, tmp_path_factory):
    """Every selected row, prepared and run before the first row is judged: the module rows as one playbook per cloud
    and the role rows one playbook each, side by side, so the matrix costs a few ansible start-ups instead of one per
    row."""
    finalizers = []
    request.addfinalizer(lambda: [finalize() for finalize in reversed(finalizers)])
    rows = {case.case_id: prepare_row(case, clouds, finalizers) for case in selected_cases(request.session)}
    workdir = tmp_path_factory.mktemp("bad-inputs")
    module_rows = {
        cloud: [row for row in rows.values() if row.case.target != "role" and row.case.cloud == cloud]
        for cloud in ("s3", "gcs")
    }
    role_rows = [row for row in rows.values() if row.case.target == "role"]
    batch_runs = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        batches = [
            pool.submit(run_module_rows, batch, clouds, workdir / cloud)
            for cloud, batch in module_rows.items()
            if batch
        ]
        role_runs = [pool.submit(run_role_row, row, workdir / row.case.case_id) for row in role_rows]
        batch_runs = [batch.result() for batch in batches]
        for role_run in role_runs:
            role_run.result()
    for row in rows.values():
        row.after = [snapshot(clouds, bucket) for bucket in row.created]
    SUMMARY.batch_tracebacks = sum(len(run.tracebacks()) for run in batch_runs)
    return rows


def test_matrix_has_at_least_30_cases_across_all_modules_and_the_role():
    assert len(CASES) >= 30
    assert {case.target for case in CASES} == {
        "segments_s3_access",
        "segments_s3_cors",
        "segments_s3_info",
        "segments_gcs_access",
        "segments_gcs_cors",
        "segments_gcs_info",
        "role",
    }
    assert len({case.case_id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", case_params())
def test_bad_input(case, matrix_rows, record_figures, matrix_summary):
    row = matrix_rows[case.case_id]
    writes = forwarded_writes(row.proxies["s3"]) + forwarded_writes(row.proxies["gcs"])
    matrix_summary.runs += 1
    matrix_summary.tracebacks += row.tracebacks
    figures = {"failed": int(row.failed), "tracebacks": row.tracebacks}
    if row.seconds is not None:
        figures["seconds"] = row.seconds
    record_figures("bad_inputs", case.case_id, figures)
    shown = normalise_space(row.message).lower()

    assert row.tracebacks == 0, "the run shows a traceback:\n%s" % row.message[-3000:]
    if row.failed != case.expect_failed:
        raise RunDidNotFail(
            "expected failed=%s, got failed=%s; message:\n%s" % (case.expect_failed, row.failed, row.message[-3000:])
        )
    if row.before != row.after:
        raise StateChanged(
            "the servers hold something else after the run:\nbefore %s\nafter  %s"
            % (json.dumps(row.before, sort_keys=True)[:3000], json.dumps(row.after, sort_keys=True)[:3000])
        )
    if writes and not case.writes_undone:
        raise StateChanged("write requests reached the servers: %s" % writes)
    missing_words = [
        word for word in _substitute(list(case.expect), row.replacements) if normalise_space(word).lower() not in shown
    ]
    if missing_words:
        raise MessageLacksRemedy("the message lacks %s:\n%s" % (missing_words, row.message[-3000:]))
    unnamed = [name for name in row.bucket_names if name.lower() not in shown]
    if unnamed:
        raise MessageLacksBucket("the message does not name %s:\n%s" % (unnamed, row.message[-3000:]))


def test_matrix_playbooks_show_no_traceback(matrix_rows, matrix_summary):
    """The batch playbooks' own output, beyond each row's result, shows no traceback either."""
    assert matrix_summary.batch_tracebacks == 0


# ---------------------------------------------------------------- Azure (data plane, Azurite)

# Azurite serves a fixed set of accounts (helpers_azure.ACCOUNT_RANGES): the rows refused before any call share the
# first two; a row that reaches the service has one of its own. Every row has its own proxy, so a write is its row's.
AZURE_SHARED_ACCOUNTS = 2
OTHER_KEY = "b3RoZXIga2V5IG9mIGFub3RoZXIgYWNjb3VudCwgbm90IHRoaXMgb25lIGF0IGFsbA=="  # valid base64, not the account's
GHOST_ACCOUNT = "segsysghost"  # a valid name Azurite does not serve
NOWHERE_ACCOUNT = "segsysnowhere%s" % secrets.token_hex(3)  # no such account on Azure: its DNS name does not exist
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
# The Entra ID and cloud variables the Azure modules fall back to (azure.azcollection's names).
AZURE_ENVIRONMENT_CREDENTIALS = (
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLIENT_ID",
    "AZURE_SECRET",
    "AZURE_TENANT",
    "AZURE_CLOUD_ENVIRONMENT",
    "AZURE_PROFILE",
    "ANSIBLE_AZURE_AUTH_SOURCE",
)
BAD_SAS = "sv=2021-08-06&ss=b&srt=s&sp=r&sig=bm90YXNpZw%3D%3D"  # well formed, signed by no key


@dataclass
class AzureCase:
    """One Azure bad-input row. build(row) -> the module's args; expect: phrases the message must hold; names: the
    accounts the message must name (default: the row's name option); seed: "plain" (the customer's rules and
    properties), "full" (five customer rules), "six" (six), "ours" (plain plus Segments' rule); own: the row reaches the
    service and gets an account of its own; deny: make the row's proxy answer 403 to those calls (None: to none)."""

    case_id: str
    build: object
    expect: tuple
    module: str = "segments_azure_cors"
    names: tuple = ()
    seed: str = "plain"
    own: bool = False
    deny: object = None


@dataclass
class AzureRow:
    """A row prepared: its accounts, proxy and args, then the outcome."""

    case: AzureCase
    accounts: list
    proxy: FaultProxy
    args: dict = None
    before: dict = None
    after: dict = None
    result: dict = None

    def cs(self, account: str, key=None, endpoint=None) -> str:
        """A connection string of account through this row's proxy (or endpoint), with key (default: the right one)."""
        from helpers_azure import AZURITE_ACCOUNT_KEY, connection_string

        return connection_string(endpoint or self.proxy.url, account, key or AZURITE_ACCOUNT_KEY)

    @property
    def account(self) -> str:
        return self.accounts[0]


def _azure_cs_only(row, **extra):
    return dict(name=[row.account], connection_strings={row.account: row.cs(row.account)}, **extra)


AZURE_CASES = [
    AzureCase(
        "azure-name-capitals",
        lambda row: dict(name=["Segsys57"], connection_strings={"Segsys57": row.cs("Segsys57")}),
        ("not a valid Azure storage account name", "lowercase letters"),
    ),
    AzureCase("azure-name-too-short", lambda row: dict(name=["ab"]), ("'ab' is not a valid Azure storage account",)),
    AzureCase("azure-name-hyphen", lambda row: dict(name=["seg-sys57"]), ("no hyphens",)),
    AzureCase("azure-name-too-long", lambda row: dict(name=["a" * 25]), ("3 to 24",)),
    AzureCase(
        "azure-info-name-dot",
        lambda row: dict(name=["seg.sys57"]),
        ("not a valid Azure storage account name",),
        module="segments_azure_info",
    ),
    AzureCase(
        "azure-connection-string-of-another-account",
        lambda row: dict(name=[row.accounts[0]], connection_strings={row.accounts[0]: row.cs(row.accounts[1])}),
        ("belongs to storage account '{1}', not '{0}'", "each account needs its own connection string"),
        names=("{0}", "{1}"),
    ),
    AzureCase(
        "azure-connection-string-without-key",
        lambda row: dict(
            name=[row.account],
            connection_strings={
                row.account: "AccountName=%s;BlobEndpoint=%s/%s" % (row.account, row.proxy.url, row.account)
            },
        ),
        ("is not a storage connection string with AccountName and AccountKey",),
    ),
    AzureCase(
        "azure-connection-string-garbage",
        lambda row: dict(name=[row.account], connection_strings={row.account: "not a connection string"}),
        ("is not a storage connection string",),
    ),
    AzureCase(
        "azure-no-credentials",
        lambda row: dict(name=[row.account]),
        ("no connection string or account key", "needs subscription_id"),
    ),
    AzureCase(
        "azure-no-resource-group",
        lambda row: dict(name=[row.account], subscription_id=SUBSCRIPTION),
        ("have no resource group", "set resource_group"),
    ),
    AzureCase(
        "azure-bad-resource-group",
        lambda row: dict(name=[row.account], subscription_id=SUBSCRIPTION, resource_group="bad group!"),
        ("resource group name 'bad group!' is not valid",),
    ),
    AzureCase(
        "azure-unknown-cloud-environment",
        lambda row: _azure_cs_only(row, cloud_environment="AzureMars"),
        ("cloud_environment 'AzureMars' is not one of", "AzureCloud"),
    ),
    AzureCase(
        "azure-foreign-origin",
        lambda row: _azure_cs_only(row, origins=["https://evil.example"]),
        ("'https://evil.example' is not a Segments origin",),
    ),
    AzureCase(
        "azure-wildcard-origin", lambda row: _azure_cs_only(row, origins=["*"]), ("'*' is not a Segments origin",)
    ),
    AzureCase(
        "azure-origin-without-scheme",
        lambda row: _azure_cs_only(row, origins=["app.segments.ai"]),
        ("'app.segments.ai' is not a Segments origin",),
    ),
    AzureCase(
        "azure-origin-with-comma",
        lambda row: _azure_cs_only(row, origins=["https://app.segments.ai,https://segments.ai"]),
        ("is not a Segments origin",),
    ),
    AzureCase("azure-unknown-method", lambda row: _azure_cs_only(row, methods=["FETCH"]), ("'FETCH' is not one of",)),
    AzureCase("azure-no-methods", lambda row: _azure_cs_only(row, methods=[]), ("methods must list at least one",)),
    AzureCase(
        "azure-negative-max-age", lambda row: _azure_cs_only(row, max_age_seconds=-1), ("must be 0 or more, got -1",)
    ),
    AzureCase(
        "azure-header-with-comma",
        lambda row: _azure_cs_only(row, allowed_headers=["x-ms-meta-a,x-ms-meta-b"]),
        ("allowed_headers[0]", "without commas"),
    ),
    AzureCase("azure-concurrency-zero", lambda row: _azure_cs_only(row, concurrency=0), ("concurrency must be 1",)),
    AzureCase(
        "azure-wrong-account-key",
        lambda row: dict(name=[row.account], connection_strings={row.account: row.cs(row.account, key=OTHER_KEY)}),
        ("the storage account refused the request", "connection string, account key or SAS token"),
        own=True,
    ),
    AzureCase(
        "azure-info-wrong-account-key",
        lambda row: dict(name=[row.account], connection_strings={row.account: row.cs(row.account, key=OTHER_KEY)}),
        ("the storage account refused the request",),
        module="segments_azure_info",
        own=True,
    ),
    AzureCase(
        "azure-key-for-unknown-account",
        lambda row: dict(
            name=[GHOST_ACCOUNT],
            account_keys={GHOST_ACCOUNT: OTHER_KEY},
            blob_endpoint="%s/{account}" % row.proxy.url,
        ),
        ("the storage account does not exist", "Check the account name"),
        own=True,
    ),
    AzureCase(
        "azure-account-key-not-base64",
        lambda row: dict(
            name=[row.account], account_keys={row.account: "not base64!"}, blob_endpoint="%s/{account}" % row.proxy.url
        ),
        ("account_keys[{0}] is not a storage account key", "base64"),
        own=True,
    ),
    AzureCase(
        "azure-bad-sas-token",
        lambda row: dict(
            name=[row.account],
            connection_strings={
                row.account: "AccountName=%s;BlobEndpoint=%s/%s;SharedAccessSignature=%s"
                % (row.account, row.proxy.url, row.account, BAD_SAS)
            },
        ),
        ("the storage account refused the request", "SAS token"),
        own=True,
    ),
    AzureCase(
        "azure-five-rules-already",
        _azure_cs_only,
        ("would hold 6 rules, over Azure's limit of 5", "nothing was written", "Remove a CORS rule"),
        seed="full",
        own=True,
    ),
    AzureCase(
        "azure-six-rules-already",
        _azure_cs_only,
        ("would hold 7 rules, over Azure's limit of 5", "nothing was written"),
        seed="six",
        own=True,
    ),
    AzureCase(
        "azure-write-denied",
        _azure_cs_only,
        ("permission denied", "Microsoft.Storage/storageAccounts/blobServices/write"),
        own=True,
        deny=[("PUT", None, None)],
    ),
    AzureCase(
        "azure-read-denied",
        _azure_cs_only,
        ("permission denied", "Microsoft.Storage/storageAccounts/blobServices/read"),
        own=True,
        deny=[("GET", None, None)],
    ),
    AzureCase(
        "azure-absent-write-denied",
        lambda row: _azure_cs_only(row, state="absent"),
        ("permission denied", "blobServices/write"),
        seed="ours",
        own=True,
        deny=[("PUT", None, None)],
    ),
    AzureCase(
        "azure-azurite-down",
        lambda row: dict(
            name=[row.account], connection_strings={row.account: row.cs(row.account, endpoint=DEAD_ENDPOINT)}
        ),
        ("could not reach 127.0.0.1", "is it running?"),
        own=True,
    ),
    AzureCase(
        "azure-nonexistent-account",
        lambda row: dict(name=[NOWHERE_ACCOUNT], account_keys={NOWHERE_ACCOUNT: OTHER_KEY}),
        ("the storage account does not exist", "has no DNS name", "Check the account name"),
        own=True,
    ),
]


def _azure_seed_rules(seed: str) -> list:
    from helpers_azure import foreign_azure_rules, foreign_rule, our_azure_rule

    if seed == "full":
        return [foreign_rule(index) for index in range(5)]
    if seed == "six":
        return [foreign_rule(index) for index in range(6)]
    return foreign_azure_rules() + ([our_azure_rule()] if seed == "ours" else [])


@pytest.fixture(scope="module")
def azure_matrix(request, clouds, tmp_path_factory):
    """Every Azure row prepared, run in one playbook, and its accounts read before and after: {case_id: AzureRow}."""
    if not clouds.azure_endpoint:
        pytest.skip("the Azure rows need Azurite: SEGMENTS_AZURITE_ENDPOINT is not set")
    from helpers_azure import AzuriteDirect, accounts

    azurite = AzuriteDirect(clouds.azure_endpoint)
    own_count = sum(1 for case in AZURE_CASES if case.own)
    pool = accounts("bad_inputs", AZURE_SHARED_ACCOUNTS + own_count)
    shared, own = pool[:AZURE_SHARED_ACCOUNTS], iter(pool[AZURE_SHARED_ACCOUNTS:])
    request.addfinalizer(lambda: [azurite.reset(account) for account in pool])
    for account in shared:
        azurite.prepare(account, _azure_seed_rules("plain"))
    rows = {}
    for case in AZURE_CASES:
        proxy = FaultProxy(clouds.azure_endpoint, "azure")
        proxy.start()
        request.addfinalizer(proxy.stop)
        if case.deny:
            proxy.deny_all(case.deny)
        row_accounts = [next(own)] if case.own else list(shared)
        if case.own:
            azurite.prepare(row_accounts[0], _azure_seed_rules(case.seed))
        row = AzureRow(case, row_accounts, proxy)
        row.args = case.build(row)
        rows[case.case_id] = row
    for row in rows.values():
        row.before = {account: azurite.properties(account) for account in row.accounts}
    tasks = {
        case_id.replace("-", "_"): {"segments.cloud.%s" % row.case.module: row.args} for case_id, row in rows.items()
    }
    # Each row names its own credentials: the management-plane variables scripts/lib.sh exports for the Azure fake
    # would otherwise fill in what a row leaves out on purpose.
    results, run = run_task_batch(
        tasks, tmp_path_factory.mktemp("azure-matrix"), {}, drop_environment=AZURE_ENVIRONMENT_CREDENTIALS
    )
    for case_id, row in rows.items():
        row.result = results.get(case_id.replace("-", "_")) or {}
        row.after = {account: azurite.properties(account) for account in row.accounts}
    rows["_run"] = run
    return rows


def test_azure_matrix_has_at_least_20_rows():
    assert len(AZURE_CASES) >= 20
    assert len({case.case_id for case in AZURE_CASES}) == len(AZURE_CASES)


@pytest.mark.parametrize("case", AZURE_CASES, ids=[case.case_id for case in AZURE_CASES])
def test_azure_bad_input(case, azure_matrix, record_figures, matrix_summary):
    """Failed, no traceback, nothing written (the accounts read directly, and the row's proxy log), a message with the
    remedy that names every account involved."""
    row = azure_matrix[case.case_id]
    result = row.result
    message = module_message(result)
    crash_signs = result_crash_signs(result)
    matrix_summary.runs += 1
    matrix_summary.tracebacks += crash_signs
    failed = bool(result.get("failed"))
    record_figures("bad_inputs", case.case_id, {"failed": int(failed), "tracebacks": crash_signs})
    replacements = {str(index): account for index, account in enumerate(row.accounts)}
    shown = normalise_space(message).lower()

    assert result, "no result for the row"
    assert crash_signs == 0, "the run shows a traceback:\n%s" % json.dumps(result)[-3000:]
    if not failed:
        raise RunDidNotFail("the task did not fail; result:\n%s" % json.dumps(result)[-3000:])
    if row.before != row.after:
        raise StateChanged(
            "the accounts hold something else after the run:\nbefore %s\nafter  %s" % (row.before, row.after)
        )
    writes = forwarded_writes(row.proxy)
    if writes:
        raise StateChanged("write requests reached Azurite: %s" % writes)
    missing_words = [
        word for word in _substitute(list(case.expect), replacements) if normalise_space(word).lower() not in shown
    ]
    if missing_words:
        raise MessageLacksRemedy("the message lacks %s:\n%s" % (missing_words, message[-3000:]))
    names = _substitute(list(case.names), replacements) if case.names else row.args.get("name") or []
    unnamed = [name for name in names if name.lower() not in shown]
    if unnamed:
        raise MessageLacksBucket("the message does not name %s:\n%s" % (unnamed, message[-3000:]))


def test_azure_matrix_playbook_shows_no_traceback(azure_matrix):
    """The Azure batch playbook's own output, beyond each row's result, shows no traceback either."""
    assert not azure_matrix["_run"].tracebacks(), azure_matrix["_run"].output[-3000:]
