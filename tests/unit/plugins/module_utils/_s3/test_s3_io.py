# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The S3 and KMS I/O helpers against a stub AWS: "not configured" answers become states, every other error is raised
with the bucket and the missing permission, and the write loop re-merges on another writer's change, bounded."""

from __future__ import annotations

import copy
import http.server
import json
import threading

import pytest
from botocore.exceptions import ClientError

from ansible_collections.segments.cloud.plugins.module_utils._common import converge as converge_engine
from ansible_collections.segments.cloud.plugins.module_utils._common.converge import DEFAULT_RETRY_POLICY, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    READ_AFTER_WRITE_ATTEMPTS,
    BucketError,
    WriteOutcomeUnknown,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import BucketNotFound, S3Clients
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import CORS_RULE_LIMIT, build_rule, merge_rule
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import (
    BucketPolicyPart,
    count_checked_cors_merge,
    read_cors,
    read_encryption,
    read_object_ownership,
    read_or_warn,
    read_policy,
    read_public_access_block,
    read_request_payer,
    size_checked_policy_merge,
    write_cors,
    write_policy,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.kms import KmsKeys
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import (
    build_statement,
    merge_statement,
    remove_statement,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.preflight import (
    cors_preflight,
    custom_endpoint,
    preflight_url,
)

BUCKET = "customer-images"
NOT_GIVEN = object()
ACCOUNT = "123456789012"
FOREIGN = {
    "Sid": "CustomerRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::%s:role/analytics" % ACCOUNT},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET,
}
OTHER_FOREIGN = {
    "Sid": "AuditRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::%s:role/audit" % ACCOUNT},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::%s/*" % BUCKET,
}
NOT_CONFIGURED = {
    "get_bucket_policy": "NoSuchBucketPolicy",
    "get_bucket_cors": "NoSuchCORSConfiguration",
    "get_bucket_encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "get_bucket_ownership_controls": "OwnershipControlsNotFoundError",
    "get_public_access_block": "NoSuchPublicAccessBlockConfiguration",
}
OPERATION_NAMES = {
    "get_bucket_location": "GetBucketLocation",
    "head_bucket": "HeadBucket",
    "get_bucket_policy": "GetBucketPolicy",
    "put_bucket_policy": "PutBucketPolicy",
    "delete_bucket_policy": "DeleteBucketPolicy",
    "get_bucket_cors": "GetBucketCors",
    "put_bucket_cors": "PutBucketCors",
    "delete_bucket_cors": "DeleteBucketCors",
    "get_bucket_encryption": "GetBucketEncryption",
    "get_bucket_ownership_controls": "GetBucketOwnershipControls",
    "get_bucket_request_payment": "GetBucketRequestPayment",
    "get_public_access_block": "GetPublicAccessBlock",
    "describe_key": "DescribeKey",
    "get_key_policy": "GetKeyPolicy",
    "put_key_policy": "PutKeyPolicy",
    "get_caller_identity": "GetCallerIdentity",
}
WRITES = ("put_bucket_policy", "delete_bucket_policy", "put_bucket_cors", "delete_bucket_cors", "put_key_policy")


def client_error(code, operation, message="stub error", headers=None):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPHeaders": headers or {}}}, operation
    )


class FakeAws:
    """A stub of the S3, KMS and STS calls the modules make, holding state per bucket and key.

    ``errors[(method, bucket_or_key)]`` is raised (as that error code) instead of the call; ``hooks[method]`` is a list of
    functions run, one per call, before the call: they play another writer. Every call is recorded in ``calls``."""

    def __init__(self, account=ACCOUNT, endpoint_url="http://127.0.0.1:4566"):
        self.account = account
        self.buckets = {}
        self.keys = {}
        self.errors = {}
        self.hooks = {}
        self.calls = []
        self.handlers = {}
        self.meta = type(
            "Meta", (), {"endpoint_url": endpoint_url, "events": type("Events", (), {"register": self._register})()}
        )()
        self._lock = threading.Lock()

    def _register(self, event, handler):
        self.handlers.setdefault(event, []).append(handler)

    def add_bucket(
        self,
        name,
        region="us-east-1",
        policy=None,
        cors=None,
        encryption=None,
        ownership="BucketOwnerEnforced",
        payer="BucketOwner",
    ):
        self.buckets[name] = {
            "region": region,
            "policy": None if policy is None else json.dumps(policy),
            "cors": copy.deepcopy(cors),
            "encryption": encryption,
            "ownership": ownership,
            "payer": payer,
            "pab": None,
        }

    def add_key(self, key_id, region="us-east-1", account=None, manager="CUSTOMER", policy=None):
        arn = "arn:aws:kms:%s:%s:key/%s" % (region, account or self.account, key_id)
        self.keys[arn] = {
            "account": account or self.account,
            "manager": manager,
            "policy": json.dumps(
                policy
                or {
                    "Version": "2012-10-17",
                    "Id": "key-default-1",
                    "Statement": [
                        {
                            "Sid": "Enable IAM User Permissions",
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::%s:root" % self.account},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            ),
        }
        return arn

    def policy_of(self, name):
        text = self.buckets[name]["policy"]
        return None if text is None else json.loads(text)

    def key_policy_of(self, arn):
        return json.loads(self.keys[arn]["policy"])

    def writes(self):
        return [call for call in self.calls if call[0] in WRITES]

    def _enter(self, method, target):
        with self._lock:
            self.calls.append((method, target))
            hooks = self.hooks.get(method) or []
            hook = hooks.pop(0) if hooks else None
        if hook:
            hook()
        error = self.errors.get((method, target))
        if error:
            raise client_error(error, OPERATION_NAMES[method])

    def _bucket(self, method, name):
        self._enter(method, name)
        if name not in self.buckets:
            raise client_error("NoSuchBucket", OPERATION_NAMES[method], "The specified bucket does not exist")
        return self.buckets[name]

    def _not_configured(self, method):
        raise client_error(NOT_CONFIGURED[method], OPERATION_NAMES[method])

    # S3
    def get_bucket_location(self, Bucket, aws_retry=False):
        region = self._bucket("get_bucket_location", Bucket)["region"]
        return {"LocationConstraint": None if region == "us-east-1" else region}

    def head_bucket(self, Bucket, aws_retry=False):
        return {"BucketRegion": self._bucket("head_bucket", Bucket)["region"]}

    def get_bucket_policy(self, Bucket, aws_retry=False):
        bucket = self._bucket("get_bucket_policy", Bucket)
        if bucket["policy"] is None:
            self._not_configured("get_bucket_policy")
        return {"Policy": bucket["policy"]}

    def put_bucket_policy(self, Bucket, Policy, aws_retry=False):
        self._bucket("put_bucket_policy", Bucket)["policy"] = Policy

    def delete_bucket_policy(self, Bucket, aws_retry=False):
        self._bucket("delete_bucket_policy", Bucket)["policy"] = None

    def get_bucket_cors(self, Bucket, aws_retry=False):
        bucket = self._bucket("get_bucket_cors", Bucket)
        if bucket["cors"] is None:
            self._not_configured("get_bucket_cors")
        # S3 leaves out empty lists.
        return {
            "CORSRules": [{field: value for field, value in rule.items() if value != []} for rule in bucket["cors"]]
        }

    def put_bucket_cors(self, Bucket, CORSConfiguration, aws_retry=False):
        self._bucket("put_bucket_cors", Bucket)["cors"] = copy.deepcopy(CORSConfiguration["CORSRules"])

    def delete_bucket_cors(self, Bucket, aws_retry=False):
        self._bucket("delete_bucket_cors", Bucket)["cors"] = None

    def get_bucket_encryption(self, Bucket, aws_retry=False):
        bucket = self._bucket("get_bucket_encryption", Bucket)
        if bucket["encryption"] is None:
            self._not_configured("get_bucket_encryption")
        return {
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": bucket["encryption"], "BucketKeyEnabled": True}]
            }
        }

    def get_bucket_ownership_controls(self, Bucket, aws_retry=False):
        bucket = self._bucket("get_bucket_ownership_controls", Bucket)
        if bucket["ownership"] is None:
            self._not_configured("get_bucket_ownership_controls")
        return {"OwnershipControls": {"Rules": [{"ObjectOwnership": bucket["ownership"]}]}}

    def get_bucket_request_payment(self, Bucket, aws_retry=False):
        return {"Payer": self._bucket("get_bucket_request_payment", Bucket)["payer"]}

    def get_public_access_block(self, Bucket, aws_retry=False):
        bucket = self._bucket("get_public_access_block", Bucket)
        if bucket["pab"] is None:
            self._not_configured("get_public_access_block")
        return {"PublicAccessBlockConfiguration": bucket["pab"]}

    # KMS
    def _key(self, method, key_id):
        self._enter(method, key_id)
        for arn, key in self.keys.items():
            if key_id in (arn, arn.rsplit("/", 1)[-1]):
                return arn, key
        raise client_error("NotFoundException", OPERATION_NAMES[method], "Key '%s' does not exist" % key_id)

    def describe_key(self, KeyId, aws_retry=False):
        arn, key = self._key("describe_key", KeyId)
        return {"KeyMetadata": {"Arn": arn, "AWSAccountId": key["account"], "KeyManager": key["manager"]}}

    def get_key_policy(self, KeyId, PolicyName, aws_retry=False):
        return {"Policy": self._key("get_key_policy", KeyId)[1]["policy"]}

    def put_key_policy(self, KeyId, PolicyName, Policy, aws_retry=False):
        self._key("put_key_policy", KeyId)[1]["policy"] = Policy

    # STS
    def get_caller_identity(self, aws_retry=False):
        self._enter("get_caller_identity", None)
        return {"Account": self.account}


class FakeModule:
    """What S3Clients needs of a module."""

    region = "us-east-1"
    params = {}

    def __init__(self, fake):
        self.fake = fake

    def client(self, service, retry_decorator=None, region=None, config=None):
        return self.fake


@pytest.fixture(name="aws")
def fixture_aws():
    return FakeAws()


@pytest.fixture(name="no_pause", autouse=True)
def fixture_no_pause(monkeypatch):
    monkeypatch.setattr(converge_engine.time, "sleep", lambda seconds: None)


# Reads: "not configured" is a state, everything else an error


def test_reads_of_unconfigured_settings_are_states(aws):
    aws.add_bucket(BUCKET, ownership=None)
    assert read_policy(aws, BUCKET) is None
    assert read_cors(aws, BUCKET) == []
    assert read_encryption(aws, BUCKET) == {"algorithm": None, "kms_key": None, "bucket_key_enabled": None}
    assert read_object_ownership(aws, BUCKET) is None
    assert read_public_access_block(aws, BUCKET) is None
    assert read_request_payer(aws, BUCKET) == "BucketOwner"


def test_reads_return_what_s3_holds(aws):
    rule = build_rule()
    aws.add_bucket(
        BUCKET,
        policy={"Version": "2012-10-17", "Statement": FOREIGN},
        cors=[rule],
        encryption={"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/customer"},
    )
    assert read_policy(aws, BUCKET) == {"Version": "2012-10-17", "Statement": FOREIGN}
    assert read_cors(aws, BUCKET) == [{field: value for field, value in rule.items() if value != []}]
    assert read_encryption(aws, BUCKET) == {
        "algorithm": "aws:kms",
        "kms_key": "alias/customer",
        "bucket_key_enabled": True,
    }


@pytest.mark.parametrize(
    "read, method, permission",
    [
        (read_cors, "get_bucket_cors", "s3:GetBucketCORS"),
        (read_policy, "get_bucket_policy", "s3:GetBucketPolicy"),
        (read_encryption, "get_bucket_encryption", "s3:GetEncryptionConfiguration"),
    ],
)
def test_read_errors_are_raised_never_swallowed(aws, read, method, permission):
    aws.add_bucket(BUCKET)
    aws.errors[(method, BUCKET)] = "AccessDenied"
    with pytest.raises(BucketError) as raised:
        read(aws, BUCKET)
    assert raised.value.bucket == BUCKET and permission in raised.value.message


def test_missing_bucket_is_a_bucket_not_found(aws):
    with pytest.raises(BucketNotFound) as raised:
        read_cors(aws, "customer-missing")
    assert "bucket 'customer-missing': GetBucketCors failed: the bucket does not exist" in raised.value.message


def test_policy_that_is_not_json_is_a_clear_error(aws):
    aws.add_bucket(BUCKET)
    aws.buckets[BUCKET]["policy"] = "{not json"
    with pytest.raises(BucketError, match="not valid JSON"):
        read_policy(aws, BUCKET)


def test_empty_writes_delete(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]}, cors=[build_rule()])
    write_policy(aws, BUCKET, None)
    write_cors(aws, BUCKET, [])
    assert aws.writes() == [("delete_bucket_policy", BUCKET), ("delete_bucket_cors", BUCKET)]
    assert aws.buckets[BUCKET]["policy"] is None and aws.buckets[BUCKET]["cors"] is None


def test_read_or_warn_turns_a_failure_into_a_warning(aws):
    aws.add_bucket(BUCKET)
    aws.errors[("get_bucket_request_payment", BUCKET)] = "AccessDenied"
    warnings = []
    assert read_or_warn(warnings, "Requester Pays", read_request_payer, aws, BUCKET, unreadable="unknown") == "unknown"
    assert warnings == [
        "could not check Requester Pays: GetBucketRequestPayment failed: access denied (AccessDenied). "
        "Grant the caller s3:GetBucketRequestPayment on this bucket (or its KMS key), or check the bucket policy and SCPs for a Deny"
    ]


# Region discovery


def test_region_falls_back_to_head_bucket_when_get_bucket_location_is_denied(aws):
    aws.add_bucket(BUCKET, region="eu-west-1")
    aws.errors[("get_bucket_location", BUCKET)] = "AccessDenied"
    assert S3Clients(FakeModule(aws), 4).bucket_region(BUCKET) == "eu-west-1"


def test_region_of_a_missing_bucket_is_bucket_not_found(aws):
    with pytest.raises(BucketNotFound):
        S3Clients(FakeModule(aws), 4).bucket_region("customer-missing")


# Limits are checked before any write


def test_policy_over_the_size_limit_fails_before_any_write(aws):
    huge = {"Version": "2012-10-17", "Statement": [dict(FOREIGN, Sid="Filler%d" % index) for index in range(125)]}
    merge = size_checked_policy_merge(BUCKET, lambda policy: merge_statement(policy, build_statement(BUCKET)))
    with pytest.raises(BucketError, match="over the 20480-byte limit"):
        merge(huge)


def test_key_policy_limit_is_its_own(aws):
    big = {"Version": "2012-10-17", "Statement": [dict(FOREIGN, Sid="Filler%d" % index) for index in range(125)]}
    merge = size_checked_policy_merge(
        BUCKET, lambda policy: merge_statement(policy, build_statement(BUCKET)), "KMS key policy", 32768
    )
    assert merge(big)[1] is True


def test_cors_over_the_rule_limit_fails(aws):
    rules = [
        dict(build_rule("customer-%d" % index), AllowedOrigins=["https://app%d.example" % index])
        for index in range(CORS_RULE_LIMIT)
    ]
    merge = count_checked_cors_merge(BUCKET, lambda current: merge_rule(current, build_rule()))
    with pytest.raises(BucketError, match="101 rules, over S3's limit of 100"):
        merge(rules)


# The write loop


def no_pause(_seconds):
    """The engine's pause between rounds, skipped."""


def converge_policy(aws, merge, check_mode=False, current=NOT_GIVEN):
    """(after, changed) of the engine on the bucket policy part, given current when passed."""
    part = BucketPolicyPart(aws, BUCKET, merge)
    if current is NOT_GIVEN:
        outcome = converge(part, check_mode, sleep=no_pause)
    else:
        outcome = converge(part, check_mode, current=current, sleep=no_pause)
    return outcome.after, outcome.changed


def policy_converge(aws, merge, check_mode=False):
    """The engine given the policy just read, so that it reads again right before a write (the race guard)."""
    return converge_policy(aws, merge, check_mode, current=read_policy(aws, BUCKET))


def add_ours(policy):
    return merge_statement(policy, build_statement(BUCKET))


def test_converge_writes_once_and_returns_the_read_back(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    after, changed = policy_converge(aws, add_ours)
    assert changed and aws.writes() == [("put_bucket_policy", BUCKET)]
    assert after == aws.policy_of(BUCKET) == {"Version": "2012-10-17", "Statement": [FOREIGN, build_statement(BUCKET)]}


def test_converge_without_a_given_state_writes_right_after_its_own_read(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    after, changed = converge_policy(aws, add_ours)
    assert changed and after == aws.policy_of(BUCKET)
    assert aws.calls == [("get_bucket_policy", BUCKET), ("put_bucket_policy", BUCKET), ("get_bucket_policy", BUCKET)]


def test_converge_writes_nothing_when_nothing_changes(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN, build_statement(BUCKET)]})
    assert policy_converge(aws, add_ours)[1] is False
    assert aws.writes() == [] and aws.calls == [("get_bucket_policy", BUCKET)]


def test_converge_in_check_mode_reads_nothing_more_and_writes_nothing(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    after, changed = policy_converge(aws, add_ours, check_mode=True)
    assert changed and aws.writes() == [] and aws.calls == [("get_bucket_policy", BUCKET)]
    assert after["Statement"] == [FOREIGN, build_statement(BUCKET)]


def test_another_writer_before_our_write_is_merged_not_lost(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    current = read_policy(aws, BUCKET)
    # Another tool adds a statement after our first read, before our pre-write read.
    aws.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN, OTHER_FOREIGN]})
    )
    after, changed = converge_policy(aws, add_ours, current=current)
    assert changed and after["Statement"] == [FOREIGN, OTHER_FOREIGN, build_statement(BUCKET)]
    assert aws.policy_of(BUCKET) == after


def test_another_writer_after_our_write_is_merged_again(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})

    def other_writer_drops_ours():
        aws.buckets[BUCKET]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN, OTHER_FOREIGN]})

    # The third policy read is our read-back: the other writer lands just before it.
    aws.hooks["get_bucket_policy"] = [lambda: None, lambda: None, other_writer_drops_ours]
    after, changed = policy_converge(aws, add_ours)
    assert changed and after["Statement"] == [FOREIGN, OTHER_FOREIGN, build_statement(BUCKET)]
    assert len(aws.writes()) == 2 and aws.policy_of(BUCKET) == after


def test_a_read_back_that_keeps_ours_settles_without_another_write(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})

    def other_writer_keeps_ours():
        policy = aws.policy_of(BUCKET)
        policy["Statement"].append(OTHER_FOREIGN)
        aws.buckets[BUCKET]["policy"] = json.dumps(policy)

    aws.hooks["get_bucket_policy"] = [lambda: None, lambda: None, other_writer_keeps_ours]
    after, changed = policy_converge(aws, add_ours)
    assert changed and len(aws.writes()) == 1
    assert after["Statement"] == [FOREIGN, build_statement(BUCKET), OTHER_FOREIGN]


def test_a_policy_that_never_settles_fails_after_the_retry_policys_rounds(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    counter = iter(range(1000))

    def other_writer_always():
        aws.buckets[BUCKET]["policy"] = json.dumps(
            {"Version": "2012-10-17", "Statement": [dict(FOREIGN, Sid="Other%d" % next(counter))]}
        )

    aws.hooks["get_bucket_policy"] = [lambda: None] + [other_writer_always] * 20
    with pytest.raises(BucketError) as raised:
        policy_converge(aws, add_ours)
    assert "bucket 'customer-images': update bucket policy failed" in raised.value.message
    assert "during %d attempts" % DEFAULT_RETRY_POLICY.attempts in raised.value.message
    assert len(aws.writes()) <= DEFAULT_RETRY_POLICY.attempts


def test_absent_deletes_the_policy_when_nothing_is_left(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": build_statement(BUCKET)})
    after, changed = policy_converge(aws, lambda policy: remove_statement(policy, "segments-s3-access"))
    assert changed and after is None and aws.writes() == [("delete_bucket_policy", BUCKET)]


# KMS


def test_kms_keys_describe_read_and_write(aws):
    arn = aws.add_key("key-1", region="eu-west-1")
    keys = KmsKeys(S3Clients(FakeModule(aws), 4), check_mode=False)
    key = keys.describe(BUCKET, "key-1", "eu-west-1")
    assert key == {"arn": arn, "account": ACCOUNT, "region": "eu-west-1", "manager": "CUSTOMER"}
    assert keys.caller_account() == ACCOUNT and keys.caller_account() == ACCOUNT
    assert [call for call in aws.calls if call[0] == "get_caller_identity"] == [("get_caller_identity", None)]
    policy = keys.read_policy(BUCKET, key)
    keys.write_policy(BUCKET, key, dict(policy, Id="changed"))
    assert aws.key_policy_of(arn)["Id"] == "changed"
    with pytest.raises(BucketError, match="leave the key policy of .* empty"):
        keys.write_policy(BUCKET, key, None)


def test_kms_keys_in_check_mode_remember_the_planned_policy(aws):
    arn = aws.add_key("key-1")
    keys = KmsKeys(S3Clients(FakeModule(aws), 4), check_mode=True)
    key = keys.describe(BUCKET, arn, "us-east-1")
    keys.plan(key, {"Version": "2012-10-17", "Statement": []})
    assert keys.read_policy(BUCKET, key) == {"Version": "2012-10-17", "Statement": []}
    assert aws.writes() == []


def test_kms_access_denied_names_the_permission(aws):
    arn = aws.add_key("key-1")
    aws.errors[("put_key_policy", arn)] = "AccessDeniedException"
    keys = KmsKeys(S3Clients(FakeModule(aws), 4), check_mode=False)
    key = keys.describe(BUCKET, arn, "us-east-1")
    with pytest.raises(BucketError, match="kms:PutKeyPolicy"):
        keys.write_policy(BUCKET, key, keys.read_policy(BUCKET, key))


# Preflight


@pytest.mark.parametrize(
    "endpoint, expected",
    [
        ("http://127.0.0.1:4566", "http://127.0.0.1:4566/customer-images/"),
        ("http://localstack:4566/", "http://localstack:4566/customer-images/"),
        ("https://s3.eu-west-1.amazonaws.com", "https://customer-images.s3.eu-west-1.amazonaws.com/"),
        (None, "https://customer-images.s3.eu-west-1.amazonaws.com/"),
    ],
)
def test_preflight_url(endpoint, expected):
    assert preflight_url(FakeAws(endpoint_url=endpoint), BUCKET, "eu-west-1") == expected
    assert (custom_endpoint(FakeAws(endpoint_url=endpoint)) is None) == ("amazonaws" in expected)


class PreflightHandler(http.server.BaseHTTPRequestHandler):
    """Answers OPTIONS as S3 does: 200 with Access-Control-Allow-Origin for an allowed origin, else 403."""

    allowed_origins = ("https://app.segments.ai",)
    seen = []

    def do_OPTIONS(self):  # noqa: N802 (http.server's naming)
        self.seen.append((self.path, self.headers.get("Origin"), self.headers.get("Access-Control-Request-Method")))
        origin = self.headers.get("Origin")
        if origin in self.allowed_origins:
            self.send_response(200)
            self.send_header("Access-Control-Allow-Origin", origin)
        else:
            self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(name="preflight_server")
def fixture_preflight_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), PreflightHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_port
    server.shutdown()
    server.server_close()


def test_preflight_allowed_and_refused(preflight_server):
    url = preflight_server + "/customer-images/"
    allowed = cors_preflight(url, "https://app.segments.ai")
    assert allowed == {
        "url": url,
        "origin": "https://app.segments.ai",
        "status": 200,
        "allowed": True,
        "allow_origin": "https://app.segments.ai",
    }
    refused = cors_preflight(url, "https://evil.example")
    assert refused == {
        "url": url,
        "origin": "https://evil.example",
        "status": 403,
        "allowed": False,
        "allow_origin": None,
    }
    assert PreflightHandler.seen[-1] == ("/customer-images/", "https://evil.example", "GET")


def test_preflight_without_an_answer_reports_the_error():
    outcome = cors_preflight("http://127.0.0.1:9/customer-images/", "https://app.segments.ai", timeout=2)
    assert outcome["status"] is None and outcome["allowed"] is False and outcome["error"]


# converge: a write whose answer is lost


def lost_answer(aws, method, error):
    """A hook for aws.hooks[method] that lets the write land, then raises error instead of its answer (a reset or timeout)."""
    real = getattr(aws, method)

    def landed_then_lost(**kwargs):
        real(**kwargs)
        raise error

    return landed_then_lost


def test_a_write_that_landed_but_lost_its_answer_is_reported_changed(aws, monkeypatch):
    from botocore.exceptions import ReadTimeoutError

    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    monkeypatch.setattr(
        aws,
        "put_bucket_policy",
        lost_answer(aws, "put_bucket_policy", ReadTimeoutError(endpoint_url="http://s3/customer-images")),
    )
    after, changed = policy_converge(aws, add_ours)
    assert changed and after == aws.policy_of(BUCKET) == {
        "Version": "2012-10-17",
        "Statement": [FOREIGN, build_statement(BUCKET)],
    }


def test_a_write_that_failed_and_did_not_land_raises_its_own_error(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    aws.errors[("put_bucket_policy", BUCKET)] = "AccessDenied"
    with pytest.raises(BucketError) as raised:
        policy_converge(aws, add_ours)
    assert raised.value.message.startswith("bucket 'customer-images': PutBucketPolicy failed: access denied")
    assert not isinstance(raised.value, WriteOutcomeUnknown)
    assert aws.policy_of(BUCKET) == {"Version": "2012-10-17", "Statement": [FOREIGN]}


def test_a_lost_answer_and_an_unreadable_bucket_say_the_change_may_have_been_applied(aws, monkeypatch):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})

    def put_then_deny_reads(**kwargs):
        aws.buckets[BUCKET]["policy"] = kwargs["Policy"]
        aws.errors[("get_bucket_policy", BUCKET)] = "AccessDenied"
        raise client_error("InternalError", "PutBucketPolicy")

    monkeypatch.setattr(aws, "put_bucket_policy", put_then_deny_reads)
    with pytest.raises(WriteOutcomeUnknown) as raised:
        policy_converge(aws, add_ours)
    assert "may have been applied" in raised.value.message and "segments_s3_info" in raised.value.message
    assert raised.value.message.startswith("bucket 'customer-images': PutBucketPolicy failed")


def test_an_answered_write_that_cannot_be_read_back_says_it_was_applied_but_not_verified(aws):
    aws.add_bucket(BUCKET, policy={"Version": "2012-10-17", "Statement": [FOREIGN]})
    aws.hooks["put_bucket_policy"] = [lambda: aws.errors.update({("get_bucket_policy", BUCKET): "AccessDenied"})]
    with pytest.raises(WriteOutcomeUnknown) as raised:
        policy_converge(aws, add_ours)
    assert "verify bucket policy failed" in raised.value.message and "applied but not verified" in raised.value.message
    # Three tries of the read-back after the write.
    assert [call[0] for call in aws.calls].count("get_bucket_policy") == 2 + READ_AFTER_WRITE_ATTEMPTS
