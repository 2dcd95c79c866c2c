# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The three S3 modules end to end against the stub AWS of test_s3_bucket: input validation before any call, check mode
without writes, per-bucket results and diff, the KMS grant and its undo, and documentation that states the rules the
code follows."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.segments.cloud.plugins.module_utils._common import converge as converge_engine
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import S3Clients
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import ADOPTION_RULE_DOC, build_rule
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    SEGMENTS_PRINCIPAL,
    build_kms_statement,
    build_statement,
)
from ansible_collections.segments.cloud.plugins.modules import segments_s3_access, segments_s3_cors, segments_s3_info
from ansible_collections.segments.cloud.tests.unit.plugins.module_utils._s3.test_s3_io import FakeAws

BUCKET = "customer-images"
FOREIGN = {
    "Sid": "CustomerRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/analytics"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET,
}
TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
CUSTOMER_RULE = {
    "ID": "customer-app",
    "AllowedOrigins": ["https://app.customer.example"],
    "AllowedMethods": ["GET", "PUT"],
    "MaxAgeSeconds": 600,
}
OUR_RULE = {
    "ID": "segments-cors",
    "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"],
    "AllowedMethods": ["GET"],
    "AllowedHeaders": ["*"],
}


def ours(bucket=BUCKET, **options):
    return build_statement(bucket, **options)


def policy(*statements, **top_level):
    return dict({"Version": "2012-10-17"}, Statement=list(statements), **top_level)


@pytest.fixture(name="aws")
def fixture_aws(monkeypatch):
    """A stub AWS that every client of the modules talks to."""
    fake = FakeAws()
    monkeypatch.setattr(S3Clients, "client", lambda self, service="s3", region=None: fake)
    monkeypatch.setattr(converge_engine.time, "sleep", lambda seconds: None)
    return fake


@pytest.fixture(name="no_client")
def fixture_no_client(monkeypatch):
    """Fails the test if a module makes a call: validation must come first."""

    def refuse(self, service="s3", region=None):
        raise AssertionError("the module made an AWS call before validating its input")

    monkeypatch.setattr(S3Clients, "client", refuse)


def run_module(module, capsys, **args):
    """Run a module's main() with args and return its JSON result."""
    args.setdefault("region", "us-east-1")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def descriptions(doc_text):
    doc = yaml.safe_load(doc_text)
    texts = {"": " ".join(doc["description"])}
    for option, spec in doc.get("options", {}).items():
        texts[option] = " ".join(spec["description"])
    return texts


# Documentation


def test_cors_doc_quotes_the_adoption_rule():
    assert ADOPTION_RULE_DOC in descriptions(segments_s3_cors.DOCUMENTATION)[""]


@pytest.mark.parametrize("module", [segments_s3_access, segments_s3_cors, segments_s3_info])
def test_docs_examples_and_return_parse(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == module.__name__.rsplit(".", 1)[-1]
    examples = yaml.safe_load(module.EXAMPLES)
    assert len(examples) >= 2 and any("module_defaults" in example for example in examples)
    assert "group/segments.cloud.aws" in module.EXAMPLES
    assert "buckets" in yaml.safe_load(module.RETURN)


# Validation before any call


@pytest.mark.parametrize("module", [segments_s3_access, segments_s3_cors, segments_s3_info])
def test_impossible_bucket_names_fail_before_any_call(capsys, no_client, module):
    result = run_module(module, capsys, name=[BUCKET, "bad name!", "ab"])
    assert result["failed"]
    assert (
        "'bad name!'" in result["msg"]
        and "'ab'" in result["msg"]
        and "No S3 bucket can have this name" in result["msg"]
    )


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"principal": "*"}, "set allow_public_principal: true"),
        ({"principal": "arn:aws:iam::93150822:user/x"}, "is not an IAM ARN"),
        ({"principal": "segmentsai-prod-user"}, "is not an IAM ARN"),
        ({"actions": ["s3:*"]}, "set allow_wildcard_actions: true"),
        ({"actions": ["GetObject"]}, "must look like s3:Name"),
        ({"actions": []}, "at least one S3 action"),
        ({"prefixes": ["images/*"]}, "without '*' or '?'"),
        ({"prefixes": ["/"]}, "non-empty key prefix"),
        ({"sid": ""}, "sid must not be empty"),
        ({"concurrency": 0}, "concurrency must be 1 or more"),
    ],
)
def test_access_refuses_malformed_options_before_any_call(capsys, no_client, args, expected):
    result = run_module(segments_s3_access, capsys, name=[BUCKET], **args)
    assert result["failed"] and expected in result["msg"]


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"origins": ["*"]}, "set allow_any_origin: true"),
        ({"origins": ["https://*.*.segments.ai"]}, "more than one '*'"),
        ({"origins": []}, "at least one origin"),
        ({"methods": ["FETCH"]}, "is not one S3 accepts"),
        ({"max_age_seconds": -1}, "max_age_seconds must be 0 or more"),
        ({"rule_id": ""}, "rule_id must be 1 to 255 characters"),
    ],
)
def test_cors_refuses_malformed_options_before_any_call(capsys, no_client, args, expected):
    result = run_module(segments_s3_cors, capsys, name=[BUCKET], **args)
    assert result["failed"] and expected in result["msg"]


