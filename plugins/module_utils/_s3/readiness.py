# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import is_ours as is_our_rule
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import policy_statements
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy_eval import (
    allow_statements_granting,
    deny_statements_matching,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.urls import S3_URL_TEMPLATE

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = """Pure judgement of what an S3 bucket's settings mean for Segments.ai: warnings and readiness.

Nothing here does I/O and nothing mutates its arguments. The S3 modules read the settings (_s3/io.py)
and hand them here; every sentence returned says what is wrong and what to do about it.
"""

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"
PREFLIGHT_ORIGIN = "https://app.segments.ai"

# What a bucket's default-encryption key means for Segments, from classify_kms_key.
KMS_NONE = "none"  # not SSE-KMS: S3 decrypts for any reader
KMS_AWS_MANAGED = "aws_managed"  # aws/s3: its policy cannot be changed, and no other account can use it
KMS_OTHER_ACCOUNT = "other_account"  # a customer key of another account: only its owner can grant
KMS_CUSTOMER = "customer"  # a customer key of the caller's account: segments_s3_access kms=true grants
KMS_UNKNOWN = "unknown"  # SSE-KMS, but the key could not be described


def virtual_hosted_url(bucket: str, region: str) -> str:
    """Return the virtual-hosted URL prefix Segments uses for the bucket's objects."""
    return S3_URL_TEMPLATE % (bucket, region, "")


def dotted_name_sentence(bucket: str, region: str) -> str | None:
    """Return the warning for a bucket name with dots (the TLS certificate of virtual-hosted URLs fails), else None."""
    if "." not in bucket:
        return None
    return (
        "the bucket name has dots, so the virtual-hosted HTTPS URL %s fails the TLS certificate check and browsers "
        "cannot load its objects from Segments; copy the data to a bucket whose name has no dots"
        % virtual_hosted_url(bucket, region)
    )


def encryption_summary(configuration: dict | None) -> dict:
    """Return {"algorithm", "kms_key", "bucket_key_enabled"} from a GetBucketEncryption configuration (all None when there is none)."""
    for rule in (configuration or {}).get("Rules") or []:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return {
                "algorithm": default["SSEAlgorithm"],
                "kms_key": default.get("KMSMasterKeyID"),
                "bucket_key_enabled": rule.get("BucketKeyEnabled"),
            }
    return {"algorithm": None, "kms_key": None, "bucket_key_enabled": None}


def key_region(key_id: str | None, bucket_region: str) -> str:
    """Return the region of a KMS key given as ARN (arn:aws:kms:REGION:...), else the bucket's region, where S3 looks it up."""
    if key_id and key_id.startswith("arn:"):
        parts = key_id.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return bucket_region


def classify_kms_key(
    algorithm: str | None,
    key_id: str | None,
    key_manager: str | None,
    key_account: str | None,
    caller_account: str | None,
) -> str:
    """Return one of the KMS_* kinds for the default-encryption key, from DescribeKey's KeyManager and AWSAccountId."""
    if algorithm not in KMS_ALGORITHMS:
        return KMS_NONE
    if not key_id or key_id in ("alias/aws/s3",) or key_manager == "AWS":
        return KMS_AWS_MANAGED
    if key_manager is None:
        return KMS_UNKNOWN
    if caller_account and key_account and key_account != caller_account:
        return KMS_OTHER_ACCOUNT
    return KMS_CUSTOMER


def _sid_statements(policy, sid):
    return [
        statement
        for statement in policy_statements(policy)
        if isinstance(statement, dict) and sid and statement.get("Sid") == sid and statement.get("Effect") == "Allow"
    ]


def access_granted(policy: dict | None, bucket: str, principal: str, sid: str) -> bool:
    """True when the bucket policy holds our Allow Sid, or an unconditional Allow of s3:GetObject on BUCKET/* for principal."""
    return bool(
        _sid_statements(policy, sid)
        or allow_statements_granting(policy, principal, "s3:GetObject", "arn:aws:s3:::%s/*" % bucket)
    )


def kms_grant_present(key_policy: dict | None, key_arn: str, principal: str, sid: str) -> bool:
    """True when the key policy holds our Allow Sid, or an unconditional Allow of kms:Decrypt on the key for principal."""
    return bool(
        _sid_statements(key_policy, sid)
        or allow_statements_granting(key_policy, principal, "kms:Decrypt", key_arn or "*")
    )


def _only_insecure_transport(statement: dict) -> bool:
    # Segments always uses HTTPS, so the common "deny unless aws:SecureTransport" statement never stops it.
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or list(condition) != ["Bool"] or not isinstance(condition["Bool"], dict):
        return False
    block = condition["Bool"]
    values = block.get("aws:SecureTransport")
    values = values if isinstance(values, list) else [values]
    return list(block) == ["aws:SecureTransport"] and all(str(value).lower() == "false" for value in values)


def deny_statements_for(policy: dict | None, bucket: str, principal: str) -> list:
    """Return the Deny statements that may stop principal's s3:GetObject on the bucket, less those that only deny plain HTTP."""
    return [
        statement
        for statement in deny_statements_matching(policy, principal, "s3:GetObject", bucket)
        if not _only_insecure_transport(statement)
    ]


def _deny_label(statement: dict) -> str:
    return "Sid %s" % statement["Sid"] if statement.get("Sid") else "without a Sid"


def deny_sentence(statement: dict, principal: str) -> str:
    """Return the warning for a Deny statement that may stop principal reading the bucket's objects."""
    conditional = " under its Condition" if statement.get("Condition") else ""
    return (
        "the bucket policy has a Deny statement (%s) that may deny %s s3:GetObject on this bucket's objects%s, "
        "and a Deny wins over any Allow; narrow it so that it does not match Segments"
        % (_deny_label(statement), principal, conditional)
    )


def requester_pays_sentence() -> str:
    """Return the sentence for a bucket with Requester Pays enabled."""
    return (
        "Requester Pays is enabled, so S3 refuses Segments' requests, which do not agree to pay; "
        "turn Requester Pays off for this bucket"
    )


def ownership_sentence(object_ownership: str | None) -> str | None:
    """Return the warning when Object Ownership is not BucketOwnerEnforced (None: no ownership controls, i.e. ObjectWriter), else None."""
    if object_ownership == BUCKET_OWNER_ENFORCED:
        return None
    shown = object_ownership or "ObjectWriter (no ownership controls set)"
    return (
        "Object Ownership is %s, not BucketOwnerEnforced, so objects uploaded by other accounts stay owned by them and "
        "the bucket policy does not let Segments read them; set Object Ownership to BucketOwnerEnforced" % shown
    )


def kms_sentence(
    kind: str,
    key: str | None,
    principal: str,
    region: str,
    key_account: str | None = None,
    kms_option: bool | None = None,
) -> str | None:
    """Return the sentence for a default-encryption key that Segments cannot use yet, or None when nothing needs saying.

    kms_option is the access module's kms option (None in the info module, which only reports)."""
    if kind == KMS_AWS_MANAGED:
        return (
            "default encryption uses the AWS managed key aws/s3, which no other account can ever use, so Segments cannot read "
            "objects encrypted with it; switch default encryption to SSE-S3 or a customer-managed KMS key and re-encrypt the objects"
        )
    if kind == KMS_OTHER_ACCOUNT:
        return (
            "default encryption uses the KMS key %s of account %s, which this account cannot change; ask that account to let %s "
            "kms:Decrypt with the key through s3.%s.amazonaws.com" % (key, key_account, principal, region)
        )
    if kind == KMS_UNKNOWN:
        return (
            "default encryption uses the KMS key %s, which could not be described; grant the caller kms:DescribeKey and "
            "kms:GetKeyPolicy on it and check that it lets %s kms:Decrypt" % (key, principal)
        )
    if kind == KMS_CUSTOMER and kms_option is False:
        return (
            "default encryption uses the customer-managed KMS key %s and kms is false, so Segments will not be able to read "
            "the objects unless the key policy lets %s kms:Decrypt; set kms: true" % (key, principal)
        )
    return None


def access_warnings(
    bucket: str,
    region: str,
    principal: str,
    policy: dict | None,
    request_payer: str | None,
    object_ownership: str | None,
) -> list:
    """Return the segments_s3_access warnings for a bucket: dotted name, Requester Pays, Object Ownership and Deny statements."""
    sentences = [dotted_name_sentence(bucket, region)]
    if request_payer == "Requester":
        sentences.append(requester_pays_sentence())
    sentences.append(ownership_sentence(object_ownership))
    sentences.extend(
        deny_sentence(statement, principal) for statement in deny_statements_for(policy, bucket, principal)
    )
    return [sentence for sentence in sentences if sentence]


def preflight_allows(allow_origin: str | None, origin: str) -> bool:
    """True when an Access-Control-Allow-Origin answer lets origin read the response."""
    return allow_origin is not None and allow_origin.strip() in ("*", origin)


def readiness(facts: dict) -> tuple:
    """Return (ready, problems, warnings) for the audited facts of one bucket; each sentence says what to do.

    facts holds: exists, bucket, region, principal, s3_access_granted, cors_rule_present, request_payer, object_ownership,
    kms_kind, kms_key, kms_key_account, kms_grant_present, policy and, when a preflight was sent, preflight."""
    if not facts.get("exists"):
        return (
            False,
            [
                "the bucket does not exist, or the credentials may not see it; check the name and use credentials "
                "of the account that owns it"
            ],
            [],
        )
    bucket, region, principal = facts["bucket"], facts["region"], facts["principal"]
    problems: list = []
    warnings: list = []
    if not facts.get("s3_access_granted"):
        problems.append(
            "the bucket policy does not grant %s s3:GetObject on the objects; run segments.cloud.segments_s3_access "
            "on the bucket" % principal
        )
    if not facts.get("cors_rule_present"):
        problems.append(
            "the CORS configuration has no Segments rule, so browsers cannot load the objects from Segments; "
            "run segments.cloud.segments_s3_cors on the bucket"
        )
    dotted = dotted_name_sentence(bucket, region)
    if dotted:
        problems.append(dotted)
    if facts.get("request_payer") == "Requester":
        problems.append(requester_pays_sentence())
    kind = facts.get("kms_kind", KMS_NONE)
    if kind == KMS_CUSTOMER and not facts.get("kms_grant_present"):
        problems.append(
            "default encryption uses the customer-managed KMS key %s and its key policy does not let %s kms:Decrypt; "
            "run segments.cloud.segments_s3_access with kms: true" % (facts.get("kms_key"), principal)
        )
    elif kind in (KMS_AWS_MANAGED, KMS_OTHER_ACCOUNT, KMS_UNKNOWN) and not facts.get("kms_grant_present"):
        problems.append(kms_sentence(kind, facts.get("kms_key"), principal, region, facts.get("kms_key_account")))  # type: ignore[arg-type]
    for statement in deny_statements_for(facts.get("policy"), bucket, principal):
        (warnings if statement.get("Condition") else problems).append(deny_sentence(statement, principal))
    ownership = ownership_sentence(facts.get("object_ownership"))
    if ownership:
        warnings.append(ownership)
    preflight = facts.get("preflight")
    if preflight is not None and not preflight.get("allowed"):
        problems.append(
            "a browser preflight from %s to %s was not allowed (HTTP status %s%s); check the Segments CORS rule"
            % (
                preflight.get("origin"),
                preflight.get("url"),
                preflight.get("status"),
                ", %s" % preflight["error"] if preflight.get("error") else "",
            )
        )
    return not problems, problems, warnings


def cors_rule_present(rules: list | None, rule_id: str) -> bool:
    """True when the CORS rules hold our rule (by ID, or a hand-made Segments-only rule we would adopt)."""
    return any(is_our_rule(rule, rule_id) for rule in rules or [])
