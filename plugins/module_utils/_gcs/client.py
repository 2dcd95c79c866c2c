# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Google Cloud Storage client and the one place where GCS errors become messages.

The authentication options follow google.cloud's names and environment variables (documented once in
the ``segments.cloud.gcp`` doc fragment). ``gcs_errors`` turns any google-cloud-storage or google-auth
failure into a ``BucketError`` that names the bucket, the call, and what the user can do.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

from ansible.module_utils.basic import env_fallback

try:
    import requests
    from google.api_core import exceptions as google_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    HAS_GOOGLE_CLOUD_STORAGE = True
    GOOGLE_IMPORT_ERROR = None
except ImportError as import_error:
    HAS_GOOGLE_CLOUD_STORAGE = False
    GOOGLE_IMPORT_ERROR = import_error

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError

DEFAULT_SCOPES = ["https://www.googleapis.com/auth/devstorage.full_control"]
AUTH_KINDS = ["application", "serviceaccount", "machineaccount", "accesstoken"]

# The IAM permission each action needs, so that a 403 can name it.
PERMISSION_FOR_ACTION = {
    "read bucket": "storage.buckets.get",
    "update CORS": "storage.buckets.update",
    "read IAM policy": "storage.buckets.getIamPolicy",
    "set IAM policy": "storage.buckets.setIamPolicy",
}


def gcp_argument_spec():
    """Authentication and endpoint options shared by every GCS module (google.cloud's names and variables)."""
    return dict(
        project=dict(type="str", fallback=(env_fallback, ["GCP_PROJECT"])),
        auth_kind=dict(
            type="str", choices=AUTH_KINDS, default="application", fallback=(env_fallback, ["GCP_AUTH_KIND"])
        ),
        service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])),
        service_account_contents=dict(
            type="jsonarg", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])
        ),
        access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GCP_ACCESS_TOKEN"])),
        scopes=dict(type="list", elements="str", default=DEFAULT_SCOPES, fallback=(env_fallback, ["GCP_SCOPES"])),
        api_endpoint=dict(type="str", fallback=(env_fallback, ["STORAGE_EMULATOR_HOST"])),
    )


class GcsSetupError(Exception):
    """The client could not be built (missing credentials or library); fails the whole task."""


def _credentials(params):
    kind = params["auth_kind"]
    scopes = params["scopes"]
    if kind == "serviceaccount":
        from google.oauth2 import service_account

        if params.get("service_account_contents"):
            info = params["service_account_contents"]
            info = json.loads(info) if isinstance(info, str) else info
            return service_account.Credentials.from_service_account_info(info, scopes=scopes)
        if params.get("service_account_file"):
            return service_account.Credentials.from_service_account_file(params["service_account_file"], scopes=scopes)
        raise GcsSetupError("auth_kind=serviceaccount needs service_account_file or service_account_contents")
    if kind == "machineaccount":
        from google.auth import compute_engine

        return compute_engine.Credentials()
    if kind == "accesstoken":
        if not params.get("access_token"):
            raise GcsSetupError("auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN)")
        from google.oauth2.credentials import Credentials

        return Credentials(params["access_token"])
    import google.auth

    try:
        credentials, _project = google.auth.default(scopes=scopes)
        return credentials
    except auth_exceptions.DefaultCredentialsError:
        if params.get("api_endpoint"):
            # An emulator or an air-gapped endpoint needs no Google credentials.
            return AnonymousCredentials()
        raise GcsSetupError(
            "no application default credentials were found: set GOOGLE_APPLICATION_CREDENTIALS, "
            "run 'gcloud auth application-default login', or use auth_kind=serviceaccount"
        )


