# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.segments.cloud.plugins.filter.urls import FilterModule

FILTERS = FilterModule().filters()


def test_the_plugin_offers_both_filters():
    assert sorted(FILTERS) == ["gcs_url", "s3_url"]


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
