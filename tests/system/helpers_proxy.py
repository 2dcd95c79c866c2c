# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the bad-input and security tests add to faultproxy.py: more error answers, and the IAM permission of each
request.

``AnswerProxy`` is a FaultProxy whose denied requests get another error than AccessDenied: the answer AWS gives
to expired credentials, to a policy with a principal it does not know, or to a bucket asked for in the wrong
region; Cloud Storage's 401 for an expired token. ``permission_of`` names the IAM permission AWS or Cloud Storage
checks for a request, as the proxy names it ("GET policy", "POST DescribeKey", "PUT iam"), so a proxy's log of
operations becomes the set of permissions a run needed.
"""

from __future__ import annotations

import json

from faultproxy import ACCESS_DENIED, WRITE_METHODS, FaultProxy, gcs_error_body

# The permission AWS's service authorization reference gives for each operation, by the proxy's name for it.
# GetCallerIdentity needs none: AWS answers it even under an explicit Deny.
AWS_PERMISSION_FOR_OPERATION = {
    "GET location": "s3:GetBucketLocation",
    "HEAD bucket": "s3:ListBucket",
    "GET policy": "s3:GetBucketPolicy",
    "PUT policy": "s3:PutBucketPolicy",
    "DELETE policy": "s3:DeleteBucketPolicy",
    "GET cors": "s3:GetBucketCORS",
    "PUT cors": "s3:PutBucketCORS",
    "DELETE cors": "s3:PutBucketCORS",
    "GET encryption": "s3:GetEncryptionConfiguration",
    "GET ownershipControls": "s3:GetBucketOwnershipControls",
    "GET requestPayment": "s3:GetBucketRequestPayment",
    "GET publicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "GET acl": "s3:GetBucketAcl",
    "GET tagging": "s3:GetBucketTagging",
    "GET versioning": "s3:GetBucketVersioning",
    "GET bucket": "s3:ListBucket",
    "GET service": "s3:ListAllMyBuckets",
    "GET object": "s3:GetObject",
    "POST DescribeKey": "kms:DescribeKey",
    "POST GetKeyPolicy": "kms:GetKeyPolicy",
    "POST PutKeyPolicy": "kms:PutKeyPolicy",
    "POST GetCallerIdentity": None,
}
GCS_PERMISSION_FOR_OPERATION = {
    "GET bucket": "storage.buckets.get",
    "PATCH bucket": "storage.buckets.update",
    "PUT bucket": "storage.buckets.update",
    "DELETE bucket": "storage.buckets.delete",
    "GET iam": "storage.buckets.getIamPolicy",
    "PUT iam": "storage.buckets.setIamPolicy",
    "POST buckets": "storage.buckets.create",
    "GET buckets": "storage.buckets.list",
    "GET o": "storage.objects.list",
}
# Requests no IAM policy governs: a browser's anonymous CORS preflight, and sts:GetCallerIdentity.
UNGOVERNED_OPERATIONS = ("OPTIONS object", "OPTIONS bucket", "POST GetCallerIdentity")
ANSWER_KINDS = ("expired_token", "malformed_policy", "wrong_region")
WRONG_REGION = "eu-central-1"


def permission_of(cloud: str, operation: str) -> str | None:
    """The IAM permission (s3:..., kms:..., storage.buckets....) a request needs, by the proxy's operation name; None
    when no permission governs it; 'unknown: OPERATION' for a request this table does not know (a new call to
    document)."""
    if operation in UNGOVERNED_OPERATIONS:
        return None
    table = AWS_PERMISSION_FOR_OPERATION if cloud == "s3" else GCS_PERMISSION_FOR_OPERATION
    if operation in table:
        return table[operation]
    return "unknown: %s" % operation


def is_write(operation: str) -> bool:
    """True when a request (by the proxy's operation name) changes the server: PUT, POST, PATCH, DELETE, less AWS's POST
    reads."""
    method, _space, action = operation.partition(" ")
    return method in WRITE_METHODS and not action.startswith(("Get", "Describe", "List"))


def forwarded_writes(proxy) -> list:
    """The write requests that reached the server through ``proxy`` (an injected error is not a write), in order."""
    return [event["operation"] for event in proxy.events() if is_write(event["operation"]) and not event["fault"]]


def _s3_error(status: int, code: str, message: str, extra_headers=()) -> tuple:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
        '<RequestId>ANSWERPROXY</RequestId></Error>' % (code, message)
    ).encode()
    return status, [("Content-Type", "application/xml")] + list(extra_headers), body


def aws_answer(kind: str, request) -> tuple:
    """(status, headers, body) AWS answers ``request`` with for: expired_token (any service), malformed_policy (S3),
    wrong_region (S3's PermanentRedirect naming the bucket's region)."""
    action = request.operation.partition(" ")[2]
    if kind == "expired_token":
        message = "The security token included in the request is expired"
        if request.headers.get("X-Amz-Target"):
            body = json.dumps({"__type": "ExpiredTokenException", "message": message}).encode()
            return 400, [("Content-Type", "application/x-amz-json-1.1")], body
        if action[:1].isupper():
            body = (
                '<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>%s</Message></Error>'
                '<RequestId>ANSWERPROXY</RequestId></ErrorResponse>' % message
            ).encode()
            return 403, [("Content-Type", "text/xml")], body
        return _s3_error(400, "ExpiredToken", "The provided token has expired.")
    if kind == "malformed_policy":
        return _s3_error(400, "MalformedPolicy", "Invalid principal in policy")
    if kind == "wrong_region":
        return _s3_error(
            301,
            "PermanentRedirect",
            "The bucket you are attempting to access must be addressed using the specified endpoint.",
            [("x-amz-bucket-region", WRONG_REGION)],
        )
    raise ValueError("unknown answer kind %r" % kind)


def gcs_answer(kind: str, _request) -> tuple:
    """(status, headers, body) Cloud Storage answers with for expired_token: 401 Invalid Credentials."""
    if kind == "expired_token":
        return (
            401,
            [("Content-Type", "application/json; charset=UTF-8")],
            gcs_error_body(401, "authError", "Invalid Credentials"),
        )
    raise ValueError("unknown GCS answer kind %r" % kind)


class AnswerProxy(FaultProxy):
    """A FaultProxy whose denied requests (see ``deny_all``) get the error of ``answer_kind`` (one of ANSWER_KINDS)
    instead of AccessDenied; everything else, the event log and the counters, is FaultProxy's."""

    def __init__(self, upstream: str, cloud: str, answer_kind: str, **options):
        if answer_kind not in ANSWER_KINDS:
            raise ValueError("answer_kind must be one of %s" % ", ".join(ANSWER_KINDS))
        super().__init__(upstream, cloud, **options)
        self.answer_kind = answer_kind

    def error_answer(self, kind: str, request) -> tuple:
        if kind != ACCESS_DENIED:
            return super().error_answer(kind, request)
        answer = aws_answer if self.cloud == "s3" else gcs_answer
        return answer(self.answer_kind, request)
