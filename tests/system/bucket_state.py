# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the system tests call a bucket's true state, and how they judge it against what a module reported.

Everything here reads the clouds directly (never through a proxy) and is written independently of the modules'
merge code: "ours" is recognised by the fixed Sid / rule ID / origins / member the tests ask for, and every other
part of the bucket's configuration must be exactly what it was before the run.

A bucket's verdict is one of ONBOARDED (ours present once and right, everything else exactly as before), BEFORE
(exactly as before) or OTHER (anything else: half written); and foreign parts are intact or not.
"""

from __future__ import annotations

import copy
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from faultproxy import fresh_etag

ONBOARDED = "onboarded"
BEFORE = "before"
OTHER = "other"

OUR_SID = "segments-s3-access"
OUR_RULE_ID = "segments-cors"
SEGMENTS_PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
SEGMENTS_ORIGINS = frozenset(("https://segments.ai", "https://*.segments.ai"))
GCS_MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
# What segments_gcs_access grants by default: the custom role (storage.objects.get only) in the test project.
GCS_ROLE = "projects/%s/roles/segmentsObjectReader" % (os.environ.get("GCP_PROJECT") or "segments-local")


# ---------------------------------------------------------------- foreign configuration the customers already have


def foreign_statements(bucket: str, tag: str) -> list:
    """Two statements a customer has in the bucket policy (an Allow for a role, a Deny without TLS), marked by tag."""
    return [
        {
            "Sid": "customer-read-%s" % tag,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/reader-%s" % tag},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::%s/*" % bucket, "arn:aws:s3:::%s" % bucket],
        },
        {
            "Sid": "deny-plain-http-%s" % tag,
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::%s/*" % bucket,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]


def foreign_policy(bucket: str, tag: str = "a") -> dict:
    """A customer bucket policy with an Id and two statements of their own."""
    return {"Version": "2012-10-17", "Id": "customer-policy-%s" % tag, "Statement": foreign_statements(bucket, tag)}


def foreign_cors_rules(tag: str = "a") -> list:
    """Two customer CORS rules: one with an ID, one without (and not adoptable: another origin, PUT)."""
    return [
        {
            "ID": "customer-app-%s" % tag,
            "AllowedOrigins": ["https://app.customer.example"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 300,
        },
        {"AllowedOrigins": ["https://%s.uploads.customer.example" % tag], "AllowedMethods": ["PUT", "POST"]},
    ]


def foreign_gcs_cors(tag: str = "a") -> list:
    """Customer CORS entries of a GCS bucket (other origins, so never taken for ours)."""
    return [
        {
            "origin": ["https://app.customer.example"],
            "method": ["GET", "PUT"],
            "responseHeader": ["Content-Type"],
            "maxAgeSeconds": 600,
        },
        {"origin": ["https://%s.uploads.customer.example" % tag], "method": ["POST"]},
    ]


def foreign_gcs_bindings(tag: str = "a") -> list:
    """Customer IAM bindings: a member in the very role we add to, an owner role, and a conditional binding of our
    role."""
    return [
        {"role": GCS_ROLE, "members": ["user:analyst-%s@customer.example" % tag]},
        {"role": "roles/storage.legacyBucketOwner", "members": ["projectOwner:segments-local"]},
        {
            "role": GCS_ROLE,
            "members": ["group:auditors-%s@customer.example" % tag],
            "condition": {"title": "until-2031", "expression": "request.time < timestamp(\"2031-01-01T00:00:00Z\")"},
        },
    ]


# ---------------------------------------------------------------- reading the truth


class GcsDirect:
    """Minimal Cloud Storage JSON API client for test set-up and read-back, straight to the emulator.

    Every IAM policy write gets a fresh etag (the emulator keeps whatever etag it is sent), as Cloud Storage would."""

    def __init__(self, endpoint: str, project: str, headers=None):
        self.endpoint = endpoint.rstrip("/")
        self.project = project
        self.headers = dict(headers or {})

    def request(self, method: str, path: str, body=None, headers=None) -> tuple:
        """Send one JSON API request; return (status, decoded answer or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.endpoint + path,
            data=data,
            method=method,
            headers=dict({"Content-Type": "application/json"}, **self.headers, **(headers or {})),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, (json.loads(text) if text else None)

    def call(self, method: str, path: str, body=None, expect=(200, 204), headers=None):
        """Send one JSON API request; return the decoded answer (None when empty); raise AssertionError on another
        status."""
        status, answer = self.request(method, path, body, headers)
        if status not in expect:
            raise AssertionError("GCS %s %s answered %s: %s" % (method, path, status, str(answer)[:300]))
        return answer

    def create(self, name: str, cors=None, bindings=None) -> None:
        """Create a bucket, then give it its CORS entries and IAM bindings (the emulator's insert keeps only the
        name)."""
        self.call("POST", "/storage/v1/b?project=%s" % self.project, {"name": name})
        if cors:
            self.set_cors(name, cors)
        if bindings:
            self.set_bindings(name, bindings)

    def bucket(self, name: str) -> dict:
        """The bucket resource (metageneration, cors, ...)."""
        return self.call("GET", "/storage/v1/b/%s" % name)

    def cors(self, name: str) -> list:
        """The bucket's CORS entries, [] when none."""
        return self.bucket(name).get("cors") or []

    def set_cors(self, name: str, entries: list, metageneration=None) -> dict:
        """PATCH the cors field alone (with ifMetagenerationMatch when given); return the bucket."""
        query = "?ifMetagenerationMatch=%s" % metageneration if metageneration is not None else ""
        return self.call("PATCH", "/storage/v1/b/%s%s" % (name, query), {"cors": entries})

    def iam(self, name: str) -> dict:
        """The bucket's IAM policy (version 3 requested)."""
        return self.call("GET", "/storage/v1/b/%s/iam?optionsRequestedPolicyVersion=3" % name)

    def set_bindings(self, name: str, bindings: list) -> dict:
        """Write the IAM policy's bindings unconditionally, with a fresh etag; return the policy."""
        return self.call(
            "PUT", "/storage/v1/b/%s/iam" % name, {"version": 3, "bindings": bindings, "etag": fresh_etag()}
        )

    def set_bindings_if(self, name: str, bindings: list, etag: str) -> int:
        """Write the IAM policy's bindings on condition that its etag is still etag (where a proxy enforces it); return
        the status."""
        return self.request("PUT", "/storage/v1/b/%s/iam" % name, {"version": 3, "bindings": bindings, "etag": etag})[0]

    def delete(self, name: str) -> None:
        """Delete the bucket (and its objects); a bucket that is already gone is fine."""
        listing = self.call("GET", "/storage/v1/b/%s/o" % name, expect=(200, 404)) or {}
        for item in listing.get("items") or []:
            self.call(
                "DELETE",
                "/storage/v1/b/%s/o/%s" % (name, urllib.parse.quote(item["name"], safe="")),
                expect=(200, 204, 404),
            )
        self.call("DELETE", "/storage/v1/b/%s" % name, expect=(200, 204, 404))


def read_s3_policy(s3, bucket: str):
    """The bucket policy as a dict, None when there is none (straight from LocalStack)."""
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise


def read_s3_cors(s3, bucket: str) -> list:
    """The bucket's CORS rules, [] when none (straight from LocalStack)."""
    try:
        return s3.get_bucket_cors(Bucket=bucket).get("CORSRules") or []
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchCORSConfiguration":
            return []
        raise


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def is_our_statement(statement, bucket: str) -> bool:
    """The statement segments_s3_access writes with its defaults: Sid, Allow, our principal, s3:GetObject on
    BUCKET/*."""
    return (
        isinstance(statement, dict)
        and statement.get("Sid") == OUR_SID
        and statement.get("Effect") == "Allow"
        and _as_list((statement.get("Principal") or {}).get("AWS")) == [SEGMENTS_PRINCIPAL]
        and _as_list(statement.get("Action")) == ["s3:GetObject"]
        and _as_list(statement.get("Resource")) == ["arn:aws:s3:::%s/*" % bucket]
    )


def _judge(before, after, ours_in_after: list, ours_right: bool, after_without_ours, foreign_before, foreign_after):
    """(verdict, foreign_intact) from the parts of a bucket's configuration."""
    foreign_intact = foreign_after == foreign_before
    if after == before:
        return BEFORE, foreign_intact
    if len(ours_in_after) == 1 and ours_right and after_without_ours == before:
        return ONBOARDED, foreign_intact
    return OTHER, foreign_intact


def judge_s3_policy(bucket: str, before, after) -> tuple:
    """(verdict, foreign_intact) of a bucket policy after a present run; before had no statement of ours."""
    statements = _as_list((after or {}).get("Statement") or [])
    ours = [statement for statement in statements if isinstance(statement, dict) and statement.get("Sid") == OUR_SID]
    without_ours = None
    if after is not None:
        without_ours = dict(
            copy.deepcopy(after), Statement=[statement for statement in statements if statement not in ours]
        )
        if before is None and without_ours == {"Version": "2012-10-17", "Statement": []}:
            without_ours = None
    foreign_before = _as_list((before or {}).get("Statement") or [])
    foreign_after = [statement for statement in statements if statement not in ours]
    return _judge(
        before,
        after,
        ours,
        bool(ours) and is_our_statement(ours[0], bucket),
        without_ours,
        foreign_before,
        foreign_after,
    )


def is_our_rule(rule) -> bool:
    """The CORS rule segments_s3_cors writes with its defaults."""
    return (
        rule.get("ID") == OUR_RULE_ID
        and set(rule.get("AllowedOrigins") or []) == SEGMENTS_ORIGINS
        and rule.get("AllowedMethods") == ["GET"]
    )


def judge_s3_cors(before: list, after: list) -> tuple:
    """(verdict, foreign_intact) of S3 CORS rules after a present run; before had no rule of ours."""
    ours = [rule for rule in after if rule.get("ID") == OUR_RULE_ID]
    foreign_after = [rule for rule in after if rule.get("ID") != OUR_RULE_ID]
    return _judge(before, after, ours, bool(ours) and is_our_rule(ours[0]), foreign_after, before, foreign_after)


def is_our_gcs_entry(entry) -> bool:
    """A CORS entry whose origins are all Segments' (how segments_gcs_cors recognises its own)."""
    origins = entry.get("origin") or []
    return bool(origins) and all(origin in SEGMENTS_ORIGINS for origin in origins)


def judge_gcs_cors(before: list, after: list) -> tuple:
    """(verdict, foreign_intact) of GCS CORS entries after a present run; before had no entry of ours."""
    ours = [entry for entry in after if is_our_gcs_entry(entry)]
    foreign_after = [entry for entry in after if not is_our_gcs_entry(entry)]
    ours_right = (
        bool(ours)
        and set(ours[0].get("origin")) == SEGMENTS_ORIGINS
        and [m.upper() for m in ours[0].get("method") or []] == ["GET"]
    )
    return _judge(before, after, ours, ours_right, foreign_after, before, foreign_after)


def binding_meaning(bindings) -> list:
    """Bindings as IAM acts on them: (role, condition, sorted members) sorted; empty bindings dropped."""
    return sorted(
        json.dumps(
            [binding.get("role"), binding.get("condition"), sorted(set(binding.get("members") or []))], sort_keys=True
        )
        for binding in bindings or []
        if binding.get("members")
    )


def without_our_member(bindings) -> list:
    """The bindings less our member in unconditional bindings of our role."""
    kept = []
    for binding in copy.deepcopy(bindings or []):
        if binding.get("role") == GCS_ROLE and not binding.get("condition"):
            binding["members"] = [member for member in binding.get("members") or [] if member != GCS_MEMBER]
        kept.append(binding)
    return binding_meaning(kept)


def judge_gcs_iam(before_bindings: list, after_bindings: list) -> tuple:
    """(verdict, foreign_intact) of a GCS IAM policy's bindings after a present run; before did not grant our member."""
    granted = [
        binding
        for binding in after_bindings or []
        if binding.get("role") == GCS_ROLE
        and not binding.get("condition")
        and GCS_MEMBER in (binding.get("members") or [])
    ]
    before_meaning, after_meaning = binding_meaning(before_bindings), binding_meaning(after_bindings)
    foreign_after = without_our_member(after_bindings)
    if after_meaning == before_meaning:
        return BEFORE, foreign_after == before_meaning
    if len(granted) == 1 and foreign_after == before_meaning:
        return ONBOARDED, True
    return OTHER, foreign_after == before_meaning


# ---------------------------------------------------------------- judging a run


def tally(bucket_names: list, module_result: dict, verdicts: dict) -> dict:
    """Figures of one module run over bucket_names: module_result is the registered task result, verdicts maps each
    bucket to (verdict, foreign_intact). A bucket is lost when its foreign parts changed, when it was reported ok but is
    not onboarded, when it is half written, or when it has no reported result."""
    reported = {bucket["name"]: bucket for bucket in module_result.get("buckets") or []}
    figures = dict(
        buckets=len(bucket_names),
        ok=0,
        changed=0,
        failed=0,
        lost=0,
        half_written=0,
        failed_but_landed=0,
        changed_misreported=0,
        unmapped_errors=0,
        messages_without_bucket=0,
    )
    details = dict(lost=[], failed_but_landed=[], changed_misreported=[], unmapped_errors=[], failure_messages={})
    for name in bucket_names:
        verdict, foreign_intact = verdicts[name]
        result = reported.get(name)
        if result is None:
            figures["lost"] += 1
            details["lost"].append("%s: no result reported" % name)
            continue
        if result.get("failed"):
            figures["failed"] += 1
            message = result.get("msg") or ""
            details["failure_messages"][name] = message
            if name not in message:
                figures["messages_without_bucket"] += 1
            if "unexpected error" in message:
                # fleet.py's last resort: an exception no error mapper knew, so the message has no action and no remedy.
                figures["unmapped_errors"] += 1
                details["unmapped_errors"].append(name)
            if verdict == ONBOARDED:
                figures["failed_but_landed"] += 1
                details["failed_but_landed"].append(name)
            elif verdict == OTHER:
                figures["half_written"] += 1
        else:
            figures["ok"] += 1
            figures["changed"] += bool(result.get("changed"))
            if verdict == ONBOARDED and not result.get("changed"):
                figures["changed_misreported"] += 1
                details["changed_misreported"].append(name)
        lost_reason = None
        if not foreign_intact:
            lost_reason = "foreign parts changed"
        elif verdict == OTHER:
            lost_reason = "half written"
        elif not result.get("failed") and verdict != ONBOARDED:
            lost_reason = "reported ok but not onboarded (%s)" % verdict
        if lost_reason:
            figures["lost"] += 1
            details["lost"].append("%s: %s" % (name, lost_reason))
    figures["details"] = details
    return figures