def gcs_client(params, concurrency):
    """A google-cloud-storage client for the module options, with an HTTP pool sized for ``concurrency`` workers."""
    if not HAS_GOOGLE_CLOUD_STORAGE:
        raise GcsSetupError(
            "the python library google-cloud-storage is required: pip install google-cloud-storage (%s)"
            % GOOGLE_IMPORT_ERROR
        )
    api_endpoint = params.get("api_endpoint")
    if api_endpoint and "://" not in api_endpoint:
        api_endpoint = "http://" + api_endpoint
    try:
        credentials = _credentials(params)
    except (ValueError, OSError, auth_exceptions.GoogleAuthError) as error:
        raise GcsSetupError(
            "could not load GCP credentials (auth_kind=%s): %s" % (params["auth_kind"], error)
        ) from None
    client_options = {"api_endpoint": api_endpoint} if api_endpoint else None
    if api_endpoint:
        # The library reads STORAGE_EMULATOR_HOST itself; keep it in step with an explicit api_endpoint.
        os.environ["STORAGE_EMULATOR_HOST"] = api_endpoint
    client = storage.Client(
        project=params.get("project") or "segments-unset-project",
        credentials=credentials,
        client_options=client_options,
    )
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=max(10, concurrency))
    client._http.mount("https://", adapter)  # pylint: disable=protected-access
    client._http.mount("http://", adapter)  # pylint: disable=protected-access
    return client


def gcs_error_to_bucket_error(bucket, action, error):
    """Translate a google-cloud-storage or transport failure during ``action`` on ``bucket`` into a ``BucketError``."""
    if isinstance(error, google_exceptions.Forbidden):
        permission = PERMISSION_FOR_ACTION.get(action, "the permission for %s" % action)
        return BucketError(bucket, action, "permission denied (403)", "Grant the caller %s on this bucket" % permission)
    if isinstance(error, google_exceptions.Unauthorized):
        return BucketError(
            bucket, action, "the credentials were rejected (401)", "Refresh the GCP credentials and run again"
        )
    if isinstance(error, google_exceptions.NotFound):
        return BucketError(bucket, action, "the bucket does not exist (404)", "Check the bucket name and the project")
    if isinstance(error, google_exceptions.PreconditionFailed):
        return BucketError(
            bucket,
            action,
            "the bucket kept changing while we wrote it (412 precondition failed after retries)",
            "Another tool is writing this bucket; run again when it is done",
        )
    if isinstance(error, google_exceptions.Conflict):
        return BucketError(
            bucket,
            action,
            "the IAM policy changed while we wrote it (409 etag conflict after retries)",
            "Another tool is writing this bucket's IAM policy; run again when it is done",
        )
    if isinstance(error, (google_exceptions.TooManyRequests, google_exceptions.ServiceUnavailable)):
        return BucketError(
            bucket,
            action,
            "throttled by Cloud Storage (%s) after retries" % error.code,
            "Lower concurrency or run again later",
        )
    if isinstance(error, google_exceptions.BadRequest):
        return BucketError(
            bucket,
            action,
            "Cloud Storage rejected the request: %s" % error.message,
            "Check the bucket name, member and role",
        )
    if isinstance(error, google_exceptions.RetryError):
        # google-api-core gave up retrying (its deadline passed): the last error says why, usually no connection.
        cause = error.cause
        last_error = "%s: %s" % (type(cause).__name__, cause) if cause is not None else error.message
        return BucketError(
            bucket,
            action,
            "Cloud Storage did not answer before the retry deadline (last error: %s)" % last_error,
            "Check the network and api_endpoint (is the emulator running?), then run again",
            in_flight=True,
        )
    if isinstance(error, google_exceptions.GoogleAPICallError):
        return BucketError(
            bucket,
            action,
            "Cloud Storage answered %s: %s" % (error.code, error.message),
            "Run again; if it persists, check the service status",
            in_flight=error.code is not None and error.code >= 500,
        )
    if isinstance(error, auth_exceptions.GoogleAuthError):
        return BucketError(
            bucket, action, "GCP authentication failed: %s" % error, "Check auth_kind and the credentials"
        )
    if isinstance(error, requests.exceptions.RequestException):
        return BucketError(
            bucket,
            action,
            "could not reach Cloud Storage: %s" % type(error).__name__,
            "Check the network and api_endpoint (is the emulator running?)",
            in_flight=True,
        )
    return BucketError(
        bucket, action, "%s: %s" % (type(error).__name__, error), "Check the bucket and the options, then run again"
    )


@contextmanager
def gcs_errors(bucket, action):
    """Inside this block, GCS and transport failures surface as a ``BucketError`` for ``bucket``."""
    try:
        yield
    except BucketError:
        raise
    except (
        google_exceptions.GoogleAPIError,
        auth_exceptions.GoogleAuthError,
        requests.exceptions.RequestException,
    ) as error:
        raise gcs_error_to_bucket_error(bucket, action, error) from None
