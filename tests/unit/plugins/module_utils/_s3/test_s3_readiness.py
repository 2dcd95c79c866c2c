# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import build_rule
from ansible_collections.segments.cloud.plugins.module_utils._s3.names import check_bucket_name
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    SEGMENTS_PRINCIPAL,
    build_kms_statement,
    build_statement,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import (
    KMS_AWS_MANAGED,
    KMS_CUSTOMER,
    KMS_NONE,
    KMS_OTHER_ACCOUNT,
    KMS_UNKNOWN,
    access_granted,
    access_warnings,
    classify_kms_key,
    cors_rule_present,
    deny_statements_for,
    dotted_name_sentence,
    encryption_summary,
    key_region,
    kms_grant_present,
    kms_sentence,
    ownership_sentence,
    preflight_allows,
    readiness,
    virtual_hosted_url,
)

BUCKET = "customer-images"
SID = "segments-s3-access"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd"
TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::%s" % BUCKET, "arn:aws:s3:::%s/*" % BUCKET],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
BLANKET_DENY = {
    "Sid": "DenyAllButAdmins",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET,
}
IP_DENY = dict(BLANKET_DENY, Sid="DenyOutsideOffice", Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


# Bucket names


@pytest.mark.parametrize("name", ["customer-images", "a.b.c", "abc", "x" * 63])
def test_valid_names_pass_silently(name):
    assert check_bucket_name(name) == (None, [])


@pytest.mark.parametrize(
    "name", ["Customer_Images", "UPPER", "with_underscore", "x" * 200, "192.168.1.1", "xn--legacy"]
)
def test_legacy_names_pass_with_a_warning_about_virtual_hosted_urls(name):
    error, warnings = check_bucket_name(name)
    assert error is None and len(warnings) == 1
    assert "legacy bucket created in us-east-1 before March 2018" in warnings[0]
    assert "virtual-hosted HTTPS URLs" in warnings[0]


@pytest.mark.parametrize("name", ["ab", "", "bad name", "bad/name", "x" * 256, "naïve", "bad*name", None])
def test_names_no_bucket_can_have_are_refused(name):
    error, warnings = check_bucket_name(name)
    assert error and warnings == []
    assert "No S3 bucket can have this name" in error or "must be a string" in error


# URLs and dotted names


def test_virtual_hosted_url_and_dotted_names():
    assert virtual_hosted_url(BUCKET, "eu-west-1") == "https://customer-images.s3.eu-west-1.amazonaws.com/"
    assert dotted_name_sentence(BUCKET, "eu-west-1") is None
    sentence = dotted_name_sentence("images.customer.com", "us-east-1")
    assert "https://images.customer.com.s3.us-east-1.amazonaws.com/ fails the TLS certificate check" in sentence


# Encryption and KMS keys


def test_encryption_summary():
    assert encryption_summary(None) == {"algorithm": None, "kms_key": None, "bucket_key_enabled": None}
    configuration = {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
                "BucketKeyEnabled": True,
            }
        ]
    }
    assert encryption_summary(configuration) == {"algorithm": "aws:kms", "kms_key": KEY_ARN, "bucket_key_enabled": True}
    assert (
        encryption_summary({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})["algorithm"]
        == "AES256"
    )


def test_key_region_comes_from_the_arn_else_the_bucket():
    assert key_region(KEY_ARN, "us-east-1") == "eu-west-1"
    assert key_region("arn:aws:kms:ap-south-1:123456789012:alias/data", "us-east-1") == "ap-south-1"
    assert key_region("1234abcd", "us-east-2") == "us-east-2"
    assert key_region("alias/data", "us-east-2") == "us-east-2"
    assert key_region(None, "us-east-2") == "us-east-2"


@pytest.mark.parametrize(
    "algorithm, key_id, manager, key_account, caller, expected",
    [
        ("AES256", None, None, None, None, KMS_NONE),
        (None, None, None, None, None, KMS_NONE),
        ("aws:kms", None, None, None, None, KMS_AWS_MANAGED),
        ("aws:kms", "alias/aws/s3", None, None, None, KMS_AWS_MANAGED),
        ("aws:kms", KEY_ARN, "AWS", "123456789012", "123456789012", KMS_AWS_MANAGED),
        ("aws:kms", KEY_ARN, "CUSTOMER", "123456789012", "123456789012", KMS_CUSTOMER),
        ("aws:kms:dsse", KEY_ARN, "CUSTOMER", "123456789012", "123456789012", KMS_CUSTOMER),
        ("aws:kms", KEY_ARN, "CUSTOMER", "123456789012", None, KMS_CUSTOMER),
        ("aws:kms", KEY_ARN, "CUSTOMER", "999999999999", "123456789012", KMS_OTHER_ACCOUNT),
        ("aws:kms", KEY_ARN, None, None, "123456789012", KMS_UNKNOWN),
    ],
)
def test_classify_kms_key(algorithm, key_id, manager, key_account, caller, expected):
    assert classify_kms_key(algorithm, key_id, manager, key_account, caller) == expected


def test_kms_sentences_say_what_to_do():
    assert "switch default encryption to SSE-S3" in kms_sentence(KMS_AWS_MANAGED, None, SEGMENTS_PRINCIPAL, "eu-west-1")
    other = kms_sentence(KMS_OTHER_ACCOUNT, KEY_ARN, SEGMENTS_PRINCIPAL, "eu-west-1", "999999999999")
    assert "account 999999999999" in other and "s3.eu-west-1.amazonaws.com" in other
    assert "set kms: true" in kms_sentence(KMS_CUSTOMER, KEY_ARN, SEGMENTS_PRINCIPAL, "eu-west-1", kms_option=False)
    assert kms_sentence(KMS_CUSTOMER, KEY_ARN, SEGMENTS_PRINCIPAL, "eu-west-1", kms_option=True) is None
    assert kms_sentence(KMS_NONE, None, SEGMENTS_PRINCIPAL, "eu-west-1", kms_option=False) is None
    assert "kms:DescribeKey" in kms_sentence(KMS_UNKNOWN, KEY_ARN, SEGMENTS_PRINCIPAL, "eu-west-1")


# Access and grants


def test_access_granted_by_our_sid_even_when_restricted_to_prefixes():
    ours = build_statement(BUCKET, prefixes=["images/"])
    assert access_granted(policy(ours), BUCKET, SEGMENTS_PRINCIPAL, SID)
    assert not access_granted(policy(ours), BUCKET, SEGMENTS_PRINCIPAL, "another-sid")


@pytest.mark.parametrize(
    "statement, granted",
    [
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "931508227573"},
                "Action": "s3:Get*",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::931508227573:root"},
                "Action": "*",
                "Resource": "arn:aws:s3:::*",
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::%s/*" % BUCKET],
            },
            True,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/images/*" % BUCKET,
            },
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::other-bucket/*",
            },
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
            },
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
            },
            False,
        ),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            },
            False,
        ),
        (
            {
                "Effect": "Deny",
                "Principal": {"AWS": SEGMENTS_PRINCIPAL},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % BUCKET,
            },
            False,
        ),
    ],
)
def test_access_granted_by_other_statements(statement, granted):
    assert access_granted(policy(statement), BUCKET, SEGMENTS_PRINCIPAL, SID) is granted
    # A single-object Statement counts the same.
    assert access_granted({"Version": "2012-10-17", "Statement": statement}, BUCKET, SEGMENTS_PRINCIPAL, SID) is granted


def test_no_policy_grants_nothing():
    assert not access_granted(None, BUCKET, SEGMENTS_PRINCIPAL, SID)


def test_kms_grant_present():
    root = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert not kms_grant_present(policy(root), KEY_ARN, SEGMENTS_PRINCIPAL, "segments-kms-decrypt")
    assert kms_grant_present(
        policy(root, build_kms_statement("eu-west-1")), KEY_ARN, SEGMENTS_PRINCIPAL, "segments-kms-decrypt"
    )
    plain = {
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
    }
    assert kms_grant_present(policy(root, plain), KEY_ARN, SEGMENTS_PRINCIPAL, "segments-kms-decrypt")


# Deny statements and warnings


def test_deny_statements_leave_out_the_tls_only_deny():
    assert deny_statements_for(policy(TLS_DENY), BUCKET, SEGMENTS_PRINCIPAL) == []
    assert deny_statements_for(policy(TLS_DENY, BLANKET_DENY, IP_DENY), BUCKET, SEGMENTS_PRINCIPAL) == [
        BLANKET_DENY,
        IP_DENY,
    ]
    strict_tls = copy.deepcopy(TLS_DENY)
    strict_tls["Condition"]["Bool"]["aws:SecureTransport"] = ["false", "true"]
    assert deny_statements_for(policy(strict_tls), BUCKET, SEGMENTS_PRINCIPAL) == [strict_tls]


def test_access_warnings_each_say_what_to_do():
    assert (
        access_warnings(BUCKET, "us-east-1", SEGMENTS_PRINCIPAL, policy(TLS_DENY), "BucketOwner", "BucketOwnerEnforced")
        == []
    )
    dotted_deny = dict(BLANKET_DENY, Resource="arn:aws:s3:::images.customer.com/*")
    warnings = access_warnings(
        "images.customer.com", "us-east-1", SEGMENTS_PRINCIPAL, policy(dotted_deny), "Requester", None
    )
    assert len(warnings) == 4
    assert "virtual-hosted HTTPS URL" in warnings[0]
    assert "turn Requester Pays off" in warnings[1]
    assert (
        "ObjectWriter (no ownership controls set)" in warnings[2]
        and "set Object Ownership to BucketOwnerEnforced" in warnings[2]
    )
    assert "Deny statement (Sid DenyAllButAdmins)" in warnings[3] and SEGMENTS_PRINCIPAL in warnings[3]


def test_ownership_sentence():
    assert ownership_sentence("BucketOwnerEnforced") is None
    assert "BucketOwnerPreferred, not BucketOwnerEnforced" in ownership_sentence("BucketOwnerPreferred")


# Readiness


def ready_facts(**changes):
    facts = dict(
        exists=True,
        bucket=BUCKET,
        region="eu-west-1",
        principal=SEGMENTS_PRINCIPAL,
        s3_access_granted=True,
        cors_rule_present=True,
        request_payer="BucketOwner",
        object_ownership="BucketOwnerEnforced",
        kms_kind=KMS_NONE,
        kms_key=None,
        kms_key_account=None,
        kms_grant_present=None,
        policy=policy(build_statement(BUCKET)),
    )
    facts.update(changes)
    return facts


def test_a_ready_bucket():
    assert readiness(ready_facts()) == (True, [], [])


def test_a_missing_bucket_is_not_ready_and_says_so():
    ready, problems, warnings = readiness({"exists": False, "bucket": BUCKET})
    assert not ready and len(problems) == 1 and "does not exist" in problems[0] and warnings == []


@pytest.mark.parametrize(
    "changes, remedy",
    [
        ({"s3_access_granted": False}, "run segments.cloud.segments_s3_access on the bucket"),
        ({"cors_rule_present": False}, "run segments.cloud.segments_s3_cors on the bucket"),
        ({"bucket": "images.customer.com"}, "copy the data to a bucket whose name has no dots"),
        ({"request_payer": "Requester"}, "turn Requester Pays off"),
        (
            {"kms_kind": KMS_CUSTOMER, "kms_key": KEY_ARN, "kms_grant_present": False},
            "run segments.cloud.segments_s3_access with kms: true",
        ),
        ({"kms_kind": KMS_AWS_MANAGED, "kms_grant_present": False}, "switch default encryption to SSE-S3"),
        ({"kms_kind": KMS_OTHER_ACCOUNT, "kms_key": KEY_ARN, "kms_key_account": "999999999999"}, "ask that account"),
        ({"kms_kind": KMS_UNKNOWN, "kms_key": KEY_ARN}, "grant the caller kms:DescribeKey"),
        ({"policy": policy(build_statement(BUCKET), BLANKET_DENY)}, "narrow it so that it does not match Segments"),
        (
            {"preflight": {"allowed": False, "status": 403, "origin": "https://app.segments.ai", "url": "https://x/"}},
            "check the Segments CORS rule",
        ),
    ],
)
def test_each_problem_makes_the_bucket_unready_and_says_what_to_do(changes, remedy):
    ready, problems, _warnings = readiness(ready_facts(**changes))
    assert not ready and len(problems) == 1 and remedy in problems[0]


def test_present_kms_grant_and_allowed_preflight_are_ready():
    facts = ready_facts(
        kms_kind=KMS_CUSTOMER,
        kms_key=KEY_ARN,
        kms_grant_present=True,
        preflight={"allowed": True, "status": 200, "origin": "https://app.segments.ai", "url": "https://x/"},
    )
    assert readiness(facts) == (True, [], [])


def test_warnings_do_not_make_a_bucket_unready():
    ready, problems, warnings = readiness(
        ready_facts(object_ownership="ObjectWriter", policy=policy(build_statement(BUCKET), IP_DENY, TLS_DENY))
    )
    assert ready and problems == [] and len(warnings) == 2
    assert "under its Condition" in warnings[0] and "ObjectWriter" in warnings[1]


def test_preflight_allows():
    assert preflight_allows("https://app.segments.ai", "https://app.segments.ai")
    assert preflight_allows("*", "https://app.segments.ai")
    assert not preflight_allows(None, "https://app.segments.ai")
    assert not preflight_allows("https://segments.ai", "https://app.segments.ai")


def test_cors_rule_present_by_id_or_adoptable_rule():
    assert cors_rule_present([build_rule()], "segments-cors")
    hand_made = {"AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"]}
    assert cors_rule_present([hand_made], "segments-cors")
    assert not cors_rule_present(
        [{"ID": "customer", "AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"]}], "segments-cors"
    )
    assert not cors_rule_present([], "segments-cors") and not cors_rule_present(None, "segments-cors")
