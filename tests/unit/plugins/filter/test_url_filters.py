# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.segments.cloud.plugins.filter.urls import FilterModule

FILTERS = FilterModule().filters()


def test_the_plugin_offers_the_three_filters():
    assert sorted(FILTERS) == ["azure_blob_url", "gcs_url", "s3_url"]


def test_azure_blob_url_as_the_docs_show_it():
    assert (
        FILTERS["azure_blob_url"]("customerimages", "images", "cats/1.jpg")
        == "https://customerimages.blob.core.windows.net/images/cats/1.jpg"
    )
    assert FILTERS["azure_blob_url"]("customerimages") == "https://customerimages.blob.core.windows.net/"
    assert (
        FILTERS["azure_blob_url"]("customerimages", "images") == "https://customerimages.blob.core.windows.net/images/"
    )
    assert (
        FILTERS["azure_blob_url"]("customerimages", "images", "/a b/ü#1.jpg")
        == "https://customerimages.blob.core.windows.net/images/a%20b/%C3%BC%231.jpg"
    )


@pytest.mark.parametrize(
    "args, reason",
    [
        (("Customer-Images",), "not an Azure storage account name"),
        (("ab",), "not an Azure storage account name"),
        (("customerimages", "Bad_Container"), "not an Azure blob container name"),
        (("customerimages", "", "1.jpg"), "without its container"),
    ],
)
def test_azure_blob_url_turns_bad_names_into_filter_errors(args, reason):
    with pytest.raises(AnsibleFilterError, match=reason):
        FILTERS["azure_blob_url"](*args)


def test_s3_url_as_the_docs_show_it():
    assert (
        FILTERS["s3_url"]("my-bucket", "images/1.jpg", "eu-west-1")
        == "https://my-bucket.s3.eu-west-1.amazonaws.com/images/1.jpg"
    )
    assert FILTERS["s3_url"]("my-bucket", region="eu-west-1") == "https://my-bucket.s3.eu-west-1.amazonaws.com/"


def test_gcs_url_as_the_docs_show_it():
    assert FILTERS["gcs_url"]("my-bucket", "images/1.jpg") == "https://storage.googleapis.com/my-bucket/images/1.jpg"


def test_s3_url_turns_a_bad_bucket_into_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"'a\.b' contains dots.*no dots"):
        FILTERS["s3_url"]("a.b", "k", "eu-west-1")


def test_s3_url_turns_an_empty_region_into_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"region of bucket 'my-bucket' is empty"):
        FILTERS["s3_url"]("my-bucket", "k", "")


def test_gcs_url_turns_an_empty_bucket_into_a_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"Cloud Storage bucket name is empty"):
        FILTERS["gcs_url"]("", "k")
