# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS clients and the one place where AWS errors become messages.

``S3Clients`` hands out one botocore client per region, shared by all worker threads, built through
amazon.aws's ``AnsibleAWSModule.client`` so that every standard AWS option works (profile, keys,
endpoint_url, region, ...). ``aws_errors`` turns any botocore failure into a ``BucketError`` that names
the bucket, the call, and what the user can do about it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

try:
    import botocore
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports the missing library.

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError

# The IAM permission each call needs, so that AccessDenied can name it.
PERMISSION_FOR_OPERATION = {
    "GetBucketLocation": "s3:GetBucketLocation",
    "HeadBucket": "s3:ListBucket",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "DescribeKey": "kms:DescribeKey",
    "GetKeyPolicy": "kms:GetKeyPolicy",
    "PutKeyPolicy": "kms:PutKeyPolicy",
    "GetCallerIdentity": "sts:GetCallerIdentity",
}

ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403", "Forbidden")
THROTTLING_CODES = (
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "503",
    "RequestThrottled",
)
CREDENTIAL_CODES = (
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidToken",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "TokenRefreshRequired",
)
WRONG_REGION_CODES = ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301")

# Throttling and server errors are retried with jittered backoff before a bucket is reported failed.
RETRY_ATTEMPTS = 6
aws_retry = AWSRetry.jittered_backoff(
    retries=RETRY_ATTEMPTS, catch_extra_error_codes=["SlowDown", "503", "500", "InternalError"]
)
# botocore's own retries, below AWSRetry, are the only ones for connection resets and timeouts. Legacy mode has no
# client-wide retry quota: standard mode's quota, shared by every worker thread, runs dry when many calls fail at once,
# and from then on no connection error is retried at all. (Legacy's max_attempts counts the retries after the first try.)
BOTOCORE_RETRIES = 5


class BucketNotFound(BucketError):
    """The bucket does not exist (or the caller may not learn that it does): the info module reports it instead of failing."""


class SegmentsAWSModule(AnsibleAWSModule):
    """AnsibleAWSModule, less its habit of passing warnings= to exit_json, which ansible-core 2.19 deprecates:
    2.19 already returns every module.warn() itself, so the warnings still reach the user exactly once."""

    def _should_inject_warnings(self) -> bool:
        return False


def _client_error_message(bucket, error):
    operation = getattr(error, "operation_name", None) or "the AWS call"
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    text = details.get("Message") or ""
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    if code in ACCESS_DENIED_CODES:
        permission = PERMISSION_FOR_OPERATION.get(operation, "the permission for %s" % operation)
        return BucketError(
            bucket,
            operation,
            "access denied (%s)" % code,
            "Grant the caller %s on this bucket (or its KMS key), or check the bucket policy and SCPs for a Deny"
            % permission,
        )
    if code == "NoSuchBucket" or (
        code in ("404", "NotFound")
        and operation in ("GetBucketLocation", "HeadBucket", "GetBucketPolicy", "GetBucketCors")
    ):
        return BucketNotFound(
            bucket,
            operation,
            "the bucket does not exist",
            "Check the bucket name and that the credentials belong to the account that owns it",
        )
    if code == "NotFoundException":
        return BucketError(
            bucket, operation, "the KMS key was not found (%s)" % text, "Check the bucket's default-encryption key"
        )
    if code == "MalformedPolicy":
        return BucketError(
            bucket,
            operation,
            "S3 rejected the policy as malformed: %s" % text,
            "Check that the principal is an existing IAM user, role or account ARN and that actions are valid s3: actions",
        )
    if code == "InvalidBucketName":
        return BucketError(
            bucket,
            operation,
            "not a valid S3 bucket name",
            "Use the bucket's exact name: 3-63 lowercase letters, digits, dots or hyphens",
        )
    if code in WRONG_REGION_CODES:
        region = headers.get("x-amz-bucket-region", "another region")
        return BucketError(
            bucket,
            operation,
            "the bucket lives in %s, not in the region asked for" % region,
            "Set region to %s or leave it unset so the bucket's region is discovered" % region,
        )
    if code in THROTTLING_CODES:
        return BucketError(
            bucket,
            operation,
            "throttled by AWS (%s) after %d retries" % (code, RETRY_ATTEMPTS),
            "Lower concurrency or run again later",
        )
    if code in CREDENTIAL_CODES:
        return BucketError(
            bucket,
            operation,
            "AWS rejected the credentials (%s: %s)" % (code, text),
            "Refresh the credentials (profile, access key, session token) and run again",
        )
    return BucketError(
        bucket, operation, "%s: %s" % (code, text) if text else code, "Check the bucket and the options, then run again"
    )