def test_public_principal_and_wildcards_work_when_allowed(capsys, aws):
    aws.add_bucket(BUCKET)
    result = run_module(
        segments_s3_access,
        capsys,
        name=[BUCKET],
        principal="*",
        allow_public_principal=True,
        actions=["s3:Get*"],
        allow_wildcard_actions=True,
    )
    assert result["changed"] and aws.policy_of(BUCKET)["Statement"][0]["Principal"] == {"AWS": "*"}


def test_a_legacy_name_is_processed_with_a_warning(capsys, aws):
    aws.add_bucket("Legacy_Bucket")
    result = run_module(segments_s3_cors, capsys, name=["Legacy_Bucket"])
    assert result["changed"] and "virtual-hosted HTTPS URLs" in result["buckets"][0]["warnings"][0]


# segments_s3_access


def test_access_appends_ours_keeping_every_other_statement_and_key(capsys, aws):
    before = policy(FOREIGN, TLS_DENY, Id="customer-policy")
    aws.add_bucket(BUCKET, policy=before)
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert result["changed"] and not result.get("failed")
    (bucket,) = result["buckets"]
    expected = policy(FOREIGN, TLS_DENY, ours(), Id="customer-policy")
    assert bucket["before"] == {"policy": before} and bucket["after"] == {"policy": expected}
    assert aws.policy_of(BUCKET) == expected and bucket["region"] == "us-east-1" and bucket["warnings"] == []
    assert result["diff"] == {"before": {BUCKET: before}, "after": {BUCKET: expected}}
    second = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert not second["changed"] and len(aws.writes()) == 1 and second["diff"] == {"before": {}, "after": {}}


def test_access_replaces_a_stale_statement_in_its_place(capsys, aws):
    stale = dict(ours(), Action=["s3:GetObject", "s3:PutObject"])
    aws.add_bucket(BUCKET, policy=policy(stale, FOREIGN))
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert result["changed"] and aws.policy_of(BUCKET) == policy(ours(), FOREIGN)


