# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Readiness of the S3 buckets the role changed, judged on the controller from what was already read.

The audit read every setting of each bucket; the apply modules read back the two they write (the bucket policy and
the CORS rules, and the key policy with kms). Their readiness after the changes is the audit's facts with those
read-backs in place, judged by the same pure code the info module uses (module_utils/_s3/readiness.py), so the role
needs no second audit. Nothing here does I/O.
"""

from __future__ import annotations

import json

from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import DEFAULT_RULE_ID
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import DEFAULT_KMS_SID, DEFAULT_SID
from ansible_collections.segments.cloud.plugins.module_utils._s3.readiness import (
    KMS_NONE,
    access_granted,
    cors_rule_present,
    kms_grant_present,
    readiness,
)
from ansible_collections.segments.cloud.plugins.plugin_utils.report import bucket_results


def _plain(data):
    """Part of a registered result as plain lists, dicts and strings. Filters receive Ansible's lazy, tagged containers,
    and the pure code's defensive deep copies of those cost far more than of plain data; a registered result is JSON,
    so a JSON round trip gives it back plain."""
    return json.loads(json.dumps(data, default=str))


def _key_account(key_id):
    # arn:aws:kms:REGION:ACCOUNT:key/ID; a key id or alias names no account.
    parts = (key_id or "").split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4] else None


def _facts(audit_entry, principal, policy, cors_rules, kms_key, key_grant):
    """The facts segments_s3_info judges a bucket by, from its audit entry and the given managed parts."""
    return dict(
        exists=True,
        bucket=audit_entry["name"],
        region=audit_entry.get("region"),
        principal=principal,
        policy=policy,
        s3_access_granted=access_granted(policy, audit_entry["name"], principal, DEFAULT_SID),
        cors_rule_present=cors_rule_present(cors_rules, DEFAULT_RULE_ID),
        request_payer="Requester" if audit_entry.get("requester_pays") else None,
        object_ownership=audit_entry.get("object_ownership"),
        kms_kind=audit_entry.get("kms_key_kind") or KMS_NONE,
        kms_key=kms_key,
        kms_key_account=_key_account(kms_key),
        kms_grant_present=key_grant,
    )


def _audit_facts(audit_entry):
    """The facts the audit judged the bucket by, as far as its entry returns them; False for a bucket the controller
    cannot judge (missing, failed, or audited with a preflight)."""
    if not audit_entry.get("exists") or audit_entry.get("failed") or "preflight" in audit_entry:
        # A preflight is a request of its own: only a new audit can send it again.
        return False
    facts = _facts(
        audit_entry,
        audit_entry.get("principal"),
        audit_entry.get("policy"),
        audit_entry.get("cors_rules"),
        (audit_entry.get("encryption") or {}).get("kms_key"),
        audit_entry.get("kms_grant_present"),
    )
    return facts


def s3_readiness_after(audit, applied, principal, names=None):
    """Judge again the buckets an apply step changed: {"entries": [...], "unjudged": [...]}.

    ``audit`` is the registered segments_s3_info result; ``applied`` the registered results of segments_s3_access and
    segments_s3_cors (plain or loop results). Each entry has name, ready, problems and url_prefix as segments_s3_info
    would return them now. ``unjudged`` names the changed buckets the controller cannot judge (a preflight was asked
    for, or the audit's facts do not give back the audit's own judgement): those need a read-back audit.
    ``names`` orders the result (by default the audit's order). Linear in the number of buckets."""
    # Only the changed buckets' entries are turned into plain data: a re-run that changed nothing costs one pass. Each
    # bucket's are turned when it is judged, so that plain copies of a whole fleet's policies never exist at once.
    read_back = {}
    for task_results in applied or []:
        for entry in bucket_results(task_results):
            if entry.get("changed") and not entry.get("failed"):
                read_back.setdefault(entry["name"], []).append(entry)
    if not read_back:
        return dict(entries=[], unjudged=[])
    audit_by_name = {entry["name"]: entry for entry in bucket_results(audit) if entry["name"] in read_back}
    judged, unjudged = [], []
    for name in names if names is not None else list(audit_by_name):
        if name not in read_back:
            continue
        audit_entry = dict(_plain(audit_by_name.get(name, {})), principal=principal)
        before = _audit_facts(audit_entry)
        # Only where the returned facts give back the audit's own judgement (they may not, say, for a KMS key the
        # info module described under another name) is a judgement from them worth the same as a read-back audit.
        if not before or readiness(before)[:2] != (audit_entry.get("ready"), audit_entry.get("problems")):
            unjudged.append(name)
            continue
        after = {}
        for entry in read_back[name]:
            after.update(_plain(dict(entry.get("after") or {}, kms_key=entry.get("kms_key"))))
        policy = after["policy"] if "policy" in after else before["policy"]
        key_grant = before["kms_grant_present"]
        kms_key = before["kms_key"]
        if after.get("kms_key_policy") is not None and after.get("kms_key"):
            kms_key = after["kms_key"]
            key_grant = kms_grant_present(after["kms_key_policy"], kms_key, principal, DEFAULT_KMS_SID)
        facts = _facts(
            audit_entry,
            principal,
            policy,
            after["cors_rules"] if "cors_rules" in after else audit_entry.get("cors_rules"),
            kms_key,
            key_grant,
        )
        ready, problems, _warnings = readiness(facts)
        judged.append(
            dict(
                name=name,
                changed=False,
                failed=False,
                ready=ready,
                problems=problems,
                url_prefix=audit_entry.get("url_prefix"),
            )
        )
    return dict(entries=judged, unjudged=unjudged)