# The operation each worker thread last started: a connection error carries no operation name, so it is taken from here.
_CURRENT_CALL = threading.local()


def _note_operation(model=None, **_kwargs):
    """botocore before-call handler: remember the operation this thread is calling (GetBucketPolicy, PutKeyPolicy, ...)."""
    _CURRENT_CALL.operation = getattr(model, "name", None)


def current_operation():
    """The AWS operation this thread started last, or None."""
    return getattr(_CURRENT_CALL, "operation", None)


def aws_error_to_bucket_error(bucket, error, operation=None):
    """Translate a botocore exception raised while working on ``bucket`` into a ``BucketError``; operation names the
    call when the exception does not (connection errors), else the call this thread started last is named."""
    if isinstance(error, botocore.exceptions.ClientError):
        return _client_error_message(bucket, error)
    operation = operation or current_operation()
    if isinstance(error, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return BucketError(
            bucket,
            operation or "authentication",
            "no usable AWS credentials were found",
            "Set profile, or access_key and secret_key, or the AWS_* environment variables",
        )
    if isinstance(
        error,
        (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectionError,
            botocore.exceptions.HTTPClientError,
        ),
    ):
        return BucketError(
            bucket,
            operation or "the AWS call",
            "could not reach AWS after %d attempts: %s" % (BOTOCORE_RETRIES + 1, str(error).rstrip(".")),
            "Check the network, the region and endpoint_url, then run again",
            in_flight=True,
        )
    if isinstance(error, botocore.exceptions.ParamValidationError):
        return BucketError(bucket, operation or "request validation", str(error), "Check the module options")
    return BucketError(
        bucket,
        operation or "AWS call",
        "%s: %s" % (type(error).__name__, error),
        "Check the bucket and the options, then run again",
    )


@contextmanager
def aws_errors(bucket):
    """Inside this block, botocore failures surface as a ``BucketError`` for ``bucket``."""
    try:
        yield
    except BucketError:
        raise
    except botocore.exceptions.BotoCoreError as error:
        raise aws_error_to_bucket_error(bucket, error) from None
    except botocore.exceptions.ClientError as error:
        raise aws_error_to_bucket_error(bucket, error) from None


def error_code(error):
    """The AWS error code of a botocore ClientError, or None."""
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


class S3Clients:
    """Thread-safe cache of clients, one per (service, region), sized for ``concurrency`` workers."""

    def __init__(self, module, concurrency):
        self._module = module
        self._config = Config(
            max_pool_connections=max(10, concurrency), retries={"mode": "legacy", "max_attempts": BOTOCORE_RETRIES}
        )
        self._clients = {}
        self._lock = threading.Lock()
        self.default_region = module.region or "us-east-1"
        # Regions an audit of the same run found (the bucket_regions option of the modules that have it).
        self._known_regions = dict(module.params.get("bucket_regions") or {})

    def client(self, service="s3", region=None):
        """The shared client for ``service`` in ``region`` (the module's region when None), created once."""
        region = region or self.default_region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._module.client(service, retry_decorator=aws_retry, region=region, config=self._config)
                client.meta.events.register("before-call", _note_operation)
                self._clients[key] = client
            return self._clients[key]

    def bucket_region(self, bucket):
        """The region a bucket lives in, from GetBucketLocation (None and 'EU' are the legacy spellings).

        When GetBucketLocation is denied, the x-amz-bucket-region header of HeadBucket answers instead: S3 sends it even with a 403."""
        with aws_errors(bucket):
            try:
                location = self.client().get_bucket_location(aws_retry=True, Bucket=bucket).get("LocationConstraint")
            except botocore.exceptions.ClientError as error:
                if error_code(error) not in ACCESS_DENIED_CODES:
                    raise
                region = self._region_from_head_bucket(bucket)
                if not region:
                    raise
                return region
        if not location:
            return "us-east-1"
        if location == "EU":
            return "eu-west-1"
        return location

    def _region_from_head_bucket(self, bucket):
        """x-amz-bucket-region from HeadBucket, or None; HeadBucket's own error is raised when the bucket does not exist."""
        try:
            answer = self.client().head_bucket(aws_retry=True, Bucket=bucket)
        except botocore.exceptions.ClientError as error:
            if error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                raise
            answer = error.response
        return answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region") or answer.get(
            "BucketRegion"
        )

    def s3_for_bucket(self, bucket):
        """(region, client) for a bucket: its region is taken from bucket_regions or discovered, and its regional client reused."""
        region = self._known_regions.get(bucket) or self.bucket_region(bucket)
        return region, self.client("s3", region)