def test_access_keeps_a_single_object_statement_form(capsys, aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": dict(ours(), Action="s3:GetObject")})
    assert not run_module(segments_s3_access, capsys, name=[BUCKET])["changed"]
    aws.add_bucket("customer-lidar", policy={"Version": "2012-10-17", "Statement": FOREIGN})
    run_module(segments_s3_access, capsys, name=["customer-lidar"])
    assert aws.policy_of("customer-lidar") == policy(FOREIGN, ours("customer-lidar"))


def test_access_prefixes_restrict_the_resource(capsys, aws):
    aws.add_bucket(BUCKET)
    run_module(segments_s3_access, capsys, name=[BUCKET], prefixes=["/train/", "val/"])
    assert aws.policy_of(BUCKET)["Statement"][0]["Resource"] == [
        "arn:aws:s3:::%s/train/*" % BUCKET,
        "arn:aws:s3:::%s/val/*" % BUCKET,
    ]


def test_access_check_mode_writes_nothing_and_reports_the_change(capsys, aws):
    aws.add_bucket(BUCKET, policy=policy(FOREIGN))
    aws.add_bucket("customer-lidar", policy=policy(FOREIGN, ours("customer-lidar")))
    result = run_module(
        segments_s3_access, capsys, name=[BUCKET, "customer-lidar"], _ansible_check_mode=True, _ansible_diff=True
    )
    assert result["changed"] and aws.writes() == []
    assert [bucket["changed"] for bucket in result["buckets"]] == [True, False]
    assert result["diff"] == {"before": {BUCKET: policy(FOREIGN)}, "after": {BUCKET: policy(FOREIGN, ours())}}


def test_access_absent_removes_only_ours_and_deletes_an_empty_policy(capsys, aws):
    aws.add_bucket(BUCKET, policy=policy(FOREIGN, ours()))
    aws.add_bucket("customer-lidar", policy={"Version": "2012-10-17", "Statement": ours("customer-lidar")})
    aws.add_bucket("customer-video")
    aws.add_bucket("customer-audio", policy=policy(FOREIGN))
    result = run_module(
        segments_s3_access, capsys, name=[BUCKET, "customer-lidar", "customer-video", "customer-audio"], state="absent"
    )
    assert [bucket["changed"] for bucket in result["buckets"]] == [True, True, False, False]
    assert aws.policy_of(BUCKET) == policy(FOREIGN)
    assert aws.policy_of("customer-lidar") is None and ("delete_bucket_policy", "customer-lidar") in aws.writes()
    assert len(aws.writes()) == 2


def test_access_on_a_list_with_a_missing_bucket_fails_naming_it_and_does_the_others(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.add_bucket("customer-eu", region="eu-west-1")
    result = run_module(segments_s3_access, capsys, name=[BUCKET, "customer-missing", "customer-eu", BUCKET])
    assert result["failed"] and result["changed"]
    assert result["msg"].startswith(
        "1 of 3 bucket(s) failed: bucket 'customer-missing': GetBucketLocation failed: the bucket does not exist"
    )
    assert [(bucket["name"], bucket["failed"]) for bucket in result["buckets"]] == [
        (BUCKET, False),
        ("customer-missing", True),
        ("customer-eu", False),
    ]
    assert result["buckets"][2]["region"] == "eu-west-1"
    assert aws.policy_of("customer-eu") == policy(ours("customer-eu"))
    assert set(result["diff"]["after"]) == {BUCKET, "customer-eu"}


def test_access_denied_names_the_permission(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.errors[("put_bucket_policy", BUCKET)] = "AccessDenied"
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert (
        result["failed"]
        and "PutBucketPolicy failed: access denied (AccessDenied). Grant the caller s3:PutBucketPolicy" in result["msg"]
    )
    assert "Traceback" not in json.dumps(result)


def test_throttling_after_retries_has_its_own_message(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.errors[("get_bucket_policy", BUCKET)] = "SlowDown"
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert result["failed"] and "throttled by AWS (SlowDown)" in result["msg"] and "Lower concurrency" in result["msg"]


def test_access_over_the_size_limit_fails_without_a_write(capsys, aws):
    filler = [dict(FOREIGN, Sid="Filler%d" % index) for index in range(125)]
    aws.add_bucket(BUCKET, policy=policy(*filler))
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert result["failed"] and "over the 20480-byte limit" in result["msg"] and aws.writes() == []


def test_access_warns_without_failing(capsys, aws, monkeypatch):
    # Where the task warnings end up depends on what else this process imported (on the controller they go to the
    # display).
    task_warnings = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda module, warning: task_warnings.append(warning))
    deny = {
        "Sid": "DenyAll",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::images.customer.com/*",
    }
    aws.add_bucket("images.customer.com", policy=policy(deny), ownership="ObjectWriter", payer="Requester")
    result = run_module(segments_s3_access, capsys, name=["images.customer.com"])
    assert result["changed"] and not result.get("failed")
    warnings = result["buckets"][0]["warnings"]
    assert len(warnings) == 4
    assert "virtual-hosted HTTPS URL" in warnings[0] and "Requester Pays" in warnings[1]
    assert "ObjectWriter" in warnings[2] and "Deny statement (Sid DenyAll)" in warnings[3]
    assert len(task_warnings) == 4 and task_warnings[1].startswith(
        "bucket 'images.customer.com': Requester Pays is enabled"
    )


def test_access_absent_makes_no_warning_reads(capsys, aws):
    aws.add_bucket(BUCKET, policy=policy(ours()), payer="Requester")
    run_module(segments_s3_access, capsys, name=[BUCKET], state="absent")
    assert {call[0] for call in aws.calls} == {"get_bucket_location", "get_bucket_policy", "delete_bucket_policy"}


def test_access_without_readiness_warnings_reads_only_the_policy(capsys, aws):
    aws.add_bucket("images.customer.com", payer="Requester", ownership="ObjectWriter")
    result = run_module(
        segments_s3_access,
        capsys,
        name=["images.customer.com"],
        readiness_warnings=False,
        bucket_regions={"images.customer.com": "eu-west-1"},
    )
    assert result["changed"] and result["buckets"][0]["region"] == "eu-west-1"
    # The warnings that need no call stay (a dotted name); the settings the role's audit reads are not read again.
    assert (
        len(result["buckets"][0]["warnings"]) == 1 and "virtual-hosted HTTPS URL" in result["buckets"][0]["warnings"][0]
    )
    assert [call[0] for call in aws.calls] == ["get_bucket_policy", "put_bucket_policy", "get_bucket_policy"]


def test_regions_not_given_are_still_looked_up(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.add_bucket("other-bucket")
    run_module(
        segments_s3_cors, capsys, name=[BUCKET, "other-bucket"], bucket_regions={BUCKET: "us-east-1"}, concurrency=1
    )
    assert [call for call in aws.calls if call[0] == "get_bucket_location"] == [("get_bucket_location", "other-bucket")]


def test_a_denied_warning_read_is_a_warning_not_a_failure(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.errors[("get_bucket_ownership_controls", BUCKET)] = "AccessDenied"
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert result["changed"] and not result.get("failed")
    assert result["buckets"][0]["warnings"] == [
        "could not check Object Ownership: GetBucketOwnershipControls failed: access denied (AccessDenied). Grant the "
        "caller s3:GetBucketOwnershipControls on this bucket (or its KMS key), or check the bucket policy and SCPs for "
        "a Deny"
    ]


# segments_s3_access with KMS


def kms_bucket(aws, name=BUCKET, key_id="key-1", **key_options):
    arn = aws.add_key(key_id, **key_options) if key_id else None
    aws.add_bucket(
        name, encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn} if arn else {"SSEAlgorithm": "aws:kms"}
    )
    return arn


def test_kms_true_grants_decrypt_in_the_key_policy(capsys, aws):
    arn = kms_bucket(aws)
    key_before = aws.key_policy_of(arn)
    result = run_module(segments_s3_access, capsys, name=[BUCKET], kms=True)
    assert result["changed"]
    (bucket,) = result["buckets"]
    assert bucket["kms_key"] == arn and bucket["before"]["kms_key_policy"] == key_before
    assert aws.key_policy_of(arn)["Statement"] == key_before["Statement"] + [build_kms_statement("us-east-1")]
    assert bucket["after"]["kms_key_policy"] == aws.key_policy_of(arn)
    assert set(result["diff"]["after"][BUCKET]) == {"policy", "kms_key_policy"}
    # The key policy is written before the bucket policy.
    assert [write[0] for write in aws.writes()] == ["put_key_policy", "put_bucket_policy"]
    assert not run_module(segments_s3_access, capsys, name=[BUCKET], kms=True)["changed"]
    absent = run_module(segments_s3_access, capsys, name=[BUCKET], kms=True, state="absent")
    assert absent["changed"] and aws.key_policy_of(arn) == key_before and aws.policy_of(BUCKET) is None


def test_kms_false_on_a_customer_key_warns(capsys, aws):
    arn = kms_bucket(aws)
    result = run_module(segments_s3_access, capsys, name=[BUCKET])
    assert "kms_key" not in result["buckets"][0]
    assert result["buckets"][0]["warnings"] == [
        "default encryption uses the customer-managed KMS key %s and kms is false, so Segments will not be able to "
        "read the objects "
        "unless the key policy lets %s kms:Decrypt; set kms: true" % (arn, SEGMENTS_PRINCIPAL)
    ]
    assert all(write[0] != "put_key_policy" for write in aws.writes())


@pytest.mark.parametrize(
    "key_options, expected",
    [
        ({"key_id": None}, "AWS managed key aws/s3"),
        ({"manager": "AWS"}, "AWS managed key aws/s3"),
        ({"account": "999999999999"}, "of account 999999999999, which this account cannot change"),
    ],
)
def test_kms_true_on_a_key_we_cannot_grant_warns_and_still_sets_the_bucket_policy(capsys, aws, key_options, expected):
    kms_bucket(aws, **key_options)
    result = run_module(segments_s3_access, capsys, name=[BUCKET], kms=True)
    assert result["changed"] and not result.get("failed")
    assert result["buckets"][0]["kms_key"] is None and expected in result["buckets"][0]["warnings"][0]
    assert [write[0] for write in aws.writes()] == ["put_bucket_policy"]


def test_kms_change_is_undone_when_the_bucket_policy_write_fails(capsys, aws):
    arn = kms_bucket(aws)
    key_before = aws.key_policy_of(arn)
    aws.errors[("put_bucket_policy", BUCKET)] = "AccessDenied"
    result = run_module(segments_s3_access, capsys, name=[BUCKET], kms=True)
    assert (
        result["failed"]
        and "s3:PutBucketPolicy" in result["msg"]
        and "The key-policy change made for this bucket was undone" in result["msg"]
    )
    assert aws.key_policy_of(arn) == key_before
    assert [write[0] for write in aws.writes()] == ["put_key_policy", "put_bucket_policy", "put_key_policy"]


def test_kms_undo_that_fails_says_what_to_restore(capsys, aws):
    arn = kms_bucket(aws)
    aws.errors[("put_bucket_policy", BUCKET)] = "AccessDenied"
    aws.hooks["put_key_policy"] = [
        lambda: None,
        lambda: aws.errors.update({("put_key_policy", arn): "AccessDeniedException"}),
    ]
    result = run_module(segments_s3_access, capsys, name=[BUCKET], kms=True)
    assert result["failed"] and "Undoing the key-policy change failed too" in result["msg"]
    assert "restore Sid segments-kms-decrypt in the key policy of %s by hand" % arn in result["msg"]


def test_buckets_sharing_a_key_write_the_key_policy_once(capsys, aws):
    arn = kms_bucket(aws)
    names = ["customer-%02d" % index for index in range(12)]
    for name in names:
        aws.add_bucket(name, encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn})
    check = run_module(segments_s3_access, capsys, name=names, kms=True, _ansible_check_mode=True)
    assert (
        aws.writes() == []
        and sum(
            1 for bucket in check["buckets"] if bucket["before"]["kms_key_policy"] != bucket["after"]["kms_key_policy"]
        )
        == 1
    )
    result = run_module(segments_s3_access, capsys, name=names, kms=True)
    assert not result.get("failed") and [write[0] for write in aws.writes()].count("put_key_policy") == 1
    assert aws.key_policy_of(arn)["Statement"][-1] == build_kms_statement("us-east-1")


# segments_s3_cors


def test_cors_appends_ours_keeping_other_rules_in_order(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE])
    result = run_module(segments_s3_cors, capsys, name=[BUCKET])
    assert result["changed"]
    (bucket,) = result["buckets"]
    assert bucket["before"] == {"cors_rules": [CUSTOMER_RULE]} and bucket["after"] == {
        "cors_rules": [CUSTOMER_RULE, OUR_RULE]
    }
    assert result["diff"] == {"before": {BUCKET: [CUSTOMER_RULE]}, "after": {BUCKET: [CUSTOMER_RULE, OUR_RULE]}}
    assert not run_module(segments_s3_cors, capsys, name=[BUCKET])["changed"] and len(aws.writes()) == 1


def test_cors_adopts_the_hand_made_rule_in_its_place(capsys, aws):
    hand_made = {"AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"]}
    aws.add_bucket(BUCKET, cors=[hand_made, CUSTOMER_RULE])
    run_module(segments_s3_cors, capsys, name=[BUCKET], max_age_seconds=3600)
    assert aws.buckets[BUCKET]["cors"] == [build_rule(max_age_seconds=3600), CUSTOMER_RULE]


def test_cors_absent_removes_ours_deletes_when_empty_and_is_unchanged_without_ours(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE, OUR_RULE])
    aws.add_bucket("customer-lidar", cors=[OUR_RULE])
    aws.add_bucket("customer-video")
    aws.add_bucket("customer-audio", cors=[CUSTOMER_RULE])
    result = run_module(
        segments_s3_cors, capsys, name=[BUCKET, "customer-lidar", "customer-video", "customer-audio"], state="absent"
    )
    assert [bucket["changed"] for bucket in result["buckets"]] == [True, True, False, False]
    assert aws.buckets[BUCKET]["cors"] == [CUSTOMER_RULE] and aws.buckets["customer-lidar"]["cors"] is None
    assert sorted(aws.writes()) == [("delete_bucket_cors", "customer-lidar"), ("put_bucket_cors", BUCKET)]


def test_cors_read_error_fails_the_bucket_instead_of_reading_as_no_rules(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE])
    aws.errors[("get_bucket_cors", BUCKET)] = "AccessDenied"
    result = run_module(segments_s3_cors, capsys, name=[BUCKET])
    assert (
        result["failed"]
        and "GetBucketCors failed: access denied (AccessDenied). Grant the caller s3:GetBucketCORS" in result["msg"]
    )
    assert aws.writes() == []


def test_cors_check_mode_writes_nothing(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE])
    result = run_module(segments_s3_cors, capsys, name=[BUCKET], state="present", _ansible_check_mode=True)
    assert (
        result["changed"]
        and aws.writes() == []
        and result["buckets"][0]["after"] == {"cors_rules": [CUSTOMER_RULE, build_rule()]}
    )


def test_cors_over_the_rule_limit_fails_without_a_write(capsys, aws):
    rules = [dict(CUSTOMER_RULE, ID="customer-%d" % index) for index in range(100)]
    aws.add_bucket(BUCKET, cors=rules)
    result = run_module(segments_s3_cors, capsys, name=[BUCKET])
    assert result["failed"] and "101 rules, over S3's limit of 100" in result["msg"] and aws.writes() == []


# segments_s3_info


def test_info_reports_readiness_backup_state_and_a_missing_bucket_without_failing(capsys, aws):
    arn = aws.add_key("key-1")
    aws.add_bucket(
        "customer-ready",
        policy=policy(FOREIGN, ours("customer-ready")),
        cors=[CUSTOMER_RULE, OUR_RULE],
        encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn},
    )
    aws.keys[arn]["policy"] = json.dumps(policy(build_kms_statement("us-east-1")))
    aws.add_bucket(
        "customer-bare", region="eu-west-1", encryption={"SSEAlgorithm": "AES256"}, ownership=None, payer="Requester"
    )
    result = run_module(
        segments_s3_info, capsys, name=["customer-ready", "customer-bare", "customer-missing"], _ansible_check_mode=True
    )
    assert not result.get("failed") and not result["changed"] and aws.writes() == []
    ready, bare, missing = result["buckets"]
    assert ready["ready"] and ready["problems"] == [] and ready["s3_access_granted"] and ready["cors_rule_present"]
    assert ready["url_prefix"] == "https://customer-ready.s3.us-east-1.amazonaws.com/"
    assert ready["kms_grant_needed"] and ready["kms_grant_present"] and ready["kms_key_kind"] == "customer"
    assert ready["policy"] == policy(FOREIGN, ours("customer-ready")) and ready["cors_rules"] == [
        CUSTOMER_RULE,
        OUR_RULE,
    ]
    assert ready["kms_key_policy"] == policy(build_kms_statement("us-east-1"))
    assert ready["encryption"] == {"algorithm": "aws:kms", "kms_key": arn, "bucket_key_enabled": True}
    assert (
        not bare["ready"]
        and bare["region"] == "eu-west-1"
        and bare["requester_pays"]
        and bare["object_ownership"] is None
    )
    assert (
        len(bare["problems"]) == 3
        and "segments_s3_access" in bare["problems"][0]
        and "segments_s3_cors" in bare["problems"][1]
    )
    assert (
        bare["policy"] is None
        and bare["cors_rules"] == []
        and bare["kms_key_policy"] is None
        and not bare["kms_grant_needed"]
    )
    assert "ObjectWriter" in bare["warnings"][0]
    assert (
        missing["exists"] is False
        and not missing["ready"]
        and not missing["failed"]
        and "does not exist" in missing["problems"][0]
    )
    assert "preflight" not in ready


def test_info_fails_a_bucket_it_may_not_read(capsys, aws):
    aws.add_bucket(BUCKET)
    aws.add_bucket("customer-lidar")
    aws.errors[("get_bucket_policy", BUCKET)] = "AccessDenied"
    result = run_module(segments_s3_info, capsys, name=[BUCKET, "customer-lidar"])
    assert (
        result["failed"]
        and "1 of 2 bucket(s) failed: bucket 'customer-images': GetBucketPolicy failed" in result["msg"]
    )
    assert result["buckets"][1]["exists"]


def test_info_reports_an_unreadable_key_policy_as_unknown(capsys, aws):
    arn = kms_bucket(aws)
    aws.errors[("get_key_policy", arn)] = "AccessDeniedException"
    result = run_module(segments_s3_info, capsys, name=[BUCKET])
    (bucket,) = result["buckets"]
    assert not result.get("failed") and bucket["kms_key_kind"] == "unknown" and bucket["kms_key_policy"] is None
    assert "kms:GetKeyPolicy" in bucket["warnings"][0] and any(
        "could not be described" in problem for problem in bucket["problems"]
    )


# bucket_states: the audit's read stands for the first read


def test_access_with_a_known_state_holding_ours_reads_and_writes_nothing(capsys, aws):
    aws.add_bucket(BUCKET, policy=policy(FOREIGN, ours()))
    known = {BUCKET: {"name": BUCKET, "exists": True, "failed": False, "policy": policy(FOREIGN, ours())}}
    result = run_module(
        segments_s3_access,
        capsys,
        name=[BUCKET],
        bucket_states=known,
        bucket_regions={BUCKET: "us-east-1"},
        readiness_warnings=False,
    )
    assert not result["changed"] and result["buckets"][0]["after"] == {"policy": policy(FOREIGN, ours())}
    assert aws.calls == [] and aws.writes() == []


def test_access_with_a_stale_known_state_reads_again_before_writing_and_keeps_the_late_statement(capsys, aws):
    aws.add_bucket(BUCKET, policy=policy(FOREIGN, TLS_DENY))  # TLS_DENY came after the audit
    known = {BUCKET: {"name": BUCKET, "exists": True, "policy": policy(FOREIGN)}}
    result = run_module(
        segments_s3_access,
        capsys,
        name=[BUCKET],
        bucket_states=known,
        bucket_regions={BUCKET: "us-east-1"},
        readiness_warnings=False,
    )
    assert result["changed"]
    assert aws.policy_of(BUCKET) == policy(FOREIGN, TLS_DENY, ours())
    assert result["buckets"][0]["after"] == {"policy": aws.policy_of(BUCKET)}  # as read back after the write
    reads = [call for call in aws.calls if call[0] == "get_bucket_policy"]
    assert len(reads) == 2  # the race guard right before the write, and the read-back after it


def test_a_failed_or_missing_known_state_is_read_as_usual(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE])
    known = {BUCKET: {"name": BUCKET, "failed": True, "cors_rules": []}}
    result = run_module(
        segments_s3_cors, capsys, name=[BUCKET], bucket_states=known, bucket_regions={BUCKET: "us-east-1"}
    )
    assert result["changed"] and aws.buckets[BUCKET]["cors"] == [CUSTOMER_RULE, build_rule()]


def test_cors_with_a_known_state_holding_ours_reads_and_writes_nothing(capsys, aws):
    aws.add_bucket(BUCKET, cors=[CUSTOMER_RULE, OUR_RULE])
    known = {BUCKET: {"name": BUCKET, "exists": True, "cors_rules": [CUSTOMER_RULE, OUR_RULE]}}
    result = run_module(
        segments_s3_cors, capsys, name=[BUCKET], bucket_states=known, bucket_regions={BUCKET: "us-east-1"}
    )
    assert not result["changed"] and aws.calls == []
