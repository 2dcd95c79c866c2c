# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""aws.py: botocore failures become BucketErrors that name the bucket, the call and the remedy; the clients retry
connection errors without a client-wide quota."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._s3 import client as aws


class OperationModel:
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9/customer-images?policy"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:9/customer-images?policy"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9/customer-images?policy"),
    ],
)
def test_a_connection_error_names_the_call_that_failed(error):
    aws._note_operation(model=OperationModel("GetBucketPolicy"))
    with pytest.raises(BucketError) as raised:
        with aws.aws_errors("customer-images"):
            raise error
    message = raised.value.message
    assert message.startswith("bucket 'customer-images': GetBucketPolicy failed: could not reach AWS")
    assert "127.0.0.1:9" in message and "endpoint_url" in message


def test_the_call_is_remembered_per_thread():
    aws._note_operation(model=OperationModel("PutBucketCors"))
    seen = []
    worker = threading.Thread(target=lambda: seen.append(aws.current_operation()))
    worker.start()
    worker.join()
    assert seen == [None] and aws.current_operation() == "PutBucketCors"


def test_an_explicit_operation_wins():
    error = aws.aws_error_to_bucket_error(
        "customer-images", EndpointConnectionError(endpoint_url="http://x"), operation="HeadBucket"
    )
    assert error.action == "HeadBucket"


def test_the_clients_retry_in_legacy_mode_without_a_shared_quota():
    class Module:
        region = "eu-west-1"
        params = {}

    clients = aws.S3Clients(Module(), concurrency=50)
    # pylint: disable=protected-access
    assert clients._config.retries == {"mode": "legacy", "max_attempts": aws.BOTOCORE_RETRIES}
    assert clients._config.max_pool_connections == 50
