# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._gcs.urls import gcs_object_url
from ansible_collections.segments.cloud.plugins.module_utils._s3.urls import s3_object_url

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

# Characters a URL path may hold as they are (RFC 3986 unreserved, plus '/' and the '%' of an escape).
URL_PATH_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%")


# s3_object_url


@pytest.mark.parametrize(
    "bucket, key, region, expected",
    [
        ("my-bucket", "images/1.jpg", "eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com/images/1.jpg"),
        ("my-bucket", "", "us-east-1", "https://my-bucket.s3.us-east-1.amazonaws.com/"),
        ("my-bucket", None, "us-east-1", "https://my-bucket.s3.us-east-1.amazonaws.com/"),
        ("my-bucket", "/images/1.jpg", "eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com/images/1.jpg"),
        # Only one leading slash is a writing habit; a second one belongs to the key.
        ("my-bucket", "//x", "eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com//x"),
        (
            "my-bucket",
            "raw data/frame #1+2?.png",
            "eu-west-1",
            "https://my-bucket.s3.eu-west-1.amazonaws.com/raw%20data/frame%20%231%2B2%3F.png",
        ),
        ("my-bucket", "é/ü.jpg", "eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com/%C3%A9/%C3%BC.jpg"),
        ("my-bucket", "a%2Fb", "eu-west-1", "https://my-bucket.s3.eu-west-1.amazonaws.com/a%252Fb"),
        ("abc", "k", "us-gov-west-1", "https://abc.s3.us-gov-west-1.amazonaws.com/k"),
        ("0-9", "k", "ap-southeast-3", "https://0-9.s3.ap-southeast-3.amazonaws.com/k"),
    ],
)
def test_s3_object_url(bucket, key, region, expected):
    assert s3_object_url(bucket, key, region) == expected


def test_s3_object_url_defaults_to_us_east_1_and_the_bucket_root():
    assert s3_object_url("my-bucket") == "https://my-bucket.s3.us-east-1.amazonaws.com/"


def test_s3_object_url_refuses_dotted_buckets_and_says_why():
    with pytest.raises(ValueError) as error:
        s3_object_url("images.example.com", "a.jpg", "eu-west-1")
    message = str(error.value)
    assert "'images.example.com'" in message
    assert "*.s3.REGION.amazonaws.com" in message
    assert "no dots" in message


@pytest.mark.parametrize(
    "bucket, words",
    [
        ("", "empty"),
        (None, "empty"),
        (42, "empty"),
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("My-Bucket", "lowercase"),
        ("my_bucket", "lowercase"),
        ("-bucket", "starting and ending"),
        ("bucket-", "starting and ending"),
        ("my/bucket", "lowercase"),
        ("evil.com/x", "dots"),
    ],
)
def test_s3_object_url_refuses_bad_buckets(bucket, words):
    with pytest.raises(ValueError, match=words):
        s3_object_url(bucket, "k", "eu-west-1")


@pytest.mark.parametrize(
    "region, words",
    [
        ("", "empty"),
        (None, "empty"),
        ("EU-WEST-1", "not an AWS region"),
        ("eu west 1", "not an AWS region"),
        ("euwest1", "not an AWS region"),
        ("s3.eu-west-1.amazonaws.com/", "not an AWS region"),
        ("cn-north-1", "China"),
    ],
)
def test_s3_object_url_refuses_bad_regions(region, words):
    with pytest.raises(ValueError, match=words):
        s3_object_url("my-bucket", "k", region)


def test_s3_object_url_refuses_a_key_that_is_not_text():
    with pytest.raises(ValueError, match="must be a string"):
        s3_object_url("my-bucket", 7, "eu-west-1")


# gcs_object_url


@pytest.mark.parametrize(
    "bucket, key, expected",
    [
        ("my-bucket", "images/1.jpg", "https://storage.googleapis.com/my-bucket/images/1.jpg"),
        ("my-bucket", "", "https://storage.googleapis.com/my-bucket/"),
        ("my-bucket", None, "https://storage.googleapis.com/my-bucket/"),
        ("my-bucket", "/images/1.jpg", "https://storage.googleapis.com/my-bucket/images/1.jpg"),
        ("images.example.com", "a b.jpg", "https://storage.googleapis.com/images.example.com/a%20b.jpg"),
        ("my_bucket", "#?+", "https://storage.googleapis.com/my_bucket/%23%3F%2B"),
    ],
)
def test_gcs_object_url(bucket, key, expected):
    assert gcs_object_url(bucket, key) == expected


def test_gcs_object_url_matches_the_prefix_the_gcs_modules_report():
    assert gcs_object_url("my-bucket") == "https://storage.googleapis.com/my-bucket/"


@pytest.mark.parametrize(
    "bucket, words",
    [
        ("", "empty"),
        (None, "empty"),
        ("ab", "3 to 222"),
        ("My-Bucket", "lowercase"),
        ("my/bucket", "lowercase"),
        ("my bucket", "lowercase"),
        ("-bucket", "starting and ending"),
    ],
)
def test_gcs_object_url_refuses_bad_buckets(bucket, words):
    with pytest.raises(ValueError, match=words):
        gcs_object_url(bucket, "k")


# Properties: whatever the key, the URL keeps the bucket's host or path and gives the key back.

KEYS = st.text(min_size=0, max_size=80).filter(lambda key: not key.startswith("/"))


@HYPOTHESIS_SETTINGS
@given(key=KEYS)
def test_s3_object_url_round_trips_every_key(key):
    url = s3_object_url("my-bucket", key, "eu-west-1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == (
        "https",
        "my-bucket.s3.eu-west-1.amazonaws.com",
        "",
        "",
    )
    assert set(parts.path) <= URL_PATH_CHARACTERS
    assert unquote(parts.path[1:], errors="strict") == key


@HYPOTHESIS_SETTINGS
@given(key=KEYS)
def test_gcs_object_url_round_trips_every_key(key):
    url = gcs_object_url("my-bucket", key)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == ("https", "storage.googleapis.com", "", "")
    assert set(parts.path) <= URL_PATH_CHARACTERS
    assert unquote(parts.path[len("/my-bucket/") :], errors="strict") == key
