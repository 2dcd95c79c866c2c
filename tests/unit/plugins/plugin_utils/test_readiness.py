# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import readiness
from ansible_collections.segments.cloud.plugins.plugin_utils.readiness import s3_readiness_after

PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
OUR_STATEMENT = {
    "Sid": "segments-s3-access",
    "Effect": "Allow",
    "Principal": {"AWS": PRINCIPAL},
    "Action": ["s3:GetObject"],
    "Resource": "arn:aws:s3:::%s/*",
}
OUR_RULE = {"ID": "segments-cors", "AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"]}
FOREIGN_RULE = {"ID": "foreign", "AllowedOrigins": ["https://example.com"], "AllowedMethods": ["PUT"]}


def audit_entry(name, policy=None, cors_rules=(), **settings):
    """An audit entry as segments_s3_info returns it, its judgement made by the same pure code."""
    entry = dict(
        name=name,
        exists=True,
        failed=False,
        changed=False,
        region="eu-west-1",
        url_prefix="https://%s.s3.eu-west-1.amazonaws.com/" % name,
        policy=policy,
        cors_rules=list(cors_rules),
        encryption=dict(algorithm=None, kms_key=None, bucket_key_enabled=None),
        kms_key_kind="none",
        kms_grant_present=None,
        object_ownership="BucketOwnerEnforced",
        requester_pays=False,
    )
    entry.update(settings)
    facts = dict(
        exists=True,
        bucket=name,
        region=entry["region"],
        principal=PRINCIPAL,
        policy=policy,
        s3_access_granted=bool(policy),
        cors_rule_present=any(rule.get("ID") == "segments-cors" for rule in cors_rules),
        request_payer="Requester" if entry["requester_pays"] else None,
        object_ownership=entry["object_ownership"],
        kms_kind=entry["kms_key_kind"],
        kms_key=entry["encryption"]["kms_key"],
        kms_key_account=None,
        kms_grant_present=entry["kms_grant_present"],
    )
    entry["ready"], entry["problems"], _warnings = readiness(facts)
    return entry


def policy_with_ours(bucket):
    return {"Version": "2012-10-17", "Statement": [dict(OUR_STATEMENT, Resource=OUR_STATEMENT["Resource"] % bucket)]}


def test_a_changed_bucket_is_judged_with_what_the_apply_steps_read_back():
    audit = {"buckets": [audit_entry("a", cors_rules=[FOREIGN_RULE]), audit_entry("b", requester_pays=True)]}
    assert audit["buckets"][0]["ready"] is False and len(audit["buckets"][0]["problems"]) == 2
    access = {
        "results": [
            {
                "item": {"names": ["a", "b"]},
                "buckets": [
                    {"name": "a", "changed": True, "failed": False, "after": {"policy": policy_with_ours("a")}},
                    {"name": "b", "changed": True, "failed": False, "after": {"policy": policy_with_ours("b")}},
                ],
            }
        ]
    }
    cors = {
        "buckets": [
            {"name": "a", "changed": True, "failed": False, "after": {"cors_rules": [FOREIGN_RULE, OUR_RULE]}},
            {"name": "b", "changed": True, "failed": False, "after": {"cors_rules": [OUR_RULE]}},
        ]
    }
    judged = s3_readiness_after(audit, [access, cors], PRINCIPAL)
    assert judged["unjudged"] == []
    by_name = {entry["name"]: entry for entry in judged["entries"]}
    assert by_name["a"]["ready"] is True and by_name["a"]["problems"] == []
    assert by_name["a"]["url_prefix"] == "https://a.s3.eu-west-1.amazonaws.com/"
    # What the apply steps cannot change stays in the way.
    assert by_name["b"]["ready"] is False and len(by_name["b"]["problems"]) == 1
    assert "Requester Pays" in by_name["b"]["problems"][0]


def test_unchanged_and_failed_buckets_keep_the_audit():
    audit = {"buckets": [audit_entry("a"), audit_entry("b")]}
    cors = {
        "buckets": [
            {"name": "a", "changed": False, "failed": False, "after": {"cors_rules": [OUR_RULE]}},
            {"name": "b", "changed": False, "failed": True, "msg": "denied"},
        ]
    }
    assert s3_readiness_after(audit, [cors, {"skipped": True}], PRINCIPAL) == dict(entries=[], unjudged=[])


def test_a_part_only_one_step_changed_keeps_the_audit_for_the_other():
    audit = {"buckets": [audit_entry("a")]}
    access = {"buckets": [{"name": "a", "changed": True, "failed": False, "after": {"policy": policy_with_ours("a")}}]}
    judged = s3_readiness_after(audit, [access, {"skipped": True}], PRINCIPAL)
    assert [entry["problems"] for entry in judged["entries"]] == [audit["buckets"][0]["problems"][1:]]
    assert "CORS" in judged["entries"][0]["problems"][0]


def test_buckets_the_controller_cannot_judge_are_left_to_a_read_back_audit():
    preflighted = audit_entry("p", preflight={"allowed": True})
    # The info module described the key under a name the entry does not return: its sentence differs.
    described = audit_entry("k", kms_key_kind="unknown", encryption=dict(algorithm="aws:kms", kms_key="alias/x"))
    described["problems"] = [
        problem.replace("alias/x", "arn:aws:kms:eu-west-1:1:key/x") for problem in described["problems"]
    ]
    audit = {"buckets": [preflighted, described]}
    changed = {"buckets": [{"name": name, "changed": True, "failed": False, "after": {}} for name in ("p", "k")]}
    assert s3_readiness_after(audit, [changed], PRINCIPAL) == dict(entries=[], unjudged=["p", "k"])


def test_a_key_policy_grant_read_back_counts():
    key_arn = "arn:aws:kms:eu-west-1:111122223333:key/abc"
    entry = audit_entry(
        "a",
        policy=policy_with_ours("a"),
        cors_rules=[OUR_RULE],
        kms_key_kind="customer",
        kms_grant_present=False,
        encryption=dict(algorithm="aws:kms", kms_key=key_arn, bucket_key_enabled=True),
    )
    assert entry["ready"] is False
    key_policy = {
        "Statement": [
            {
                "Sid": "segments-kms-decrypt",
                "Effect": "Allow",
                "Principal": {"AWS": PRINCIPAL},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ]
    }
    access = {
        "buckets": [
            {
                "name": "a",
                "changed": True,
                "failed": False,
                "kms_key": key_arn,
                "after": {"policy": policy_with_ours("a"), "kms_key_policy": key_policy},
            }
        ]
    }
    judged = s3_readiness_after({"buckets": [entry]}, [access], PRINCIPAL)
    assert judged == dict(
        entries=[dict(name="a", changed=False, failed=False, ready=True, problems=[], url_prefix=entry["url_prefix"])],
        unjudged=[],
    )
